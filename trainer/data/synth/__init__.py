"""Synthetic LandCover.ai-shaped data: orthophotos of Polish countryside with their masks.

The real archive cannot be downloaded everywhere (CI, offline machines), yet every stage of the
project needs orthophotos with ground truth: tests, benchmarks, the plugin's sample and the demo.
The scenes imitate what the real classes look like from above: strip fields with tramlines and
balks, forests of sunlit crowns casting shadows, dark lakes and rivers with lighter shallows,
asphalt and gravel roads that branch and cross, villages of gable and hip roofs along the roads
with yards and garden trees. Every size is in metres, so a scene looks alike at 25 and 50 cm/px,
and class areas follow the real dataset's proportions. Everything is vectorised numpy/scipy.

Modules, from the bottom up: `primitives` (canvas, noise, masks, centre lines), the features
`landscape` (roads, farmland, woods, water), `villages` and `trees`, `painting` (their colours),
`scene` (`generate_scene`), `dataset` (`write_dataset`: plans, split lists, manifest) and `cli`
(`python -m trainer synth`).
"""
from .dataset import POLAND_BOX_M, write_dataset
from .primitives import BACKGROUND, BUILDING, CLASS_FRACTIONS, ROAD, WATER, WOODLAND
from .scene import generate_scene

__all__ = ["BACKGROUND", "BUILDING", "CLASS_FRACTIONS", "POLAND_BOX_M", "ROAD", "WATER", "WOODLAND", "generate_scene",
           "write_dataset"]
