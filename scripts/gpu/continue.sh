#!/bin/bash
# The second device call (machine still warm, /tmp/gpu kept): continue the same run until a timer, then pack.
# The timer of the first try fired while epoch 429's weights were being written; the truncated file was removed
# before packing (fit_epochs now writes weights under a temporary name, so this cannot recur).
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 XLA_FLAGS=--xla_gpu_deterministic_ops=true KERAS_BACKEND=jax
python3 - <<'PY' 2>&1 | tee $OUT/train2.log
import signal, numpy as np
from sniascore.training import train_network
class Deadline(Exception): pass
def on_alarm(*_): raise Deadline()
signal.signal(signal.SIGALRM, on_alarm); signal.alarm(250)
d = np.load('.devcarry/regressor_train.npz')
try:
    train_network('regressor', d['X'], d['z'], '/tmp/gpu/resume/regressor', 525, seed=0)
except Deadline:
    print('deadline')
PY
R=/tmp/gpu/resume/regressor
E=$(python3 -c "import numpy as np; print(int(np.load('$R/resume_state.npz')['epoch']))")
for f in $R/epochs/*.h5; do n=$(basename $f | cut -c7-10); [ $((10#$n)) -gt $E ] && rm -v $f; done
python3 scripts/gpu/gpu_pack.py /tmp/gpu $OUT
