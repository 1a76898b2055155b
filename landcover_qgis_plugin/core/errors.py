"""How a segmentation run stops early, shared by the engine, the CLI and the plugin."""
import traceback


class InputError(ValueError):
    """An input or option the engine cannot use; the message names it and says what to do."""


class SegmentationCancelled(Exception):
    """The caller's is_cancelled() turned true; nothing was written."""


def release_frames(error: BaseException) -> None:
    """Drop the locals of the frames `error` passed through, so the GDAL datasets they held close
    now, before their temporary files are removed, not whenever the traceback goes away."""
    traceback.clear_frames(error.__traceback__)
