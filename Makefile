# The two commands a newcomer needs: `make run` and `make test`.
# Everything the build needs is installed here, on a fresh Debian machine too.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PORT ?= 3000
STATE_DIR ?= .spin
WASM_TARGET := wasm32-wasip2
COMPONENTS := request generate verify-code verify-file records catalog disputes subscriptions web auth
TEST_COMPONENTS := probe
APT_PACKAGES := poppler-utils qpdf redis-server wrk chromium python3-venv haproxy python3-yaml
# A CJK font, so that Chromium draws the pages' Chinese in the browser test's screenshots rather
# than boxes (fonts-wqy-microhei: 1.6 MB; fonts-noto-cjk would be 56 MB).
APT_PACKAGES += fonts-wqy-microhei
# pyHanko, the independent PAdES validator of tests/seal.rs, in a virtualenv of its own
# (Debian's Python refuses system-wide pip installs, PEP 668).
PYHANKO_VENV := target/pyhanko
PYHANKO_INSTALLED := $(PYHANKO_VENV)/.installed-pyhanko-0.38.0-cli-0.6.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST := target/release/credit-host
DEV := target/release/credit-dev
# The real Spin CLI for the compatibility pass: shared/ beside the repository (beside the main
# checkout for a git worktree), or SPIN=/path/to/spin.
SPIN ?= $(firstword $(wildcard $(abspath ../shared/tools/spin) \
	$(abspath $(shell git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/tools/spin)))

PROVIDER_PORT ?= 3001
# make run's development token key pair, made once per state folder by credit-dev token-key
# (never a fixed, public one): the host gets the public half, credit-dev signs with the other.
TOKEN_KEY_FILE := $(STATE_DIR)/development-token-key.pem
TOKEN_PUBLIC_KEY_FILE := $(STATE_DIR)/development-token-public-key.pem

.PHONY: setup components host build run test spin-test cluster-test token bench bench-cluster fuzz clean browser-test

## setup: the wasm target and the Debian packages the build and tests use
setup: target/.setup-done
# Re-run when this file changes, so a package added to APT_PACKAGES reaches existing checkouts.
target/.setup-done: Makefile
	rustup target add $(WASM_TARGET)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Node.js (20 or later, for playwright-core) may come from elsewhere than Debian: only when absent.
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }
	@mkdir -p target && touch $@

# The stamp names the versions: changing them reinstalls.
$(PYHANKO_INSTALLED): | setup
	rm -rf $(PYHANKO_VENV)
	python3 -m venv $(PYHANKO_VENV)
	$(PYHANKO_VENV)/bin/pip install -q --disable-pip-version-check pyhanko==0.38.0 pyhanko-cli==0.6.0
	@touch $@

## components: every Spin component, as wasm32-wasip2 components
components: setup
	cargo build --target $(WASM_TARGET) --profile component $(addprefix -p ,$(COMPONENTS) $(TEST_COMPONENTS))

## host: the local Spin-compatible host and the developer tool
host: setup
	cargo build --release -p credit-host -p credit-dev

build: components host

