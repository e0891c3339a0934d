"Tests of sniascore.simulate and sniascore.effects: grid, line positions, host fraction, noise level, reproducibility, dust, bad input."
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from sniascore.spectra import Spectrum, SpectrumError
from sniascore.files import read_spectrum
from sniascore.writers import write_sedm_ascii
from sniascore.simulate import (SEDM_WAVE, IDEAL_INSTRUMENT, INSTRUMENT_DEFAULTS, cv_spectrum,
                                tde_spectrum, blackbody, add_continuum, binning_matrix, max_z_for_coverage,
                                filled_fraction)
from sniascore.effects import simulate_sedm, SEDM_EFFECTS, switch_off
from sniascore import simulate as sim

WAVE = np.arange(2500.0, 10500.0, 0.5)
FLAT = np.ones_like(WAVE)
SN_WAVE = np.arange(3000.0, 10000.0, 2.0)
SN_FLUX = blackbody(SN_WAVE, 11000.0)
GAL = (SN_WAVE, blackbody(SN_WAVE, 4500.0))


def test_grid():
    assert SEDM_WAVE.shape == (214,)
    assert SEDM_WAVE[0] == pytest.approx(3776.712)
    assert np.allclose(np.diff(SEDM_WAVE), 25.5708)
    spec = simulate_sedm(WAVE, FLAT, 0.05, rng=0, snr=10)
    assert isinstance(spec, Spectrum)
    assert np.array_equal(spec.wave, SEDM_WAVE)
    assert spec.var.shape == (214,) and np.all(spec.var > 0) and np.all(np.isfinite(spec.flux))


def test_binning_conserves_flux():
    K = binning_matrix()
    assert np.allclose(K @ np.ones(K.shape[1]), 1.0, atol=1e-3)


@pytest.mark.parametrize("z", [0.0, 0.02, 0.066, 0.1, 0.15])
def test_line_position(z):
    flux = FLAT + 30 * np.exp(-0.5 * ((WAVE - 6563.0) / 2.0) ** 2)
    spec = simulate_sedm(WAVE, flux, z, rng=1, snr=1e4, **IDEAL_INSTRUMENT)
    i = int(np.argmax(spec.flux))
    excess = spec.flux[i - 1:i + 2] - np.median(spec.flux)
    centroid = (spec.wave[i - 1:i + 2] * excess).sum() / excess.sum()
    assert abs(centroid - 6563.0 * (1 + z)) < 25.5708


@pytest.mark.parametrize("frac", [0.05, 0.3, 0.7])
def test_host_fraction(frac):
    kw = dict(IDEAL_INSTRUMENT, flux_scale=1.0)
    both = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=2, snr=1e6, host=GAL, host_fraction=frac, **kw)
    sn = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=2, snr=1e6, **kw)
    gal = simulate_sedm(*GAL, 0.05, rng=2, snr=1e6, **kw)
    coef, *_ = np.linalg.lstsq(np.stack([sn.flux, gal.flux], 1), both.flux, rcond=None)
    band = (SEDM_WAVE >= 5000) & (SEDM_WAVE <= 7000)
    assert (coef[1] * gal.flux[band]).mean() / both.flux[band].mean() == pytest.approx(frac, abs=0.01)
    assert both.meta["host_fraction"] == frac


@pytest.mark.parametrize("snr", [2.0, 8.0, 25.0])
def test_noise_level(snr):
    draws = np.stack([simulate_sedm(WAVE, FLAT, 0.03, rng=100 + i, snr=snr, **IDEAL_INSTRUMENT).flux
                      for i in range(300)])
    measured = np.median(draws.mean(0) / draws.std(0))
    assert measured == pytest.approx(snr, rel=0.1)
    one = simulate_sedm(WAVE, FLAT, 0.03, rng=7, snr=snr, **IDEAL_INSTRUMENT)
    assert np.median(one.flux.mean() / np.sqrt(one.var)) == pytest.approx(snr, rel=0.15)  # what var reports


def test_noise_shape_rises_at_both_ends():
    draws = np.stack([simulate_sedm(WAVE, FLAT, 0.0, rng=i, snr=10, **IDEAL_INSTRUMENT).var for i in range(5)])
    sig = np.sqrt(draws.mean(0))
    mid = sig[(SEDM_WAVE > 5500) & (SEDM_WAVE < 7000)].mean()
    assert sig[0] > 5 * mid and sig[-1] > 1.2 * mid


