"""Resumable, checked download of a zip archive, and unpacking of single members, for large files
fetched on the user's request (the LandCover.ai archive, the reference's published weights).

A download goes to `<name>.part` and gets its final name only after its size, SHA-256 (when given)
and zip CRCs check out; an interruption or a cancel keeps the `.part`, and the next try resumes it
with an HTTP Range request. Every failure is a `DownloadError` saying how to get the file another
way, worded for the front-end that asked (`Wording`: the command line's flags or the dialog's
buttons). Standard library only, so the plugin ships it.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from .errors import Cancelled, InputError
from .files import atomic_output

CHUNK_BYTES = 1 << 20
READ_TIMEOUT_S = 60
Progress = Callable[[int, Optional[int]], None]   # (bytes so far, total bytes or None when unknown)


class DownloadError(InputError):
    """The archive could not be fetched; the message says how to get it another way."""


@dataclass(frozen=True)
class Wording:
    """How the messages tell a user to hand over a file fetched by hand (`{name}`: its file name) and
    to try again: the command line's flags by default."""
    by_hand: str = "pass it with '--source /path/to/{name}'"
    again: str = "run the same command again"


def is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def archive_name(url: str, fallback: str) -> str:
    """The file name the URL's path ends in, or `fallback` when it ends in none."""
    return Path(urllib.parse.urlparse(url).path).name or fallback


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


@dataclass(frozen=True)
class _Request:
    """One download and how its messages are worded."""
    url: str
    destination: Path
    what: str
    wording: Wording

    @property
    def by_hand(self) -> str:
        return self.wording.by_hand.format(name=self.destination.name)

    @property
    def again(self) -> str:
        return self.wording.again


def _open_download(request: _Request, offset: int):
    """Open the URL from byte `offset`; returns (response or None when already complete, start, total)."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(request.url, headers=headers),
                                          timeout=READ_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:       # nothing left after `offset`: complete, or a stale .part
            total = _content_range_total(error.headers.get("Content-Range"))
            if total == offset:
                return None, offset, total
            return _open_download(request, 0)
        raise DownloadError(f"Download of {request.url} failed: HTTP {error.code} {error.reason}. Check the URL, "
                            f"or download {request.what} by hand and {request.by_hand}.")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"Cannot download {request.url} ({reason}). Without network access, download "
                            f"{request.what} on another machine and {request.by_hand}, or put it at "
                            f"'{request.destination}' and {request.again}.") from None
    if response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        start = re.match(r"bytes\s+(\d+)", content_range)
        if not start or int(start.group(1)) != offset:   # not the piece asked for: start over
            response.close()
            return _open_download(request, 0)
        return response, offset, _content_range_total(content_range)
    length = response.headers.get("Content-Length")    # a plain 200: the server ignored any range
    return response, 0, int(length) if length else None


def _receive(request: _Request, response, part: Path, start: int, total: Optional[int],
             progress: Optional[Progress], is_cancelled: Optional[Callable[[], bool]]) -> None:
    """Append the response to the `.part` file, reporting progress and stopping on a cancel."""
    with response, open(part, "ab" if start else "wb") as stream:
        try:
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                stream.write(chunk)
                if progress is not None:
                    progress(stream.tell(), total)
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled()
        except (OSError, http.client.HTTPException) as error:
            raise DownloadError(f"Download of {request.url} was interrupted ({error}) after {stream.tell():,} "
                                f"bytes; {request.again} to resume it.") from None


def download(url: str, destination: str | Path, sha256: Optional[str] = None, what: str = "the archive",
             wording: Wording = Wording(), progress: Optional[Progress] = None,
             is_cancelled: Optional[Callable[[], bool]] = None) -> Path:
    """Download the zip archive at `url` to `destination`, resuming a `.part` file left by an
    interrupted run; `what` names the file in the messages that tell how to get it by hand.

    Nothing is fetched when `destination` exists. `progress` hears (bytes so far, total) after each
    chunk; `is_cancelled` turning true raises `Cancelled`, keeping the `.part` to resume.
    """
    destination = Path(destination)
    if destination.is_file():
        return destination
    request = _Request(url, destination, what, wording)
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    response, start, total = _open_download(request, offset)
    if response is not None:
        if progress is not None:
            progress(start, total)
        _receive(request, response, part, start, total, progress, is_cancelled)
    size = part.stat().st_size
    if total is not None and size != total:
        if size > total:
            part.unlink()
            raise DownloadError(f"Download of {url} gave {size:,} bytes, more than the announced {total:,}; "
                                f"the partial file was deleted, {request.again}.")
        raise DownloadError(f"Download of {url} stopped at {size:,} of {total:,} bytes; {request.again} to "
                            "resume it.")
    try:
        verify_archive(part, sha256)
    except InputError as error:
        part.unlink()
        raise DownloadError(f"The file downloaded from {url} failed verification and was deleted; "
                            f"{request.again} to download it afresh. {error}") from None
    os.replace(part, destination)
    return destination


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
