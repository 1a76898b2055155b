"""tf.data pipeline over prepared tiles: decoding, normalisation, lists, augmentation, class counts."""
import numpy as np
import pytest
from osgeo import gdal

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from landcover_qgis_plugin.core.modelfile import Normalization
from trainer.data.pipeline import class_pixel_counts, read_split_ids, tile_dataset
from trainer.data.tiles import cut_tiles, tile_ids

TILE = 64
PALETTE = np.array([(80,) * 3, (100,) * 3, (120,) * 3, (140,) * 3, (160,) * 3], np.uint8)   # greys: no colour op merges them


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Prepared tiles of 64 px: random 16 px blocks, one flat grey per class (JPEG keeps them exact)."""
    base = tmp_path_factory.mktemp("tiles")
    blocks = np.random.default_rng(0).integers(0, 5, (2 * TILE // 16, 3 * TILE // 16)).astype(np.uint8)
    mask = blocks.repeat(16, axis=0).repeat(16, axis=1)
    for folder, array in (("images", PALETTE[mask]), ("masks", mask)):
        (base / "src" / folder).mkdir(parents=True)
        write_geotiff(base / "src" / folder / "blocks.tif", array, (500_000.0, 600_000.0), 0.25)
    assert cut_tiles(base / "src" / "images", base / "src" / "masks", base / "output", TILE) == 6
    ids = tile_ids("blocks", 2 * TILE, 3 * TILE, TILE)
    (base / "train.txt").write_text("\n".join(ids) + "\n")
    (base / "val.txt").write_text(f"{ids[0]}\n\n  {ids[1]}  \n")
    return base


def _decoded(root, tile):
    """A tile's pixels and labels as GDAL (libjpeg) reads them."""
    image = gdal.Open(str(root / "output" / f"{tile}.jpg"))
    mask = gdal.Open(str(root / "output" / f"{tile}_m.png"))
    return np.moveaxis(image.ReadAsArray(), 0, -1), mask.ReadAsArray()


def _collect(dataset):
    images, masks, ids = [], [], []
    for image, mask, tile in dataset:
        images.append(image.numpy())
        masks.append(mask.numpy())
        ids += [t.decode() for t in tile.numpy()]
    return np.concatenate(images), np.concatenate(masks), ids


@pytest.mark.parametrize("normalization", ["unit", "symmetric", Normalization((0.4, 0.45, 0.5), (0.2, 0.25, 0.3))])
def test_batches_hold_normalised_tiles_in_list_order(root, normalization):
    dataset = tile_dataset(root, "train", 4, normalization, with_ids=True)
    image, mask, tile = next(iter(dataset))
    assert image.shape == (4, TILE, TILE, 3) and image.dtype.name == "float32"
    assert mask.shape == (4, TILE, TILE) and mask.dtype.name == "int32"
    images, masks, ids = _collect(dataset)
    assert ids == read_split_ids(root, "train") and len(ids) == 6
    norm = Normalization.named(normalization) if isinstance(normalization, str) else normalization
    for index, name in enumerate(ids):
        pixels, labels = _decoded(root, name)
        np.testing.assert_allclose(images[index], norm.apply(pixels), atol=1e-6)
        np.testing.assert_array_equal(masks[index], labels)
    if normalization == "unit":
        np.testing.assert_allclose([images.min(), images.max()], [80 / 255, 160 / 255], atol=1e-6)
    if normalization == "symmetric":
        np.testing.assert_allclose([images.min(), images.max()], [80 / 127.5 - 1, 160 / 127.5 - 1], atol=1e-6)


def test_list_files_exclude_lists_and_max_tiles(root, tmp_path):
    ids = read_split_ids(root, "train")
    assert read_split_ids(root, "val") == ids[:2]                        # blank lines and spaces ignored
    ranked = tmp_path / "lowest_iou.txt"
    ranked.write_text(f"# tile  miou  (lowest first)\n{ids[3]}  0.12  extra\n\n{ids[0]}\t0.2  # checked\n")
    kept = read_split_ids(root, "train", exclude_list=ranked)
    assert kept == [ids[1], ids[2], ids[4], ids[5]]
    assert read_split_ids(root, "train", exclude_list=ranked, max_tiles=2) == [ids[1], ids[2]]
    _, _, served = _collect(tile_dataset(root, "train", 3, "unit", exclude_list=ranked, with_ids=True))
    assert served == kept
    with pytest.raises(InputError, match="test.txt"):
        read_split_ids(root, "test")
    with pytest.raises(InputError, match="Tile list"):
        read_split_ids(root, "train", exclude_list=tmp_path / "missing.txt")


