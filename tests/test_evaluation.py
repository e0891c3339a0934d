"Tests of sniascore.evaluation: SNID/DASH readers on cut and odd files, ROC grids, cluster bootstrap."
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from sniascore.spectra import SpectrumError
from sniascore.baselines import (read_snid_output, read_snid_folder, snid_best_match, read_dash_matches,
                                 dash_top_matches, spectrum_stem)
from sniascore.evaluation import (grid_roc, upper_envelope, snid_roc, dash_roc, best_cut,
                                  rates, bootstrap_rates, rates_with_ci, rate_curves)


@pytest.fixture(scope='module')
def snid_real(needs_data):
    "SNID's outputs for the real SEDM spectra, from the shared data (the tests that use them skip without it)."
    return needs_data('baselines', 'snid', 'sedm_real')


@pytest.fixture(scope='module')
def snid_text(snid_real):
    return (snid_real / 'ZTF18aavskep_20180602_P60_v1_snid.output').read_text()


def test_all_real_outputs_parse(snid_real):
    table, errors = read_snid_folder(snid_real)
    assert errors == [] and len(table) == 14
    for path in snid_real.glob('*_snid.output'):
        result = read_snid_output(path)
        assert len(result.listing) == 300 and not result.skipped
        assert (np.diff(result.listing.rlap) <= 0).all()
        assert set(result.listing.grade) <= {'good', 'bad', 'cut'}
        assert len(result.types) == 24 and np.isfinite(result.zmed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 1.0))
def test_snid_cut_anywhere(tmp_path_factory, snid_text, cut):
    "A file cut at any byte either parses (keeping only complete rows) or raises SpectrumError."
    path = tmp_path_factory.mktemp('snid') / 'x_snid.output'
    path.write_text(snid_text[: int(cut * len(snid_text))])
    try:
        result = read_snid_output(path)
    except SpectrumError as err:
        assert str(path) in str(err)
        return
    assert len(result.listing) <= 300 and not result.skipped
    if len(result.listing):
        assert result.listing['no'].tolist() == list(range(1, len(result.listing) + 1))
        best = snid_best_match(result)
        assert best['rlap'] >= 0


def test_snid_broken_middle_row_is_recorded(tmp_path, snid_text):
    lines = snid_text.splitlines()
    k = next(i for i, l in enumerate(lines) if l.startswith('  10  '))
    lines[k] = '  10  sn98S  IIn  0.67 garbage'
    path = tmp_path / 'broken_snid.output'
    path.write_text('\n'.join(lines))
    result = read_snid_output(path)
    assert len(result.listing) == 299 and len(result.skipped) == 1 and not result.truncated


def test_not_snid(tmp_path):
    path = tmp_path / 'a_snid.output'
    path.write_text('4000 1.0\n4010 2.0\n')
    with pytest.raises(SpectrumError, match='a_snid.output'):
        read_snid_output(path)
    with pytest.raises(SpectrumError, match='cannot read'):
        read_snid_output(tmp_path / 'missing_snid.output')


def _snid_stub(rows):
    "Minimal SNID output with a given listing."
    head = '### SNID output file ###\n \n### rlap-ordered template listings ###\n#no. sn type lap rlap z zerr age age_flag grade\n'
    body = ''.join(f'{i + 1:4d}  {sn:12s}  {t:9s} 0.70 {rlap:6.2f} {z:8.4f} 0.0040  1.0  0  {g}\n'
                   for i, (sn, t, rlap, z, g) in enumerate(rows))
    return head + body


def test_best_match_rules(tmp_path):
    path = tmp_path / 's_snid.output'
    path.write_text(_snid_stub([('sn1', 'Ia-norm', 15.0, 0.45, 'good'),   # outside z < 0.2
                                ('sn2', 'Ia-norm', 12.0, 0.05, 'bad'),    # SNID's own outlier
                                ('sn3', 'IIP', 9.0, 0.04, 'good'),
                                ('sn4', 'Ia-norm', 8.0, 0.04, 'good')]))
    result = read_snid_output(path)
    assert snid_best_match(result)['sn'] == 'sn3'
    assert snid_best_match(result, good_only=False)['sn'] == 'sn2'
    assert snid_best_match(result, zmax=1.0)['sn'] == 'sn1'
    none = snid_best_match(result, zmax=0.01)
    assert none['rlap'] == 0 and not none['is_ia']


