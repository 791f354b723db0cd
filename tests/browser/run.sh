#!/usr/bin/env bash
# The browser test against a host of its own: starts the host from the built components on a free
# port with an empty state folder, in development mode (explicitly, with a fresh key) and with the
# test identity provider (tests/oidc) on another free port, mints the development tokens, runs the
# CSV unit tests, the browser scenario and the provider sign-in, and stops the host and the
# provider whatever happens. Exits non-zero when any check fails.
#
#   TARGET_DIR      where the host, credit-dev and the wasm components were built (default: target)
#   SCREENSHOT_DIR  default $TARGET_DIR/browser-screenshots
#   BROWSER_ENTITY_USCC, BROWSER_DEPARTMENT_UNIT  the applicant (no records) and the department
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=$(cd "${TARGET_DIR:-$root/target}" && pwd)
host_bin="$target/release/credit-host"
dev_bin="$target/release/credit-dev"
wasm_dir="$target/wasm32-wasip2/component"
entity_uscc=${BROWSER_ENTITY_USCC:-91620321MA72BR0W1E}
department_unit=${BROWSER_DEPARTMENT_UNIT:-县税务局}
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$target/browser-screenshots}

for needed in "$host_bin" "$dev_bin" "$wasm_dir/web.wasm" /usr/bin/chromium "$root/tests/browser/node_modules/playwright-core" "$root/tests/oidc/node_modules/oidc-provider"; do
  [ -e "$needed" ] || { echo "browser test: $needed is missing (run make build, make setup and npm ci in tests/browser)" >&2; exit 2; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "browser test: playwright-core needs Node.js 20 or later, found $(node --version)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/credit-browser.XXXXXX")
host_pid=
step_pid=
provider_pid=
cleanup() {
  local status=$?
  if [ -n "$provider_pid" ]; then
    kill -TERM "$provider_pid" 2>/dev/null || true
    wait "$provider_pid" 2>/dev/null || true
  fi
  if [ -n "$step_pid" ]; then
    kill -TERM "$step_pid" 2>/dev/null || true
    wait "$step_pid" 2>/dev/null || true
  fi
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
    kill -INT "$host_pid" 2>/dev/null || true
    # A host that ignores the interrupt for 10 s is killed.
    for _ in $(seq 50); do kill -0 "$host_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$host_pid" 2>/dev/null || true
    wait "$host_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$work/host.log" ]; then
    mkdir -p "$SCREENSHOT_DIR" && cp "$work/host.log" "$SCREENSHOT_DIR/host.log"
    echo "--- last lines of the host log (all of it in $SCREENSHOT_DIR/host.log) ---" >&2
    tail -n 40 "$work/host.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The manifest names its components by path under target/: point them at this build.
sed -E "s#^source = \"target/wasm32-wasip2/component/#source = \"$wasm_dir/#" "$root/spin.toml" >"$work/spin.toml"

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Development mode, said so explicitly, with a token key of this run only: the host checks
# tokens with its public half, credit-dev signs them with the other.
"$dev_bin" token-key --dir "$work/token-key" >/dev/null
SPIN_VARIABLE_DEVELOPMENT_TOKEN_PUBLIC_KEY=$(cat "$work/token-key/development-token-public-key.pem")
export CREDIT_DEV_TOKEN_KEY_FILE="$work/token-key/development-token-key.pem"
export SPIN_VARIABLE_AUTH_MODE=development SPIN_VARIABLE_DEVELOPMENT_TOKEN_PUBLIC_KEY
provider_port=$(free_port)
provider_url="http://127.0.0.1:$provider_port"
export SPIN_VARIABLE_OIDC_ISSUER=$provider_url SPIN_VARIABLE_OIDC_ISSUER_HOST=$provider_url \
  SPIN_VARIABLE_OIDC_CLIENT_ID=credit-report SPIN_VARIABLE_OIDC_CLIENT_SECRET=credit-report-secret \
  SPIN_VARIABLE_OIDC_AUDIENCE=urn:credit-report

