"""Host-galaxy lines, real and simulated (notebook 10b_realism, "Narrow host-galaxy lines").

    python scripts/host_lines_study.py [--survey data/survey] [--threads 2] [--part real|survey]

Writes two caches that the notebook reads:
- nbs/cache/host_lines_real.csv: the host-line search (sniascore.realism.host_lines) on every spectrum of the real set
  (sedm_real_osc in the shared data), with its BTS type and redshift;
- nbs/cache/host_lines_survey.csv: the validation and test spectra of the shipped survey, simulated again from its
  catalog twice: through the template bank as it is (the survey's own spectra when the bank is held as it was for the
  survey, notebook 10b: `x_diff_survey`, the largest difference from the survey's preprocessed arrays, 0 where they
  are its bytes) and through
  sniascore.realism.LinedHosts (the same catalog, the Kinney hosts with their narrow lines); each scored by the shipped
  model (100 passes, seed 0) and searched for host lines, with the reported redshift of choose_redshift.
About 15 minutes on two cores (the real set alone, `--part real`: seconds). Exit codes: 0 done, 1 the survey is not the shipped one.
"""
import argparse, os, sys
from pathlib import Path

HOSTS = ('as simulated', 'with host lines')   # the two versions of the survey's spectra


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--survey', default='data/survey', help='survey folder (default data/survey)')
    p.add_argument('--threads', type=int, default=2, help='TensorFlow threads (default 2)')
    p.add_argument('--part', choices=['real', 'survey'], nargs='+', default=['real', 'survey'], help='which caches to write (default both)')
    args = p.parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).parent))
    from run_crossval import shipped_survey_with_threads   # this folder's sibling script
    from sniascore.predictions import repo_root
    cache = repo_root() / 'nbs' / 'cache'
    if 'real' in args.part:
        write_real(cache)
    if 'survey' in args.part:
        survey = shipped_survey_with_threads(args.survey, args.threads)
        if survey is None:
            return 1
        write_survey(survey, cache)
    return 0


def write_real(cache):
    "The host-line search on every spectrum of the real set, beside its BTS type and redshift (`bts_redshift`)."
    import pandas as pd
    from tqdm.auto import tqdm
    from sniascore.files import read_spectrum
    from sniascore.realism import host_lines
    from sniascore.realset import read_real_set
    real = read_real_set()
    found = host_lines((s.wave, s.flux, s.var) for s in map(read_spectrum, tqdm(real.path, desc='real set')))
    meta = real[['file', 'bts_type', 'is_ia', 'redshift', 'z_source']].rename(columns={'redshift': 'bts_redshift'})
    out = pd.concat([meta.reset_index(drop=True), found], axis=1)
    out.to_csv(cache / 'host_lines_real.csv', index=False)
    print(f"wrote {cache / 'host_lines_real.csv'} ({len(out)} spectra)")


def write_survey(survey, cache):
    "The survey's validation and test spectra in both versions (`HOSTS`), scored, searched for lines and the redshift chosen."
    import numpy as np
    import pandas as pd
    from sniascore.model import load
    from sniascore.datasets import Survey
    from sniascore.realism import LinedHosts, host_lines
    from sniascore.survey import simulate_catalog
    from sniascore.template_bank import load_bank
    bank, model = load_bank(), load()
    rows = survey.catalog.split.isin(['validation', 'test']).to_numpy()
    catalog = survey.catalog[rows].reset_index(drop=True)
    X_survey = survey.preprocessed()[rows]   # the survey's own arrays: how far each version's spectra lie from them
    keep = ['spectrum_id', 'split', 'cls', 'is_ia', 'template_sn', 'host_template', 'host_fraction', 'snr', 'z']
    parts = []
    for name, source in zip(HOSTS, (bank, LinedHosts(bank))):
        version = Survey(catalog, *simulate_catalog(catalog, source, progress=True))   # preprocessed as the survey is
        X = version.preprocessed()
        scored = model.predict(X, n_passes=100, seed=0)
        scored['x_diff_survey'] = np.abs(X - X_survey).max(axis=1)   # 0: the survey's bytes
        found = host_lines([(s.wave, s.flux, s.var) for s in version.spectra()], z_network=scored.z)
        parts.append(pd.concat([catalog[keep].assign(hosts=name),
                                scored.rename(columns={'z': 'z_pred', 'z_err': 'z_pred_err'}), found], axis=1))
        print(f'{name}: scored {len(version)} spectra', flush=True)
    out = pd.concat(parts, ignore_index=True)
    out.to_csv(cache / 'host_lines_survey.csv', index=False)
    print(f"wrote {cache / 'host_lines_survey.csv'} ({len(out)} rows)")


if __name__ == '__main__':
    sys.exit(main())
