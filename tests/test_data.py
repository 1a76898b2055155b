"""LandCover.ai preparation: official tile numbering, tile cutting, download, archive and folder sources."""
import argparse
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.geotiff import write_geotiff
from trainer import cli
from trainer.data import landcoverai
from trainer.data.landcoverai import DownloadError, download, prepare
from trainer.data.tiles import cut_tiles, grid_cells, tile_ids

HEIGHT, WIDTH = 1100, 1600          # 3 x 4 grid cells of 512 px, 6 of them full
ORIGIN = (500_000.0, 600_000.0)


def _pattern(height=HEIGHT, width=WIDTH):
    """An RGB image whose every 512 px window differs, and a 5-class mask with exact values."""
    rows, cols = np.mgrid[0:height, 0:width]
    rgb = np.stack([cols * 255 // width, rows * 255 // height,
                    ((rows // 64 + cols // 64) % 2) * 120 + 60], axis=-1).astype(np.uint8)
    mask = ((rows // 100 + 3 * (cols // 150)) % 5).astype(np.uint8)
    return rgb, mask


def _dataset(folder: Path, stem="N-34-1-A-a-1-1") -> Path:
    """A LandCover.ai-shaped folder: images/, masks/ and the three lists, with one orthophoto."""
    rgb, mask = _pattern()
    for name, array in (("images", rgb), ("masks", mask)):
        (folder / name).mkdir(parents=True)
        write_geotiff(folder / name / f"{stem}.tif", array, ORIGIN, 0.25)
    ids = tile_ids(stem, HEIGHT, WIDTH)
    for split, chosen in (("train", ids[:4]), ("val", ids[4:5]), ("test", ids[5:])):
        (folder / f"{split}.txt").write_text("\n".join(chosen) + "\n")
    return folder


def _read(path: Path) -> np.ndarray:
    dataset = gdal.Open(str(path))
    array = dataset.ReadAsArray()
    dataset = None
    return array


def _zip(folder: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


def test_official_numbering_counts_dropped_edge_cells():
    # range(0, 1100, 512) x range(0, 1600, 512) = 3 x 4 cells, row-major; only rows 0-1 and columns 0-2
    # are full, so the kept numbers skip 3 (right edge of row 0) and 7 and 8..11.
    assert tile_ids("img", HEIGHT, WIDTH) == ["img_0", "img_1", "img_2", "img_4", "img_5", "img_6"]
    assert [(c.row, c.col) for c in grid_cells(HEIGHT, WIDTH)] == [
        (0, 0), (0, 512), (0, 1024), (512, 0), (512, 512), (512, 1024)]
    assert tile_ids("img", 1024, 1024) == ["img_0", "img_1", "img_2", "img_3"]
    assert tile_ids("img", 511, 4000) == []
    assert tile_ids("img", 300, 200, tile_size=100) == [f"img_{k}" for k in range(6)]


def test_tiles_hold_the_source_windows(tmp_path):
    source = _dataset(tmp_path / "src")
    out = tmp_path / "output"
    assert cut_tiles(source / "images", source / "masks", out) == 6
    rgb, mask = _pattern()
    stem = "N-34-1-A-a-1-1"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(
        [f"{stem}_{k}.jpg" for k in (0, 1, 2, 4, 5, 6)] + [f"{stem}_{k}_m.png" for k in (0, 1, 2, 4, 5, 6)])
    for k in (0, 1, 2, 4, 5, 6):
        row, col = divmod(k, 4)
        window = (slice(row * 512, row * 512 + 512), slice(col * 512, col * 512 + 512))
        image = np.moveaxis(_read(out / f"{stem}_{k}.jpg"), 0, -1).astype(int)
        labels = _read(out / f"{stem}_{k}_m.png")
        assert image.shape == (512, 512, 3) and labels.shape == (512, 512)
        assert np.array_equal(labels, mask[window])                      # PNG: lossless, one band
        assert np.abs(image - rgb[window]).mean() < 2.5                  # JPEG: close to its own window
        other = (window[0], slice((col + 1) % 3 * 512, (col + 1) % 3 * 512 + 512))
        assert np.abs(image - rgb[other]).mean() > 20                    # ... and not to a neighbour's
    # Quality 95 (OpenCV's default): libjpeg scales the first luminance quantiser 16 to 2.
    data = (out / f"{stem}_0.jpg").read_bytes()
    assert data[data.index(b"\xff\xdb") + 5] == 2


def test_rerun_does_no_work_and_a_changed_source_is_cut_again(tmp_path):
    source = _dataset(tmp_path / "src")
    out = tmp_path / "output"
    assert cut_tiles(source / "images", source / "masks", out) == 6

    def stamps():
        return {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    before = stamps()
    assert cut_tiles(source / "images", source / "masks", out) == 6
    assert stamps() == before
    rgb, _ = _pattern()
    write_geotiff(source / "images" / "N-34-1-A-a-1-1.tif", 255 - rgb, ORIGIN, 0.25, overwrite=True)
    assert cut_tiles(source / "images", source / "masks", out) == 6
    after = stamps()
    assert all(after[p] != before[p] for p in before if p.suffix == ".jpg")
    assert np.abs(np.moveaxis(_read(out / "N-34-1-A-a-1-1_0.jpg"), 0, -1).astype(int)
                  - (255 - rgb[:512, :512])).mean() < 2.5


def test_image_without_mask_is_a_clear_error(tmp_path):
    source = _dataset(tmp_path / "src")
    (source / "masks" / "N-34-1-A-a-1-1.tif").unlink()
    with pytest.raises(InputError, match="No mask for image 'N-34-1-A-a-1-1'"):
        cut_tiles(source / "images", source / "masks", tmp_path / "output")


def test_download_whole_file(server, tmp_path):
    server.payload = _zip(_dataset(tmp_path / "src"))
    target = download(server.url, tmp_path / "dl" / "landcover.ai.v1.zip")
    assert target.read_bytes() == server.payload
    assert not target.with_name(target.name + ".part").exists()
    assert server.ranges == [None]


def test_download_resumes_a_partial_file(server, tmp_path):
    server.payload = _zip(_dataset(tmp_path / "src"))
    target = tmp_path / "landcover.ai.v1.zip"
    half = len(server.payload) // 2
    target.with_name(target.name + ".part").write_bytes(server.payload[:half])
    download(server.url, target)
    assert server.ranges == [f"bytes={half}-"]
    assert target.read_bytes() == server.payload


def test_download_finishes_a_complete_part_without_downloading_again(server, tmp_path):
    server.payload = _zip(_dataset(tmp_path / "src"))
    target = tmp_path / "landcover.ai.v1.zip"
    target.with_name(target.name + ".part").write_bytes(server.payload)    # interrupted before the rename
    download(server.url, target)
    assert server.ranges == [f"bytes={len(server.payload)}-"]              # answered 416: nothing left
    assert target.read_bytes() == server.payload


def test_download_shorter_than_announced_is_an_error_and_can_resume(server, tmp_path):
    server.payload = _zip(_dataset(tmp_path / "src"))
    server.announce_extra = 1000
    target = tmp_path / "landcover.ai.v1.zip"
    with pytest.raises(DownloadError, match=f"stopped at {len(server.payload):,} of {len(server.payload) + 1000:,}"):
        download(server.url, target)
    assert not target.exists()
    assert target.with_name(target.name + ".part").stat().st_size == len(server.payload)


def test_download_with_bad_crc_is_rejected_and_deleted(server, tmp_path):
    folder = _dataset(tmp_path / "src")
    (folder / "notes.txt").write_text("CHECKSUMMED-CONTENT-0123456789")
    payload = _zip(folder)
    server.payload = payload.replace(b"CHECKSUMMED-CONTENT-0123456789", b"CHECKSUMMED-CONTENT-0123456780")
    target = tmp_path / "landcover.ai.v1.zip"
    with pytest.raises(DownloadError, match="CRC check failed for 'notes.txt'"):
        download(server.url, target)
    assert not target.exists() and not target.with_name(target.name + ".part").exists()


def test_download_with_wrong_sha256_is_rejected(server, tmp_path):
    server.payload = _zip(_dataset(tmp_path / "src"))
    with pytest.raises(DownloadError, match="SHA-256"):
        download(server.url, tmp_path / "landcover.ai.v1.zip", sha256="0" * 64)


def test_offline_gives_one_message_naming_the_url_and_the_way_out(tmp_path, capsys, unused_port):
    url = f"http://127.0.0.1:{unused_port}/download/landcover.ai.v1.zip"
    with pytest.raises(DownloadError) as error:
        download(url, tmp_path / "landcover.ai.v1.zip")
    message = str(error.value)
    assert url in message and "--source /path/to/landcover.ai.v1.zip" in message
    assert str(tmp_path / "landcover.ai.v1.zip") in message
    # Through the command: exit status 2 and that single line.
    assert cli.main(["data", "--source", url, "--root", str(tmp_path / "root")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Cannot download " + url) and "\n" not in err


def test_prepare_from_url_cuts_tiles_and_installs_lists(server, tmp_path):
    server.payload = _zip(_dataset(tmp_path / "src"))
    root = tmp_path / "root"
    summary = prepare(server.url, root)
    assert summary == {"tiles": 6, "splits": {"train": 4, "val": 1, "test": 1}, "missing": []}
    assert (root / "landcover.ai.v1.zip").read_bytes() == server.payload
    assert (root / "train.txt").read_text() == (tmp_path / "src" / "train.txt").read_text()
    assert len(list((root / "output").glob("*.jpg"))) == 6
    # Again: no download (the archive is there), no extraction, no cutting, no copying.
    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    assert prepare(server.url, root)["tiles"] == 6
    assert server.ranges == [None]
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == stamps


def test_prepare_from_archive_with_a_top_folder(tmp_path):
    archive = tmp_path / "landcover.ai.v1.zip"
    archive.write_bytes(_zip(_dataset(tmp_path / "src"), prefix="landcover.ai.v1/"))
    root = tmp_path / "root"
    assert prepare(str(archive), root)["tiles"] == 6
    assert (root / "images" / "N-34-1-A-a-1-1.tif").is_file()
    assert (root / "val.txt").read_text().split() == ["N-34-1-A-a-1-1_5"]
    with pytest.raises(InputError, match="SHA-256"):
        prepare(str(archive), tmp_path / "other", sha256="f" * 64)


def test_corrupt_local_archive_is_an_error_and_leaves_nothing_half_written(tmp_path):
    folder = _dataset(tmp_path / "src")
    (folder / "train.txt").write_text("CHECKSUMMED-CONTENT-0123456789\n")
    archive = tmp_path / "landcover.ai.v1.zip"
    archive.write_bytes(_zip(folder).replace(b"CHECKSUMMED-CONTENT-0123456789", b"CHECKSUMMED-CONTENT-0123456780"))
    root = tmp_path / "root"
    with pytest.raises(InputError, match="corrupt"):
        prepare(str(archive), root)
    assert not (root / "train.txt").exists() and not list(root.rglob("*.part*"))


def test_prepare_from_folder_via_the_command(tmp_path, capsys):
    source = _dataset(tmp_path / "src")
    root = tmp_path / "root"
    parser = argparse.ArgumentParser()
    landcoverai.add_parser(parser.add_subparsers())
    args = parser.parse_args(["data", "--source", str(source), "--root", str(root)])
    assert args.func(args) == 0
    assert "6 tiles" in capsys.readouterr().out
    assert sorted(p.name for p in root.iterdir()) == ["output", "test.txt", "train.txt", "val.txt"]
    # Other tile sizes cut fine, but the lists then name tiles that do not exist: a warning says so.
    args = parser.parse_args(["data", "--source", str(source), "--root", str(tmp_path / "small"), "--tile-size", "256"])
    assert args.func(args) == 0
    assert "assume --tile-size 512" in capsys.readouterr().err
    with pytest.raises(InputError, match="not a URL, an archive or a folder"):
        prepare(str(tmp_path / "nothing-here"), root)
    os.rename(source / "masks", source / "labels")
    with pytest.raises(InputError, match="has no masks/ folder"):
        prepare(str(source), root)
