"""What a run did, in an analyst's words: one line for the message bar, the whole for its Details, the log
and Processing's log.

The polygons' areas are after cleaning (minimum area, filled holes, simplification), so they differ
slightly from the class raster's; both are given, each labelled.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from .i18n import tr
from .results import class_label


@dataclass(frozen=True)
class RunSummary:
    name: str                              # the layer or sheets classified
    polygon_ha: dict[str, float]           # class -> hectares of its polygons (the classes written as layers)
    raster_ha: dict[str, float]            # class -> hectares in the class raster (every class)
    device: str                            # "CPU", "GPU (CUDA)", "CPU (int8)", "4 workers"
    seconds: float
    tiles: int
    reading: str                           # how the raster was read, in plain words
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # e.g. a killed run's lock taken over

    @classmethod
    def of_outputs(cls, name: str, outputs: Mapping[str, Any]) -> "RunSummary":
        """From the Processing outputs of landcover:segment (the dialog's task)."""
        written = [str(outputs[key]) for key in ("OUTPUT", "OUTPUT_RASTER", "OUTPUT_PROBABILITIES")
                   if outputs.get(key)]
        return cls(name, json.loads(outputs["POLYGON_AREA_HA"]), json.loads(outputs["AREA_HA"]),
                   outputs["DEVICE_USED"], float(outputs["SECONDS"]), int(outputs["TILES"]), outputs["READING"],
                   written)

    def headline(self) -> str:
        """One line: the area of each class written, the time and the device."""
        areas = self.polygon_ha or {name: ha for name, ha in self.raster_ha.items() if name != "background"}
        found = ", ".join(tr("{label} {area} ha").format(label=class_label(name), area=_hectares(ha))
                          for name, ha in areas.items()) or tr("no class found")
        return tr("{name}: {areas} — {tiles} tiles on {device} in {seconds} s").format(
            name=self.name, areas=found, tiles=f"{self.tiles:,}", device=self.device, seconds=f"{self.seconds:.1f}")

    def text(self) -> str:
        """Every line: the headline, how the raster was read, each class's areas, what was written."""
        lines = [self.headline(), tr("Raster: {reading}.").format(reading=self.reading),
                 tr("Area per class, as polygons after cleaning and in the class raster:")]
        for name, raster in self.raster_ha.items():
            polygons = _hectares(self.polygon_ha[name]) + " ha" if name in self.polygon_ha else "–"
            lines.append(tr("{label}: {polygons} as polygons, {raster} ha in the class raster").format(
                label=class_label(name), polygons=polygons, raster=_hectares(raster)))
        lines += [tr("Written: {path}").format(path=path) for path in self.written]
        return "\n".join(lines + self.notes)


def _hectares(value: float) -> str:
    return f"{value:,.2f}"
