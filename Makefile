# Two commands do all set-up on a fresh machine with Python 3 and make:
#   make lab    create .venv, install rfmaps and JupyterLab, open the first notebook
#   make test   create .venv, install the test extras, run every test
# Each step leaves a stamp, so the second run only does what changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: lab test app clean repository

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.lab
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# JupyterLab settings the explorers need (see binder/overrides.json).
$(SETTINGS): binder/overrides.json | $(BIN)/python
	mkdir -p $(dir $@)
	cp $< $@

# Jupyter refuses to run as root (containers, CI machines) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(VENV)/.lab $(SETTINGS)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_start_here.ipynb

# App mode: an explorer notebook as a page without code (for a projector, or students
# who should not see code). make app NOTEBOOK=notebooks/05_depth.ipynb picks another.
NOTEBOOK ?= notebooks/01_feature_maps.ipynb

$(VENV)/.app: pyproject.toml $(VENV)/.lab
	$(BIN)/python -m pip install -q -e '.[app]'
	touch $@

app: $(VENV)/.app
	$(BIN)/voila $(NOTEBOOK)

# Two workers (pytest-xdist), one test file each at a time: a file's fixtures (a JupyterLab server, the
# nbgrader course) are made once. make test WORKERS=0 runs everything in one process.
WORKERS ?= 2

# axe-core, the accessibility checker tests/browser/test_accessibility.py injects into JupyterLab:
# pinned, from npm, into build/node/ (git-ignored). Only the tests use it, never rfmaps. Without npm
# the step says so and those tests skip (.ci/run installs npm, so there they run).
AXE_VERSION := 4.14.1
AXE_STAMP := build/node/.axe-core-$(AXE_VERSION)

$(AXE_STAMP):
	@if command -v npm >/dev/null; then \
		npm install --prefix build/node --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION) \
		&& touch $@; \
	else echo "make test: npm not found, the axe-core accessibility tests will skip"; fi

# pytest exits with 5 when it collected nothing: that is a failure here too.
test: $(VENV)/.test $(SETTINGS) $(AXE_STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests"; exit 1; fi; \
	exit $$status

# The GitHub repository is one setting, pyproject.toml's Repository URL. A fork sets it once with
#   make repository REPO=owner/name
# which rewrites it there, in the README's Binder and Colab links and in the notebooks' install line
# (tests/test_installed.py checks that they all agree).
repository:
	@test -n "$(REPO)" || { echo "usage: make repository REPO=owner/name"; exit 2; }
	@echo "$(REPO)" | grep -Eq '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$$' || { echo "REPO must be owner/name, got $(REPO)"; exit 2; }
	@old=$$(sed -n 's|^Repository = "https://github.com/\(.*\)"|\1|p' pyproject.toml); \
	test -n "$$old" || { echo "pyproject.toml has no Repository URL"; exit 1; }; \
	pattern=$$(printf '%s' "$$old" | sed 's/[.]/[.]/g'); \
	sed -i -E "s,(github[.]com|/gh|google[.]com/github)/$$pattern([^A-Za-z0-9_.-]|$$),\1/$(REPO)\2,g" \
		pyproject.toml README.md notebooks/*.ipynb; \
	echo "repository: $$old -> $(REPO)"

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
