"""Redshift studies of issue 21 on the shipped survey: template matching (notebook 09b) and regressor recipes (notebook 09).

  python scripts/redshift_studies.py templates   nbs/cache/template_redshifts.csv: every SN Ia of the validation and
                                                 test splits matched against the training split's SN Ia templates
                                                 (sniascore.template_redshift; about five minutes on two cores)
  python scripts/redshift_studies.py recipes     nbs/cache/regressor_recipes.csv and regressor_recipes_z.csv: each
                                                 regressor run (default: the paper model's, trained on the
                                                 augmented fixed spectra with whole-spectrum noise, runs/paper; one
                                                 trained on fresh draws by `sniascore train --survey data/survey
                                                 --out runs/fresh_z --fresh-draws --only regressor`; and the
                                                 default model's, on the augmentation with mid-band noise,
                                                 `... --only regressor --augment-noise band`, runs/shipped; and the
                                                 ablation at 200 epochs: the same recipe with every template SN
                                                 weighing the same, `... --out runs/weighted_z --only regressor
                                                 --augment-noise band --weight-templates --epochs-regressor 200`,
                                                 beside the band run cut at epoch 200; and, also at 200
                                                 epochs, the band recipe with 64 units per recurrent layer
                                                 instead of 32, `... --out runs/wide_z --only regressor
                                                 --augment-noise band --arch '{"units": 64}'
                                                 --epochs-regressor 200`; and the band run continued 75
                                                 epochs at a tenth of the learning rate, `... --out
                                                 runs/anneal_z --only regressor --augment-noise band
                                                 --epochs-regressor 600 --lr-step-regressor 526:0.0005
                                                 --branch-from runs/band_z`)
                                                 scanned on the validation SNe Ia (10 passes, seed 0), its
                                                 epoch selected by the paper's rule, its redshifts at that epoch
                                                 (100 passes) on the validation and test SNe Ia.
  python scripts/redshift_studies.py snapshots   nbs/cache/regressor_snapshots_z.csv: the redshifts of the k best
                                                 epochs of the default's regressor run, unpruned (runs/band_z,
                                                 ranked by the paper's rule on the validation scan), averaged with
                                                 100 MC passes in all (100 // k per epoch), k = 1, 3, 5, 10, on the
                                                 validation and test SNe Ia (a snapshot ensemble at the night-time
                                                 cost of one network).
All start from `sniascore.redshifts.shipped_redshift_sets` and refuse a survey that is not the shipped one."""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def template_study(survey_dir, splits, out: Path) -> None:
    "Match every SN Ia of `splits` against the library of the training split's SN Ia templates; write `out`."
    from astropy.table import Table
    from sniascore.template_bank import load_bank
    from sniascore.template_redshift import survey_library, template_redshift_table
    start = time.perf_counter()
    library = survey_library(load_bank(), Table.read(Path(survey_dir) / 'template_splits.ecsv').to_pandas())
    print(f'library: {library.rows.shape[1]} spectra of {len(set(library.sn))} SNe Ia at {len(library.z_grid)} '
          f'redshifts, {time.perf_counter() - start:.0f} s')
    parts = []
    for split, (X, frame) in splits.items():
        parts.append(template_redshift_table(X, frame, library))
        print(f'{split}: {len(X)} SNe Ia matched, {time.perf_counter() - start:.0f} s')
    table = pd.concat(parts, ignore_index=True)
    table.to_csv(out, index=False, float_format='%.6f')
    print(f'wrote {out}: {len(table)} rows')


def split_redshifts(run, epoch: int, splits, n_passes: int) -> dict:
    "Split -> mean redshift of `epoch` of `run` on that split's SNe Ia (seed 0), cached in the run under the split's tag."
    from sniascore.selection import epoch_predictions
    from sniascore.training import REGRESSOR
    return {split: epoch_predictions(run, epoch, X, n_passes, 0, 'validation' if split == 'validation' else REGRESSOR.test_tag)[0]
            for split, (X, _) in splits.items()}


