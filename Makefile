# Every target is idempotent: a second run only redoes what changed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian's QGIS, GDAL and friends, all built for $(SYSTEM_PYTHON) on one GDAL.
SYSTEM_PACKAGES := qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-fiona \
	python3-shapely python3-venv python3-matplotlib python3-scipy python3-yaml \
	qgis-server-bin qgis-server-wms python3-distributed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Headless QGIS and quiet TensorFlow for every command run from here.
export QT_QPA_PLATFORM := offscreen
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup system-packages test demo bench bench-train default-model sample package install-plugin translations

DEFAULT_MODEL := resources/models/default.keras
DEFAULT_ONNX_MODEL := resources/models/default.onnx
SAMPLE := resources/sample/sample_orthophoto.tif

help:
	@echo "make demo            segment the bundled sample orthophoto through qgis_process (sets everything up)"
	@echo "make test            run the tests (sets everything up)"
	@echo "make setup           install Debian packages and the virtual environment only"
	@echo "make bench           inference speed and memory, peers, Dask scaling -> bench/results/"
	@echo "make bench-train     training throughput and memory, DeepLabv3+ vs MUNet vs the MUNet GAN -> bench/results/"
	@echo "make default-model   retrain the bundled default model with the project's own trainer"
	@echo "make sample          regenerate the bundled sample orthophoto"
	@echo "make package         build the plugin zip for the QGIS plugin repository (dist/)"
	@echo "make install-plugin  install that zip into your QGIS profile and enable it"

setup: $(STAMP)

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): requirements.txt requirements-nodeps.txt | system-packages
	test -x $(PY) || $(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	touch $@

test: setup
	$(PY) -m pytest -q tests

demo: setup $(DEFAULT_MODEL) $(SAMPLE)
	$(PY) tools/demo.py --input $(SAMPLE) --model $(DEFAULT_MODEL)

bench: setup $(DEFAULT_ONNX_MODEL)
	$(PY) -m bench.inference --full
	$(PY) -m bench.peers
	$(PY) -m bench.scale
	$(PY) -m bench.real
	$(PY) -m bench.finetune

bench-train: setup
	$(PY) -m bench.train
	$(PY) -m bench.gan

package: setup $(DEFAULT_MODEL) $(DEFAULT_ONNX_MODEL)
	$(PY) tools/package.py

install-plugin: setup $(DEFAULT_MODEL) $(DEFAULT_ONNX_MODEL)
	$(PY) tools/package.py --install

translations: setup
	$(PY) tools/i18n.py update && $(PY) tools/i18n.py compile

# The bundled sample: a synthetic orthophoto from a seed the default model never trained on.
sample: setup
	$(PY) tools/make_sample.py --out $(SAMPLE) --overwrite
$(SAMPLE):
	$(MAKE) sample

# The bundled default model, made by the project's own trainer on synthetic data (see README).
DEFAULT_RUN := runs/default-model
DEFAULT_DESCRIPTION := A small DeepLabv3+ trained by this project on synthetic scenes only (half towns, varied cameras)
DEFAULT_LICENCE := GPL-2.0-or-later, as the plugin: weights made by this project from its own synthetic scenes
default-model: setup
	$(PY) -m trainer synth --out data/default-synth --seed 7 --images 96 --size 2048 --tile-size 256 \
		--towns 0.5 --sensor varied --overwrite
	$(PY) -m trainer data --source data/default-synth --root data/default-tiles --tile-size 256
	$(PY) -m trainer fit --config default_model --restart
	$(PY) -m trainer evaluate --run $(DEFAULT_RUN) --split val
	$(PY) -m trainer evaluate --run $(DEFAULT_RUN) --split test
	$(PY) -m trainer export --run $(DEFAULT_RUN) --out $(DEFAULT_MODEL) --overwrite \
		--description "$(DEFAULT_DESCRIPTION)" --licence "$(DEFAULT_LICENCE)" \
		--training-data "synthetic scenes: trainer synth --seed 7 --images 96 --size 2048 --towns 0.5 --sensor varied, 256 px tiles, augmentation wide"
	@if [ -d ../shared/data ]; then $(PY) -m bench.real --model $(DEFAULT_MODEL) --record --out $(DEFAULT_RUN)/real; \
	else echo "../shared/data is absent: the model file goes without its real check (bench.real --record)"; fi
	$(PY) -m trainer export --model $(DEFAULT_MODEL) --onnx $(DEFAULT_ONNX_MODEL) --overwrite
$(DEFAULT_MODEL):
	$(MAKE) default-model
# Its ONNX copy (the same network and metadata), which the plugin prefers when ONNX Runtime is there.
$(DEFAULT_ONNX_MODEL): | $(DEFAULT_MODEL)
	$(PY) -m trainer export --model $(DEFAULT_MODEL) --onnx $(DEFAULT_ONNX_MODEL) --overwrite
