# faceaudit: `make run` sets up the environment and runs the default study; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 4
# tensorflow with CUDA where a GPU driver is present, the smaller CPU build elsewhere (same version).
TENSORFLOW := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 'tensorflow[and-cuda]==2.21.0' || echo 'tensorflow-cpu==2.21.0')

.PHONY: env run test test-unit lint system-deps clean bench-preprocess bench-training bench-planning bench-data-audit bench-input bench-gpu bench-audit bench-report

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

# Input pipeline alone (no model), at 100 and 224 px: images/s that tf.data over the .npy memory map can feed vs
# ImageDataGenerator decoding JPEGs: the ceiling a GPU's training speed meets.
bench-input: env
	$(BIN)/python -m faceaudit.bench.input_pipeline

# On a GPU node: the training benchmark for a CNN at 100 px and a transfer model at 224 px with GPU utilisation from
# nvidia-smi; writes benchmarks/gpu_training.{md,csv}. Runs on a CPU too (says "no GPU"); BENCH_GPU_OPTIONS makes it small.
bench-gpu: env
	$(BIN)/python -m faceaudit.bench.gpu $(BENCH_GPU_OPTIONS)

# Planning speed: `snakemake -n` on a 500- and a 2,000-run study against a plain Snakefile of the same shape.
bench-planning: env
	$(BIN)/python -m faceaudit.bench.planning --runs 500
	$(BIN)/python -m faceaudit.bench.planning --runs 2000

# Data audit speed: hashes, duplicate search, leakage tests and per-group statistics on 100,000 32x32 RGB images.
bench-data-audit: env
	$(BIN)/python -m faceaudit.bench.data_audit

# Audit speed (one run: 10,000 rows, 1,000 resamples; 5 seeds aggregated) and the seed intervals' coverage.
bench-audit: env
	$(BIN)/python -m faceaudit.bench.audit --coverage

# Report speed: write_report (index and a page per run) on generated result files of 500 runs.
bench-report: env
	$(BIN)/python -m faceaudit.bench.report --runs 500

clean:
	rm -rf results resources logs benchmarks .snakemake
