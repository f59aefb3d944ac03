# Two commands for a newcomer: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PYTEST_ARGS ?= -n 2

.PHONY: demo test lab app lint bench chromium java clean help sample

help:
	@echo "make demo   - set up and run the main job on the bundled sample data"
	@echo "make test   - set up and run the whole test suite (installs chromium if missing)"
	@echo "make lab    - open JupyterLab on notebooks/"
	@echo "make app    - serve the threshold tuner as a Voila app on localhost (PROJECT=FILE: your data)"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make sample - regenerate data/sample from its seed"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps are rebuilt when pyproject.toml changes.
$(VENV)/.stamp-core: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[notebooks]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

$(VENV)/.stamp-all: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[notebooks,test,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@ $(VENV)/.stamp-core

demo: $(VENV)/.stamp-core
	$(BIN)/esc-analytics demo

chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium (needed by the browser tests and PNG export)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing: run 'sudo apt-get install -y chromium' (browser tests will be skipped)"; \
	fi

# Spark (the [spark] extra, installed by the test extra) needs a Java runtime.
java:
	@if command -v java >/dev/null 2>&1 || [ -n "$$JAVA_HOME" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's openjdk-17-jre-headless (needed by the Spark engine's tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else \
		echo "java is missing: run 'sudo apt-get install -y openjdk-17-jre-headless' (Spark tests will be skipped)"; \
	fi

test: $(VENV)/.stamp-all chromium java
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: $(VENV)/.stamp-all
	$(BIN)/jupyter lab notebooks/

# make app PROJECT=~/brand/esc-analytics.toml: the tuner on that project's data (default: the
# esc-analytics.toml of the working directory or above, else the bundled sample).
app: $(VENV)/.stamp-all
	$(if $(PROJECT),ESC_ANALYTICS_PROJECT="$(abspath $(PROJECT))") \
	$(BIN)/voila notebooks/02_tune_thresholds.ipynb --no-browser --Voila.ip=127.0.0.1 --port=8866

lint: $(VENV)/.stamp-all
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)/.stamp-all
	$(BIN)/python benchmarks/aggregate.py
	$(BIN)/python benchmarks/calibrate.py
	$(BIN)/python benchmarks/widgets.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/nab_realtweets.py

sample: $(VENV)/.stamp-core
	$(BIN)/esc-analytics sample --out data/sample

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis test-artifacts out
