# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ogi run

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ] || \
	  echo "note: no Chromium here, so the inspector's browser test will be skipped;" \
	       "install it with: sudo apt-get install -y chromium fonts-wqy-microhei"
	$(BIN)/pytest -q

# ruff over the Python, sqlfluff (dbt's templater, so macros and refs resolve) over the dbt models;
# dbt compiles against an empty scratch warehouse, never a home's
LINT_DIR := $(shell mktemp -d -u /tmp/ogi-lint.XXXXXX)
lint: $(STAMP)
	$(BIN)/ruff check .
	mkdir -p $(LINT_DIR)/parquet
	cd dbt_project && OGI_PARQUET_DIR=$(LINT_DIR)/parquet OGI_WAREHOUSE_PATH=$(LINT_DIR)/lint.duckdb \
	  DBT_PROFILES_DIR=$(CURDIR)/dbt_project DO_NOT_TRACK=1 ../$(BIN)/sqlfluff lint models tests
	rm -rf $(LINT_DIR)

# One JSON line per scenario at the end (docs/SCALING.md). BENCH_REPORTS=150000 for a national year.
bench: $(STAMP)
	$(BIN)/python bench/run.py

ui: $(STAMP)
	$(BIN)/ogi ui

clean:
	rm -rf ogi_home dbt_project/target dbt_project/logs .pytest_cache
