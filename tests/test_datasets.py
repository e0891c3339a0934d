"""Tests of sniascore.datasets: the simulated BTS-like survey (splits, leakage, determinism, files, CLI)."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from sniascore import datasets as ds, priors as pr, catalog as ctl, survey as sv
from sniascore.spectra import SpectrumError
from sniascore.files import read_spectrum
from sniascore.templates import TABLE1_CLASSES
from sniascore.template_bank import load_bank


@pytest.fixture(scope="module")
def bank(needs_data):
    needs_data("templates")  # the tests that use the bank skip without the shared data
    return load_bank()


@pytest.fixture(scope="module")
def priors(needs_data):
    needs_data("surveys")
    return pr.load_priors()


@pytest.fixture(scope="module")
def survey(bank, priors):
    return sv.make_survey(seed=0, scale=0.03, bank=bank, priors=priors)


@pytest.fixture(scope="module")
def full_catalog(bank, priors):
    "The catalog of the paper-sized survey (nothing simulated: fast)."
    return ctl.make_catalog(bank, priors, seed=0, scale=1.0)


# --- survey tables and priors -------------------------------------------------------------------

def test_table1_totals():
    assert pr.TABLE1.values.sum() == 5550
    assert pr.TABLE1.loc["SNIa"].sum() == 2619 and pr.TABLE1.drop("SNIa").values.sum() == 2931
    assert list(pr.TABLE1.index) == TABLE1_CLASSES


def test_bts_class_mapping():
    assert pr.bts_class("SN Ia-91T") == "SNIa" and pr.bts_class(" SN Ia? ") == "SNIa"
    assert pr.bts_class("SN IIb") == "H-rich CC SN" and pr.bts_class("SLSN-II") == "H-rich CC SN"
    assert pr.bts_class("SLSN-I") == "H-poor CC SN" and pr.bts_class("SN Ic-BL") == "H-poor CC SN"
    assert pr.bts_class("nova") == "CV" and pr.bts_class("QSO") == "Other"
    assert pr.bts_class("-") is None and pr.bts_class("duplicate") is None and pr.bts_class(float("nan")) is None
    assert pr.bts_sn_type("SN IIP") == "II" and pr.bts_sn_type("SN Ia-91bg") == "Ia" and pr.bts_sn_type("AGN") is None


def test_priors(priors):
    assert np.percentile(priors.redshifts["SNIa"], 50) == pytest.approx(0.066, abs=0.005)
    for values in priors.phases.values():
        assert values.min() >= pr.PHASE_WINDOW[0] and values.max() <= pr.PHASE_WINDOW[1]
    assert priors.spectra_per_object.sum() == pytest.approx(1.0)
    for mix in priors.sn_types.values():
        assert mix.sum() == pytest.approx(1.0)


def test_load_priors_bad_folder(tmp_path):
    with pytest.raises(SpectrumError, match=str(tmp_path)):
        pr.load_priors(tmp_path)


@settings(max_examples=30, deadline=None)
@given(st.floats(1.0, 5.0))
def test_tilt_pmf_hits_mean(mean):
    pmf = pd.Series([0.5, 0.25, 0.15, 0.1], index=[1, 2, 3, 6])
    tilted = pr.tilt_pmf(pmf, mean)
    assert (tilted.index * tilted).sum() == pytest.approx(mean, abs=1e-6)
    assert (tilted >= 0).all() and tilted.sum() == pytest.approx(1.0)


def test_tilt_pmf_rejects_impossible_mean():
    with pytest.raises(ValueError):
        pr.tilt_pmf(pd.Series([0.5, 0.5], index=[1, 2]), 3.0)


def test_smoothed_draw_bounds():
    rng = np.random.default_rng(0)
    z = pr.smoothed_draw([0.01, 0.05, 0.1, 0.3], 500, rng, bounds=(0.005, 0.2), log=True)
    assert z.shape == (500,) and z.min() >= 0.005 and z.max() <= 0.2
    with pytest.raises(ValueError):
        pr.smoothed_draw([1.0, 2.0], 5, rng, bounds=(3, 4))


def test_conditions_are_class_blind():
    "The conditions depend only on z, phase and whether there is a host, never on the class."
    rng = np.random.default_rng(0)
    c = pr.draw_conditions(np.full(4000, 0.05), np.zeros(4000), np.ones(4000, bool), rng, [0.03])
    assert 10 < c.snr.median() < 15 and 2 < np.percentile(c.snr, 5) < 4
    assert c.host_fraction.between(0, 1).all() and c.host_fraction.max() < 1
    none = pr.draw_conditions(np.zeros(10), np.zeros(10), np.zeros(10, bool), rng, [0.03])
    assert (none.host_fraction == 0).all() and (none.ebv_host == 0).all()


# --- splits and leakage ---------------------------------------------------------------------------

def test_table1_counts_at_full_scale(full_catalog):
    cat, _ = full_catalog
    counts = cat.pivot_table(index="cls", columns="split", values="spectrum_id", aggfunc="count", fill_value=0)
    counts = counts.reindex(index=TABLE1_CLASSES, columns=list(ds.SPLITS), fill_value=0)
    assert (counts.to_numpy() == pr.TABLE1.to_numpy()).all()
    n_objects = cat["object"].nunique()
    assert 3300 < n_objects < 3650   # paper: 3463 transients


def test_table1_proportions_small_scale(survey):
    cat = survey.catalog
    frac = cat.groupby("split")["cls"].value_counts(normalize=True).unstack()
    frac = frac.reindex(index=list(ds.SPLITS), columns=TABLE1_CLASSES).fillna(0)
    paper = (pr.TABLE1 / pr.TABLE1.sum()).T.reindex(index=list(ds.SPLITS))
    n = cat.groupby("split").size().reindex(list(ds.SPLITS))
    assert ((frac - paper).abs().max(axis=1) <= 1 / n + 0.01).all()
    # every class with spectra in a split keeps at least one at any scale
    for cls in TABLE1_CLASSES:
        for split in ds.SPLITS:
            has = ((cat.cls == cls) & (cat.split == split)).any()
            assert has == (pr.TABLE1.loc[cls, split] > 0)


def _no_leakage(cat, template_splits):
    assert (cat.groupby("object")["split"].nunique() == 1).all()
    assert (cat.groupby("template_sn")["split"].nunique() == 1).all()
    galaxies = cat[cat["kind"] == "galaxy"]
    assert (galaxies.groupby("template_sn")["split"].nunique() == 1).all()
    from_bank = cat[cat["template_row"] >= 0]
    assert (from_bank["split"].to_numpy() == template_splits.loc[from_bank["template_sn"], "split"].to_numpy()).all()
    generated = cat[cat["template_row"] < 0]
    assert generated["cls"].isin(["TDE", "CV"]).all()
    assert (generated["template_sn"] == "generator:" + generated["object"]).all()


def test_no_leakage_small(survey):
    _no_leakage(survey.catalog, survey.template_splits)


def test_no_leakage_full(full_catalog):
    _no_leakage(*full_catalog)


def test_template_split_does_not_depend_on_survey_seed(bank, priors):
    a = ctl.assign_template_splits(bank.table, split_seed=0)
    b = ctl.assign_template_splits(bank.table, split_seed=0)
    c = ctl.assign_template_splits(bank.table, split_seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a["split"].equals(c["split"])
    # every group has exactly one split, and the SN classes are present in every split that needs them
    assert a.index.is_unique and a["split"].isin(ds.SPLITS).all()
    for cls in ("SNIa", "H-rich CC SN", "H-poor CC SN"):
        assert set(a.loc[a.cls == cls, "split"]) == set(ds.SPLITS)


def test_dates_inside_split_windows(full_catalog):
    cat, _ = full_catalog
    for split, (start, end) in pr.SPLIT_DATES.items():
        dates = pd.to_datetime(cat.loc[cat.split == split, "date"])
        assert dates.min() >= pd.Timestamp(start) and dates.max() <= pd.Timestamp(end) + pd.Timedelta(days=1)
    # spectra of one object are in time order and their ids count up
    for _, obj in list(cat.groupby("object"))[:300]:
        assert obj["date"].is_monotonic_increasing


def test_phases_and_redshifts(full_catalog):
    cat, _ = full_catalog
    sn = cat[cat.cls.isin(ctl.SN_CLASSES)]
    assert sn["phase"].notna().all() and cat.loc[cat.cls.isin(["CV", "Other"]), "phase"].isna().all()
    assert (cat.loc[cat.cls == "CV", "z"] == 0).all()
    ia = cat[cat.is_ia]
    assert ia["z"].between(0.01, 0.11).mean() > 0.85
    # young SNe II and Ib/c are sampled
    assert (cat.loc[cat.cls == "H-rich CC SN", "phase"] < 0).mean() > 0.2
    assert (cat.loc[cat.cls == "H-poor CC SN", "phase"] < 0).mean() > 0.2


# --- determinism ----------------------------------------------------------------------------------

def test_same_seed_bit_identical(bank, priors, survey):
    again = sv.make_survey(seed=0, scale=0.03, bank=bank, priors=priors)
    pd.testing.assert_frame_equal(again.catalog, survey.catalog)
    assert np.array_equal(again.flux, survey.flux) and np.array_equal(again.var, survey.var)


def test_other_seed_differs(bank, priors, survey):
    other = sv.make_survey(seed=1, scale=0.03, bank=bank, priors=priors)
    n = min(len(other), len(survey))
    assert not np.array_equal(other.flux[:n], survey.flux[:n])
    assert not other.catalog["z"].equals(survey.catalog["z"])


def test_noise_seeds_per_spectrum(survey):
    assert survey.catalog["noise_seed"].is_unique
    assert survey.catalog["spectrum_id"].is_unique and survey.catalog["file"].is_unique


# --- arrays, files, CLI ---------------------------------------------------------------------------

def test_arrays(survey):
    X, is_ia, z = survey.arrays("validation")
    n = int((survey.catalog.split == "validation").sum())
    assert X.shape == (n, 209) and X.dtype == np.float32 and np.isfinite(X).all()
    assert set(np.unique(is_ia)) <= {0, 1} and is_ia.dtype.kind == "i" and z.shape == (n,)
    with pytest.raises(ValueError):
        survey.arrays("holdout")


def test_write_load_round_trip(survey, tmp_path):
    ds.write_survey(survey, tmp_path)
    back = ds.load_survey(tmp_path)
    pd.testing.assert_frame_equal(back.catalog, survey.catalog)
    assert np.array_equal(back.flux, survey.flux) and np.array_equal(back.var, survey.var)
    assert np.array_equal(back.wave, survey.wave)
    assert back.checksum() == survey.checksum()
    # the header carries the truth
    row = survey.catalog.iloc[0]
    meta = read_spectrum(tmp_path / row["file"]).meta
    assert meta["CLS"] == row["cls"] and meta["Z"] == pytest.approx(row["z"]) and meta["SPLIT"] == row["split"]
    # SNID input: the testing spectra, two columns
    snid = sorted((tmp_path / "snid_input").glob("*.dat"))
    assert len(snid) == int((survey.catalog.split == "test").sum())
    assert np.loadtxt(snid[0]).shape == (len(ds.SURVEY_WAVE), 2)


def test_arrays_cache(survey, bank, priors, tmp_path):
    s = sv.make_survey(seed=3, scale=0.01, bank=bank, priors=priors)
    ds.write_survey(s, tmp_path)
    X = ds.load_survey(tmp_path).arrays()[0]
    cache = tmp_path / "arrays.npz"
    assert cache.exists()
    stamp = cache.stat().st_mtime_ns
    np.testing.assert_array_equal(ds.load_survey(tmp_path).arrays()[0], X)
    assert cache.stat().st_mtime_ns == stamp          # reused, not recomputed
    changed = ds.load_survey(tmp_path)
    changed.flux[0] *= 2.0                            # different data: different checksum, cache not used
    assert changed.checksum() != ds.load_survey(tmp_path).checksum()


def test_rewrite_removes_old_spectra(bank, priors, tmp_path):
    ds.write_survey(sv.make_survey(seed=4, scale=0.01, bank=bank, priors=priors), tmp_path)
    s = sv.make_survey(seed=5, scale=0.01, bank=bank, priors=priors)
    ds.write_survey(s, tmp_path)
    assert len(list((tmp_path / "spectra").glob("*.ascii"))) == len(s)


def test_load_survey_errors(survey, tmp_path):
    with pytest.raises(SpectrumError, match="catalog"):
        ds.load_survey(tmp_path)
    ds.write_survey(survey, tmp_path)
    broken = tmp_path / survey.catalog["file"].iat[0]
    broken.write_text("# nothing here\n")
    with pytest.raises(SpectrumError, match=broken.name):
        ds.load_survey(tmp_path)


def test_cli(tmp_path, capsys, needs_data):
    needs_data("templates")  # the command reads the bank and the survey tables
    needs_data("surveys")
    assert sv.survey_cli(["--out", str(tmp_path / "s"), "--scale", "0.01", "--seed", "2", "--no-arrays"]) == 0
    out = capsys.readouterr().out
    assert "Survey(" in out and "SNIa" in out
    back = ds.load_survey(tmp_path / "s")
    assert back.info["seed"] == 2 and back.catalog["seed"].eq(2).all()
    with pytest.raises(SystemExit):
        sv.survey_cli(["--out", str(tmp_path / "x"), "--full", "--scale", "0.5"])
    with pytest.raises(SystemExit):
        sv.survey_cli([])


def test_export_examples(survey, tmp_path):
    paths = ds.export_examples(survey, tmp_path)
    assert paths
    for p in paths:
        meta = read_spectrum(p).meta
        assert meta["SPLIT"] == "test" and meta["format"] == "sedm"


def test_shipped_examples():
    shipped = sorted((Path(ds.__file__).parent / "examples").glob("*.ascii"))
    assert len(shipped) >= 5
    classes = [read_spectrum(p).meta["CLS"] for p in shipped]
    assert classes.count("SNIa") == 3 and {"H-rich CC SN", "H-poor CC SN", "Other"} <= set(classes)
    assert all(read_spectrum(p).meta["SPLIT"] == "test" for p in shipped)
