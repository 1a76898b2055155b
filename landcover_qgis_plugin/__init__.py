"""Land cover QGIS plugin: orthophotos to land-cover polygons with DeepLabv3+.

QGIS calls classFactory; everything QGIS-specific is imported there, so the QGIS-free `core`
package stays importable by the trainer and the command line without QGIS.
"""


def classFactory(iface):  # noqa: N802 (the name QGIS looks for)
    from .plugin import LandCoverPlugin
    return LandCoverPlugin(iface)
