"""import-reference: a tf.keras 2 checkpoint in the public DeepLabv3+ port's layout becomes our model file.

The checkpoints are reference_support.py's: the port's network in tf.keras 2 with random weights, at
1/8 of every channel count and 2 of the 16 middle units (TINY); one slow test runs the full size.
"""
from __future__ import annotations

import dataclasses
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from landcover_qgis_plugin.core import reference as core_reference
from landcover_qgis_plugin.core.errors import InputError, ModelFileError, OutputExistsError
from landcover_qgis_plugin.core.modelfile import LANDCOVER_AI_CLASSES, Normalization, load_model, read_metadata
from reference_support import ATOL, MIDDLE_UNITS, SIZE, TINY, port_network, randomise, soften
from trainer import cli, reference
from trainer.reference import DEFAULT_REVISION, REFERENCE_MODEL, assign_in_order, import_reference, read_checkpoint


def _predict(model_file: Path, tiles: np.ndarray) -> np.ndarray:
    network, _ = load_model(model_file)
    return np.asarray(network(tiles, training=False))


def test_the_converted_checkpoint_predicts_what_the_tf_keras_2_network_predicts(checkpoints, tmp_path):
    out, metadata = import_reference(tmp_path / "reference.keras", source=str(checkpoints.archive),
                                     cache_dir=tmp_path / "cache", model=TINY)
    expected = checkpoints.expected["miou"]
    np.testing.assert_allclose(_predict(out, checkpoints.tiles), expected, atol=ATOL)
    assert np.abs(expected - checkpoints.expected["loss"]).max() > 100 * ATOL
    # Only the chosen checkpoint was unpacked, into the cache.
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()) == [
        "checkpoint", "checkpoint.data-00000-of-00001", "checkpoint.index"]
    assert metadata == read_metadata(out)
    assert metadata.classes == LANDCOVER_AI_CLASSES and metadata.input_size == SIZE
    assert metadata.resolution_cm == 25.0 and "25 cm/px, LandCover.ai's dominant resolution" in metadata.description
    assert metadata.normalization == Normalization.unit()
    assert metadata.scores == {"test": {"miou": 0.718, "per_class_iou": {
        "background": 0.857, "building": 0.680, "woodland": 0.807, "water": 0.747, "road": 0.497}, "tiles": 1602}}
    assert metadata.licence.startswith("CC BY-NC-SA 4.0") and "LandCover.ai" in metadata.training_data
    assert metadata.architecture == {"backbone": "modified_xception", "output_stride": 16, "decoder": "standard",
                                     "width": 1 / 8, "middle_units": MIDDLE_UNITS, "revision": DEFAULT_REVISION,
                                     "checkpoint": "best_miou"}


@pytest.mark.slow
def test_at_full_size_the_293_layers_map_and_predict_alike(tmp_path):
    """The reference's own configuration (full width, 16 middle units, 512 px): about 20 s."""
    from trainer.models import build_model

    network = port_network(512, 16, divisor=1)
    tile = np.random.default_rng(1).uniform(0.0, 1.0, (1, 512, 512, 3)).astype(np.float32)
    randomise(network, 0)
    soften(network, tile)
    network.save_weights(str(tmp_path / "best_miou" / "checkpoint"))
    checkpoint = read_checkpoint(tmp_path / "best_miou" / "checkpoint")
    ours = build_model(REFERENCE_MODEL)
    assign_in_order(ours, checkpoint, tmp_path)
    assert len(checkpoint) == 293 and ours.count_params() == network.count_params() == 41_254_101
    np.testing.assert_allclose(np.asarray(ours(tile, training=False)), network(tile, training=False).numpy(),
                               atol=ATOL)


def test_the_best_loss_checkpoint_from_an_unpacked_folder_carries_no_published_scores(checkpoints, tmp_path):
    out, metadata = import_reference(tmp_path / "loss.keras", source=str(checkpoints.folder), best="loss",
                                     cache_dir=tmp_path / "cache", model=TINY)
    np.testing.assert_allclose(_predict(out, checkpoints.tiles), checkpoints.expected["loss"], atol=ATOL)
    assert metadata.scores == {} and metadata.name.endswith("(best loss)")
    assert not (tmp_path / "cache").exists()             # a folder is read where it is


def test_another_zip_of_the_same_name_replaces_what_the_cache_holds(checkpoints, tmp_path):
    """Checkpoints of one network have the same file sizes: the cache must go by content too."""
    corrected = tmp_path / "corrected" / checkpoints.archive.name
    corrected.parent.mkdir()
    with zipfile.ZipFile(checkpoints.archive) as original, zipfile.ZipFile(corrected, "w") as copy:
        for member in original.infolist():
            if "best_loss" in member.filename:       # the other weights, where best_miou's were
                copy.writestr(member.filename.replace("best_loss", "best_miou"), original.read(member))
    cache = tmp_path / "cache"
    import_reference(tmp_path / "a.keras", source=str(checkpoints.archive), cache_dir=cache, model=TINY)
    out, _ = import_reference(tmp_path / "b.keras", source=str(corrected), cache_dir=cache, model=TINY)
    np.testing.assert_allclose(_predict(out, checkpoints.tiles), checkpoints.expected["loss"], atol=ATOL)


