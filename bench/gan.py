"""`python -m bench.gan` (part of `make bench-train`): DeepLabv3+ against MUNet alone and the MUNet GAN.

The reference's unfinished GAN, measured here as issue 11 asks: the three tiny configs (`tiny`,
`munet_tiny`, `munet_gan_tiny`) trained on the same synthetic tiles with the same budget (their own
stages and learning rates, 6 + 2 epochs at most with early stopping on val mIoU, every epoch
`--steps-per-epoch` steps of batch 4), each in its own
`python -m trainer fit` process as a user runs it, then scored by `python -m trainer evaluate` on the
same held-out test tiles: mIoU and road IoU. Results: bench/results/gan.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.inference import machine, save_results  # noqa: E402

RESULTS = REPO / "bench" / "results"
CONFIGS = {"tiny": "DeepLabv3+ (tiny: 1/8 width, 1 middle unit)", "munet_tiny": "MUNet alone (1/4 width)",
           "munet_gan_tiny": "MUNet GAN (1/4 width, lambda 10)"}
SEED, IMAGES, SIZE, TILE = 11, 6, 2048, 128


def trainer(folder: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trainer", *args], cwd=folder, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    if done.returncode:
        raise RuntimeError(f"trainer {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def markdown(results: dict) -> str:
    host = results["machine"]
    lines = ["# DeepLabv3+, MUNet and the MUNet GAN on the same tiles", "",
             f"Machine: {host['cpu']} ({host['cores']} cores), CPU. Run: `{results['command']}` "
             f"({results['seconds'] / 60:.1f} min). Data: `trainer synth --seed {SEED} --images {IMAGES} --size "
             f"{SIZE}` cut into {TILE} px tiles; each config trained by `trainer fit` (its own stages, at most "
             f"6 + 2 epochs of {results['steps_per_epoch']} steps of batch 4), scored by `trainer evaluate --split "
             f"test` ({results['test_tiles']} held-out tiles).", "",
             "| network | test mIoU | road IoU | building | woodland | water | epochs | fit seconds | "
             "collapse reported |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, run in results["runs"].items():
        iou = run["per_class_iou"]
        lines.append(f"| {CONFIGS[name]} | {run['miou']:.3f} | {iou['road']:.3f} | {iou['building']:.3f} | "
                     f"{iou['woodland']:.3f} | {iou['water']:.3f} | {run['epochs']} | {run['seconds']:.0f} | "
                     f"{'yes' if run['collapse_reported'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gan", description=__doc__.splitlines()[0])
    parser.add_argument("--steps-per-epoch", type=int, default=120, help="the same for every config")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {"command": " ".join(["python -m bench.gan", *(argv if argv is not None else sys.argv[1:])]),
               "machine": machine(), "steps_per_epoch": args.steps_per_epoch, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="landcover-gan-") as folder:
        work = Path(folder)
        trainer(work, "synth", "--out", "synth", "--seed", str(SEED), "--images", str(IMAGES), "--size", str(SIZE),
                "--tile-size", str(TILE))
        trainer(work, "data", "--source", "synth", "--root", "tiles", "--tile-size", str(TILE))
        for name in CONFIGS:
            print(f"{name} ...", flush=True)
            tick = time.perf_counter()
            log = trainer(work, "fit", "--config", name, "--set", "data.root=tiles", "--set", f"output_dir=runs/{name}",
                          "--set", f"train.steps_per_epoch={args.steps_per_epoch}")
            seconds = time.perf_counter() - tick
            trainer(work, "evaluate", "--run", f"runs/{name}", "--split", "test")
            metrics = json.loads((work / "runs" / name / "evaluation" / "test" / "metrics.json").read_text())
            state = json.loads((work / "runs" / name / "state.json").read_text())
            results["test_tiles"] = metrics["tiles"]
            results["runs"][name] = {"miou": metrics["miou"], "per_class_iou": metrics["per_class_iou"],
                                     "epochs": sum(len(stage["epochs"]) for stage in state["stages"]),
                                     "best_val_miou": state["best_score"], "seconds": seconds,
                                     "collapse_reported": "GAN collapse" in log}
    results["seconds"] = time.perf_counter() - started
    save_results(args.out, "gan", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
