"""Option defaults and choices shared by the dialog and the Processing algorithm: the engine's own."""
from __future__ import annotations

from .core.engine import DEVICES, PRECISIONS, SegmentationOptions
from .core.tiling import MAX_OVERLAP
from .i18n import tr

DEFAULT_OPTIONS = SegmentationOptions()

__all__ = ["DEFAULT_OPTIONS", "DEVICES", "MAX_OVERLAP", "PRECISIONS", "device_labels"]


def device_labels() -> list[str]:
    """What the widgets show for DEVICES, in the same order (translated when called, not at import)."""
    labels = {"auto": tr("Automatic"), "cpu": tr("CPU"), "gpu": tr("GPU")}
    return [labels[device] for device in DEVICES]
