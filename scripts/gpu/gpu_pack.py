"""Pack the chosen run for the trip back: model-only weights of every epoch (of every 2nd if all would not fit the
64 MB that comes back; always the last), in tars of < 15 MB."""
import sys, tarfile, shutil
from pathlib import Path
root, out = Path(sys.argv[1]), Path(sys.argv[2])
run = Path((root / "chosen.txt").read_text()) if (root / "chosen.txt").exists() else root / "fresh" / "regressor"
from sniascore.training import saved_epochs, load_epoch, epoch_path
import keras
epochs = saved_epochs(run)
SLIM_BYTES, ROOM = 190_000, 56_000_000  # a weights file without optimizer state; what 4 tars of < 15 MB hold
keep = epochs if len(epochs) * SLIM_BYTES < ROOM else sorted({e for e in epochs if e % 2 == 0} | {epochs[-1]})
slim = root / "slim"; slim.mkdir(exist_ok=True)
m = load_epoch(run, keep[0])  # one network, every epoch's weights loaded into it in turn
for e in keep:
    m.load_weights(epoch_path(run, e))
    m.save_weights(slim / f"epoch_{e:04d}.weights.h5")
# the run's state (resume needs the last full epoch file)
with tarfile.open(out / "state.tar", "w") as t:
    for name in ("config.json", "history.csv", "resume_state.npz", "target_epochs.txt", "sessions.jsonl"):
        if (run / name).exists():
            t.add(run / name, arcname=name)
    t.add(epoch_path(run, epochs[-1]), arcname=f"epochs/{epoch_path(run, epochs[-1]).name}")
    t.add(root / "chosen.txt", arcname="chosen.txt") if (root / "chosen.txt").exists() else None
part, size, k = None, 0, 0
for e in keep:
    f = slim / f"epoch_{e:04d}.weights.h5"
    if part is None or size + f.stat().st_size > 15_000_000:
        if part: part.close()
        k += 1; part = tarfile.open(out / f"slim{k}.tar", "w"); size = 0
    part.add(f, arcname=f"slim/{f.name}"); size += f.stat().st_size
if part: part.close()
print("packed", len(keep), "epochs of", len(epochs), "in", k, "tars; last", epochs[-1], flush=True)
