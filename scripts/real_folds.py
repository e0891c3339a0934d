"""Score the real SEDM spectra of `sedm_real_osc/` with cross-validation fold networks (notebook 08b, "Wider draws", "A lower learning rate").

    python scripts/real_folds.py [NAME=RUN_DIR ...] [--passes 100] [--threads 1]

Each RUN_DIR is one fold's run written by scripts/run_crossval.py (e.g. runs/cv_fresh/fold0); its network is the epoch
the fold chose (summary.json), and its presets are the fold's, chosen on the fold's validation part. Writes one row per
real spectrum and network (score, sigma, strict and balanced decisions) to nbs/cache/real_fold_scores.csv. About a
minute a network on one core. Exit codes: 0 done, 2 bad arguments.
"""
import argparse, json, os, sys
from pathlib import Path

DEFAULT_RUNS = ('fresh=runs/cv_fresh/fold0', 'fresh seed 1=runs/cv_fresh_seed1/fold0', 'widened=runs/cv_widen/fold0',
                'lower rate, last epoch=runs/cv_anneal_last/fold0')
CACHE = Path('nbs/cache/real_fold_scores.csv')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='*', default=list(DEFAULT_RUNS), help='NAME=RUN_DIR of finished fold runs')
    p.add_argument('--passes', type=int, default=100, help='MC-dropout passes (default 100)')
    p.add_argument('--threads', type=int, default=1, help='TensorFlow threads (default 1)')
    args = p.parse_args(argv)
    runs = dict(r.split('=', 1) for r in args.runs)
    missing = [d for d in runs.values() if not (Path(d) / 'summary.json').exists()]
    if missing:
        p.error(f'not finished (no summary.json): {missing}')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    import numpy as np, pandas as pd, keras
    from sniascore.realset import read_real_set
    from sniascore.files import read_spectrum
    from sniascore.preprocessing import preprocess_spectra
    from sniascore.model import mc_predict
    from sniascore.metrics import apply_cut
    from sniascore.training import load_epoch
    real = read_real_set()
    X = preprocess_spectra([read_spectrum(p) for p in real.path])[..., None]
    frames = []
    for name, run in runs.items():
        summary = json.loads((Path(run) / 'summary.json').read_text())
        score, sigma = mc_predict(load_epoch(run, summary['epoch']), X, n_passes=args.passes, seed=0)[:2]
        keras.backend.clear_session()
        frames.append(pd.DataFrame(dict(network=name, run=run, epoch=summary['epoch'], spectrum=real.path.map(lambda q: Path(q).stem),
                                        is_ia=real.is_ia.to_numpy(), score=score, score_err=sigma,
                                        **{f'pass_{k}': apply_cut(score, sigma, c) for k, c in summary['presets'].items()})))
        print(f'{name}: {run} epoch {summary["epoch"]}', flush=True)
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(CACHE, index=False, float_format='%.6g')
    print(f'wrote {CACHE} ({len(out)} rows)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
