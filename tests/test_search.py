"""Issue 23's acceptance checks of `sniascore.search` on a CI-sized search (4 configurations x 3 epochs, small survey).

Every trial finishes once; the results table carries the section 4.1 metrics; a search killed with SIGKILL mid-way
(the whole process group: client, scheduler and the workers of its LocalCluster) and started again completes
without rerunning finished trials; and the distributed result equals a serial one with the same seeds. Plus the
archive reclassification (`sniascore batch`): one row per file, resumable by SHA-256, equal to a serial run.
"""
import os, signal, shutil, subprocess, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
from sniascore.search import SpaceError, config_key, grid_configs, grid_size, load_space
from sniascore.engine import open_study, reclassify, run_search, results_table

SPACE = """
[search]
sampler = "grid"
epochs = 3
select_passes = 10
seed = 0

[space]
layers = [["gru"], ["bilstm"], ["gru", "bilstm"], ["bilstm", "gru"]]
units = [8]
dropout = [0.3]
learning_rate = [0.005]
batch_size = [64]
"""
METRICS = ['key', 'best_epoch', 'n_ia_fpr0', 'n_ia_fpr1', 'tpr_fpr0', 'tpr_fpr1', 'roc_auc']
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def survey(tmp_path_factory, needs_data):
    "A small survey (scale 0.05, the default) written by `sniascore-survey`."
    needs_data('templates'); needs_data('surveys')
    out = tmp_path_factory.mktemp('survey') / 'survey'
    subprocess.run([sys.executable, '-c', 'from sniascore.survey import survey_cli; survey_cli()', '--out', str(out),
                    '--scale', '0.05'], check=True, capture_output=True)
    return out


@pytest.fixture(scope='module')
def space_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('space') / 'space.toml'
    path.write_text(SPACE)
    return path


@pytest.fixture(scope='module')
def serial(survey, space_file, tmp_path_factory):
    """The reference: the same search, trial after trial, in this process; stopped after two trials (an interruption,
    simulated) and run again to the end. Returns (the table after two trials, the whole table)."""
    out = tmp_path_factory.mktemp('serial')
    first = run_search(space_file, survey, out, serial=True, max_trials=2, log=lambda s: None)
    return first, run_search(space_file, survey, out, serial=True, log=lambda s: None)


def _metrics(table):
    return table[METRICS].sort_values('key').reset_index(drop=True)


def test_space_checks():
    spec = load_space(SPACE)
    assert grid_size(spec) == len(grid_configs(spec)) == 4
    with pytest.raises(SpaceError, match='a grid needs a list'):
        load_space('[space]\nunits = {low = 8, high = 16}')
    with pytest.raises(SpaceError, match='depth'):
        load_space('[space]\ndepth = [0]')


def test_serial_search_has_the_paper_metrics(serial):
    serial = serial[1]
    assert len(serial) == 4 and set(serial.state) == {'COMPLETE'}
    assert serial.key.is_unique and set(serial.key) == {config_key(c) for c in grid_configs(load_space(SPACE))}
    for col in ('n_ia_fpr0', 'n_ia_fpr1', 'roc_auc', 'best_epoch'):
        assert serial[col].notna().all(), col
    assert (serial.n_ia_fpr0 <= serial.n_ia_fpr1).all() and (serial.n_ia_fpr1 <= serial.n_val_ia).all()
    assert serial.best_epoch.between(1, 3).all() and serial.roc_auc.between(0, 1).all()
    ranked = serial[['n_ia_fpr0', 'n_ia_fpr1']].to_numpy()
    assert all(tuple(a) >= tuple(b) for a, b in zip(ranked, ranked[1:]))  # best first, section 4.1's order


def _search_cmd(space_file, survey, out):
    return [sys.executable, '-m', 'sniascore.cli', 'search', str(space_file), '--survey', str(survey), '--out', str(out),
            '--workers', '2']


def _completed(out):
    path = Path(out) / 'results.csv'
    if not path.exists():
        return 0
    try:
        return int((pd.read_csv(path).state == 'COMPLETE').sum())
    except (pd.errors.EmptyDataError, KeyError):
        return 0


