"""Tests of sniascore.evidence (notebook 08a): the template SN as the unit, coverage per split, the frozen final
partition, the cached predictions being current, and template-grouped folds."""
import json

import numpy as np
import pandas as pd
import pytest

from sniascore import evidence as ev


def test_bootstrap_resamples_template_sns_not_spectra():
    # template X: two non-Ia spectra, one passing; Y: one non-Ia spectrum, never passing
    passed, is_ia, units = [1, 0, 0, 1, 1], [0, 0, 0, 1, 1], ['X', 'X', 'Y', 'Ia1', 'Ia2']
    boot = ev.template_bootstrap(passed, is_ia, units, n_boot=3000, seed=0)
    # drawing templates, the FPR can only be 0 (Y, Y), 1/3 (X, Y) or 1/2 (X, X); drawing spectra would also give 2/3, 1
    assert set(np.round(boot.fpr, 6)) == {0.0, round(1 / 3, 6), 0.5}
    labels, draws = ev.template_draws(units, is_ia, n_boot=200, seed=1)
    assert list(labels) == ['X', 'Y', 'Ia1', 'Ia2']
    assert (draws[:, :2].sum(1) == 2).all() and (draws[:, 2:].sum(1) == 2).all()
    # the same property fails for a bootstrap over spectra: the check above can fail
    from sniascore.evaluation import bootstrap_rates
    spectra = bootstrap_rates(passed, is_ia, groups=np.arange(5), n_boot=3000, seed=0)
    assert not set(np.round(spectra.fpr.dropna(), 6)) <= {0.0, round(1 / 3, 6), 0.5}


def test_units_must_not_span_classes():
    with pytest.raises(ValueError, match='two strata'):
        ev.template_draws(['a', 'a'], [True, False])


def test_clopper_pearson_known_values():
    assert ev.cp_upper(0, 10) == pytest.approx(1 - 0.05 ** 0.1, abs=1e-12)
    assert ev.cp_upper(0, 300) == pytest.approx(0.00994, abs=1e-5)
    assert ev.cp_upper(1, 20) == pytest.approx(0.2161, abs=1e-4)
    assert ev.cp_upper(2, 10) == pytest.approx(0.5069, abs=1e-4)
    assert ev.cp_upper(3, 3) == 1.0


def test_effective_units_is_kish():
    assert ev.effective_units(list('abcd')) == 4
    assert ev.effective_units(['a'] * 3 + ['b']) == pytest.approx(1.6)
    assert ev.effective_units(['a'] * 3 + ['b'], weights=[1 / 3] * 3 + [1]) == pytest.approx(2.0)


def test_final_partition_checksum():
    frozen = ev.read_final_partition()
    names = [t['template_sn'] for t in frozen['templates']]
    assert ev.partition_sha256(names) == frozen['sha256'] == ev.FINAL_PARTITION_SHA256
    assert len(names) == len(set(names)) > 0


def test_final_partition_change_is_caught(tmp_path):
    frozen = json.loads((ev.repo_root() / ev.FINAL_PARTITION_FILE).read_text())
    frozen['templates'][0]['template_sn'] += 'x'
    (tmp_path / 'p.json').write_text(json.dumps(frozen))
    with pytest.raises(ValueError, match='checksum mismatch'):
        ev.read_final_partition(tmp_path / 'p.json')


def test_template_folds_are_disjoint():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(dict(template_sn=rng.choice([f'SN{i}' for i in range(40)], 300),
                              cls='SNIa', subtype='Ia-norm', phase=rng.normal(0, 10, 300)))
    units = ev.fold_units(table)
    folds = ev.template_folds(units, k=5, seed=0)
    assert folds.index.is_unique and set(folds) == set(range(5))
    spectra = table.assign(unit=table.template_sn, fold=table.template_sn.map(folds))
    ev.check_folds(spectra, 5)
    roles = pd.concat([ev.fold_roles(folds, f, 5) for f in range(5)], axis=1)
    assert ((roles == 'test').sum(axis=1) == 1).all()
    broken = spectra.copy()
    broken.loc[broken.index[0], 'fold'] = (broken.fold.iloc[0] + 1) % 5
    with pytest.raises(ValueError, match='more than one fold'):
        ev.check_folds(broken, 5)


@pytest.fixture(scope='module')
def shipped_catalog(needs_data):
    needs_data('templates'); needs_data('surveys')
    from sniascore.datasets import catalog_sha256
    from sniascore.model import load
    catalog, splits = ev.survey_catalog()
    assert catalog_sha256(catalog) == load().card['dataset']['catalog_sha256'], 'not the shipped survey'
    return catalog, splits


@pytest.mark.parametrize('split', ['train', 'validation', 'test'])
def test_coverage_per_split(shipped_catalog, split):
    catalog, _ = shipped_catalog
    assert ev.missing_coverage(catalog, split) == []


def test_not_available_list_is_true(shipped_catalog):
    from sniascore.template_bank import load_bank
    from sniascore.catalog import usable_templates
    _, splits = shipped_catalog
    usable = usable_templates(load_bank().table)
    for (split, name) in ev.NOT_AVAILABLE:
        assert not ev.bank_supplies(name, split, usable, splits), (split, name)
    # an entry the bank could supply would be refused
    assert ev.bank_supplies('SN II before maximum', 'train', usable, splits)


def test_snid_join_matches_summary(needs_data):
    folder = needs_data('baselines', 'snid', 'sim_test')
    from sniascore.predictions import load_predictions
    predictions, _ = load_predictions(ev.repo_root() / 'nbs' / 'cache' / 'predictions.ecsv')
    joined = ev.join_snid(predictions[predictions.split == 'test'], folder)
    summary = pd.read_csv(folder / 'summary.csv').set_index('spectrum_id').loc[joined.spectrum_id]
    assert np.array_equal(joined.snid_rlap.values, summary.proj_rlap.fillna(0).values)
    assert int(joined.snid_output.sum()) == int((summary.snid_output == 'yes').sum())


def test_cached_predictions_are_current():
    from sniascore.predictions import load_predictions
    from sniascore.model import load
    predictions, _ = load_predictions(ev.repo_root() / 'nbs' / 'cache' / 'predictions.ecsv')
    out = ev.rescore(load(), predictions)
    assert len(out) == 20 and out.is_ia.sum() == 10
    for col in ('score', 'score_err', 'z_pred', 'z_err'):
        diff = np.nanmax(np.abs(out[f'{col}_now'] - out[f'{col}_cache']))
        assert diff <= ev.RESCORE_ATOL, f'{col}: the cache differs from the shipped model by {diff:.3g}; regenerate it (notebook 08)'
    assert np.isfinite(out.z_pred_now).sum() == np.isfinite(out.z_pred_cache).sum() >= 10
