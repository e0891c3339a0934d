"""Write the notebook -> module table of CONTRIBUTING.md from the notebooks themselves, so the map cannot drift.

Each notebook's modules are its `#| default_exp` and any `#| export MODULE` of its cells; the description is the
`> ...` line under its title. `python scripts/contributing_map.py --check` exits 1 when CONTRIBUTING.md differs.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = '<!-- notebook map: start (python scripts/contributing_map.py) -->', '<!-- notebook map: end -->'


def notebook_row(path: Path) -> str | None:
    cells = json.loads(path.read_text())['cells']
    default, modules, summary = None, [], ''
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and not summary:
            found = re.search(r'^>\s*(.+)$', src, re.M)
            summary = found.group(1).strip() if found else ''
        if c['cell_type'] != 'code': continue
        if (m := re.match(r'\s*#\|\s*default_exp\s+(\S+)', src)): default = m.group(1)
        for m in re.finditer(r'^#\|\s*exports?\b[ \t]*(\S*)', src, re.M):
            mod = m.group(1) or default
            if mod and mod not in modules: modules.append(mod)
    if not modules: return None
    names = ', '.join(f'`sniascore.{m}`' for m in modules)
    return f'| `{path.stem}` | {names} | {summary} |'


def table() -> str:
    rows = [r for p in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb')) if (r := notebook_row(p))]
    return '\n'.join([START, '| notebook | module(s) | what |', '|---|---|---|', *rows, END])


def main() -> int:
    path = ROOT / 'CONTRIBUTING.md'
    text = path.read_text()
    if START not in text: sys.exit(f'{path}: no notebook map markers')
    new = text[:text.index(START)] + table() + text[text.index(END) + len(END):]
    if '--check' in sys.argv:
        if new != text: print('CONTRIBUTING.md notebook map is out of date: run python scripts/contributing_map.py'); return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
