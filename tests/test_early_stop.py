"Stopping MC-dropout passes early changes no decision of the shipped model (the cached evaluation inputs, every preset)."
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / 'nbs' / 'cache' / 'predictions.npz'


@pytest.fixture(scope='module')
def shipped():
    "The shipped model, the cached inputs and every pass of both networks on them (what `stop_early=False` gives)."
    from sniascore.model import load
    with np.load(INPUTS) as f: X = f['X']
    model = load()
    return model, X, model.predict(X)


@pytest.mark.parametrize('preset', ['strict', 'balanced', 'deployed'])
def test_same_decisions_fewer_passes(shipped, preset):
    from sniascore.decisions import passes
    model, X, full = shipped
    early = model.decide(X, preset)
    np.testing.assert_array_equal(early['passed'].to_numpy(), passes(full['score'], full['score_err'], model.cuts(preset)))
    assert early['passes_run'].isin([20, 40, 60, 80, 100]).all()
    ran_all = (early['passes_run'] == 100).to_numpy()
    assert early['passed'][~ran_all].eq(False).all()          # only a spectrum that cannot pass is stopped
    assert (~ran_all).any()                                   # and the stop does stop some (these are hard non-Ia cases)
    np.testing.assert_allclose(early['score'][ran_all], full['score'][ran_all], rtol=0, atol=1e-6)
    accepted = early['passed'].to_numpy()                      # redshifts: accepted spectra, every pass
    np.testing.assert_allclose(early['z'][accepted], full['z'][accepted], rtol=0, atol=1e-6)
