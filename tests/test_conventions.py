"""Wavelength-convention audit (issue 21, item 1): every step from a rest-frame template to the 209-bin network input
keeps wavelengths where they belong.

A half-bin slip anywhere (bin edges read as centres, a pixel grid off by half a pixel, an asymmetric kernel, a shift
applied as 1+z_new instead of (1+z_new)/(1+z_old)) moves every feature by ~13 A, i.e. ~0.002 in z at 6500 A: four
times the 0.0005 these tests allow. Each test isolates one step; `test_end_to_end_redshift` chains them all.
Noise-free throughout (ideal instrument, S/N 1e8), so every tolerance is a statement about geometry, not about noise.
"""
import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from sniascore.lnw import read_lnw
from sniascore.files import read_spectrum
from sniascore.simulate import SEDM_WAVE, SEDM_EDGES, SEDM_STEP, FINE_WAVE, IDEAL_INSTRUMENT, binning_matrix, lsf_fwhm
from sniascore.effects import simulate_sedm
from sniascore.preprocessing import GRID_WAVE, GRID_EDGES, BIN_WIDTH, N_BINS, to_grid, preprocess, preprocess_spectra
from sniascore.augmentation import shift_spectrum, plan_augmentation, redshift_bin_centres

Z_TOL = 0.0005
NOISE_FREE = dict(snr=1e8, **IDEAL_INSTRUMENT)
FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
WIDE = np.arange(2500.0, 10500.0, 0.5)          # a fine rest-frame grid for synthetic lines


def line_spectrum(centre, sigma=0.5, height=30.0, wave=WIDE):
    "Flat continuum 1 plus a narrow Gaussian emission line (line flux = height * sigma * sqrt(2 pi))."
    return wave, 1.0 + height * np.exp(-0.5 * ((wave - centre) / sigma) ** 2)


def moments(wave, excess):
    "(integral, centroid, sigma) of a line's excess over a uniform wavelength sampling."
    step = np.median(np.diff(wave))
    total = excess.sum() * step
    centroid = (wave * excess).sum() / excess.sum()
    return total, centroid, np.sqrt((excess * (wave - centroid) ** 2).sum() / excess.sum())


def near(wave, flux, centre, half_width):
    sel = np.abs(wave - centre) <= half_width
    return wave[sel], flux[sel]


# ---------------------------------------------------------------- 1. SNID .lnw files: log-lambda bin centres
def _lnw_header_grid(path):
    "Bin edges of an .lnw file's log grid, from its header line alone (w0 * exp(i * dlog), i = 0..nwave)."
    head = open(path).readline().split()
    nwave, w0, w1 = int(head[1]), float(head[2]), float(head[3])
    return w0 * np.exp(np.arange(nwave + 1) * np.log(w1 / w0) / nwave)


@pytest.mark.parametrize('bank, name', [('snid5', 'sn91T.lnw'), ('snid5', 'kcSb.lnw'), ('astrodash', 'PTF10bzf.lnw')])
def test_lnw_wavelengths_are_log_bin_centres(needs_data, bank, name):
    path = needs_data('templates', bank) / name
    edges = _lnw_header_grid(path)
    centres = np.sqrt(edges[:-1] * edges[1:])   # geometric centre; the arithmetic one differs by < 0.002 A here
    for s in read_lnw(path):
        i0 = int(np.argmin(np.abs(edges - s.wave[0])))  # nearest edge, only to index the bins
        i0 = i0 if abs(centres[i0] - s.wave[0]) < abs(centres[i0 - 1] - s.wave[0]) else i0 - 1
        expected = centres[i0:i0 + len(s.wave)]
        assert np.abs(s.wave - expected).max() < 0.01, 'wavelengths are not the log-bin centres'  # file has 2 decimals
        width = np.diff(edges)[i0:i0 + len(s.wave)]
        assert np.abs(s.wave - edges[i0:i0 + len(s.wave)]).min() > 0.4 * width.min(), 'wavelengths sit on bin edges'


