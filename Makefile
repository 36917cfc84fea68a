# One entry point: `make run` (setup + the main job), `make test` (setup + the test suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/var/dagster

.PHONY: setup run test test-slow dev report bench bench-sim bench-enrich bench-ingest bench-metrics clean

# The CPU install: constraints-cpu.txt pins torch to the local CPU build, never the CUDA wheels.
$(BIN)/observatory: pyproject.toml constraints-cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints-cpu.txt -e '.[dev]'
	touch $@

setup: $(BIN)/observatory

run: setup
	$(BIN)/observatory run

# pytest exits 5 when it collects nothing: that is a broken suite, not a pass.
test: setup
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

test-slow: setup
	$(BIN)/python -m pytest -m slow

$(DAGSTER_HOME)/dagster.yaml: pipelines/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp pipelines/dagster.yaml $@

dev: setup $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m pipelines.definitions

report: setup
	$(BIN)/observatory report

# Medians of wall time and peak memory of the main job, cold and warm (several minutes).
bench: setup
	$(BIN)/python -m pipelines.bench main --repeat 3

# Events/s and peak memory of every preset at 1k, 10k and 100k agents (about 35 minutes on 2
# cores; `python -m pipelines.bench sim --presets P --sizes N` runs a part).
bench-sim: setup
	$(BIN)/python -m pipelines.bench sim --repeat 3

# Texts/s and peak memory of each embedder, the cache rerun, BERTopic at 10k and 100k posts and
# every offline scorer (about 40 minutes on 2 cores; `--only WORD` runs a part).
bench-enrich: setup
	$(BIN)/python -m pipelines.bench enrich --repeat 3

# Posts+comments/s and peak memory of a live sync of a 100,000-post generated site from the local
# replay server, cold and warm (about 15 minutes on 2 cores; `--posts N` for another size).
bench-ingest: setup
	$(BIN)/python -m pipelines.bench ingest --repeat 3

# Wall time and peak memory of each metric family on simulated societies of about 10k, 30k and
# 100k posts (5 comments per post), with growth exponents (about 55 minutes on 2 cores, 20 of them
# preparing the three societies; `python -m pipelines.bench metrics --sizes N ... --families F ...`
# runs a part).
bench-metrics: setup
	$(BIN)/python -m pipelines.bench metrics --repeat 3

clean:
	rm -rf var
