"""`python -m bench.train` (`make bench-train`): throughput and peak memory of training steps.

`python -m bench.train [--out bench/results/train.json] [--mixed-precision]` measures, for the
tiny and the full DeepLabv3+ (the `tiny` and `default` configs), tiles per second over a fixed
number of training steps after warm-up steps (the first steps compile the step function and are
not timed), on synthetic in-memory batches, so the number is the model's and not the input
pipeline's. Each model is measured in a fresh subprocess, so its
peak resident memory (getrusage's max RSS) is its own and not the sum of both. Forward FLOPs per
512 px tile come from trainer.models.forward_flops.

It needs Keras alone: the training step is Model.train_on_batch on numpy arrays, so it also runs on
the JAX (or PyTorch) backend, e.g. on a GPU machine without TensorFlow: `KERAS_BACKEND=jax`.
Results: JSON (everything, with machine information) and a Markdown table beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from trainer.training.hardware import avoid_onednn_training_crash  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# model name -> (bundled config whose network and batch size are measured, default timed steps on CPU, on GPU)
MODELS = {"tiny": ("tiny", 100, 200), "full": ("default", 10, 100)}
WARMUP_STEPS = 3
FLOPS_TILE = 512


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10   # bytes on macOS, KiB on Linux


def accelerator() -> Optional[str]:
    """The GPU's name on whichever Keras backend is running; None on a CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        device = jax.devices()[0]
        return device.device_kind if device.platform == "gpu" else None
    if backend == "tensorflow":
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else None
    if backend == "torch":
        import torch
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return None


