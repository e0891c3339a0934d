"""The installed `sniascore` console script, run as a pipeline would run it (subprocesses).

Each subprocess pays the TensorFlow start-up, so checks are grouped per process: one `classify` of a folder of
good and bad inputs, one `classify --write-header` whose table is also the reference for the `report` run, one
`plot` (+ `info`, which needs no TensorFlow), and two `watch` runs.
They use the shipped model; if it is not installed yet, a small untrained stand-in built with
`sniascore.model.build_classifier/build_regressor` (the numbers are then meaningless, the mechanics are not).
"""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSES = ['--passes', '10']
SHIPPED = ROOT / 'sniascore' / 'models' / 'model_card.json'


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    env.pop('SNIASCORE_MODEL', None)  # the default must be the shipped model
    return env


def run(*args, cwd=None, timeout=300):
    exe = shutil.which('sniascore')
    assert exe, 'the console script `sniascore` is not installed (pip install -e .)'
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=_env(), cwd=cwd, timeout=timeout)


@pytest.fixture(scope='module')
def model_args(tmp_path_factory):
    "No option when the shipped model exists, else `--model` pointing at an untrained stand-in."
    if SHIPPED.exists():
        return []
    import keras
    from sniascore.model import build_classifier, build_regressor, sha256_file
    dest = tmp_path_factory.mktemp('standin_model')
    keras.utils.set_random_seed(0)
    sums = {}
    for name, build in (('classifier', build_classifier), ('regressor', build_regressor)):
        build(units=4).save(dest / f'{name}.keras')
        sums[f'{name}.keras'] = sha256_file(dest / f'{name}.keras')
    card = {'name': 'stand-in', 'created': '2026-01-01T00:00:00Z', 'checksums': sums,
            'operating_points': {'strict': {'min_score': 0.8, 'max_sigma': 0.275},
                                 'balanced': {'min_score': 0.6, 'max_sigma': 0.3}}}
    (dest / 'model_card.json').write_text(json.dumps(card))
    return ['--model', dest]


def _real_files():
    from sniascore.spectra import data_dir
    try:
        folder = data_dir('sedm_real')
    except FileNotFoundError:
        return []
    files = sorted(folder.glob('*.ascii'))
    # three objects, plus two spectra of one object (one TNS entry per object)
    return files[:3] + [f for f in files if f.name.startswith('ZTF19aanpcep_20190330')]


def _simulated(seed):
    from sniascore.simulate import cv_spectrum
    from sniascore.effects import simulate_sedm
    rng = np.random.default_rng(seed)
    wave, flux = cv_spectrum(rng)
    return simulate_sedm(wave, flux, 0.03, rng=rng, snr=30)


def _write_fits(spectrum, path):
    from astropy.io import fits
    hdu = fits.PrimaryHDU(spectrum.flux.astype('f4'))
    hdu.header.update(CRVAL1=spectrum.wave[0], CDELT1=spectrum.wave[1] - spectrum.wave[0], CRPIX1=1,
                      OBJECT='ZTF21fitstst', **{'MJD-OBS': 59320.25, 'EXPTIME': 1800.0})
    hdu.writeto(path)


def _good_inputs(folder: Path):
    "Real SEDM files (when the data folder exists), a simulated spectrum, a FITS file and a spectrum in nm."
    from sniascore.writers import write_sedm_ascii
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for f in _real_files():
        dest = folder / f.name
        shutil.copy(f, dest)
        dest.chmod(0o644)  # the shared copies are read-only
        files.append(dest)
    sim = _simulated(1)
    files.append(write_sedm_ascii(sim, folder / 'ZTF21simcvaa_20210415_P60_v1.ascii',
                                  header={'OBJECT': 'ZTF21simcvaa', 'OBSUTC': '2021-04-15 09:12:00.0', 'EXPTIME': 1200}))
    _write_fits(_simulated(2), folder / 'fits_spectrum.fits')
    files.append(folder / 'fits_spectrum.fits')
    nm = _simulated(3)
    np.savetxt(folder / 'spectrum_in_nm.txt', np.c_[nm.wave / 10, nm.flux])
    files.append(folder / 'spectrum_in_nm.txt')
    return [Path(f) for f in files]


