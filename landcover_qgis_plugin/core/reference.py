"""The reference work's published DeepLabv3+ weights, converted into our model file.

The reference published its trained networks (the best, revision deeplabv3plus_v5.10.2: run 5.10, test
mIoU 0.718) as a zip of tf.keras 2 `save_weights` checkpoints, `{revision}/best_miou/checkpoint*` and
`{revision}/best_loss/checkpoint*` (an `.index` and a `.data-*` file each), for the public Keras
DeepLabv3+ port's network. Keras 3 cannot load that format, so the conversion reads the checkpoint's
variables with `tf.train.load_checkpoint`, copies them into our own DeepLabv3+ (`networks/`) built in
the reference's configuration, and writes our model file with LandCover.ai's metadata. Both front-ends
run it: `python -m trainer import-reference` and the plugin dialog's "Get a LandCover.ai model…".

The source is the published URL (fetched by the caller's downloader, `download.py` with the caller's
progress and wording, into a cache folder), a zip on disk, or a folder holding the unpacked
checkpoint. Only the chosen checkpoint's files are unpacked, each file atomically.

How the checkpoint's order maps onto our network
------------------------------------------------
The checkpoint keys each layer that has weights by its position among them,
`layer_with_weights-N/<variable>/.ATTRIBUTES/VARIABLE_VALUE`, N counting those layers in the port's
`model.layers` order. tf.keras 2 and Keras 3 order a functional model's layers alike: by depth (the
longest path to the output, deepest first), ties in the order a depth-first walk from the output,
inputs in order, first meets them. Our builder lays out the port's graph layer for layer: the same
layers on every branch, its padding layers included, and the same input order at every Add and
Concatenate. The one difference, the port's Reshape between image pooling's global average and its
1x1 conv (our average keeps the dims instead), sits upstream of that branch's weighted layers, so
their depths, counted from the output, are the same. So checkpoint layer N is our N-th layer with
weights; at full size, 293 of them:

  0-3      entry_flow_conv1_1, its BN, entry_flow_conv1_2, its BN
  4-45     entry flow blocks 1-3, 14 each: per separable conv its depthwise conv, BN, pointwise
           conv, BN, where the 1x1 shortcut conv and its BN share the depth of the third pointwise
           conv and its BN and follow each of them: block 1 is 4-13, then 14 separable_conv3_pointwise,
           15 shortcut, 16 separable_conv3_pointwise_BN, 17 shortcut_BN
  46-237   middle flow units 1-16, 12 each (no shortcut conv)
  238-251  exit flow block 1 (laid out as the entry blocks); 252-263 exit flow block 2 (no shortcut)
  264-279  ASPP, interleaved by depth: aspp1-3 depthwise, their BNs, image_pooling, its BN, aspp0,
           aspp1-3 pointwise, aspp0_BN, aspp1-3 pointwise BNs
  280-292  concat_projection, its BN, feature_projection0, its BN, decoder_conv0 and decoder_conv1
           (4 each), and the logits (the port's custom_logits_semantic, our logits_semantic)

Within a layer the variables are matched by name: Conv2D kernel and bias are named alike; the port's
DepthwiseConv2D `depthwise_kernel` is our DepthwiseConv2D's `kernel` (both (3, 3, channels, 1));
BatchNormalization holds gamma, beta, moving_mean and moving_variance in both, and they are set in our
layer's order (the same four, in the same order). The checkpoint's optimizer slots and object graph
are not used. The layer count and every variable's name and shape are checked before anything is
written: the first mismatch is a ModelFileError naming the layer index, our layer, and the expected
and found shapes. The rest of the port's arithmetic is ours too: the same BatchNorm epsilons, the
symmetric padding before strided convs, and bilinear resizing with half-pixel centres (the port's
Resizing layer). tests/test_reference.py proves the whole mapping: a tf.keras 2 network with the port's
layer layout and random weights, saved with `save_weights`, gives the same probabilities (to 1e-5) as
our network loaded from its checkpoint, at 1/8 width through the converted model file, and at full
size.

The weights are under CC BY-NC-SA 4.0 (non-commercial) like LandCover.ai: they are downloaded at the
user's request, never shipped, and the model file says so in its `licence`.
"""
from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Optional

import numpy as np

from .download import archive_name, extract_member, is_url
from .errors import Cancelled, InputError, ModelFileError, OutputError
from .files import check_writable
from .modelfile import (LANDCOVER_AI_CLASSES, LANDCOVER_AI_RESOLUTION_CM, MODEL_SUFFIX, ModelMetadata,
                        Normalization, read_metadata, save_model)
from .networks.config import NetworkConfig, describe_architecture

DEFAULT_REVISION = "deeplabv3plus_v5.10.2"
URL_PATTERN = ("https://huggingface.co/MortenTabaka/LandcoverSemanticSegmentation/resolve/main/"
               "Weights/{revision}.zip")
