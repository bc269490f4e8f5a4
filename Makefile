# UCC developer tasks. `make help` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := build

GO ?= go
BIN := bin/ucc
# Version stamped into the binary: `git describe`, or "dev" outside a clone.
ifeq ($(origin VERSION),undefined)
VERSION := $(or $(shell git describe --always --dirty 2>/dev/null),dev)
endif
# Extra flags for `go test` (e.g. make test TESTFLAGS='-run TestView -v'),
# and the packages to test.
TESTFLAGS ?=
PKGS ?= ./...
# Flags for `make bench` (e.g. make bench BENCHFLAGS='-size=full' or '-rows=view,watch -v').
BENCHFLAGS ?=

# How to start the services on this machine (Debian, no Docker), printed by
# `make run` when they do not answer.
START_POSTGRES := pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
START_REDIS := redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log

# Fuzz targets, as package:FuzzName. `make fuzz` runs each for FUZZTIME;
# `make test` runs each for FUZZTIME_SHORT after the tests (SKIP_FUZZ=1 skips).
# Each package's test binary is built once with the coverage instrumentation
# `go test -fuzz` uses (-d=libfuzzer), and every run starts from the seed
# corpus (f.Add and testdata/fuzz) in a fresh cache, so runs are comparable;
# a failing input is saved to the package's testdata/fuzz/ to keep as a seed.
# Go 1.26's fuzz coordinator may fail a target with a bare "context deadline
# exceeded" when -fuzztime ends under CPU load (go.dev/issue/75804, fixed in
# Go 1.27): without a new failing input, that is reported and not a failure.
FUZZ_TARGETS := \
	./internal/views:FuzzPlayToken \
	./internal/views:FuzzAnonymousID \
	./internal/web:FuzzViewReportBody \
	./internal/web:FuzzLinkify \
	./internal/uploads:FuzzUploadMetadata \
	./internal/uploads:FuzzTusSizes \
	./internal/community:FuzzCursor \
	./internal/community:FuzzNormalizeQuery \
	./storage/postgres:FuzzSearchPostgres \
	./storage/postgres:FuzzCursorPostgres \
	./internal/revenue:FuzzPayoutCSV \
	./internal/config:FuzzLoad
FUZZTIME ?= 10s
FUZZTIME_SHORT ?= 2s
SKIP_FUZZ ?=

.PHONY: help build run check-services test vet clean bench bench-go soak fuzz fuzz-short

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

build: ## build bin/ucc
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/ucc

run: check-services build ## migrate the local database and serve UCC at http://127.0.0.1:8080
	@export UCC_STORAGE="$${UCC_STORAGE:-fs}" UCC_STORAGE_DIR="$${UCC_STORAGE_DIR:-./data/objects}"; \
	set -e; \
	if [ -z "$$UCC_SECRET_KEY" ] && [ -z "$$UCC_SECRET_KEY_FILE" ]; then \
		if [ ! -s ./data/secret-key ]; then \
			mkdir -p ./data; (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > ./data/secret-key); \
			echo "wrote a server key to ./data/secret-key (kept across runs; set UCC_SECRET_KEY to use your own)"; \
		fi; \
		export UCC_SECRET_KEY_FILE=./data/secret-key; \
	fi; \
	./$(BIN) migrate up --create-db; \
	echo "UCC is starting at http://127.0.0.1:8080"; \
	exec ./$(BIN) serve

# PostgreSQL and Redis must answer before `make run` starts; otherwise say how
# to start them.
check-services:
	@ok=1; \
	if ! (: </dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		echo "PostgreSQL does not answer at 127.0.0.1:5432. Start it with:"; \
		echo '    $(START_POSTGRES)'; \
		ok=0; \
	fi; \
	if ! (: </dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
		echo "Redis does not answer at 127.0.0.1:6379. Start it with:"; \
		echo '    $(START_REDIS)'; \
		ok=0; \
	fi; \
	if [ $$ok = 0 ]; then \
		echo "or, with Docker: docker compose up -d postgres redis minio"; \
		exit 1; \
	fi

test: ## run all tests against real PostgreSQL, Redis and a throw-away MinIO, then every fuzz target briefly
	$(GO) run ./cmd/testenv -- $(GO) test -race -count=1 $(TESTFLAGS) $(PKGS)
	@if [ -z "$(SKIP_FUZZ)" ]; then $(MAKE) --no-print-directory fuzz-short; fi

fuzz: ## run every fuzz target for FUZZTIME each (default 10s); prints the inputs each one tried
	@set -o pipefail; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	pkgs=$$(for t in $(FUZZ_TARGETS); do echo $${t%%:*}; done | sort -u); \
	$(GO) test -c -gcflags='$(shell $(GO) list -m)/...=-d=libfuzzer' -o "$$dir/" $$pkgs || exit 1; \
	total=0; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; bin="$$dir/$$(basename $$pkg).test"; \
		seeds=$$(ls $$pkg/testdata/fuzz/$$name 2>/dev/null | wc -l); \
		if ! out=$$(cd $$pkg && "$$bin" -test.run '^$$' -test.fuzz "^$$name\$$" -test.fuzztime $(FUZZTIME) \
				-test.fuzzcachedir "$$dir/cache/$$name" 2>&1); then \
			if [ "$$(ls $$pkg/testdata/fuzz/$$name 2>/dev/null | wc -l)" = "$$seeds" ] && \
				echo "$$out" | tail -3 | grep -q 'context deadline exceeded'; then \
				echo "  ($$name: Go's fuzz coordinator reported its own deadline at the end of the run, go.dev/issue/75804; no failing input)"; \
			else \
				echo "$$out"; echo "fuzz: $$name FAILED (a reproducer is saved under $$pkg/testdata/fuzz/$$name)"; exit 1; \
			fi; \
		fi; \
		n=$$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -1 | grep -o '[0-9]*'); n=$${n:-0}; \
		printf '  %-22s %-20s %10d inputs\n' "$$pkg" "$$name" "$$n"; total=$$((total + n)); \
	done; \
	echo "fuzz: $$total inputs over $(words $(FUZZ_TARGETS)) targets, $(FUZZTIME) each"

fuzz-short: ## every fuzz target for FUZZTIME_SHORT (2s) each, as `make test` runs them
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

soak: ## long soak: mixed traffic for minutes with a Redis outage (UCC_SOAK_DURATION=10m to change)
	$(GO) run ./cmd/testenv -- env UCC_SOAK=1 $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 60m ./internal/systemtest/

bench: ## measure the hot paths against same-run baselines; prints the table and writes BENCHMARKS.md
	$(GO) run ./cmd/testenv -- $(GO) run ./cmd/bench $(BENCHFLAGS)

bench-go: ## in-process Go benchmarks: watch page and view report vs bare gin, 1M-view flush vs COPY, revenue vs GROUP BY
	$(GO) test -run '^$$' -bench 'BareGin|ReportView|WatchPage' -benchtime=3s ./internal/web/
	$(GO) test -run '^$$' -bench 'Flush1M|Copy100kRows' -benchtime=3x ./storage/postgres/
	$(GO) test -run '^$$' -bench '^BenchmarkRevenue$$' -benchtime 3x -timeout 60m ./storage/postgres/

vet: ## go vet
	$(GO) vet ./...

clean: ## remove build and test output (keeps ./data)
	rm -rf bin/ test-output/
