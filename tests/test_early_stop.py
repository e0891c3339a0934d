"Stopping MC-dropout passes early changes no decision of the shipped model (the cached evaluation inputs, every preset)."
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / 'nbs' / 'cache' / 'predictions.npz'


@pytest.fixture(scope='module')
def shipped():
    from sniascore.model import load
    with np.load(INPUTS) as f: X = f['X']
    return load(), X


@pytest.mark.parametrize('preset', ['strict', 'balanced', 'deployed'])
def test_same_decisions_fewer_passes(shipped, preset):
    model, X = shipped
    full = model.decide(X, preset, stop_early=False)
    early = model.decide(X, preset)
    np.testing.assert_array_equal(early['passed'].to_numpy(), full['passed'].to_numpy())
    assert (full['passes_run'] == 100).all() and early['passes_run'].isin([20, 40, 60, 80, 100]).all()
    ran_all = (early['passes_run'] == 100).to_numpy()
    assert early['passed'][~ran_all].eq(False).all()          # only a spectrum that cannot pass is stopped
    np.testing.assert_allclose(early['score'][ran_all], full['score'][ran_all], rtol=0, atol=1e-6)
    np.testing.assert_allclose(early['z'], full['z'], rtol=0, atol=1e-6)   # redshifts: accepted spectra, all passes