def test_reproducible_and_seed_dependent():
    kw = dict(snr=8, host=GAL, host_fraction=0.3, ebv_mw=0.05, ebv_host=0.1)
    a = simulate_sedm(SN_WAVE, SN_FLUX, 0.07, rng=42, **kw)
    b = simulate_sedm(SN_WAVE, SN_FLUX, 0.07, rng=np.random.default_rng(42), **kw)
    c = simulate_sedm(SN_WAVE, SN_FLUX, 0.07, rng=43, **kw)
    assert np.array_equal(a.flux, b.flux) and np.array_equal(a.var, b.var)
    assert a.meta["seed"] == 42 and "seed" not in b.meta
    assert np.abs(a.flux - c.flux).max() > 0.1 * np.median(a.flux)


@pytest.mark.parametrize("kind", ["ebv_mw", "ebv_host"])
def test_extinction_reddens(kind):
    def blue_red(e):
        s = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=3, snr=1e5, **{kind: e}, **IDEAL_INSTRUMENT)
        return s.flux[SEDM_WAVE < 5000].mean() / s.flux[SEDM_WAVE > 7500].mean()
    r = [blue_red(e) for e in (0.0, 0.1, 0.3)]
    assert r[0] > r[1] > r[2]


def test_truth_in_meta():
    truth = dict(cls="SNIa", type="Ia", template="sn2011fe", phase=3.0, host_template="kcSc")
    s = simulate_sedm(SN_WAVE, SN_FLUX, 0.04, rng=5, snr=12, host=GAL, host_fraction=0.2, ebv_mw=0.02,
                      truth=truth)
    for k, v in truth.items():
        assert s.meta[k] == v
    for k in ("z", "snr", "host_fraction", "ebv_mw", "ebv_host", "seed", "filled_fraction", "resolution"):
        assert k in s.meta
    assert truth == dict(cls="SNIa", type="Ia", template="sn2011fe", phase=3.0, host_template="kcSc")  # not mutated


def test_filled_fraction_and_coverage():
    short = SN_WAVE < 7400
    s = simulate_sedm(SN_WAVE[short], SN_FLUX[short], 0.05, rng=0, snr=10)
    expected = np.mean(SEDM_WAVE > SN_WAVE[short][-1] * 1.05)
    assert s.meta["filled_fraction"] == pytest.approx(expected)
    assert np.all(np.isfinite(s.flux))
    assert max_z_for_coverage(9500.0) == pytest.approx(9500.0 / SEDM_WAVE[-1] - 1)


def test_bad_input():
    with pytest.raises(SpectrumError, match="unknown"):
        simulate_sedm(WAVE, FLAT, 0.05, rng=1, snr=10, resolutoin=90)
    with pytest.raises(SpectrumError, match="snr"):
        simulate_sedm(WAVE, FLAT, 0.05, rng=1, snr=0)
    with pytest.raises(SpectrumError, match="host_fraction"):
        simulate_sedm(WAVE, FLAT, 0.05, rng=1, snr=10, host_fraction=0.2)
    with pytest.raises(SpectrumError, match="negative"):
        simulate_sedm(WAVE, np.sin(WAVE / 50), 0.05, rng=1, snr=10)  # a continuum-removed spectrum
    with pytest.raises(SpectrumError, match="increasing"):
        simulate_sedm(WAVE[::-1], FLAT, 0.05, rng=1, snr=10)
    with pytest.raises(SpectrumError, match="rng"):
        simulate_sedm(WAVE, FLAT, 0.05, rng="seed", snr=10)
    with pytest.raises(SpectrumError, match="redshift"):
        simulate_sedm(WAVE, FLAT, np.nan, rng=1, snr=10)


def test_flat_template_with_continuum():
    flat = 0.2 * np.sin(SN_WAVE / 80.0)
    s = simulate_sedm(SN_WAVE, add_continuum(SN_WAVE, flat, 9000.0), 0.03, rng=0, snr=10)
    assert np.median(s.flux) > 0


