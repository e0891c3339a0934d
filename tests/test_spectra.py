"""Fuzz and edge-case tests for `sniascore.spectra`.

The contract under test: whatever bytes or numbers the readers are given, they either return a valid
`Spectrum` (float64, strictly increasing finite wavelengths in Angstrom, finite flux, at least
`MIN_POINTS` pixels, some overlap with 3800-9150 A) or raise `SpectrumError`. The only warning they may
emit is the documented `UserWarning` about wavelengths converted from nm or microns (and, for
`read_lnw(fluxed=True)`, about an epoch without continuum knots).
"""
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sniascore.spectra import MIN_POINTS, Spectrum, SpectrumError, data_dir
from sniascore.fits import read_fits
from sniascore.lnw import read_lnw
from sniascore.files import read_spectra, read_spectrum
from sniascore.writers import write_sedm_ascii

# SNIASCORE_FUZZ_EXAMPLES raises the number of examples for a deeper, slower local run
FUZZ = settings(max_examples=int(os.environ.get("SNIASCORE_FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=list(HealthCheck))
EXTENSIONS = [".ascii", ".txt", ".dat", ".flm", ".csv", ".asc", ".fits", ".fit", ".lnw", ""]
DOCUMENTED_WARNINGS = ("look like nm", "look like um", "no continuum knots")


def check_valid(spec):
    "The invariants every returned Spectrum must satisfy."
    assert isinstance(spec, Spectrum)
    assert spec.wave.dtype == np.float64 and spec.flux.dtype == np.float64
    assert len(spec) >= MIN_POINTS
    assert np.all(np.isfinite(spec.wave)) and np.all(np.isfinite(spec.flux))
    assert np.all(np.diff(spec.wave) > 0)
    assert spec.meta["coverage"] > 0
    if spec.var is not None:  # a bad variance is NaN (counted), never a wrong number; the flux is kept
        bad = np.isnan(spec.var)
        assert np.all(np.isfinite(spec.var[~bad])) and np.all(spec.var[~bad] >= 0)
        assert int(bad.sum()) == spec.meta.get("n_bad_variance", 0)


def read_contract(func, *args, **kwargs):
    "Call a reader: return its result or None after a SpectrumError; fail on any other exception or warning."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func(*args, **kwargs)
        except SpectrumError as e:
            assert str(e), "SpectrumError without a message"
            result = None
    for w in caught:
        assert issubclass(w.category, UserWarning) and any(d in str(w.message) for d in DOCUMENTED_WARNINGS), \
            f"undocumented warning {w.category.__name__}: {w.message}"
    if result is not None:
        for spec in result if isinstance(result, list) else [result]:
            check_valid(spec)
    return result


@pytest.fixture(scope="module")
def tmpdir_module():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.fixture(scope="module")
def sedm_files(needs_data):
    "The real SEDM spectra of the shared data (the tests that use them skip without it)."
    return sorted(needs_data("sedm_real").glob("*.ascii"))


@pytest.fixture(scope="module")
def templates(needs_data):
    "The template banks' folder of the shared data."
    return needs_data("templates")


# ---------------------------------------------------------------- fuzzing

@FUZZ
@given(content=st.binary(max_size=3000), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes_every_extension(tmpdir_module, content, ext):
    path = tmpdir_module / f"random{ext}"
    path.write_bytes(content)
    read_contract(read_spectrum, path)
    if ext == ".lnw":
        read_contract(read_lnw, path, fluxed=True)


special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e-300, 1e300, 5.0, 500.0, 0.5])
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), special)


