"""`python -m trainer data`: fetch LandCover.ai v1 and cut it into the official 512 px tiles.

The source is the official archive URL (downloaded resumably), an archive already on disk, or an
extracted folder (images/, masks/, train.txt, val.txt, test.txt) such as `python -m trainer synth`
writes. Every step skips what an earlier run finished, so an interrupted run simply continues.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Optional

from landcover_qgis_plugin.core.download import (  # noqa: F401 (DownloadError is re-exported)
    DownloadError, archive_name, extract_member, is_url, sha256_of)
from landcover_qgis_plugin.core.download import download as fetch
from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.files import atomic_output, atomic_write_text

from .tiles import TILE_SIZE, cut_tiles, read_id_list, tile_paths

OFFICIAL_URL = "https://landcover.ai.linuxpolska.com/download/landcover.ai.v1.zip"
OFFICIAL_ARCHIVE = OFFICIAL_URL.rsplit("/", 1)[1]
ARCHIVE_SIZE_TEXT = "about 1.5 GB"
DATASET_ARCHIVE = f"the archive ({ARCHIVE_SIZE_TEXT})"
SPLITS = ("train", "val", "test")
EXTRACTED_MARKER = ".extracted.json"


def download(url: str, destination: str | Path, sha256: Optional[str] = None,
             what: str = DATASET_ARCHIVE) -> Path:
    """core/download.py's resumable, checked download, with a progress bar on the terminal."""
    from tqdm import tqdm

    bar = None

    def progress(done: int, total: Optional[int]) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, initial=done, unit="B", unit_scale=True, unit_divisor=1024,
                       desc=Path(destination).name)
        bar.update(done - bar.n)

    try:
        return fetch(url, destination, sha256, what, progress=progress)
    finally:
        if bar is not None:
            bar.close()


def _dataset_prefix(names: list[str], archive: Path) -> str:
    """Folder inside the archive that holds images/ and masks/ ('' at the top level)."""
    for name in names:
        match = re.match(r"^(.*?)images/[^/]+\.tiff?$", name, re.IGNORECASE)
        if match and any(n.startswith(match.group(1) + "masks/") for n in names):
            return match.group(1)
    raise InputError(f"Archive '{archive}' holds no images/ and masks/ folders; it is not a LandCover.ai archive.")


def extract_dataset(archive: str | Path, root: str | Path, sha256: Optional[str] = None) -> Path:
    """Extract images/, masks/ and the split lists into `root`, skipping members already there.

    zipfile checks each member's CRC while reading it, and a member gets its final name only
    once fully written, so a corrupt archive or an interruption never leaves a bad file behind.
    """
    archive, root = Path(archive), Path(root)
    marker = root / EXTRACTED_MARKER
    stamp = {"archive": archive.name, "size": archive.stat().st_size}
    try:
        done = json.loads(marker.read_text())
    except (FileNotFoundError, ValueError):
        done = {}
    expected = sha256.strip().lower() if sha256 else None
    extracted = all((root / name).is_dir() and any((root / name).iterdir()) for name in ("images", "masks"))
    if extracted and done.get("stamp") == stamp and (not expected or done.get("sha256") == expected):
        return root
    digest = sha256_of(archive) if expected else None
    if expected and digest != expected:
        raise InputError(f"Archive '{archive}' has SHA-256 {digest}, not the expected {sha256}; "
                         "check that it is the right file.")
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            prefix = _dataset_prefix([m.filename for m in members], archive)
            wanted = re.compile(r"^(images/[^/]+\.tiff?|masks/[^/]+\.tiff?|(train|val|test)\.txt)$", re.IGNORECASE)
            for member in members:
                relative = member.filename[len(prefix):] if member.filename.startswith(prefix) else ""
                if not wanted.match(relative):
                    continue
                extract_member(zipped, member, root / relative)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as error:
        raise InputError(f"Archive '{archive}' is corrupt ({error}); delete it and download it again.") from None
    atomic_write_text(marker, json.dumps({"stamp": stamp, "sha256": digest}), overwrite=True)
    return root


def _check_dataset_folder(folder: Path) -> Path:
    missing = [name for name in ("images", "masks") if not (folder / name).is_dir()]
    if missing:
        raise InputError(f"'{folder}' has no {' or '.join(f'{m}/' for m in missing)} folder; a LandCover.ai "
                         "folder holds images/, masks/, train.txt, val.txt and test.txt.")
    return folder


def _install_lists(dataset: Path, root: Path) -> dict[str, list[str]]:
    """Copy the split lists next to the tiles; returns the ids each names."""
    lists = {}
    for split in SPLITS:
        source, target = dataset / f"{split}.txt", root / f"{split}.txt"
        if not source.is_file():
            raise InputError(f"'{source}' is missing; the dataset folder needs train.txt, val.txt and test.txt.")
        if source.resolve() != target.resolve() and (not target.is_file() or target.read_bytes() != source.read_bytes()):
            with atomic_output(target, overwrite=True) as temporary:
                shutil.copyfile(source, temporary)
        lists[split] = read_id_list(target)
    return lists


def prepare(source: str, root: str | Path, tile_size: int = TILE_SIZE, sha256: Optional[str] = None) -> dict:
    """Fetch or open `source`, cut its tiles into `<root>/output` and put the lists in `root`.

    Returns a summary: tile count, ids per split and the list ids that have no tile.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if is_url(source):
        archive = download(source, root / archive_name(source, OFFICIAL_ARCHIVE), sha256)
        dataset = extract_dataset(archive, root, sha256)
    elif Path(source).is_dir():
        if sha256:
            raise InputError("--sha256 checks an archive; the source given is a folder.")
        dataset = _check_dataset_folder(Path(source))
    elif Path(source).is_file():
        dataset = extract_dataset(source, root, sha256)
    else:
        raise InputError(f"Source '{source}' is not a URL, an archive or a folder; give the LandCover.ai "
                         f"URL, the path of landcover.ai.v1.zip, or a folder with images/ and masks/.")
    output = root / "output"
    tiles = cut_tiles(dataset / "images", dataset / "masks", output, tile_size)
    lists = _install_lists(dataset, root)
    missing = [tile for ids in lists.values() for tile in ids if not tile_paths(output, tile)[0].is_file()]
    return {"tiles": tiles, "splits": {split: len(ids) for split, ids in lists.items()}, "missing": missing}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "data", help="download LandCover.ai v1 and cut the official 512 px tiles",
        description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=OFFICIAL_URL,
                        help="archive URL, a downloaded .zip, or an extracted folder (default: the official URL)")
    parser.add_argument("--root", default="data/landcoverai",
                        help="where the archive, the tiles (output/) and the lists go (default: %(default)s)")
    parser.add_argument("--tile-size", type=int, default=TILE_SIZE,
                        help="tile size in pixels; the official lists assume %(default)s")
    parser.add_argument("--sha256", help="expected SHA-256 of the archive (checked when given)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = prepare(args.source, args.root, args.tile_size, args.sha256)
    counts = ", ".join(f"{split} {count}" for split, count in summary["splits"].items())
    print(f"{summary['tiles']} tiles in {Path(args.root) / 'output'}; lists: {counts}.")
    if summary["missing"]:
        print(f"warning: {len(summary['missing'])} listed tile(s) have no tile file (first: {summary['missing'][0]}); "
              f"the official lists assume --tile-size {TILE_SIZE}.", file=sys.stderr)
    return 0