# ---------------------------------------------------------------- 2. SEDM pixel centres
def test_sedm_pixel_grid_matches_real_files(needs_data):
    files = sorted(needs_data('sedm_real').glob('*.ascii'))
    on_grid = [s for s in map(read_spectrum, files) if len(s.wave) == len(SEDM_WAVE)]
    assert len(on_grid) >= 10
    for s in on_grid:
        assert np.abs(s.wave - SEDM_WAVE).max() < 0.06       # the files print one decimal
    assert np.allclose(0.5 * (SEDM_EDGES[:-1] + SEDM_EDGES[1:]), SEDM_WAVE)


@pytest.mark.parametrize('wave', [4000.0, 5001.0, 6563.0, 8500.0])
def test_binning_keeps_a_point_source_at_its_pixel_centroid(wave):
    "A delta function on the fine grid comes out of LSF + pixel binning with its centroid where it went in."
    j = int(np.argmin(np.abs(FINE_WAVE - wave)))
    response = binning_matrix().toarray()[:, j]
    total, centroid, sigma = moments(SEDM_WAVE, response)
    assert abs(centroid - FINE_WAVE[j]) < 0.05
    expected = np.hypot(lsf_fwhm(FINE_WAVE[j]) * FWHM_TO_SIGMA, SEDM_STEP / np.sqrt(12))
    assert sigma == pytest.approx(expected, rel=0.02)


# ---------------------------------------------------------------- 3. LSF centring in the simulator
@pytest.mark.parametrize('z', [0.0, 0.013, 0.066, 0.15])
@pytest.mark.parametrize('rest', [4861.3, 6562.8])
def test_simulated_narrow_line_stays_centred(z, rest):
    wave, flux = line_spectrum(rest)
    s = simulate_sedm(wave, flux, z, rng=0, **NOISE_FREE)
    w, f = near(s.wave, s.flux / np.median(s.flux) - 1.0, rest * (1 + z), 6 * SEDM_STEP)
    _, centroid, sigma = moments(w, f)
    assert abs(centroid - rest * (1 + z)) < 1.0                 # 1 A = 0.00015 in z at H-alpha
    assert sigma == pytest.approx(np.hypot(lsf_fwhm(rest * (1 + z)) * FWHM_TO_SIGMA, SEDM_STEP / np.sqrt(12)), rel=0.03)


# ---------------------------------------------------------------- 4. flux-conserving resampling
@pytest.mark.parametrize('centre', [5000.0, 5012.8, 5019.2, 6563.0])
def test_binning_matrix_conserves_line_flux_and_centroid(centre):
    line = 30.0 * np.exp(-0.5 * ((FINE_WAVE - centre) / 3.0) ** 2)
    binned = binning_matrix() @ line
    total_in, centroid_in, _ = moments(FINE_WAVE, line)
    total_out, centroid_out, _ = moments(SEDM_WAVE, binned)
    assert total_out == pytest.approx(total_in, rel=1e-3)
    assert abs(centroid_out - centroid_in) < 0.1


@pytest.mark.parametrize('centre', [5000.0, 5006.4, 5012.8, 5019.2])   # on an edge, a quarter, the centre, 3/4
def test_rebin_to_grid_conserves_line_flux_and_centroid(centre):
    "A line at the SEDM resolution (sigma 28 A) binned to 25.6 A keeps its flux and centroid; a 2 A one keeps its flux."
    for sigma, centroid_tol in ((28.0, 0.1), (2.0, BIN_WIDTH / 2)):    # an unresolved line: its bin's centre
        wave, flux = line_spectrum(centre, sigma=sigma)
        on_grid = to_grid(wave, flux, method='rebin')
        total, centroid, _ = moments(GRID_WAVE, on_grid - 1.0)
        assert total == pytest.approx(30.0 * sigma * np.sqrt(2 * np.pi), rel=1e-3)
        assert abs(centroid - centre) <= centroid_tol + 1e-9


