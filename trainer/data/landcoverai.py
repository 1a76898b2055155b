"""`python -m trainer data`: fetch LandCover.ai v1 and cut it into the official 512 px tiles.

The source is the official archive URL (downloaded resumably), an archive already on disk, or an
extracted folder (images/, masks/, train.txt, val.txt, test.txt) such as `python -m trainer synth`
writes. Every step skips what an earlier run finished, so an interrupted run simply continues.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import Iterator, Optional

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.files import atomic_output, atomic_write_text

from .tiles import TILE_SIZE, cut_tiles, read_id_list, tile_paths

OFFICIAL_URL = "https://landcover.ai.linuxpolska.com/download/landcover.ai.v1.zip"
ARCHIVE_SIZE_TEXT = "about 1.5 GB"
SPLITS = ("train", "val", "test")
EXTRACTED_MARKER = ".extracted.json"
CHUNK_BYTES = 1 << 20
READ_TIMEOUT_S = 60


class DownloadError(InputError):
    """The archive could not be fetched; the message says how to get it another way."""


def is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def archive_name(url: str) -> str:
    return Path(urllib.parse.urlparse(url).path).name or Path(urllib.parse.urlparse(OFFICIAL_URL).path).name


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        yield from iter(lambda: stream.read(CHUNK_BYTES), b"")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _crc32_of(path: Path) -> int:
    crc = 0
    for chunk in _chunks(path):
        crc = zlib.crc32(chunk, crc)
    return crc


DATASET_ARCHIVE = f"the archive ({ARCHIVE_SIZE_TEXT})"


def _offline_message(url: str, destination: Path, reason: object, what: str) -> str:
    return (f"Cannot download {url} ({reason}). Without network access, download {what} on another "
            f"machine and pass it with '--source /path/to/{destination.name}', or put it at '{destination}' "
            "and run this command again.")


def verify_archive(path: Path, sha256: Optional[str] = None) -> None:
    """Check the SHA-256 (when one is given) and every member's CRC."""
    if sha256:
        actual = sha256_of(path)
        if actual != sha256.strip().lower():
            raise InputError(f"Archive '{path}' has SHA-256 {actual}, not the expected {sha256}.")
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"Archive '{path}' is not a readable zip file ({error}).") from None
    if broken is not None:
        raise InputError(f"Archive '{path}' is corrupt (CRC check failed for '{broken}').")


def _content_range_total(header: Optional[str]) -> Optional[int]:
    """Total size from a Content-Range header ('bytes 0-99/1234' or 'bytes */1234')."""
    match = re.search(r"/(\d+)\s*$", header or "")
    return int(match.group(1)) if match else None


def _open_download(url: str, offset: int, destination: Path, what: str):
    """Open the URL from byte `offset`; returns (response or None when already complete, start, total)."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=READ_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:       # nothing left after `offset`: complete, or a stale .part
            total = _content_range_total(error.headers.get("Content-Range"))
            if total == offset:
                return None, offset, total
            return _open_download(url, 0, destination, what)
        raise DownloadError(f"Download of {url} failed: HTTP {error.code} {error.reason}. Check the URL, "
                            f"or download {what} by hand and pass '--source /path/to/{destination.name}'.")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise DownloadError(_offline_message(url, destination, getattr(error, "reason", error), what)) from None
    if response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        start = re.match(r"bytes\s+(\d+)", content_range)
        if not start or int(start.group(1)) != offset:   # not the piece asked for: start over
            response.close()
            return _open_download(url, 0, destination, what)
        return response, offset, _content_range_total(content_range)
    length = response.headers.get("Content-Length")    # a plain 200: the server ignored any range
    return response, 0, int(length) if length else None


def download(url: str, destination: str | Path, sha256: Optional[str] = None,
             what: str = DATASET_ARCHIVE) -> Path:
    """Download the zip archive at `url` to `destination`, resuming a `.part` file left by an
    interrupted run; `what` names the file in the messages that tell how to get it by hand.

    The file gets its final name only after its size, SHA-256 (when given) and zip CRCs check out.
    """
    from tqdm import tqdm

    destination = Path(destination)
    if destination.is_file():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    response, start, total = _open_download(url, offset, destination, what)
    if response is not None:
        with response, open(part, "ab" if start else "wb") as stream, \
                tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                     desc=destination.name) as progress:
            try:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    stream.write(chunk)
                    progress.update(len(chunk))
            except (OSError, http.client.HTTPException) as error:
                raise DownloadError(f"Download of {url} was interrupted ({error}) after {stream.tell():,} "
                                    "bytes; run the same command again to resume it.") from None
    size = part.stat().st_size
    if total is not None and size != total:
        if size > total:
            part.unlink()
            raise DownloadError(f"Download of {url} gave {size:,} bytes, more than the announced {total:,}; "
                                "the partial file was deleted, run the command again.")
        raise DownloadError(f"Download of {url} stopped at {size:,} of {total:,} bytes; run the same "
                            "command again to resume it.")
    try:
        verify_archive(part, sha256)
    except InputError as error:
        part.unlink()
        raise DownloadError(f"The file downloaded from {url} failed verification and was deleted; run the "
                            f"command again to download it afresh. {error}") from None
    os.replace(part, destination)
    return destination


def _dataset_prefix(names: list[str], archive: Path) -> str:
    """Folder inside the archive that holds images/ and masks/ ('' at the top level)."""
    for name in names:
        match = re.match(r"^(.*?)images/[^/]+\.tiff?$", name, re.IGNORECASE)
        if match and any(n.startswith(match.group(1) + "masks/") for n in names):
            return match.group(1)
    raise InputError(f"Archive '{archive}' holds no images/ and masks/ folders; it is not a LandCover.ai archive.")


def extract_member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> None:
    """Write one member to `target` unless the same file (size and CRC) is there already: a file of
    another archive with the same name and size (checkpoints of one network are all alike in size) is
    replaced. zipfile checks the member's CRC while reading it (BadZipFile), and the file gets its
    name only once complete."""
    if target.is_file() and target.stat().st_size == member.file_size and _crc32_of(target) == member.CRC:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, overwrite=True) as temporary, zipped.open(member) as source, \
            open(temporary, "wb") as sink:
        shutil.copyfileobj(source, sink, CHUNK_BYTES)


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
        archive = download(source, root / archive_name(source), sha256)
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