# Up to 3 ports, since one may be taken between the probe and the host's bind; the first start
# compiles every component, so readiness may take a while on a cold cache.
for attempt in 1 2 3; do
  port=$(free_port)
  base_url="http://127.0.0.1:$port"
  mkdir -p "$work/state"
  "$dev_bin" seal-ca --dir "$work/seal" >/dev/null
  SPIN_VARIABLE_VERIFY_RATE_LIMIT_PER_MINUTE=100000 SPIN_VARIABLE_PUBLIC_BASE_URL="$base_url" \
    SPIN_VARIABLE_SEAL_PRIVATE_KEY_PEM="$(cat "$work/seal/seal-key.pem")" \
    SPIN_VARIABLE_SEAL_CERTIFICATE_CHAIN_PEM="$(cat "$work/seal/seal-chain.pem")" \
    CREDIT_HOST_CACHE_DIR="$target/credit-host-cache" \
    "$host_bin" --manifest "$work/spin.toml" --listen "127.0.0.1:$port" --state-dir "$work/state" >"$work/host.log" 2>&1 &
  host_pid=$!
  ready=
  for _ in $(seq 600); do
    kill -0 "$host_pid" 2>/dev/null || break
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$base_url/api/v1/catalog"; then
      ready=1
      break
    fi
    sleep 0.2
  done
  [ -n "$ready" ] && break
  if kill -0 "$host_pid" 2>/dev/null; then
    echo "browser test: the host did not answer on $base_url within 2 minutes" >&2
    exit 1
  fi
  wait "$host_pid" 2>/dev/null || true
  host_pid=
  echo "browser test: the host exited on start (attempt $attempt)" >&2
done
[ -n "$ready" ] || exit 1
echo "browser test: host at $base_url"

(cd "$root/tests/oidc" && exec node provider.mjs --port "$provider_port" --service-url "$base_url") >"$work/provider.log" 2>&1 &
provider_pid=$!
for _ in $(seq 150); do
  grep -q "listening on" "$work/provider.log" && break
  kill -0 "$provider_pid" 2>/dev/null || { cat "$work/provider.log" >&2; echo "browser test: the identity provider did not start" >&2; exit 1; }
  sleep 0.2
done
grep -q "listening on" "$work/provider.log" || { echo "browser test: the identity provider did not listen within 30 s" >&2; exit 1; }
echo "browser test: identity provider at $provider_url"

ENTITY_TOKEN=$("$dev_bin" token --role entity --uscc "$entity_uscc" --name 浏览器申请测试有限公司 | tail -n1)
DEPARTMENT_TOKEN=$("$dev_bin" token --role department --unit "$department_unit" | tail -n1)
# The entity the CSV batch writes a record for, to object to it.
CSV_USCC=91620321MA72BR0W2H
CSV_ENTITY_TOKEN=$("$dev_bin" token --role entity --uscc "$CSV_USCC" --name 浏览器测试有限公司 | tail -n1)
ADMIN_TOKEN=$("$dev_bin" token --role admin | tail -n1)
export ENTITY_TOKEN DEPARTMENT_TOKEN CSV_USCC CSV_ENTITY_TOKEN ADMIN_TOKEN BASE_URL=$base_url

# Each step in the background with a time limit: bash runs the INT/TERM traps only between
# commands, and `wait` is one it can be interrupted in.
bounded() {
  local seconds=$1
  shift
  timeout --kill-after=10 "$seconds" "$@" &
  step_pid=$!
  wait "$step_pid"
  step_pid=
}

cd "$root/tests/browser"
bounded 60 node --test csv.test.mjs
# Each browser step waits 15 s at most, the whole scenario 5 minutes.
bounded 300 node e2e.mjs
BASE_URL=$base_url PROVIDER_URL=$provider_url bounded 120 node signin.mjs
# The embeddable element from a page of another origin (a tender platform's, on its own port).
bounded 120 node embed.mjs