def gpu_peak_mb() -> float:
    """Peak GPU memory allocated so far by this process's backend (call after the work)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        return (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0) / 2**20
    if backend == "tensorflow":
        import tensorflow as tf
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    import torch
    return torch.cuda.max_memory_allocated() / 2**20


def measure(model_name: str, steps: Optional[int], warmup: int, mixed_precision: bool) -> dict:
    """Time `steps` training steps of one model (run this in its own process: see module docstring)."""
    import numpy as np
    import keras

    from trainer.config import load_config
    from trainer.losses import get_loss
    from trainer.metrics import miou_metric
    from trainer.models import build_model, forward_flops, freeze

    config_name, cpu_steps, gpu_steps = MODELS[model_name]
    config = load_config(config_name)
    gpu = accelerator()
    steps = steps or (gpu_steps if gpu else cpu_steps)
    baseline_rss = _peak_rss_mb()
    if mixed_precision:
        keras.config.set_dtype_policy("mixed_float16" if gpu else "mixed_bfloat16")
    precision = keras.config.dtype_policy().name
    keras.utils.set_random_seed(0)
    model = build_model(config.model)
    stage = config.train.stages[0]
    freeze(model, stage.freeze)
    model.compile(optimizer=keras.optimizers.Adam(stage.learning_rate),
                  loss=get_loss(config.train.loss, config.model.num_classes, config.train.class_weights),
                  metrics=[miou_metric(config.model.num_classes)])
    size, batch = config.model.input_size, config.train.batch_size
    rng = np.random.default_rng(0)
    images = rng.normal(size=(batch, size, size, 3)).astype("float32")
    masks = rng.integers(0, config.model.num_classes, size=(batch, size, size)).astype("int32")

    start = time.perf_counter()
    for _ in range(warmup):
        model.train_on_batch(images, masks)      # returns host floats: each step is finished
    warmup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, masks)
    seconds = time.perf_counter() - start
    peak_rss, gpu_peak = _peak_rss_mb(), (gpu_peak_mb() if gpu else None)   # before the FLOPs model below

    keras.config.set_dtype_policy("float32")
    flops_config = load_config(config_name, {"model.input_size": FLOPS_TILE})
    flops_512 = forward_flops(build_model(flops_config.model))
    tiles_per_second = steps * batch / seconds
    return {
        "model": model_name, "config": config_name, "tile_size": size, "batch_size": batch,
        "output_stride": config.model.output_stride, "width": config.model.width,
        "middle_units": config.model.middle_units, "freeze": stage.freeze, "loss": config.train.loss,
        "precision": precision,
        "parameters": int(model.count_params()),
        "trainable_parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "warmup_steps": warmup, "warmup_seconds": round(warmup_seconds, 2),
        "timed_steps": steps, "seconds": round(seconds, 3),
        "step_ms": round(1000 * seconds / steps, 2),
        "tiles_per_second": round(tiles_per_second, 3),
        "megapixels_per_second": round(tiles_per_second * size * size / 1e6, 3),
        "forward_gflops_per_512px_tile": round(flops_512 / 1e9, 3),
        "peak_rss_mb": round(peak_rss, 1),
        "rss_before_model_mb": round(baseline_rss, 1),
        "gpu_peak_mb": None if gpu_peak is None else round(gpu_peak, 1),
        "machine": machine_info(),
    }


def machine_info() -> dict:
    import keras

    gpu = accelerator()
    backend = keras.backend.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    return {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "keras": keras.__version__, "backend": backend,
        "backend_version": getattr(__import__(backend_module), "__version__", "?") if backend_module else "?",
        "gpu": gpu,
    }


def _run_worker(model_name: str, args: argparse.Namespace) -> dict:
    """One model's measurement in a fresh process (the parent never touches the accelerator)."""
    command = [sys.executable, "-m", "bench.train", "--worker", model_name, "--warmup", str(args.warmup)]
    if args.steps:
        command += ["--steps", str(args.steps)]
    if args.mixed_precision:
        command.append("--mixed-precision")
    print(f"Measuring the {model_name} model ...", flush=True)
    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if finished.returncode != 0:
        raise RuntimeError(f"The {model_name} benchmark failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def markdown(report: dict) -> str:
    machine = report["machine"]
    device = machine["gpu"] or f"CPU ({machine['cpu_count']} cores, {machine['processor']})"
    lines = [
        "# Training benchmark",
        "",
        f"{device}; Keras {machine['keras']} on {machine['backend']} {machine['backend_version']}; "
        f"Python {machine['python']}; {machine['platform']}.",
        "Synthetic in-memory batches, timed after warm-up steps; peak RSS per model in its own process.",
        "",
        "| model | tile px | batch | precision | trainable / all params | step ms | tiles/s | Mpx/s "
        "| forward GFLOP per 512 px tile | peak RSS MB | GPU peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['model']} | {r['tile_size']} | {r['batch_size']} | {r['precision']} | "
            f"{r['trainable_parameters']:,} / {r['parameters']:,} | {r['step_ms']} | {r['tiles_per_second']} | "
            f"{r['megapixels_per_second']} | {r['forward_gflops_per_512px_tile']} | {r['peak_rss_mb']} | "
            f"{r['gpu_peak_mb'] if r['gpu_peak_mb'] is not None else '-'} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "train.json",
                        help="JSON results (a .md table goes beside; default: bench/results/train.json)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ", ".join(MODELS))
    parser.add_argument("--steps", type=int, help="timed steps per model (default: tiny 100 / full 10 on CPU, "
                                                  "200 / 100 on a GPU)")
    parser.add_argument("--warmup", type=int, default=WARMUP_STEPS, help="untimed steps first (default %(default)s)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="mixed_float16 on a GPU, mixed_bfloat16 on a CPU")
    parser.add_argument("--worker", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if (args.steps is not None and args.steps < 1) or args.warmup < 0:
        parser.error("--steps must be at least 1 and --warmup at least 0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.worker:
        from trainer.config import load_config
        avoid_onednn_training_crash(load_config(MODELS[args.worker][0]).model.width)   # as fit does
        print(json.dumps(measure(args.worker, args.steps, args.warmup, args.mixed_precision)))
        return 0
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown or not names:
        parser.error(f"--models: unknown {unknown}; choose from {', '.join(MODELS)}")
    results = [_run_worker(name, args) for name in names]
    report = {"machine": results[0].pop("machine"), "results": results}
    for result in results[1:]:
        result.pop("machine")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"Wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
