# Two commands (see README): `make run` starts the assistant, `make test` runs the whole test suite.
# Both create .venv on first use and install from the package index configured for pip (works offline
# where PyPI is mirrored, as on this project's machines and CI).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test lint build eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/assistant build
	$(BIN)/streamlit run ui/app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false --client.toolbarMode viewer

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python evals/check_questions.py
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/assistant build

eval: $(STAMP)
	$(BIN)/assistant eval --questions evals/questions.test.jsonl --out artifacts/eval

# Speed, memory and cold starts on this machine (evals/bench/README.md); BENCH_ARGS="--sizes seed,10000" for a short run.
bench: $(STAMP)
	$(BIN)/python -m evals.bench --json artifacts/bench/results.json $(BENCH_ARGS)

clean:
	rm -rf index artifacts .pytest_cache .mypy_cache .ruff_cache
