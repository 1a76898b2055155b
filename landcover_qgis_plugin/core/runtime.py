"""Running a model on batches of tiles: through Keras (any backend) or through ONNX Runtime.

Decisions (quoted in the README):

* **Which runtime.** `runtime=auto` runs a `.keras` file through Keras and an `.onnx` file through
  ONNX Runtime; `keras` or `onnx` insists. ONNX Runtime alone (no TensorFlow) is enough for ONNX
  files, and a `.keras` file converts with `python -m trainer export --model FILE.keras --onnx
  FILE.onnx`.
* **Devices.** Keras: its first GPU unless `device=cpu`. ONNX Runtime: the first of CUDA, DirectML
  (Windows) and CoreML (macOS) its build offers, else the CPU; `device=gpu` without one is an error.
* **Layouts and outputs.** ONNX inputs are NCHW (Deepness' layout, and our export) or NHWC, told by
  the input's shape; a fixed batch of 1 is fed tile by tile. Outputs are class probabilities; values
  outside 0..1 are taken as logits and softmaxed; one output channel for a two-class model is the
  probability of the second class (sigmoid models).
* **Precision.** Keras: float32, or bfloat16 / float16 mixed precision. ONNX Runtime: float32, or
  int8 through the model's int8 copy `FILE.int8.onnx` (`trainer export --int8`). `auto` times float32
  and the faster candidate (bfloat16, or the int8 copy when there is one) on the first batch, after a
  warm-up run, and keeps the faster if 99 % of that batch's pixels keep their float32 class.
* **Test-time augmentation** averages the tile and its three flips, whichever runtime runs it.
"""
from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, ModelFileError
from .modelfile import ModelMetadata, load_network
from .onnxfile import ONNX_SUFFIX
from .options import SegmentationOptions

GPU_PROVIDERS = ("CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider")
# How summaries name where an ONNX model runs (Keras: "CPU" or "GPU")
ONNX_DEVICES = {"CPUExecutionProvider": "CPU", "CUDAExecutionProvider": "GPU (CUDA)",
                "DmlExecutionProvider": "GPU (DirectML)", "CoreMLExecutionProvider": "GPU (Core ML)"}
CONVERT_HINT = ("convert it to ONNX (python -m trainer export --model FILE.keras --onnx FILE.onnx) or install "
                "TensorFlow with Keras")


def runtime_for(model_path: str | Path, requested: str) -> str:
    """'keras' or 'onnx' for this model file and the `runtime` option."""
    onnx_file = Path(model_path).suffix.lower() == ONNX_SUFFIX
    if requested == "auto":
        return "onnx" if onnx_file else "keras"
    if onnx_file != (requested == "onnx"):
        kind = "an ONNX" if onnx_file else "a Keras"
        raise InputError(f"Runtime '{requested}' cannot run '{model_path}', {kind} model file; use runtime 'auto'"
                         + ("" if onnx_file else f", or {CONVERT_HINT}") + ".")
    return requested


AUTO_AGREEMENT = 0.99   # precision=auto keeps a faster precision only if this share of pixels keeps its class


