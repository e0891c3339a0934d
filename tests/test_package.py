"""Checks of the package as a whole: metadata, layout and import cost."""
import configparser, json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini')
    return cfg['DEFAULT']


def test_runtime_requirements_exclude_dev_tools():
    runtime = settings()['requirements'].lower().split()
    assert not [r for r in runtime if r.startswith(('nbdev', 'pytest', 'hypothesis', 'execnb'))]
    assert any(r.startswith('nbdev==2.4.14') for r in settings()['dev_requirements'].split())


def test_layout():
    for name in ['nbs', 'sniascore', 'settings.ini', 'setup.py', 'tests', '_quarto.yml', 'README.md', 'LICENSE', '.ci/run']:
        assert (ROOT / name).exists(), name


def test_every_notebook_exports_or_is_index():
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        if nb.name == 'index.ipynb': continue
        cells = json.loads(nb.read_text())['cells']
        assert any('default_exp' in ''.join(c['source']) for c in cells), f'{nb.name} exports no module'


def test_import_is_light():
    "Importing the package must not pull in TensorFlow: the CLI's quick commands stay quick."
    code = 'import sys, sniascore; print("tensorflow" in sys.modules, "keras" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ['False', 'False']


NIGHT_PATH = ['sniascore.classify', 'sniascore.headers', 'sniascore.watch', 'sniascore.modelfolder', 'sniascore.tns',
              'sniascore.plot', 'sniascore.commands', 'sniascore.cli']
# What may be imported at night: reading, preprocessing, the model and its decisions, and the outputs. A new module
# joins this list only if it belongs on that path; anything that trains, simulates or evaluates must stay out.
NIGHT_MODULES = {'sniascore', 'sniascore.spectra', 'sniascore.text', 'sniascore.fits', 'sniascore.lnw',
                 'sniascore.files', 'sniascore.preprocessing', 'sniascore.model',
                 'sniascore.metrics', 'sniascore.decisions', 'sniascore.classify', 'sniascore.headers',
                 'sniascore.watch', 'sniascore.cli', 'sniascore.modelfolder', 'sniascore.tns', 'sniascore.plot',
                 'sniascore.commands', 'sniascore.hostlines', 'sniascore._modidx'}
NEVER_AT_NIGHT = ['sniascore.training', 'sniascore.selection', 'sniascore.modelcard', 'sniascore.trainrun',
                  'sniascore.datasets', 'sniascore.simulate', 'sniascore.effects',
                  'sniascore.priors', 'sniascore.catalog', 'sniascore.survey', 'sniascore.templates',
                  'sniascore.template_bank', 'sniascore.augmentation', 'sniascore.evaluation', 'sniascore.redshifts',
                  'sniascore.baselines', 'sniascore.predictions', 'sniascore.young_sn2']


def _night_time_imports() -> list:
    code = ('import sys, importlib\n'
            f'for m in {NIGHT_PATH!r}: importlib.import_module(m)\n'
            'print(sorted(m for m in sys.modules if m == "sniascore" or m.startswith("sniascore.")))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    return eval(out)


def test_night_time_path_imports_no_training_data_or_simulation_code():
    "The layering: what runs on every spectrum at night imports only the night-time modules, none that trains or simulates."
    loaded = _night_time_imports()
    assert not set(loaded) & set(NEVER_AT_NIGHT), loaded
    assert set(loaded) <= NIGHT_MODULES, f'not night-time modules: {sorted(set(loaded) - NIGHT_MODULES)}'


def test_contributing_maps_every_notebook():
    "CONTRIBUTING.md's notebook table is generated from the notebooks (scripts/contributing_map.py)."
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'contributing_map.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    text = (ROOT / 'CONTRIBUTING.md').read_text()
    for nb in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb')):
        assert f'`{nb.stem}`' in text, nb.stem
