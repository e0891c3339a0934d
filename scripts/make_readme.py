"""Write README.md from nbs/index.ipynb (nbdev_readme needs quarto, which these machines lack).

`python scripts/make_readme.py --check` exits 1 when README.md is out of date.
"""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parents[1]
nb = nbformat.read(root / 'nbs' / 'index.ipynb', as_version=4)
nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith(('#| hide', '#|hide'))]
body, _ = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True).from_notebook_node(nb)
text = '\n'.join(line.rstrip() for line in body.strip().splitlines()) + '\n'
text = text.replace('\n\n\n', '\n\n')
readme = root / 'README.md'
if '--check' in sys.argv:
    if not readme.exists() or readme.read_text() != text:
        sys.exit('README.md is out of date: run python scripts/make_readme.py')
else:
    readme.write_text(text)
