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
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..files import atomic_write_text
from ..options import SegmentationOptions
from .blocks import Block

RUN_FILE = "run.json"
BLOCKS = "blocks"
# Options that do not change a block's classes: how fast it runs, and what the final vector pass does.
NOT_CLASSIFYING = ("batch_size", "device", "overwrite", "classes", "simplify", "min_area", "fill_holes",
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


class RunFolder:
    def __init__(self, path: str | Path, identity: dict, restart: bool = False):
        self.path = Path(path)
        self.blocks = self.path / BLOCKS
        record = self.path / RUN_FILE
        if restart and self.path.exists():
            shutil.rmtree(self.blocks, ignore_errors=True)
            record.unlink(missing_ok=True)
        if record.is_file():
            stored = json.loads(record.read_text())
            changed = _differences(stored, identity)
            if changed:
                raise InputError(f"Run folder '{self.path}' holds a run with another {', '.join(changed)}; "
                                 "start the same command to continue it, or add --restart to start over "
                                 "(its finished blocks are then deleted).")
        self.blocks.mkdir(parents=True, exist_ok=True)
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


def _differences(stored: dict, identity: dict) -> list[str]:
    """What differs, named for the user: 'model', 'set of sheets', 'option overlap', ..."""
    names = {"model": "model", "sheets": "set of sheets", "block_px": "block size"}
    changed = [name for key, name in names.items() if stored.get(key) != identity.get(key)]
    old, new = stored.get("options", {}), identity.get("options", {})
    changed += [f"option {key}" for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    return changed
