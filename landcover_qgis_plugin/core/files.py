"""Write outputs so that a failure or a cancel never leaves a half-written file behind.

A hard kill (SIGKILL, a power cut) leaves the temporary files behind all the same; their names carry
the host and process that wrote them, so the next run beside them removes those of processes that no
longer exist on this host, and leaves alone those still being written.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import OutputError, OutputExistsError


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Fail early, with a message naming the path, when an output cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"Output '{path}' already exists; choose another name or allow overwriting "
            "(--overwrite). The existing file was left untouched.")
    if not folder.is_dir():
        raise OutputError(f"Output folder '{folder}' does not exist; create it or pick another output path.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"Output folder '{folder}' is not writable; pick a folder you can write to.")
    return path


def _owner() -> str:
    """Who writes a temporary file: host and process, dots and dashes kept out of the host name."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # no permission: it exists
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike, prefix: str) -> list[Path]:
    """Delete, in `folder`, the temporary files and folders named `prefix`HOST-PID... that a process of
    this host that has ended left behind; returns what was removed."""
    folder = Path(folder) if str(folder) else Path(".")
    host = _owner().rsplit("-", 1)[0]
    removed = []
    for path in folder.glob(f"{prefix}{host}-*"):
        pid = path.name[len(prefix) + len(host) + 1:].split(".", 1)[0].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            removed.append(path)
    return removed


def temporary_folder(beside: str | os.PathLike) -> tempfile.TemporaryDirectory:
    """A scratch folder in `beside`'s folder (same disk as the outputs), removed when done; one a killed
    run left there is removed by the next."""
    folder = Path(beside).parent if str(Path(beside).parent) else Path(".")
    remove_stale_temporaries(folder, SCRATCH_PREFIX)
    return tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{_owner()}-", dir=folder)


SCRATCH_PREFIX = ".landcover-"


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The temporary file keeps the final suffixes, so drivers that pick a format by extension
    (GDAL, OGR, Keras, which wants all of `.weights.h5`) behave as they will for the final name.
    """
    final = check_writable(path, overwrite)
    suffixes = "".join(final.suffixes)
    folder = final.parent if str(final.parent) else Path(".")
    prefix = f".{final.name[:len(final.name) - len(suffixes)]}."
    remove_stale_temporaries(folder, prefix)
    handle, tmp_name = tempfile.mkstemp(prefix=f"{prefix}{_owner()}.", suffix=f".part{suffixes}", dir=folder)
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers create it themselves; some refuse to open an existing empty file
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"Nothing was written for '{final}'.")
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    """`Path.write_text` through `atomic_output`: readers see the old text or the new, never half."""
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(text)
    return Path(path)
