"""Device run: train the regressor on the GPU (Keras JAX backend) from the survey's regressor arrays, within a deadline.

usage: python scripts/gpu/gpu_train.py ARRAYS.npz OUT_ROOT DEADLINE_SECONDS [N_SUBSET]
Trains fresh in OUT_ROOT/fresh/regressor if 525 epochs fit in the time, else continues the CPU run copied to
OUT_ROOT/resume/regressor. Stops cleanly (last completed epoch saved) at the deadline."""
import json, shutil, signal, sys, time
from pathlib import Path
import numpy as np
t_start = time.time()
arrays, root, deadline = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
n_subset = int(sys.argv[4]) if len(sys.argv) > 4 else None
from sniascore.training import train_network
import keras, pandas as pd
d = np.load(arrays)
X, z = d["X"], d["z"]
if n_subset:
    X, z = X[:n_subset], z[:n_subset]
print("backend", keras.backend.backend(), "X", X.shape, flush=True)

class Deadline(Exception):
    pass

def on_alarm(*_):
    raise Deadline()

signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(max(1, int(deadline - (time.time() - t_start))))
fresh = root / "fresh" / "regressor"
chosen = None
try:
    train_network("regressor", X, z, fresh, 6, seed=0)
    h = pd.read_csv(fresh / "history.csv")
    per_epoch = float(h["seconds"].iloc[2:].median()) + 0.05  # + saving
    left = deadline - (time.time() - t_start) - 30  # 30 s: a new model's compile
    print(f"probe: {per_epoch:.3f} s/epoch; {left:.0f} s left; fresh needs {519 * per_epoch:.0f} s", flush=True)
    if 519 * per_epoch < left:
        chosen = fresh
    else:
        chosen = root / "resume" / "regressor"
        shutil.copytree(Path(arrays).parent / "cpu_regressor", chosen)  # a copy of the CPU run: state, config, history, last epoch
    (root / "chosen.txt").write_text(str(chosen))
    keras.backend.clear_session()
    train_network("regressor", X, z, chosen, 525, seed=0)
    print("finished 525", flush=True)
except Deadline:
    print("deadline reached", flush=True)
print(f"total {time.time() - t_start:.0f} s", flush=True)