CHECKPOINTS = ("miou", "loss")   # the zip's best_miou/ (kept by val mIoU, the one evaluated) and best_loss/
WEIGHTS_ARCHIVE = "the weights archive"
# The reference's network: the port's modified Xception at output stride 16, 512 px tiles, 5 classes,
# the standard decoder, softmax.
REFERENCE_MODEL = NetworkConfig(backbone="modified_xception", output_stride=16, decoder="standard",
                                num_classes=5, input_size=512, width=1.0, middle_units=16)
LICENCE = ("CC BY-NC-SA 4.0 (attribution, non-commercial, share-alike): weights published by the "
           "reference work, trained on LandCover.ai, which has the same licence")
# Per-class test IoU and mIoU of the reference's best run 5.10 (seed-recipe.md; its global confusion
# matrix over the 1602 test tiles): the published scores of revision deeplabv3plus_v5.10.2's best_miou.
REFERENCE_5_10_IOU = {"background": 0.857, "building": 0.680, "woodland": 0.807, "water": 0.747, "road": 0.497}
REFERENCE_5_10_MIOU = 0.718
PUBLISHED_SCORES = {
    DEFAULT_REVISION: {"test": {"miou": REFERENCE_5_10_MIOU, "per_class_iou": dict(REFERENCE_5_10_IOU), "tiles": 1602}},
}
_VARIABLE_KEY = re.compile(r"layer_with_weights-(\d+)/([^/]+)/\.ATTRIBUTES/VARIABLE_VALUE")
_OUR_VARIABLE_NAMES = {"depthwise_kernel": "kernel"}   # tf.keras 2 name -> Keras 3 name
Fetch = Callable[[str, Path], Path]   # (url, destination) -> the downloaded file


def reference_url(revision: str) -> str:
    return URL_PATTERN.format(revision=revision)


def _find_prefix(folder: Path, best: str) -> Path:
    """The checkpoint prefix (its `.index` file without the suffix) of best_{best}/ inside `folder`,
    or of `folder` itself when it is such a checkpoint folder."""
    indexes = sorted(p for p in folder.rglob("*.index") if p.parent.name == f"best_{best}")
    indexes = indexes or sorted(folder.glob("*.index"))
    if len(indexes) != 1:
        found = f"{len(indexes)} checkpoints ({', '.join(str(p) for p in indexes)})" if indexes else "no checkpoint"
        raise ModelFileError(f"'{folder}' holds {found} for best_{best}; give the reference's unpacked "
                             f"folder, holding best_{best}/checkpoint.index and its .data file.")
    return indexes[0].with_suffix("")


def _unpack(archive: Path, cache_dir: Path, best: str) -> Path:
    """Unpack the archive's best_{best}/ files into cache_dir/<archive name>/; returns that folder."""
    folder = cache_dir / archive.stem
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist()
                       if not m.is_dir() and PurePosixPath(m.filename).parent.name == f"best_{best}"]
            if not members:
                raise ModelFileError(f"Archive '{archive}' holds no best_{best}/ folder; the reference's weights "
                                     "zip holds <revision>/best_miou/ and <revision>/best_loss/.")
            for member in members:
                extract_member(zipped, member, folder / f"best_{best}" / PurePosixPath(member.filename).name)
    except zipfile.BadZipFile as error:
        raise InputError(f"Archive '{archive}' is not a readable zip file ({error}); download it again.") from None
    except OSError as error:
        raise OutputError(f"Cannot unpack '{archive}' into '{folder}' ({error}); free some space or choose "
                          "another cache folder.") from None
    return folder


def checkpoint_prefix(source: str, best: str, cache_dir: str | Path, fetch: Fetch) -> Path:
    """Fetch (a URL, with `fetch`, into cache_dir) or open (a zip, a folder) the reference's weights;
    returns the checkpoint prefix."""
    cache_dir = Path(cache_dir)
    if is_url(source):
        archive = fetch(source, cache_dir / archive_name(source, f"{DEFAULT_REVISION}.zip"))
        return _find_prefix(_unpack(archive, cache_dir, best), best)
    path = Path(source)
    if path.is_dir():
        return _find_prefix(path, best)
    if path.is_file():
        return _find_prefix(_unpack(path, cache_dir, best), best)
    raise InputError(f"Source '{source}' is neither a URL, a zip file nor a folder; give the weights URL, the "
                     "downloaded weights zip or the folder it unpacks to.")


