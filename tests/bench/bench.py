#!/usr/bin/env python3
"""`make bench`: the service's speed and memory targets, measured through the host.

Starts the release host on a scratch store, prepares reports through the API
as users do, drives load with wrk, and writes docs/benchmarks.md. Each figure
is printed with the command that produced it.

When a Spin CLI is at `--spin` (default ../shared/tools/spin, as the Makefile's
SPIN), the same measurements run again under `spin up` of the same spin.toml,
and the table shows both columns (`--server host` or `--server spin` measures
one only). Spin reports no per-instance memory, and the bulk-load row is
measured on our host only (Spin's store takes minutes for it).

Besides the load: the time from a server's start to the first answer of each
component, with the host's compiled-component cache warm and cold, and the
first request after an idle period; and the native verify-code server
(tests/bench/native) over the same store, for the wasm/native ratio.
"""
import argparse
import json
import os
import re
import secrets
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = os.path.join(ROOT, "target/release/credit-host")
DEV = os.path.join(ROOT, "target/release/credit-dev")
NATIVE = os.path.join(ROOT, "target/release/credit-native-verify")
PORT = int(os.environ.get("BENCH_PORT", "3999"))
BASE = f"http://127.0.0.1:{PORT}"
# The native verify-code server listens beside the host, which idles while it is measured.
NATIVE_PORT = PORT + 1
# The hot-path figures (verify-code, the native build, verify-file) are each the median of this
# many rounds, taken in turn, so that a burst of load from the machine's neighbours moves one
# round, not the figure; every round's value is printed beside it.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_SECONDS", "10")
BULK_RECORDS = int(os.environ.get("BENCH_BULK_RECORDS", "1000000"))
LUA = os.path.join(ROOT, "tests/bench")

# A clean report over every domain is the short one; this many records make the long one ~30 pages.
LARGE_REPORT_RECORDS = 44
RENDER_SAMPLES = 15
ENTITY_CLEAN = "91350200776049653A"
ENTITY_RECORDS = "91440101MA5CJQ4N59"
DEPARTMENT_UNIT = "县税务局"


def token(*args):
    out = subprocess.run([DEV, "token", *args], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def call(method, path, body=None, bearer=None, content_type="application/json", base=None):
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["content-type"] = content_type
    if bearer:
        headers["authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request((base or BASE) + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def penalty(uscc, n, decided_on="2026-06-01"):
    return {
        "kind": "penalty", "domain": "tax", "document_no": f"永税罚〔2026〕{n}号",
        "entity_name": f"基准测试企业{uscc[-6:]}", "uscc": uscc,
        "entity_category": "法人及非法人组织", "legal_representative": "张三",
        "violation_type": "未按期申报", "facts": "未按照规定期限办理纳税申报和报送纳税资料。" * 3,
        "legal_basis": "《中华人民共和国税收征收管理法》第六十二条",
        "penalty_categories": ["罚款"], "penalty_content": "处以罚款",
        "fine_wan_yuan": "0.2", "decided_on": decided_on, "penalty_valid_until": "2027-06-01",
        "authority": "国家税务总局永昌县税务局", "authority_uscc": "11620321MB0123456L",
        "source_unit": "县税务局", "source_unit_uscc": "11620321MB0123456L",
        "procedure": "general", "severity": "general",
    }


def wrk(script, path, connections, env=None, seconds=DURATION, base=None):
    cmd = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s",
           "--latency", "-s", os.path.join(LUA, script), (base or BASE) + path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)$", out, re.M):
        lat[pct] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"cmd": " ".join(cmd), "rps": rps, "lat": lat,
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def time_requests(method, path, n, bearer=None, body=None, content_type="application/json", ok=True):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        status, _ = call(method, path, body, bearer, content_type)
        samples.append((time.perf_counter() - start) * 1000)
        assert status < 300 or not ok, f"{method} {path}: {status}"
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]


