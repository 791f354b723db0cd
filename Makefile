# The two commands a newcomer needs: `make run` and `make test`.
# Everything the build needs is installed here, on a fresh Debian machine too.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PORT ?= 3000
STATE_DIR ?= .spin
WASM_TARGET := wasm32-wasip2
COMPONENTS := request generate verify-code verify-file records catalog disputes web
TEST_COMPONENTS := probe
APT_PACKAGES := poppler-utils qpdf redis-server wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST := target/release/credit-host
DEV := target/release/credit-dev

.PHONY: setup components host build run test token bench fuzz clean

## setup: the wasm target and the Debian packages the build and tests use
setup: target/.setup-done
target/.setup-done:
	rustup target add $(WASM_TARGET)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p target && touch $@

## components: every Spin component, as wasm32-wasip2 components
components: setup
	cargo build --target $(WASM_TARGET) --profile component $(addprefix -p ,$(COMPONENTS) $(TEST_COMPONENTS))

## host: the local Spin-compatible host and the developer tool
host: setup
	cargo build --release -p credit-host -p credit-dev

build: components host

## run: build, seed demo data once, serve on 127.0.0.1:$(PORT)
run: build
	@mkdir -p $(STATE_DIR)
	@$(HOST) --manifest spin.toml --listen 127.0.0.1:$(PORT) --state-dir $(STATE_DIR) & host=$$!; \
	trap 'kill -INT $$host 2>/dev/null; wait $$host' INT TERM; \
	$(DEV) seed --base-url http://127.0.0.1:$(PORT) --marker $(STATE_DIR)/demo-seeded || { kill $$host; exit 1; }; \
	wait $$host

## test: unit tests, then the integration tests against the real components
test: build
	cargo test -p credit-core
	cargo test -p integration-tests -- --test-threads=2

## token: a development token, e.g. make token ROLE=entity USCC=91350200776049653A
token:
	@cargo build -q --release -p credit-dev
	@$(DEV) token --role "$(ROLE)" $(if $(USCC),--uscc "$(USCC)") $(if $(UNIT),--unit "$(UNIT)")

clean:
	cargo clean
