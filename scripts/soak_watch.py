"""Soak test of `sniascore watch --write-header` against a hostile writer (not a unit test: it runs for minutes).

A writer process delivers spectra into a folder for `--minutes` (default 2) while `sniascore watch --write-header`
runs on it: whole files, files written in two parts with a random pause in the middle (kept open all the while, as a
reduction pipeline does), files written under a temporary name and renamed, files overwritten under their name with
another spectrum, classified files renamed, and bad files (garbage, empty, binary, cut for good mid-row). At the end
it checks, and prints:

- every good spectrum is byte-identical to what the writer wrote, apart from the four SNIASCORE header lines;
- every file in the folder has exactly one current result (the state file's entry), and it belongs to the bytes on
  disk; the last row of the results log for the file is that result;
- nothing is lost or left behind: the folder holds exactly the files the writer left, and no temporary file.

Exit code 0 when every check holds, 1 otherwise.  Usage:

    python scripts/soak_watch.py [--minutes 2] [--spectra 200] [--passes 100] [--seed 0]
"""
import argparse, hashlib, json, os, random, shutil, signal, subprocess, sys, tempfile, time
from importlib.resources import files
from pathlib import Path

import pandas as pd


def sources() -> list:
    "Spectra to deliver: the package's simulated examples and, when present, the real SEDM spectra of the shared data."
    paths = sorted(Path(str(files('sniascore') / 'examples')).glob('*.ascii'))
    try:
        from sniascore.spectra import data_dir
        paths += sorted(data_dir('sedm_real').glob('*.ascii'))
    except FileNotFoundError:
        pass
    return [p.read_bytes() for p in paths]


BAD = {'garbage.txt': b'this is not a spectrum\n', 'empty.ascii': b'', 'binary.ascii': b'\x00\x01\x02' * 50}


