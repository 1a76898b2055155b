"""The model file the plugin loads: a Keras `.keras` archive with the model's metadata inside.

The metadata is an extra `landcover.json` member of the zip archive. Keras ignores it when
loading, and it can be read and validated without importing Keras at all, so the plugin can
show a model's classes, resolution and scores before TensorFlow is even installed.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .errors import ModelFileError
from .files import atomic_output

SCHEMA = "landcover-model"
SCHEMA_VERSION = 1
METADATA_MEMBER = "landcover.json"
MODEL_SUFFIX = ".keras"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class ClassInfo:
    value: int
    name: str
    color: str  # "#rrggbb"

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


LANDCOVER_AI_CLASSES: tuple[ClassInfo, ...] = (
    ClassInfo(0, "background", "#e6e1c8"),
    ClassInfo(1, "building", "#d7191c"),
    ClassInfo(2, "woodland", "#1a9641"),
    ClassInfo(3, "water", "#2b83ba"),
    ClassInfo(4, "road", "#fdae61"),
)
# LandCover.ai mixes 25 cm (33 orthophotos) and 50 cm (8) tiles at their native resolution; most of
# what a network trained on it saw is 25 cm/px, so that is what the plugin resamples to by default.
LANDCOVER_AI_RESOLUTION_CM = 25.0
BACKGROUND = 0


@dataclass(frozen=True)
class Normalization:
    """Model input = (pixel / 255 - mean) / std, per band, pixels on the 8-bit 0..255 scale.

    mean 0, std 1 is x/255 (the reference's best run); mean 0.5, std 0.5 is [-1, 1]
    (what the public Cityscapes / Pascal VOC DeepLabv3+ weights expect).
    """
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)

    @classmethod
    def unit(cls) -> "Normalization":
        return cls((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))

    @classmethod
    def symmetric(cls) -> "Normalization":
        return cls((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

    @classmethod
    def named(cls, name: str) -> "Normalization":
        choices = {"unit": cls.unit, "symmetric": cls.symmetric}
        if name not in choices:
            raise ValueError(f"Unknown normalisation '{name}'; use one of {sorted(choices)}.")
        return choices[name]()

    def scale_offset(self) -> tuple[list[float], list[float]]:
        """Per-band (scale, offset) so that input = pixel * scale + offset."""
        scale = [1.0 / (255.0 * s) for s in self.std]
        offset = [-m / s for m, s in zip(self.mean, self.std)]
        return scale, offset

    def apply(self, pixels, axis: int = -1):
        """Normalise an array of 0..255 pixels whose `axis` holds the bands into a new C-ordered float32
        array (of the same shape, whatever the order of `pixels`' memory: one pass, no copy)."""
        import numpy as np
        pixels = np.asarray(pixels)
        shape = [1] * pixels.ndim
        shape[axis] = -1
        scale, offset = (np.asarray(values, np.float32).reshape(shape) for values in self.scale_offset())
        out = np.empty(pixels.shape, np.float32)
        np.multiply(pixels, scale, out=out)
        out += offset
        return out


@dataclass(frozen=True)
class ModelMetadata:
    classes: tuple[ClassInfo, ...]
    input_size: int
    resolution_cm: float
    normalization: Normalization = field(default_factory=Normalization.unit)
    bands: int = 3
    name: str = "landcover"
    description: str = ""
    architecture: dict = field(default_factory=dict)
    training_data: str = ""
    scores: dict = field(default_factory=dict)
    created: str = ""
    schema_version: int = SCHEMA_VERSION
    # Terms of use of the weights (e.g. CC BY-NC-SA 4.0 for weights trained on LandCover.ai);
    # optional, so files written before it existed stay valid at schema version 1.
    licence: str = ""

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def resolution_m(self) -> float:
        return self.resolution_cm / 100.0

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["classes"] = [dataclasses.asdict(c) for c in self.classes]
        data["normalization"] = {"mean": list(self.normalization.mean), "std": list(self.normalization.std)}
        data["schema"] = SCHEMA
        return data

    @classmethod
    def from_dict(cls, data: Any, source: str = "model metadata") -> "ModelMetadata":
        """Validate and build; every problem is reported with what to do about it."""
        def fail(why: str) -> ModelFileError:
            return ModelFileError(
                f"{source}: {why}. Re-export the model with 'python -m trainer export' "
                "or pick a model file made for this plugin.")

        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise fail(f"not a {SCHEMA} metadata block")
        version = data.get("schema_version")
        if not isinstance(version, int) or version < 1:
            raise fail("schema_version is missing or not a positive integer")
        if version > SCHEMA_VERSION:
            raise fail(f"schema version {version} is newer than this plugin understands "
                       f"({SCHEMA_VERSION}); update the plugin")
        try:
            classes = tuple(ClassInfo(int(c["value"]), str(c["name"]), str(c["color"]))
                            for c in data["classes"])
            input_size = int(data["input_size"])
            resolution = float(data["resolution_cm"])
            bands = int(data.get("bands", 3))
            norm = data.get("normalization") or {}
            normalization = Normalization(tuple(float(v) for v in norm.get("mean", (0, 0, 0))),
                                          tuple(float(v) for v in norm.get("std", (1, 1, 1))))
        except (KeyError, TypeError, ValueError) as error:
            raise fail(f"a required field is missing or malformed ({error!r})") from None
        if len(classes) < 2:
            raise fail("it must list at least two classes")
        if [c.value for c in classes] != list(range(len(classes))):
            raise fail("class values must be 0, 1, 2, ... in order")
        if len({c.name for c in classes}) != len(classes):
            raise fail("class names must be unique")
        bad = [c.color for c in classes if not _COLOR.match(c.color)]
        if bad:
            raise fail(f"class colours must look like #rrggbb, got {bad}")
        if input_size < 16:
            raise fail(f"input_size {input_size} is too small")
        if not 0 < resolution < 100_000:
            raise fail(f"resolution_cm {resolution} is not a positive resolution in cm per pixel")
        if bands < 1 or len(normalization.mean) != bands or len(normalization.std) != bands:
            raise fail("normalisation needs one mean and one std per band")
        if any(s <= 0 for s in normalization.std):
            raise fail("normalisation std must be positive")
        return cls(classes=classes, input_size=input_size, resolution_cm=resolution,
                   normalization=normalization, bands=bands,
                   name=str(data.get("name", "landcover")), description=str(data.get("description", "")),
                   architecture=dict(data.get("architecture") or {}),
                   training_data=str(data.get("training_data", "")),
                   scores=dict(data.get("scores") or {}), created=str(data.get("created", "")),
                   schema_version=version, licence=str(data.get("licence", "")))


def _open_archive(path: str | Path) -> zipfile.ZipFile:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"Model file '{path}' does not exist; check the path or export a model "
                             "with 'python -m trainer export'.")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ModelFileError(f"Model file '{path}' is not a readable .keras model archive ({error}); "
                             "it may be truncated or corrupt: export or download it again.") from None


def read_metadata(path: str | Path) -> ModelMetadata:
    """Read and validate a model file's metadata (.keras, or .onnx: onnxfile.py) without loading a runtime."""
    if Path(path).suffix.lower() == ".onnx":
        from .onnxfile import read_onnx_metadata
        return read_onnx_metadata(path)
    with _open_archive(path) as archive:
        if METADATA_MEMBER not in archive.namelist():
            raise ModelFileError(f"Model file '{path}' has no landcover metadata; it is a plain Keras "
                                 "file. Export it with 'python -m trainer export' to add the classes, "
                                 "resolution and normalisation the plugin needs.")
        try:
            data = json.loads(archive.read(METADATA_MEMBER).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as error:
            raise ModelFileError(f"Model file '{path}': its metadata is not valid JSON ({error}); "
                                 "export the model again.") from None
    return ModelMetadata.from_dict(data, source=f"Model file '{path}'")


def save_model(model, metadata: ModelMetadata, path: str | Path, overwrite: bool = True) -> Path:
    """Write `model` and `metadata` to one `.keras` file, atomically."""
    path = Path(path)
    if path.suffix != MODEL_SUFFIX:
        raise ModelFileError(f"Model file '{path}' must end in {MODEL_SUFFIX}.")
    if not metadata.created:
        metadata = dataclasses.replace(
            metadata, created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    check_model_matches(model, metadata, str(path))
    with atomic_output(path, overwrite=overwrite) as tmp:
        model.save(tmp)  # Keras 3 leaves out the optimizer of a model saved uncompiled
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(METADATA_MEMBER, json.dumps(metadata.to_dict(), indent=2))
    return path


def update_metadata(path: str | Path, metadata: ModelMetadata) -> Path:
    """Replace a `.keras` file's metadata, its network untouched (no Keras needed), atomically."""
    path = Path(path)
    read_metadata(path)   # ours to begin with
    with _open_archive(path) as source, atomic_output(path, overwrite=True) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                if entry.filename != METADATA_MEMBER:
                    target.writestr(entry, source.read(entry))
            target.writestr(METADATA_MEMBER, json.dumps(metadata.to_dict(), indent=2))
    return path


def check_model_matches(model, metadata: ModelMetadata, source: str) -> None:
    """The network's input and output must agree with what its metadata promises."""
    in_shape = tuple(model.inputs[0].shape)
    out_shape = tuple(model.outputs[0].shape)
    if in_shape[-1] != metadata.bands:
        raise ModelFileError(f"{source}: the network takes {in_shape[-1]} bands but its metadata says "
                             f"{metadata.bands}; export the model again.")
    if out_shape[-1] != len(metadata.classes):
        raise ModelFileError(f"{source}: the network outputs {out_shape[-1]} classes but its metadata "
                             f"lists {len(metadata.classes)}; export the model again.")
    size = in_shape[1:3]
    if None not in size and tuple(size) != (metadata.input_size, metadata.input_size):
        raise ModelFileError(f"{source}: the network takes {size} pixel tiles but its metadata says "
                             f"{metadata.input_size}; export the model again.")


def load_model(path: str | Path) -> tuple[Any, ModelMetadata]:
    """Load a model file: validated metadata first, then the network (standard Keras layers only)."""
    metadata = read_metadata(path)
    return load_network(path, metadata), metadata


def load_network(path: str | Path, metadata: ModelMetadata) -> Any:
    """The Keras network of a model file whose metadata the caller has already read."""
    import keras
    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a damaged archive
        raise ModelFileError(f"Model file '{path}' could not be loaded by Keras ({error}); "
                             "it may be corrupt or made by an incompatible Keras: export it again.") from None
    check_model_matches(model, metadata, f"Model file '{path}'")
    return model


def metadata_for(classes: Sequence[ClassInfo] = LANDCOVER_AI_CLASSES, **fields: Any) -> ModelMetadata:
    """Metadata with LandCover.ai's classes unless told otherwise."""
    return ModelMetadata(classes=tuple(classes), **fields)