@st.composite
def tables(draw):
    "Wavelength tables: random, sorted, reversed, with duplicates, or SEDM-like (nm/um scaled)."
    n = draw(st.integers(0, 60))
    kind = draw(st.sampled_from(["random", "sorted", "reversed", "duplicates", "sedm", "sedm_nm", "sedm_um"]))
    if kind.startswith("sedm"):
        wave = 3776.7 + 25.57 * np.arange(n)
        wave = wave / {"sedm": 1, "sedm_nm": 10, "sedm_um": 1e4}[kind]
    else:
        wave = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float)
        if kind == "sorted":
            wave = np.sort(wave)
        elif kind == "reversed":
            wave = np.sort(wave)[::-1]
        elif kind == "duplicates" and n > 1:
            wave = np.sort(np.r_[wave[: n // 2], wave[: n - n // 2]])
    flux = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float)
    ncol = draw(st.integers(2, 4))
    extra = [np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float) for _ in range(ncol - 2)]
    return [wave, flux, *extra]


@FUZZ
@given(cols=tables(), ext=st.sampled_from([".ascii", ".txt", ".dat", ".csv", ".flm"]),
       sep=st.sampled_from([" ", "\t", ",", "  "]), fortran=st.booleans(),
       comments=st.lists(st.sampled_from(["# comment", "; note", "# EXPTIME: 300", "# a b var", "wave flux err"]),
                         max_size=3))
def test_random_numeric_tables(tmpdir_module, cols, ext, sep, fortran, comments):
    rows = []
    for row in zip(*cols):
        text = sep.join(f"{v:.6e}" for v in row)
        rows.append(text.replace("e", "D") if fortran else text)
    path = tmpdir_module / f"table{ext}"
    path.write_text("\n".join(comments + rows) + "\n")
    read_contract(read_spectrum, path)
    read_contract(read_spectrum, tuple(cols[:3]))


@FUZZ
@given(cols=tables(), layout=st.sampled_from(["image", "image2d", "table", "table_loglam"]),
       crval=values, cdelt=values, logflag=st.booleans(), unit=st.sampled_from([None, "nm", "Angstrom", "um", "bogus", "Hz"]))
def test_random_fits(tmpdir_module, cols, layout, crval, cdelt, logflag, unit):
    wave, flux = cols[0], cols[1]
    path = tmpdir_module / "fuzz.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy may complain while *writing* odd values
        if layout.startswith("image"):
            data = flux if layout == "image" else np.vstack([flux, flux])
            hdu = fits.PrimaryHDU(data)
            for key, value in (("CRVAL1", crval), ("CDELT1", cdelt), ("DC-FLAG", int(logflag)), ("CUNIT1", unit)):
                if value is not None and not (isinstance(value, float) and not np.isfinite(value)):
                    hdu.header[key] = value
            hdu.writeto(path, overwrite=True)
        else:
            name = "LOGLAM" if layout == "table_loglam" else "WAVE"
            table = Table({name: wave, "FLUX": flux, "ERR": cols[2] if len(cols) > 2 else flux})
            if unit and layout == "table":
                table[name].unit = unit if unit != "bogus" else None
            table.write(path, overwrite=True)
    read_contract(read_spectrum, path)


@pytest.fixture(scope="module")
def fits_sources(tmpdir_module, sedm_files):
    "A FITS image and a FITS table made from a real SEDM spectrum."
    ref = read_spectrum(sedm_files[4])
    image = fits.PrimaryHDU(ref.flux)
    image.header.update({"CRVAL1": ref.wave[0], "CDELT1": 25.57, "CRPIX1": 1.0, "CUNIT1": "Angstrom"})
    image.writeto(tmpdir_module / "source_image.fits")
    Table({"wavelength": ref.wave, "flux": ref.flux, "var": ref.var}).write(tmpdir_module / "source_table.fits")
    return [tmpdir_module / "source_image.fits", tmpdir_module / "source_table.fits"]


@FUZZ
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.sampled_from("x-.9 \nD=E'")), max_size=4))
def test_mutated_real_files(tmpdir_module, sedm_files, templates, fits_sources, cut, flips):
    "Real SEDM, .lnw and FITS files, truncated at a random byte and with random characters replaced."
    for source in (sedm_files[4], templates / "snid5" / "sn94D.lnw", *fits_sources):
        text = bytearray(source.read_bytes())
        text = text[: max(1, int(len(text) * (0.5 + cut / 2)))]
        for where, char in flips:
            text[int(where * (len(text) - 1))] = ord(char)
        path = tmpdir_module / f"mutated{source.suffix}"
        path.write_bytes(bytes(text))
        read_contract(read_spectrum, path)
        if source.suffix == ".lnw":
            read_contract(read_lnw, path, fluxed=True)


# ---------------------------------------------------------------- edge cases

def test_empty_and_blank_files(tmp_path):
    for name, content in [("empty.txt", b""), ("blank.ascii", b"\n \n\t\n"), ("comments.dat", b"# only\n; comments\n")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(SpectrumError, match=name):
            read_spectrum(tmp_path / name)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SpectrumError, match="no such file"):
        read_spectrum(tmp_path / "nope.ascii")
    with pytest.raises(SpectrumError):
        read_spectrum(tmp_path)
    with pytest.raises(SpectrumError):
        read_spectrum(42)


def test_nm_and_micron_files_are_converted_with_warning(tmp_path, sedm_files):
    ref = read_spectrum(sedm_files[5])
    for unit, factor in (("nm", 10.0), ("um", 1e4)):
        path = tmp_path / f"spec_{unit}.txt"
        np.savetxt(path, np.c_[ref.wave / factor, ref.flux])
        with pytest.warns(UserWarning, match=f"look like {unit}"):
            spec = read_spectrum(path)
        assert spec.meta["wave_unit_converted"] == unit
        np.testing.assert_allclose(spec.wave, ref.wave, rtol=1e-6)


