"""Tests of sniascore.preprocessing: LOESS against independent implementations, invariances, edge cases."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sniascore.preprocessing import (GRID_WAVE, N_BINS, CLIP, preprocess, preprocess_spectra, rloess, to_grid)
from sniascore.spectra import Spectrum, SpectrumError
from sniascore.files import read_spectrum

statsmodels_lowess = pytest.importorskip("statsmodels.nonparametric.smoothers_lowess").lowess
skmisc_loess = pytest.importorskip("skmisc.loess").loess


def noisy(m=209, seed=0, n=None):
    rng = np.random.default_rng(seed)
    x = np.arange(m, dtype=float)
    shape = (m,) if n is None else (n, m)
    return x, np.sin(x / 15) + 0.002 * x ** 1.2 + rng.normal(0, 0.3, shape)


def spectra_like(n, seed=0):
    "Positive gridded spectra: smooth continua times broad features, with noise."
    rng = np.random.default_rng(seed)
    continuum = (GRID_WAVE / 6000.0) ** rng.uniform(-3, 1, (n, 1))
    features = 1 + 0.3 * np.sin(GRID_WAVE / rng.uniform(80, 200, (n, 1)))
    return continuum * features * (1 + rng.normal(0, 0.05, (n, N_BINS)))


# --- rloess against statsmodels (degree 1) and skmisc / netlib loess (degree 2) -----------------------
@pytest.mark.parametrize("k", [15, 41, 63, 105, 209])
@pytest.mark.parametrize("iterations", [0, 1, 4])
def test_degree1_matches_statsmodels(k, iterations):
    x, y = noisy(seed=k)
    ours = rloess(y, k, degree=1, iterations=iterations)
    theirs = statsmodels_lowess(y, x, frac=k / len(x), it=iterations, delta=0, return_sorted=False)
    np.testing.assert_allclose(ours, theirs, atol=1e-10)


def test_degree1_matches_statsmodels_uneven_x():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(0, 100, 150))
    y = np.cos(x / 9) + rng.normal(0, 0.2, 150)
    ours = rloess(y, 45, x=x, degree=1, iterations=0)
    theirs = statsmodels_lowess(y, x, frac=45 / 150, it=0, delta=0, return_sorted=False)
    np.testing.assert_allclose(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("k", [21, 63, 105, 151])
def test_degree2_matches_skmisc_loess(k):
    x, y = noisy(seed=k)
    fit = skmisc_loess(x, y, span=(k + 0.5) / len(x), degree=2, family="gaussian", surface="direct")
    fit.fit()
    np.testing.assert_allclose(rloess(y, k, iterations=0), fit.outputs.fitted_values, atol=1e-9)


def test_degree2_matches_skmisc_loess_on_wavelengths():
    "Abscissae in Å (the grid itself) give the same smooth as indices."
    _, y = noisy(seed=5)
    fit = skmisc_loess(GRID_WAVE, y, span=63.5 / 209, degree=2, family="gaussian", surface="direct")
    fit.fit()
    np.testing.assert_allclose(rloess(y, 63, x=GRID_WAVE, iterations=0), fit.outputs.fitted_values, atol=1e-9)


def test_polynomials_are_reproduced():
    "A local quadratic fit reproduces any quadratic exactly, robust or not."
    x = np.arange(209.0)
    y = 3 - 0.02 * x + 1e-4 * x ** 2
    np.testing.assert_allclose(rloess(y, 0.3), y, atol=1e-9)
    np.testing.assert_allclose(rloess(y, 0.1, degree=2, iterations=0), y, atol=1e-9)


def test_robustness_ignores_outliers():
    x, y = noisy(seed=8)
    spiked = y.copy()
    spiked[[30, 100, 170]] += 50
    np.testing.assert_allclose(rloess(spiked, 0.3)[[30, 100, 170]], rloess(y, 0.3)[[30, 100, 170]], atol=0.15)


def test_span_fraction_and_points():
    _, y = noisy()
    np.testing.assert_allclose(rloess(y, 0.3), rloess(y, 63))   # ceil(0.3 * 209) = 63
    np.testing.assert_allclose(rloess(y, 62), rloess(y, 63))    # even spans are made odd on a uniform grid
    with pytest.raises(ValueError):
        rloess(y, 3)


def test_rloess_batch_equals_rows():
    _, Y = noisy(n=7)
    np.testing.assert_allclose(rloess(Y, 0.3, chunk=3), np.array([rloess(row, 0.3) for row in Y]), atol=1e-12)


# --- preprocess -----------------------------------------------------------------------------------------
def test_shape_dtype_and_single_spectrum():
    F = spectra_like(5)
    X = preprocess(F)
    assert X.shape == (5, N_BINS) and X.dtype == np.float32
    one = preprocess(F[2])
    assert one.shape == (1, N_BINS)
    np.testing.assert_allclose(one[0], X[2], atol=1e-6)


def test_output_is_centred_on_zero():
    X = preprocess(spectra_like(200, seed=1))
    assert abs(np.mean(X)) < 0.02
    assert np.all(np.abs(np.median(X, axis=1)) < 0.1)


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(1e-20, 1e20), seed=st.integers(0, 10_000))
def test_invariant_to_flux_scale(scale, seed):
    F = spectra_like(3, seed=seed)
    np.testing.assert_allclose(preprocess(F * scale), preprocess(F), atol=1e-5)


def test_batch_equals_one_by_one():
    F = spectra_like(40, seed=2)
    X = preprocess(F)
    np.testing.assert_allclose(X, np.vstack([preprocess(f) for f in F]), atol=1e-6)


def test_nan_and_nonpositive_rows():
    F = spectra_like(4, seed=3)
    F[1, 50] = np.nan
    F[3] = -F[3]
    with pytest.raises(SpectrumError, match=r"rows \[1, 3\]"):
        preprocess(F)
    X = preprocess(F, errors="nan")
    assert np.isnan(X[[1, 3]]).all() and np.isfinite(X[[0, 2]]).all()
    np.testing.assert_allclose(X[[0, 2]], preprocess(F[[0, 2]]), atol=1e-6)


def test_vanishing_continuum_stays_finite_and_clipped():
    "Flux going to zero and negative at the blue end: the floor and the clip keep the output bounded."
    flux = np.clip((GRID_WAVE - 4300) / 3000, -0.05, None) + np.random.default_rng(4).normal(0, 0.02, N_BINS)
    X = preprocess(flux)
    assert np.isfinite(X).all() and X.min() >= CLIP[0] and X.max() <= CLIP[1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=N_BINS, max_size=N_BINS))
def test_fuzz_any_finite_input_is_bounded_or_rejected(values):
    F = np.array(values)
    try:
        X = preprocess(F)
    except SpectrumError:
        with np.errstate(divide="ignore", over="ignore"):
            assert not np.median(F) > 0 or not np.isfinite(np.abs(F).max() / np.median(F))
        return
    assert np.isfinite(X).all() and X.min() >= CLIP[0] and X.max() <= CLIP[1]


# --- to_grid and preprocess_spectra -----------------------------------------------------------------
def test_to_grid_linear_and_rebin_agree_on_smooth_spectra():
    wave = np.linspace(3500, 9500, 3000)
    flux = np.exp(-((wave - 6000) / 1500) ** 2)
    np.testing.assert_allclose(to_grid(wave, flux, method="rebin"), to_grid(wave, flux, method="linear"), atol=2e-4)


def test_to_grid_rebin_conserves_flux():
    rng = np.random.default_rng(5)
    wave = np.linspace(3800, 9150.4, 5001)
    flux = rng.uniform(0, 1, wave.size)
    gridded = to_grid(wave, flux, method="rebin")
    np.testing.assert_allclose(gridded.sum() * 25.6, np.trapezoid(flux, wave), rtol=1e-10)


def test_to_grid_padding_is_reported():
    wave = np.linspace(4500, 8000, 100)
    gridded, padded = to_grid(wave, wave / 1000, return_mask=True)
    assert padded.sum() == np.sum((GRID_WAVE < 4500) | (GRID_WAVE > 8000))
    assert np.all(gridded[GRID_WAVE < 4500] == 4.5) and np.all(gridded[GRID_WAVE > 8000] == 8.0)


def test_to_grid_bad_input():
    with pytest.raises(SpectrumError, match="my.txt"):
        to_grid([1, 2, 3], [1, 2], name="my.txt")
    with pytest.raises(SpectrumError):
        to_grid([3, 2, 1], [1, 2, 3])
    with pytest.raises(SpectrumError):
        to_grid([1, 2, 3], [np.nan, np.nan, 1.0])


def test_real_sedm_spectra_need_no_padding(needs_data):
    files = sorted(needs_data("sedm_real").glob("*.ascii"))
    if not files:
        pytest.skip("no real SEDM spectra")
    spectra = [read_spectrum(f) for f in files]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # any padding warning would fail
        X, n_padded = preprocess_spectra(spectra, return_padded=True)
    assert X.shape == (len(files), N_BINS) and not n_padded.any() and np.isfinite(X).all()


def test_preprocess_spectra_names_bad_spectra_and_warns():
    wave = np.linspace(4200, 8800, 180)
    short = Spectrum(wave=wave, flux=np.ones(180), meta={"source": "short.txt"})
    with pytest.warns(UserWarning, match="short.txt"):
        X, n_padded = preprocess_spectra(short, return_padded=True)
    assert X.shape == (1, N_BINS) and n_padded[0] > 0
    negative = Spectrum(wave=wave, flux=-np.ones(180), meta={"source": "negative.txt"})
    with pytest.raises(SpectrumError, match="negative.txt"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        preprocess_spectra([short, negative])