@pytest.fixture(scope='module')
def night(tmp_path_factory):
    "A folder of good inputs plus a corrupt and an empty file."
    folder = tmp_path_factory.mktemp('night')
    good = _good_inputs(folder)
    (folder / 'corrupt.ascii').write_bytes(b'# OBJECT: broken\n\x00\x01\x02 not numbers\n')
    (folder / 'empty.ascii').write_text('')
    return folder, good, [folder / 'corrupt.ascii', folder / 'empty.ascii']


COLUMNS = ['file', 'spectrum_no', 'object', 'decision', 'sniascore', 'sniascore_err', 'redshift', 'redshift_err',
           'redshift_source', 'redshift_host', 'redshift_host_err', 'status', 'reason', 'warnings', 'preset', 'min_score', 'max_sigma', 'n_passes', 'passes_run', 'seed',
           'model_version',
           'sha256']  # the order the README documents


def test_classify_folder_with_bad_files(night, model_args, tmp_path):
    folder, good, bad = night
    missing = folder / 'no_such_spectrum.ascii'
    out = tmp_path / 'results.json'
    r = run('classify', folder, missing, *PASSES, *model_args, '--out', out)
    assert r.returncode == 3, r.stderr  # some inputs unscored
    table = pd.DataFrame(json.loads(out.read_text()))
    assert list(table.columns) == COLUMNS
    # nothing lost: every input has exactly one row, and appears in the printed table
    assert sorted(Path(f).name for f in table['file']) == sorted(p.name for p in good + bad + [missing])
    for p in good + bad + [missing]:
        assert p.name in r.stdout
    by_name = table.set_index(table['file'].map(lambda f: Path(f).name))
    for p in good:
        assert by_name.loc[p.name, 'decision'] in ('Ia', 'not confident'), by_name.loc[p.name].to_dict()
        assert 0 <= by_name.loc[p.name, 'sniascore'] <= 1 and by_name.loc[p.name, 'sniascore_err'] >= 0
    for p in bad + [missing]:
        row = by_name.loc[p.name]
        assert row['decision'] == 'unscored' and row['reason'] and pd.isna(row['sniascore'])
    assert 'empty' in by_name.loc['empty.ascii', 'reason'] and 'no such file' in by_name.loc[missing.name, 'reason']
    assert 'nm' in by_name.loc['spectrum_in_nm.txt', 'reason']  # the unit conversion is not hidden
    assert by_name.loc['fits_spectrum.fits', 'object'] == 'ZTF21fitstst'
    for f in _real_files():  # object name from the header, without SEDM's "[A]"
        assert by_name.loc[f.name, 'object'] == f.name.split('_')[0]
    # a redshift only for confident SNe Ia
    assert table.loc[table['decision'] != 'Ia', 'redshift'].isna().all()
    assert table.loc[table['decision'] == 'Ia', 'redshift'].notna().all()
    assert '3 unscored' in r.stderr and 'classifying' in r.stderr  # summary and progress bar on stderr


@pytest.fixture(scope='module')
def written(tmp_path_factory, model_args):
    "Good inputs classified with `--write-header` under cuts that every scored spectrum passes (so redshifts exist)."
    folder = tmp_path_factory.mktemp('written')
    good = _good_inputs(folder / 'in')
    sim = next(p for p in good if p.name.startswith('ZTF21sim'))
    text = sim.read_text().split('\n')  # an old result, to be replaced rather than duplicated
    sim.write_text('\n'.join(text[:1] + ['# SNIASCORE: 0.1234', '# SNIASCORE_Z: 0.5'] + text[1:]))
    out = folder / 'results.csv'
    r = run('classify', *good, *PASSES, *model_args, '--min-score', '0', '--max-sigma', '1', '--write-header',
            '--out', out, '-q')
    return good, r, pd.read_csv(out)


