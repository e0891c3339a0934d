"""Run one fold of the template-grouped cross-validation (notebook 08b, `sniascore.crossval.run_fold`).

    python scripts/run_crossval.py --fold 0 [--epochs 60 --every 2 --threads 1 --survey data/survey --out runs/cv]
    python scripts/run_crossval.py --fold 0 --fresh-draws [--hard-negatives --young-fraction 0.1] --out runs/cv_fresh
    python scripts/run_crossval.py --fold 0 --fresh-draws --hard-negatives --young-fraction 0.1 --seed 1 --out runs/cv_fresh_seed1
    python scripts/run_crossval.py --fold 0 --fresh-draws --hard-negatives --young-fraction 0.1 --widen --out runs/cv_widen
    python scripts/run_crossval.py --fold 0 --epochs 400 --every 5 --fresh-draws --hard-negatives --young-fraction 0.1 \
        --lr-step 326:0.0005 --branch-from runs/cv_fresh --out runs/cv_anneal
    python scripts/run_crossval.py --gather [--out runs/cv_fresh --tag _fresh]

Trains fold F's classifier in OUT/foldF (resuming if that folder holds epochs), selects its epoch and presets on its
validation part and writes OUT/foldF/oof.csv and summary.json. `--gather` instead collects every finished fold's
oof.csv into nbs/cache/crossval_oof{TAG}.csv (and crossval_summary{TAG}.json). With --fresh-draws the fold trains on
its training templates re-simulated every epoch (sniascore.crossval.fold_fresh_draws); validation and test stay fixed.
--lr-step E:R trains from epoch E on at learning rate R (repeatable); --branch-from DIR starts a new fold run from the
finished run DIR/foldF, which must have trained as this one would up to its last epoch (sniascore.training.branch_run).
--select last takes the last epoch instead of the paper's choice (branched from a finished run, nothing is retrained). Exit codes: 0 done, 2 bad arguments, 1 the survey is not the shipped one.
"""
import argparse, os, sys
from pathlib import Path


def shipped_survey_with_threads(survey_dir, threads: int):
    "Limit TensorFlow to `threads` threads, then the shipped survey in `survey_dir`, or None (the reason printed) if it is not."
    from sniascore.trainrun import limit_threads
    from sniascore.survey import shipped_survey
    limit_threads(threads)
    try:
        return shipped_survey(survey_dir)
    except ValueError as err:
        print(err, file=sys.stderr)
        return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--fold', type=int, help='fold to run, 0..K-1')
    p.add_argument('--gather', action='store_true', help='collect finished folds into nbs/cache/crossval_oof.csv')
    p.add_argument('--epochs', type=int, default=None, help='classifier epochs (default: crossval.CV_SCHEDULE)')
    p.add_argument('--every', type=int, default=None, help='scan every N-th epoch (default: crossval.CV_SCHEDULE)')
    p.add_argument('--train-until', type=int, default=None,
                   help='only train the fold up to this epoch and stop (a later run without it resumes and finishes)')
    p.add_argument('--threads', type=int, default=1, help='TensorFlow intra/inter-op threads (default 1)')
    p.add_argument('--seed', type=int, default=None,
                   help="training seed: weights' start and, with --fresh-draws, the draws (default: crossval.CV_SCHEDULE's)")
    p.add_argument('--fresh-draws', action='store_true', help='train on fresh draws of the training part (not the fixed spectra)')
    p.add_argument('--hard-negatives', action='store_true', help='with --fresh-draws: add the hard negatives of the training part')
    p.add_argument('--young-fraction', type=float, default=0.0, help='with --fresh-draws: share of young SNe II among the non-Ia')
    p.add_argument('--widen', action='store_true',
                   help='with --fresh-draws: draw wider than the nominal instrument (sniascore.draws.WIDENING, notebook 05a)')
    p.add_argument('--lr-step', action='append', default=[], metavar='E:R',
                   help='from epoch E on, train at learning rate R (repeatable; default: one rate throughout)')
    p.add_argument('--branch-from', default=None, metavar='DIR',
                   help='start from the finished fold run DIR/foldF (same recipe; only later learning rates differ)')
    p.add_argument('--select', choices=('rule', 'last'), default='rule',
                   help="the fold's epoch: the paper's rule on the validation scan (default) or the last epoch")
    p.add_argument('--tag', default='', help="with --gather: suffix of the cache files (e.g. '_fresh' for another recipe's folds)")
    p.add_argument('--survey', default='data/survey', help='survey folder (default data/survey)')
    p.add_argument('--out', default='runs/cv', help='folder of the fold runs (default runs/cv)')
    args = p.parse_args(argv)
    if (args.fold is None) == (not args.gather):
        p.error('give exactly one of --fold F or --gather')
    if not args.fresh_draws and (args.hard_negatives or args.young_fraction or args.widen):
        p.error('--hard-negatives, --young-fraction and --widen need --fresh-draws')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    from sniascore.training import parse_lr_steps   # after the thread settings: it imports TensorFlow
    try:
        lr_steps = parse_lr_steps(args.lr_step)
    except ValueError as err:
        p.error(f'--lr-step: {err}')
    training = dict(lr_steps=lr_steps) if lr_steps else None
    from sniascore import crossval
    if args.gather:
        from sniascore.datasets import load_survey
        for path in crossval.gather_oof(args.out, load_survey(args.survey), tag=args.tag):
            print(f'wrote {path}')
        return 0
    if not 0 <= args.fold < crossval.CV_K:
        p.error(f'--fold must be in 0..{crossval.CV_K - 1}')
    survey = shipped_survey_with_threads(args.survey, args.threads)
    if survey is None:
        return 1
    schedule = {**crossval.CV_SCHEDULE, **{k: v for k, v in (('epochs', args.epochs), ('every', args.every),
                                                             ('seed', args.seed)) if v is not None}}
    fresh = (dict(hard_negatives=args.hard_negatives, young_fraction=args.young_fraction, widen=args.widen)
             if args.fresh_draws else None)
    branch = Path(args.branch_from) / f'fold{args.fold}' if args.branch_from else None
    if args.train_until:
        from sniascore.training import train_network
        X, y = crossval.fold_training(survey, args.fold, schedule['seed'], fresh)
        train_network('classifier', X, y, Path(args.out) / f'fold{args.fold}', args.train_until, seed=schedule['seed'],
                      branch_from=branch, **(training or {}))
        return 0
    crossval.run_fold(survey, args.fold, Path(args.out) / f'fold{args.fold}', fresh=fresh, training=training,
                      branch_from=branch, select=args.select, **schedule)
    return 0


if __name__ == '__main__':
    sys.exit(main())