def _write_dash(path, blocks):
    "The way astrodash's Classify.save_best_matches writes its file."
    with open(path, 'w') as f:
        for name, z, best, rlap_label, reliable, matches in blocks:
            f.write("%s   z=%s     %s      %s     %s\n %s\n\n" % (name, z, best, rlap_label, reliable, np.array(matches)))


def _matches(types_probs):
    return [('No Host', t, '-2 to 2', p) for t, p in types_probs]


def test_dash_reader_formats(tmp_path):
    path = tmp_path / 'DASH_matches.txt'
    _write_dash(path, [
        ('/x/a.dat', 0.05, ('Ia-norm', '-6 to 6', 0.9932), 'Good rlap: 10.7', 'Reliable matches',
         _matches([('Ia-norm', '0.91'), ('Ia-91T', '0.0822'), ('Ib-norm', '3.1e-07'), ('IIP', '1.0'), ('Ic-norm', '0.0')])),
        ('b.dat', 0.1, ('IIb', '10 to 14', np.float64(0.4)), 'Low rlap: No flux', 'Unreliable matches',
         _matches([('IIb', '0.4'), ('Ia-norm', '0.3')])),
        ('c spectrum.dat', 0.02, ('Ia-91bg', '2 to 6', 0.7), 'No rlap', 'Unreliable matches',
         _matches([('Ia-91bg', '0.7')])),
        ('d.dat', 0.03, ('Ia-csm', '2 to 6', 0.7), '(NO_TEMPLATES)', 'Reliable matches',
         _matches([('Ia-csm', '0.7')])),
    ])
    table = read_dash_matches(path)
    assert table.groupby('spectrum').size().to_dict() == {'a': 5, 'b': 2, 'c spectrum': 1, 'd': 1}
    top = dash_top_matches(table)
    assert top.loc['a', 'rlap'] == 10.7 and top.loc['a', 'is_ia']
    assert top.loc['b', 'rlap'] == 0.0 and not top.loc['b', 'is_ia']   # 'No flux' -> no rlap -> never passes
    assert table.set_index(['spectrum', 'rank']).loc[('a', 3), 'prob'] == pytest.approx(3.1e-7)
    combined = dash_top_matches(table, prob='combined')
    assert combined.loc['b', 'softmax'] == pytest.approx(0.4)
    assert spectrum_stem('/x/a.dat') == 'a'


def test_dash_reader_bad_files(tmp_path):
    path = tmp_path / 'bad.txt'
    path.write_text('this is not DASH output\n')
    with pytest.raises(SpectrumError, match='bad.txt'):
        read_dash_matches(path)
    path.write_text("a.dat   z=0.1     ('Ia', '0 to 4', 0.9)      Good rlap: 8     Reliable matches\n [[]]\n")
    with pytest.raises(SpectrumError, match='no match rows'):
        read_dash_matches(path)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 30), st.floats(0, 1)), min_size=2, max_size=40))
def test_grid_roc_matches_brute_force(items):
    is_ia, pred, rlap, soft = (np.array(v) for v in zip(*items))
    grid = grid_roc(is_ia, pred, {'softmax': (soft, [0.5, 0.7]), 'rlap': (rlap, [0.0, 5.0, 11.1])})
    for _, row in grid.iterrows():
        passed = pred & (soft > row.softmax) & (rlap > row.rlap)
        assert row.tp == (passed & is_ia).sum() and row.fp == (passed & ~is_ia).sum()
    env = upper_envelope(grid)
    assert (np.diff(env.fpr) > 0).all() and (np.diff(env.tpr) > 0).all()
    # no grid point lies above the envelope
    for _, row in grid.dropna(subset=['tpr', 'fpr']).iterrows():
        assert row.tpr <= env.tpr[env.fpr <= row.fpr].max() + 1e-12


