"""Write outputs so that a failure or a cancel never leaves a half-written file behind.

Every output is written to a temporary file beside it and moved into place only when the writing
succeeded; a failed write (a full disk, an I/O error) is an `OutputError` naming the output and
the cause, and everything half-written is removed. Without `overwrite` the move never replaces a
file that appeared meanwhile.

A hard kill (SIGKILL, a power cut) leaves the temporary files behind all the same; their names carry
the host and process that wrote them, so the next run writing into that folder removes those of
processes that no longer exist on this host, and leaves alone those still being written.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from .errors import OutputError, OutputExistsError
from .owners import alive, host_name, owner

SCRATCH_PREFIX = ".landcover-"
# errno values that mean the write itself failed, not the program
WRITE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EROFS, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# how GDAL, SQLite and the C library word a full disk or quota
_FULL_WORDING = re.compile(r"no space left|disk is full|disk full|quota exceeded|not enough space", re.I)
FULL_BELOW_BYTES = 1 << 20   # a failed write on a disk with less free space than this ran out of it
# what drivers write beside a file: SQLite's journals, GDAL's sidecar
DRIVER_COMPANIONS = ("", "-journal", "-wal", "-shm", ".aux.xml")
RESCAN_SECONDS = 60.0        # how long one look for dead runs' temporaries in a folder holds


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Fail early, with a message naming the path, when an output cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"Output '{path}' is a folder; give a file name inside it (e.g. '{path / 'landcover'}' "
                          "with the output's suffix).")
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"Output '{path}' already exists; choose another name or allow overwriting "
            "(--overwrite). The existing file was left untouched.")
    if not folder.is_dir():
        raise OutputError(f"Output folder '{folder}' does not exist; create it or pick another output path.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"Output folder '{folder}' is not writable; pick a folder you can write to.")
    return path


# Temporary names: atomic_output's `.STEM.HOST-PID.RANDOM.part.SUFFIXES` (and what drivers add to them,
# `-journal`, `.aux.xml`), temporary_folder's `.landcover-HOST-PID-RANDOM`.
_TEMPORARY = re.compile(r"^\..*\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)\.[A-Za-z0-9_]+\.part(\..*)?$")
_SCRATCH = re.compile(rf"^{re.escape(SCRATCH_PREFIX)}(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-.+$")
_scanned: dict[Path, float] = {}
_scanned_lock = threading.Lock()


def remove_stale_temporaries(folder: str | os.PathLike, rescan: bool = True) -> list[Path]:
    """Delete, in `folder`, the temporary files and folders that a process of this host that has ended
    left behind (whatever output they were for); returns what was removed. `rescan=False` skips a
    folder looked at in the last RESCAN_SECONDS (a run writing many files into one folder)."""
    folder = Path(folder) if str(folder) else Path(".")
    key = folder.resolve()
    with _scanned_lock:
        if not rescan and time.monotonic() - _scanned.get(key, -RESCAN_SECONDS) < RESCAN_SECONDS:
            return []
        _scanned[key] = time.monotonic()
    host, removed = host_name(), []
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.startswith(".")]
    except OSError:
        return []
    for entry in entries:
        found = _TEMPORARY.match(entry.name) or _SCRATCH.match(entry.name)
        if not found or found["host"] != host or alive(int(found["pid"])):
            continue
        path = Path(entry.path)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            removed.append(path)
    return removed


# Temporary path -> the output it becomes (atomic_output) or serves (temporary_folder), so that a
# writer given a temporary path names the user's file in its errors.
_DESTINATIONS: dict[Path, Path] = {}


def destination(path: str | os.PathLike) -> Path:
    """The output the user asked for that `path` (a temporary file, or a file in a scratch folder) is
    written for; `path` itself when it is no temporary."""
    path = Path(path)
    for candidate in (path, *list(path.parents)[:3]):
        if candidate in _DESTINATIONS:
            return destination(_DESTINATIONS[candidate])
    return path


@contextlib.contextmanager
def temporary_folder(beside: str | os.PathLike) -> Iterator[str]:
    """A scratch folder in `beside`'s folder (same disk as the outputs), removed when done; one a killed
    run left there is removed by the next."""
    folder = Path(beside).parent if str(Path(beside).parent) else Path(".")
    remove_stale_temporaries(folder)
    try:
        scratch = tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{owner()}-", dir=folder)
    except OSError as error:
        raise write_failure(beside, error.strerror or str(error), error.errno) from None
    _DESTINATIONS[Path(scratch.name)] = Path(beside)
    try:
        with scratch as name:
            yield name
    finally:
        _DESTINATIONS.pop(Path(scratch.name), None)


def write_failure(path: str | os.PathLike, cause: str, number: int | None = None) -> OutputError:
    """The error for a write to `path` (or to a temporary file of it) that failed: a full disk said as
    such, the cause in one line, and whether an earlier version of the output is still there."""
    final = destination(path)
    folder = final.parent if str(final.parent) else Path(".")
    cause = " ".join(cause.split()) or "no details"
    kept = f"; the existing '{final.name}' is unchanged" if final.is_file() else ""
    if number in FULL_ERRNOS or _FULL_WORDING.search(cause) or _free_bytes(folder) < FULL_BELOW_BYTES:
        return OutputError(f"No space left on the disk while writing '{final}' ({cause}): free some space there or "
                           f"write the outputs to another disk. Nothing was written{kept}.")
    return OutputError(f"Writing '{final}' failed ({cause}). Nothing was written{kept}.")


def _free_bytes(folder: Path) -> float:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return float("inf")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False,
                  sidecars: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The temporary file keeps the final suffixes, so drivers that pick a format by extension
    (GDAL, OGR, Keras, which wants all of `.weights.h5`) behave as they will for the final name.
    `sidecars`: suffixes of files a driver writes beside its file (GDAL's `.aux.xml`), moved along
    (and an old output's removed). An OSError of the write itself (a full disk, an I/O error) becomes
    the OutputError naming the output.
    """
    final = check_writable(path, overwrite)
    suffixes = "".join(final.suffixes)
    folder = final.parent if str(final.parent) else Path(".")
    remove_stale_temporaries(folder, rescan=False)
    prefix = f".{final.name[:len(final.name) - len(suffixes)]}.{owner()}."
    try:
        handle, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=f".part{suffixes}", dir=folder)
    except OSError as error:
        raise write_failure(final, error.strerror or str(error), error.errno) from None
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers create it themselves; some refuse to open an existing empty file
    _DESTINATIONS[tmp] = final
    try:
        try:
            yield tmp
            if not tmp.exists():
                raise RuntimeError(f"Nothing was written for '{final}'.")
            _move_into_place(tmp, final, overwrite, sidecars)
        except OSError as error:
            if error.errno not in WRITE_ERRNOS:
                raise
            raise write_failure(final, error.strerror or str(error), error.errno) from None
    finally:
        _DESTINATIONS.pop(tmp, None)
        _remove_temporary(tmp)


