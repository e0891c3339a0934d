"""Training on another Keras backend (JAX, e.g. on a GPU): the package must train there without TensorFlow, record
where it trained, and write weights that the TensorFlow backend reads. Runs where JAX is installed (it is not in the
CI's environment, whose Keras backend is TensorFlow)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

CHILD = r"""
import json, sys
import numpy as np
from sniascore.training import train_network, saved_epochs, training_sessions, load_epoch
from sniascore.model import mc_predict, ModelError
rng = np.random.default_rng(0)
X, z = rng.normal(0, 0.3, (256, 209)).astype("float32"), rng.uniform(0.01, 0.1, 256)
run = sys.argv[1]
train_network("regressor", X, z, run, epochs=2, arch=dict(layers=("bilstm", "gru"), units=4,
              dropouts=(0.4, 0.3, 0.2)), batch_size=128, verbose=False)
model = load_epoch(run, 2)
try:
    mc_predict(model, X[:2], n_passes=2)
    refused = False
except ModelError as e:
    refused = "TensorFlow backend" in str(e)
print(json.dumps(dict(tensorflow_loaded="tensorflow" in sys.modules, epochs=saved_epochs(run),
                      sessions=training_sessions(run), refused=refused,
                      weights=[np.asarray(w).tolist() for w in model.get_weights()][:2])))
"""


def test_training_on_jax_backend(tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "run")], capture_output=True, text=True,
                         env=env, check=True).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    assert not result["tensorflow_loaded"], "training on JAX imported TensorFlow"
    assert result["epochs"] == [1, 2]
    assert [s["backend"] for s in result["sessions"]] == ["jax"] and result["sessions"][0]["first_epoch"] == 1
    assert result["refused"], "mc_predict on a non-TensorFlow backend must refuse with a clear error"
    try:
        import tensorflow  # noqa: F401  (the weights file is read by the backend that predicts)
    except ImportError:
        return
    from sniascore.training import load_epoch
    model = load_epoch(tmp_path / "run", 2)
    for ours, theirs in zip(model.get_weights(), result["weights"]):
        np.testing.assert_array_equal(ours, np.asarray(theirs, np.float32))
