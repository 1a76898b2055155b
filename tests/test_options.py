"""Every segmentation option is declared once (core/options.py); the command line derives its flags."""
import argparse

import pytest

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.options import OPTIONS, SPECS, SegmentationOptions
from landcover_qgis_plugin.core.vectorize import VectorOptions
from trainer import predict


def _predict_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    predict.add_parser(parser.add_subparsers())
    return parser


def test_every_option_is_a_predict_flag_with_the_declared_default():
    args = _predict_parser().parse_args(["predict", "in.tif", "--model", "m.keras"])
    assert {spec.name: getattr(args, spec.name) for spec in OPTIONS} == {
        spec.name: spec.default for spec in OPTIONS}
    assert SegmentationOptions(**{spec.name: getattr(args, spec.name) for spec in OPTIONS}) == SegmentationOptions()


def test_predict_flags_parse_into_engine_options():
    args = _predict_parser().parse_args([
        "predict", "in.tif", "--model", "m.keras", "--overlap", "0.1", "--batch-size", "2", "--device", "cpu",
        "--precision", "bfloat16", "--tta", "--bands", "3,2,1", "--extent", "1,2,3,4", "--mask-wkt", "POLYGON EMPTY",
        "--classes", "building, water", "--simplify", "0", "--min-area", "1.5", "--fill-holes", "0",
        "--square-buildings", "--max-vertices", "10", "--overwrite"])
    options = SegmentationOptions(**{spec.name: getattr(args, spec.name) for spec in OPTIONS})
    assert options == SegmentationOptions(
        overlap=0.1, batch_size=2, device="cpu", precision="bfloat16", tta=True, bands=(3, 2, 1),
        extent=(1.0, 2.0, 3.0, 4.0), mask_wkt="POLYGON EMPTY", classes=("building", "water"), simplify=0.0,
        min_area=1.5, fill_holes=0.0, square_buildings=True, max_vertices=10, overwrite=True)
    with pytest.raises(SystemExit):
        _predict_parser().parse_args(["predict", "in.tif", "--model", "m", "--device", "tpu"])


def test_the_vectoriser_takes_its_defaults_and_checks_from_the_declarations():
    assert VectorOptions() == VectorOptions(*(SPECS[name].default for name in (
        "simplify", "min_area", "fill_holes", "square_buildings", "max_vertices")))
    with pytest.raises(InputError, match=r"Minimum polygon area \(min_area\) -1"):
        VectorOptions(min_area=-1)


def test_every_declaration_is_complete_and_its_default_passes_its_own_check():
    for spec in OPTIONS:
        assert spec.label and spec.help.endswith("."), spec.name
        spec.check(spec.default)
        if spec.choices:
            assert spec.default in spec.values
    SegmentationOptions().check()
    with pytest.raises(InputError, match=r"Batch size \(batch_size\) True is out of range"):
        SegmentationOptions(batch_size=True).check()