def test_header_write_back(written):
    good, r, table = written
    assert r.returncode == 0, r.stderr
    table = table.set_index('file')
    assert (table['decision'] == 'Ia').all()
    from sniascore.files import read_spectrum
    for p in good:
        row = table.loc[str(p)]
        if p.suffix == '.fits':
            from astropy.io import fits
            hdr = fits.getheader(p)
            got = [hdr['SNIASCOR'], hdr['SNIASCER'], hdr['SNIASCZ'], hdr['SNIASCZE']]
        else:
            lines = [l for l in p.read_text().splitlines() if 'SNIASCORE' in l]
            assert len(lines) == 4, lines
            got = [float(l.split(':')[1]) for l in lines]
        np.testing.assert_allclose(got, row[['sniascore', 'sniascore_err', 'redshift', 'redshift_err']].astype(float),
                                   atol=6e-5)
        read_spectrum(p)  # still a valid spectrum
    assert not [p for p in good[0].parent.iterdir() if p.name.startswith('.')]  # no temporary files left


def test_interrupted_header_write_leaves_original_intact(tmp_path, monkeypatch):
    from sniascore.headers import write_result_header
    from sniascore.writers import write_sedm_ascii
    ascii_file = write_sedm_ascii(_simulated(4), tmp_path / 'a.ascii', header={'OBJECT': 'ZTF21aaaaaaa'})
    fits_file = tmp_path / 'b.fits'
    _write_fits(_simulated(5), fits_file)
    before = {p: p.read_bytes() for p in (ascii_file, fits_file)}

    def crash(*args, **kwargs):
        raise OSError('simulated power cut')
    monkeypatch.setattr(os, 'replace', crash)
    row = {'sniascore': 0.9, 'sniascore_err': 0.05, 'redshift': 0.05, 'redshift_err': 0.004}
    for p in (ascii_file, fits_file):
        with pytest.raises(OSError, match='simulated power cut'):
            write_result_header(p, row)
        assert p.read_bytes() == before[p]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.ascii', 'b.fits']  # temporary files cleaned up
    monkeypatch.undo()
    write_result_header(ascii_file, {'sniascore': np.nan})  # unscored: -1 everywhere
    assert [l for l in ascii_file.read_text().splitlines() if 'SNIASCORE' in l] == [
        '# SNIASCORE: -1', '# SNIASCORE_ERR: -1', '# SNIASCORE_Z: -1', '# SNIASCORE_ZERR: -1']


