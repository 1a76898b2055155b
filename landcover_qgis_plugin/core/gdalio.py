"""GDAL calls as the engine makes them: errors collected per thread, failures as the project's
errors, writes checked, datasets closed by their owners."""
from __future__ import annotations

import os
import re
import traceback
from pathlib import Path
from typing import Any, Callable

from osgeo import gdal

from .errors import InputError, LandcoverError
from .files import write_failure


class gdal_errors:
    """Collect GDAL's messages for this thread instead of printing them, whatever the global mode.

    QGIS shares the GDAL bindings with every plugin, so the global exception switch is left alone;
    the error handler stack is per thread.
    """

    def __enter__(self) -> "gdal_errors":
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        gdal.ErrorReset()
        return self

    def __exit__(self, *exc) -> None:
        gdal.PopErrorHandler()

    @staticmethod
    def last() -> str:
        return gdal.GetLastErrorMsg().strip() or "no details from GDAL"


def call_gdal(what: str, function, *args, error: type[LandcoverError] = InputError, part_of: str | None = None,
              **kwargs):
    """Run a GDAL call that signals failure by None or by RuntimeError, as `error` about `what`.
    `part_of`: what is being read when it is made of other files (a VRT, a mosaic), so that a failure
    of one of them names that file first."""
    with gdal_errors():
        try:
            result = function(*args, **kwargs)
        except RuntimeError as failure:
            detail = str(failure)
        else:
            if result is not None:
                return result
            detail = gdal_errors.last()
    raise _failure(what, _one_line(detail), error, part_of) from None


# GDAL's messages about one file of a dataset made of several: "PATH: ..." or "PATH, band N: ..."
_SOURCE_FAILURE = re.compile(r"^(?P<path>(?:[A-Za-z]:)?[^,:]*[/\\][^,:]*?)(?:, band \d+)?: (?P<rest>.+)$")


def _failure(what: str, detail: str, error: type[LandcoverError], part_of: str | None) -> LandcoverError:
    source = _SOURCE_FAILURE.match(detail) if part_of else None
    if source is None or source["path"] in part_of:
        return error(f"{what} ({detail}).")
    path, rest = source["path"], source["rest"]
    if "No such file or directory" in rest:
        return error(f"'{path}' does not exist, and {part_of} is made of it: restore that file, or build {part_of} "
                     "again without it.")
    return error(f"'{path}' could not be read ({rest}); the file may be truncated or corrupt. It is part of "
                 f"{part_of}: replace or repair it, or leave it out.")


def _one_line(detail: str) -> str:
    """GDAL's message on one line, without the WMS driver's advice to hide HTTP errors."""
    detail = re.sub(r"\s*Add the HTTP status code to <ZeroBlockHttpCodes>.*", "", detail, flags=re.S)
    return " ".join(detail.split())


def let_go(trace) -> None:
    """After a failure: drop what the failed calls' finished frames still refer to (datasets, layers,
    bound methods), so that the datasets close when their owner lets go of them, inside its checks, and
    not when the traceback goes, with GDAL's messages printed."""
    if trace is not None:
        traceback.clear_frames(trace)


def close_dataset(dataset) -> None:
    """Close a GDAL raster or OGR vector dataset now, whoever else still refers to it.

    GDAL 3.8 and newer give every dataset Close(); older OGR data sources have Destroy(). An older
    raster dataset closes when its last reference goes, so the object owning it holds the only one
    (nothing keeps it in a local variable a traceback could hold on to).
    """
    for name in ("Close", "Destroy"):
        close = getattr(dataset, name, None)
        if close is not None:
            close()
            return


class WriteCheck:
    """Every write to one output file, checked: GDAL's and SQLite's failures while it runs are kept (not
    printed), and a failure reported or an error code returned is the OutputError naming the output
    (the user's file, for a temporary one) and the cause, such as a full disk.

    GDAL reports most write failures only through its error handler (a compressed GeoTIFF writes its
    blocks when flushed and its directory when closed; SQLite fails inside a transaction's commit), so
    every call that may write (creating, writing, flushing, committing, closing) goes through here. It
    works whether or not GDAL's exceptions are on (QGIS leaves that to each plugin).
    """

    def __init__(self, path: str | os.PathLike, part: str = ""):
        """`part`: what of the output this file is, for the message (e.g. 'its temporary polygons')."""
        self.path, self.part = Path(path), part
        self._failures: list[str] = []

    def __enter__(self) -> "WriteCheck":
        self._failures = []
        gdal.PushErrorHandler(self._handle)
        return self

    def __exit__(self, kind, error, trace) -> None:
        gdal.PopErrorHandler()
        if kind is RuntimeError:   # GDAL's exceptions on
            self.fail(str(error))
        if kind is None and self._failures:
            self.fail()

    def _handle(self, level: int, number: int, message: str) -> None:
        if level >= gdal.CE_Failure:
            self._failures.append(message)

    def ok(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        """A call returning GDAL's or OGR's error code (0 or None: done)."""
        with self:
            result = function(*args, **kwargs)
        if result not in (0, None):
            self.fail(f"{getattr(function, '__name__', 'a write')} returned error {result}")
        return result

    def made(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        """A call returning what it created (None: it failed)."""
        with self:
            result = function(*args, **kwargs)
        if result is None:
            self.fail()
        return result

    def fail(self, detail: str = "") -> None:
        cause = _write_cause(self._failures) or detail or gdal.GetLastErrorMsg() or "no details from GDAL"
        if self.part:
            cause = f"{self.part}: {cause}"
        raise write_failure(self.path, cause) from None


def _write_cause(failures: list[str]) -> str:
    """The first failure in one line; of SQLite's, only what it says after the statement it ran."""
    if not failures:
        return ""
    message = _one_line(failures[0])
    sqlite = re.match(r"sqlite3_\w+\(.*\) failed: (.+)$", message)
    message = f"SQLite: {sqlite.group(1)}" if sqlite else message
    return message if len(message) <= 200 else message[:197] + "..."
