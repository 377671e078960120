# The same commands locally and in CI. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# uv syncs this folder (its default is .venv of the project).
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint bench browser wrk clean

# uv installs exactly uv.lock, torch from this machine's CPU wheel ([tool.uv.sources] in
# pyproject.toml): resolved from PyPI instead, torch is a CUDA build of gigabytes.
$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv sync --locked --extra dev --extra cluster
	touch $(STAMP)

install: $(STAMP)

# Installs a Debian package whose program is missing (as root; otherwise says how).
define debian_package
	@test -x $(1) || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
		else echo "$(2) missing: sudo apt-get install -y $(2)" >&2; exit 1; fi; }
endef

# Debian's Chromium for the widget's browser tests (never `playwright install`: it downloads).
browser:
	$(call debian_package,/usr/bin/chromium,chromium)

# wrk loads the server in the latency benchmarks: a C client leaves the two cores to the server.
wrk:
	$(call debian_package,/usr/bin/wrk,wrk)

# axe-core for the widget's accessibility tests, at the version package-lock.json pins.
axe: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	$(call debian_package,/usr/bin/npm,npm)
	npm ci --no-audit --no-fund --silent
	touch $@

run: install
	$(BIN)/dateline ingest
	$(BIN)/dateline serve --host $(HOST) --port $(PORT)

test: install browser axe
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check qa embeddings tests bench
	$(BIN)/ruff format --check qa embeddings tests bench
	$(BIN)/mypy

bench: install wrk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .dateline
