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

# How to start the services on this machine (Debian, no Docker), printed by
# `make run` when they do not answer.
START_POSTGRES := pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
START_REDIS := redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log

.PHONY: help build run check-services test vet clean bench soak

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

build: ## build bin/ucc
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/ucc

run: check-services build ## migrate the local database and serve UCC at http://127.0.0.1:8080
	@export UCC_STORAGE="$${UCC_STORAGE:-fs}" UCC_STORAGE_DIR="$${UCC_STORAGE_DIR:-./data/objects}"; \
	set -e; \
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

test: ## run all tests against real PostgreSQL, Redis and a throw-away MinIO
	$(GO) run ./cmd/testenv -- $(GO) test -race -count=1 $(TESTFLAGS) $(PKGS)

soak: ## long soak: mixed traffic for minutes with a Redis outage (UCC_SOAK_DURATION=10m to change)
	$(GO) run ./cmd/testenv -- env UCC_SOAK=1 $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 60m ./cmd/ucc/

bench: ## view report throughput/p99 vs a bare gin handler; 1M-view flush vs a plain COPY
	$(GO) test -run '^$$' -bench 'BareGin204|ReportView' -benchtime=3s ./internal/web/
	$(GO) test -run '^$$' -bench 'Flush1M|Copy100kRows' -benchtime=3x ./storage/postgres/
	$(GO) test -run '^$$' -bench '^BenchmarkRevenue$$' -benchtime 3x -timeout 60m ./storage/postgres/

vet: ## go vet
	$(GO) vet ./...

clean: ## remove build and test output (keeps ./data)
	rm -rf bin/ test-output/