def test_truncated_sedm_file_mid_line(tmp_path, sedm_files):
    text = sedm_files[4].read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]  # e.g. '9175.4 3.456e-16 1.234e-31'
    cut_in_third = text.rstrip("\n")[: -(len(last) - last.rfind(" "))]  # last row keeps 2 columns
    cut_in_number = text.rstrip("\n")[:-8]  # last row ends inside the variance's exponent
    for i, cut in enumerate((cut_in_third, cut_in_number)):
        path = tmp_path / f"cut{i}.ascii"
        path.write_text(cut)
        with pytest.raises(SpectrumError, match=f"cut{i}.ascii: (last )?line"):
            read_spectrum(path)


def test_bad_tables_raise(tmp_path):
    w = np.linspace(4000, 9000, 50)
    cases = {
        "tiny.txt": np.c_[w[:5], np.ones(5)],
        "dup.txt": np.c_[np.r_[w[:25], w[24:49]], np.ones(50)],
        "unordered.txt": np.c_[np.r_[w[25:], w[:25]], np.ones(50)],
        "nanflux.txt": np.c_[w, np.full(50, np.nan)],
        "xray.txt": np.c_[w * 1e-6, np.ones(50)],  # 0.004-0.009: no unit fits, no overlap
        "one_column.txt": w[:, None],
    }
    for name, table in cases.items():
        np.savetxt(tmp_path / name, table)
        with pytest.raises(SpectrumError, match=name.replace(".", r"\.")):
            read_spectrum(tmp_path / name)
    (tmp_path / "words.txt").write_text("4000 1\n4010 1\nfoo bar\n")
    with pytest.raises(SpectrumError, match="line 3 is not numeric"):
        read_spectrum(tmp_path / "words.txt")


def test_bad_pixels_counted_and_decreasing_reversed(tmp_path):
    w = np.linspace(4000, 9000, 50)
    f = np.ones(50)
    f[[3, 7, 9]] = [np.nan, np.inf, -np.inf]
    np.savetxt(tmp_path / "bad.dat", np.c_[w[::-1], f, np.full(50, 0.1)])
    spec = read_spectrum(tmp_path / "bad.dat")
    assert spec.meta["n_bad_pixels"] == 3 and len(spec) == 47
    assert np.all(np.diff(spec.wave) > 0) and "reversed" in " ".join(spec.meta["notes"])
    np.testing.assert_allclose(spec.var, 0.01)  # third column of a generic table is a 1-sigma error


def test_third_column_conventions(tmp_path):
    w = np.linspace(4000, 9000, 50)
    np.savetxt(tmp_path / "v.ascii", np.c_[w, np.ones(50), np.full(50, 4.0)])
    assert np.allclose(read_spectrum(tmp_path / "v.ascii").var, 4.0)  # SEDM: variance
    np.savetxt(tmp_path / "e.dat", np.c_[w, np.ones(50), np.full(50, 4.0)])
    assert np.allclose(read_spectrum(tmp_path / "e.dat").var, 16.0)  # generic: error
    np.savetxt(tmp_path / "h.csv", np.c_[w, np.ones(50), np.full(50, 4.0)], delimiter=",",
               header="wave,flux,variance", comments="")
    assert np.allclose(read_spectrum(tmp_path / "h.csv").var, 4.0)  # header says variance
    np.savetxt(tmp_path / "i.dat", np.c_[w, np.ones(50), np.full(50, 4.0)], header="wave flux ivar")
    assert np.allclose(read_spectrum(tmp_path / "i.dat").var, 0.25)


def test_truncated_fits(tmp_path, sedm_files):
    ref = read_spectrum(sedm_files[6])
    hdu = fits.PrimaryHDU(np.tile(ref.flux, (40, 1)))
    hdu.header.update(CRVAL1=ref.wave[0], CDELT1=25.57, CRPIX1=1)
    hdu.writeto(tmp_path / "full.fits")
    raw = (tmp_path / "full.fits").read_bytes()
    for i, size in enumerate((100, 2880, 2880 + 500, len(raw) - 3000)):
        (tmp_path / f"trunc{i}.fits").write_bytes(raw[:size])
        with pytest.raises(SpectrumError, match=f"trunc{i}.fits"):
            read_spectrum(tmp_path / f"trunc{i}.fits")
    assert len(read_spectrum(tmp_path / "full.fits")) == len(ref)


def test_fits_without_wavelength_solution(tmp_path):
    fits.PrimaryHDU(np.ones(100)).writeto(tmp_path / "nowave.fits")
    with pytest.raises(SpectrumError, match="wavelength solution"):
        read_fits(tmp_path / "nowave.fits")
    Table({"X": np.ones(20), "Y": np.ones(20)}).write(tmp_path / "cols.fits")
    with pytest.raises(SpectrumError, match="no wavelength/flux columns"):
        read_fits(tmp_path / "cols.fits")


