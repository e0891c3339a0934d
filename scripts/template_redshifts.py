"""Template-matching redshifts of the validation and test SNe Ia of the shipped survey (notebook 09b_template_redshift).

Builds the library of the training split's SN Ia templates, matches every SN Ia of the validation and test splits
and writes nbs/cache/template_redshifts.csv (about five minutes on two cores)."""
import argparse
import sys
import time

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--survey', default='data/survey', help='survey folder (default data/survey, the shipped survey)')
    p.add_argument('--predictions', default='nbs/cache/predictions.ecsv', help='predictions cache of notebook 08')
    p.add_argument('--out', default='nbs/cache/template_redshifts.csv')
    args = p.parse_args(argv)
    from astropy.table import Table
    from sniascore.datasets import load_survey, catalog_sha256
    from sniascore.model import load
    from sniascore.predictions import load_predictions
    from sniascore.template_bank import load_bank
    from sniascore.template_redshift import survey_library, template_redshift_table
    survey, model = load_survey(args.survey), load()
    if catalog_sha256(survey.catalog) != model.card['dataset']['catalog_sha256']:
        print(f'{args.survey}: not the shipped survey (catalog checksum differs)', file=sys.stderr)
        return 1
    start = time.perf_counter()
    library = survey_library(load_bank(), Table.read(f'{args.survey}/template_splits.ecsv').to_pandas())
    print(f'library: {library.rows.shape[1]} spectra of {len(set(library.sn))} SNe Ia at {len(library.z_grid)} '
          f'redshifts, {time.perf_counter() - start:.0f} s')
    predictions, _ = load_predictions(args.predictions)
    predictions['strict'] = model.accept(predictions, 'strict')
    parts = []
    for split in ('validation', 'test'):
        X, is_ia, _ = survey.arrays(split)
        ids = survey.catalog.spectrum_id[survey.catalog.split == split].astype(str).to_numpy()
        keep = np.asarray(is_ia, bool)
        frame = predictions.set_index('spectrum_id').loc[ids[keep]].reset_index()
        columns = ['spectrum_id', 'split', 'template_sn', 'z', 'z_pred', 'strict']
        parts.append(template_redshift_table(np.asarray(X)[keep], frame[columns], library))
        print(f'{split}: {keep.sum()} SNe Ia matched, {time.perf_counter() - start:.0f} s')
    table = pd.concat(parts, ignore_index=True)
    table.to_csv(args.out, index=False, float_format='%.6f')
    print(f'wrote {args.out}: {len(table)} rows')
    return 0


if __name__ == '__main__':
    sys.exit(main())
