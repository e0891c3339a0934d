"""The previous default model and the shipped one on the real set (notebook 10c_real_card, "A new default and the real spectra").

    python scripts/real_previous_default.py [--commit 2d4ed51] [--threads 2]

Reads the previous default's model files (`sniascore/models/`: both networks and the card) from the git commit named,
scores the 119 real spectra of the real set (sedm_real_osc in the shared data) with it and with the shipped model,
each as notebook 10a does (sniascore.realset.score: 100 passes, seed 0) with its own presets' cuts, and writes
nbs/cache/real_previous_default.csv: one row per spectrum, the stem and type, then for each model (`previous`,
`shipped`) the score, its sigma and whether each preset passes; the commit and both classifiers' checksums go into
the header lines (`# key: value`). The real spectra only report: nothing is chosen with this table. About a minute.
Exit codes: 0 done, 1 the commit's files cannot be read.
"""
import argparse, os, subprocess, sys, tempfile
from pathlib import Path

PREVIOUS_COMMIT = '2d4ed51'   # the last commit whose sniascore/models/ held the default of 2026-12-05 (classifier epoch 317)
MODEL_FILES = ('classifier.keras', 'regressor.keras', 'model_card.json', 'MODEL_CARD.md')


def extract_models(commit: str, root: Path, out: Path) -> None:
    "Write the model folder of `commit` into `out` (git show of each file; CalledProcessError if one is missing)."
    for name in MODEL_FILES:
        data = subprocess.run(['git', 'show', f'{commit}:sniascore/models/{name}'], cwd=root, check=True,
                              capture_output=True).stdout
        (out / name).write_bytes(data)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--commit', default=PREVIOUS_COMMIT, help=f'the commit of the previous default (default {PREVIOUS_COMMIT})')
    p.add_argument('--threads', type=int, default=2, help='TensorFlow threads (default 2)')
    args = p.parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    import pandas as pd
    from sniascore.model import load, MODELS_DIR, sha256_file
    from sniascore.predictions import repo_root
    from sniascore.realset import decisions, preset_cuts, read_real_set, score
    root = repo_root()
    real = read_real_set()
    out = real[['stem', 'bts_type', 'is_ia']].copy()
    header = {'commit': subprocess.run(['git', 'rev-parse', args.commit], cwd=root, check=True, capture_output=True,
                                       text=True).stdout.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            extract_models(args.commit, root, Path(tmp))
        except subprocess.CalledProcessError as e:
            print(f'cannot read the model files of {args.commit}: {e.stderr.decode().strip()}', file=sys.stderr)
            return 1
        for name, folder in (('previous', Path(tmp)), ('shipped', MODELS_DIR)):
            model = load(folder)
            scored = score(real.path, model)
            out[f'{name}_score'] = scored['sniascore'].to_numpy(float)
            out[f'{name}_sigma'] = scored['sniascore_err'].to_numpy(float)
            for preset, passed in decisions(scored, preset_cuts(model)).items():
                out[f'{name}_{preset}'] = passed.to_numpy()
            header[f'{name}_classifier_sha256'] = sha256_file(folder / 'classifier.keras')
            print(f'{name}: {len(scored)} spectra scored', flush=True)
    path = root / 'nbs' / 'cache' / 'real_previous_default.csv'
    with open(path, 'w') as f:
        f.writelines(f'# {k}: {v}\n' for k, v in header.items())
        out.to_csv(f, index=False)
    print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
