"""Tests of sniascore.templates: names, phases, types, de-duplication, skipped files, the cache."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sniascore import templates as T
from sniascore import template_bank as TB


@pytest.fixture(scope='module')
def templates(needs_data):
    "The shared data's templates/ folder (the tests that use it skip without it)."
    return needs_data('templates')


@pytest.mark.parametrize('spelling', ['sn1994D', 'sn94D', 'SN1994D', '1994D', 'sn1994d_bsnip', '94D', 'sn1994d',
                                      'SN1994d', 'sn94d-', ' sn1994D '])
def test_names_of_sn1994D(spelling):
    assert T.normalise_name(spelling) == 'SN1994D'


@pytest.mark.parametrize('raw, name', [
    ('sn91bg_bsnip', 'SN1991bg'), ('sn1991bg', 'SN1991bg'), ('sn79C', 'SN1979C'), ('sn00cx', 'SN2000cx'),
    ('sn2002cx', 'SN2002cx'), ('29ab', 'SN2029ab'), ('30ab', 'SN1930ab'), ('16gkg', 'SN2016gkg'),
    ('SN2019cda', 'SN2019cda'), ('iPTF13bvn', 'IPTF13BVN'), ('iptf13bvn', 'IPTF13BVN'), ('PTF09atu', 'PTF09ATU'),
    ('ptf09atu', 'PTF09ATU'), ('PS1-10awh', 'PS1-10AWH'), ('ASASSN-15lh', 'ASASSN-15LH'),
    ('ZTF18abokyfk', 'ZTF18ABOKYFK'), ('06D4eu', 'SNLS06D4EU'), ('SNLS06D4eu', 'SNLS06D4EU'),
    ('snls03D3bb', 'SNLS03D3BB'), ('15dtg', 'IPTF15DTG'), ('SSS120810-23', 'SSS120810-23')])
def test_names(raw, name):
    assert T.normalise_name(raw) == name


def test_empty_name_fails():
    with pytest.raises(ValueError):
        T.normalise_name('_bsnip')


@pytest.mark.parametrize('tag, expected', [('p45', (45.0, 'max')), ('m13', (-13.0, 'max')), ('max', (0.0, 'max')),
                                           ('u201', (201.0, 'first')), ('p7', (7.0, 'max')), ('MAX', (0.0, 'max'))])
def test_phase_tags(tag, expected):
    assert T.parse_phase_tag(tag) == expected


@pytest.mark.parametrize('tag', ['45', 'x12', 'p', 'p4.5', ''])
def test_bad_phase_tags(tag):
    with pytest.raises(ValueError):
        T.parse_phase_tag(tag)


def test_type_table_classes():
    assert set(T.TYPE_TABLE['cls']) <= set(T.TABLE1_CLASSES)
    assert T.classify_subtype('IIb') == ('IIb', 'H-rich CC SN', False)
    assert T.classify_subtype('Ic-SL') == ('SLSN-I', 'H-poor CC SN', False)
    assert T.classify_subtype('Ia-91bg')[2]
    for label in T.SUPERFIT_FOLDER_TYPES.values():
        T.classify_subtype(label)
    for label in T.SUPERFIT_OBJECT_TYPES.values():
        T.classify_subtype(label)
    with pytest.raises(KeyError):
        T.canonical_subtype('Ia-unknown-kind')


def test_find_duplicates_rule():
    toy = pd.DataFrame(dict(
        sn=['SN1994D'] * 5 + ['KC-E', 'KC-E', 'X'], age_ref=['max'] * 5 + ['none', 'none', 'first'],
        age=[0.0, 0.3, 0.2, 5.0, 0.9, np.nan, np.nan, 1.0],
        bank=['snid5', 'superfit', 'snid5', 'astrodash', 'astrodash', 'snid5', 'superfit', 'sesn'],
        continuum=['spline', 'observed', 'spline', 'spline', 'spline', 'spline', 'observed', 'spline'],
        wmin=[3500.] * 8, wmax=[7400.] * 8, file=list('abcdefgh')))
    # rows 0, 2 (snid5) are replaced by the superfit row 1; row 4 is 0.6 d away from row 1: kept
    assert T.find_duplicates(toy).tolist() == [1, -1, 1, -1, -1, 6, -1, -1]


def test_find_duplicates_prefers_coverage_then_bank():
    toy = pd.DataFrame(dict(sn=['A', 'A', 'B', 'B'], age_ref=['max'] * 4, age=[1.0, 1.2, 3.0, 3.0],
                            bank=['snid5', 'astrodash', 'snid5', 'astrodash'], continuum=['spline'] * 4,
                            wmin=[3000., 3500., 3500., 3500.], wmax=[9000., 7400., 7400., 7400.], file=list('abcd')))
    assert T.find_duplicates(toy).tolist() == [-1, 0, 3, -1]


def _link(src_root: Path, dst_root: Path, rel: str):
    dst = dst_root / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.symlink_to(src_root / rel)


@pytest.fixture(scope='module')
def mini_root(tmp_path_factory, templates):
    "A small templates/ tree of symlinks to real files: duplicates across banks, a galaxy, a malformed file."
    root = tmp_path_factory.mktemp('data') / 'templates'
    sf = [p.relative_to(templates) for p in sorted((templates / 'superfit/sne/Ia').glob('sn1994d.*.dat'))]
    for rel in ['snid5/sn94D.lnw', 'astrodash/sn1994D.lnw', 'sesn/templates_williamson/11hs.lnw',
                'snid5/kcE.lnw', 'superfit/gal/E', 'superfit/sne/II/theory99em.p05.dat', *map(str, sf)]:
        _link(templates, root, rel)
    return root


def test_mini_bank(mini_root, templates, tmp_path):
    cache = tmp_path / 'cache'
    bank = TB.load_bank(mini_root.parent, cache=cache)
    t = bank.table
    assert not bank.info['from_cache']
    # malformed file reported and skipped, not fatal; the model spectrum excluded
    assert (bank.skipped['file'].str.endswith('11hs.lnw') & (bank.skipped['kind'] == 'error')).any()
    assert (bank.skipped['file'].str.endswith('theory99em.p05.dat') & (bank.skipped['kind'] == 'excluded')).any()
    assert not t['file'].str.endswith('11hs.lnw').any()
    # one object under every spelling
    assert set(t['sn']) == {'SN1994D', 'KC-E'}
    # de-duplication: the SNID copy of the DASH/superfit spectra and the SNID galaxy are dropped
    assert len(bank.duplicates) > 0
    assert (bank.duplicates['bank'] != bank.duplicates['kept_bank']).all()
    gal = bank.galaxies()
    assert len(gal) == 1 and gal['bank'].iloc[0] == 'superfit' and gal['continuum'].iloc[0] == 'observed'
    for (sn, ref), grp in t.groupby(['sn', 'age_ref']):
        for b1, g1 in grp.groupby('bank'):
            for b2, g2 in grp.groupby('bank'):
                if b1 < b2:
                    d = np.abs(g1['age'].to_numpy()[:, None] - g2['age'].to_numpy()[None, :])
                    assert not (d <= 0.5).any(), (sn, b1, b2)
    # spectra: finite, positive, increasing, within wmin/wmax
    for i in range(len(bank)):
        w, f = bank.spectrum(i)
        assert len(w) == len(f) >= 10 and np.isfinite(w).all() and np.isfinite(f).all() and (w > 0).all()
        assert np.all(np.diff(w) > 0)
        assert np.isclose(w[0], t['wmin'].iloc[i], rtol=1e-5) and np.isclose(w[-1], t['wmax'].iloc[i], rtol=1e-5)
    assert (t.loc[t['bank'] == 'superfit', 'continuum'] == 'observed').all()
    assert t['is_ia'].sum() == (t['cls'] == 'SNIa').sum() > 0
    with pytest.raises(IndexError):
        bank.spectrum(len(bank))
    # the cache gives the same bank back, and a new input file makes a new cache
    again = TB.load_bank(mini_root.parent, cache=cache)
    assert again.info['from_cache']
    pd.testing.assert_frame_equal(again.table, t, check_dtype=False)
    for i in range(len(bank)):
        np.testing.assert_allclose(again.spectrum(i)[1], bank.spectrum(i)[1], rtol=1e-6)
    assert len(list(cache.glob('template_bank-*.npz'))) == 1
    _link(templates, mini_root, 'snid5/kcS0.lnw')
    try:
        third = TB.load_bank(mini_root.parent, cache=cache)
        assert not third.info['from_cache'] and 'KC-S0' in set(third.table['sn'])
        assert len(list(cache.glob('template_bank-*.npz'))) == 1  # the stale cache was removed
    finally:
        (mini_root / 'snid5/kcS0.lnw').unlink()


def test_select_keeps_rows(mini_root):
    bank = TB.load_bank(mini_root, cache=False)
    sub = bank.select(bank.table['is_ia'])
    assert len(sub) == bank.table['is_ia'].sum()
    i = int(np.flatnonzero(bank.table['is_ia'])[0])
    np.testing.assert_array_equal(sub.spectrum(0)[1], bank.spectrum(i)[1])


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        TB.load_bank(tmp_path / 'nowhere', cache=False)


def test_full_bank(templates):
    "The whole bank (read from the user cache when present)."
    bank = TB.load_bank()
    t = bank.table
    assert len(t) > 5000 and t['sn'].nunique() > 400
    assert t['cls'].isin(T.TABLE1_CLASSES).all() and t['subtype'].isin(T.TYPE_TABLE.index).all()
    assert not bank.skipped['reason'].str.startswith('KeyError').any()  # every type label is mapped
    assert bank.skipped['file'].str.endswith('11hs.lnw').any()
    assert t.groupby('sn')['cls'].nunique().max() == 1
    assert {'SNIa', 'H-rich CC SN', 'H-poor CC SN', 'Other'} <= set(t['cls'])
    assert len(bank.galaxies()) >= 11
    assert not str(bank.info.get('cache_file', '')).startswith(str(Path(__file__).resolve().parents[1]))
    rng = np.random.default_rng(1)
    for i in rng.choice(len(bank), 200, replace=False):
        w, f = bank.spectrum(int(i))
        assert np.isfinite(w).all() and np.isfinite(f).all() and (w > 0).all()
        assert np.isclose(w[0], t['wmin'].iloc[i], rtol=1e-5) and np.isclose(w[-1], t['wmax'].iloc[i], rtol=1e-5)
