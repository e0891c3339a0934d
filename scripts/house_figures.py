"""The house at a glance: module lengths, exported-cell lengths, and exported cells without an example or test below.

Prints the figures that the maintainers' guide asks to keep small (issue 17: no module over ~400 lines, no exported
cell over ~40 lines, every exported cell followed by an example or a test). It reports; with `--strict` it exits 1
when a limit is exceeded.

    python scripts/house_figures.py [--strict] [--max-module 400] [--max-cell 40]
"""
import argparse, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_lengths() -> dict:
    return {p.name: sum(1 for _ in open(p)) for p in sorted((ROOT / 'sniascore').glob('*.py')) if p.name != '_modidx.py'}


def exported_cells() -> list:
    "(notebook, cell index, lines, followed by an example or test) for every exported cell."
    out = []
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        for i, c in enumerate(cells):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or not src.lstrip().startswith('#| export'): continue
            nxt = next((d for d in cells[i + 1:] if d['cell_type'] == 'code'), None)
            tested = nxt is not None and not ''.join(nxt['source']).lstrip().startswith('#| export')
            out.append((nb.stem, i, src.count('\n') + 1, tested))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--strict', action='store_true')
    ap.add_argument('--max-module', type=int, default=400)
    ap.add_argument('--max-cell', type=int, default=40)
    args = ap.parse_args(argv)
    mods, cells = module_lengths(), exported_cells()
    long_mods = {k: v for k, v in mods.items() if v > args.max_module}
    long_cells = [c for c in cells if c[2] > args.max_cell]
    untested = [c for c in cells if not c[3]]
    print(f'modules: {len(mods)}, over {args.max_module} lines: {len(long_mods)} '
          + ', '.join(f'{k} ({v})' for k, v in sorted(long_mods.items(), key=lambda kv: -kv[1])))
    print(f'exported cells: {len(cells)}, over {args.max_cell} lines: {len(long_cells)}, '
          f'without an example or test right below: {len(untested)}')
    by_nb = {}
    for nb, _, _, tested in cells: by_nb.setdefault(nb, [0, 0]); by_nb[nb][0] += 1; by_nb[nb][1] += not tested
    for nb, (n, u) in by_nb.items():
        longest = max(c[2] for c in cells if c[0] == nb)
        print(f'  {nb:20s} {n:3d} exported cells, {u:3d} untested, longest {longest} lines')
    return 1 if args.strict and (long_mods or long_cells or untested) else 0


if __name__ == '__main__':
    raise SystemExit(main())
