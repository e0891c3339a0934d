"""Record what the shipped models say today, so that a refactor can prove it changed nothing.

Writes `tests/data/frozen_predictions.npz`: score, sigma, redshift and redshift error (100 MC-dropout passes, seed 0)
of the shipped classifier and regressor on the cached evaluation inputs (`nbs/cache/predictions.npz`), and the
`classify` rows (score, sigma, decision, redshift; all passes, `stop_early=False`) of the example spectra shipped in
`sniascore/examples/`, with the processor that computed them. `tests/test_frozen.py` recomputes both and compares bit for bit on the same
processor (CPU kernels round differently on other processors; there it compares to 1e-6).

    python scripts/freeze_predictions.py          # only after a deliberate change of the models
"""
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'tests' / 'data' / 'frozen_predictions.npz'
INPUTS = ROOT / 'nbs' / 'cache' / 'predictions.npz'
N_PASSES, SEED = 100, 0


def processor() -> str:
    "The processor as training runs record it (`sniascore.training.device_record`): CPU kernels round differently on each."
    from sniascore.training import device_record
    return device_record()['cpu']


def current(model=None) -> dict:
    "What the shipped models give now on the cached inputs and the examples."
    from importlib.resources import files
    from sniascore.classify import classify
    from sniascore.model import load
    model = model or load()
    with np.load(INPUTS) as f: ids, X = f['spectrum_id'].astype(str), f['X']
    p = model.predict(X, n_passes=N_PASSES, seed=SEED)
    examples = sorted(Path(str(files('sniascore') / 'examples')).glob('*.ascii'))
    t = classify(examples, n_passes=N_PASSES, seed=SEED, model=model, stop_early=False)   # every pass: the models' own numbers
    return dict(spectrum_id=ids, score=p['score'].to_numpy(), score_err=p['score_err'].to_numpy(),
                z=p['z'].to_numpy(), z_err=p['z_err'].to_numpy(),
                example=np.array([Path(f).name for f in t['file']]),
                example_score=t['sniascore'].to_numpy(float), example_score_err=t['sniascore_err'].to_numpy(float),
                example_decision=t['decision'].to_numpy(str), example_redshift=t['redshift'].to_numpy(float),
                example_redshift_err=t['redshift_err'].to_numpy(float))


if __name__ == '__main__':
    now = current()
    np.savez_compressed(OUT, processor=np.array(processor()), **now)
    print(f'{OUT.relative_to(ROOT)}: {len(now["score"])} cached inputs, {len(now["example"])} examples, on {processor()}')
