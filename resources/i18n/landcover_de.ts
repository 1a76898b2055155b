<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
  <context>
    <name>LandCover</name>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="39" />
      <source>Model files (*.onnx *.keras)</source>
      <translation>Modelldateien (*.onnx *.keras)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="64" />
      <source>Segment land cover</source>
      <translation>Landbedeckung segmentieren</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="73" />
      <source>land cover,segmentation,deep learning,orthophoto,buildings,woodland,water,roads</source>
      <translation>Landbedeckung,Segmentierung,Deep Learning,Orthofoto,Gebäude,Wald,Gewässer,Straßen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="80" />
      <source>Classifies an RGB orthophoto with a DeepLabv3+ model file and writes one polygon layer per class (area and class attributes) to a GeoPackage, plus a class raster and, optionally, a probability raster. The raster is read in overlapping tiles at the model's resolution and the tiles are blended, so there are no seams. Limit the work with an extent or polygons (the 'Selected features only' option applies).</source>
      <translation>Klassifiziert ein RGB-Orthofoto mit einer DeepLabv3+-Modelldatei und schreibt je Klasse einen Polygon-Layer (mit Fläche und Klasse als Attributen) in ein GeoPackage, dazu ein Klassenraster und auf Wunsch ein Wahrscheinlichkeitsraster. Das Raster wird in überlappenden Kacheln in der Auflösung des Modells gelesen und die Kacheln werden überblendet, sodass keine Nähte entstehen. Die Arbeit lässt sich auf eine Ausdehnung oder auf Polygone beschränken (die Option „Nur gewählte Objekte“ gilt).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="85" />
      <source>A web layer (XYZ, WMS, WMTS) covers the whole world: give it an extent or polygons. Its tiles are fetched at the zoom level of the model's resolution, for that area only.</source>
      <translation>Ein Web-Layer (XYZ, WMS, WMTS) deckt die ganze Welt ab: Geben Sie ihm eine Ausdehnung oder Polygone. Seine Kacheln werden in der Zoomstufe der Auflösung des Modells geladen, nur für diesen Bereich.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="87" />
      <source>Example, from a shell: qgis_process run landcover:segment -- INPUT=ortho.tif OUTPUT=landcover.gpkg OUTPUT_RASTER=classes.tif CLASSES=building CLASSES=road</source>
      <translation>Beispiel, in einer Shell: qgis_process run landcover:segment -- INPUT=ortho.tif OUTPUT=landcover.gpkg OUTPUT_RASTER=classes.tif CLASSES=building CLASSES=road</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="98" />
      <source>Orthophoto (RGB raster)</source>
      <translation>Orthofoto (RGB-Raster)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="101" />
      <source>Model file (default: the bundled model)</source>
      <translation>Modelldatei (Vorgabe: das mitgelieferte Modell)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="106" />
      <source>Land-cover polygons (GeoPackage, one layer per class)</source>
      <translation>Landbedeckungs-Polygone (GeoPackage, ein Layer je Klasse)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="108" />
      <source>Class raster</source>
      <translation>Klassenraster</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="111" />
      <source>Class probabilities</source>
      <translation>Klassenwahrscheinlichkeiten</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="117" />
      <source>Class layers</source>
      <translation>Klassen-Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="118" />
      <source>Class raster area per class in hectares (JSON)</source>
      <translation>Fläche je Klasse im Klassenraster in Hektar (JSON)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="120" />
      <source>Polygon area per class in hectares, after cleaning (JSON)</source>
      <translation>Polygonfläche je Klasse in Hektar, nach der Bereinigung (JSON)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="121" />
      <source>Device used</source>
      <translation>Verwendetes Gerät</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="122" />
      <source>How the raster was read (grid and ground resolution)</source>
      <translation>Wie das Raster gelesen wurde (Raster und Bodenauflösung)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="124" />
      <source>Seconds taken</source>
      <translation>Benötigte Sekunden</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="125" />
      <source>Tiles classified</source>
      <translation>Klassifizierte Kacheln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="135" />
      <source>'{model}' is a Keras model file, and TensorFlow with Keras is not installed: use its ONNX copy (python -m trainer export --model FILE.keras --onnx FILE.onnx) or install them: {command}</source>
      <translation>'{model}' ist eine Keras-Modelldatei, und TensorFlow mit Keras ist nicht installiert: Verwenden Sie ihre ONNX-Kopie (python -m trainer export --model DATEI.keras --onnx DATEI.onnx) oder installieren Sie beide: {command}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="147" />
      <source>'{name}' is a web layer: choose the area to classify (an extent, the map canvas or polygons).</source>
      <translation>'{name}' ist ein Web-Layer: Wählen Sie das zu klassifizierende Gebiet (eine Ausdehnung, den Kartenausschnitt oder Polygone).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="166" />
      <source>The extent does not overlap '{name}'.</source>
      <translation>Die Ausdehnung überlappt „{name}“ nicht.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="176" />
      <source>The mask layer has no polygon (or none is selected).</source>
      <translation>Der Masken-Layer enthält kein Polygon (oder keines ist gewählt).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="179" />
      <source>The mask polygons do not overlap '{name}'.</source>
      <translation>Die Maskenpolygone überlappen „{name}“ nicht.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="191" />
      <source>Segmenting {name} with {model}</source>
      <translation>Segmentiere {name} mit {model}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="198" />
      <source>Cancelled; nothing was written.</source>
      <translation>Abgebrochen; es wurde nichts geschrieben.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="238" />
      <source>The polygons go to a GeoPackage file; name the output 'something.gpkg' (got '{path}').</source>
      <translation>Die Polygone werden in eine GeoPackage-Datei geschrieben; nennen Sie die Ausgabe „etwas.gpkg“ (angegeben: „{path}“).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm.py" line="261" />
      <source>Land cover — {name}</source>
      <translation>Landbedeckung — {name}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="48" />
      <source>Segment many orthophotos</source>
      <translation>Viele Orthofotos segmentieren</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="51" />
      <source>Classifies many orthophoto sheets (layers, a folder, or a tile index or list file) as one seamless mosaic: blocks of it run on several workers and are kept in a run folder, so running it again after a crash or a cancel redoes only the unfinished blocks. Writes one GeoPackage with a polygon layer per class and a class raster (a VRT of the blocks, or a GeoTIFF).</source>
      <translation>Klassifiziert viele Orthofoto-Kacheln (Layer, ein Ordner oder ein Kachelindex bzw. eine Dateiliste) als ein nahtloses Mosaik: seine Blöcke laufen auf mehreren Workern und werden in einem Laufordner aufbewahrt, sodass ein erneuter Start nach einem Absturz oder Abbruch nur die unfertigen Blöcke wiederholt. Schreibt ein GeoPackage mit einem Polygonlayer je Klasse und ein Klassenraster (ein VRT der Blöcke oder ein GeoTIFF).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="61" />
      <source>Orthophoto sheets (raster layers)</source>
      <translation>Orthofoto-Kacheln (Rasterlayer)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="63" />
      <source>Folder of orthophoto sheets</source>
      <translation>Ordner mit Orthofoto-Kacheln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="65" />
      <source>Tile index (gdaltindex) or list of sheet files</source>
      <translation>Kachelindex (gdaltindex) oder Liste der Kacheldateien</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="66" />
      <source>Tile indexes and lists (*.gpkg *.shp *.geojson *.fgb *.txt *.lst)</source>
      <translation>Kachelindizes und Listen (*.gpkg *.shp *.geojson *.fgb *.txt *.lst)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="71" />
      <source>Workers</source>
      <translation>Worker</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="75" />
      <source>Block side (model pixels)</source>
      <translation>Blockseite (Modellpixel)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="80" />
      <source>Start over (delete finished blocks)</source>
      <translation>Neu beginnen (fertige Blöcke löschen)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="85" />
      <source>Class raster (.vrt or .tif)</source>
      <translation>Klassenraster (.vrt oder .tif)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="88" />
      <source>Run folder (finished blocks; default: beside the polygons)</source>
      <translation>Laufordner (fertige Blöcke; Vorgabe: neben den Polygonen)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="91" />
      <source>Blocks</source>
      <translation>Blöcke</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="101" />
      <source>Give the sheets: raster layers, a folder, or a tile index or list file.</source>
      <translation>Geben Sie die Kacheln an: Rasterlayer, einen Ordner oder einen Kachelindex bzw. eine Dateiliste.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="109" />
      <source>{count} sheets</source>
      <translation>{count} Kacheln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="128" />
      <source>Segmenting {count} sheets with {model} on {workers} workers; run folder {folder}</source>
      <translation>Segmentiere {count} Kacheln mit {model} auf {workers} Workern; Laufordner {folder}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="135" />
      <source>Cancelled; the finished blocks are kept in {folder}: run again to go on.</source>
      <translation>Abgebrochen; die fertigen Blöcke bleiben in {folder}: erneut starten, um fortzufahren.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="142" />
      <source>{blocks} blocks ({reused} finished before), {tiles} tiles</source>
      <translation>{blocks} Blöcke ({reused} schon vorher fertig), {tiles} Kacheln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="146" />
      <source>{workers} workers</source>
      <translation>{workers} Worker</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/algorithm_many.py" line="147" />
      <source>read as one mosaic</source>
      <translation>als ein Mosaik gelesen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="114" />
      <source>Extent</source>
      <translation>Ausdehnung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="115" />
      <source>Classify only this rectangle (xmin, ymin, xmax, ymax in the raster's CRS); default: the whole raster.</source>
      <translation>Nur dieses Rechteck klassifizieren (xmin, ymin, xmax, ymax im KBS des Rasters); Standard: das ganze Raster.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="118" />
      <source>Only inside these polygons</source>
      <translation>Nur innerhalb dieser Polygone</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="119" />
      <source>Classify only the pixels inside these polygons: WKT in the raster's CRS on the command line; in QGIS a polygon layer (only its selected features, if so chosen).</source>
      <translation>Nur die Pixel innerhalb dieser Polygone klassifizieren: auf der Kommandozeile WKT im KBS des Rasters, in QGIS ein Polygonlayer (auf Wunsch nur seine gewählten Objekte).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="123" />
      <source>Classes to vectorise</source>
      <translation>Zu vektorisierende Klassen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="124" />
      <source>Class names, comma separated; default: every class but background.</source>
      <translation>Klassennamen, durch Kommas getrennt; Standard: alle Klassen außer Hintergrund.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="126" />
      <source>Red, green and blue bands</source>
      <translation>Rot-, Grün- und Blaukanal</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="127" />
      <source>The raster's 1-based bands holding red, green and blue; default: from the raster's colour interpretation.</source>
      <translation>Die Kanäle des Rasters (ab 1 gezählt) mit Rot, Grün und Blau; Standard: aus der Farbinterpretation des Rasters.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="130" />
      <source>Nodata value</source>
      <translation>NoData-Wert</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="131" />
      <source>A value that marks no data when every colour band holds it, for rasters that do not declare one; default: as the raster says.</source>
      <translation>Ein Wert, der fehlende Daten kennzeichnet, wenn alle Farbkanäle ihn haben, für Raster, die keinen angeben; Standard: wie im Raster angegeben.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="134" />
      <source>Mask edge collars</source>
      <translation>Randsäume ausblenden</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="135" />
      <source>Leave out the uniform black or white borders that warping or exporting without a nodata value leaves around an orthophoto (runs of such pixels from the edge).</source>
      <translation>Die einheitlich schwarzen oder weißen Ränder auslassen, die Umprojizieren oder Exportieren ohne NoData-Wert um ein Orthofoto hinterlässt (zusammenhängende solche Pixel vom Rand her).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="138" />
      <source>Tile overlap</source>
      <translation>Kachelüberlappung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="139" />
      <source>Fraction of a tile shared with each neighbour, 0 to 0.5; the tiles' predictions are blended across it, so there are no seams. More is smoother and slower.</source>
      <translation>Anteil einer Kachel, den sie mit jeder Nachbarkachel teilt, 0 bis 0,5; darüber werden die Vorhersagen der Kacheln überblendet, sodass keine Nähte entstehen. Mehr ist glatter und langsamer.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="143" />
      <source>Batch size</source>
      <translation>Stapelgröße</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="144" />
      <source>Tiles per model call; more is faster on a GPU and needs more memory.</source>
      <translation>Kacheln je Modellaufruf; mehr ist auf einer GPU schneller und braucht mehr Speicher.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="147" />
      <source>Device</source>
      <translation>Gerät</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="148" />
      <source>Where the model runs; automatic takes the GPU when Keras sees one.</source>
      <translation>Wo das Modell läuft; automatisch nimmt die GPU, wenn Keras eine findet.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="149" />
      <source>Automatic</source>
      <translation>Automatisch</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="149" />
      <source>CPU</source>
      <translation>CPU</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="150" />
      <source>GPU</source>
      <translation>GPU</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="152" />
      <source>Runtime</source>
      <translation>Laufzeit</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="153" />
      <source>What runs the model: automatic takes Keras for a .keras file and ONNX Runtime for an .onnx file (ONNX Runtime alone is enough for those).</source>
      <translation>Was das Modell rechnet: automatisch nimmt Keras für eine .keras-Datei und ONNX Runtime für eine .onnx-Datei (dafür genügt ONNX Runtime allein).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="157" />
      <source>Numeric precision</source>
      <translation>Rechengenauigkeit</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="158" />
      <source>bfloat16 and float16 run a Keras model in mixed precision; int8 runs an ONNX model's int8 copy (FILE.int8.onnx beside it: python -m trainer export --int8); automatic measures the faster of these against float32 on the first batch and keeps it if at least 99 % of its pixels keep their class.</source>
      <translation>bfloat16 und float16 rechnen ein Keras-Modell in gemischter Genauigkeit; int8 rechnet die int8-Kopie eines ONNX-Modells (DATEI.int8.onnx daneben: python -m trainer export --int8); automatisch misst die schnellere davon gegen float32 am ersten Stapel und behält sie, wenn mindestens 99 % ihrer Pixel ihre Klasse behalten.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="163" />
      <source>Automatic (measured)</source>
      <translation>Automatisch (gemessen)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="165" />
      <source>Test-time augmentation</source>
      <translation>Testzeit-Augmentierung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="166" />
      <source>Average the predictions of each tile and its three flips: smoother, 4x slower.</source>
      <translation>Die Vorhersagen jeder Kachel und ihrer drei Spiegelungen mitteln: glatter, viermal langsamer.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="168" />
      <source>Simplification tolerance</source>
      <translation>Vereinfachungstoleranz</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="169" />
      <source>Douglas-Peucker tolerance on the boundaries shared by neighbouring polygons, so they still fit together; 0 keeps the pixel outlines.</source>
      <translation>Douglas-Peucker-Toleranz auf den gemeinsamen Grenzen benachbarter Polygone, sodass sie weiter lückenlos aneinanderpassen; 0 behält die Pixelumrisse.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="171" />
      <source>px</source>
      <translation>px</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="173" />
      <source>Minimum polygon area</source>
      <translation>Minimale Polygonfläche</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="174" />
      <source>Smaller regions merge into their largest neighbour, leaving no gap.</source>
      <translation>Kleinere Flächen gehen lückenlos in ihrem größten Nachbarn auf.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="177" />
      <source>Fill holes smaller than</source>
      <translation>Löcher füllen kleiner als</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="178" />
      <source>Smaller holes in a polygon are filled.</source>
      <translation>Kleinere Löcher in einem Polygon werden gefüllt.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="180" />
      <source>Square building corners</source>
      <translation>Gebäudeecken rechtwinklig machen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="181" />
      <source>Snap building outlines to right angles along their main direction.</source>
      <translation>Gebäudeumrisse entlang ihrer Hauptrichtung rechtwinklig ausrichten.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="183" />
      <source>Split regions beyond this many vertices</source>
      <translation>Flächen ab so vielen Stützpunkten teilen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="184" />
      <source>A region traced with more vertices is split along a row into several polygons of its class, bounding memory on huge rasters; 0: never split.</source>
      <translation>Eine Fläche mit mehr Stützpunkten wird entlang einer Zeile in mehrere Polygone ihrer Klasse geteilt, was den Speicherbedarf bei riesigen Rastern begrenzt; 0: nie teilen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="187" />
      <source>Overwrite existing files</source>
      <translation>Vorhandene Dateien überschreiben</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="188" />
      <source>Replace outputs that exist; otherwise an existing file is never touched.</source>
      <translation>Vorhandene Ausgaben ersetzen; sonst bleibt eine vorhandene Datei unberührt.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="191" />
      <source>Wait for other runs writing the same outputs</source>
      <translation>Auf andere Läufe warten, die dieselben Ausgaben schreiben</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/core/options.py" line="192" />
      <source>When another run is writing one of the outputs, wait until it has finished instead of stopping; an output it wrote is then kept unless overwriting is allowed.</source>
      <translation>Schreibt ein anderer Lauf gerade eine der Ausgaben, warten, bis er fertig ist, statt abzubrechen; eine Ausgabe, die er geschrieben hat, bleibt dann erhalten, außer Überschreiben ist erlaubt.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="80" />
      <source>in the OSGeo4W Shell</source>
      <translation>in der OSGeo4W Shell</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="80" />
      <source>in a terminal</source>
      <translation>in einem Terminal</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="89" />
      <source>Land cover segmentation needs {modules}, which QGIS's Python cannot find. Install it {where} with: {command} — then restart QGIS. For .keras model files (ONNX files need only the above) also: {keras}</source>
      <translation>Die Landbedeckungs-Segmentierung braucht {modules}, das QGIS' Python nicht findet. Installieren Sie es {where} mit: {command} – dann QGIS neu starten. Für .keras-Modelldateien (ONNX-Dateien brauchen nur das Obige) zusätzlich: {keras}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dependencies.py" line="100" />
      <source>Converting the reference's weights needs TensorFlow and Keras, which QGIS's Python cannot find. Install them {where} with: {command} — then restart QGIS.</source>
      <translation>Das Umwandeln der Gewichte der Referenzarbeit braucht TensorFlow und Keras, die QGIS' Python nicht findet. Installieren Sie sie {where} mit: {command} — und starten Sie QGIS danach neu.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="56" />
      <source>Land cover segmentation</source>
      <translation>Landbedeckungs-Segmentierung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="64" />
      <source>Missing runtime</source>
      <translation>Laufzeitumgebung fehlt</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="73" />
      <source>Whole layer</source>
      <translation>Ganzer Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="73" />
      <source>Map canvas extent</source>
      <translation>Ausdehnung des Kartenfensters</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="73" />
      <source>Selected features of</source>
      <translation>Gewählte Objekte von</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="82" />
      <source>Model file</source>
      <translation>Modelldatei</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="84" />
      <source>Get a LandCover.ai model…</source>
      <translation>LandCover.ai-Modell holen…</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="85" />
      <source>Download the reference work's published LandCover.ai weights and convert them into a model file</source>
      <translation>Die veröffentlichten LandCover.ai-Gewichte der Referenzarbeit herunterladen und in eine Modelldatei umwandeln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="97" />
      <source>GeoPackage (*.gpkg)</source>
      <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="98" />
      <source>Output GeoPackage</source>
      <translation>Ausgabe-GeoPackage</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="99" />
      <source>[Save to a temporary file]</source>
      <translation>[In temporäre Datei speichern]</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="101" />
      <source>Also write the class probabilities (GeoTIFF, percent per class)</source>
      <translation>Auch die Klassenwahrscheinlichkeiten schreiben (GeoTIFF, Prozent je Klasse)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="105" />
      <source>auto</source>
      <translation>automatisch</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="115" />
      <source>Raster layer</source>
      <translation>Raster-Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="116" />
      <source>Area</source>
      <translation>Gebiet</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="117" />
      <source>Polygon layer</source>
      <translation>Polygon-Layer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="122" />
      <source>Model</source>
      <translation>Modell</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="124" />
      <source>Classes to output</source>
      <translation>Auszugebende Klassen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="128" />
      <source>Advanced settings</source>
      <translation>Erweiterte Einstellungen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="142" />
      <source>Run</source>
      <translation>Starten</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="221" />
      <source>Get a LandCover.ai model</source>
      <translation>LandCover.ai-Modell holen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="232" />
      <source>Started; progress and cancel are in the task manager.</source>
      <translation>Gestartet; Fortschritt und Abbrechen finden Sie im Aufgabenmanager.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="245" />
      <source>'{name}' is written to {path} and selected.</source>
      <translation>'{name}' wurde nach {path} geschrieben und ist ausgewählt.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="291" />
      <source>Check the settings</source>
      <translation>Einstellungen prüfen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="308" />
      <source>A large run</source>
      <translation>Ein großer Lauf</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="308" />
      <source>{plan}. Start it?</source>
      <translation>{plan}. Starten?</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="320" />
      <source>A web layer: choose the area to classify (map canvas extent or selected features).</source>
      <translation>Ein Web-Layer: Wählen Sie das zu klassifizierende Gebiet (Kartenausschnitt oder gewählte Objekte).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="355" />
      <source>Choose the raster layer to segment.</source>
      <translation>Wählen Sie den zu segmentierenden Raster-Layer.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="360" />
      <source>Tick at least one class to output.</source>
      <translation>Haken Sie mindestens eine auszugebende Klasse an.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="381" />
      <source>Choose all three bands (red, green, blue) or none of them.</source>
      <translation>Alle drei Kanäle (Rot, Grün, Blau) wählen oder keinen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="394" />
      <source>Choose the polygon layer whose selected features to segment.</source>
      <translation>Wählen Sie den Polygon-Layer, dessen gewählte Objekte segmentiert werden sollen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="396" />
      <source>No feature of '{name}' is selected; select the polygons to segment.</source>
      <translation>In „{name}“ ist kein Objekt gewählt; wählen Sie die zu segmentierenden Polygone.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="411" />
      <source>The folder {folder} does not exist; choose another output file.</source>
      <translation>Der Ordner {folder} existiert nicht; wählen Sie eine andere Ausgabedatei.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/dialog.py" line="417" />
      <source>{files} already exist(s); tick 'Overwrite existing files' or choose another name.</source>
      <translation>{files} existiert bereits; haken Sie „Vorhandene Dateien überschreiben“ an oder wählen Sie einen anderen Namen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="47" />
      <source>Choose a downloaded zip…</source>
      <translation>Heruntergeladenes Zip wählen…</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="54" />
      <source>This downloads the DeepLabv3+ weights the reference work published for LandCover.ai (revision {revision}, test mIoU {miou}) from {url} and converts them into a model file for this plugin.</source>
      <translation>Dies lädt die DeepLabv3+-Gewichte, die die Referenzarbeit für LandCover.ai veröffentlicht hat (Revision {revision}, Test-mIoU {miou}), von {url} herunter und wandelt sie in eine Modelldatei für dieses Plugin um.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="59" />
      <source>The download is large, about 1 GB by our estimate (its size is not published), and needs about 2 GB of free space while it runs; the conversion takes a few minutes. Progress and cancel are in the task manager.</source>
      <translation>Der Download ist groß, nach unserer Schätzung etwa 1 GB (seine Größe ist nicht veröffentlicht), und braucht währenddessen etwa 2 GB freien Speicherplatz; die Umwandlung dauert einige Minuten. Fortschritt und Abbrechen finden Sie im Aufgabenmanager.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="62" />
      <source>Licence: CC BY-NC-SA 4.0 (attribution, share-alike), for non-commercial use only. The weights are not part of the plugin: they are downloaded now, on your request.</source>
      <translation>Lizenz: CC BY-NC-SA 4.0 (Namensnennung, Weitergabe unter gleichen Bedingungen), nur für nicht-kommerzielle Nutzung. Die Gewichte gehören nicht zum Plugin: Sie werden jetzt auf Ihren Wunsch heruntergeladen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="64" />
      <source>The model file is written to {path}; a file already there is replaced. If you downloaded the zip elsewhere, use '{choose}'.</source>
      <translation>Die Modelldatei wird nach {path} geschrieben; eine dort vorhandene Datei wird ersetzt. Haben Sie das Zip anderswo heruntergeladen, nutzen Sie '{choose}'.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="73" />
      <source>Download and convert</source>
      <translation>Herunterladen und umwandeln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="80" />
      <source>The reference's weights zip</source>
      <translation>Das Zip mit den Gewichten der Referenzarbeit</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="81" />
      <source>Zip archives (*.zip)</source>
      <translation>Zip-Archive (*.zip)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="96" />
      <source>choose it with '{choose}' under 'Get a LandCover.ai model…'</source>
      <translation>wählen Sie es mit '{choose}' unter 'LandCover.ai-Modell holen…'</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="97" />
      <source>try again</source>
      <translation>versuchen Sie es erneut</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/get_model.py" line="100" />
      <source>the weights archive</source>
      <translation>das Archiv mit den Gewichten</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/job.py" line="29" />
      <source>Unexpected error ({error}): this is a bug; the traceback is in the log (Land cover tab).</source>
      <translation>Unerwarteter Fehler ({error}): ein Programmfehler; die Fehlerverfolgung steht im Protokoll (Reiter Land cover).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/job.py" line="67" />
      <source>Land cover segmentation of {name}</source>
      <translation>Landbedeckungs-Segmentierung von {name}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/job.py" line="80" />
      <source>The segmentation failed.</source>
      <translation>Die Segmentierung ist fehlgeschlagen.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/job.py" line="97" />
      <source>Land cover</source>
      <translation>Landbedeckung</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/layer_sources.py" line="43" />
      <source>'{name}' comes from the '{provider}' data provider, which the segmentation cannot read; save it as a GeoTIFF first (Export ▸ Save As…) and segment that.</source>
      <translation>'{name}' stammt vom Datenanbieter '{provider}', den die Segmentierung nicht lesen kann; speichern Sie ihn zuerst als GeoTIFF (Exportieren ▸ Speichern als…) und segmentieren Sie dieses.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="29" />
      <source>Finds {classes} in orthophotos, read at {cm} cm per pixel (tiles of {px} px).</source>
      <translation>Findet {classes} in Orthofotos, gelesen mit {cm} cm pro Pixel (Kacheln von {px} px).</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="36" />
      <source>Trained on synthetic scenes only: on real photos expect ragged outlines, merged or missed buildings and few roads. For real work take the LandCover.ai model ('Get a LandCover.ai model…' beside the model field) or a model trained on photos like yours.</source>
      <translation>Nur mit synthetischen Szenen trainiert: Auf echten Fotos sind ausgefranste Umrisse, verschmolzene oder fehlende Gebäude und wenige Straßen zu erwarten. Für echte Arbeit nehmen Sie das LandCover.ai-Modell („LandCover.ai-Modell holen…“ neben dem Modellfeld) oder ein Modell, das mit Fotos wie Ihren trainiert wurde.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="41" />
      <source>Trained on: {data}</source>
      <translation>Trainiert mit: {data}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="42" />
      <source>Licence: {licence}</source>
      <translation>Lizenz: {licence}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="43" />
      <source>Licence: not stated in the model file</source>
      <translation>Lizenz: in der Modelldatei nicht angegeben</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="52" />
      <source>On held-out synthetic tiles</source>
      <translation>Auf zurückgehaltenen synthetischen Kacheln</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="53" />
      <source>On LandCover.ai's test tiles</source>
      <translation>Auf den Testkacheln von LandCover.ai</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="54" />
      <source>On held-out tiles of its training data</source>
      <translation>Auf zurückgehaltenen Kacheln seiner Trainingsdaten</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="55" />
      <source>{where}: mIoU {miou}</source>
      <translation>{where}: mIoU {miou}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="58" />
      <source>{miou} on {image}</source>
      <translation>{miou} auf {image}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="61" />
      <source>On real photos (mIoU): {scores}; truth: {truth}</source>
      <translation>Auf echten Fotos (mIoU): {scores}; Referenz: {truth}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="65" />
      <source>On validation blocks of the labels it was fine-tuned on ({ha} ha): mIoU {after} ({before} before)</source>
      <translation>Auf Validierungsblöcken der Beschriftungen, mit denen es nachtrainiert wurde ({ha} ha): mIoU {after} (vorher {before})</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="72" />
      <source>int8 copy: {agreement} % of pixels keep their float32 class</source>
      <translation>int8-Kopie: {agreement} % der Pixel behalten ihre float32-Klasse</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/model_summary.py" line="84" />
      <source>{some} and {last}</source>
      <translation>{some} und {last}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/notify.py" line="38" />
      <source>Details…</source>
      <translation>Details…</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/option_widgets.py" line="57" />
      <source>not set</source>
      <translation>nicht gesetzt</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/parameters.py" line="71" />
      <source> Classes: {names}.</source>
      <translation> Klassen: {names}.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/parameters.py" line="115" />
      <source>Unknown class(es) {unknown}; this model knows {known}.</source>
      <translation>Unbekannte Klasse(n) {unknown}; dieses Modell kennt {known}.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plan.py" line="34" />
      <source>{km2} km²</source>
      <translation>{km2} km²</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plan.py" line="35" />
      <source>{ha} ha</source>
      <translation>{ha} ha</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plan.py" line="36" />
      <source>Up to {size} at {cm} cm/px: about {tiles} tiles of {px} px, on {device}</source>
      <translation>Bis zu {size} bei {cm} cm/px: etwa {tiles} Kacheln zu {px} px, auf {device}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/plan.py" line="67" />
      <source>web service {url}</source>
      <translation>Webdienst {url}</translation>
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
      <location filename="../../landcover_qgis_plugin/plugin.py" line="76" />
      <source>The plugin is incomplete; reinstall it.</source>
      <translation>Das Plugin ist unvollständig; installieren Sie es neu.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/provider.py" line="21" />
      <source>Land cover segmentation (DeepLabv3+)</source>
      <translation>Landbedeckungs-Segmentierung (DeepLabv3+)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="30" />
      <source>Background</source>
      <translation>Hintergrund</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="30" />
      <source>Buildings</source>
      <translation>Gebäude</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="30" />
      <source>Woodland</source>
      <translation>Wald</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="31" />
      <source>Water</source>
      <translation>Gewässer</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="31" />
      <source>Roads</source>
      <translation>Straßen</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="39" />
      <source>The style {path} could not be applied: {message}</source>
      <translation>Der Stil {path} konnte nicht angewendet werden: {message}</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="97" />
      <source>Layer '{layer}' of {path} could not be opened.</source>
      <translation>Layer „{layer}“ von {path} konnte nicht geöffnet werden.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="102" />
      <source>Land-cover classes (raster)</source>
      <translation>Landbedeckungsklassen (Raster)</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/results.py" line="104" />
      <source>The class raster {path} could not be opened.</source>
      <translation>Das Klassenraster {path} konnte nicht geöffnet werden.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="41" />
      <source>{label} {area} ha</source>
      <translation>{label} {area} ha</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="42" />
      <source>no class found</source>
      <translation>keine Klasse gefunden</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="43" />
      <source>{name}: {areas} — {tiles} tiles on {device} in {seconds} s</source>
      <translation>{name}: {areas} — {tiles} Kacheln auf {device} in {seconds} s</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="48" />
      <source>Raster: {reading}.</source>
      <translation>Raster: {reading}.</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="49" />
      <source>Area per class, as polygons after cleaning and in the class raster:</source>
      <translation>Fläche je Klasse, als Polygone nach der Bereinigung und im Klassenraster:</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="52" />
      <source>{label}: {polygons} as polygons, {raster} ha in the class raster</source>
      <translation>{label}: {polygons} als Polygone, {raster} ha im Klassenraster</translation>
    </message>
    <message>
      <location filename="../../landcover_qgis_plugin/summary.py" line="54" />
      <source>Written: {path}</source>
      <translation>Geschrieben: {path}</translation>
    </message>
  </context>
</TS>