class Predictor:
    """Normalise, run the model on a batch (optionally with flips), return class probabilities."""

    def __init__(self, model_path: str | Path, metadata: ModelMetadata, options: SegmentationOptions,
                 threads: int | None = None):
        """`threads`: CPU threads ONNX Runtime may use (default: all cores), for several workers on one
        machine."""
        self.model_path = Path(model_path)
        self.runtime = runtime_for(model_path, options.runtime)
        self._candidates = _runners(Path(model_path), metadata, options, self.runtime, threads)
        self.precision, self._runner = next(iter(self._candidates.items()))
        self._normalization = metadata.normalization
        self._tta = options.tta

    @property
    def device(self) -> str:
        """Where and, when not float32, at which precision the model runs, as summaries name it: 'CPU',
        'GPU (CUDA)', 'CPU (int8)'."""
        name, *details = self._runner.device.split(" ")
        details = [detail.strip("()") for detail in details] + ([] if self.precision == "float32" else [self.precision])
        return name + (f" ({', '.join(details)})" if details else "")

    def __call__(self, tiles: np.ndarray) -> np.ndarray:
        """(n, S, S, bands) pixels on 0..255 -> (n, classes, S, S) float32 probabilities: one plane per
        class, so blending and choosing the class work on contiguous planes."""
        if len(self._candidates) > 1:
            self._choose(self._inputs(tiles))
        inputs = self._inputs(tiles)
        total = self._runner(inputs)
        if self._tta:
            rows, cols = (2, 3) if self._runner.channels_first else (1, 2)
            for axes, back in (((cols,), (3,)), ((rows,), (2,)), ((rows, cols), (2, 3))):  # left-right, up-down, both
                total += np.flip(self._runner(np.ascontiguousarray(np.flip(inputs, axes))), back)
            total /= 4.0
        if not math.isfinite(float(total.sum(dtype=np.float64))):
            bad = int(np.count_nonzero(~np.isfinite(total).all(axis=(1, 2, 3))))
            raise ModelFileError(f"Model file '{self.model_path}' gave NaN or infinite values for {bad} of the "
                                 f"{len(total)} tiles of a batch: its weights or graph are broken (or its input "
                                 "normalisation does not fit it), so no class it gives can be trusted; nothing was "
                                 "written. Export or download the model again.")
        return total

    def _inputs(self, tiles: np.ndarray) -> np.ndarray:
        """The normalised batch in the runner's layout (8-bit pixels are moved before they become floats)."""
        if self._runner.channels_first:
            return self._normalization.apply(tiles.transpose(0, 3, 1, 2), axis=1)
        return self._normalization.apply(tiles)

    def _choose(self, inputs: np.ndarray) -> None:
        """precision=auto: time every candidate on this batch (after a warm-up run) and keep the fastest
        whose classes agree with float32's on AUTO_AGREEMENT of the pixels."""
        seconds, classes = {}, {}
        for precision, runner in self._candidates.items():
            runner(inputs)
            tick = time.perf_counter()
            classes[precision] = runner(inputs).argmax(axis=1)
            seconds[precision] = time.perf_counter() - tick
        good = [p for p in self._candidates if np.mean(classes[p] == classes["float32"]) >= AUTO_AGREEMENT]
        self.precision = min(good, key=seconds.__getitem__)
        self._runner = self._candidates[self.precision]
        self._candidates = {self.precision: self._runner}


def _runners(model_path: Path, metadata: ModelMetadata, options: SegmentationOptions,
             runtime: str, threads: int | None = None) -> dict[str, Any]:
    """The runner for the chosen precision, or for precision=auto float32 first and the faster candidate."""
    precision = options.precision
    if runtime == "onnx":
        if precision in ("bfloat16", "float16"):
            raise InputError(f"Precision '{precision}' runs through Keras; an ONNX model runs in float32 or, with "
                             "its int8 copy, int8.")
        int8 = model_path.with_suffix(".int8.onnx")
        if precision == "int8":
            if not int8.is_file():
                raise InputError(f"Precision int8 runs the int8 copy '{int8}', which does not exist; make it with "
                                 f"'python -m trainer export --model MODEL.keras --onnx {model_path} --int8 {int8}'.")
            return {"int8": _OnnxRunner(int8, metadata, options, threads)}
        runners = {"float32": _OnnxRunner(model_path, metadata, options, threads)}
        if precision == "auto" and int8.is_file():
            runners["int8"] = _OnnxRunner(int8, metadata, options, threads)
        return runners
    if precision == "int8":
        raise InputError(f"Precision int8 runs an ONNX model's int8 copy; '{model_path}' is a Keras model: "
                         "export it with 'python -m trainer export --model FILE.keras --onnx FILE.onnx --int8 "
                         "FILE.int8.onnx'.")
    if importlib.util.find_spec("keras") is None:
        raise InputError(f"'{model_path}' is a Keras model and Keras is not installed: {CONVERT_HINT}.")
    network = load_network(model_path, metadata)
    device = _keras_device(options.device)
    chosen = ("float32", "bfloat16") if precision == "auto" else (precision,)
    return {name: _KerasRunner(with_precision(network, name), device) for name in chosen}


class _KerasRunner:
    channels_first = False

    def __init__(self, network: Any, device: str):
        import keras
        self._keras = keras
        self._device = device
        self.device = "GPU" if device.startswith("gpu") else "CPU"
        self._model = network

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """A normalised NHWC batch -> (n, classes, S, S) float32 probabilities."""
        with self._keras.device(self._device):
            output = np.asarray(self._model.predict_on_batch(inputs), dtype=np.float32)
        return np.ascontiguousarray(np.moveaxis(output, -1, 1))


