"""Tests of sniascore.augmentation (paper section 2.1): bin filling, wavelength shifts, provenance, determinism."""
import os
import warnings

import numpy as np
import pandas as pd
import pytest

from sniascore.augmentation import (augment_redshifts, augment_survey, augmented_arrays, plan_augmentation,
                                    precise_redshift, redshift_bin_centres, shift_spectrum, survey_training_rows)
from sniascore.preprocessing import preprocess_spectra
from sniascore.simulate import SEDM_WAVE
from sniascore.spectra import Spectrum

REST_LINE = 6355.0


def sn_like(z, seed):
    "An observed-frame SEDM-like spectrum with a deep feature at rest 6355 Å and mild noise."
    rng = np.random.default_rng(seed)
    rest = SEDM_WAVE / (1 + z)
    flux = (rest / 6000) ** -1.5 * (1 - 0.6 * np.exp(-0.5 * ((rest - REST_LINE) / 80) ** 2))
    flux = flux * (1 + rng.normal(0, 0.01, flux.size))
    return Spectrum(wave=SEDM_WAVE.copy(), flux=flux, var=np.full(flux.size, 1e-4), meta={"source": f"sim{seed}"})


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(0)
    z = np.round(rng.uniform(0.005, 0.125, 60), 4)
    return [sn_like(zi, i) for i, zi in enumerate(z)], z


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_precise_redshift():
    assert precise_redshift(["0.0652", "0.057", "0.07", "0.050", "0.1", "", "x", "-0.010", "6.5e-2"]).tolist() == \
        [True, True, False, True, False, False, False, False, True]
    assert precise_redshift([0.0652, 0.057, 0.07, 0.1, np.nan, -0.02]).tolist() == [True, True, False, False, False, False]


def test_every_bin_holds_per_bin(sample):
    _, z = sample
    plan = plan_augmentation(z, rng=0, per_bin=40)
    counts = plan[plan["bin"] >= 0].groupby("bin").size()
    assert len(counts) == len(redshift_bin_centres()) == 130
    assert (counts == 40).all() and len(plan) == 130 * 40 + np.sum(z >= 0.13)
    assert plan.attrs["empty_bins"] == []


def test_paper_defaults_give_about_13000(sample):
    _, z = sample
    plan = plan_augmentation(z, rng=1)
    assert len(plan) == 13_000 and (plan.loc[plan.original, "source"] == np.arange(len(z))).all()


def test_candidates_and_new_redshifts(sample):
    _, z = sample
    plan = plan_augmentation(z, rng=2, per_bin=30)
    added = plan[~plan.original]
    centre = (added["bin"] + 0.5) * 0.001
    offset = added["z_old"] - centre
    assert ((offset >= -0.005 - 1e-12) & (offset <= 0.01 + 1e-12)).all()
    assert ((added["z_new"] - centre).abs() <= 0.001 + 1e-12).all() and (added["z_new"] >= 0).all()
    assert ((added["noise_fraction"] >= 0) & (added["noise_fraction"] <= 1)).all()


def test_candidates_used_evenly():
    z = np.array([0.050, 0.052, 0.054])
    plan = quiet(plan_augmentation, z, rng=3, per_bin=50, include_originals=False)
    for _, group in plan.groupby("bin"):
        uses = np.bincount(group["source"], minlength=3)
        candidates = np.flatnonzero((z >= (group["bin"].iloc[0] + 0.5) * 0.001 - 0.005 - 1e-12) &
                                    (z <= (group["bin"].iloc[0] + 0.5) * 0.001 + 0.01 + 1e-12))
        assert uses[candidates].max() - uses[candidates].min() <= 1


def test_empty_bins_are_reported_and_left_empty():
    z = np.array([0.06, 0.061])
    with pytest.warns(UserWarning, match="no candidate"):
        plan = plan_augmentation(z, rng=0, per_bin=5)
    filled = set(plan.loc[~plan.original, "bin"])
    assert filled and filled.isdisjoint(plan.attrs["empty_bins"])
    assert len(filled) + len(plan.attrs["empty_bins"]) == 130 - 0   # every bin is either filled or reported


def test_full_bins_get_no_copies():
    z = np.full(20, 0.0505)
    plan = quiet(plan_augmentation, z, rng=0, per_bin=10)
    assert not ((plan["bin"] == 50) & ~plan["original"]).any()


def test_wavelength_shift_moves_features(sample):
    spectra, z = sample
    out, z_new, source = quiet(augment_redshifts, spectra, z, rng=4, per_bin=3, return_source=True)
    for s, zn, i in list(zip(out, z_new, source))[::37]:
        np.testing.assert_allclose(s.wave, spectra[i].wave * (1 + zn) / (1 + z[i]), rtol=1e-12)
        inside = (s.wave > 6355 * (1 + zn) - 400) & (s.wave < 6355 * (1 + zn) + 400)
        trough = s.wave[inside][np.argmin(s.flux[inside] / np.median(s.flux))]
        assert abs(trough - REST_LINE * (1 + zn)) < 26          # within one SEDM pixel
        if s.meta.get("augmented"):
            assert s.meta["z"] == pytest.approx(zn) and s.meta["source_index"] == i
            assert s.meta["z_original"] == pytest.approx(z[i])


