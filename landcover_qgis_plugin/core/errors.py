"""The problems a user can act on, under one base.

Front-ends (the CLI, the Processing algorithm, the dialog) turn a `LandcoverError` into one line
that names the input and what to do; anything else is a bug and keeps its traceback.
"""


class LandcoverError(Exception):
    """A problem with what the user asked for, explained in the message; not a bug."""


class InputError(LandcoverError):
    """An input the user gave (raster, area, option, config, data set, run folder) that cannot be used."""


class NoValidPixelsError(InputError):
    """The area to classify holds no valid pixel (all nodata, transparent or outside the mask)."""


class ModelFileError(LandcoverError):
    """A model or weights file is missing, unreadable or of another network, or its metadata is wrong."""


class OutputError(LandcoverError):
    """An output cannot be created or written where the user asked."""


class OutputExistsError(OutputError, FileExistsError):
    """An output exists and the caller did not ask to overwrite it."""


class OutputLockedError(OutputError):
    """Another run is writing the same output (its lock file is there and its process runs)."""


class Cancelled(LandcoverError):
    """The caller's is_cancelled() turned true; nothing was written."""
