# Every target is idempotent: a second run only redoes what changed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian's QGIS, GDAL and friends, all built for $(SYSTEM_PYTHON) on one GDAL.
SYSTEM_PACKAGES := qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-fiona \
	python3-shapely python3-venv python3-matplotlib python3-scipy python3-yaml
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Headless QGIS and quiet TensorFlow for every command run from here.
export QT_QPA_PLATFORM := offscreen
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup system-packages test demo

help:
	@echo "make demo   run the main job on the bundled sample (sets everything up first)"
	@echo "make test   run the tests (sets everything up first)"
	@echo "make setup  install system packages and the virtual environment only"

setup: $(STAMP)

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): requirements.txt | system-packages
	test -x $(PY) || $(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

test: setup
	$(PY) -m pytest -q tests
