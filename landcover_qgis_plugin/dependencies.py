"""Is the deep-learning runtime there? Checked without importing it, so loading the plugin stays instant.

The plugin never installs packages itself: it names the exact command for the Python QGIS runs on,
and the analyst (or an administrator) runs it.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from pathlib import Path

from .i18n import tr
from .paths import DEFAULT_MODEL_PATH, DEFAULT_ONNX_MODEL_PATH

# The versions the project tests with (requirements.txt); numpy 2 breaks TensorFlow 2.17 and the
# GDAL bindings QGIS ships with.
TENSORFLOW_VERSION = "2.17.1"
KERAS_VERSION = "3.15.1"
ONNXRUNTIME_VERSION = "1.26.0"
ONNX_VERSION = "1.17.0"
# What the engine needs beyond what every QGIS ships (numpy and GDAL's Python bindings), and the two
# ways to run a model: ONNX Runtime alone (light, GPU through DirectML/CUDA builds) or TensorFlow with
# Keras (for .keras files). A test checks that the plugin imports nothing else.
ENGINE_MODULES = ("shapely", "scipy")
RUNTIMES = {"onnxruntime": ("onnxruntime",), "keras": ("tensorflow", "keras")}
# Optional, imported only where they are: onnx (installed with ONNX Runtime) lets the engine rewrite
# other tools' ONNX graphs into faster ones (core/onnxgraph.py); Dask's distributed runs a mosaic's
# blocks on many workers (core/scale/, `trainer predict --workers`).
OPTIONAL_MODULES = ("onnx", "distributed")
RUNTIME_MODULES = (*ENGINE_MODULES, *(module for modules in RUNTIMES.values() for module in modules),
                   *OPTIONAL_MODULES)


def _found(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def missing_modules() -> list[str]:
    """What QGIS's Python lacks: the engine's modules, and ONNX Runtime when no runtime is there at all."""
    missing = [name for name in ENGINE_MODULES if not _found(name)]
    if not any(all(_found(module) for module in modules) for modules in RUNTIMES.values()):
        missing.append("onnxruntime")
    return missing


def keras_available() -> bool:
    """Whether .keras model files can run (ONNX files need only ONNX Runtime)."""
    return all(_found(module) for module in RUNTIMES["keras"])


def default_model_path() -> Path:
    """The bundled model: its ONNX copy when ONNX Runtime is there (several times faster on a CPU,
    same classes), else the Keras file."""
    if DEFAULT_ONNX_MODEL_PATH.is_file() and _found("onnxruntime") or not keras_available():
        return DEFAULT_ONNX_MODEL_PATH
    return DEFAULT_MODEL_PATH


def install_command(platform: str = sys.platform, keras: bool = False) -> str:
    """The pip command that installs the runtime into the Python QGIS runs on: the light one (ONNX
    Runtime), or with `keras` TensorFlow and Keras for .keras model files."""
    if keras:
        tensorflow = "tensorflow-cpu" if platform.startswith("linux") else "tensorflow"
        runtime = f'"{tensorflow}=={TENSORFLOW_VERSION}" "keras=={KERAS_VERSION}"'
    else:
        runtime = f'"onnxruntime=={ONNXRUNTIME_VERSION}" "onnx=={ONNX_VERSION}"'
    packages = f'{runtime} "numpy<2" shapely scipy'
    if platform.startswith("win"):
        return f"python -m pip install {packages}"
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    flags = "--user"
    if (Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").exists():
        flags += " --break-system-packages"  # Debian/Ubuntu's system Python refuses --user otherwise
    return f"{python} -m pip install {flags} {packages}"


def _where_to_install() -> str:
    return tr("in the OSGeo4W Shell") if sys.platform.startswith("win") else tr("in a terminal")


def missing_runtime_message() -> str | None:
    """One sentence saying what is missing and exactly what to run, or None when all is there."""
    missing = missing_modules()
    if not missing:
        return None
    where = _where_to_install()
    return tr("Land cover segmentation needs {modules}, which QGIS's Python cannot find. "
              "Install it {where} with: {command} — then restart QGIS. For .keras model files (ONNX files "
              "need only the above) also: {keras}").format(
        modules=", ".join(missing), where=where, command=install_command(), keras=install_command(keras=True))


def missing_keras_message() -> str | None:
    """What to install before the reference's TensorFlow checkpoint can be converted, or None when
    TensorFlow and Keras are there."""
    if keras_available():
        return None
    return tr("Converting the reference's weights needs TensorFlow and Keras, which QGIS's Python cannot find. "
              "Install them {where} with: {command} — then restart QGIS.").format(
        where=_where_to_install(), command=install_command(keras=True))


def load_hdf5_bindings() -> None:
    """Import h5py so that it keeps to the HDF5 library its wheel brings.

    The QGIS executables put GDAL, and with it the system's HDF5, into the process's global symbol
    scope. Loaded normally, the h5py modules of a pip-installed Keras would bind to that other HDF5
    and fail to read any .keras file ("Not a datatype"). RTLD_DEEPBIND makes them prefer their own
    copy. Called before the engine loads a model; harmless where h5py is already imported.
    """
    if "h5py" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        return
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        import h5py  # noqa: F401
    except ImportError:
        pass  # Keras names what is missing when it needs it
    finally:
        sys.setdlopenflags(flags)
