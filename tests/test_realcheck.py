"""Tests of sniascore.realcheck: exact intervals, the real set read completely, no real object in the simulation,
and the model card and README in step with each other (notebook 10a_real_spectra)."""
import json, os, subprocess, sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from sniascore.spectra import data_dir
from sniascore.realset import (CALIBRATION_SET, REAL_SET, clopper_pearson, exact_rates, object_names, read_real_set,
                               tpr_at_fp, z_source)
from sniascore.realism import on_sedm_grid
from sniascore.realcheck import CARD_KEY, DEPLOYED_KEY, README_HEADING, cross_validate, deployed_rates, readme_section, sigma_rule

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / 'sniascore' / 'models' / 'model_card.json'


def _folder(*parts):
    "The shared-data folder `parts`, or None when it (or the whole data folder) is absent."
    try:
        path = data_dir(*parts)
    except FileNotFoundError:
        return None
    return path if path.is_dir() else None


def needs(*parts):
    return pytest.mark.skipif(_folder(*parts) is None, reason=f"shared data folder {'/'.join(parts)}/ is missing "
                              "(looked in ../shared/data and $SNIASCORE_DATA)")


# exact binomial intervals

@pytest.mark.parametrize('k, n, lo, hi', [(0, 10, 0.0, 0.3085), (5, 10, 0.1871, 0.8129), (10, 10, 0.6915, 1.0),
                                          (1, 10, 0.0025, 0.4450), (0, 51, 0.0, 0.0698)])
def test_clopper_pearson_known_values(k, n, lo, hi):
    "Textbook 95% Clopper-Pearson limits (e.g. Brown, Cai & DasGupta 2001, Table; 1 - 0.025**(1/n) for k = 0)."
    assert np.allclose(clopper_pearson(k, n), (lo, hi), atol=1e-4)


