"""The run folder: what a distributed run is (inputs, model, options) and which blocks are finished.

Decisions (quoted in the README):

* **What a run is**: `run.json` records the sheets (path, size, modification time), the model file
  (path, size, SHA-256) and the options that change classes (not batch size, device or the vector
  options, which only the last, single pass uses). Starting the same command again continues the run;
  anything else that differs is refused, naming what changed (`--restart` starts over).
* **Finished** means the block's class GeoTIFF was moved into place (engine.py writes it atomically)
  and then its record `blocks/NAME.json` was written (atomically): a run killed at any moment finds
  every block either finished or not, and redoes only those that are not. Temporary files a kill left
  are removed by the next run (files.py).
* **Steps**: the sieving and vectorising tasks' results are kept in `steps/` (per set of vector
  options) as they finish, so a run stopped there redoes only the unfinished tasks; the folder goes
  once the GeoPackage is written.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import shutil
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..files import atomic_output, atomic_write_text, make_folder
from ..options import SegmentationOptions
from .blocks import Block

RUN_FILE = "run.json"
OUTPUTS_FILE = "outputs.json"   # the outputs its runs put in place, with their size and time
BLOCKS = "blocks"
STEPS = "steps"   # what the sieving and vectorising tasks finished, per set of vector options
# Options that do not change a block's classes: how fast it runs, and what the final vector pass does.
NOT_CLASSIFYING = ("batch_size", "device", "overwrite", "wait", "classes", "simplify", "min_area", "fill_holes",
                   "square_buildings", "max_vertices")


def fingerprint(sheets: Sequence[str], model_path: str, options: SegmentationOptions, block_px: int) -> dict:
    """What makes a run's blocks what they are."""
    model = Path(model_path)
    digest = hashlib.sha256()
    with open(model, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    sheet_records = []
    for sheet in sheets:
        path = Path(sheet)
        stat = path.stat() if path.is_file() else None
        sheet_records.append([str(path.resolve()) if stat else sheet, stat.st_size if stat else None,
                              stat.st_mtime_ns if stat else None])
    classifying = {key: value for key, value in dataclasses.asdict(options).items() if key not in NOT_CLASSIFYING}
    return {"sheets": sheet_records, "model": {"path": str(model.resolve()), "size": model.stat().st_size,
                                               "sha256": digest.hexdigest()},
            "options": json.loads(json.dumps(classifying)), "block_px": block_px}


def written_outputs(path: str | Path) -> set[Path]:
    """The outputs (resolved paths) that runs of the run folder at `path` moved into place and that are
    unchanged since: a run killed after writing its class raster, before its GeoPackage, goes on
    and may replace them."""
    try:
        record = json.loads((Path(path) / OUTPUTS_FILE).read_text())
    except (OSError, ValueError):
        return set()
    return {Path(name) for name, stat in record.items() if _stat_record(Path(name)) == stat}


def _stat_record(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


class RunFolder:
    def __init__(self, path: str | Path, identity: dict, restart: bool = False):
        self.path = Path(path)
        self.blocks = self.path / BLOCKS
        record = self.path / RUN_FILE
        if restart and self.path.exists():
            shutil.rmtree(self.blocks, ignore_errors=True)
            shutil.rmtree(self.path / STEPS, ignore_errors=True)
            record.unlink(missing_ok=True)
            (self.path / OUTPUTS_FILE).unlink(missing_ok=True)
        if record.is_file():
            stored = json.loads(record.read_text())
            changed = _differences(stored, identity)
            if changed:
                raise InputError(f"Run folder '{self.path}' holds a run with another {', '.join(changed)}; "
                                 "start the same command to continue it, or add --restart to start over "
                                 "(its finished blocks are then deleted).")
        make_folder(self.blocks)
        if not record.is_file():
            atomic_write_text(record, json.dumps(identity, indent=1), overwrite=True)

    def raster(self, block: Block) -> Path:
        return self.blocks / f"{block.name}.tif"

    def finished(self, block: Block) -> dict | None:
        """The block's record when it is finished, else None."""
        record = self.blocks / f"{block.name}.json"
        if record.is_file() and self.raster(block).is_file():
            return json.loads(record.read_text())
        return None

    def finish(self, block: Block, record: dict) -> None:
        atomic_write_text(self.blocks / f"{block.name}.json", json.dumps(record), overwrite=True)

    def steps(self, identity: dict) -> "Steps":
        """The finished sieving and vectorising tasks of the run's blocks for these (vector) options; those
        of other options are deleted (they were for another command)."""
        name = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
        root = self.path / STEPS
        if root.is_dir():
            for other in root.iterdir():
                if other.name != name:
                    shutil.rmtree(other, ignore_errors=True)
        return Steps(root / name)

    def written(self, output: str | Path) -> None:
        """`output` was moved into place by this run (see written_outputs)."""
        path = Path(output).resolve()
        outputs = {str(p): _stat_record(p) for p in written_outputs(self.path)}
        outputs[str(path)] = _stat_record(path)
        atomic_write_text(self.path / OUTPUTS_FILE, json.dumps(outputs, indent=1), overwrite=True)

    def finish_steps(self) -> None:
        """The output is written: the steps' files go (a rerun, with --overwrite, vectorises again)."""
        shutil.rmtree(self.path / STEPS, ignore_errors=True)


class Steps:
    """Task results kept in a folder as they finish, so a run killed while sieving or vectorising
    redoes only the tasks that had not finished. Pickled: they are this run's own files, as the
    results Dask itself pickles between processes."""

    def __init__(self, path: Path):
        self.path = path
        make_folder(path)
        self.reused = 0

    def get(self, name: str):
        """The result of task `name`, or None if it has not finished."""
        stored = self.path / f"{name}.pickle"
        if not stored.is_file():
            return None
        self.reused += 1
        return pickle.loads(stored.read_bytes())

    def put(self, name: str, result) -> None:
        with atomic_output(self.path / f"{name}.pickle", overwrite=True) as tmp:
            tmp.write_bytes(pickle.dumps(result))


def _differences(stored: dict, identity: dict) -> list[str]:
    """What differs, named for the user: 'model', 'set of sheets', 'option overlap', ..."""
    names = {"model": "model", "sheets": "set of sheets", "block_px": "block size"}
    changed = [name for key, name in names.items() if stored.get(key) != identity.get(key)]
    old, new = stored.get("options", {}), identity.get("options", {})
    changed += [f"option {key}" for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    return changed
