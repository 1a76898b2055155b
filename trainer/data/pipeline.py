"""tf.data input pipelines over prepared LandCover.ai tiles (`python -m trainer data` output).

Tiles are decoded in parallel and prefetched so the accelerator never waits on JPEG decoding.
Augmentation reproduces the reference runs: "double" (run 5.11) adds one augmented copy of every
tile, "random" (run 5.12) augments every tile, each transform with probability 0.5; "wide" instead
flips, turns and zooms, then photographs the tile with another camera (colour, contrast, white
balance, gamma in ranges real cameras span), blur up to a 50 cm image's at 25 cm/px and sensor
noise, for imagery from cameras, flights and resolutions other than the training data's. Colour
transforms work on [0, 1] pixels and are clipped there before normalisation; flips move the
mask with the image. Random draws are stateless and seeded, so a run's input is reproducible,
yet differ from epoch to epoch.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.modelfile import ClassInfo, Normalization

from .classes import label_lookup
from .curation import exclude_list_path
from .tiles import read_id_list, tile_paths

AUGMENTATIONS = ("none", "double", "random", "wide")
NUM_CLASSES = 5
AUGMENT_PROBABILITY = 0.5
HUE_MAX_DELTA = 0.2
SATURATION_RANGE = (5.0, 10.0)
BRIGHTNESS_MAX_DELTA = 0.3
CONTRAST_RANGE = (0.2, 0.5)
BLUR_MAX_PX = 1.2        # "wide": Gaussian blur sigma up to that of a 50 cm image shown at 25 cm/px
NOISE_MAX = 0.02         # "wide": sensor noise sigma up to 2 % of the pixel range
CAMERA_HUE_MAX_DELTA = 0.04    # "wide": another camera's colour, in ranges real cameras span
CAMERA_SATURATION_RANGE = (0.6, 1.4)
CAMERA_BRIGHTNESS_MAX_DELTA = 0.12
ZOOM_MAX = 1.4           # "wide": magnified up to 1.4 times (objects larger than the training data's)
CONTRAST_GAIN = (0.8, 1.6)   # "wide": contrast about the tile's mean, times this
CHANNEL_GAIN = 0.12      # "wide": white balance, each channel times 1 +- this
GAMMA_RANGE = (0.75, 1.35)


def read_split_ids(root: str | Path, split: str, exclude_list: str | Path | None = None,
                   max_tiles: Optional[int] = None) -> list[str]:
    """Ids of a split's tiles in list order, less the excluded ones, at most `max_tiles` of them."""
    root = Path(root)
    list_file = root / f"{split}.txt"
    if not list_file.is_file():
        raise InputError(f"'{list_file}' not found; prepare the tiles first with "
                         f"'python -m trainer data --root {root}'.")
    ids = read_id_list(list_file)
    if exclude_list:
        excluded = set(read_id_list(exclude_list_path(exclude_list)))
        ids = [tile for tile in ids if tile not in excluded]
    if max_tiles is not None:
        ids = ids[:max_tiles]
    missing = [tile for tile in ids if not all(p.is_file() for p in tile_paths(root / "output", tile))]
    if missing:
        raise InputError(f"{len(missing)} tile(s) of '{list_file}' are missing from '{root / 'output'}' "
                         f"(first: {missing[0]}); run 'python -m trainer data --root {root}' to cut them.")
    if not ids:
        raise InputError(f"No tiles left in split '{split}' of '{root}' after the exclude list and max_tiles.")
    return ids