## run: build, seed demo data once, serve on 127.0.0.1:$(PORT) in DEVELOPMENT MODE, with a
## development identity provider (tests/oidc) on 127.0.0.1:$(PROVIDER_PORT) to sign in through
## and a development seal made once in $(STATE_DIR) (docs/operations.md)
run: build tests/oidc/node_modules/.package-lock.json
	@mkdir -p $(STATE_DIR)
	@$(DEV) seal-ca --dir $(STATE_DIR)
	@$(DEV) token-key --dir $(STATE_DIR)
	@echo "make run: DEVELOPMENT MODE (auth_mode=development): development tokens are accepted, signed with"
	@echo "  the key in $(TOKEN_KEY_FILE); sign in with 登录 through the development identity provider at"
	@echo "  http://127.0.0.1:$(PROVIDER_PORT) as entity-1, officer-1, staff-1 or admin-1 (any password)."
	@echo "  Reports are sealed with a development seal made once in $(STATE_DIR) (trust root $(STATE_DIR)/seal-ca.pem)."
	@base_url=$${SPIN_VARIABLE_PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}; \
	cd tests/oidc && node provider.mjs --port $(PROVIDER_PORT) --service-url $$base_url & provider=$$!; \
	SPIN_VARIABLE_PUBLIC_BASE_URL=$$base_url SPIN_VARIABLE_AUTH_MODE=development \
	SPIN_VARIABLE_DEVELOPMENT_TOKEN_PUBLIC_KEY="$$(cat $(TOKEN_PUBLIC_KEY_FILE))" \
	SPIN_VARIABLE_OIDC_ISSUER=http://127.0.0.1:$(PROVIDER_PORT) SPIN_VARIABLE_OIDC_ISSUER_HOST=http://127.0.0.1:$(PROVIDER_PORT) \
	SPIN_VARIABLE_OIDC_CLIENT_ID=credit-report SPIN_VARIABLE_OIDC_CLIENT_SECRET=credit-report-secret \
	SPIN_VARIABLE_OIDC_AUDIENCE=urn:credit-report \
	SPIN_VARIABLE_SEAL_PRIVATE_KEY_PEM="$$(cat $(STATE_DIR)/seal-key.pem)" \
	SPIN_VARIABLE_SEAL_CERTIFICATE_CHAIN_PEM="$$(cat $(STATE_DIR)/seal-chain.pem)" \
	  $(HOST) --manifest spin.toml --listen 127.0.0.1:$(PORT) --state-dir $(STATE_DIR) & host=$$!; \
	trap 'kill -INT $$host $$provider 2>/dev/null; wait $$host' INT TERM; \
	$(DEV) seed --base-url http://127.0.0.1:$(PORT) --marker $(STATE_DIR)/demo-seeded --key-file $(TOKEN_KEY_FILE) \
	  || { kill $$host $$provider; exit 1; }; \
	wait $$host; kill $$provider 2>/dev/null

## test: unit tests, the integration tests against the real components, the pages in
## headless Chromium against a host of their own (tests/browser/run.sh starts and stops it),
## the cluster drills (cluster-test), then the compatibility pass under real Spin (spin-test)
test: build tests/browser/node_modules/.package-lock.json tests/oidc/node_modules/.package-lock.json $(PYHANKO_INSTALLED)
	cargo test -p credit-core -p web
	cargo test --release -p credit-host
	PYHANKO="$(CURDIR)/$(PYHANKO_VENV)/bin/pyhanko" cargo test -p integration-tests -- --test-threads=2
	TARGET_DIR="$${CARGO_TARGET_DIR:-$(CURDIR)/target}" tests/browser/run.sh
	@$(MAKE) --no-print-directory cluster-test
	@$(MAKE) --no-print-directory spin-test

## cluster-test: the SpinKube manifests' check, then three nodes on one Redis (AOF, fsync
## always) behind HAProxy, and the drills: load, a node killed, Redis restarted, SQLite killed
## mid-batch, backup and restore (tests/cluster/; CLUSTER_LOAD_SECONDS, default 30; at most
## CLUSTER_TIMEOUT seconds, default 360)
cluster-test: build
	tests/cluster/run.sh

