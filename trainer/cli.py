"""`python -m trainer COMMAND`: one sub-command per module, each registering its own arguments.

Command modules import TensorFlow inside their run functions, so `--help` and argument errors
come back at once.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from landcover_qgis_plugin.core.errors import LandcoverError

# (sub-command, module that defines add_parser(subparsers))
COMMANDS = (
    ("synth", "trainer.data.synth.cli"),
    ("data", "trainer.data.landcoverai"),
    ("fit", "trainer.fit"),
    ("evaluate", "trainer.evaluate"),
    ("export", "trainer.export"),
    ("import-reference", "trainer.reference"),
    ("predict", "trainer.predict"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for _name, module in COMMANDS:
        importlib.import_module(module).add_parser(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except LandcoverError as error:
        # A problem the user can act on: one clear line. Anything else is a bug and keeps its traceback.
        print(f"error: {error}", file=sys.stderr)
        return 2
