# ticketflow: `make` lists the targets. The local services (PostgreSQL, Redis Cluster, Temporal)
# are started by internal/devstack/stack.sh; nothing here needs Docker.

SHELL := bash
# Each recipe is one bash script that stops at the first failing command.
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

STACK := internal/devstack/stack.sh
DEV_DATA := .data/dev
# staticcheck 2026.2.2. The proxy does not serve staticcheck's year-style tags (…@2025.1.1 is
# refused), only the semver ones; v0.8.2 is the newest and is built for Go 1.26.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# workflowcheck finds non-deterministic calls (time.Now, goroutines, map ranges…) in workflow code.
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
# Extra flags for go test, e.g. make test GOTESTFLAGS='-run TestCreate -v'.
GOTESTFLAGS ?=

.PHONY: help docs-assets build static compose run stop clean test test-faults bench fuzz lint migrate

# How long `make fuzz` runs each fuzz target; the corpus is committed under testdata/fuzz.
FUZZTIME ?= 15s
FUZZ_TARGETS := ./internal/ticket:FuzzLifecycle ./internal/ticket:FuzzNewTicket ./internal/httpapi:FuzzDecode

# Stamped into the binaries by `make static` and by the Dockerfile's build arguments.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

help: ## list the targets
	@echo "usage: make <target>"
	grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-12s %s\n", $$1, $$2 }'

docs-assets: ## fetch the pinned Swagger UI and ReDoc files that the API embeds (npm, once)
	@internal/httpapi/docs/fetch.sh

build: docs-assets ## build bin/worker and bin/apiserver
	@go build -o bin/ ./worker ./apiserver

static: docs-assets ## build bin/ as the Dockerfile's build stage does: static, stripped, stamped
	@CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/ticketflow/ticketflow/internal/buildinfo.Version=$(VERSION) -X github.com/ticketflow/ticketflow/internal/buildinfo.Commit=$(COMMIT)" \
		-o bin/ ./worker ./apiserver
	bin/apiserver --version
	bin/worker --version

compose: ## validate docker-compose.yml and the Dockerfile's build stage (no Docker engine needed)
	@$(STACK) deps
	docker-compose -f docker-compose.yml config -q
	go test -count=1 -run 'TestCompose|TestDockerfileBuild' ./internal/app/ ./internal/buildinfo/

# stop_apps is a bash function shared by `run` (its Ctrl-C trap) and `stop` (another terminal):
# it stops the API first (no new requests), then the worker, by their pid files.
define STOP_APPS
stop_apps() {
	local name pid state
	for name in apiserver worker; do
		pid=$$(cat $(DEV_DATA)/$$name.pid 2>/dev/null) || continue
		# Only if the pid is still ours: a stale pid file may name a reused pid.
		if [[ $$(ps -o args= -p "$$pid" 2>/dev/null) == *bin/$$name* ]]; then
			echo "stopping $$name ($$pid)"
			kill -TERM "$$pid" 2>/dev/null || true
			for _ in {1..250}; do
				# Gone, or a zombie that the shell of `make run` has not reaped yet.
				state=$$(ps -o stat= -p "$$pid" 2>/dev/null) || break
				[[ $$state == Z* ]] && break
				sleep 0.1
			done
			kill -KILL "$$pid" 2>/dev/null || true
		fi
		rm -f $(DEV_DATA)/$$name.pid
	done
}
endef