def test_generators():
    for gen in (cv_spectrum, tde_spectrum):
        w, f = gen(0)
        assert w.shape == f.shape and np.all(np.isfinite(f)) and np.median(f) == pytest.approx(1.0)
        assert np.array_equal(f, gen(0)[1]) and not np.array_equal(f, gen(1)[1])
        w, f, p = gen(np.random.default_rng(3), return_params=True)
        assert isinstance(p, dict) and p["temperature"] > 5000
        s = simulate_sedm(w, f, 0.0, rng=0, snr=10)
        assert np.all(np.isfinite(s.flux))


def test_write_sedm_ascii_roundtrip(tmp_path):
    s = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=9, snr=10, truth=dict(cls="SNIa"))
    path = write_sedm_ascii(s, tmp_path / "sim.ascii", header={"OBJECT": "sim", "Z": s.meta["z"]})
    back = read_spectrum(path)
    assert len(back.wave) == 214
    assert np.allclose(back.wave, SEDM_WAVE, atol=0.06)
    assert np.allclose(back.flux, s.flux, rtol=1e-3)
    assert np.allclose(back.var, s.var, rtol=1e-3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(z=st.floats(0.0, 0.3), snr=st.floats(1.0, 200.0), frac=st.floats(0.0, 0.9),
       ebv_mw=st.floats(0.0, 0.5), ebv_host=st.floats(0.0, 1.0), seed=st.integers(0, 2**31),
       resolution=st.floats(60.0, 150.0), tmax=st.floats(6000.0, 10000.0))
def test_fuzz_always_finite(z, snr, frac, ebv_mw, ebv_host, seed, resolution, tmax):
    keep = SN_WAVE < tmax
    s = simulate_sedm(SN_WAVE[keep], SN_FLUX[keep], z, rng=seed, snr=snr, host=GAL, host_fraction=frac,
                      ebv_mw=ebv_mw, ebv_host=ebv_host, resolution=resolution)
    assert np.all(np.isfinite(s.flux)) and np.all(np.isfinite(s.var)) and np.all(s.var > 0)
    assert 0.0 <= s.meta["filled_fraction"] <= 1.0


# --- the effect chain ------------------------------------------------------------------------------

def _before_effects(wave_rest, flux_rest, z, *, rng, snr, host=None, host_fraction=0.0, ebv_mw=0.0, ebv_host=0.0,
                    **instrument):
    "simulate_sedm as it was written before the effect chain (b8a28b0), frozen here as the reference: (flux, var, meta)."
    opt = sim._instrument_options(instrument)
    rng, seed = sim._as_generator(rng)
    wave_rest, flux_rest = sim._template_coverage(wave_rest, flux_rest, "template")
    rest = sim.FINE_WAVE / (1.0 + z)
    width = opt["edge_fit_width"]
    source = sim.resample_with_fill(wave_rest, flux_rest, rest, width)
    if ebv_host > 0:
        source = source * sim.dust_transmission(rest, ebv_host)
    mw = 10.0 ** (-0.4 * ebv_mw * sim.MW_CURVE) if ebv_mw > 0 else 1.0
    source = source * mw
    total = source
    if host is not None and host_fraction > 0:
        host_wave, host_flux = sim._template_coverage(host[0], host[1], "host template")
        galaxy = sim.resample_with_fill(host_wave, host_flux, rest, width) * mw
        src_band, gal_band = sim._band_mean(source, opt["host_band"]), sim._band_mean(galaxy, opt["host_band"])
        total = source + galaxy * (host_fraction / (1.0 - host_fraction) * src_band / gal_band)
    tell = rng.normal(0.0, 1.0, 2) * (opt["telluric_a_sigma"], opt["telluric_b_sigma"])
    if tell.any():
        total = total * (1.0 + tell @ sim.TELLURIC_PROFILES)
    flux = sim.binning_matrix(opt["resolution"], opt["resolution_slope"]) @ total
    calib = rng.normal(0.0, opt["calib_sigma"], 3)
    edge_b, edge_r = rng.normal(0.0, 1.0, 2) * (opt["edge_blue_sigma"], opt["edge_red_sigma"])
    flux = flux * np.exp(calib @ sim.LEGENDRE_BASIS + edge_b * sim.BLUE_RAMP + edge_r * sim.RED_RAMP)
    flux = flux * (opt["flux_scale"] / sim._median(flux))
    blue_scale, red_scale = np.exp(rng.normal(0.0, 1.0, 2) * (opt["noise_blue_jitter"], opt["noise_red_jitter"]))
    shape = sim.actual_noise_shape(SEDM_WAVE, blue_scale, red_scale)
    sigma = shape * (sim._median(np.abs(flux) / shape) / snr)
    sky = sim.sky_line_profiles(opt["resolution"], opt["resolution_slope"]) @ rng.normal(0.0, opt["sky_sigma"], 25)
    kernel = sim.noise_kernel(opt["noise_correlation"])
    noise = np.convolve(rng.standard_normal(214 + len(kernel) - 1), kernel, mode="valid")
    observed = flux + sigma * (noise + sky)
    n_cosmic = int(rng.poisson(opt["cosmic_rate"]))
    if n_cosmic:
        hit = rng.integers(0, 214, n_cosmic)
        observed[hit] += rng.uniform(*opt["cosmic_range"], n_cosmic) * sigma[hit]
    cover = wave_rest[[0, -1]] * (1.0 + z)
    meta = dict(filled_fraction=float(((SEDM_WAVE < cover[0]) | (SEDM_WAVE > cover[1])).mean()),
                calib_edge_blue=float(edge_b), calib_edge_red=float(edge_r), telluric_a=float(tell[0]),
                telluric_b=float(tell[1]), noise_blue_scale=float(blue_scale), noise_red_scale=float(red_scale),
                n_cosmic=n_cosmic)
    return observed, sigma ** 2, meta


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(z=st.floats(0.0, 0.3), snr=st.floats(1.0, 200.0), frac=st.sampled_from([0.0, 0.1, 0.6]),
       ebv_mw=st.sampled_from([0.0, 0.02, 0.3]), ebv_host=st.sampled_from([0.0, 0.05, 0.8]),
       seed=st.integers(0, 2**31), cosmic_rate=st.sampled_from([0.05, 3.0]), resolution=st.floats(60.0, 150.0))
def test_all_effects_on_reproduce_the_old_path(z, snr, frac, ebv_mw, ebv_host, seed, cosmic_rate, resolution):
    "The chain with every effect on is the simulator as it was before it became a chain, bit for bit."
    kw = dict(snr=snr, host=GAL if frac else None, host_fraction=frac, ebv_mw=ebv_mw, ebv_host=ebv_host,
              cosmic_rate=cosmic_rate, resolution=resolution)
    new = simulate_sedm(SN_WAVE, SN_FLUX, z, rng=seed, **kw)
    flux, var, meta = _before_effects(SN_WAVE, SN_FLUX, z, rng=seed, **kw)
    assert np.array_equal(new.flux, flux) and np.array_equal(new.var, var)
    assert {k: new.meta[k] for k in meta} == meta


def test_switched_off_effect_keeps_the_other_draws():
    full = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=4, snr=10, cosmic_rate=5.0)
    no_cr = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=4, snr=10, cosmic_rate=5.0, effects=switch_off("cosmic_rays"))
    hit = full.flux != no_cr.flux
    assert 0 < hit.sum() <= full.meta["n_cosmic"] and no_cr.meta["n_cosmic"] == 0
    assert np.all(full.flux[hit] > no_cr.flux[hit]) and np.array_equal(full.var, no_cr.var)
    assert no_cr.meta["effects"].split(",") == [e.name for e in SEDM_EFFECTS if e.name != "cosmic_rays"]
    quiet = simulate_sedm(SN_WAVE, SN_FLUX, 0.05, rng=4, snr=10, effects=switch_off("noise", "sky", "cosmic_rays"))
    assert np.median(quiet.flux) == pytest.approx(INSTRUMENT_DEFAULTS["flux_scale"], rel=0.02)
    with pytest.raises(SpectrumError, match="no effect"):
        switch_off("dust")


def test_filled_fraction_counts_pixels_outside_coverage():
    rng = np.random.default_rng(1)
    lo, hi, z = rng.uniform(2500, 5000, 300), rng.uniform(6000, 11000, 300), rng.uniform(0, 0.3, 300)
    n = np.searchsorted(SEDM_WAVE, lo * (1 + z)) + 214 - np.searchsorted(SEDM_WAVE, hi * (1 + z), side="right")
    assert np.array_equal(filled_fraction(lo, hi, z), n / 214)
    assert filled_fraction(lo[None, :], hi[None, :], np.array([[0.0], [0.1]])).shape == (2, 300)