## spin-test: the API and verification tests again under `spin up` of the same spin.toml, and
## our host and Spin side by side (tests/spin_compat.rs); skipped, saying why, without a Spin CLI
SPIN_TESTS := openapi records_apply record_kinds pdf_report verify disputes stats integrations spin_compat
SPIN_LEDGER := $(CURDIR)/target/spin-test-ledger.txt
spin-test: build
	@if [ -z "$(SPIN)" ]; then \
	  echo "Spin compatibility pass skipped: no Spin CLI at ../shared/tools/spin (set SPIN=/path/to/spin)"; \
	  exit 0; \
	fi; \
	echo "Spin compatibility pass with $(SPIN): $$($(SPIN) --version)"; \
	rm -f $(SPIN_LEDGER); \
	CREDIT_TEST_SERVER=spin CREDIT_SPIN_BIN="$(SPIN)" CREDIT_TEST_LEDGER=$(SPIN_LEDGER) \
	  cargo test -p integration-tests $(addprefix --test ,$(SPIN_TESTS)) -- --test-threads=2 || exit 1; \
	ran=$$(grep -c '^ran ' <(sort -u $(SPIN_LEDGER))); \
	skipped=$$(grep '^skipped ' $(SPIN_LEDGER) | sort -u); \
	echo "Spin compatibility pass: $$ran tests ran under Spin, $$(grep -c . <<<"$$skipped") skipped (host-only):"; \
	sed 's/^skipped /  /' <<<"$$skipped"

## token: a development token for make run's host, e.g. make token ROLE=entity USCC=91350200776049653A
token:
	@cargo build -q --release -p credit-dev
	@$(DEV) token-key --dir $(STATE_DIR) >/dev/null
	@$(DEV) token --key-file $(TOKEN_KEY_FILE) --role "$(ROLE)" $(if $(USCC),--uscc "$(USCC)") $(if $(UNIT),--unit "$(UNIT)")

## browser-test: the pages in Debian's headless Chromium against a host already running at BASE_URL
## (start it with `make run` in another shell). Screenshots go to target/browser-screenshots/.
BASE_URL ?= http://127.0.0.1:$(PORT)
# Entities without demo records, so the applicant's report is clean and the CSV row is new.
BROWSER_ENTITY_USCC ?= 91620321MA72BR0W1E
BROWSER_DEPARTMENT_UNIT ?= 县税务局
browser-test: setup tests/browser/node_modules/.package-lock.json
	cd tests/browser && node --test csv.test.mjs
	@[ -n "$$ENTITY_TOKEN" ] && [ -n "$$DEPARTMENT_TOKEN" ] || cargo build -q --release -p credit-dev
	export CREDIT_DEV_TOKEN_KEY_FILE=$(TOKEN_KEY_FILE); \
	ENTITY_TOKEN="$${ENTITY_TOKEN:-$$($(DEV) token --role entity --uscc $(BROWSER_ENTITY_USCC) | tail -n1)}" \
	DEPARTMENT_TOKEN="$${DEPARTMENT_TOKEN:-$$($(DEV) token --role department --unit $(BROWSER_DEPARTMENT_UNIT) | tail -n1)}" \
	BASE_URL=$(BASE_URL) SCREENSHOT_DIR=$(CURDIR)/target/browser-screenshots node tests/browser/e2e.mjs

# The development and test identity provider (oidc-provider): tests/signin.rs, the browser test, make run.
tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund

# playwright-core only: it drives /usr/bin/chromium and never downloads a browser.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

## fuzz: mutate real report PDFs through file verification for FUZZ_SECONDS (default 60);
## fails on a panic, a hang or a forged file verifying as authentic (docs/fuzzing.md)
FUZZ_SECONDS ?= 60
fuzz:
	cargo build --release -p credit-fuzz
	$${CARGO_TARGET_DIR:-target}/release/fuzz-verify-file $(FUZZ_SECONDS) $(FUZZ_SEED)

## bench: the speed and memory targets (verify-code, verify-file, PDF generation and sealing,
## start to first answer, report building with many records stored) through our host and, when
## a Spin CLI is there (SPIN), under `spin up` too; writes docs/benchmarks.md.
## BENCH_SERVER=host or spin measures one only.
BENCH_SERVER ?= both
bench: build
	cargo build --release -p credit-native-bench
	python3 tests/bench/bench.py --server $(BENCH_SERVER) $(if $(SPIN),--spin "$(SPIN)")

## bench-cluster: the scale drill: 1,000,000 records and 100,000 reports in one Redis, report
## application and code verification against 1,000, memory per node (tests/bench/cluster_scale.py)
bench-cluster: build
	python3 tests/bench/cluster_scale.py

clean:
	cargo clean
