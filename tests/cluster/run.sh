#!/usr/bin/env bash
# The cluster stage of `make test` (`make cluster-test`): the SpinKube manifests' check, then the
# drills of tests/cluster/main.rs (Redis with AOF, three credit-host nodes, HAProxy), one at a
# time, each on loopback ports and in one temporary folder that is removed on any exit.
# Bounded: CLUSTER_TIMEOUT seconds in all (default 360). The drills' processes die with the
# test process (PR_SET_PDEATHSIG), so an interrupted run leaves none behind.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 tests/cluster/check_spinkube.py

for tool in redis-server redis-cli haproxy; do
  command -v "$tool" >/dev/null || { echo "cluster-test: $tool is missing: run make setup" >&2; exit 1; }
done

scratch=$(mktemp -d -t credit-cluster.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

# Built before the clock starts: the bound is on the drills, not on compiling them.
cargo test -q -p integration-tests --test cluster --no-run
TMPDIR="$scratch" timeout --kill-after=10 "${CLUSTER_TIMEOUT:-360}" \
  cargo test -q -p integration-tests --test cluster -- --test-threads=1 --nocapture "$@"
