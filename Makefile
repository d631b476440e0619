# faceaudit: `make run` sets up the environment and runs the default study; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 4
# tensorflow with CUDA where a GPU driver is present, the smaller CPU build elsewhere (same version).
TENSORFLOW := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 'tensorflow[and-cuda]==2.21.0' || echo 'tensorflow-cpu==2.21.0')

.PHONY: env run test test-unit lint system-deps clean bench-preprocess bench-training

env: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt "$(TENSORFLOW)"
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@

run: env
	$(BIN)/snakemake --cores $(CORES)

test: env
	$(BIN)/pytest

# The unit tests only (a few minutes): tests/unit mirrors the package, stage by stage.
test-unit: env
	$(BIN)/pytest tests/unit

# Style gates, run by CI before the tests: one line length (120) for Python and Snakemake files.
lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(BIN)/python tests/lint_workflow.py

# Debian packages that the browser test needs (run as root; CI does). The SLURM tests install their own.
system-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver

# Preprocessing speed: draft (DCT-scaled) JPEG decoding vs a naive full decode, per core and on all cores.
bench-preprocess: env
	$(BIN)/python -m faceaudit.bench.preprocess

# Training speed: the project's pipeline (decode once, memory map, tf.data) vs ImageDataGenerator decoding JPEGs every epoch.
bench-training: env
	$(BIN)/python -m faceaudit.bench.training

clean:
	rm -rf results resources logs benchmarks .snakemake