def _augment(image, mask, seed):
    """Reference augmentation of one [0, 1] image and its mask; every transform with p = 0.5."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, num=6)
    apply = tf.random.stateless_uniform([4], seed=seeds[0]) < AUGMENT_PROBABILITY
    colour_ops = (
        lambda x, s: tf.image.stateless_random_hue(x, HUE_MAX_DELTA, s),
        lambda x, s: tf.image.stateless_random_saturation(x, *SATURATION_RANGE, s),
        lambda x, s: tf.image.stateless_random_brightness(x, BRIGHTNESS_MAX_DELTA, s),
        lambda x, s: tf.image.stateless_random_contrast(x, *CONTRAST_RANGE, s),
    )
    for index, op in enumerate(colour_ops):
        image = tf.cond(apply[index],
                        lambda op=op, index=index: tf.clip_by_value(op(image, seeds[index + 1]), 0.0, 1.0),
                        lambda: image)
    return _flip(image, mask, seeds[5])


def _flip(image, mask, seed):
    """Left-right, then up-down, each with p = 0.5; the mask follows the image."""
    import tensorflow as tf

    apply = tf.random.stateless_uniform([2], seed=seed) < AUGMENT_PROBABILITY
    for index, axis in ((0, 1), (1, 0)):
        image, mask = tf.cond(apply[index],
                              lambda axis=axis: (tf.reverse(image, [axis]), tf.reverse(mask, [axis])),
                              lambda: (image, mask))
    return image, mask


def _widen(image, mask, seed):
    """"wide", each drawn per tile: flips and a quarter turn (0-3), a zoom (p = 0.5), another camera's colour,
    contrast, white balance and gamma, blur and sensor noise; in ranges real cameras span, not the
    reference's (whose saturation x5-10 and hue +-0.2 paint roads purple and fields neon)."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, num=6)
    image, mask = _flip(image, mask, seeds[5])
    turns = tf.random.stateless_uniform([], seed=seeds[0], minval=0, maxval=4, dtype=tf.int32)
    image = tf.image.rot90(image, turns)
    mask = tf.image.rot90(mask[..., tf.newaxis], turns)[..., 0]
    zoom = tf.random.stateless_uniform([2], seed=seeds[1])
    image, mask = tf.cond(zoom[0] < AUGMENT_PROBABILITY,
                          lambda: _zoom(image, mask, 1.0 + zoom[1] * (ZOOM_MAX - 1.0), seeds[2]),
                          lambda: (image, mask))
    return _blur_and_noise(_other_camera(image, seeds[3]), seeds[4]), mask


def _zoom(image, mask, factor, seed):
    """Magnified `factor` times: a random crop of 1/factor the side, resized back (the mask by nearest)."""
    import tensorflow as tf

    size = tf.shape(image)[0]
    side = tf.cast(tf.round(tf.cast(size, tf.float32) / factor), tf.int32)
    stacked = tf.concat([image, tf.cast(mask[..., tf.newaxis], tf.float32)], axis=-1)
    crop = tf.image.stateless_random_crop(stacked, tf.stack([side, side, 4]), seed)
    zoomed = tf.image.resize(crop[..., :3], [size, size], method="bilinear")
    labels = tf.image.resize(crop[..., 3:], [size, size], method="nearest")
    return tf.ensure_shape(zoomed, image.shape), tf.ensure_shape(tf.cast(labels[..., 0], mask.dtype), mask.shape)


def _other_camera(image, seed):
    """Hue, saturation and brightness shifts, contrast about the tile's mean (up as well as down: real photos
    are often crisper than synthetic ones), a white balance (one gain per channel) and a gamma."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, num=6)
    image = tf.image.stateless_random_hue(image, CAMERA_HUE_MAX_DELTA, seeds[0])
    image = tf.image.stateless_random_saturation(image, *CAMERA_SATURATION_RANGE, seeds[1])
    image = tf.image.stateless_random_brightness(image, CAMERA_BRIGHTNESS_MAX_DELTA, seeds[2])
    contrast = tf.random.stateless_uniform([], seed=seeds[3], minval=CONTRAST_GAIN[0], maxval=CONTRAST_GAIN[1])
    gains = tf.random.stateless_uniform([3], seed=seeds[4], minval=1.0 - CHANNEL_GAIN, maxval=1.0 + CHANNEL_GAIN)
    gamma = tf.random.stateless_uniform([], seed=seeds[5], minval=GAMMA_RANGE[0], maxval=GAMMA_RANGE[1])
    mean = tf.reduce_mean(image, axis=[0, 1], keepdims=True)
    shifted = tf.clip_by_value((mean + (image - mean) * contrast) * gains, 0.0, 1.0)
    return tf.pow(shifted, gamma)


def _blur_and_noise(image, seed):
    """Gaussian blur (sigma up to BLUR_MAX_PX) and sensor noise (up to NOISE_MAX), both drawn per tile."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, num=3)
    sigma = tf.maximum(tf.random.stateless_uniform([], seed=seeds[0], maxval=BLUR_MAX_PX), 0.05)
    taps = tf.exp(-tf.square(tf.range(-3.0, 4.0)) / (2.0 * tf.square(sigma)))
    taps /= tf.reduce_sum(taps)
    blurred = tf.pad(image[tf.newaxis], [[0, 0], [3, 3], [3, 3], [0, 0]], mode="REFLECT")
    for shape in ((7, 1, 1, 1), (1, 7, 1, 1)):            # separable: down the columns, then along the rows
        blurred = tf.nn.depthwise_conv2d(blurred, tf.tile(tf.reshape(taps, shape), [1, 1, 3, 1]), [1, 1, 1, 1], "VALID")
    strength = tf.random.stateless_uniform([], seed=seeds[1], maxval=NOISE_MAX)
    noisy = blurred[0] + tf.random.stateless_normal(tf.shape(image), seed=seeds[2]) * strength
    return tf.clip_by_value(noisy, 0.0, 1.0)