def recipe_study(runs: list, splits, out: Path) -> None:
    "Scan, select and predict each regressor run of `runs` (NAME=RUN_DIR@EVERY[:LAST]); write the two tables under `out`."
    from sniascore.metrics import redshift_metrics
    from sniascore.selection import epoch_predictions, epoch_table
    from sniascore.training import REGRESSOR
    X_val, val = splits['validation']
    strict, z_val = val.strict.to_numpy(bool), val.z.to_numpy()
    tables, z_table = [], pd.concat([frame for _, frame in splits.values()], ignore_index=True)
    start = time.perf_counter()
    for item in runs:
        name, rest = item.split('=', 1)
        run, every = rest.rsplit('@', 1)
        every, _, last = every.partition(':')   # LAST: the run as it stood after that epoch (ablations at equal epochs)
        table = epoch_table(run, REGRESSOR, X_val, z_val, 10, int(every), 0, verbose=False)
        table = table[table.epoch <= int(last)].reset_index(drop=True) if last else table
        table['frac_005_strict'] = [redshift_metrics(epoch_predictions(run, int(e), X_val, 10, 0)[0][strict],
                                                     z_val[strict])['frac_005'] for e in table.epoch]
        selected = REGRESSOR.select(table)
        n_train = json.loads((Path(run) / 'config.json').read_text())['n_train']   # examples per epoch
        tables.append(table.assign(run=name, selected=table.epoch == selected, n_train=n_train))
        for split, z in split_redshifts(run, selected, splits, 100).items():
            z_table.loc[z_table.split == split, f'z_{name}'] = z
        print(f'{name}: {len(table)} epochs scanned, epoch {selected} selected, {time.perf_counter() - start:.0f} s')
    pd.concat(tables, ignore_index=True).to_csv(out / 'regressor_recipes.csv', index=False, float_format='%.6f')
    z_table.to_csv(out / 'regressor_recipes_z.csv', index=False, float_format='%.6f')
    print(f'wrote {out / "regressor_recipes.csv"} and {out / "regressor_recipes_z.csv"}')


SNAPSHOT_KS = (1, 3, 5, 10)


def snapshot_study(run: str, splits, out: Path) -> None:
    "Redshifts of the mean over the k best epochs of `run` (100 // k passes each) for every k of `SNAPSHOT_KS`; write `out`."
    from sniascore.selection import epoch_table
    from sniascore.training import REGRESSOR, regressor_epoch_order
    X_val, val = splits['validation']
    order = regressor_epoch_order(epoch_table(run, REGRESSOR, X_val, val.z.to_numpy(), 10, 1, 0, verbose=False)).epoch
    table, start = pd.concat([frame for _, frame in splits.values()], ignore_index=True), time.perf_counter()
    for k in SNAPSHOT_KS:
        members = [int(e) for e in order.iloc[:k]]
        per_member = [split_redshifts(run, e, splits, 100 // k) for e in members]
        for split in splits:
            table.loc[table.split == split, f'z_k{k}'] = np.mean([z[split] for z in per_member], axis=0)
        table[f'epochs_k{k}'] = ' '.join(map(str, members))
        print(f'k = {k}: epochs {members}, {time.perf_counter() - start:.0f} s')
    table.to_csv(out, index=False, float_format='%.6f')
    print(f'wrote {out}')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.splitlines()[2:]))
    p.add_argument('study', choices=('templates', 'recipes', 'snapshots'))
    p.add_argument('--snapshot-run', default='runs/band_z/regressor',
                   help="snapshots: the default's regressor run with every epoch's weights (the committed one is pruned)")
    p.add_argument('--runs', nargs='+', default=['paper=runs/paper/regressor@1', 'fresh=runs/fresh_z/regressor@5',
                                                   'band=runs/shipped/regressor@1', 'band200=runs/band_z/regressor@1:200',
                                                   'weighted=runs/weighted_z/regressor@1', 'wide=runs/wide_z/regressor@1',
                                                   'anneal=runs/anneal_z/regressor@1'],
                   help='recipes: NAME=RUN_DIR@EVERY[:LAST] of each regressor run, scanned every EVERY-th epoch (and the '
                        'last) up to epoch LAST; the committed runs are pruned, so they are scanned at every epoch from '
                        'their cached predictions; band200 is the unpruned band run (runs/band_z) cut at 200 epochs, the '
                        'length of the template-weighted ablation (runs/weighted_z) and of the 64-unit one (runs/wide_z)')
    p.add_argument('--survey', default='data/survey', help='survey folder (default data/survey, the shipped survey)')
    p.add_argument('--predictions', default='nbs/cache/predictions.ecsv', help='predictions cache of notebook 08')
    p.add_argument('--out', default='nbs/cache', help='folder of the tables (default nbs/cache)')
    args = p.parse_args(argv)
    from sniascore.redshifts import shipped_redshift_sets
    try:
        _, splits = shipped_redshift_sets(args.survey, args.predictions)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    if args.study == 'templates':
        from sniascore.template_redshift import CACHE
        template_study(args.survey, splits, Path(args.out) / CACHE)
    elif args.study == 'snapshots':
        snapshot_study(args.snapshot_run, splits, Path(args.out) / 'regressor_snapshots_z.csv')
    else:
        recipe_study(args.runs, splits, Path(args.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