def test_fits_unit_from_header_overrides_guess(tmp_path):
    hdu = fits.PrimaryHDU(np.ones(200))
    hdu.header.update(CRVAL1=380.0, CDELT1=2.5, CRPIX1=1, CUNIT1="nm")
    hdu.writeto(tmp_path / "nm.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no guessing warning: the unit was declared
        spec = read_spectrum(tmp_path / "nm.fits")
    assert spec.wave[0] == pytest.approx(3800.0) and spec.wave[1] == pytest.approx(3825.0)


def test_all_sedm_files_round_trip(tmp_path, sedm_files):
    for source in sedm_files:
        spec = read_spectrum(source)
        out = write_sedm_ascii(spec, tmp_path / source.name)
        back = read_spectrum(out)
        np.testing.assert_allclose(back.wave, spec.wave, atol=0.051)
        np.testing.assert_allclose(back.flux, spec.flux, rtol=1e-4)
        if spec.var is not None:
            np.testing.assert_allclose(back.var, spec.var, rtol=1e-3)
        for key in ("OBJECT", "EXPTIME", "MJD_OBS"):
            assert back.meta.get(key) == spec.meta.get(key)
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


def test_write_refuses_too_fine_grid(tmp_path):
    spec = Spectrum(np.linspace(4000, 4001, 20), np.ones(20))
    with pytest.raises(SpectrumError):
        write_sedm_ascii(spec, tmp_path / "fine.ascii")
    assert not (tmp_path / "fine.ascii").exists()


def test_read_spectra_never_stops(tmp_path, sedm_files):
    (tmp_path / "bad.txt").write_text("garbage\n")
    (tmp_path / "empty.dat").write_text("")
    paths = [sedm_files[0], tmp_path / "bad.txt", tmp_path / "missing.ascii", tmp_path / "empty.dat", sedm_files[1]]
    spectra, failures = read_spectra(paths)
    assert len(spectra) == 2 and [Path(p).name for p, _ in failures] == ["bad.txt", "missing.ascii", "empty.dat"]
    assert all(Path(p).name in msg for p, msg in failures)


def test_folder_and_glob_expansion(tmp_path, needs_data, templates):
    from sniascore.files import spectrum_paths
    found = [Path(p) for p in spectrum_paths([str(needs_data("sedm_real")), str(templates / "snid5" / "sn9*.lnw")])]
    assert sum(p.suffix == ".ascii" for p in found) == 14 and sum(p.suffix == ".lnw" for p in found) > 10


def test_lnw_banks_and_malformed_file(templates):
    for bank, name in (("snid5", "sn94D.lnw"), ("astrodash", "sn00cx.lnw"),
                       ("sesn/templates_new", "sn2008ax.lnw")):
        flat = read_lnw(templates / bank / name)
        fluxed = read_lnw(templates / bank / name, fluxed=True)
        assert len(flat) == flat[0].meta["n_epochs"] == len(fluxed)
        for a, b in zip(flat, fluxed):
            check_valid(a)
            check_valid(b)
            assert a.meta["wmin"] == a.wave[0] and a.flux[0] != 0 and a.flux[-1] != 0
            assert abs(np.mean(b.flux) - 1) < 1e-9
    with pytest.raises(SpectrumError, match="11hs.lnw: malformed"):
        read_lnw(templates / "sesn" / "templates_williamson" / "11hs.lnw")
    first = read_spectrum(templates / "snid5" / "sn94D.lnw")
    assert first.meta["epoch"] == 0 and first.meta["type"] == "Ia"


def test_lnw_epoch_without_knots_warns(templates):
    path = templates / "sesn" / "templates_williamson" / "15dtg.lnw"
    with pytest.warns(UserWarning, match="no continuum knots"):
        spectra = read_lnw(path, fluxed=True)
    assert sum(not s.meta["fluxed"] for s in spectra) == 1


def test_data_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIASCORE_DATA", str(tmp_path))
    assert data_dir("x") == tmp_path / "x"
    monkeypatch.setenv("SNIASCORE_DATA", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="SNIASCORE_DATA"):
        data_dir()


def test_sedm_header_recognised_under_other_names(tmp_path, sedm_files):
    (tmp_path / "x_SEDM.txt").write_bytes(sedm_files[7].read_bytes())
    spec = read_spectrum(tmp_path / "x_SEDM.txt")
    assert spec.meta["format"] == "sedm" and np.array_equal(spec.var, read_spectrum(sedm_files[7]).var)
    spectra, failures = read_spectra(str(sedm_files[7]))  # a single path is not iterated character by character
    assert len(spectra) == 1 and not failures
