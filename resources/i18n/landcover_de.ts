<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
  <context>
    <name>LandCover</name>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="70" />
      <source>Segment land cover</source>
      <translation>Landbedeckung segmentieren</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="79" />
      <source>land cover,segmentation,deep learning,orthophoto,buildings,woodland,water,roads</source>
      <translation>Landbedeckung,Segmentierung,Deep Learning,Orthofoto,Gebäude,Wald,Gewässer,Straßen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="85" />
      <source>Classifies an RGB orthophoto with a DeepLabv3+ model file and writes one polygon layer per class (area and class attributes) to a GeoPackage, plus a class raster and, optionally, a probability raster. The raster is read in overlapping tiles at the model's resolution and the tiles are blended, so there are no seams. Limit the work with an extent or polygons (the 'Selected features only' option applies).</source>
      <translation>Klassifiziert ein RGB-Orthofoto mit einer DeepLabv3+-Modelldatei und schreibt je Klasse einen Polygon-Layer (mit Fläche und Klasse als Attributen) in ein GeoPackage, dazu ein Klassenraster und auf Wunsch ein Wahrscheinlichkeitsraster. Das Raster wird in überlappenden Kacheln in der Auflösung des Modells gelesen und die Kacheln werden überblendet, sodass keine Nähte entstehen. Die Arbeit lässt sich auf eine Ausdehnung oder auf Polygone beschränken (die Option „Nur gewählte Objekte“ gilt).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="95" />
      <source>Orthophoto (RGB raster)</source>
      <translation>Orthofoto (RGB-Raster)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="98" />
      <source>Model file (default: the bundled model)</source>
      <translation>Modelldatei (Vorgabe: das mitgelieferte Modell)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="99" />
      <source>Keras model (*.keras)</source>
      <translation>Keras-Modell (*.keras)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="100" />
      <source>Extent (default: whole raster)</source>
      <translation>Ausdehnung (Vorgabe: ganzes Raster)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="103" />
      <source>Only inside these polygons</source>
      <translation>Nur innerhalb dieser Polygone</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="105" />
      <source>Red, green and blue bands (default: from the raster's colour interpretation)</source>
      <translation>Rot-, Grün- und Blaukanal (Vorgabe: aus der Farbinterpretation des Rasters)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="108" />
      <source>Classes to vectorise, comma separated (default: all but background)</source>
      <translation>Zu vektorisierende Klassen, durch Kommas getrennt (Vorgabe: alle außer Hintergrund)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="110" />
      <source>Tile overlap (fraction of a tile)</source>
      <translation>Kachelüberlappung (Anteil einer Kachel)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="112" />
      <source>Batch size (tiles per model call)</source>
      <translation>Stapelgröße (Kacheln je Modellaufruf)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="114" />
      <source>Device</source>
      <translation>Gerät</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="116" />
      <source>Test-time augmentation (flips)</source>
      <translation>Testzeit-Augmentierung (Spiegelungen)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="118" />
      <source>Simplification tolerance (pixels)</source>
      <translation>Vereinfachungstoleranz (Pixel)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="119" />
      <source>Minimum polygon area (m²)</source>
      <translation>Minimale Polygonfläche (m²)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="120" />
      <source>Fill holes smaller than (m²)</source>
      <translation>Löcher füllen, die kleiner sind als (m²)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="121" />
      <source>Square building corners</source>
      <translation>Gebäudeecken rechtwinklig machen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="123" />
      <source>Split a region into several polygons beyond this many traced vertices (0: never)</source>
      <translation>Eine Fläche ab so vielen nachgezeichneten Stützpunkten in mehrere Polygone teilen (0: nie)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="126" />
      <source>Numeric precision of the model</source>
      <translation>Rechengenauigkeit des Modells</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="133" />
      <source>Land-cover polygons (GeoPackage, one layer per class)</source>
      <translation>Landbedeckungs-Polygone (GeoPackage, ein Layer je Klasse)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="135" />
      <source>Class raster</source>
      <translation>Klassenraster</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="138" />
      <source>Class probabilities</source>
      <translation>Klassenwahrscheinlichkeiten</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="141" />
      <source>Class layers</source>
      <translation>Klassen-Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="142" />
      <source>Area per class in hectares (JSON)</source>
      <translation>Fläche je Klasse in Hektar (JSON)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="143" />
      <source>Device used</source>
      <translation>Verwendetes Gerät</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="144" />
      <source>Seconds taken</source>
      <translation>Benötigte Sekunden</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="145" />
      <source>Tiles classified</source>
      <translation>Klassifizierte Kacheln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="164" />
      <source>The polygons go to a GeoPackage file; name the output 'something.gpkg' (got '{path}').</source>
      <translation>Die Polygone werden in eine GeoPackage-Datei geschrieben; nennen Sie die Ausgabe „etwas.gpkg“ (angegeben: „{path}“).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="199" />
      <source>The extent does not overlap '{name}'.</source>
      <translation>Die Ausdehnung überlappt „{name}“ nicht.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="209" />
      <source>The mask layer has no polygon (or none is selected).</source>
      <translation>Der Masken-Layer enthält kein Polygon (oder keines ist gewählt).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="212" />
      <source>The mask polygons do not overlap '{name}'.</source>
      <translation>Die Maskenpolygone überlappen „{name}“ nicht.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="223" />
      <source>Segmenting {name} with {model}</source>
      <translation>Segmentiere {name} mit {model}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="231" />
      <source>Cancelled; nothing was written.</source>
      <translation>Abgebrochen; es wurde nichts geschrieben.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="313" />
      <source>Unknown class(es) {unknown}; this model knows {known}.</source>
      <translation>Unbekannte Klasse(n) {unknown}; dieses Modell kennt {known}.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/defaults.py" line="15" />
      <source>Automatic</source>
      <translation>Automatisch</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/defaults.py" line="15" />
      <source>CPU</source>
      <translation>CPU</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/defaults.py" line="15" />
      <source>GPU</source>
      <translation>GPU</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="47" />
      <source>in the OSGeo4W Shell</source>
      <translation>in der OSGeo4W Shell</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="47" />
      <source>in a terminal</source>
      <translation>in einem Terminal</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="48" />
      <source>Land cover segmentation needs {modules}, which QGIS's Python cannot find. Install it {where} with: {command} — then restart QGIS.</source>
      <translation>Die Landbedeckungs-Segmentierung benötigt {modules}, das im Python von QGIS nicht gefunden wird. Installieren Sie es {where} mit: {command} — und starten Sie QGIS danach neu.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="43" />
      <source>Land cover segmentation</source>
      <translation>Landbedeckungs-Segmentierung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="51" />
      <source>Missing runtime</source>
      <translation>Laufzeitumgebung fehlt</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="61" />
      <source>Whole layer</source>
      <translation>Ganzer Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="61" />
      <source>Map canvas extent</source>
      <translation>Ausdehnung des Kartenfensters</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="61" />
      <source>Selected features of</source>
      <translation>Gewählte Objekte von</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="68" />
      <source>Model file</source>
      <translation>Modelldatei</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="78" />
      <source>GeoPackage (*.gpkg)</source>
      <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="79" />
      <source>Output GeoPackage</source>
      <translation>Ausgabe-GeoPackage</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="80" />
      <source>[Save to a temporary file]</source>
      <translation>[In temporäre Datei speichern]</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="81" />
      <source>Overwrite existing files</source>
      <translation>Vorhandene Dateien überschreiben</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="89" />
      <source>Test-time augmentation (flips; slower, smoother)</source>
      <translation>Testzeit-Augmentierung (Spiegelungen; langsamer, glatter)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="90" />
      <source> px</source>
      <translation> px</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="91" />
      <source> m²</source>
      <translation> m²</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="96" />
      <source>Raster layer</source>
      <translation>Raster-Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="97" />
      <source>Area</source>
      <translation>Gebiet</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="98" />
      <source>Polygon layer</source>
      <translation>Polygon-Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="99" />
      <source>Model</source>
      <translation>Modell</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="101" />
      <source>Classes to output</source>
      <translation>Auszugebende Klassen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="105" />
      <source>Advanced settings</source>
      <translation>Erweiterte Einstellungen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="108" />
      <source>Tile overlap</source>
      <translation>Kachelüberlappung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="109" />
      <source>Batch size</source>
      <translation>Stapelgröße</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="112" />
      <source>Simplification</source>
      <translation>Vereinfachung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="113" />
      <source>Minimum polygon area</source>
      <translation>Minimale Polygonfläche</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="114" />
      <source>Fill holes smaller than</source>
      <translation>Löcher füllen kleiner als</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="118" />
      <source>Run</source>
      <translation>Starten</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="206" />
      <source>Check the settings</source>
      <translation>Einstellungen prüfen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="217" />
      <source>Choose the raster layer to segment.</source>
      <translation>Wählen Sie den zu segmentierenden Raster-Layer.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="224" />
      <source>Tick at least one class to output.</source>
      <translation>Haken Sie mindestens eine auszugebende Klasse an.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="247" />
      <source>The map canvas does not show any part of '{name}'; pan to it or choose another area.</source>
      <translation>Das Kartenfenster zeigt keinen Teil von „{name}“; verschieben Sie die Karte dorthin oder wählen Sie ein anderes Gebiet.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="252" />
      <source>Choose the polygon layer whose selected features to segment.</source>
      <translation>Wählen Sie den Polygon-Layer, dessen gewählte Objekte segmentiert werden sollen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="255" />
      <source>No feature of '{name}' is selected; select the polygons to segment.</source>
      <translation>In „{name}“ ist kein Objekt gewählt; wählen Sie die zu segmentierenden Polygone.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="260" />
      <source>The selected features of '{mask}' do not overlap '{name}'.</source>
      <translation>Die gewählten Objekte von „{mask}“ überlappen „{name}“ nicht.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="274" />
      <source>The folder {folder} does not exist; choose another output file.</source>
      <translation>Der Ordner {folder} existiert nicht; wählen Sie eine andere Ausgabedatei.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="278" />
      <source>{files} already exist(s); tick 'Overwrite existing files' or choose another name.</source>
      <translation>{files} existiert bereits; haken Sie „Vorhandene Dateien überschreiben“ an oder wählen Sie einen anderen Namen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="288" />
      <source>{cm} cm/px, tiles of {size} px</source>
      <translation>{cm} cm/px, Kacheln zu {size} px</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="292" />
      <source>Trained on: {data}</source>
      <translation>Trainiert mit: {data}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="299" />
      <source>Scores: {scores}</source>
      <translation>Kennzahlen: {scores}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="304" />
      <source>{split}: mIoU {miou}</source>
      <translation>{split}: mIoU {miou}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plugin.py" line="36" />
      <source>Segment land cover…</source>
      <translation>Landbedeckung segmentieren…</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plugin.py" line="38" />
      <source>Classify an orthophoto into buildings, woodland, water and roads</source>
      <translation>Ein Orthofoto in Gebäude, Wald, Gewässer und Straßen klassifizieren</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plugin.py" line="40" />
      <source>Land cover</source>
      <translation>Landbedeckung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plugin.py" line="71" />
      <source>The plugin is incomplete; reinstall it.</source>
      <translation>Das Plugin ist unvollständig; installieren Sie es neu.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/provider.py" line="20" />
      <source>Land cover segmentation (DeepLabv3+)</source>
      <translation>Landbedeckungs-Segmentierung (DeepLabv3+)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="22" />
      <source>'{name}' is not a file-based raster; save it as a GeoTIFF first (Export ▸ Save As…) and segment that.</source>
      <translation>„{name}“ ist kein dateibasiertes Raster; speichern Sie es zuerst als GeoTIFF (Exportieren ▸ Speichern als…) und segmentieren Sie dieses.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="34" />
      <source>Background</source>
      <translation>Hintergrund</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="34" />
      <source>Buildings</source>
      <translation>Gebäude</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="34" />
      <source>Woodland</source>
      <translation>Wald</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="35" />
      <source>Water</source>
      <translation>Gewässer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="35" />
      <source>Roads</source>
      <translation>Straßen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="43" />
      <source>The style {path} could not be applied: {message}</source>
      <translation>Der Stil {path} konnte nicht angewendet werden: {message}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="76" />
      <source>Layer '{layer}' of {path} could not be opened.</source>
      <translation>Layer „{layer}“ von {path} konnte nicht geöffnet werden.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="81" />
      <source>Land-cover classes (raster)</source>
      <translation>Landbedeckungsklassen (Raster)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="83" />
      <source>The class raster {path} could not be opened.</source>
      <translation>Das Klassenraster {path} konnte nicht geöffnet werden.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="95" />
      <source>{label} {area} ha</source>
      <translation>{label} {area} ha</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="97" />
      <source>{areas} — on {device} in {seconds} s</source>
      <translation>{areas} — auf {device} in {seconds} s</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="98" />
      <source>no class found</source>
      <translation>keine Klasse gefunden</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/task.py" line="38" />
      <source>Land cover segmentation of {name}</source>
      <translation>Landbedeckungs-Segmentierung von {name}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/task.py" line="54" />
      <source>The inference engine could not be loaded: {error}</source>
      <translation>Die Inferenz-Engine konnte nicht geladen werden: {error}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/task.py" line="77" />
      <source>Land cover — {name}</source>
      <translation>Landbedeckung — {name}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/task.py" line="90" />
      <source>{name}: cancelled</source>
      <translation>{name}: abgebrochen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/task.py" line="93" />
      <source>The segmentation failed.</source>
      <translation>Die Segmentierung ist fehlgeschlagen.</translation>
    </message>
  </context>
</TS>
