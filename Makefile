# accountd: the targets a developer and CI use. `make help` lists them.
GO       ?= go
BIN      ?= bin/accountd
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOLANGCI ?= $(shell command -v golangci-lint 2>/dev/null || echo $(HOME)/go/bin/golangci-lint)
# Local development defaults: the machine's PostgreSQL and Redis.
DEV_ENV  := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/accountd?sslmode=disable} \
            REDIS_URL=$${REDIS_URL-redis://127.0.0.1:6379/0}

.PHONY: help services run build test test-pgbouncer test-scale fuzz bench bench-scale soak lint fmt vet tools clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

services: ## make sure PostgreSQL and Redis answer locally (starts them, or installs them with apt-get)
	@bash .ci/services

run: services ## run the service on :8000 against the local PostgreSQL and Redis
	$(DEV_ENV) $(GO) run -ldflags "$(LDFLAGS)" ./cmd/accountd serve

build: ## build a static binary into bin/accountd
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/accountd

test: services ## run every test (unit and integration, with the race detector) against the local PostgreSQL and Redis
	$(GO) test -race -count=1 ./...

# The integration packages, once more with every database connection through a
# private PgBouncer in transaction mode (the tests of Redis deployments and
# the balancer, which start their own PgBouncer where they need one, are not
# repeated).
PGBOUNCER_PKGS ?= ./internal/postgres/... ./internal/http/... ./cmd/accountd/...
PGBOUNCER_SKIP ?= Sentinel|Cluster|HAProxy

test-pgbouncer: services ## run the PostgreSQL integration tests again through PgBouncer (transaction pooling)
	bash .ci/with-pgbouncer $(GO) test -race -count=1 -skip '$(PGBOUNCER_SKIP)' $(PGBOUNCER_PKGS)

# The failover tests of Redis Sentinel, Redis Cluster and three instances behind
# HAProxy: they run the real programs under load and judge windows of a few
# seconds, so they are kept out of make test (which must hold on a machine that
# other work loads) and run on their own.
SCALE_TESTS ?= TestSentinelFailover|TestClusterFailover|TestRollingRestartBehindHAProxy

test-scale: services ## run the failover tests on Redis Sentinel, Redis Cluster and HAProxy (build tag scale)
	$(GO) test -race -count=1 -tags scale -run '$(SCALE_TESTS)' ./cmd/accountd/

FUZZTIME ?= 30s
FUZZ_TARGETS := ./internal/account:FuzzValidAccountID ./internal/http:FuzzDecodeJSON \
                ./internal/http:FuzzDecodeForm ./internal/http:FuzzTokenPaths

fuzz: ## run each fuzz target for FUZZTIME (default 30s); `make test` already runs their seed corpora
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) "$${t%%:*}"; \
	done

BENCH_FLAGS ?=

bench: services ## build accountd with production flags and benchmark it against same-run baselines (under 5 min)
	@bash .ci/bench-tools
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/accountd
	$(GO) build -o bin/accountd-bench ./cmd/accountd-bench
	bin/accountd-bench -accountd $(BIN) $(BENCH_FLAGS)

BENCH_SCALE_FLAGS ?=

bench-scale: services ## seed 1M accounts, 5M sessions, 10M refresh tokens (COPY); hot paths, view rebuild, cleanup (not in make test)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/accountd
	$(GO) build -o bin/accountd-bench ./cmd/accountd-bench
	bin/accountd-bench -accountd $(BIN) -scale $(BENCH_SCALE_FLAGS)

SOAK_DURATION ?= 10m

soak: services ## run the soak for SOAK_DURATION (default 10m): mixed load; zero 5xx, flat goroutines, stable heap
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -race=false -tags soak -run TestSoak -timeout 30m -v ./cmd/accountd

vet: ## go vet
	$(GO) vet ./...

fmt: ## gofmt the tree
	gofmt -w .

tools: ## install golangci-lint
	@test -x "$(GOLANGCI)" || $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

lint: tools ## gofmt check, go vet and golangci-lint (staticcheck, errcheck, gosec, ...)
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GOLANGCI) run ./...

clean: ## remove build output
	rm -rf bin
