"""Regressions of the night-time path (issue 16): what a pipeline does to the files `sniascore` reads and writes.

Each test reproduces one way the night-time commands lost data, aborted a batch or changed a score without a word,
with the command a pipeline runs (the console script, in a subprocess) wherever that is possible. Spectra are the
simulated examples shipped with the package, so no shared data is needed.
"""
import json, os, shutil, subprocess, sys, time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXAMPLES = sorted(Path(str(files('sniascore') / 'examples')).glob('*.ascii'))
PASSES = ['--passes', '10']


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    env.pop('SNIASCORE_MODEL', None)
    return env


def sniascore(*args, timeout=300):
    exe = shutil.which('sniascore')
    assert exe, 'the console script `sniascore` is not installed (pip install -e .)'
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=_env(), timeout=timeout)


def watcher(folder, *args):
    "A `sniascore watch` subprocess; returns it once it reports that it is watching."
    proc = subprocess.Popen([shutil.which('sniascore'), 'watch', str(folder), *PASSES, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    line = proc.stdout.readline()
    assert line.startswith('watching'), (line, proc.stderr.read() if proc.poll() is not None else '')
    return proc


def finish(proc, timeout=120):
    try: return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None: proc.kill(); proc.communicate()


def keys_removed(data: bytes) -> bytes:
    "The file's bytes without SNIASCORE header lines (what the header write-back may add)."
    return b''.join(l for l in data.splitlines(keepends=True) if not l.lstrip().startswith(b'# SNIASCORE'))


def slow_writer(path: Path, data: bytes, rows_first: int, pause: float) -> subprocess.Popen:
    "A separate process that keeps `path` open, writes `rows_first` data rows, pauses, then writes the rest."
    code = ('import sys, time\n'
            'path, data, n, pause = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3]), float(sys.argv[4])\n'
            'lines = data.splitlines(keepends=True)\n'
            'header = sum(1 for l in lines if l.startswith(b"#"))\n'
            'with open(path, "wb") as f:\n'
            '    f.write(b"".join(lines[:header + n])); f.flush()\n'
            '    time.sleep(pause)\n'
            '    f.write(b"".join(lines[header + n:]))\n')
    src = path.with_name('.source_' + path.name)  # hidden: the watcher ignores it
    src.write_bytes(data)
    return subprocess.Popen([sys.executable, '-c', code, str(path), str(src), str(rows_first), str(pause)])


def test_watch_write_header_waits_for_a_slow_writer(tmp_path):
    "Item 1: a writer that pauses 2 s after 194 of 214 rows must not have its file rewritten from the half."
    inbox = tmp_path / 'inbox'; inbox.mkdir()
    source = EXAMPLES[3].read_bytes()
    proc = watcher(inbox, '--write-header', '--max-files', '1', '--max-time', '120')
    writer = slow_writer(inbox / 'ZTF21slow.ascii', source, 194, 2.0)
    writer.wait(30)
    stdout, stderr = finish(proc)
    assert proc.returncode == 0, stderr
    final = (inbox / 'ZTF21slow.ascii').read_bytes()
    assert keys_removed(final) == source            # every row there, nothing else changed
    assert final.count(b'# SNIASCORE') == 4


def test_watch_waits_for_complete_files_and_reclassifies_changed_ones(tmp_path):
    "Item 2: a half-written file is not scored from its first rows; a file overwritten under its name is scored again."
    inbox = tmp_path / 'inbox'; inbox.mkdir()
    proc = watcher(inbox, '--max-files', '3', '--max-time', '150')
    half = slow_writer(inbox / 'half.ascii', EXAMPLES[4].read_bytes(), 195, 2.5)
    (inbox / 'over.ascii').write_bytes(EXAMPLES[0].read_bytes())
    half.wait(30)
    results = inbox / 'sniascore_results.csv'
    t0 = time.time()
    while time.time() - t0 < 90 and not (results.exists() and len(pd.read_csv(results)) >= 2):
        time.sleep(0.2)
    (inbox / 'over.ascii').write_bytes(EXAMPLES[5].read_bytes())   # same name, other spectrum
    stdout, stderr = finish(proc)
    assert proc.returncode == 0, stderr
    table = pd.read_csv(results)
    import hashlib
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    half_rows = table[table['file'].str.endswith('half.ascii')]
    assert len(half_rows) == 1 and half_rows['status'].iloc[0] == 'scored'
    assert half_rows['sha256'].iloc[0] == sha(inbox / 'half.ascii')      # scored from the complete file
    over_rows = table[table['file'].str.endswith('over.ascii')]
    assert len(over_rows) == 2 and over_rows['sha256'].iloc[-1] == sha(inbox / 'over.ascii')
    state = json.loads((inbox / '.sniascore_watch.json').read_text())['files']
    assert state['over.ascii']['sha256'] == sha(inbox / 'over.ascii')   # the current result is the new content's


def test_unreadable_folder_does_not_abort_the_batch(tmp_path, monkeypatch):
    "Item 3: a folder that cannot be entered is a row with its reason; the good files are still classified."
    from sniascore import cli, commands
    good = tmp_path / 'good'; good.mkdir()
    for p in EXAMPLES[:2]: shutil.copy(p, good / p.name)
    locked = tmp_path / 'noperm_dir'
    real_stat = os.stat
    def stat(path, *args, **kwargs):  # what EACCES looks like to a process that may not enter `locked` (tests run as root)
        if str(path).startswith(str(locked)): raise PermissionError(13, 'Permission denied', str(path))
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(os, 'stat', stat)
    out = tmp_path / 'r.csv'
    code = cli.main(['classify', str(good), str(locked / 'x.ascii'), *PASSES, '-q', '--out', str(out)])
    monkeypatch.undo()
    assert code == commands.EXIT_UNSCORED
    table = pd.read_csv(out)
    assert len(table) == 3 and (table['status'] == 'scored').sum() == 2
    assert 'Permission denied' in table.loc[table['file'].str.contains('noperm_dir'), 'reason'].iloc[0]


@pytest.mark.skipif(os.geteuid() == 0, reason='root may list any folder: the permission case is simulated above')
def test_unreadable_folder_real_permissions(tmp_path):
    locked = tmp_path / 'noperm_dir'; locked.mkdir(); shutil.copy(EXAMPLES[0], locked / 'x.ascii'); locked.chmod(0)
    try:
        r = sniascore('classify', EXAMPLES[1], locked, *PASSES, '-q', '--out', tmp_path / 'r.csv')
    finally:
        locked.chmod(0o755)
    assert r.returncode == 3 and len(pd.read_csv(tmp_path / 'r.csv')) == 2


def test_folder_rule_is_the_same_for_classify_and_watch(tmp_path):
    "Item 4: .spec and named files are spectra, results tables are not; --verbose lists what was skipped."
    night = tmp_path / 'night'; night.mkdir()
    for i, p in enumerate(EXAMPLES[:3]): shutil.copy(p, night / p.name)
    shutil.copy(EXAMPLES[3], night / 'ZTF21spec.spec')
    shutil.copy(EXAMPLES[4], night / 'ZTF21noext')
    pd.DataFrame({'file': ['a'], 'decision': ['Ia']}).to_csv(night / 'sniascore_results.csv', index=False)
    r = sniascore('classify', night, *PASSES, '-q', '--out', tmp_path / 'r.csv')
    assert r.returncode == 0, r.stderr                               # the results table is not an unscored spectrum
    table = pd.read_csv(tmp_path / 'r.csv')
    assert sorted(Path(f).name for f in table['file']) == sorted([p.name for p in EXAMPLES[:3]] + ['ZTF21spec.spec'])
    assert '2 file(s) in folders skipped' in r.stderr
    r = sniascore('classify', night, *PASSES, '-q', '-v', '--out', tmp_path / 'v.csv')
    skipped = pd.read_csv(tmp_path / 'v.csv').query("decision == 'skipped'")
    assert sorted(Path(f).name for f in skipped['file']) == ['ZTF21noext', 'sniascore_results.csv']
    r = sniascore('classify', night / 'ZTF21noext', *PASSES, '-q')   # named explicitly: read
    assert r.returncode == 0 and 'ZTF21noext' in r.stdout


def test_write_header_keeps_the_file_as_it_was(tmp_path):
    "Item 5: read-only refused, symlink written through, CRLF and latin-1 kept byte for byte."
    base = EXAMPLES[2].read_bytes()
    crlf = tmp_path / 'crlf.ascii'; crlf.write_bytes(base.replace(b'\n', b'\r\n'))
    latin = tmp_path / 'latin.ascii'; latin.write_bytes(base.replace(b'# SIMULATED: True', '# OBSERVER: Ångström'.encode('latin-1')))
    ro = tmp_path / 'readonly.ascii'; ro.write_bytes(base); ro.chmod(0o444)
    target = tmp_path / 'target.ascii'; target.write_bytes(base)
    link = tmp_path / 'link.ascii'; link.symlink_to(target)
    before = {p: p.read_bytes() for p in (crlf, latin, ro, target)}
    r = sniascore('classify', crlf, latin, ro, link, *PASSES, '-q', '--write-header', '--out', tmp_path / 'r.csv')
    assert r.returncode == 3, r.stderr                               # one header could not be written
    table = pd.read_csv(tmp_path / 'r.csv').set_index('file')
    assert 'read-only' in table.loc[str(ro), 'reason'] and ro.read_bytes() == before[ro]
    for p in (crlf, latin, target):
        assert keys_removed(p.read_bytes()) == before[p] and p.read_bytes().count(b'# SNIASCORE') == 4
    assert crlf.read_bytes().count(b'\n') == crlf.read_bytes().count(b'\r\n')
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert not list(tmp_path.glob('.*sniascore-tmp'))


def test_watch_removes_temporary_files_left_by_a_kill(tmp_path):
    "Item 5: a `kill -9` during a header write leaves `.NAME.XXXX.sniascore-tmp`; the next watcher removes it."
    inbox = tmp_path / 'inbox'; inbox.mkdir()
    left = inbox / '.ZTF21x.ascii.k3j9.sniascore-tmp'; left.write_bytes(b'half a file'); os.utime(left, (1, 1))
    r = sniascore('watch', inbox, *PASSES, '--max-time', '1')
    assert r.returncode == 0 and not left.exists() and 'removed .ZTF21x.ascii.k3j9.sniascore-tmp' in r.stdout


def _damaged(tmp_path):
    "The same spectrum clean, with every 7th flux NaN, and with a negative variance in a third of its pixels."
    from sniascore.files import read_spectrum
    s = read_spectrum(EXAMPLES[1])
    rows = lambda f, v: ''.join(f'{a:.1f} {b:.6e} {c:.6e}\n' for a, b, c in zip(s.wave, f, v))
    paths = {name: tmp_path / f'{name}.ascii' for name in ('clean', 'nan', 'negvar')}
    nan_flux = s.flux.copy(); nan_flux[::7] = np.nan
    neg_var = s.var.copy(); neg_var[::3] = -1.0
    for name, (f, v) in {'clean': (s.flux, s.var), 'nan': (nan_flux, s.var), 'negvar': (s.flux, neg_var)}.items():
        paths[name].write_text(rows(f, v))
    return paths


def test_altered_data_is_reported_and_bad_variance_costs_no_flux(tmp_path):
    "Item 6: NaN pixels dropped are counted in warnings and reason; a bad variance (unused by the model) moves nothing."
    paths = _damaged(tmp_path)
    r = sniascore('classify', *paths.values(), *PASSES, '-q', '--out', tmp_path / 'r.csv')
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / 'r.csv').set_index(pd.Index(list(paths)))
    assert table.loc['negvar', 'sniascore'] == table.loc['clean', 'sniascore']        # bit for bit
    assert table.loc['negvar', 'sniascore_err'] == table.loc['clean', 'sniascore_err']
    assert 'variance set to NaN, flux kept' in table.loc['negvar', 'warnings']
    n_nan = len(range(0, 214, 7))
    assert f'{n_nan} of 214 pixels with non-finite wavelength or flux dropped' in table.loc['nan', 'warnings']
    assert 'score computed on altered data' in table.loc['nan', 'reason']
    assert pd.isna(table.loc['clean', 'warnings'])


def test_cli_output_is_the_table_and_the_scores_are_those_of_the_api(tmp_path):
    "Item 9: no TensorFlow start-up lines on stderr, and filtering them changes no bit of the scores."
    out = tmp_path / 'cli.csv'
    r = sniascore('classify', *EXAMPLES, *PASSES, '-q', '--out', out)
    assert r.returncode == 0, r.stderr
    assert 'oneDNN' not in r.stderr and 'absl' not in r.stderr, r.stderr
    code = ('import sys; from sniascore.classify import classify, output_table\n'
            'output_table(classify(sys.argv[2:], n_passes=10)).to_csv(sys.argv[1], index=False)')
    subprocess.run([sys.executable, '-c', code, str(tmp_path / 'api.csv'), *map(str, EXAMPLES)], check=True, env=_env(),
                   capture_output=True)
    cli, api = pd.read_csv(out), pd.read_csv(tmp_path / 'api.csv')
    for col in ('sniascore', 'sniascore_err', 'redshift', 'redshift_err'):
        assert cli[col].equals(api[col]), col


def test_argument_errors_are_fast_and_name_the_problem(tmp_path):
    "Item 9: arguments are checked before TensorFlow is imported, with messages that name the option or path."
    (tmp_path / 'empty').mkdir()
    cases = [(['classify', EXAMPLES[0], '--preset', 'foo'], "argument --preset: invalid choice: 'foo'"),
             (['classify', EXAMPLES[0], '--seed', '-1'], 'argument --seed: must be an integer >= 0, got -1'),
             (['classify', EXAMPLES[0], '--out', 'a.txt'], 'argument --out: must end in .csv or .json'),
             (['classify', tmp_path / 'empty'], 'no files there'),
             (['plot', tmp_path], 'is a folder; plot takes one spectrum file'),
             (['watch', EXAMPLES[0]], 'is a file; watch takes a folder')]
    for args, message in cases:
        t0 = time.time()
        r = sniascore(*args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
        assert 'tensorflow' not in r.stderr.lower()
    code = 'import sys, sniascore.cli as c, sniascore.commands as k; c.build_parser(); k.collect_inputs(["x"]); print("tensorflow" in sys.modules, "keras" in sys.modules)'
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True).stdout.strip() == 'False False'
    r = sniascore('--help')
    assert 'exit codes' in r.stdout and '141' in r.stdout
    r = sniascore('classify', '--help')
    assert '{strict,balanced,deployed}' in r.stdout and 'default: strict' in r.stdout


def test_closed_pipe_is_quiet(tmp_path):
    "Item 9: `sniascore info --json | head -1` ends without a traceback."
    exe = shutil.which('sniascore')
    r = subprocess.run(f'"{exe}" info --json | head -1', shell=True, capture_output=True, text=True, env=_env())
    assert r.stdout.strip() == '{' and 'Traceback' not in r.stderr and 'BrokenPipe' not in r.stderr, r.stderr


def test_lnw_gives_every_epoch_and_json_keeps_every_digit(tmp_path, needs_data):
    "Item 10: a SNID template gives one row per epoch; JSON numbers are exact."
    lnw = needs_data('templates', 'snid5') / 'sn94D.lnw'
    r = sniascore('classify', lnw, EXAMPLES[0], *PASSES, '-q', '--out', tmp_path / 'r.json')
    from sniascore.files import read_file
    n = len(read_file(lnw))
    records = json.loads((tmp_path / 'r.json').read_text())
    assert [rec['spectrum_no'] for rec in records] == list(range(n)) + [0]
    assert [rec['object'] for rec in records][-1] == 'sim2002887' and records[0]['object'] == 'sn94D'
    sniascore('classify', lnw, EXAMPLES[0], *PASSES, '-q', '--out', tmp_path / 'r.csv')  # the same run, as CSV
    from_json = np.array([np.nan if rec['sniascore'] is None else rec['sniascore'] for rec in records])
    np.testing.assert_array_equal(pd.read_csv(tmp_path / 'r.csv')['sniascore'].to_numpy(), from_json)
