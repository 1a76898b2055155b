"""int8 copies of ONNX models: ONNX Runtime's static quantisation, and how far they agree with float32.

Decisions (quoted in the README):

* **Calibration** on synthetic LandCover.ai-like scenes (`trainer synth`) at the model's resolution,
  so the result does not depend on whichever raster came first and needs no data set; weights per
  channel (int8), activations per tensor (uint8), QDQ format (what ONNX Runtime's CPU kernels fuse).
* **Agreement measured** on other synthetic scenes (held out from calibration): the share of pixels
  whose class is the float32 model's, and the mIoU of both against the scenes' ground truth. Both go
  into the int8 file's scores, so the plugin's dialog shows them beside the model.
* The int8 file carries the float32 file's metadata (ours and Deepness' keys), named "... (int8)".
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.files import atomic_output
from landcover_qgis_plugin.core.modelfile import ModelMetadata
from landcover_qgis_plugin.core.onnxfile import OUR_KEY, read_onnx_metadata

from .metrics import confusion_matrix, iou_from_confusion

CALIBRATION_SEED, CHECK_SEED = 101, 202   # different scenes for calibrating and for checking


def synthetic_tiles(metadata: ModelMetadata, count: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(NCHW normalised tile, labels) pairs cut from synthetic scenes at the model's resolution."""
    from .data.synth import generate_scene

    size = metadata.input_size
    per_scene = 4
    for scene in range((count + per_scene - 1) // per_scene):
        rgb, labels = generate_scene(2 * size, 2 * size, metadata.resolution_m, seed=seed + scene)
        for row in (0, size):
            for col in (0, size):
                if count <= 0:
                    return
                count -= 1
                tile = metadata.normalization.apply(rgb[row:row + size, col:col + size].astype(np.float32))
                yield tile.transpose(2, 0, 1)[np.newaxis], labels[row:row + size, col:col + size]


def quantize(source: str | Path, target: str | Path, calibration_tiles: int = 32, check_tiles: int = 16,
             overwrite: bool = False) -> dict:
    """Write an int8 copy of the ONNX model `source` to `target`; returns its measured agreement."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    metadata = read_onnx_metadata(source)
    session = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    if session.get_inputs()[0].shape[1] != metadata.bands:
        raise InputError(f"'{source}' takes NHWC inputs; int8 quantisation here expects our (and Deepness') NCHW "
                         "layout: export it with 'python -m trainer export --onnx'.")

    class Tiles(CalibrationDataReader):
        def __init__(self):
            self._tiles = (tile for tile, _ in synthetic_tiles(metadata, calibration_tiles, CALIBRATION_SEED))

        def get_next(self):
            tile = next(self._tiles, None)
            return None if tile is None else {input_name: tile}

    with tempfile.TemporaryDirectory(prefix="landcover-int8-") as folder:
        quantized = Path(folder) / "int8.onnx"
        quantize_static(str(source), str(quantized), Tiles(), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
        agreement = _agreement(session, onnxruntime.InferenceSession(str(quantized),
                                                                     providers=["CPUExecutionProvider"]),
                               metadata, check_tiles)
        model = onnx.load(str(quantized))
        del model.metadata_props[:]
        source_props = {p.key: p.value for p in onnx.load(str(source), load_external_data=False).metadata_props}
        ours = json.loads(source_props.get(OUR_KEY, json.dumps(metadata.to_dict())))
        ours["name"] = f"{ours.get('name', metadata.name)} (int8)"
        ours["scores"] = {**ours.get("scores", {}), "int8": agreement}
        for key, value in {**source_props, OUR_KEY: json.dumps(ours)}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        with atomic_output(target, overwrite) as tmp:
            onnx.save(model, str(tmp))
    return agreement


def _agreement(full, reduced, metadata: ModelMetadata, tiles: int) -> dict:
    """How the int8 model's classes compare with the float32 model's and with the ground truth."""
    name = full.get_inputs()[0].name
    classes = len(metadata.classes)
    matrices = {"float32": np.zeros((classes, classes), np.int64), "int8": np.zeros((classes, classes), np.int64)}
    same = total = 0
    for tile, labels in synthetic_tiles(metadata, tiles, CHECK_SEED):
        predicted = {precision: session.run(None, {name: tile})[0][0].argmax(axis=0)
                     for precision, session in (("float32", full), ("int8", reduced))}
        same += int((predicted["float32"] == predicted["int8"]).sum())
        total += predicted["int8"].size
        for precision, classes_found in predicted.items():
            matrices[precision] += confusion_matrix(labels, classes_found, classes)
    return {"pixel_agreement_with_float32": same / total, "tiles": tiles,
            "synthetic_miou_float32": iou_from_confusion(matrices["float32"])[0],
            "synthetic_miou_int8": iou_from_confusion(matrices["int8"])[0]}