def tile_dataset(root: str | Path, split: str, batch_size: int,
                 normalization: Normalization | str, *, shuffle: bool = False,
                 augmentation: str = "none", exclude_list: str | Path | None = None,
                 max_tiles: Optional[int] = None, repeat: bool = False, with_ids: bool = False,
                 seed: int = 0, parallel_calls: int = -1, classes: Optional[Sequence[ClassInfo]] = None):
    """Batches of (image float32 (B,S,S,3) normalised, mask int32 (B,S,S)[, tile id]) of one split; the masks
    in the values of `classes` (trainer/data/classes.py; default: the tiles' own LandCover.ai labels)."""
    import tensorflow as tf

    if augmentation not in AUGMENTATIONS:
        raise InputError(f"Unknown augmentation '{augmentation}'; use one of {list(AUGMENTATIONS)}.")
    if isinstance(normalization, str):
        normalization = Normalization.named(normalization)
    ids = read_split_ids(root, split, exclude_list, max_tiles)
    if augmentation == "double":
        ids, augmented = ids + ids, [False] * len(ids) + [True] * len(ids)
    else:
        augmented = [augmentation in ("random", "wide")] * len(ids)
    output = Path(root) / "output"
    images, masks = zip(*(map(str, tile_paths(output, tile)) for tile in ids))
    size = int(tf.io.extract_jpeg_shape(tf.io.read_file(images[0]))[0])
    scale, offset = (tf.constant(v, tf.float32) for v in normalization.scale_offset())
    lookup = label_lookup(classes) if classes is not None else None

    def load(random, element):
        tile, image_path, mask_path, augment = element
        # Accurate IDCT: the same pixels libjpeg gives GDAL and OpenCV, not TF's faster approximation.
        image = tf.io.decode_jpeg(tf.io.read_file(image_path), channels=3, dct_method="INTEGER_ACCURATE")
        image = tf.ensure_shape(tf.cast(image, tf.float32) / 255.0, [size, size, 3])
        mask = tf.io.decode_png(tf.io.read_file(mask_path), channels=1)
        mask = tf.ensure_shape(tf.cast(mask[..., 0], tf.int32), [size, size])
        if lookup is not None:
            mask = tf.gather(tf.constant(lookup), mask)
        if augmentation != "none":
            tile_seed = tf.stack([tf.constant(seed, tf.int64), random])
            transform = _widen if augmentation == "wide" else _augment
            image, mask = tf.cond(augment, lambda: transform(image, mask, tile_seed), lambda: (image, mask))
        image = image * 255.0 * scale + offset
        return (image, mask, tile) if with_ids else (image, mask)

    dataset = tf.data.Dataset.from_tensor_slices((list(ids), list(images), list(masks), augmented))
    if shuffle:
        dataset = dataset.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    # One random number per element, drawn afresh each epoch, seeds that element's augmentation.
    randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    dataset = tf.data.Dataset.zip(randoms, dataset)
    calls = tf.data.AUTOTUNE if parallel_calls is None or parallel_calls < 1 else parallel_calls
    dataset = dataset.map(load, num_parallel_calls=calls)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def class_pixel_counts(root: str | Path, split: str = "train", num_classes: int = NUM_CLASSES,
                       exclude_list: str | Path | None = None,
                       max_tiles: Optional[int] = None) -> np.ndarray:
    """Pixels per class over a split's masks (int64), for inverse-frequency class weights."""
    from osgeo import gdal

    counts = np.zeros(num_classes, np.int64)
    for tile in read_split_ids(root, split, exclude_list, max_tiles):
        mask_path = tile_paths(Path(root) / "output", tile)[1]
        dataset = gdal.Open(str(mask_path))
        if dataset is None:
            raise InputError(f"Cannot read mask tile '{mask_path}'; cut the tiles again with 'python -m trainer data'.")
        labels = dataset.GetRasterBand(1).ReadAsArray()
        dataset = None
        tile_counts = np.bincount(labels.ravel(), minlength=num_classes)
        if len(tile_counts) > num_classes:
            raise InputError(f"Mask tile '{mask_path}' has class value {len(tile_counts) - 1}, "
                             f"beyond the {num_classes} classes 0..{num_classes - 1}.")
        counts += tile_counts
    return counts