def test_shift_spectrum_exact():
    rest = 3001.0 + 2.0 * np.arange(3000)
    flux = 1 - 0.5 * np.exp(-0.5 * ((rest - REST_LINE) / 60) ** 2)
    moved = shift_spectrum(Spectrum(wave=rest * 1.08, flux=flux, var=np.ones_like(flux)), 0.08, 0.03,
                           noise_sigma=0.05, seed=1)
    assert moved.wave[np.argmin(flux)] == pytest.approx(REST_LINE * 1.03, rel=1e-12)
    assert np.std(moved.flux - flux) == pytest.approx(0.05, rel=0.1)
    np.testing.assert_allclose(moved.var, 1 + 0.05 ** 2)


def test_draws_only_given_spectra(sample):
    spectra, z = sample
    out, z_new, source = quiet(augment_redshifts, spectra, z, rng=5, per_bin=4, return_source=True)
    assert source.min() >= 0 and source.max() < len(spectra)
    for s, i in list(zip(out, source))[::11]:
        sigma = s.meta.get("noise_sigma", 0.0)
        resid = s.flux - spectra[i].flux
        assert np.all(np.abs(resid) <= 8 * sigma + 1e-15)      # the flux is the source's, plus the stated noise
    assert all(out[i] is spectra[i] for i in range(len(spectra)))   # originals first, unchanged


def test_deterministic(sample):
    spectra, z = sample
    a = quiet(augmented_arrays, spectra, z, rng=7, per_bin=3)
    b = quiet(augmented_arrays, spectra, z, rng=7, per_bin=3)
    c = quiet(augmented_arrays, spectra, z, rng=8, per_bin=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


def test_fast_path_equals_spectrum_path(sample):
    spectra, z = sample
    X, z_new, source, n_padded = quiet(augmented_arrays, spectra, z, rng=9, per_bin=3, return_padded=True)
    out, z_out, src_out = quiet(augment_redshifts, spectra, z, rng=9, per_bin=3, return_source=True)
    np.testing.assert_array_equal(z_new, z_out)
    np.testing.assert_array_equal(source, src_out)
    np.testing.assert_allclose(quiet(preprocess_spectra, out), X, atol=1e-6)
    assert X.dtype == np.float32 and X.shape == (len(out), 209) and n_padded.max() <= 2


def test_bad_inputs(sample):
    spectra, z = sample
    with pytest.raises(ValueError):
        augment_redshifts(spectra, z[:-1], rng=0)
    with pytest.raises(ValueError):
        plan_augmentation(np.array([0.05, -0.01]), rng=0)


class TinySurvey:
    "The part of the `Survey` interface the augmentation uses: `catalog` and `spectrum(i)`."

    def __init__(self, spectra, catalog):
        self.catalog, self._spectra = catalog, spectra

    def spectrum(self, i):
        return self._spectra[i]


def test_survey_uses_only_training_ia_with_precise_z(sample):
    spectra, z = sample
    n = len(spectra)
    catalog = pd.DataFrame(dict(split=np.array(["train", "validation", "test"])[np.arange(n) % 3],
                                is_ia=np.arange(n) % 5 != 0,
                                z=np.where(np.arange(n) % 7 == 0, np.round(z, 2), z)))
    survey = TinySurvey(spectra, catalog)
    usable = survey_training_rows(survey)
    assert set(catalog.split.iloc[usable]) == {"train"} and catalog.is_ia.iloc[usable].all()
    X, z_new, rows = quiet(augment_survey, survey, rng=0, per_bin=3)
    assert np.isin(rows, usable).all() and len(X) == len(z_new) == len(rows)
    out, _, rows2 = quiet(augment_survey, survey, rng=0, per_bin=3, as_arrays=False)
    np.testing.assert_array_equal(rows, rows2)


@pytest.mark.skipif(os.environ.get("SNIASCORE_FULL") != "1", reason="make_survey takes minutes; set SNIASCORE_FULL=1")
def test_with_make_survey(needs_data):
    from sniascore.survey import make_survey
    needs_data("templates")  # make_survey reads the bank and the survey tables
    needs_data("surveys")
    survey = make_survey(seed=0, scale=0.05)
    X, z_new, rows = quiet(augment_survey, survey, rng=0, per_bin=5)
    assert set(survey.catalog["split"].iloc[rows]) == {"train"} and survey.catalog["is_ia"].iloc[rows].all()
    assert np.isfinite(X).all()