def test_snid_and_dash_roc_best_cuts():
    truth = np.array([True, True, False, False])
    snid = pd.DataFrame(dict(is_ia=[True, True, True, False], rlap=[12.0, 6.0, 9.0, 20.0]))
    grid = snid_roc(truth, snid)
    cut = best_cut(grid, max_fpr=0.01)
    assert cut.rlap == pytest.approx(9.0) and cut.tpr == 0.5
    dash = pd.DataFrame(dict(is_ia=[True, False, True, True], softmax=[0.95, 0.9, 0.6, 0.8], rlap=[8.0, 8, 8, 8]))
    cut = best_cut(dash_roc(truth, dash), max_fpr=0.01)
    assert cut.tpr == 0.5 and cut.fpr == 0


def test_bootstrap_is_seeded_and_by_object():
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(30), 3)
    is_ia = np.repeat(rng.random(30) < 0.6, 3)
    passed = is_ia & (rng.random(90) < 0.8)
    a = bootstrap_rates(passed, is_ia, groups, n_boot=300, seed=11)
    b = bootstrap_rates(passed, is_ia, groups, n_boot=300, seed=11)
    pd.testing.assert_frame_equal(a, b)
    # with one object the resamples are all identical
    one = bootstrap_rates([1, 0, 1], [1, 1, 0], ['x', 'x', 'x'], n_boot=50)
    assert one.tpr.nunique() == 1 and one.fpr.nunique() == 1
    out = rates_with_ci(passed, is_ia, groups, n_boot=300)
    assert out['tpr_lo'] <= out['tpr'] <= out['tpr_hi']
    assert out['fpr'] == 0 and out['fpr_hi'] == 0 and 0 < out['fpr_objects_upper95'] < 0.3
    assert out['n_objects'] == 30


def test_rates_and_curves():
    r = rates([True, False, True], [True, True, False])
    assert (r['tp'], r['fn'], r['fp'], r['tn']) == (1, 1, 1, 0) and r['fpr'] == 1.0
    assert np.isnan(rates([True], [True])['fpr'])  # no negatives: FPR undefined, not 0
    curves = rate_curves(np.array([0.2, 0.8]), np.array([True, False]), thresholds=np.array([0.5]))
    assert curves.fnr.tolist() == [1.0] and curves.fpr.tolist() == [1.0]


def test_cli_help():
    out = subprocess.run([sys.executable, '-m', 'sniascore.predictions', '--help'], capture_output=True, text=True)
    assert out.returncode == 0 and '--survey' in out.stdout


class _FakeSurvey:
    "Just enough of sniascore.datasets.Survey for evaluate_survey."
    def __init__(self, n=12, seed=0):
        rng = np.random.default_rng(seed)
        self.catalog = pd.DataFrame(dict(
            spectrum_id=np.arange(n), file=[f'spectra/s{i}.ascii' for i in range(n)], object=[f'o{i // 2}' for i in range(n)],
            split=np.where(np.arange(n) % 3 == 0, 'test', 'validation'), cls='x', type='t', is_ia=rng.random(n) < 0.5,
            z=rng.uniform(0.01, 0.1, n), phase=0.0, snr=10.0, host_fraction=0.1))
        self.X = rng.normal(size=(n, 209)).astype('float32')
        self.info = dict(scale=0.001)
        self._truth = self.catalog.copy()   # arrays() follows the catalog as it was made

    def arrays(self, split):
        m = (self._truth.split == split).values
        return self.X[m], self._truth.is_ia.values[m].astype(int), self._truth.z.values[m]


def _tiny_network(outputs: int):
    import keras
    x = keras.Input((209, 1))
    y = keras.layers.Dense(outputs, activation='softmax' if outputs == 2 else None)(keras.layers.Flatten()(x))
    return keras.Model(x, y)


class _FakeModel:
    "Deterministic stand-in for sniascore.model.SNIascore (no dropout: spreads are zero)."
    card = {'operating_points': {'strict': {'min_score': 0.8, 'max_sigma': 0.3}},
            'selected_epochs': {'classifier': 7, 'regressor': 9}, 'selection': {'final_passes': 3},
            'schedule': {'seed': 0}}

    def __init__(self):
        self.classifier, self.regressor = _tiny_network(2), _tiny_network(1)

    @property
    def operating_points(self):
        return self.card['operating_points']


