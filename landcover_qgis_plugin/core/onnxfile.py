"""ONNX model files, ours and Deepness', and their metadata read without loading ONNX Runtime.

Decisions (quoted in the README):

* **Metadata without a runtime.** An ONNX file is a protobuf `ModelProto`; its `metadata_props`
  (field 14) are read straight from the file and the graph is skipped by seeking, so the dialog
  shows any model at once and nothing needs to be installed to describe it.
* **Ours first.** A file exported by `python -m trainer export --onnx` carries our whole metadata
  (key `landcover_metadata`) besides Deepness' keys, and that wins.
* **Deepness' keys otherwise** (its model zoo's layout): `model_type` "Segmentor", `class_names`
  (a JSON object {"0": "name", ...} or a list), `resolution` (cm/px), `tile_size` (or `tiles_size`),
  `standardization_mean` / `standardization_std` on the 0..1 scale (default 0 and 1). Classes named
  like LandCover.ai's get its colours, others distinct colours that stay the same from run to run. A
  missing or contradictory key is one error naming it.
"""
from __future__ import annotations

import colorsys
import json
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ModelFileError
from .modelfile import LANDCOVER_AI_CLASSES, ClassInfo, ModelMetadata, Normalization

ONNX_SUFFIX = ".onnx"
OUR_KEY = "landcover_metadata"
_METADATA_FIELD = 14          # ModelProto.metadata_props
_KNOWN_COLOURS = {info.name: info.color for info in LANDCOVER_AI_CLASSES}
_ALIASES = {"buildings": "building", "forest": "woodland", "trees": "woodland", "tree": "woodland",
            "roads": "road", "waters": "water", "other": "background"}


def read_onnx_metadata(path: str | Path) -> ModelMetadata:
    """The model's metadata: ours when it has it, else built from Deepness' keys."""
    path = Path(path)
    source = f"Model file '{path}'"
    props = metadata_props(path)
    if OUR_KEY in props:
        try:
            return ModelMetadata.from_dict(json.loads(props[OUR_KEY]), source=source)
        except ValueError as error:
            raise ModelFileError(f"{source}: its '{OUR_KEY}' is not valid JSON ({error}); export it again.") from None
    return deepness_metadata(props, path)


def metadata_props(path: Path) -> dict[str, str]:
    """ModelProto.metadata_props of an ONNX file, the rest of the file skipped."""
    source = f"Model file '{path}'"
    if not path.is_file():
        raise ModelFileError(f"{source} does not exist; check the path.")
    props: dict[str, str] = {}
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError(f"{source} is empty (0 bytes): its download or export did not finish; export or "
                             "download it again.")
    with open(path, "rb") as stream:
        while stream.tell() < size:
            key = _varint(stream, source)
            field, wire = key >> 3, key & 7
            if wire == 0:
                _varint(stream, source)
            elif wire in (1, 5):
                stream.seek(8 if wire == 1 else 4, 1)
            elif wire == 2:
                length = _varint(stream, source)
                if field == _METADATA_FIELD:
                    key_text, value_text = _entry(stream.read(length), source)
                    props[key_text] = value_text
                else:
                    stream.seek(length, 1)
            else:
                raise ModelFileError(f"{source} is not an ONNX model (unreadable protobuf); export or download it "
                                     "again.")
            if stream.tell() > size:
                raise ModelFileError(f"{source} is truncated; export or download it again.")
    return props


def _varint(stream: BinaryIO, source: str) -> int:
    value, shift = 0, 0
    while True:
        byte = stream.read(1)
        if not byte:
            raise ModelFileError(f"{source} is truncated or not an ONNX model; export or download it again.")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ModelFileError(f"{source} is not an ONNX model (unreadable protobuf).")


def _entry(data: bytes, source: str) -> tuple[str, str]:
    """A StringStringEntryProto: key (1) and value (2)."""
    import io

    stream, fields = io.BytesIO(data), {}
    while stream.tell() < len(data):
        key = _varint(stream, source)
        length = _varint(stream, source)
        fields[key >> 3] = stream.read(length).decode("utf-8", errors="replace")
    return fields.get(1, ""), fields.get(2, "")


def deepness_metadata(props: dict[str, str], path: Path) -> ModelMetadata:
    """Our metadata from Deepness' keys (see the module docstring)."""
    source = f"Model file '{path}'"

    def value(key: str, *alternatives: str, default: Any = None) -> Any:
        for name in (key, *alternatives):
            if name in props:
                try:
                    return json.loads(props[name])
                except ValueError:
                    return props[name]   # Deepness writes some keys as bare strings
        if default is None:
            raise ModelFileError(f"{source} has no '{key}' in its metadata; it is neither our model file nor a "
                                 "Deepness segmentation model. Add the key (Deepness' format) or export it with "
                                 "'python -m trainer export'.")
        return default

    model_type = value("model_type")
    if str(model_type).lower() not in ("segmentor", "segmentation"):
        raise ModelFileError(f"{source} is a Deepness '{model_type}' model; only segmentation models "
                             "('Segmentor') make land-cover polygons.")
    names = value("class_names")
    if isinstance(names, dict):
        try:
            ordered = [str(names[key]) for key in sorted(names, key=int)]
        except (TypeError, ValueError):
            raise ModelFileError(f"{source}: 'class_names' must map class numbers 0, 1, ... to names.") from None
        if sorted(int(key) for key in names) != list(range(len(names))):
            raise ModelFileError(f"{source}: 'class_names' must number its classes 0, 1, 2, ... without gaps.")
    elif isinstance(names, list):
        ordered = [str(name) for name in names]
    else:
        raise ModelFileError(f"{source}: 'class_names' must be a JSON object or list of names.")
    if len(set(ordered)) != len(ordered) or not ordered:
        raise ModelFileError(f"{source}: 'class_names' must name each class once.")
    if len(ordered) == 1:   # a one-class model segments that class against the rest
        ordered = ["background", ordered[0]]
    try:
        resolution = float(value("resolution"))
        tile = int(value("tile_size", "tiles_size"))
        mean = tuple(float(v) for v in value("standardization_mean", default=[0.0, 0.0, 0.0]))
        std = tuple(float(v) for v in value("standardization_std", default=[1.0, 1.0, 1.0]))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{source}: a Deepness metadata value is not a number ({error}).") from None
    if len(mean) != len(std):
        raise ModelFileError(f"{source}: 'standardization_mean' and 'standardization_std' differ in length.")
    classes = tuple(ClassInfo(index, name, _colour(name)) for index, name in enumerate(ordered))
    return ModelMetadata.from_dict({
        **ModelMetadata(classes=classes, input_size=tile, resolution_cm=resolution,
                        normalization=Normalization(mean, std), bands=len(mean), name=path.stem,
                        description="Deepness segmentation model").to_dict()}, source=source)


def _colour(name: str) -> str:
    """LandCover.ai's colour for its class names, else one derived from the name (stable, distinct)."""
    known = _KNOWN_COLOURS.get(_ALIASES.get(name.lower(), name.lower()))
    if known:
        return known
    hue = (zlib.crc32(name.encode("utf-8")) % 360) / 360.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.7, 0.85)
    return "#{:02x}{:02x}{:02x}".format(round(red * 255), round(green * 255), round(blue * 255))