def test_missing_tiles_are_reported_before_training(root, tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "train.txt").write_text("a_0\na_1\n")
    with pytest.raises(InputError, match="2 tile"):
        read_split_ids(tmp_path, "train")


def _within_class_spread(image, mask):
    """Largest per-class colour spread: small when image and mask are aligned."""
    return max(image[mask == value].std(axis=0).max() for value in np.unique(mask))


def test_random_augmentation_flips_image_and_mask_together(root):
    originals = {tile: _decoded(root, tile)[1] for tile in read_split_ids(root, "train")}
    dataset = tile_dataset(root, "train", 6, "unit", augmentation="random", with_ids=True, seed=3)
    flipped = unchanged = coloured = 0
    for _epoch in range(4):
        images, masks, ids = _collect(dataset)
        for image, mask, tile in zip(images, masks, ids):
            original = originals[tile]
            assert any(np.array_equal(mask, variant) for variant in
                       (original, original[:, ::-1], original[::-1], original[::-1, ::-1]))
            assert _within_class_spread(image, mask) < 1e-3                # the image moved with its mask
            if not np.array_equal(mask, original):
                flipped += 1
                assert _within_class_spread(image, original) > 0.01        # ... and away from the original
            else:
                unchanged += 1
            value = mask[0, 0]
            coloured += not np.allclose(image[mask == value].mean(axis=0), PALETTE[value] / 255, atol=0.03)
            assert 0 <= image.min() and image.max() <= 1                   # colour ops clipped to [0, 1]
    assert flipped > 4 and unchanged > 0 and coloured > 4


def test_random_augmentation_is_reproducible_yet_new_each_epoch(root):
    def epochs(seed):
        dataset = tile_dataset(root, "train", 6, "unit", augmentation="random", seed=seed)
        return [next(iter(dataset))[0].numpy() for _ in range(2)]

    first, second = epochs(5)
    assert not np.array_equal(first, second)
    again_first, again_second = epochs(5)
    np.testing.assert_array_equal(first, again_first)
    np.testing.assert_array_equal(second, again_second)


def test_double_augmentation_adds_one_augmented_copy_per_tile(root):
    plain_images, plain_masks, plain_ids = _collect(tile_dataset(root, "train", 4, "unit", with_ids=True))
    images, masks, ids = _collect(tile_dataset(root, "train", 4, "unit", augmentation="double", with_ids=True))
    assert len(ids) == 2 * len(plain_ids) == 12
    assert ids == plain_ids + plain_ids
    np.testing.assert_array_equal(images[:6], plain_images)
    np.testing.assert_array_equal(masks[:6], plain_masks)
    assert not np.array_equal(images[6:], plain_images)
    with pytest.raises(InputError, match="augmentation"):
        tile_dataset(root, "train", 4, "unit", augmentation="mixup")


def test_shuffle_and_repeat(root):
    ids = read_split_ids(root, "train")
    dataset = tile_dataset(root, "train", 6, "unit", shuffle=True, with_ids=True, seed=1, parallel_calls=2)
    orders = [[t.decode() for t in next(iter(dataset))[2].numpy()] for _ in range(3)]
    assert all(sorted(order) == sorted(ids) for order in orders)
    assert any(order != ids for order in orders) and len({tuple(o) for o in orders}) > 1
    repeated = tile_dataset(root, "train", 4, "unit", repeat=True, max_tiles=3)
    assert sum(batch[0].shape[0] for batch in repeated.take(5)) == 20


def test_class_pixel_counts_match_the_masks(root):
    counts = class_pixel_counts(root, "train")
    _, masks, _ = _collect(tile_dataset(root, "train", 6, "unit", with_ids=True))
    np.testing.assert_array_equal(counts, np.bincount(masks.ravel(), minlength=5))
    assert counts.sum() == 6 * TILE * TILE and counts.dtype == np.int64 and (counts > 0).all()
    with pytest.raises(InputError, match="beyond the 3 classes"):
        class_pixel_counts(root, "train", num_classes=3)