def test_evaluate_survey_round_trip(tmp_path):
    from sniascore.predictions import evaluate_survey, load_predictions, model_fingerprint
    from sniascore.baselines import snid_baselines
    survey, model = _FakeSurvey(), _FakeModel()
    out = tmp_path / 'cache' / 'predictions.ecsv'
    table, inputs = evaluate_survey(survey, out=out, model=model, n_passes=3)
    assert len(table) == len(survey.catalog) and set(table.split) == {'validation', 'test'}
    assert table.attrs['reused_from_training'] == 'none'
    # redshifts exactly where they are used: SNe Ia and spectra passing a cut
    passing = (table.score >= 0.8) & (table.score_err <= 0.3)
    assert (table.z_pred.notna() == (table.is_ia.astype(bool) | passing)).all()
    back, back_inputs = load_predictions(out)
    assert back.attrs['model'] == model_fingerprint(model)
    for name in ('score', 'score_err', 'z_pred', 'z_err'):  # bit for bit: cuts sit exactly on validation values
        np.testing.assert_array_equal(back[name], table[name])
    assert set(back_inputs) == set(inputs)
    for key, x in inputs.items():
        np.testing.assert_allclose(back_inputs[key], x)
    # catalog and arrays out of order: refused, not silently mismatched
    reordered = _FakeSurvey()
    reordered.catalog = reordered.catalog.iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValueError, match='catalog order'):
        evaluate_survey(reordered, model=model, n_passes=3)
    # SNID outputs in a folder beside sedm_real are matched to survey spectra by file name
    root = tmp_path / 'snid'
    (root / 'test_split').mkdir(parents=True)
    (root / 'test_split' / 's3_snid.output').write_text(_snid_stub([('sn1', 'Ia-norm', 12.0, 0.05, 'good')]))
    joined = snid_baselines(back, root=root)
    assert joined.spectrum_id.tolist() == [3] and joined.snid_rlap.tolist() == [12.0] and joined.snid_is_ia.all()
    assert snid_baselines(back, root=tmp_path / 'nothing').empty


def test_evaluate_survey_reuses_training_predictions(tmp_path):
    from sniascore.predictions import evaluate_survey
    survey, model = _FakeSurvey(), _FakeModel()
    run = tmp_path / 'run'
    (run / 'classifier' / 'selection').mkdir(parents=True)
    (run / 'regressor' / 'selection').mkdir(parents=True)
    n_test = int((survey.catalog.split == 'test').sum())
    n_test_ia = int(((survey.catalog.split == 'test') & survey.catalog.is_ia).sum())
    from sniascore.selection import _row_summary
    X_test, is_ia_test, z_test = survey.arrays('test')
    X_test_z = X_test[is_ia_test.astype(bool) & np.isfinite(z_test)]
    np.savez(run / 'classifier' / 'selection' / 'test_epoch_0007_passes_3_seed_0.npz',
             mean=np.linspace(0, 1, n_test), std=np.full(n_test, 0.05), x_summary=_row_summary(X_test))
    np.savez(run / 'regressor' / 'selection' / 'test_z_epoch_0009_passes_3_seed_0.npz',
             mean=np.full(n_test_ia, 0.123), std=np.full(n_test_ia, 0.001), x_summary=_row_summary(X_test_z))
    # only for the survey the model was trained on: its catalog checksum is in the card
    assert evaluate_survey(survey, model=model, n_passes=3, run_dir=run)[0].attrs['reused_from_training'] == 'none'
    from sniascore.datasets import catalog_sha256
    model.card = {**model.card, 'dataset': {'catalog_sha256': catalog_sha256(survey.catalog)}}
    table, _ = evaluate_survey(survey, model=model, n_passes=3, run_dir=run)
    test = table[table.split == 'test']
    np.testing.assert_allclose(test.score, np.linspace(0, 1, n_test))
    np.testing.assert_allclose(test.z_pred[test.is_ia.astype(bool)], 0.123)
    assert table.attrs['reused_from_training'] == 'classifier/test, regressor/test'
    # other passes or seed: nothing reused
    assert evaluate_survey(survey, model=model, n_passes=4, run_dir=run)[0].attrs['reused_from_training'] == 'none'
    # the same catalog, but the spectra differ in the last bits (a regenerated survey): nothing reused
    survey.X = survey.X + np.float32(1e-5)
    assert evaluate_survey(survey, model=model, n_passes=3, run_dir=run)[0].attrs['reused_from_training'] == 'none'
