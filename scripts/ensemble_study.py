"""Out-of-fold predictions of the ensembles of notebook 08e (`sniascore.ensembles`), from the cross-validation runs.

    python scripts/ensemble_study.py [--kind snapshots recipes] [--threads 1]
    python scripts/ensemble_study.py --kind seeds --folds 0     # where only fold 0 has a second seed

Needs the folds' runs with their epochs' weights (runs/cv and runs/cv_fresh, written by scripts/run_crossval.py) and the
shipped survey (data/survey). Writes nbs/cache/ensemble_oof_<kind>.csv and the catalog columns that notebook 08e cuts
the out-of-fold predictions by (nbs/cache/survey_conditions.csv). About a minute a fold and kind on one core.
Exit codes: 0 done, 1 the survey is not the shipped one.
"""
import argparse, os, sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--kind', nargs='+', default=['snapshots', 'recipes'],
                   help='ensembles to score (sniascore.ensembles.ENSEMBLES; default: snapshots and recipes)')
    p.add_argument('--folds', type=int, nargs='+', default=None, help='only these folds (default: all)')
    p.add_argument('--threads', type=int, default=1, help='TensorFlow threads (default 1)')
    p.add_argument('--survey', default='data/survey', help='survey folder (default data/survey)')
    args = p.parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    from run_crossval import shipped_survey_with_threads   # this folder's sibling script
    from sniascore import ensembles
    survey = shipped_survey_with_threads(args.survey, args.threads)
    if survey is None:
        return 1
    path = ensembles.conditions_cache()
    ensembles.survey_conditions(survey.catalog).to_csv(path, index=False)
    print(f'wrote {path}')
    for kind in args.kind:
        oof = ensembles.ensemble_oof(survey, kind, folds=args.folds)
        path = ensembles.ensemble_cache(kind)
        oof.to_csv(path, index=False)
        print(f'wrote {path} ({len(oof)} spectra)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