def _move_into_place(tmp: Path, final: Path, overwrite: bool, sidecars: Sequence[str]) -> None:
    """Sidecars first (a reader of the new file finds its own), then the file; without `overwrite`
    a file that appeared at `final` while this one was written is never replaced."""
    if not overwrite:
        _refuse_if_taken(final)
    for suffix in sidecars:
        written, old = Path(f"{tmp}{suffix}"), Path(f"{final}{suffix}")
        if written.exists():
            os.replace(written, old)
        else:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
    if overwrite:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)   # fails if `final` exists: no window in which another file could be replaced
    except FileExistsError:
        _refuse_if_taken(final)
    except OSError:           # a file system without hard links
        _refuse_if_taken(final)
        os.rename(tmp, final)  # on Windows this too refuses an existing file
        return
    tmp.unlink()


def _refuse_if_taken(final: Path) -> None:
    if final.exists():
        raise OutputExistsError(f"Output '{final}' was created by another program while this run wrote it; it was "
                                "left untouched and this run's result discarded. Choose another name or allow "
                                "overwriting (--overwrite).")


def _remove_temporary(tmp: Path) -> None:
    """The temporary file and what drivers put beside it (SQLite's journals, GDAL's sidecar)."""
    for companion in DRIVER_COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            Path(f"{tmp}{companion}").unlink()


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    """`Path.write_text` through `atomic_output`: readers see the old text or the new, never half."""
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(text)
    return Path(path)


def make_folder(path: str | os.PathLike) -> Path:
    """`mkdir -p` whose failure (a full disk, a read-only one) is an OutputError naming the folder."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if error.errno not in WRITE_ERRNOS and not isinstance(error, (PermissionError, FileExistsError)):
            raise
        raise OutputError(f"Folder '{path}' could not be created ({error.strerror or error}); "
                          "pick a place you can write to.") from None
    return path
