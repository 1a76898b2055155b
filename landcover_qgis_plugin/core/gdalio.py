"""GDAL calls as the engine makes them: errors collected per thread, failures as the project's
errors, datasets closed by their owners."""
from __future__ import annotations

import re

from osgeo import gdal

from .errors import InputError, LandcoverError


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


def call_gdal(what: str, function, *args, error: type[LandcoverError] = InputError, **kwargs):
    """Run a GDAL call that signals failure by None or by RuntimeError, as `error` about `what`."""
    with gdal_errors():
        try:
            result = function(*args, **kwargs)
        except RuntimeError as failure:
            raise error(f"{what} ({_one_line(str(failure))}).") from None
        if result is None:
            raise error(f"{what} ({_one_line(gdal_errors.last())}).")
        return result


def _one_line(detail: str) -> str:
    """GDAL's message on one line, without the WMS driver's advice to hide HTTP errors."""
    detail = re.sub(r"\s*Add the HTTP status code to <ZeroBlockHttpCodes>.*", "", detail, flags=re.S)
    return " ".join(detail.split())


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
