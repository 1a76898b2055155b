"""What a model file is, in an analyst's words, for the dialog's model panel.

What it finds and at which resolution; its classes and colours; its scores, each labelled with what it
was measured on (held-out tiles like its training data, LandCover.ai's test tiles, or real photos with
truth drawn by hand: `bench.real --record`'s real check); its licence; and, for a model trained on
synthetic scenes only, one sentence on what to expect on real photos and the way to a better model.
"""
from __future__ import annotations

import html
from typing import Any

from .core.modelfile import BACKGROUND, ModelMetadata
from .i18n import tr
from .results import class_label


def synthetic_only(metadata: ModelMetadata) -> bool:
    """Trained on synthetic scenes alone (its training data says so: `trainer synth`'s scenes)."""
    return metadata.training_data.lower().startswith("synthetic")


def model_summary_html(metadata: ModelMetadata) -> str:
    """The model panel's rich text, every value escaped."""
    found = [class_label(info.name) for info in metadata.classes if info.value != BACKGROUND]   # the layers' names
    swatches = " ".join(f"<span style='color:{info.color}'>■</span>&nbsp;{html.escape(class_label(info.name))}"
                        for info in metadata.classes)
    lines = [f"<b>{html.escape(metadata.name)}</b>",
             html.escape(tr("Finds {classes} in orthophotos, read at {cm} cm per pixel (tiles of {px} px).").format(
                 classes=_listed(found), cm=f"{metadata.resolution_cm:g}", px=metadata.input_size)),
             swatches]
    if metadata.description:
        lines.append(html.escape(metadata.description))
    lines += [html.escape(line) for line in score_lines(metadata)]
    if synthetic_only(metadata):
        lines.append("<i>" + html.escape(tr(
            "Trained on synthetic scenes only: on real photos expect ragged outlines, merged or missed buildings "
            "and few roads. For real work take the LandCover.ai model ('Get a LandCover.ai model…' beside the "
            "model field) or a model trained on photos like yours.")) + "</i>")
    elif metadata.training_data:
        lines.append(html.escape(tr("Trained on: {data}").format(data=metadata.training_data)))
    lines.append(html.escape(tr("Licence: {licence}").format(licence=metadata.licence) if metadata.licence
                             else tr("Licence: not stated in the model file")))
    return "<br>".join(lines)


def score_lines(metadata: ModelMetadata) -> list[str]:
    """The scores a model file carries, each said with what it was measured on."""
    scores, lines = metadata.scores, []
    test = scores.get("test")
    if isinstance(test, dict) and _is_number(test.get("miou")):
        where = (tr("On held-out synthetic tiles") if synthetic_only(metadata) else
                 tr("On LandCover.ai's test tiles") if "landcover.ai" in metadata.training_data.lower() else
                 tr("On held-out tiles of its training data"))
        lines.append(tr("{where}: mIoU {miou}").format(where=where, miou=f"{test['miou']:.2f}") + _per_class(test))
    real = scores.get("real_check")
    if isinstance(real, dict) and isinstance(real.get("images"), dict):
        measured = ", ".join(tr("{miou} on {image}").format(miou=f"{score['miou']:.2f}", image=image)
                             for image, score in real["images"].items()
                             if isinstance(score, dict) and _is_number(score.get("miou")))
        lines.append(tr("On real photos (mIoU): {scores}; truth: {truth}").format(
            scores=measured, truth=real.get("truth", "")))
    tuned = scores.get("finetune")
    if isinstance(tuned, dict) and isinstance(tuned.get("after"), dict) and isinstance(tuned.get("before"), dict):
        lines.append(tr("On validation blocks of the labels it was fine-tuned on ({ha} ha): mIoU {after} "
                        "({before} before)").format(ha=f"{tuned.get('labelled_ha', 0):.2f}",
                                                    after=f"{tuned['after']['miou']:.2f}",
                                                    before=f"{tuned['before']['miou']:.2f}")
                     + _per_class(tuned["after"]))
    int8 = scores.get("int8")
    if isinstance(int8, dict) and _is_number(int8.get("pixel_agreement_with_float32")):   # trainer/quantize.py
        lines.append(tr("int8 copy: {agreement} % of pixels keep their float32 class").format(
            agreement=f"{int8['pixel_agreement_with_float32'] * 100:.1f}"))
    return lines


def _per_class(split: dict) -> str:
    per_class = split.get("per_class_iou") if isinstance(split.get("per_class_iou"), dict) else {}
    named = ", ".join(f"{class_label(name)} {iou:.2f}" for name, iou in per_class.items() if _is_number(iou))
    return f" ({named})" if named else ""


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else tr("{some} and {last}").format(some=", ".join(names[:-1]), last=names[-1])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