def peak_memory_mib(host_log, component):
    """Our host logs each request's peak linear memory; take the largest for a component."""
    pattern = rf"^\S+ \S+ {re.escape(component)} \d+ [\d.]+ms.*? peak_memory=(\d+)"
    peaks = [int(m) for m in re.findall(pattern, host_log, re.M)]
    return max(peaks) / (1024 * 1024) if peaks else None


def server_command(server, spin, state):
    """The command serving spin.toml on PORT with this state folder: our host, or `spin up`."""
    listen = f"127.0.0.1:{PORT}"
    manifest = os.path.join(ROOT, "spin.toml")
    if server == "spin":
        return [spin, "up", "--from", manifest, "--listen", listen, "--state-dir", state]
    return [HOST, "--manifest", manifest, "--listen", listen, "--state-dir", state]


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def load_average():
    return open("/proc/loadavg").read().split()[:3]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("both", "host", "spin"), default="both",
                        help="our host and, when its CLI is there, `spin up` (default); or one of them")
    parser.add_argument("--spin", default=os.path.join(ROOT, "..", "shared", "tools", "spin"),
                        help="the Spin CLI (default ../shared/tools/spin)")
    parser.add_argument("--output", help="the Markdown file to write (default: docs/benchmarks.md)")
    args = parser.parse_args()
    output = args.output or os.path.join(ROOT, "docs/benchmarks.md")
    for tool in ("wrk", "pdfinfo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: run `make setup`")
    # Development mode, set explicitly, with a token key of this run: the bench signs its own
    # tokens (credit-dev finds the key through this environment). No identity provider: the
    # required client secret is never sent anywhere.
    key_dir = tempfile.mkdtemp(prefix="credit-bench-token-key-")
    subprocess.run([DEV, "token-key", "--dir", key_dir], check=True, capture_output=True)
    os.environ["CREDIT_DEV_TOKEN_KEY_FILE"] = os.path.join(key_dir, "development-token-key.pem")
    with open(os.path.join(key_dir, "development-token-public-key.pem")) as f:
        os.environ["SPIN_VARIABLE_DEVELOPMENT_TOKEN_PUBLIC_KEY"] = f.read()
    os.environ["SPIN_VARIABLE_AUTH_MODE"] = "development"
    os.environ["SPIN_VARIABLE_OIDC_CLIENT_SECRET"] = secrets.token_hex(16)
    spin = os.path.abspath(args.spin) if os.path.exists(args.spin) else None
    if args.server == "spin" and not spin:
        sys.exit(f"no Spin CLI at {args.spin}: pass --spin (make bench SPIN=...)")
    servers = {"both": ["host", "spin"] if spin else ["host"], "host": ["host"], "spin": ["spin"]}[args.server]
    if args.server == "both" and not spin:
        print(f"no Spin CLI at {args.spin}: measuring our host only", file=sys.stderr)
    build = {"commit": git("describe", "--always", "--dirty", "--abbrev=12"),
             "load_before": load_average(),
             "spin": subprocess.run([spin, "--version"], capture_output=True, text=True).stdout.strip()
             if spin else None}
    seal_dir = tempfile.mkdtemp(prefix="credit-bench-seal-")
    subprocess.run([DEV, "seal-ca", "--dir", seal_dir], check=True, capture_output=True)
    read = lambda name: open(os.path.join(seal_dir, name)).read()
    env = {**os.environ,
           "SPIN_VARIABLE_VERIFY_RATE_LIMIT_PER_MINUTE": "1000000",
           "SPIN_VARIABLE_APPLY_LIMIT_PER_DAY": "10000",
           "SPIN_VARIABLE_SEAL_PRIVATE_KEY_PEM": read("seal-key.pem"),
           "SPIN_VARIABLE_SEAL_CERTIFICATE_CHAIN_PEM": read("seal-chain.pem"),
           # Compiled components are reused across runs (the host's default is inside the state folder).
           "CREDIT_HOST_CACHE_DIR": os.path.join(ROOT, "target/credit-host-cache")}
    results = {}
    for server in servers:
        results[server] = measure(server, spin, env)
    build["load_after"] = load_average()
    shutil.rmtree(seal_dir, ignore_errors=True)
    write_report(results, build, output)


