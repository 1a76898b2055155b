"""`python -m trainer COMMAND`: one sub-command per module, each registering its own arguments.

Command modules import TensorFlow inside their run functions, so `--help` and argument errors
come back at once.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
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
    ("finetune", "trainer.finetune.command"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for _name, module in COMMANDS:
        importlib.import_module(module).add_parser(subparsers)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (what SLURM, Kubernetes and systemd send to stop a job), taken as Ctrl-C: every output
    in progress is cleaned up the same way, and nothing half-written is left."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: Optional[Sequence[str]] = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return int(args.func(args) or 0)
    except Terminated:
        print("Terminated (SIGTERM); nothing half-written was left.", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except LandcoverError as error:
        # A problem the user can act on: one clear line. Anything else is a bug and keeps its traceback.
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