run: ## start the dev stack, the worker and the API; Ctrl-C stops everything (data is kept)
	@$(STACK) deps
	$(STACK) up dev
	$(MAKE) build
	eval "$$($(STACK) env dev)"
	# The API and the worker's metrics listen on the loopback interface (the defaults), unless
	# HTTP_ADDR or WORKER_METRICS_ADDR say otherwise.
	export LOG_FORMAT=text
	# The receivers one tries webhooks with locally listen on this machine.
	export WEBHOOK_ALLOW_PRIVATE=$${WEBHOOK_ALLOW_PRIVATE:-true}
	bin/apiserver migrate
	# An agent key for trying the API: made on the first run, made anew if it was revoked. The
	# key file is readable by its owner only; one that an older run left readable is made so.
	key_file=$(DEV_DATA)/agent.key
	key_name=$$(cat $$key_file.name 2>/dev/null || true)
	if [[ -f $$key_file ]]; then chmod 600 $$key_file; fi
	if [[ ! -s $$key_file ]] || ! bin/apiserver keys list | awk -v n="$$key_name" '$$2 == n && $$6 == "-" { ok = 1 } END { exit !ok }'; then
		key_name=make-run-$$(date +%Y%m%d-%H%M%S)
		bin/apiserver keys create --name $$key_name --role agent --out $$key_file
		echo $$key_name >$$key_file.name
	fi
	$(STOP_APPS)
	shutdown() {
		trap - INT TERM
		echo
		stop_apps
		$(STACK) down dev
	}
	trap 'shutdown; exit 130' INT
	trap 'shutdown; exit 143' TERM
	bin/worker & echo $$! >$(DEV_DATA)/worker.pid
	bin/apiserver & echo $$! >$(DEV_DATA)/apiserver.pid
	echo
	echo "ticketflow is running (dev):"
	echo "  API          http://localhost:8000"
	echo "  API key      $$(cat $$key_file)  (role agent, named $$key_name)"
	echo "               curl -H 'Authorization: Bearer $$(cat $$key_file)' http://localhost:8000/api/v1/tickets"
	echo "  API docs     http://localhost:8000/api/openapi and http://localhost:8000/api/redoc"
	echo "  Temporal UI  http://localhost:8233"
	echo "  logs         here; the services' logs are in $(DEV_DATA)/"
	echo "  stop         Ctrl-C here, or 'make stop' from another terminal"
	echo
	# If either process ends (a crash, or `make stop`), take everything down.
	rc=0
	wait -n || rc=$$?
	echo "a process ended (exit status $$rc); stopping the rest"
	shutdown
	exit $$rc

stop: ## stop the worker, the API and the dev stack started by `make run`
	@$(STOP_APPS)
	stop_apps
	$(STACK) down dev

clean: stop ## stop everything, delete the dev and test data and bin/
	@$(STACK) clean dev
	$(STACK) clean test
	$(STACK) clean faults
	$(STACK) clean bench
	rm -rf bin/

test: ## go vet and go test -race against the test stack (started and stopped here)
	@$(STACK) deps
	$(MAKE) docs-assets
	# Always take the test stack down, on failure and Ctrl-C too, keeping the exit status.
	trap 'rc=$$?; $(STACK) down test || true; exit $$rc' EXIT
	$(STACK) up test
	eval "$$($(STACK) env test)"
	go vet ./...
	go test -race -count=1 -timeout 20m $(GOTESTFLAGS) ./...

test-faults: ## the fault suite: five failures injected under load on a stack of its own (~5 min)
	@$(STACK) deps
	$(MAKE) docs-assets
	# The suite starts, restarts and stops its stack (profile faults) itself; FAULTS_SEED=<n>
	# repeats an earlier run's random choices.
	go test -tags faults -count=1 -timeout 30m -v -run TestFaults $(GOTESTFLAGS) ./internal/faults/

bench: ## measure ticketflow beside raw Temporal and Redis (table; JSON to BENCH_OUT)
	@$(STACK) deps
	$(MAKE) docs-assets
	# A stack of its own (profile bench), unless DATABASE_DSN, REDIS_ADDRS and TEMPORAL_ADDRESS
	# name one. BENCH_* variables are documented on bench.Settings (internal/bench/bench.go).
	if [[ -z $${TEMPORAL_ADDRESS:-} ]]; then
		trap 'rc=$$?; $(STACK) down bench || true; exit $$rc' EXIT
		$(STACK) up bench
		eval "$$($(STACK) env bench)"
		export BENCH_TEMPORAL_METRICS=$${BENCH_TEMPORAL_METRICS:-http://127.0.0.1:7544/metrics}
	fi
	go run ./internal/bench/cmd/bench

fuzz: ## run each fuzz target for FUZZTIME (15s) on top of its committed corpus
	@for target in $(FUZZ_TARGETS); do
		pkg=$${target%%:*} name=$${target##*:}
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"
		go test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$pkg"
	done

lint: ## gofmt, go vet, staticcheck and workflowcheck
	@unformatted=$$(gofmt -l .)
	if [[ -n $$unformatted ]]; then
		echo "gofmt -l: these files are not formatted (run gofmt -w):"
		echo "$$unformatted"
		exit 1
	fi
	go vet ./...
	go vet -tags faults ./internal/faults/
	go run $(STATICCHECK) ./...
	go run $(STATICCHECK) -tags faults ./internal/faults/
	go run $(WORKFLOWCHECK) ./workflows/...

migrate: build ## apply the database migrations to the dev database
	@eval "$$($(STACK) env dev)"
	bin/apiserver migrate