class Server:
    """One server process on PORT over `state`, logging to state/server.log."""

    def __init__(self, kind, spin, state, env):
        self.log_path = os.path.join(state, "server.log")
        self.started = time.perf_counter()
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(server_command(kind, spin, state),
                                            stdout=log, stderr=log, env=env)
        self.kind = kind

    def first_answer(self, method="GET", path="/api/v1/catalog", body=None, content_type="application/json"):
        """Waits for the port, sends one request; the ms from start to its answer (any status)."""
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline:
            try:
                call(method, path, body, content_type=content_type)
                return (time.perf_counter() - self.started) * 1000
            except OSError:
                if self.process.poll() is not None:
                    sys.exit(f"the {self.kind} server exited: see {self.log_path}")
                time.sleep(0.002)
        sys.exit(f"the {self.kind} server did not answer within 300 s: see {self.log_path}")

    def all_loaded(self):
        """Our host listens before its components are loaded (docs/decisions.md): waits for its
        log to say they all are, so that the load measured is not a component's first load."""
        if self.kind != "host":
            return
        deadline = time.perf_counter() + 300
        while "components loaded" not in open(self.log_path).read():
            if time.perf_counter() > deadline or self.process.poll() is not None:
                sys.exit(f"the host did not load its components: see {self.log_path}")
            time.sleep(0.01)

    def stop(self):
        self.process.terminate()
        self.process.wait()


def measure(kind, spin, env):
    state = tempfile.mkdtemp(prefix=f"credit-bench-{kind}-")
    if kind == "spin":
        # Spin keeps the journal mode a file has; one it creates has a rollback journal synced on
        # every write (docs/operations.md): create the file in WAL mode, as our host does.
        import sqlite3
        sqlite3.connect(os.path.join(state, "sqlite_key_value.db")).execute("PRAGMA journal_mode=WAL").close()
    server = Server(kind, spin, state, env)
    try:
        server.first_answer()
        server.all_loaded()
        results = run(kind, state, server.log_path, env)
    finally:
        server.stop()
    results["startup"] = startup(kind, spin, env, results["pdf short"]["code"])
    shutil.rmtree(state, ignore_errors=True)
    return results


