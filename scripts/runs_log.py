"""Write the generated part of `runs/README.md`, the dated log of training runs, from the runs themselves.

The method notebooks say how a model is trained; which machine trained which epochs, and when, is history and lives
here. The tables are read from `runs/shipped/*/sessions.jsonl` (the run behind the shipped default) and
`runs/paper/*/sessions.jsonl` (the paper-recipe model, `--model paper`), one line per stretch of training, written by
`sniascore train`, and from `nbs/cache/crossval_summary*.json` (one entry per cross-validation fold, one file per
recipe); the notes below the markers are written by hand. `python scripts/runs_log.py --check` exits 1 when the file is out of date.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / 'runs' / 'README.md'
START, END = '<!-- runs log: start (python scripts/runs_log.py) -->', '<!-- runs log: end -->'


def session_rows(run: Path) -> list:
    "One row per stretch of epochs of `run`: started, epochs, processor, device, threads."
    sessions = [json.loads(line) for line in (run / 'sessions.jsonl').read_text().splitlines() if line.strip()]
    last = json.loads((run / 'config.json').read_text()).get('epochs') if (run / 'config.json').exists() else None
    rows = []
    for i, s in enumerate(sessions):
        end = sessions[i + 1]['first_epoch'] - 1 if i + 1 < len(sessions) else s.get('target_epoch', last)
        rows.append(f"| {s['started'][:16].replace('T', ' ')} | {s['first_epoch']}-{end} | {s.get('cpu', 'not recorded')} "
                    f"| {s.get('device', '')} | {s.get('threads', 'not recorded')} | keras {s.get('keras', '?')} |")
    return rows


def crossval_rows(path: Path) -> list:
    if not path.exists(): return []
    return [f"| {f['fold']} | {f['epochs']} (every {f['every']}) | {f['epoch']} | {f['seconds_per_epoch']:.1f} |"
            for f in json.loads(path.read_text())]


def generated() -> str:
    parts = [START]
    for model in ('shipped', 'paper'):
        for run in sorted((ROOT / 'runs' / model).iterdir()) if (ROOT / 'runs' / model).is_dir() else []:
            if not (run / 'sessions.jsonl').exists(): continue
            parts += ['', f'### `runs/{model}/{run.name}`', '', '| started (UTC) | epochs | processor | device | threads | versions |',
                      '|---|---|---|---|---|---|', *session_rows(run)]
    for path, recipe in ((ROOT / 'nbs' / 'cache' / 'crossval_summary.json', "the paper's recipe"),
                         (ROOT / 'nbs' / 'cache' / 'crossval_summary_fresh.json', 'fresh draws')):
        if (cv := crossval_rows(path)):
            parts += ['', f'### Cross-validation folds, {recipe} (`nbs/cache/{path.name}`, notebook `08b_crossval`)', '',
                      '| fold | schedule (epochs) | selected epoch | seconds per epoch |', '|---|---|---|---|', *cv]
    return '\n'.join(parts + ['', END])


def main() -> int:
    text = LOG.read_text()
    new = text[:text.index(START)] + generated() + text[text.index(END) + len(END):]
    if '--check' in sys.argv[1:]:
        if new != text: print(f'{LOG.relative_to(ROOT)} is out of date: run python scripts/runs_log.py'); return 1
        return 0
    LOG.write_text(new)
    return 0


if __name__ == '__main__':
    sys.exit(main())
