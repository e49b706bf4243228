# The two commands of README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint coverage bench package deb install-desktop mutants clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m gemchat $(ARGS)

# The linters first (seconds), then the tests.
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Style (ruff), types (mypy) and the layering README describes (import-linter's contracts).
lint: $(STAMP)
	$(VENV)/bin/ruff check gemchat tests benchmarks packaging tools
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# Line coverage of gemchat/, child processes and worker threads included (pyproject's [tool.coverage]).
coverage: $(STAMP)
	rm -f .coverage .coverage.*
	COVERAGE_FILE=$(CURDIR)/.coverage QT_QPA_PLATFORM=offscreen $(PY) -m coverage run -m pytest $(PYTEST_ARGS)
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# PyInstaller one-folder app: dist/gemchat/gemchat (see packaging/gemchat.spec and README's Packaging).
PACKAGE_STAMP := $(VENV)/.package-installed

$(PACKAGE_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[package]'
	touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build packaging/gemchat.spec

# Debian package dist/gemchat_<version>_amd64.deb from that build (README's "Debian package"; needs dpkg-deb).
deb: package
	$(PY) packaging/build_deb.py

# Mutation testing of gemchat/core and gemchat/storage (README's "Mutation testing"); not part of `make test`.
# One worker by default (MUTANT_CHILDREN=2 on an idle machine); results are kept in mutants/, so a
# second run re-tests only what changed: `rm -rf mutants` for a fresh one.
MUTANTS_STAMP := $(VENV)/.mutants-installed
MUTANT_CHILDREN ?= 1

$(MUTANTS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,mutants]'
	touch $(MUTANTS_STAMP)

mutants: $(MUTANTS_STAMP)
	GEMCHAT_MUTANTS=1 QT_QPA_PLATFORM=offscreen $(VENV)/bin/mutmut run --max-children $(MUTANT_CHILDREN) $(MUTANTS)
	$(PY) tools/mutants_score.py

# Launcher entry and icons for the current user; runs the packaged app if built, else the venv's script.
install-desktop: $(STAMP)
	$(PY) packaging/install_desktop.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .coverage .coverage.* mutants