@pytest.mark.parametrize('z', [0.02, 0.0437, 0.1])
def test_sedm_pixels_to_grid_keep_line_flux_and_centroid(z):
    "SEDM pixels (25.57 A) go to the 25.6 A grid by interpolation: a resolved line keeps its flux and position."
    wave, flux = line_spectrum(6562.8)
    s = simulate_sedm(wave, flux, z, rng=0, **NOISE_FREE)
    excess_pix = s.flux / np.median(s.flux) - 1.0
    excess_grid = to_grid(s.wave, s.flux) / np.median(s.flux) - 1.0
    t_pix, c_pix, _ = moments(*near(s.wave, excess_pix, 6562.8 * (1 + z), 8 * SEDM_STEP))
    t_grid, c_grid, _ = moments(*near(GRID_WAVE, excess_grid, 6562.8 * (1 + z), 8 * BIN_WIDTH))
    assert t_grid == pytest.approx(t_pix, rel=0.01)
    assert abs(c_grid - c_pix) < 1.0


# ---------------------------------------------------------------- 5. the 209-bin grid: centres, not edges
def test_grid_centres_and_edges():
    assert len(GRID_WAVE) == N_BINS and len(GRID_EDGES) == N_BINS + 1
    assert GRID_EDGES[0] == 3800.0 and np.allclose(np.diff(GRID_EDGES), BIN_WIDTH)
    assert np.allclose(GRID_WAVE, 0.5 * (GRID_EDGES[:-1] + GRID_EDGES[1:]))


@pytest.mark.parametrize('method', ['rebin', 'linear'])
def test_to_grid_of_the_wavelength_itself_gives_the_bin_centres(method):
    "The mean of lambda over a bin, and lambda interpolated at a bin's position, are both its centre."
    wave = np.arange(3700.0, 9300.0, 2.0 if method == 'rebin' else 25.57)
    assert np.allclose(to_grid(wave, wave, method=method), GRID_WAVE, atol=1e-6)


def test_a_box_filling_one_bin_lands_in_that_bin():
    wave = np.arange(3700.0, 9300.0, 0.05)
    k = 120
    box = ((wave >= GRID_EDGES[k]) & (wave < GRID_EDGES[k + 1])).astype(float)
    on_grid = to_grid(wave, box, method='rebin')
    assert on_grid[k] == pytest.approx(1.0, abs=0.01)
    assert np.abs(np.delete(on_grid, k)).max() < 0.01


# ---------------------------------------------------------------- 6. the augmentation's redshift shift
@pytest.mark.parametrize('z_old, z_new', [(0.05, 0.012), (0.02, 0.12), (0.1, 0.1004)])
def test_shift_spectrum_moves_lines_by_the_ratio_of_one_plus_z(z_old, z_new):
    wave, flux = line_spectrum(6562.8)
    s = simulate_sedm(wave, flux, z_old, rng=0, **NOISE_FREE)
    moved = shift_spectrum(s, z_old, z_new)
    _, c_old, _ = moments(*near(s.wave, s.flux / np.median(s.flux) - 1, 6562.8 * (1 + z_old), 6 * SEDM_STEP))
    _, c_new, _ = moments(*near(moved.wave, moved.flux / np.median(moved.flux) - 1, 6562.8 * (1 + z_new),
                                6 * SEDM_STEP * (1 + z_new) / (1 + z_old)))
    assert c_new / c_old == pytest.approx((1 + z_new) / (1 + z_old), abs=Z_TOL / 10)
    assert abs(c_new / 6562.8 - 1 - z_new) < Z_TOL / 5


def test_augmentation_targets_the_bin_centres():
    z = np.linspace(0.0, 0.14, 300)
    plan = plan_augmentation(z, rng=0, per_bin=5)
    new = plan[~plan.original]
    centres = redshift_bin_centres()
    assert np.all(np.abs(new.z_new.to_numpy() - centres[new.bin.to_numpy()]) <= 0.001 + 1e-12)
    assert np.allclose(centres[:3], [0.0005, 0.0015, 0.0025])


# ---------------------------------------------------------------- 7. end to end: template -> SEDM -> grid -> z
LN_GRID = np.log(GRID_WAVE)
LN_STEP = float(np.log(GRID_WAVE[1] / GRID_WAVE[0]))


def lsf_smoothed(wave, flux, resolution=100.0, step=1e-4):
    "A rest-frame template at the SEDM resolution: Gaussian FWHM lambda/R is a constant width in ln(lambda)."
    ln = np.arange(np.log(wave[0]), np.log(wave[-1]), step)
    sigma = lsf_fwhm(1.0, resolution) * FWHM_TO_SIGMA / step   # FWHM / lambda = 1/R, in units of the ln step
    return np.exp(ln), gaussian_filter1d(np.interp(ln, np.log(wave), flux), sigma, mode='nearest')


