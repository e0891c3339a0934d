"""Shared test helpers: the third-party data folder.

Tests that read third-party data (real SEDM spectra, the template banks, the survey tables, the SNID baselines) ask
for it through the `needs_data` fixture, never through `data_dir` at import time, so that every module collects in a
clone without the data: those tests then skip with a reason naming the missing folder, and all others still run.

    def test_x(needs_data):
        folder = needs_data('sedm_real')   # the folder, or a skip: "needs the shared data folder sedm_real/ ..."

With the data present nothing is skipped. `SNIASCORE_REQUIRE_DATA=1` turns every such skip into a failure, for a
machine (like CI) that must have the data and must run every test.
"""
import os
from pathlib import Path

import pytest

from sniascore.spectra import data_dir

WHERE = '../shared/data or $SNIASCORE_DATA'


def missing_data_reason(*parts) -> str | None:
    "None when the data folder `parts` (e.g. 'sedm_real' or 'baselines', 'snid', 'sedm_real') exists, else why not."
    name = '/'.join(map(str, parts)) + '/'
    try:
        root = data_dir()
    except FileNotFoundError as err:
        detail = str(err) if os.environ.get('SNIASCORE_DATA') else 'no data folder found'
        return f'needs the shared data folder {name} ({WHERE}): not found ({detail})'
    if not root.joinpath(*map(str, parts)).is_dir():
        return f'needs the shared data folder {name} ({WHERE}): not found in {root}'
    return None


def data_folder(*parts) -> Path:
    "The data folder `parts`; skips the calling test (fails it under SNIASCORE_REQUIRE_DATA=1) when it is missing."
    __tracebackhide__ = True  # the skip is reported at the test's line, not here
    reason = missing_data_reason(*parts)
    if reason is not None:
        if os.environ.get('SNIASCORE_REQUIRE_DATA') == '1':
            pytest.fail(f'SNIASCORE_REQUIRE_DATA=1, but the test {reason}', pytrace=False)
        pytest.skip(reason)
    return data_dir(*parts)


@pytest.fixture(scope='session')
def needs_data():
    "`needs_data('sedm_real')`: that folder of the shared data, or a skip whose reason names it."
    return data_folder
