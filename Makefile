# Two entry points for a fresh machine: `make run` (main job end to end) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Quiet the telemetry of every tool in the stack; tests and CI run offline.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := False
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
# Idle OpenMP threads sleep instead of spinning (see seedvr/__init__.py for the figures).
export OMP_WAIT_POLICY := PASSIVE
# Prefect gives its temporary local server 20 s to answer; on a busy 2-core machine (tests
# running beside `make run`, 2026-12-02) it took longer and the run stopped before any stage.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: run test install bench clean

$(BIN)/seedvr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, pinned: an unpinned resolve would pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	@if $(BIN)/pip list 2>/dev/null | grep -qi '^nvidia-'; then echo "error: a CUDA build of torch was pulled in" >&2; exit 1; fi
	touch $(BIN)/seedvr

install: $(BIN)/seedvr

# The training pipeline (Prefect tasks over the DVC stages), then a demo batch repair with the
# promoted model; prints where to look. A second `make run` skips every unchanged stage.
# Every stage runs on pinned CPU numerics (seedvr/versioning/dvc_commands.py, STAGE_NUMERICS).
run: install
	$(BIN)/python -m flows.main

# Two workers, one per core: alone the suite keeps one core busy. On a clean clone of cfdaa08
# (2026-12-02) two workers ran its 939 tests in 4 min 13 s. Each worker starts its own
# Prefect test server.
test: install
	$(BIN)/pytest -q -n 2

bench: install
	$(BIN)/python benchmarks/bench_damage.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_repair.py

clean:
	rm -rf work outputs .pytest_cache
