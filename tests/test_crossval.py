"""Tests of sniascore.crossval (notebook 08b): template-grouped folds over the whole survey and the committed
out-of-fold cache (no training here)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sniascore import crossval as cv
from sniascore.predictions import repo_root
from sniascore.metrics import apply_cut

ROOT = repo_root()


@pytest.fixture(scope='module')
def folds():
    return pd.read_csv(ROOT / cv.FOLDS_CACHE, index_col='row')


@pytest.fixture(scope='module')
def oof():
    return pd.read_csv(ROOT / cv.OOF_CACHE)


@pytest.fixture(scope='module')
def summaries():
    return {s['fold']: s for s in json.loads((ROOT / cv.SUMMARY_CACHE).read_text())}


def test_folds_are_disjoint_in_template_sns(folds):
    assert folds.groupby('unit').fold.nunique().max() == 1
    cv.check_folds(folds, cv.CV_K)
    broken = folds.copy()
    broken.iloc[0, broken.columns.get_loc('fold')] = (broken.fold.iloc[0] + 1) % cv.CV_K
    with pytest.raises(ValueError, match='more than one fold'):   # the check can fail
        cv.check_folds(broken, cv.CV_K)


def test_each_template_is_tested_and_validates_exactly_once(folds):
    roles = pd.concat([cv.fold_split(folds, f, cv.CV_K) for f in range(cv.CV_K)], axis=1, keys=range(cv.CV_K))
    assert ((roles == 'test').sum(axis=1) == 1).all()
    assert ((roles == 'validation').sum(axis=1) == 1).all()
    for f in range(cv.CV_K):   # within a fold, no template SN has two roles
        assert (pd.DataFrame(dict(unit=folds.unit, role=roles[f])).groupby('unit').role.nunique() == 1).all()


def test_folds_are_stratified_by_class(folds):
    per_class = folds.pivot_table(index='cls', columns='fold', values='unit', aggfunc='nunique', fill_value=0)
    assert (per_class.max(axis=1) - per_class.min(axis=1)).max() <= 1


def test_folds_cache_covers_the_whole_survey(folds):
    assert len(folds) == 5550 and folds.index.tolist() == list(range(5550))
    assert set(folds.split) == {'train', 'validation', 'test'}


def test_folds_cache_is_what_cv_assignment_gives():
    survey = ROOT / 'data' / 'survey'
    if not (survey / 'catalog.ecsv').exists():
        pytest.skip('no data/survey (README command)')
    from sniascore.datasets import load_survey
    a = cv.cv_assignment(load_survey(survey).catalog)
    cached = pd.read_csv(ROOT / cv.FOLDS_CACHE, index_col='row')
    assert (a.index == cached.index).all() and (a.spectrum_id == cached.spectrum_id).all()
    assert (a.fold == cached.fold).all()


def test_oof_covers_every_spectrum_of_the_finished_folds_once(oof, folds, summaries):
    assert sorted(summaries) == sorted(oof.fold.unique())
    assert not oof.spectrum_id.duplicated().any()
    cv.check_oof(oof, folds, complete=sorted(summaries) == list(range(cv.CV_K)))
    assert set(oof.spectrum_id) == set(folds.spectrum_id[folds.fold.isin(summaries)])
    with pytest.raises(ValueError, match='predicted twice'):
        cv.check_oof(pd.concat([oof, oof.iloc[:1]]), folds, complete=False)


def test_oof_is_complete(oof, folds, summaries):
    if sorted(summaries) != list(range(cv.CV_K)):
        pytest.xfail(f'partial cross-validation: folds {sorted(summaries)} of {cv.CV_K} finished')
    cv.check_oof(oof, folds, complete=True)
    assert len(oof) == len(folds)


def test_pass_columns_are_each_folds_own_presets(oof, summaries):
    for f, s in summaries.items():
        part = oof[oof.fold == f]
        assert (part.epoch == s['epoch']).all()
        for name in cv.PRESET_FPR:
            assert (apply_cut(part.score, part.score_err, s['presets'][name]) == part[f'pass_{name}']).all()


def test_truncated_selection_never_looks_past_the_stop():
    table = pd.DataFrame(dict(epoch=np.arange(1, 11), n_ia_fpr0=np.arange(10), n_ia_fpr1=np.arange(10)))
    assert cv.truncated_selection(table, 10) == 10
    assert cv.truncated_selection(table, 7) == 7
    assert cv.truncated_selection(table, 9, every=4) == 9
    assert cv.truncated_selection(table.assign(n_ia_fpr0=10 - table.epoch), 9, every=4) == 4


@pytest.mark.parametrize('tag', ['_fresh', '_fresh_seed1', '_widen', '_fresh_anneal', '_fresh_anneal_last',
                                 '_fresh_anneal_seed1', '_fresh_anneal_last_seed1'])
def test_other_recipes_caches_are_out_of_fold(tag, folds):
    "The gathered folds of the other recipes (notebook 08b): each finished fold's spectra once, at the fold's own presets."
    oof_path, summary_path = (ROOT / p for p in cv.cache_paths(tag))
    oof, summaries = pd.read_csv(oof_path), {s['fold']: s for s in json.loads(summary_path.read_text())}
    assert sorted(summaries) == sorted(oof.fold.unique())
    cv.check_oof(oof, folds, complete=False)
    assert set(oof.spectrum_id) == set(folds.spectrum_id[folds.fold.isin(summaries)])
    for f, s in summaries.items():
        part = oof[oof.fold == f]
        for name in cv.PRESET_FPR:
            assert (apply_cut(part.score, part.score_err, s['presets'][name]) == part[f'pass_{name}']).all()


@pytest.mark.parametrize('kind', ['snapshots', 'recipes', 'seeds'])
def test_ensemble_caches_are_out_of_fold(kind, folds):
    "Notebook 08e's ensemble predictions: every spectrum once, by its own fold's members, the first snapshot the fold's choice."
    from sniascore.ensembles import ensemble_cache, ENSEMBLES
    oof = pd.read_csv(ensemble_cache(kind, ROOT))
    scored = [0] if kind == 'seeds' else list(range(cv.CV_K))   # only fold 0 has a second seed
    assert sorted(oof.fold.unique()) == scored
    cv.check_oof(oof.drop(columns='members'), folds[folds.fold.isin(scored)].reset_index(), complete=True)
    members = oof.groupby('fold').members.first().str.split(';')
    spec = ENSEMBLES[kind]
    assert (members.str.len() == spec['members'] * len(spec['roots'])).all()
    assert all(m.split('@')[0].endswith(f'fold{f}') for f, ms in members.items() for m in ms)
    if kind == 'snapshots':
        chosen = {s['fold']: s['epoch'] for s in json.loads((ROOT / cv.cache_paths('_fresh')[1]).read_text())}
        assert {f: int(ms[0].split('@')[1]) for f, ms in members.items()} == chosen


@pytest.mark.parametrize('script', ['run_crossval.py', 'ensemble_study.py'])
def test_fold_scripts_refuse_a_survey_that_is_not_the_shipped_one(script, tmp_path):
    import subprocess, sys
    args = ['--fold', '0'] if script == 'run_crossval.py' else []
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / script), *args, '--survey', str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and 'cannot read the survey catalog' in r.stderr


def test_annealed_folds_continue_the_fresh_folds():
    "The lower-rate folds (notebook 08b): the fresh recipe's runs continued at a tenth of the rate; `_fresh_anneal_last` keeps the last epoch."
    for seed in ('', '_seed1'):
        fresh = {s['fold']: s for s in json.loads((ROOT / cv.cache_paths('_fresh' + seed)[1]).read_text())}
        for tag in ('_fresh_anneal', '_fresh_anneal_last'):
            for s in json.loads((ROOT / cv.cache_paths(tag + seed)[1]).read_text()):
                assert s['training'] == {'lr_steps': [[326, 0.0005]]} and s['epochs'] == 400
                assert s['training_data'] == fresh[s['fold']]['training_data']     # the same recipe, draws and seed
                assert s['epoch'] == 400 if tag == '_fresh_anneal_last' else s.get('select', 'rule') == 'rule'


def test_run_crossval_refuses_a_malformed_learning_rate_step():
    import subprocess, sys
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'run_crossval.py'), '--fold', '0', '--fresh-draws',
                        '--lr-step', '326'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and 'EPOCH:RATE' in r.stderr


def test_real_fold_scores_are_the_gathered_folds_networks(needs_data):
    "Notebook 08b's real-set table (scripts/real_folds.py): every real spectrum once per network, at its fold's epoch and presets."
    from sniascore.realset import read_real_set, REAL_SET
    needs_data(REAL_SET)
    scores = pd.read_csv(ROOT / 'nbs' / 'cache' / 'real_fold_scores.csv')
    tags = {'fresh': '_fresh', 'fresh seed 1': '_fresh_seed1', 'widened': '_widen', 'lower rate, last epoch': '_fresh_anneal_last'}
    assert set(scores.network) == set(tags)
    real = read_real_set()
    for name, g in scores.groupby('network'):
        assert list(g.spectrum) == [Path(p).stem for p in real.path] and (g.is_ia.to_numpy() == real.is_ia.to_numpy()).all()
        summary = {s['fold']: s for s in json.loads((ROOT / cv.cache_paths(tags[name])[1]).read_text())}[0]
        assert (g.epoch == summary['epoch']).all()
        for preset in cv.PRESET_FPR:
            assert (apply_cut(g.score, g.score_err, summary['presets'][preset]) == g[f'pass_{preset}']).all()