def keys_removed(data: bytes) -> bytes:
    return b''.join(l for l in data.splitlines(keepends=True) if not l.lstrip().startswith(b'# SNIASCORE'))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Writer:
    "Delivers spectra into `inbox` and remembers what each final file must contain."

    def __init__(self, inbox: Path, rng: random.Random, spectra: list):
        self.inbox, self.rng, self.spectra = inbox, rng, spectra
        self.expected, self.counts = {}, dict.fromkeys(['whole', 'two_parts', 'renamed_in', 'overwritten',
                                                         'renamed_after', 'bad_written', 'cut_for_good'], 0)

    def _two_parts(self, path: Path, data: bytes):
        lines = data.splitlines(keepends=True)
        cut = self.rng.randint(1, len(lines) - 1)
        with open(path, 'wb') as f:
            f.write(b''.join(lines[:cut])); f.flush()
            time.sleep(self.rng.uniform(0.2, 3.0))
            f.write(b''.join(lines[cut:]))

    def deliver(self, i: int):
        r, data = self.rng.random(), self.rng.choice(self.spectra)
        name = f'ZTF{i:04d}.ascii'
        path = self.inbox / name
        good = [n for n, e in self.expected.items() if e is not None]
        if r < 0.55:
            path.write_bytes(data); self.counts['whole'] += 1
        elif r < 0.75:
            self._two_parts(path, data); self.counts['two_parts'] += 1
        elif r < 0.83:
            tmp = self.inbox / (name + '.part'); tmp.write_bytes(data); os.rename(tmp, path); self.counts['renamed_in'] += 1
        elif r < 0.88 and good:
            name = self.rng.choice(good); path = self.inbox / name
            data = self.rng.choice([s for s in self.spectra if s != self.expected[name]] or self.spectra)
            path.write_bytes(data); self.counts['overwritten'] += 1
        elif r < 0.93 and good:
            old = self.rng.choice(good)
            os.rename(self.inbox / old, path); data = self.expected.pop(old); self.counts['renamed_after'] += 1
        elif r < 0.97:
            bad_name, data = self.rng.choice(list(BAD.items()))
            path = self.inbox / f'{i:04d}_{bad_name}'; path.write_bytes(data); name = path.name
            self.expected[name] = None; self.counts['bad_written'] += 1; return
        else:
            lines = data.splitlines(keepends=True)
            path.write_bytes(b''.join(lines[:len(lines) // 2]) + lines[len(lines) // 2][:7])  # never finished
            self.expected[name] = None; self.counts['cut_for_good'] += 1; return
        self.expected[name] = data


def wait_until_done(inbox: Path, state_path: Path, timeout: float) -> bool:
    "Until every file in `inbox` has a state entry for its current bytes."
    t0 = time.time()
    while time.time() - t0 < timeout:
        try: state = json.loads(state_path.read_text())['files']
        except (OSError, ValueError, KeyError): state = {}
        names = [p.name for p in inbox.iterdir() if not p.name.startswith('.') and p.suffix != '.csv']
        if names and all(n in state and state[n].get('sha256') == sha((inbox / n).read_bytes()) for n in names):
            return True
        time.sleep(1.0)
    return False


def check(inbox: Path, writer: Writer, results: Path, state_path: Path) -> dict:
    "The figures of the soak test and the failures found."
    state = json.loads(state_path.read_text())['files']
    log = pd.read_csv(results)
    present = sorted(p.name for p in inbox.iterdir() if p.name not in (results.name, state_path.name))
    fails = []
    if sorted(writer.expected) != present: fails.append(f'files: expected {sorted(writer.expected)}, found {present}')
    n_good_identical = 0
    for name, data in writer.expected.items():
        now = (inbox / name).read_bytes() if (inbox / name).exists() else None
        if now is None: continue
        if data is not None:
            if keys_removed(now) == data and now.count(b'# SNIASCORE') == 4: n_good_identical += 1
            else: fails.append(f'{name}: not the bytes written plus the header keys')
        rec = state.get(name)
        if rec is None or rec.get('sha256') != sha(now): fails.append(f'{name}: no current result for its bytes'); continue
        rows = log[log['file'].map(lambda f: Path(f).name) == name]
        if rows.empty or str(rows['sha256'].iloc[-1]) != rec['classified_sha256']:
            fails.append(f'{name}: the last results row is not the current result')
    return dict(files=len(present), good_files=sum(d is not None for d in writer.expected.values()),
                good_byte_identical=n_good_identical, bad_files=sum(d is None for d in writer.expected.values()),
                results_rows=len(log), reclassified=int(len(log) - log['file'].nunique()),
                with_current_result=sum(1 for n in present if n in state), failures=fails)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, default=2.0)
    p.add_argument('--spectra', type=int, default=200)
    p.add_argument('--passes', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--keep', action='store_true', help='keep the folder')
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    inbox = Path(tempfile.mkdtemp(prefix='sniascore_soak_'))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
    watcher = subprocess.Popen([shutil.which('sniascore'), 'watch', str(inbox), '--write-header', '--passes',
                                str(args.passes), '--incomplete-wait', '5'], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    assert watcher.stdout.readline().startswith('watching'), watcher.stderr.read()
    writer, t0 = Writer(inbox, rng, sources()), time.time()
    pause = args.minutes * 60 / args.spectra
    for i in range(args.spectra):
        writer.deliver(i)
        ahead = t0 + (i + 1) * pause - time.time()              # keep to the schedule: --spectra in --minutes
        if ahead > 0: time.sleep(rng.uniform(0, 2 * ahead))
        print(f'\rdelivered {i + 1}/{args.spectra} ({time.time() - t0:.0f} s)', end='', file=sys.stderr, flush=True)
    print(file=sys.stderr)
    caught_up = wait_until_done(inbox, inbox / '.sniascore_watch.json', timeout=300)
    watcher.send_signal(signal.SIGTERM)
    watcher.communicate(timeout=120)
    figures = check(inbox, writer, inbox / 'sniascore_results.csv', inbox / '.sniascore_watch.json')
    figures.update(writer.counts, seconds=round(time.time() - t0), caught_up=caught_up,
                   temporary_files_left=len(list(inbox.glob('.*sniascore-tmp'))))
    for k, v in figures.items():
        if k != 'failures': print(f'{k:22s} {v}')
    for f in figures['failures'][:20]: print('FAIL', f)
    ok = caught_up and not figures['failures'] and not figures['temporary_files_left'] and watcher.returncode == 0
    print('soak test', 'passed' if ok else 'FAILED')
    if not args.keep: shutil.rmtree(inbox, ignore_errors=True)
    else: print('folder kept:', inbox)
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
