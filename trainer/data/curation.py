"""The reference's curated list of LandCover.ai tiles with low-quality masks: bundled, and named `reference`.

`fit --exclude-list reference` (or `data.exclude_list: reference`, as in run_5_10_curated.yaml) trains
without them; `evaluate` scores a split on all its tiles and without the curated ones, so the effect of
the curation shows once the real data is there.
"""
from __future__ import annotations

from pathlib import Path

REFERENCE = "reference"
REFERENCE_LIST = Path(__file__).with_name("reference_low_quality_tiles.tsv")


def exclude_list_path(value: str | Path | None) -> Path | None:
    """The list file a run names: `reference` is the bundled one, anything else a path."""
    if value is None or str(value) == "":
        return None
    return REFERENCE_LIST if str(value) == REFERENCE else Path(value)


def reference_tiles(split: str) -> list[str]:
    """The curated tile ids of one split ('train', 'val' or 'test')."""
    ids = []
    for line in REFERENCE_LIST.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) == 2 and fields[1] == split:
            ids.append(fields[0])
    return ids
