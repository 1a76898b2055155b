"""Evaluation figures, drawn with matplotlib's Agg canvas (no display, no pyplot global state)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from landcover_qgis_plugin.core.files import atomic_output
from landcover_qgis_plugin.core.modelfile import ClassInfo


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | Path) -> Path:
    with atomic_output(path, overwrite=True) as tmp:
        figure.savefig(tmp, format="png")
    return Path(path)


def per_class_iou_chart(per_class_iou: Mapping[str, Optional[float]], miou: float, path: str | Path,
                        colors: Mapping[str, str], reference: Optional[Mapping[str, float]] = None,
                        reference_miou: Optional[float] = None, title: str = "Per-class IoU") -> Path:
    """Bars per class in the class colours, a line at the mIoU; reference bars beside them when given."""
    names = list(per_class_iou)
    values = [np.nan if per_class_iou[n] is None else per_class_iou[n] for n in names]
    positions = np.arange(len(names))
    width = 0.4 if reference else 0.7
    figure = _figure(max(6.0, 1.2 * len(names) + 2), 4.5)
    axes = figure.add_subplot()
    bars = axes.bar(positions - (width / 2 if reference else 0), np.nan_to_num(values), width,
                    color=[colors.get(n, "#888888") for n in names], edgecolor="black", label="this model")
    for bar, value in zip(bars, values):
        label = "n/a" if math.isnan(value) else f"{value:.3f}"
        axes.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                      va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    axes.axhline(miou, color="black", linestyle="--", label=f"mIoU {miou:.3f}")
    if reference:
        reference_values = [reference.get(n, np.nan) for n in names]
        axes.bar(positions + width / 2, np.nan_to_num(reference_values), width, color="white",
                 edgecolor="grey", hatch="//", label="reference run 5.10")
        if reference_miou is not None:
            axes.axhline(reference_miou, color="grey", linestyle=":", label=f"reference mIoU {reference_miou:.3f}")
    axes.set_xticks(positions, names)
    axes.set_ylim(0, 1.08)
    axes.set_ylabel("IoU")
    axes.set_title(title)
    axes.legend(loc="upper right", fontsize=8)
    return _save(figure, path)


def confusion_matrix_chart(cm: np.ndarray, class_names: Sequence[str], path: str | Path,
                           title: str = "Confusion matrix (rows: truth, normalised)") -> Path:
    """Row-normalised matrix (recall on the diagonal), each cell annotated with its share."""
    cm = np.asarray(cm, dtype=np.float64)
    row_totals = cm.sum(axis=1, keepdims=True)
    shares = np.divide(cm, row_totals, out=np.zeros_like(cm), where=row_totals > 0)
    size = max(4.5, 0.9 * len(class_names) + 2.5)
    figure = _figure(size + 1, size)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axes, fraction=0.046)
    for row in range(len(class_names)):
        for column in range(len(class_names)):
            share = f"{shares[row, column]:.2f}" if row_totals[row, 0] else "n/a"  # class not in the truth
            axes.text(column, row, share, ha="center", va="center", fontsize=9,
                      color="white" if shares[row, column] > 0.5 else "black")
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("prediction")
    axes.set_ylabel("truth")
    axes.set_title(title)
    return _save(figure, path)


def tile_panel(image: np.ndarray, truth: np.ndarray, prediction: np.ndarray, classes: Sequence[ClassInfo],
               title: str, path: str | Path) -> Path:
    """Input | ground truth | prediction side by side with a class-colour legend (the reference's sample figures)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    colormap = ListedColormap([c.color for c in classes])
    figure = _figure(13.5, 5.2)
    panels = figure.subplots(1, 3)
    panels[0].imshow(image)
    for axes, labels in ((panels[1], truth), (panels[2], prediction)):
        axes.imshow(labels, cmap=colormap, vmin=-0.5, vmax=len(classes) - 0.5, interpolation="nearest")
    for axes, name in zip(panels, ("input", "ground truth", "prediction")):
        axes.set_title(name)
        axes.set_axis_off()
    figure.suptitle(title)
    # Under the middle panel, so the constrained layout makes room for it.
    panels[1].legend(handles=[Patch(facecolor=c.color, edgecolor="black", label=c.name) for c in classes],
                     loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(classes), frameon=False)
    return _save(figure, path)