def test_download_from_a_local_server_then_from_the_cache_with_an_onnx_copy(checkpoints, server, tmp_path):
    server.payload = checkpoints.archive.read_bytes()
    url = f"{server.base}/Weights/{DEFAULT_REVISION}.zip"
    cache = tmp_path / "cache"
    out, _ = import_reference(tmp_path / "a.keras", source=url, cache_dir=cache, model=TINY,
                              onnx=tmp_path / "a.onnx")
    assert (cache / f"{DEFAULT_REVISION}.zip").read_bytes() == server.payload
    assert read_metadata(tmp_path / "a.onnx").licence == read_metadata(out).licence
    import_reference(tmp_path / "a.keras", source=url, cache_dir=cache, model=TINY, overwrite=True)
    assert server.ranges == [None]                       # the second run downloaded nothing
    np.testing.assert_allclose(_predict(out, checkpoints.tiles), checkpoints.expected["miou"], atol=ATOL)


def test_offline_is_one_line_naming_the_published_url_and_the_way_out(tmp_path, capsys, unused_port, monkeypatch):
    assert reference.reference_url(DEFAULT_REVISION) == (
        "https://huggingface.co/MortenTabaka/LandcoverSemanticSegmentation/resolve/main/Weights/"
        "deeplabv3plus_v5.10.2.zip")
    # The default source, pointed at a port nobody listens on.
    url = f"http://127.0.0.1:{unused_port}/Weights/{DEFAULT_REVISION}.zip"
    monkeypatch.setattr(core_reference, "URL_PATTERN", f"http://127.0.0.1:{unused_port}/Weights/{{revision}}.zip")
    assert cli.main(["import-reference", "--out", str(tmp_path / "r.keras"),
                     "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: Cannot download {url} (") and "\n" not in err
    assert f"download the weights archive on another machine and pass it with '--source /path/to/" \
           f"{DEFAULT_REVISION}.zip'" in err
    assert not (tmp_path / "r.keras").exists()


def test_a_checkpoint_of_another_network_is_refused_naming_the_first_mismatch(checkpoints, tmp_path):
    wider = dataclasses.replace(TINY, width=1 / 4)
    with pytest.raises(ModelFileError, match=r"at layer 0 \('entry_flow_conv1_1'\): kernel expected "
                                             r"\(3, 3, 3, 8\), found \(3, 3, 3, 4\)"):
        import_reference(tmp_path / "x.keras", source=str(checkpoints.folder), model=wider)
    shorter = dataclasses.replace(TINY, middle_units=MIDDLE_UNITS - 1)
    with pytest.raises(ModelFileError, match="holds 125 layers with weights, our network 113"):
        import_reference(tmp_path / "x.keras", source=str(checkpoints.folder), model=shorter)
    assert not (tmp_path / "x.keras").exists()


def test_sources_without_the_checkpoint_are_clear_errors(checkpoints, tmp_path):
    only_miou = tmp_path / "only_miou.zip"
    with zipfile.ZipFile(checkpoints.archive) as full, zipfile.ZipFile(only_miou, "w") as part:
        for member in full.infolist():
            if "best_loss" not in member.filename:
                part.writestr(member, full.read(member))
    with pytest.raises(ModelFileError, match="holds no best_loss/ folder"):
        import_reference(tmp_path / "x.keras", source=str(only_miou), best="loss", cache_dir=tmp_path, model=TINY)
    empty = tmp_path / "empty"
    shutil.copytree(checkpoints.folder, empty, ignore=shutil.ignore_patterns("*.index"))
    with pytest.raises(ModelFileError, match="holds no checkpoint for best_miou"):
        import_reference(tmp_path / "x.keras", source=str(empty), model=TINY)
    truncated = tmp_path / "truncated"
    shutil.copytree(checkpoints.folder, truncated)
    data = next(truncated.rglob("best_miou/*.data-*"))
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="is not a readable TensorFlow checkpoint"):
        import_reference(tmp_path / "x.keras", source=str(truncated), model=TINY)
    with pytest.raises(InputError, match="is neither a URL, a zip file nor a folder"):
        import_reference(tmp_path / "x.keras", source=str(tmp_path / "missing.zip"), model=TINY)
    (tmp_path / "x.keras").write_bytes(b"")
    with pytest.raises(OutputExistsError, match="already exists"):   # before any download
        import_reference(tmp_path / "x.keras", source="http://127.0.0.1:9/none.zip", model=TINY)
