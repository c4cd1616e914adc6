# The README's two commands are `make run` and `make test`; each sets up what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# The build cache lives outside the clone so that a fresh clone (and CI) starts warm.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/holomush-admin/target
# Incremental caches of every past build accumulate in the shared target (47 GB were found
# there); a clean clone gains nothing from them.
export CARGO_INCREMENTAL ?= 0
# Where scripts/install-postgres.sh puts PostgreSQL 14, 16, 17 and 18 (scripts/pg-lib.sh).
ifndef HOLOMUSH_PG_TOOLS
HOLOMUSH_PG_TOOLS := $(shell bash -c '. scripts/pg-lib.sh && pg_tools_root')
endif
export HOLOMUSH_PG_TOOLS
# PostgreSQL 18's psql, pg_dump and pg_restore come first: they work against every server
# from 14 to 18, while older ones refuse a newer server.
export PATH := $(HOME)/.cargo/bin:$(HOME)/.cache/holomush-admin/tools/node_modules/.bin:$(HOLOMUSH_PG_TOOLS)/18/bin:$(PATH)
# The PostgreSQL majors `make unit` runs the Rust tests against, e.g. `make test PG_MATRIX=18`.
export PG_MATRIX ?= 14 15 16 17 18
BIN := $(CARGO_TARGET_DIR)/release/holomush-admin

.PHONY: setup build run test lint unit e2e bench db db-stop

setup:
	@bash scripts/install-toolchain.sh

# The release server and its site (pkg/holomush-admin.HASH.{js,wasm,css}, hash.txt beside the binary).
build: setup
	cargo leptos build --release
	bash scripts/precompress.sh "$(CARGO_TARGET_DIR)/site/pkg" "$(CARGO_TARGET_DIR)/release/hash.txt"

# Starts the console. Without DATABASE_URL it brings up the private development cluster
# (PostgreSQL 18; PG_MAJOR=14…17 picks another).
run: build
	@if [ -z "$${DATABASE_URL:-}" ]; then \
	  export DATABASE_URL="$$(bash scripts/dev-postgres.sh url)"; \
	  echo "DATABASE_URL is not set: using the development cluster, $$(echo "$$DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@]*@#\1:****@#')"; \
	fi; \
	exec "$(BIN)" serve

test: setup lint unit build e2e

lint:
	cargo fmt --all -- --check
	cargo clippy -p ops -p app -p server --all-targets -- -D warnings
	cargo clippy -p app -p frontend --target wasm32-unknown-unknown -- -D warnings

# cargo test -p ops -p server once per major in PG_MATRIX, each against its own cluster
# (or once against TEST_DATABASE_URL when it is set).
unit:
	@bash scripts/test-matrix.sh

e2e: build
	bash scripts/e2e.sh "$(BIN)"

# Benchmarks print their times and the ratio against the raw tool (psql, pg_dump,
# pg_restore) from the same run, the server's memory while streaming archives, and for each
# page the bytes of a cold first load and the time to hydrated, beside the 300 KB budget.
# BENCH_BACKUP_MB / BENCH_STREAM_MB shrink the 1 GB defaults for a quick look.
bench: build
	cargo bench -p ops --bench migrate
	@archive="$$(mktemp -d)/bench.dump"; \
	  BENCH_ARCHIVE_OUT="$$archive" cargo bench -p ops --bench backup; \
	  url="$${TEST_DATABASE_URL:-$$(bash scripts/dev-postgres.sh url)}"; \
	  python3 scripts/bench-stream.py "$(BIN)" "$$url" "$$archive"; \
	  rm -rf "$$(dirname "$$archive")"; \
	  node scripts/bench-pages.mjs "$(BIN)" "$$url"

db:
	@bash scripts/dev-postgres.sh start

db-stop:
	@bash scripts/dev-postgres.sh stop