def test_report_json_schema(written, model_args, tmp_path):
    import jsonschema
    good, _, table = written
    bad = tmp_path / 'corrupt.ascii'
    bad.write_text('# OBJECT: x\nnot a number\n')
    out = tmp_path / 'report.json'
    r = run('report', *good, bad, *PASSES, *model_args, '--min-score', '0', '--max-sigma', '1', '--out', out, '-q')
    assert r.returncode == 3, r.stderr  # the corrupt file
    assert 'corrupt.ascii' in r.stderr
    report = json.loads(out.read_text())
    schema = json.loads((ROOT / 'sniascore' / 'schemas' / 'tns_report.schema.json').read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(report, schema)
    entries, prov = report['classification_report'], report['sniascore']['entries']
    assert report['sniascore']['sent'] is False
    # one entry per object (the real files include two spectra of one object)
    assert sorted(e['name'] for e in entries.values()) == sorted(set(table['object']))
    table = table.set_index('file')
    for key, entry in entries.items():
        assert entry['objtypeid'] == 3 and entry['spectra']['spectra-group']['0']['instrumentid'] == 149
        spec = entry['spectra']['spectra-group']['0']
        assert Path(prov[key]['file']).name in (spec['ascii_file'], spec['fits_file'])
        # redshift and decision agree with the table of the same files (written before, in another process)
        row = table.loc[prov[key]['file']]
        assert row['decision'] == prov[key]['decision'] == 'Ia'
        assert round(row['redshift'], 4) == entry['redshift'] and abs(row['redshift'] - prov[key]['redshift']) < 1e-6
        # dropout masks are keyed by the spectrum: batch-independent up to float32 rounding (~1e-8)
        assert abs(row['sniascore'] - prov[key]['sniascore']) < 1e-6
    sim = next(e for e in entries.values() if e['name'] == 'ZTF21simcvaa')['spectra']['spectra-group']['0']
    assert (sim['obsdate'], sim['exptime'], sim['ascii_file']) == ('2021-04-15 09:12:00', 1200.0,
                                                                     'ZTF21simcvaa_20210415_P60_v1.ascii')
    fits_entry = next(e for e in entries.values() if e['name'] == 'ZTF21fitstst')['spectra']['spectra-group']['0']
    assert fits_entry['fits_file'] == 'fits_spectrum.fits' and fits_entry['obsdate'] == '2021-04-16 06:00:00'


def test_plot_and_info(night, model_args, tmp_path):
    folder, good, bad = night
    # the first good input is a real SEDM spectrum when the data folder exists, else the simulated one
    png = tmp_path / 'plot.png'
    r = run('plot', good[0], '--mc', *PASSES, *model_args, '--out', png)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 10_000
    r = run('info', *model_args)
    assert r.returncode == 0 and ('checksums' in r.stdout or 'sha256' in r.stdout), r.stderr
    r = subprocess.run([sys.executable, '-m', 'sniascore.cli', 'info', '--json', *map(str, model_args)],
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 0 and 'checksums' in json.loads(r.stdout)


def _wait_for(predicate, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_watch_new_files_restart_and_bad_file(tmp_path, model_args):
    inbox, staging = tmp_path / 'inbox', tmp_path / 'staging'
    inbox.mkdir()
    good = _good_inputs(staging)[-3:]  # simulated ASCII, FITS, nm
    shutil.copy(good[0], inbox / good[0].name)  # already there when the watcher starts
    exe = shutil.which('sniascore')
    # --settle 2: a file must be unchanged for 2 s (longer than the slow writer's pause below) to count as finished;
    # --incomplete-wait 3: a file that does not parse (garbage.txt) is reported after 3 s unchanged instead of 60
    proc = subprocess.Popen([exe, 'watch', str(inbox), *PASSES, *map(str, model_args), '--max-files', '4', '--settle', '2',
                             '--incomplete-wait', '3', '--max-time', '240'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    results = inbox / 'sniascore_results.csv'

    def n_rows():
        return len(pd.read_csv(results)) if results.exists() and results.stat().st_size else 0
    try:
        assert _wait_for(lambda: n_rows() >= 1, 200), 'the watcher never classified the existing file'
        # a slow writer: half the file, a pause, the rest; it must be taken once, complete
        data = good[1].read_bytes()
        with open(inbox / good[1].name, 'wb') as f:
            f.write(data[:len(data) // 2]); f.flush()
            time.sleep(1.0)
            f.write(data[len(data) // 2:])
        t_written = time.time()
        (inbox / 'garbage.txt').write_text('this is not a spectrum\n')
        shutil.copy(good[2], inbox / good[2].name)
        (inbox / '.hidden.ascii').write_text('ignored')
        (inbox / 'partial.ascii.part').write_text('ignored')
        assert _wait_for(lambda: n_rows() >= 4, 60)
        latency = time.time() - t_written
        stdout, stderr = proc.communicate(timeout=60)  # --max-files 4 ends it
        assert proc.returncode == 0, stderr
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=30)
    table = pd.read_csv(results)
    names = [Path(f).name for f in table['file']]
    assert sorted(names) == sorted([g.name for g in good] + ['garbage.txt'])  # each once, nothing else
    by_name = table.set_index(pd.Index(names))
    assert by_name.loc[good[1].name, 'decision'] != 'unscored'
    taken = pd.Timestamp(by_name.loc[good[1].name, 'classified_at']).timestamp()
    assert taken >= t_written - 0.05  # the slow file was taken only after its last write
    assert 'garbage.txt' in stdout and 'unscored' in stdout  # one log line per file
    assert by_name.loc['garbage.txt', 'decision'] == 'unscored'
    assert latency < 10, latency  # generous bound for a loaded CI machine; the notebook measures the real latency
    state = json.loads((inbox / '.sniascore_watch.json').read_text())
    assert sorted(state['files']) == sorted(names)

    # restart: nothing is classified twice, a new file is; SIGTERM stops it cleanly
    shutil.copy(good[0], inbox / 'second_copy.ascii')
    proc = subprocess.Popen([exe, 'watch', str(inbox), *PASSES, *map(str, model_args), '--max-time', '240'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert _wait_for(lambda: n_rows() >= 5, 200)
        time.sleep(1.0)  # a few more polls: nothing else may be taken
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and 'SIGTERM' in stderr, stderr
    assert '4 file(s) in the state file' in stdout
    table = pd.read_csv(results)
    names = [Path(f).name for f in table['file']]
    assert len(names) == len(set(names)) == 5 and 'second_copy.ascii' in names
