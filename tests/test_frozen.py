"No behaviour change: the shipped models give what they gave when `scripts/freeze_predictions.py` last ran."
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _freeze_script():
    spec = importlib.util.spec_from_file_location('freeze_predictions', ROOT / 'scripts' / 'freeze_predictions.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def test_shipped_models_unchanged():
    freeze = _freeze_script()
    with np.load(freeze.OUT) as f: frozen = {k: f[k] for k in f}
    now = freeze.current()
    same_cpu = str(frozen['processor']) == freeze.processor()
    for key in ('spectrum_id', 'example', 'example_decision'):
        np.testing.assert_array_equal(now[key], frozen[key], err_msg=key)
    for key in ('score', 'score_err', 'z', 'z_err', 'example_score', 'example_score_err',
                'example_redshift', 'example_redshift_err'):
        if same_cpu: np.testing.assert_array_equal(now[key], frozen[key], err_msg=f'{key} is no longer bit-identical')
        else: np.testing.assert_allclose(now[key], frozen[key], rtol=0, atol=1e-6, err_msg=key)
