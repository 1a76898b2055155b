"""The segmentation options as Processing parameters, derived from their one declaration (core/options.py).

`option_parameters()` builds a parameter per option; `read_options()` turns an algorithm's
parameter values back into engine options. Only the area (EXTENT, MASK) needs the layer and is
resolved by the algorithm itself.
"""
from __future__ import annotations

from typing import Any, Callable

from qgis.core import (QgsProcessing, QgsProcessingAlgorithm, QgsProcessingContext, QgsProcessingException,
                       QgsProcessingParameterBand, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterExtent,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterNumber)

from .core.errors import ModelFileError
from .core.modelfile import LANDCOVER_AI_CLASSES, ClassInfo, read_metadata
from .dependencies import default_model_path
from .core.options import (BANDS, CHOICE, CLASSES, EXTENT, FLAG, INTEGER, NUMBER, OPTIONS, POLYGON,
                           OptionSpec)
from .i18n import tr

INPUT = "INPUT"  # the raster parameter the band choice follows


def processing_options(leave_out: tuple[str, ...] = ()) -> tuple[OptionSpec, ...]:
    """The options Processing shows (it always replaces the outputs the user names), less `leave_out`."""
    return tuple(spec for spec in OPTIONS if spec.processing and spec.name not in leave_out)


def describe(spec: OptionSpec) -> str:
    """The label a user reads: translated, with the unit of a number."""
    unit = f" ({tr(spec.unit)})" if spec.unit and spec.kind in (NUMBER, INTEGER) else ""
    return tr(spec.label) + unit


def _number(spec: OptionSpec) -> QgsProcessingParameterNumber:
    types = QgsProcessingParameterNumber.Type
    kind = types.Integer if spec.kind == INTEGER else types.Double
    parameter = QgsProcessingParameterNumber(spec.parameter_name, describe(spec), kind, defaultValue=spec.default,
                                             optional=spec.optional)
    if spec.minimum is not None:
        parameter.setMinimum(spec.minimum)
    if spec.maximum is not None:
        parameter.setMaximum(spec.maximum)
    return parameter


_BUILDERS: dict[str, Callable[[OptionSpec], QgsProcessingParameterDefinition]] = {
    NUMBER: _number,
    INTEGER: _number,
    FLAG: lambda spec: QgsProcessingParameterBoolean(spec.parameter_name, describe(spec), defaultValue=spec.default),
    CHOICE: lambda spec: QgsProcessingParameterEnum(
        spec.parameter_name, describe(spec), [tr(choice.label) for choice in spec.choices],
        defaultValue=spec.values.index(spec.default)),
    BANDS: lambda spec: QgsProcessingParameterBand(spec.parameter_name, describe(spec), parentLayerParameterName=INPUT,
                                                   optional=True, allowMultiple=True),
    # By name (static strings: qgis_process takes CLASSES=building CLASSES=road), of the bundled model's classes
    CLASSES: lambda spec: QgsProcessingParameterEnum(spec.parameter_name, describe(spec), list(class_set()),
                                                     allowMultiple=True, optional=True, usesStaticStrings=True),
    EXTENT: lambda spec: QgsProcessingParameterExtent(spec.parameter_name, describe(spec), optional=True),
    POLYGON: lambda spec: QgsProcessingParameterFeatureSource(
        spec.parameter_name, describe(spec), [QgsProcessing.SourceType.TypeVectorPolygon], optional=True),
}


def option_parameters(leave_out: tuple[str, ...] = ()) -> list[QgsProcessingParameterDefinition]:
    parameters = []
    for spec in processing_options(leave_out):
        parameter = _BUILDERS[spec.kind](spec)
        parameter.setHelp(tr(spec.help) + (tr(" Classes: {names}.").format(names=", ".join(class_set()))
                                           if spec.kind == CLASSES else ""))
        if spec.advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        parameters.append(parameter)
    return parameters


def read_options(algorithm: QgsProcessingAlgorithm, parameters: dict, context: QgsProcessingContext,
                 classes: tuple[ClassInfo, ...], leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """Engine options from the parameter values, except the area (EXTENT, MASK)."""
    def number(spec: OptionSpec, name: str) -> float | None:
        if spec.optional and parameters.get(name) in (None, ""):
            return None
        return algorithm.parameterAsDouble(parameters, name, context)

    readers: dict[str, Callable[[OptionSpec, str], Any]] = {
        NUMBER: number,
        INTEGER: lambda spec, name: algorithm.parameterAsInt(parameters, name, context),
        FLAG: lambda spec, name: algorithm.parameterAsBoolean(parameters, name, context),
        CHOICE: lambda spec, name: spec.values[algorithm.parameterAsEnum(parameters, name, context)],
        BANDS: lambda spec, name: tuple(algorithm.parameterAsInts(parameters, name, context)) or None,
        CLASSES: lambda spec, name: class_names(algorithm.parameterAsEnumStrings(parameters, name, context), classes),
    }
    return {spec.name: readers[spec.kind](spec, spec.parameter_name)
            for spec in processing_options(leave_out) if spec.kind in readers}


def class_set() -> tuple[str, ...]:
    """The class names CLASSES offers: the bundled model's (LandCover.ai's), read without loading it."""
    try:
        return tuple(read_metadata(default_model_path()).class_names)
    except ModelFileError:   # a damaged installation: the class set it was made for
        return tuple(info.name for info in LANDCOVER_AI_CLASSES)


def class_names(chosen: list[str], classes: tuple[ClassInfo, ...]) -> tuple[str, ...] | None:
    """The chosen names (None: every class but background); one the model lacks is refused with its list."""
    names = tuple(name.strip() for name in chosen if name.strip())
    if not names:
        return None
    known = [info.name for info in classes]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise QgsProcessingException(tr("Unknown class(es) {unknown}; this model knows {known}.").format(
            unknown=", ".join(unknown), known=", ".join(known)))
    return names