def test_a_roads_run_reads_the_landcover_ai_masks_as_background_and_road(root):
    from trainer.data.classes import class_set, label_lookup

    roads = class_set("roads")
    assert [(c.value, c.name) for c in roads] == [(0, "background"), (1, "road")]
    assert label_lookup(roads).tolist() == [0, 0, 0, 0, 1]
    assert label_lookup(class_set("landcover")) is None
    _, original, _ = _collect(tile_dataset(root, "train", 4, "unit", with_ids=True))
    images, remapped, _ = _collect(tile_dataset(root, "train", 4, "unit", with_ids=True, classes=roads))
    np.testing.assert_array_equal(remapped, (original == 4).astype(np.int32))
    assert remapped.dtype == np.int32 and 0 < remapped.mean() < 1
    with pytest.raises(InputError, match="Unknown data.classes 'rivers'"):
        class_set("rivers")


def _dihedral(array):
    """The 8 flips and quarter turns of a 2-D array."""
    return [np.rot90(variant, k) for k in range(4) for variant in (array, array[:, ::-1])]


def test_wide_augmentation_flips_turns_and_zooms_the_mask_with_the_image(root):
    import tensorflow as tf

    from trainer.data.pipeline import _widen, _zoom

    mask = np.zeros((TILE, TILE), np.int32)
    mask[:, TILE // 2:] = 2
    mask[:8, TILE // 2:] = 4                       # a corner mark, so every flip and turn shows
    image = np.repeat((mask / 4.0).astype(np.float32)[..., np.newaxis], 3, axis=-1)
    zoomed_image, zoomed_mask = (t.numpy() for t in _zoom(tf.constant(image), tf.constant(mask), 1.4,
                                                          tf.constant([3, 1], tf.int64)))
    assert zoomed_image.shape == image.shape and zoomed_mask.shape == mask.shape
    assert set(np.unique(zoomed_mask)) <= {0, 2, 4} and not np.array_equal(zoomed_mask, mask)
    steady = zoomed_mask == np.round(zoomed_image[..., 0] * 4)   # the image's value still says its class
    assert steady.mean() > 0.9                     # all but the resampled edges
    variants, kept, zoomed = _dihedral(mask), set(), 0
    for draw in range(40):
        out_image, out_mask = (t.numpy() for t in _widen(tf.constant(image), tf.constant(mask),
                                                         tf.constant([draw, 1], tf.int64)))
        assert 0 <= out_image.min() and out_image.max() <= 1
        same = [k for k, variant in enumerate(variants) if np.array_equal(out_mask, variant)]
        kept.update(same)
        zoomed += not same
    assert len(kept) >= 4 and 10 <= zoomed <= 30
    originals = {tile: _decoded(root, tile)[1] for tile in read_split_ids(root, "train")}
    _, masks, ids = _collect(tile_dataset(root, "train", 6, "unit", augmentation="wide", with_ids=True, seed=2))
    for mask, tile in zip(masks, ids):               # each mask a flip/turn of its tile's, or a zoom into one
        assert any(np.array_equal(mask, variant) for variant in _dihedral(originals[tile])) \
            or set(np.unique(mask)) <= set(np.unique(originals[tile]))


def test_wide_augmentation_mimics_other_cameras_blur_and_noise():
    import tensorflow as tf

    from trainer.data.pipeline import _blur_and_noise, _other_camera

    image = np.full((TILE, TILE, 3), 0.4, np.float32)
    image[:, TILE // 2:] = 0.6
    contrasts, balances, blurred = [], [], 0
    for draw in range(16):
        seed = tf.constant([draw, 5], tf.int64)
        out = _other_camera(tf.constant(image), seed).numpy()
        assert 0 <= out.min() and out.max() <= 1
        contrasts.append((out[:, TILE // 2:].mean() - out[:, :TILE // 2].mean()) / 0.2)
        balances.append(out[..., 0].mean() / out[..., 2].mean())
        soft = _blur_and_noise(tf.constant(image), seed).numpy()
        blurred += abs(soft[:, TILE // 2 - 1].mean() - 0.4) > 0.01
    assert min(contrasts) < 1.0 < max(contrasts)     # flatter and crisper than the training data
    assert max(balances) - min(balances) > 0.1        # the white balance differs from camera to camera
    assert blurred >= 8
