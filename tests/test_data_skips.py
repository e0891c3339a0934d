"""Without the third-party data folder the test suite still collects, and the tests that need it skip naming it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_collects_without_data(tmp_path):
    "No test module reads the data at import time (a `data_dir(...)` at module level stops the whole run)."
    env = dict(os.environ, SNIASCORE_DATA=str(tmp_path / 'absent'))  # data_dir() raises FileNotFoundError
    env.pop('SNIASCORE_REQUIRE_DATA', None)
    r = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider', 'tests'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert 'error' not in r.stdout.splitlines()[-1].lower(), r.stdout[-4000:]


def test_needs_data_skip_names_the_folder(tmp_path, monkeypatch, needs_data):
    monkeypatch.delenv('SNIASCORE_REQUIRE_DATA', raising=False)
    monkeypatch.setenv('SNIASCORE_DATA', str(tmp_path / 'absent'))
    with pytest.raises(pytest.skip.Exception, match=r'needs the shared data folder sedm_real/ .*not found'):
        needs_data('sedm_real')
    monkeypatch.setenv('SNIASCORE_DATA', str(tmp_path))  # a data folder without the part asked for
    with pytest.raises(pytest.skip.Exception, match=r'folder baselines/snid/sedm_real/ .*not found in '):
        needs_data('baselines', 'snid', 'sedm_real')
    (tmp_path / 'sedm_real').mkdir()
    assert needs_data('sedm_real') == tmp_path / 'sedm_real'
    monkeypatch.setenv('SNIASCORE_REQUIRE_DATA', '1')  # where the data must be there, a missing part fails
    with pytest.raises(pytest.fail.Exception, match='templates/'):
        needs_data('templates')
