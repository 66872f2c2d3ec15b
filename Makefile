# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ogi run

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ] || \
	  echo "note: no Chromium here, so the inspector's browser test will be skipped;" \
	       "install it with: sudo apt-get install -y chromium fonts-wqy-microhei"
	$(BIN)/pytest -q

# One JSON line per scenario at the end (docs/SCALING.md). BENCH_REPORTS=150000 for a national year.
bench: $(STAMP)
	$(BIN)/python bench/run.py

ui: $(STAMP)
	$(BIN)/ogi ui

clean:
	rm -rf ogi_home dbt_project/target dbt_project/logs .pytest_cache
