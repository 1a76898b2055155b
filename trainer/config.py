"""Run configurations: one YAML file per run, read into small typed dataclasses.

Every field has the reference run 5.10's value as its default, and a file may name another as
its `base:` (a bundled name such as `run_5_10`, or a path relative to the file), so each file
states only what differs from the run it varies. Bases chain; a cycle is an error naming the
chain. The file's settings are merged over its base's: nested mappings (`data`, `model`,
`train`) key by key, anything else replaces what the base says, lists included, so a file that
changes any stage lists all of `train.stages`. `output_dir` is not inherited: without one of
its own a run writes to `runs/<name>`, so two configs never share a run folder by accident.
Unknown keys are an error naming the key and the file, so a typo never silently falls back to
a default.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from landcover_qgis_plugin.core.errors import InputError
from landcover_qgis_plugin.core.networks.config import NetworkConfig

from .data.classes import class_set

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


@dataclass
class DataConfig:
    root: str = "data/landcoverai"        # prepared tiles: output of `python -m trainer data`
    tile_size: int = 512
    normalization: str = "unit"           # unit: x/255; symmetric: [-1, 1]
    augmentation: str = "none"            # none | double (5.11: every tile twice) | random (5.12: p=0.5) | wide
    shuffle: bool = False
    exclude_list: Optional[str] = None    # tile ids to leave out of training, one per line
    classes: str = "landcover"            # landcover (LandCover.ai's 5) | roads (background/road): data/classes.py
    parallel_calls: int = -1              # -1: tf.data.AUTOTUNE
    max_tiles: Optional[int] = None       # per split; for smoke runs


@dataclass
class ModelConfig(NetworkConfig):
    """The network (core/networks/config.py) and the weights a run starts from."""
    pretrained: Optional[str] = None      # local weights file (.h5 / .weights.h5), loaded by layer name


@dataclass
class StageConfig:
    learning_rate: float = 1e-4
    epochs: int = 30
    patience: int = 3                     # early stopping on val mIoU, mode max
    freeze: Union[str, int, None] = "middle"  # stage name ("entry", "middle", "backbone"), layer index, or none
    optimizer: str = "adam"
    reload_best: bool = False             # start from the best weights so far


@dataclass
class TrainConfig:
    loss: str = "dice"                    # dice | sparse_ce | weighted_ce | focal | dice_ce
    class_weights: Union[str, list, None] = None  # null | inverse_frequency | list of floats
    batch_size: int = 2
    steps_per_epoch: Optional[int] = None  # null: one pass over the training tiles
    validation_steps: Optional[int] = None
    mixed_precision: bool = False
    strategy: str = "default"             # default | one_device | mirrored | multi_worker
    seed: int = 0
    gan_lambda: Optional[float] = None    # train adversarially (trainer/models/gan.py): adversarial + lambda x loss
    monitor: str = "miou"                 # the val score for best weights and early stopping: miou | <class>_iou
    stages: list = field(default_factory=lambda: [
        StageConfig(learning_rate=1e-4),
        StageConfig(learning_rate=1e-5, reload_best=True),
    ])


@dataclass
class RunConfig:
    name: str = "5.10"
    description: str = ""
    output_dir: str = "runs/5.10"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls, values: Any, where: str):
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise InputError(f"{where}: expected a mapping, got {type(values).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(known)}")
    kwargs = {}
    for key, value in values.items():
        nested = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}.get(key)
        if cls is RunConfig and nested:
            value = _build(nested, value, f"{where}.{key}")
        elif cls is TrainConfig and key == "stages":
            if not isinstance(value, (list, type(None))):
                raise InputError(f"{where}.stages: expected a list of stages, got {type(value).__name__}")
            value = [_build(StageConfig, v, f"{where}.stages[{i}]") for i, v in enumerate(value or [])]
        kwargs[key] = value
    return cls(**kwargs)


def resolve_config_path(path: str | Path, named_in: Optional[Path] = None) -> Path:
    """A path as given, else a file of the bundled configs: `configs/tiny.yaml`, `tiny.yaml` or `tiny`.

    `named_in` is the config whose `base:` names `path`: a relative path is then taken from its folder.
    """
    candidate = named_in.parent / path if named_in is not None else Path(path)
    if candidate.is_file():
        return candidate
    name = candidate.name if candidate.suffix else candidate.name + ".yaml"
    bundled = CONFIG_DIR / name
    if bundled.is_file():
        return bundled
    available = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
    what = f"Base config '{path}' of {named_in}" if named_in is not None else f"Config '{path}'"
    raise InputError(f"{what} not found; give a YAML path or one of: {available}")


def _merge(base: dict, settings: dict) -> dict:
    """`settings` over `base`: mappings merge key by key (an empty one changes nothing), the rest replaces."""
    merged = dict(base)
    for key, value in settings.items():
        if isinstance(merged.get(key), dict) and (value is None or isinstance(value, dict)):
            value = _merge(merged[key], value or {})
        merged[key] = value
    return merged


def _resolved_settings(source: Path, chain: tuple[Path, ...] = ()) -> dict:
    """The settings of `source` merged over those of its chain of bases (without their output_dir)."""
    chain = (*chain, source.resolve())
    try:
        settings = yaml.safe_load(source.read_text()) or {}
    except yaml.YAMLError as error:
        raise InputError(f"{source} is not valid YAML ({error}); fix the file.".replace("\n", " ")) from None
    if not isinstance(settings, dict):
        raise InputError(f"{source}: expected a mapping of settings, got {type(settings).__name__}")
    base = settings.pop("base", None)
    _build(RunConfig, settings, str(source))     # refuses unknown keys, naming the file that has them
    if base is None:
        return settings
    if not isinstance(base, str):
        raise InputError(f"{source}: base must be a config name or path, got {base!r}")
    base_source = resolve_config_path(base, named_in=source)
    if base_source.resolve() in chain:
        cycle = " -> ".join(str(path) for path in (*chain, base_source.resolve()))
        raise InputError(f"{source}: its bases form a cycle: {cycle}")
    inherited = _resolved_settings(base_source, chain)
    inherited.pop("output_dir", None)
    return _merge(inherited, settings)


def load_config(path: str | Path, overrides: Optional[dict] = None) -> RunConfig:
    """Read a run config and its bases; `overrides` maps dotted keys (e.g. 'train.batch_size') to values."""
    source = resolve_config_path(path)
    raw = _resolved_settings(source)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for depth, part in enumerate(parents):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError(f"Override '{dotted}': '{'.'.join(parents[:depth + 1])}' is not a section "
                                 "of the config.")
        node[leaf] = value
    config = _build(RunConfig, raw, str(source))
    if "output_dir" not in raw:
        config.output_dir = f"runs/{config.name}"
    _settle_classes(config, raw, source)
    return config


def _settle_classes(config: RunConfig, raw: dict, source: Path) -> None:
    """The network's class count follows data.classes unless the file sets it; the monitor must name a score."""
    classes = class_set(config.data.classes)
    if "num_classes" not in (raw.get("model") or {}):
        config.model.num_classes = len(classes)
    elif "classes" in (raw.get("data") or {}) and config.model.num_classes != len(classes):
        raise InputError(f"{source}: model.num_classes is {config.model.num_classes} but data.classes "
                         f"'{config.data.classes}' has {len(classes)} classes; leave num_classes out to follow it.")
    scores = ["miou", *(f"{info.name}_iou" for info in classes)]
    if config.train.monitor not in scores:
        raise InputError(f"{source}: train.monitor '{config.train.monitor}' is not a score of data.classes "
                         f"'{config.data.classes}'; use one of {scores}.")
