# Self-installing targets: each one creates or updates .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install grade test test-matrix lab build check bench lint browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[cpu,instructor,test]"
	touch $(STAMP)

install: $(STAMP)

## grade: build the student notebooks, then grade the bundled sample submissions into reports/
grade: $(STAMP)
	$(BIN)/python -m grader build
	$(BIN)/python -m grader grade examples/submissions --out reports

## browser: Debian's Chromium (and an emoji font), which the JupyterLab browser test drives
browser:
	@test -x /usr/bin/chromium || { SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji; }

## test: the whole test suite (what CI runs)
test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

## test-matrix: the claim tests and solution notebooks on every tested TensorFlow/Keras release, one
## environment each under build/matrix/ (long: not part of `make test`)
test-matrix: $(STAMP)
	$(BIN)/python tools/test_matrix.py

## lab: open JupyterLab on the student notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## build / check: regenerate notebooks/ and the README table, or verify they are up to date
build: $(STAMP)
	$(BIN)/python -m grader build

check: $(STAMP)
	$(BIN)/python -m grader build --check
	$(BIN)/ruff check augcourse grader tests benchmarks examples

## bench: the performance measurements quoted in the README
bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline.py