def native_verify_code(state, env, code):
    """The verify-code handler built natively (tests/bench/native) over the store file the host
    is serving (SQLite in WAL mode takes both), driven by the same wrk command at 8 connections
    while the host idles."""
    base = f"http://127.0.0.1:{NATIVE_PORT}"
    native = subprocess.Popen([NATIVE, "--listen", f"127.0.0.1:{NATIVE_PORT}",
                               "--db", os.path.join(state, "sqlite_key_value.db")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(3000):
            try:
                call("POST", "/api/v1/verify/code", {"code": code}, base=base)
                break
            except OSError:
                time.sleep(0.01)
        result = wrk("verify_code.lua", "/api/v1/verify/code", 8, {"VERIFY_CODE": code}, base=base)
    finally:
        native.terminate()
        native.wait()
    result["cmd"] = f"{os.path.relpath(NATIVE, ROOT)} over the store, then " + result["cmd"]
    return result


def median_round(rounds, key):
    """The round whose `key` is the median, with every round's value kept for the table."""
    chosen = dict(sorted(rounds, key=key)[len(rounds) // 2])
    chosen["rounds"] = [key(r) for r in rounds]
    return chosen


# One request each component answers (its own answer, whatever the status: 401 without a token).
FIRST_REQUESTS = [
    ("web", "GET", "/", None, None),
    ("catalog", "GET", "/api/v1/catalog", None, None),
    ("verify-code", "POST", "/api/v1/verify/code", {"code": "CODE"}, "application/json"),
    ("verify-file", "POST", "/api/v1/verify/file", b"%PDF-1.7\n%%EOF\n", "application/pdf"),
    ("request", "GET", "/api/v1/reports", None, None),
    ("generate", "GET", "/api/v1/reports/R/pdf", None, None),
    ("records", "GET", "/api/v1/records", None, None),
    ("disputes", "GET", "/api/v1/objections", None, None),
    ("auth", "GET", "/auth/login", None, None),
]
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "10"))
# Starts per component with a warm cache: one start alone can meet a neighbour's burst.
START_SAMPLES = int(os.environ.get("BENCH_START_SAMPLES", "3"))


def startup(kind, spin, env, code):
    """Scale to zero: a fresh server (empty store) per component, timed from its start to that
    component's first answer; for our host with the compiled-component cache warm, then cold
    (an empty cache folder: the component compiled by its first request, the others by the
    host's loader meanwhile). Then the first request after IDLE_SECONDS without any, against
    the median of the requests that follow it."""
    caches = {"warm": env["CREDIT_HOST_CACHE_DIR"]} if kind == "host" else {"as Spin starts": None}
    out = {}
    if kind == "host":
        caches["cold"] = None
    for label, cache in caches.items():
        # Cold, the first request compiles its component: one start, timed to verify-code.
        requests = [r for r in FIRST_REQUESTS if label != "cold" or r[0] == "verify-code"]
        samples = 1 if label == "cold" else START_SAMPLES
        times = {}
        # Round-robin over the components, so that a disturbed moment hits one start of several.
        for _ in range(samples):
            for component, method, path, body, content_type in requests:
                state = tempfile.mkdtemp(prefix="credit-bench-start-")
                run_env = dict(env)
                if kind == "host":
                    run_env["CREDIT_HOST_CACHE_DIR"] = cache or os.path.join(state, "empty-cache")
                if isinstance(body, dict):
                    body = {"code": code}
                server = Server(kind, spin, state, run_env)
                try:
                    times.setdefault(component, []).append(
                        server.first_answer(method, path, body, content_type or "application/json"))
                finally:
                    server.stop()
                    shutil.rmtree(state, ignore_errors=True)
        out[label] = times
    state = tempfile.mkdtemp(prefix="credit-bench-idle-")
    server = Server(kind, spin, state, env)
    try:
        server.first_answer()
        body = {"code": code}
        time_requests("POST", "/api/v1/verify/code", 20, body=body, ok=False)
        time.sleep(IDLE_SECONDS)
        start = time.perf_counter()
        call("POST", "/api/v1/verify/code", body)
        after_idle = (time.perf_counter() - start) * 1000
        median, _ = time_requests("POST", "/api/v1/verify/code", 50, body=body, ok=False)
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)
    out["idle"] = {"first": after_idle, "median": median}
    return out


def run(kind, state, log_path, env):
    dept = token("--role", "department", "--unit", DEPARTMENT_UNIT)
    clean_entity = token("--role", "entity", "--uscc", ENTITY_CLEAN)
    records_entity = token("--role", "entity", "--uscc", ENTITY_RECORDS)
    results = {}

    # Reports of the two sizes the targets name.
    status, _ = call("PUT", "/api/v1/records", [penalty(ENTITY_RECORDS, n) for n in range(1, LARGE_REPORT_RECORDS + 1)], dept)
    assert status == 200, status
    apply = {"months": 12, "domains": "all", "purpose": "listing"}
    for name, bearer in (("short", clean_entity), ("long", records_entity)):
        renders = []
        for _ in range(RENDER_SAMPLES):
            status, body = call("POST", "/api/v1/reports", apply, bearer)
            assert status == 201, body
            report = json.loads(body)
            path = f"/api/v1/reports/{report['report_no']}/pdf"
            start = time.perf_counter()
            status, pdf = call("GET", path, bearer=bearer)
            renders.append((time.perf_counter() - start) * 1000)
            assert status == 200, status
        renders.sort()
        pages = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True).stdout.decode()
        page_count = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
        median, p99 = time_requests("GET", path, 40, bearer=bearer)
        results[f"pdf {name}"] = {"pages": page_count, "bytes": len(pdf),
                                  "render_median": renders[len(renders) // 2], "render_max": renders[-1],
                                  "median": median, "p99": p99, "code": report["verification_code"],
                                  "report_no": report["report_no"],
                                  "cmd": f"{RENDER_SAMPLES} reports, first GET of each PDF (renders); then 40 GET of one (pinned bytes)"}
        if name == "short":
            genuine_pdf = pdf
        else:
            long_pdf = pdf

    # Sealing: its native cost (credit-dev times the sample report with and without the seal),
    # scaled to wasm by how much slower the component renders and seals than the native code.
    native = json.loads(subprocess.run([DEV, "seal-cost", "--runs", "100"], check=True,
                                       capture_output=True, text=True).stdout.splitlines()[-1])
    short = results["pdf short"]
    wasm_per_native = short["render_median"] / native["sealed_ms"]
    results["seal"] = {**native, "wasm_per_native": wasm_per_native,
                       "wasm_estimate": (native["sealed_ms"] - native["unsealed_ms"]) * wasm_per_native,
                       "cmd": "credit-dev seal-cost --runs 100; × (first GET median / native sealed median)"}

    # Verification by code: the tender-platform burst.
    code = results["pdf short"]["code"]
    code_env = {"VERIFY_CODE": code}
    results["verify-code 1 conn"] = wrk("verify_code.lua", "/api/v1/verify/code", 1, code_env)

    # Verification by file: a 5 MiB upload (the genuine report padded to the limit), and a
    # genuine report (the long one, ~100 KB), answered from its hash.
    upload = os.path.join(state, "upload.pdf")
    with open(upload, "wb") as f:
        f.write(genuine_pdf)
        f.write(b"%" + b"x" * (5 * 1024 * 1024 - len(genuine_pdf) - 2) + b"\n")
    genuine = os.path.join(state, "genuine.pdf")
    with open(genuine, "wb") as f:
        f.write(long_pdf)

    # The hot path in rounds; on our host each round also measures the native build right after
    # the component, and the ratio is taken per round.
    rounds = []
    for _ in range(ROUNDS):
        measured = {"verify-code 8 conn": wrk("verify_code.lua", "/api/v1/verify/code", 8, code_env)}
        if kind == "host":
            measured["native"] = native_verify_code(state, env, code)
        measured["verify-file 5 MiB"] = wrk("verify_file.lua", "/api/v1/verify/file", 1, {"UPLOAD": upload})
        measured["verify-file genuine"] = wrk("verify_file.lua", "/api/v1/verify/file", 8, {"UPLOAD": genuine})
        rounds.append(measured)
    rps = lambda r: r["rps"]
    median_latency = lambda r: r["lat"].get("50", 0)
    results["verify-code 8 conn"] = median_round([r["verify-code 8 conn"] for r in rounds], rps)
    results["verify-file 5 MiB"] = median_round([r["verify-file 5 MiB"] for r in rounds], median_latency)
    results["verify-file genuine"] = median_round([r["verify-file genuine"] for r in rounds], median_latency)
    results["verify-file genuine"]["bytes"] = len(long_pdf)
    if kind == "host":
        results["native"] = median_round([r["native"] for r in rounds], rps)
        ratios = sorted(r["verify-code 8 conn"]["rps"] / r["native"]["rps"] for r in rounds)
        results["native"]["ratio"] = ratios[len(ratios) // 2]
        results["native"]["ratios"] = ratios

    # Building a report reads only that entity's records: apply with 1k, then with BULK_RECORDS stored.
    results["apply, 1k records stored"] = apply_latency(records_entity)
    if kind == "host":
        bulk_load(dept, BULK_RECORDS)
        results["apply, bulk records stored"] = apply_latency(records_entity)

    # A read of each listing and document the pages use, for the store-operation count.
    for path, bearer in (("/api/v1/catalog", None), ("/api/v1/seal/certificates", None),
                         ("/api/v1/reports", records_entity), (f"/api/v1/records?uscc={ENTITY_RECORDS}", dept),
                         (f"/api/v1/reports/{results['pdf long']['report_no']}", records_entity),
                         ("/api/v1/objections", records_entity), ("/api/v1/repairs", records_entity)):
        call("GET", path, bearer=bearer)
    call("POST", "/api/v1/verify/batch", {"codes": [results["pdf short"]["code"], "AAAAAAAAAAAAAAAA"]})

    log = open(log_path).read()
    for component in ("generate", "verify-code", "verify-file", "request"):
        results.setdefault("memory", {})[component] = peak_memory_mib(log, component)
    if kind == "host":
        results["store ops"] = store_operations(log)
    return results


def store_operations(log):
    """Store operations per request (the host log's `store_ops=`), by method, route, component
    and status: the identifiers in a path become `{…}`."""
    seen = {}
    for line in log.splitlines():
        m = re.match(r"^(\S+) (\S+) (\S+) (\d+) [\d.]+ms.*? store_ops=(\d+)", line)
        if not m:
            continue
        method, path, component, status, ops = m.groups()
        path = path.split("?")[0]
        route = "/".join("{…}" if re.search(r"\d", seg) and len(seg) >= 6 else seg for seg in path.split("/"))
        seen.setdefault((method, route, component, status), []).append(int(ops))
    return {key: (statistics.median(ops), max(ops), len(ops)) for key, ops in sorted(seen.items())}


def apply_latency(bearer):
    median, p99 = time_requests("POST", "/api/v1/reports",
                                30, bearer=bearer, body={"months": 36, "domains": "all", "purpose": "bidding"})
    return {"median": median, "p99": p99, "cmd": "30 sequential POST /api/v1/reports"}


def bulk_load(dept, total):
    """Other entities' records, through the API in batches of 1000, with 4 writers."""
    import concurrent.futures
    from itertools import count
    batch_size = 1000
    serial = count(1)

    def batch(b):
        items = []
        for i in range(batch_size):
            n = next(serial)
            # A different valid credit code per 50 records: many entities, as in production.
            items.append(penalty(bulk_uscc(n // 50), 100000 + n))
        status, _ = call("PUT", "/api/v1/records", items, dept)
        assert status == 200, status

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(total // batch_size)))


ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def bulk_uscc(n):
    body = "91620321" + "".join(ALPHABET[(n // 31 ** i) % 31] for i in range(9))
    check = (31 - sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS)) % 31) % 31
    return body + ALPHABET[check]


def cells(r, kind):
    """Each row's measured text for one server's results `r` (None: not measured there)."""
    mem = r.get("memory", {})
    short, long_ = r["pdf short"], r["pdf long"]
    code8, code1 = r["verify-code 8 conn"], r["verify-code 1 conn"]
    upload, genuine = r["verify-file 5 MiB"], r["verify-file genuine"]
    seal = r["seal"]
    startup = r["startup"]
    native = r.get("native")
    def first(times):
        medians = ", ".join(f"{c} {sorted(ms)[len(ms) // 2]:.0f}" for c, ms in times.items()) + " ms"
        starts = max(len(ms) for ms in times.values())
        if starts == 1:
            return medians
        slowest = max(times, key=lambda c: max(times[c]))
        return (f"{medians} (median of {starts} starts each; the slowest single start: "
                f"{slowest} {max(times[slowest]):.0f} ms)")
    of_rounds = lambda r, fmt: (f"; median of {len(r['rounds'])} rounds: "
                                + ", ".join(fmt.format(v) for v in r["rounds"]))
    warm = startup.get("warm") or startup.get("as Spin starts")
    return {
        "verify-code 8": f"{code8['rps']:,.0f} req/s, p50 {code8['lat'].get('50', 0):.2f} ms, "
                         f"p99 {code8['lat'].get('99', 0):.2f} ms, {code8['non2xx']} non-2xx"
                         + of_rounds(code8, "{:,.0f}"),
        "verify-code native": (f"native {native['rps']:,.0f} req/s, p99 {native['lat'].get('99', 0):.2f} ms: "
                               f"ratio {native['ratio']:.2f}× (median of the rounds' ratios: "
                               + ", ".join(f"{x:.2f}" for x in native["ratios"]) + ")") if native else None,
        "verify-code 1": f"{code1['rps']:,.0f} req/s, p99 {code1['lat'].get('99', 0):.2f} ms",
        "verify-file genuine": f"{genuine['lat'].get('50', 0):.2f} ms median, p99 {genuine['lat'].get('99', 0):.1f} ms, "
                               f"{genuine['rps']:,.0f} req/s, {genuine['non2xx']} non-2xx"
                               + of_rounds(genuine, "{:.2f} ms"),
        "verify-file 5 MiB": f"{upload['lat'].get('50', 0):.1f} ms median, p99 {upload['lat'].get('99', 0):.1f} ms"
                             + of_rounds(upload, "{:.1f} ms"),
        "pdf short": f"{short['render_median']:.1f} ms median, max {short['render_max']:.1f} ms; "
                     f"pinned copy served in {short['median']:.1f} ms",
        "pdf long": f"{long_['render_median']:.1f} ms median, max {long_['render_max']:.1f} ms; "
                    f"pinned copy served in {long_['median']:.1f} ms",
        "seal": f"native +{seal['sealed_ms'] - seal['unsealed_ms']:.2f} ms "
                f"({seal['unsealed_ms']:.2f} → {seal['sealed_ms']:.2f} ms); in wasm ≈ +{seal['wasm_estimate']:.1f} ms "
                f"(component ≈ {seal['wasm_per_native']:.1f}× native)",
        "memory": ", ".join(f"{c} {m:.1f} MiB" for c, m in mem.items() if m is not None) or None,
        "start warm": first(warm),
        "start cold": first(startup["cold"]) if "cold" in startup else None,
        "idle": f"{startup['idle']['first']:.1f} ms after {IDLE_SECONDS:.0f} s idle "
                f"(then {startup['idle']['median']:.1f} ms median)",
        "apply small": f"{r['apply, 1k records stored']['median']:.1f} ms median",
        "apply bulk": f"{r['apply, bulk records stored']['median']:.1f} ms median"
                      if "apply, bulk records stored" in r else None,
    }


def write_report(results, build, output):
    host = results.get("host") or results["spin"]
    rows = [  # key, what, target, how
        ("verify-code 8", "verify-code, 8 connections", "≥ 5,000 req/s, p99 ≤ 5 ms", host["verify-code 8 conn"]["cmd"]),
        ("verify-code native", "verify-code, 8 connections, native build of the handler (ratio host ÷ native)",
         "≥ 0.6×", host["native"]["cmd"] if host.get("native") else "—"),
        ("verify-code 1", "verify-code, 1 connection", "—", host["verify-code 1 conn"]["cmd"]),
        ("verify-file genuine", f"verify-file, a genuine report ({host['verify-file genuine']['bytes']:,} bytes), 8 connections",
         "≤ 5 ms median", host["verify-file genuine"]["cmd"]),
        ("verify-file 5 MiB", "verify-file, 5 MiB upload that is not genuine", "≤ 25 ms median", host["verify-file 5 MiB"]["cmd"]),
        ("pdf short", f"report PDF generated and sealed, {host['pdf short']['pages']} pages ({host['pdf short']['bytes']:,} bytes)",
         "≤ 25 ms", host["pdf short"]["cmd"]),
        ("pdf long", f"report PDF generated and sealed, {host['pdf long']['pages']} pages ({host['pdf long']['bytes']:,} bytes)",
         "≤ 100 ms", host["pdf long"]["cmd"]),
        ("seal", "sealing a 4-page report (signature, placeholder, visible block)", "≤ 3 ms in wasm", host["seal"]["cmd"]),
        ("memory", "peak linear memory per instance", "≤ 32 MB", "the peak_memory= field of the host log"),
        ("start warm", "start → first answer of each component, compiled-component cache warm",
         "≤ 50 ms", f"a fresh server (empty store) per start, its port polled every 2 ms; "
                    f"BENCH_START_SAMPLES={START_SAMPLES} starts of each component, taken in turn"),
        ("start cold", "start → first answer of verify-code, cache cold (it is compiled by that request)",
         "—", "CREDIT_HOST_CACHE_DIR an empty folder"),
        ("idle", "first verify-code after an idle period", "as fast as the next ones",
         f"BENCH_IDLE_SECONDS={IDLE_SECONDS:g}; then 50 sequential requests"),
        ("apply small", "apply (36 months, all domains), few records stored", "flat", "30 sequential POST /api/v1/reports"),
        ("apply bulk", f"apply, after {BULK_RECORDS:,} other records stored", "as fast as above",
         "30 sequential POST /api/v1/reports"),
    ]
    columns = [k for k in ("host", "spin") if k in results]
    measured = {k: cells(results[k], k) for k in columns}
    names = {"host": "our host (`credit-host`)", "spin": "`spin up`"}
    lines = ["# Benchmarks", "",
             f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on this 2-core "
             "machine, shared with other builds: load average "
             f"{' '.join(build['load_before'])} at the start, {' '.join(build['load_after'])} at the end "
             "(the integrator reruns it on a quiet machine).", "",
             f"- Build measured: commit `{build['commit']}`; components with the `component` profile; the release "
             "`credit-host` with its default hardening (request deadline, body, connection and instance caps); every "
             "report PDF sealed (PAdES B-B, ECDSA P-256, a development seal made for the run).",
             f"- Servers: {', '.join(names[c] for c in columns)}"
             + (f" ({build['spin']})" if build.get("spin") and "spin" in columns else "")
             + "; each on a fresh SQLite store; load from `wrk` on the same machine (it takes one of the two cores).",
             f"- `BENCH_SECONDS={DURATION}`, `BENCH_BULK_RECORDS={BULK_RECORDS}`, `BENCH_IDLE_SECONDS={IDLE_SECONDS:g}`, "
             f"`BENCH_START_SAMPLES={START_SAMPLES}`, `BENCH_ROUNDS={ROUNDS}` (verify-code, the native build and verify-file: the median round, every round's figure beside it); "
             "command: `make bench` (`python3 tests/bench/bench.py`).", "",
             "| what | target | " + " | ".join(names[c] for c in columns) + " | how |",
             "|---|---|" + "---|" * len(columns) + "---|"]
    for key, what, target, how in rows:
        values = [measured[c][key] or "not measured" for c in columns]
        if all(v == "not measured" for v in values):
            continue
        lines.append(f"| {what} | {target} | " + " | ".join(values) + f" | `{how}` |")
    text = "\n".join(lines) + "\n"
    print(text)
    # The table replaces the generated part of the file; the analysis below it stays.
    marker = "<!-- end of make bench's table -->"
    rest = ""
    if os.path.exists(output):
        old = open(output).read()
        if marker in old:
            rest = old[old.index(marker) + len(marker):]
    ops = host.get("store ops")
    if ops:
        rest = replace_section(rest, "## Store operations per request", store_operations_section(ops))
    with open(output, "w") as f:
        f.write(text + "\n" + marker + rest)


def store_operations_section(ops):
    lines = ["## Store operations per request", "",
             "Counted by our host for every request (`store_ops=` in its log: each key-value call is one "
             "round trip to the store) over the whole `make bench` run on our host, which also reads each "
             "listing and document the pages use once. On Spin, Fermyon Cloud or Redis each operation is "
             "a round trip, so this is the cost that travels to every platform. Target: at most 3 on "
             "verify-code and on a genuine file.", "",
             "| request | component | status | store operations (median, max) | requests |",
             "|---|---|---|---|---|"]
    for (method, route, component, status), (median, most, n) in ops.items():
        lines.append(f"| `{method} {route}` | {component} | {status} | {median:g}, {most} | {n:,} |")
    return "\n".join(lines) + "\n"


def replace_section(text, heading, section):
    """`text` with the section under `heading` (to the next `## `) replaced, or appended."""
    if heading not in text:
        return text.rstrip("\n") + "\n\n" + section
    before, _, after = text.partition(heading)
    following = re.search(r"\n## ", after)
    return before + section + (after[following.start():] if following else "")


if __name__ == "__main__":
    main()
