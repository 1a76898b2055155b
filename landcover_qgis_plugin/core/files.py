"""Write outputs so that a failure or a cancel never leaves a half-written file behind."""
from __future__ import annotations

import contextlib
import os
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


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The temporary file keeps the final suffixes, so drivers that pick a format by extension
    (GDAL, OGR, Keras, which wants all of `.weights.h5`) behave as they will for the final name.
    """
    final = check_writable(path, overwrite)
    suffixes = "".join(final.suffixes)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{final.name[:len(final.name) - len(suffixes)]}.",
                                        suffix=f".part{suffixes}", dir=final.parent if str(final.parent) else ".")
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