def _keras_device(requested: str) -> str:
    import keras
    gpus = keras.distribution.list_devices("gpu")
    if requested == "gpu" and not gpus:
        raise InputError(f"Device 'gpu' was asked for, but Keras ({keras.backend.backend()} backend) sees no "
                         "GPU. Install a GPU build (e.g. pip install 'tensorflow[and-cuda]' on Linux) or "
                         "use device 'auto' or 'cpu'.")
    if requested == "cpu" or not gpus:
        return "cpu:0"
    return gpus[0]


def with_precision(model: Any, precision: str) -> Any:
    """The model rebuilt under a Keras mixed-precision policy (same weights), or itself for float32."""
    if precision == "float32":
        return model
    import keras
    policy = f"mixed_{precision}"

    def rebuild(layer):
        config = layer.get_config()
        config["dtype"] = policy
        return layer.__class__.from_config(config)

    clone = keras.models.clone_model(model, clone_function=rebuild)
    clone.set_weights(model.get_weights())
    return clone


class _OnnxRunner:
    def __init__(self, model_path: str | Path, metadata: ModelMetadata, options: SegmentationOptions,
                 threads: int | None = None):
        if importlib.util.find_spec("onnxruntime") is None:
            raise InputError(f"'{model_path}' is an ONNX model and ONNX Runtime is not installed: "
                             "pip install onnxruntime.")
        import onnxruntime
        available = onnxruntime.get_available_providers()
        gpus = [provider for provider in GPU_PROVIDERS if provider in available]
        if options.device == "gpu" and not gpus:
            raise InputError("Device 'gpu' was asked for, but this ONNX Runtime has no GPU provider "
                             f"({', '.join(available)}); install onnxruntime-gpu (CUDA) or onnxruntime-directml "
                             "(Windows), or use device 'auto' or 'cpu'.")
        providers = ([gpus[0]] if gpus and options.device != "cpu" else []) + ["CPUExecutionProvider"]
        from .onnxgraph import faster_model_bytes
        try:
            model = faster_model_bytes(str(model_path)) or str(model_path)
            settings = onnxruntime.SessionOptions()
            if threads:
                settings.intra_op_num_threads = threads
            self._session = onnxruntime.InferenceSession(model, settings, providers=providers)
        except Exception as error:  # onnx and ONNX Runtime raise their own kinds for a damaged or foreign file
            raise ModelFileError(f"Model file '{model_path}' could not be loaded by ONNX Runtime ({error}); "
                                 "export or download it again.") from None
        self.device = ONNX_DEVICES.get(self._session.get_providers()[0], "CPU")
        model_input = self._session.get_inputs()[0]
        self._input = model_input.name
        shape = model_input.shape
        self.channels_first = len(shape) == 4 and shape[1] == metadata.bands
        if len(shape) != 4 or (not self.channels_first and shape[3] != metadata.bands):
            raise ModelFileError(f"Model file '{model_path}' takes inputs of shape {shape}; a segmentation model "
                                 f"takes (batch, {metadata.bands}, size, size) or (batch, size, size, "
                                 f"{metadata.bands}).")
        tile = shape[2:4] if self.channels_first else shape[1:3]
        if any(isinstance(side, int) and side != metadata.input_size for side in tile):
            raise ModelFileError(f"Model file '{model_path}': its graph takes tiles of {tile[0]} x {tile[1]} px but "
                                 f"its metadata says {metadata.input_size} px; correct the metadata's tile size "
                                 "(or export the model again).")
        self._one_by_one = shape[0] == 1
        self._classes = len(metadata.classes)
        self._logits: bool | None = None   # told by the first batch's values

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """A normalised batch in the model's layout -> (n, classes, S, S) float32 probabilities."""
        if self._one_by_one:
            output = np.concatenate([self._session.run(None, {self._input: inputs[i:i + 1]})[0]
                                     for i in range(len(inputs))])
        else:
            output = self._session.run(None, {self._input: inputs})[0]
        output = np.asarray(output, np.float32)
        if not self.channels_first:   # an NHWC model's output is NHWC too
            output = np.moveaxis(output, -1, 1)
        if output.shape[1] == 1 and self._classes == 2:   # sigmoid: the second class's probability
            output = np.concatenate([1.0 - output, output], axis=1)
        if output.shape[1] != self._classes:
            raise ModelFileError(f"The ONNX model outputs {output.shape[1]} channels but its metadata names "
                                 f"{self._classes} classes; fix its 'class_names'.")
        if self._logits is None:
            self._logits = bool(output.min() < 0.0 or output.max() > 1.0)
        if self._logits:
            output = np.exp(output - output.max(axis=1, keepdims=True))
            output /= output.sum(axis=1, keepdims=True)
        return np.ascontiguousarray(output)