def cross_correlation(obs, ref, lags, use):
    "Normalised cross-correlation of two 209-bin arrays for shifts `lags` in ln(lambda); `use`: ref bins to use."
    out = np.empty(len(lags))
    for k, lag in enumerate(lags):
        x = LN_GRID + lag
        ok = use & (x >= LN_GRID[0]) & (x <= LN_GRID[-1])
        o, r = np.interp(x[ok], LN_GRID, obs), ref[ok]
        o, r = o - o.mean(), r - r.mean()
        out[k] = (o @ r) / np.sqrt((o @ o) * (r @ r))
    return out


def parabola_peak(values, lags):
    k = int(np.clip(np.argmax(values), 1, len(values) - 2))
    a, b, c = values[k - 1:k + 2]
    return lags[k] + 0.5 * (a - c) / (a - 2 * b + c) * (lags[1] - lags[0])


def recover_redshift(obs, wave, flux, z_max=0.2, iterations=3):
    """z of preprocessed `obs` (209,) by log-lambda cross-correlation with the template (wave, flux) preprocessed the
    same way: first against the rest-frame template, then (to take the continuum fit's window out of the comparison)
    against the template redshifted to the current estimate, for a small residual shift."""
    ref = preprocess(to_grid(wave, flux))[0].astype(float)
    lags = np.arange(0.0, np.log1p(z_max), LN_STEP / 10)
    z = np.expm1(parabola_peak(cross_correlation(obs, ref, lags, (GRID_WAVE >= wave[0]) & (GRID_WAVE <= wave[-1])), lags))
    small = np.arange(-2 * LN_STEP, 2 * LN_STEP + 1e-12, LN_STEP / 10)
    for _ in range(iterations):
        ref = preprocess(to_grid(wave * (1 + z), flux))[0].astype(float)
        use = (GRID_WAVE >= wave[0] * (1 + z)) & (GRID_WAVE <= wave[-1] * (1 + z))
        z = (1 + z) * np.exp(parabola_peak(cross_correlation(obs, ref, small, use), small)) - 1
    return float(z)


def near_max_template(path):
    spectra = read_lnw(path, fluxed=True)
    return spectra[int(np.argmin([abs(s.meta['age']) for s in spectra]))]


ZS = [0.01, 0.03, 0.05, 0.08, 0.1, 0.12, 0.15]


@pytest.mark.parametrize('name', ['sn91T.lnw', 'sn99ee.lnw'])   # both cover 3800/1.15 ... 9150 A at rest
def test_end_to_end_redshift(needs_data, name):
    tpl = near_max_template(needs_data('templates', 'snid5') / name)
    wave, flux = lsf_smoothed(tpl.wave, tpl.flux)
    residuals = []
    for z in ZS:
        s = simulate_sedm(tpl.wave, tpl.flux, z, rng=0, **NOISE_FREE)
        residuals.append(recover_redshift(preprocess_spectra(s)[0].astype(float), wave, flux) - z)
    residuals = np.array(residuals)
    assert np.abs(residuals).max() <= Z_TOL, dict(zip(ZS, residuals.round(5)))
    assert abs(residuals.mean()) <= Z_TOL / 4, residuals.mean()   # no common offset either


def test_end_to_end_after_augmentation_shift(needs_data):
    "A spectrum simulated at z_old and shifted by the augmentation to z_new is recovered at z_new."
    tpl = near_max_template(needs_data('templates', 'snid5') / 'sn91T.lnw')
    wave, flux = lsf_smoothed(tpl.wave, tpl.flux)
    s = simulate_sedm(tpl.wave, tpl.flux, 0.06, rng=0, **NOISE_FREE)
    for z_new in (0.02, 0.0555, 0.11):
        moved = shift_spectrum(s, 0.06, z_new)
        with warnings.catch_warnings():          # a shift to lower z leaves the red end of the grid uncovered
            warnings.simplefilter('ignore', UserWarning)
            assert abs(recover_redshift(preprocess_spectra(moved)[0].astype(float), wave, flux) - z_new) <= Z_TOL