def read_checkpoint(prefix: str | Path) -> list[dict[str, np.ndarray]]:
    """Each layer's variables, keyed by our (Keras 3) variable names, in the checkpoint's layer order."""
    import tensorflow as tf

    layers: dict[int, dict[str, np.ndarray]] = {}
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for key in reader.get_variable_to_shape_map():
            match = _VARIABLE_KEY.fullmatch(key)
            if match:
                name = _OUR_VARIABLE_NAMES.get(match[2], match[2])
                layers.setdefault(int(match[1]), {})[name] = reader.get_tensor(key)
    except (tf.errors.OpError, ValueError, IndexError) as error:   # IndexError: a truncated .data file
        raise ModelFileError(f"'{prefix}' is not a readable TensorFlow checkpoint "
                             f"({str(error).splitlines()[0]}); download or unpack it again.") from None
    if not layers or sorted(layers) != list(range(len(layers))):
        raise ModelFileError(f"'{prefix}' is not a Keras weights checkpoint: it has no complete "
                             "layer_with_weights-0.. sequence of variables.")
    return [layers[index] for index in range(len(layers))]


def assign_in_order(model: Any, checkpoint: list[dict[str, np.ndarray]], source: str | Path) -> None:
    """Set our N-th layer with weights from the checkpoint's layer N (see the module docstring),
    after checking the count and every variable's name and shape."""
    ours = [layer for layer in model.layers if layer.weights]
    if len(ours) != len(checkpoint):
        raise ModelFileError(f"'{source}' holds {len(checkpoint)} layers with weights, our network {len(ours)}: "
                             "it is not a checkpoint of the reference's DeepLabv3+ (modified Xception, output "
                             "stride 16, 5 classes).")
    for index, (layer, variables) in enumerate(zip(ours, checkpoint)):
        expected = {weight.name: tuple(weight.shape) for weight in layer.weights}
        found = {name: tuple(array.shape) for name, array in variables.items()}
        if found != expected:
            name = next(n for n in [*expected, *found] if found.get(n) != expected.get(n))
            raise ModelFileError(f"'{source}' does not fit our network at layer {index} ('{layer.name}'): "
                                 f"{name} expected {expected.get(name)}, found {found.get(name)}; it is not a "
                                 "checkpoint of the reference's DeepLabv3+.")
    for layer, variables in zip(ours, checkpoint):
        layer.set_weights([variables[weight.name] for weight in layer.weights])


def reference_metadata(revision: str, best: str, model: NetworkConfig = REFERENCE_MODEL) -> ModelMetadata:
    """LandCover.ai's classes, x/255 input as the reference trained, 25 cm/px, its published scores."""
    return ModelMetadata(
        classes=LANDCOVER_AI_CLASSES,
        input_size=model.input_size,
        resolution_cm=LANDCOVER_AI_RESOLUTION_CM,
        normalization=Normalization.unit(),
        name=f"reference {revision}" + ("" if best == "miou" else " (best loss)"),
        description=(f"The reference work's DeepLabv3+ ({revision}, checkpoint best_{best}), converted from its "
                     f"published tf.keras 2 weights. Input x/255, as it was trained. Runs at "
                     f"{LANDCOVER_AI_RESOLUTION_CM:g} cm/px, LandCover.ai's dominant resolution (33 of its 41 "
                     "orthophotos; the other 8 are 50 cm). Non-commercial use only (CC BY-NC-SA 4.0)."),
        architecture={**describe_architecture(model), "revision": revision, "checkpoint": f"best_{best}"},
        training_data=(f"LandCover.ai v1, official train split (7470 tiles of 512 px), trained by the reference "
                       f"work ({revision})"),
        # The published scores belong to the best-mIoU checkpoint, the one the reference kept and tested.
        scores=copy.deepcopy(PUBLISHED_SCORES.get(revision, {})) if best == "miou" else {},
        licence=LICENCE,
    )


def import_reference(out: str | Path, fetch: Fetch, cache_dir: str | Path, source: Optional[str] = None,
                     revision: str = DEFAULT_REVISION, best: str = "miou", overwrite: bool = False,
                     model: NetworkConfig = REFERENCE_MODEL,
                     is_cancelled: Optional[Callable[[], bool]] = None) -> tuple[Any, Path, ModelMetadata]:
    """Write the reference's weights as our model file; returns the network, the file and its metadata.

    `source` defaults to the published URL of `revision`, which `fetch` downloads into `cache_dir`
    (where a zip is unpacked too); `model` is the network the checkpoint must fit: the reference's,
    or a smaller one in tests. The output is checked before a long download, and `is_cancelled` is
    asked again before the file is written (Cancelled: nothing written).
    """
    from .networks.deeplab import build_model

    if best not in CHECKPOINTS:
        raise InputError(f"Checkpoint '{best}' is not one of the reference's {list(CHECKPOINTS)}.")
    if Path(out).suffix != MODEL_SUFFIX:
        raise InputError(f"Model file '{out}' must end in {MODEL_SUFFIX}.")
    check_writable(out, overwrite)
    prefix = checkpoint_prefix(source or reference_url(revision), best, cache_dir, fetch)
    network = build_model(model)
    assign_in_order(network, read_checkpoint(prefix), prefix)
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()
    target = save_model(network, reference_metadata(revision, best, model), out, overwrite=overwrite)
    return network, target, read_metadata(target)
