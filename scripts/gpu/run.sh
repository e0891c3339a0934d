#!/bin/bash
# Device run: regressor training on the GPU (see gpu_train.py); everything that comes back is under $OUT.
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 XLA_FLAGS=--xla_gpu_deterministic_ops=true
nvidia-smi -L
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
BUDGET=${BUDGET:-470}
BACKEND=jax
KERAS_BACKEND=jax python3 scripts/gpu/gpu_train.py .devcarry/regressor_train.npz /tmp/gpu $((BUDGET - $(date +%s) + T0)) 2>&1 | tee $OUT/train.log
if [ "${PIPESTATUS[0]}" != 0 ]; then
  echo "=== jax failed; torch"; BACKEND=torch; rm -rf /tmp/gpu
  KERAS_BACKEND=torch python3 scripts/gpu/gpu_train.py .devcarry/regressor_train.npz /tmp/gpu $((BUDGET - $(date +%s) + T0)) 2>&1 | tee $OUT/train_torch.log
fi
KERAS_BACKEND=$BACKEND python3 scripts/gpu/gpu_pack.py /tmp/gpu $OUT 2>&1 | tail -5
ls -la $OUT; echo "wall $(( $(date +%s) - T0 )) s"
