"""Offline smoke build of the documentation: every notebook in nbs/ rendered to one HTML page in _docs/.

quarto (which `nbdev_docs` drives) cannot be installed on our CI machines, so CI renders the
notebooks' saved outputs with nbconvert instead and checks that each page exists, carries every
figure its notebook holds, and that every cell that draws a figure has it saved. `nbdev_docs`
builds the real site from the same notebooks wherever quarto is installed.
"""
import html, re, sys
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

root = Path(__file__).resolve().parents[1]
nbs, out = root / 'nbs', root / '_docs'
DIRECTIVE = re.compile(r'^\s*#\s*\|')


def displayed(nb):
    "The notebook as the docs show it: hidden cells dropped, nbdev directives stripped."
    nb = nbformat.from_dict(nb)
    keep = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == 'code' and any(re.match(r'^\s*#\s*\|\s*hide\b', l) for l in lines): continue
        if cell.cell_type == 'code': cell.source = '\n'.join(l for l in lines if not DIRECTIVE.match(l)).strip()
        keep.append(cell)
    nb.cells = keep
    return nb


def is_image(output):
    return 'image/png' in output.get('data', {}) or 'image/svg+xml' in output.get('data', {})


def n_figures(nb):
    "Number of image outputs in the cells the docs show."
    return sum(is_image(o) for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []))


def figures_missing(nb):
    "Cells of a raw notebook that draw a figure (plt.show(), suptitle) but carry no image: run with a non-inline backend."
    missing = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != 'code' or not re.search(r'plt\.show\(\)|\.suptitle\(', cell.source): continue
        if re.search(r'^\s*#\s*\|\s*(export|hide)', cell.source, re.M): continue  # definitions and hidden cells
        outputs = cell.get('outputs', [])
        images = sum(is_image(o) for o in outputs)
        skipped = any(o.get('output_type') == 'stream' and o.get('text', '').lstrip().startswith('no ') for o in outputs)
        if not images and not skipped: missing.append(k)  # a cell that drew nothing says why, with a line 'no ...'
    return missing


def main():
    out.mkdir(exist_ok=True)
    exporter = HTMLExporter(template_name='lab')
    pages, problems = [], []
    for path in sorted(nbs.glob('*.ipynb')):
        raw = nbformat.read(path, as_version=4)
        nb = displayed(raw)
        body, _ = exporter.from_notebook_node(nb)
        page = out / (path.stem + '.html')
        page.write_text(body, encoding='utf-8')
        want, got = n_figures(nb), body.count('data:image/png') + body.count('<svg')
        title = next((c.source.splitlines()[0].lstrip('# ') for c in nb.cells if c.cell_type == 'markdown' and c.source.strip()), path.stem)
        pages.append((page.name, title, want))
        if not page.exists() or page.stat().st_size == 0: problems.append(f'{page.name}: empty page')
        if got < want: problems.append(f'{page.name}: {got} figures rendered of {want} in the notebook')
        missing = figures_missing(raw)
        if missing: problems.append(f'{path.name}: cells {missing} draw a figure but have none saved '
                                    '(execute the notebook with the inline backend, not MPLBACKEND=Agg)')
        print(f'{page.name:32s} {page.stat().st_size/1e3:8.0f} kB  {want:3d} figures')
    links = '\n'.join(f'<li><a href="{n}">{html.escape(t)}</a> ({f} figures)</li>' for n, t, f in pages)
    (out / 'contents.html').write_text(f'<html><body><h1>sniascore</h1><ul>{links}</ul></body></html>', encoding='utf-8')
    n_nb = len(list(nbs.glob('*.ipynb')))
    if len(pages) != n_nb: problems.append(f'{len(pages)} pages for {n_nb} notebooks')
    if problems: sys.exit('docs smoke build failed:\n' + '\n'.join(problems))
    print(f'docs smoke build: {len(pages)} pages in {out.relative_to(root)}/')


if __name__ == '__main__': main()