def test_killed_distributed_search_resumes_and_equals_serial(serial, survey, space_file, tmp_path):
    out = tmp_path / 'search'
    log = open(tmp_path / 'first.log', 'w')
    proc = subprocess.Popen(_search_cmd(space_file, survey, out), stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 150
    while _completed(out) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)                        # client, scheduler and workers, mid-search
    proc.wait()
    log.close()
    import optuna
    study = open_study(load_space(SPACE), out, survey)
    before = {t.user_attrs['key']: t.number for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE}
    n_before = len(study.get_trials())
    assert 1 <= len(before) < 4, (before, (tmp_path / 'first.log').read_text()[-2000:])
    mtimes = {k: (out / 'trials' / k / 'history.csv').stat().st_mtime_ns for k in before}

    again = subprocess.run(_search_cmd(space_file, survey, out), capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr[-3000:]
    if n_before > len(before):
        assert 'resuming' in again.stderr                    # the killed trials were taken up again
    study = open_study(load_space(SPACE), out, survey)
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ['COMPLETE'] * 4  # every trial finished, once: no trial was added
    after = {t.user_attrs['key']: t.number for t in trials}
    assert len(after) == 4 and all(after[k] == n for k, n in before.items())
    assert {k: (out / 'trials' / k / 'history.csv').stat().st_mtime_ns for k in before} == mtimes  # not retrained
    table = pd.read_csv(out / 'results.csv')
    pd.testing.assert_frame_equal(_metrics(table), _metrics(serial[1]), check_dtype=False)  # distributed == serial


def test_subset_then_whole_runs_nothing_twice(serial):
    "The serial search stopped after two trials and run again: four trials in all, the first two kept as they were."
    first, whole = serial
    assert len(first) == 2 and len(whole) == 4 and sorted(whole.trial) == [0, 1, 2, 3]
    kept = whole.set_index('key').loc[first.key]
    assert kept.trial.tolist() == first.trial.tolist() and kept.seconds.tolist() == first.seconds.tolist()


def test_batch_reclassification(tmp_path):
    "`sniascore batch`: one row per file, scores equal to serial, a re-run classifies only new or changed files."
    examples = sorted((ROOT / 'sniascore' / 'examples').glob('*.ascii'))
    folder = tmp_path / 'archive'; folder.mkdir()
    for i in range(10):
        shutil.copy(examples[i % len(examples)], folder / f's{i:02d}.ascii')
    out = tmp_path / 'all.csv'
    cmd = [sys.executable, '-m', 'sniascore.cli', 'batch', str(folder), '--out', str(out), '--workers', '2', '--chunk', '3',
           '--passes', '10', '-q']
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    table = pd.read_csv(out)
    assert table.file.is_unique and len(table) == 10
    ref = reclassify([folder], tmp_path / 'serial.csv', serial=True, n_passes=10, progress=False)
    np.testing.assert_allclose(table.sort_values('file').sniascore, ref.sort_values('file').sniascore, rtol=0, atol=1e-6)
    shutil.copy(examples[1], folder / 's00.ascii')
    before = table.set_index('file')
    again = reclassify([folder], out, serial=True, n_passes=10, progress=False)
    assert again.file.is_unique and len(again) == 10
    changed = again.set_index('file').sha256 != before.sha256
    assert list(changed[changed].index) == [str(folder / 's00.ascii')]


def test_tpe_search_trains_a_configuration_once(survey, tmp_path):
    "An open (TPE) search: a configuration suggested again is told its stored result, not trained again."
    space = ('[search]\nsampler = "tpe"\nn_trials = 3\nepochs = 1\nselect_passes = 5\n'
             '[space]\nlayers = [["gru"]]\nunits = [8]\ndropout = [0.3]\nbatch_size = [64]\n')
    table = run_search(space, survey, tmp_path, serial=True, log=lambda s: None)
    assert len(table) == 1 and table.state.tolist() == ['COMPLETE']
    trials = open_study(load_space(space), tmp_path, survey).get_trials()
    assert len(trials) == 3 and [t.user_attrs.get('duplicate', False) for t in trials] == [False, True, True]
    assert len({t.value for t in trials}) == 1