def test_clopper_pearson_closed_forms_and_statsmodels():
    for n in (1, 7, 51, 68, 119):
        assert clopper_pearson(0, n)[1] == pytest.approx(1 - 0.025 ** (1 / n), abs=1e-12)
        assert clopper_pearson(n, n)[0] == pytest.approx(0.025 ** (1 / n), abs=1e-12)
        for k in range(0, n + 1, max(1, n // 7)):
            assert np.allclose(clopper_pearson(k, n), proportion_confint(k, n, alpha=0.05, method='beta'), atol=1e-10)
    assert clopper_pearson(3, 10, level=0.9)[1] < clopper_pearson(3, 10)[1]   # a lower level gives a narrower interval


@pytest.mark.parametrize('k, n', [(3, 2), (-1, 5), (0, 0)])
def test_clopper_pearson_refuses(k, n):
    with pytest.raises(ValueError):
        clopper_pearson(k, n)


def test_exact_rates():
    r = exact_rates([True, False, True, True], [True, True, False, False])
    assert (r['tp'], r['n_ia'], r['fp'], r['n_other']) == (1, 2, 2, 2)
    assert (r['tpr'], r['fpr']) == (0.5, 1.0) and (r['fpr_lo'], r['fpr_hi']) == clopper_pearson(2, 2)


def test_tpr_at_fp_and_cross_validation():
    score, is_ia = [0.9, 0.8, 0.7, 0.6, 0.5], [True, False, True, True, False]
    assert [tpr_at_fp(score, is_ia, k)['tp'] for k in (0, 1, 2)] == [1, 3, 3]
    s, g = np.array([0.9, 0.9, 0.9, 0.95, 0.5]), np.array([0.1, 0.2, 0.3, 0.25, 0.1])
    y = np.array([True, True, True, False, True])
    assert sigma_rule(0.8)(s, g, y)['max_sigma'] == 0.2
    passed, cuts = cross_validate(s, g, y, sigma_rule(0.8), np.arange(5))
    assert passed.tolist() == [True, False, False, True, False] and len(cuts) == 5


def test_z_source():
    assert [z_source(t) for t in ('0.08', '0.1', '0.026', '0.04497', '0.0123')] == ['SN fit', 'SN fit', 'unclear', 'host', 'host']


# the real set

@needs(REAL_SET)
def test_real_set_reads_completely():
    "Every file of the real set is listed in the metadata, lies on the SEDM grid and is scored (or says why not)."
    from sniascore.files import read_spectrum
    from sniascore.realset import score
    real = read_real_set()
    on_disk = sorted(p.name for p in data_dir(REAL_SET, 'spectra').iterdir())
    assert sorted(Path(f).name for f in real.file) == on_disk
    assert real.iau_name.is_unique and real.is_ia.sum() > 0 and (~real.is_ia).sum() > 0
    for path, n_points in zip(real.path, real.n_points):
        assert np.isfinite(on_sedm_grid(read_spectrum(path))).sum() == n_points, path
    table = score(real.path, n_passes=10)
    assert len(table) == len(real)
    unexplained = table[(table.status != 'scored') & (table.reason.fillna('') == '')]
    assert unexplained.empty, unexplained
    assert (table.status == 'scored').all(), table[table.status != 'scored'][['source', 'status', 'reason']]


@needs('baselines', 'snid', REAL_SET)
def test_every_real_spectrum_has_a_snid_output():
    from sniascore.baselines import read_snid_folder
    snid, errors = read_snid_folder(data_dir('baselines', 'snid', REAL_SET))
    assert errors == [] and set(snid.index) == set(read_real_set().stem)


def _survey_templates() -> tuple[set, str]:
    "Template objects of the full simulated survey, regenerated (catalog only) as the README's survey command makes it."
    code = ('import json; from sniascore.catalog import make_catalog; from sniascore.priors import load_priors; from sniascore.datasets import catalog_sha256; '
            'from sniascore.template_bank import load_bank; c, _ = make_catalog(load_bank(), load_priors(), seed=0, scale=1.0); '
            'print(json.dumps([catalog_sha256(c), sorted(set(c.template_sn))]))')
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES='X86_V4 AVX512_ICL AVX512_SPR', OPENBLAS_CORETYPE='Haswell')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    checksum, names = json.loads(out.stdout.strip().splitlines()[-1])
    return object_names(n for n in names if not n.startswith('generator:')), checksum


@needs(REAL_SET)
@needs('templates')
def test_no_real_object_in_the_simulation():
    "No object of the real set is a template of the bank, a template the survey used, or in the calibration set."
    from sniascore.template_bank import load_bank
    from sniascore.predictions import load_predictions
    real = read_real_set()
    names = object_names(real.iau_name) | object_names(real.ztf_id)
    assert len(names) == 2 * len(real)
    bank = object_names(load_bank().table.sn)
    survey, checksum = _survey_templates()
    card_checksum = json.loads(CARD.read_text())['dataset']['catalog_sha256']
    assert survey <= bank, f'survey templates outside the bank (catalog {checksum[:12]}, shipped {card_checksum[:12]})'
    cache, _ = load_predictions(ROOT / 'nbs' / 'cache' / 'predictions.ecsv')
    examples = [l.split(':', 1)[1] for f in (ROOT / 'sniascore' / 'examples').glob('*.ascii')
                for l in f.read_text().splitlines() if l.startswith('# TEMPLATE_SN:')]
    others = {'template bank': bank, 'survey templates': survey, 'predictions cache': object_names(cache.template_sn),
              'example files': object_names(examples)}
    if _folder(CALIBRATION_SET):
        others['calibration set'] = object_names(f.name.split('_')[0] for f in data_dir(CALIBRATION_SET).glob('*.ascii'))
    for name, objects in others.items():
        assert objects and not names & objects, (name, sorted(names & objects))


def test_object_names_normalise():
    assert object_names(['sn2006bp', 'SN2006bp', 'ZTF18abcdefg', '', None]) == {'SN2006bp', 'ZTF18ABCDEFG'}


# model card and README

@pytest.fixture(scope='module')
def card():
    return json.loads(CARD.read_text())


def test_card_report_belongs_to_the_shipped_model(card):
    assert card[CARD_KEY]['classifier_sha256'] == card['checksums']['classifier.keras']
    real = card[CARD_KEY]
    assert real['n_scored'] == real['n_files'] == real['n_ia'] + real['n_other']
    for r in real['presets'].values():
        assert r['tpr_lo'] <= r['tpr'] <= r['tpr_hi'] and r['fpr_lo'] <= r['fpr'] <= r['fpr_hi']
        assert (r['tpr_lo'], r['tpr_hi']) == pytest.approx(clopper_pearson(r['tp'], r['n_ia']))
    assert real['sigma_cut_cv']['adopted'] is False


def test_deployed_rates_from_the_cache(card):
    "The card's deployed row is what the predictions cache gives (the stand-in model needs no TensorFlow)."
    from sniascore.predictions import load_predictions
    cache = ROOT / 'nbs' / 'cache' / 'predictions.ecsv'
    if not cache.exists():
        pytest.skip('no predictions cache nbs/cache/predictions.ecsv')
    model = SimpleNamespace(card=card, operating_points=card['operating_points'])
    assert deployed_rates(load_predictions(cache)[0], model) == card[DEPLOYED_KEY]


def test_readme_cell_and_readme_quote_the_card(card):
    section = readme_section(card)
    cells = [''.join(c['source']) for c in json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())['cells']]
    assert section in cells, 'run: python -m sniascore.realcheck --readme-cell && python scripts/make_readme.py'
    assert sum(c.startswith(README_HEADING) for c in cells) == 1
    assert section.splitlines()[2][:60] in (ROOT / 'README.md').read_text()


def test_model_card_markdown_is_current(card):
    from sniascore.modelcard import card_markdown
    assert (ROOT / 'sniascore' / 'models' / 'MODEL_CARD.md').read_text() == card_markdown(card)
