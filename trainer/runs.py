"""Where a training run keeps its files, so fit, evaluate and export agree on one layout."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from landcover_qgis_plugin.core.errors import InputError, ModelFileError

from .config import RunConfig, load_config


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:          # the resolved config the run was started with
        return self.root / "config.yaml"

    @property
    def best_weights(self) -> Path:    # best weights by the monitored val score so far
        return self.root / "best.weights.h5"

    @property
    def backup_dir(self) -> Path:      # resume state (weights, optimizer, epoch, stage)
        return self.root / "backup"

    @property
    def state(self) -> Path:           # JSON: stage reached, best score, finished flag
        return self.root / "state.json"

    @property
    def history(self) -> Path:         # CSV, one row per epoch across stages
        return self.root / "history.csv"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def evaluation(self) -> Path:      # `trainer evaluate` output folder (one per split inside)
        return self.root / "evaluation"


def load_run_config(run_dir: str | Path) -> RunConfig:
    paths = RunPaths(Path(run_dir))
    if not paths.config.is_file():
        raise InputError(f"'{run_dir}' is not a training run folder (no config.yaml); "
                         "train one with 'python -m trainer fit --config ...'.")
    return load_config(paths.config)


def load_run_model(run_dir: str | Path):
    """Rebuild a run's network from its config and load its best weights."""
    from .models import build_model

    paths = RunPaths(Path(run_dir))
    config = load_run_config(run_dir)
    if not paths.best_weights.is_file():
        raise ModelFileError(f"Run '{run_dir}' has no best weights yet ({paths.best_weights}); "
                             "let 'python -m trainer fit' finish at least one epoch.")
    model = build_model(config.model)
    try:
        model.load_weights(paths.best_weights)
    except (OSError, ValueError) as error:  # Keras and h5py say so for a truncated or foreign file
        raise ModelFileError(f"Run '{run_dir}': its best weights {paths.best_weights} cannot be loaded ({error}); "
                             "the file may be truncated: train again or restore it.") from None
    return model, config
