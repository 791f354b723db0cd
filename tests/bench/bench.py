#!/usr/bin/env python3
"""`make bench`: the service's speed and memory targets, measured through the host.

Starts the release host on a scratch store, prepares reports through the API
as users do, drives load with wrk, and writes docs/benchmarks.md. Each figure
is printed with the command that produced it.

`--server spin` measures the same under `spin up` of the same spin.toml (the
Spin CLI from `--spin`, default ../shared/tools/spin) and writes
target/benchmarks-spin.md unless `--output` says where. Spin reports no
per-instance memory, so that row says so.
"""
import argparse
import json
import os
import re
import secrets
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
PORT = int(os.environ.get("BENCH_PORT", "3999"))
BASE = f"http://127.0.0.1:{PORT}"
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


def call(method, path, body=None, bearer=None, content_type="application/json"):
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["content-type"] = content_type
    if bearer:
        headers["authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
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


def wrk(script, path, connections, env=None, seconds=DURATION):
    cmd = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s",
           "--latency", "-s", os.path.join(LUA, script), BASE + path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)$", out, re.M):
        lat[pct] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"cmd": " ".join(cmd), "rps": rps, "lat": lat,
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def time_requests(method, path, n, bearer=None, body=None, content_type="application/json"):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        status, _ = call(method, path, body, bearer, content_type)
        samples.append((time.perf_counter() - start) * 1000)
        assert status < 300, f"{method} {path}: {status}"
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("host", "spin"), default="host",
                        help="serve through our host (default) or `spin up`")
    parser.add_argument("--spin", default=os.path.join(ROOT, "..", "shared", "tools", "spin"),
                        help="the Spin CLI, for --server spin")
    parser.add_argument("--output", help="the Markdown file to write (default: docs/benchmarks.md, "
                                         "or target/benchmarks-spin.md with --server spin)")
    args = parser.parse_args()
    output = args.output or os.path.join(
        ROOT, "docs/benchmarks.md" if args.server == "host" else "target/benchmarks-spin.md")
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: run `make setup`")
    # Development mode, set explicitly, with a key of this run: the bench signs its own tokens
    # (credit-dev inherits the key from this environment).
    os.environ["SPIN_VARIABLE_AUTH_MODE"] = "development"
    os.environ["SPIN_VARIABLE_DEVELOPMENT_SIGNING_KEY"] = secrets.token_hex(32)
    if args.server == "spin" and not os.path.exists(args.spin):
        sys.exit(f"no Spin CLI at {args.spin}: pass --spin (make bench BENCH_SERVER=spin SPIN=...)")
    state = tempfile.mkdtemp(prefix="credit-bench-")
    log_path = os.path.join(state, "server.log")
    seal = os.path.join(state, "seal")
    subprocess.run([DEV, "seal-ca", "--dir", seal], check=True, capture_output=True)
    read = lambda name: open(os.path.join(seal, name)).read()
    env = {**os.environ,
           "SPIN_VARIABLE_VERIFY_RATE_LIMIT_PER_MINUTE": "1000000000",
           "SPIN_VARIABLE_APPLY_LIMIT_PER_DAY": "1000000",
           "SPIN_VARIABLE_SEAL_PRIVATE_KEY_PEM": read("seal-key.pem"),
           "SPIN_VARIABLE_SEAL_CERTIFICATE_CHAIN_PEM": read("seal-chain.pem"),
           # Compiled components are reused across runs (the host's default is inside the state folder).
           "CREDIT_HOST_CACHE_DIR": os.path.join(ROOT, "target/credit-host-cache")}
    log = open(log_path, "w")
    server = subprocess.Popen(server_command(args.server, args.spin, state),
                              stdout=log, stderr=log, env=env)
    try:
        for _ in range(1200):
            try:
                if call("GET", "/api/v1/catalog")[0] == 200:
                    break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"the {args.server} server exited: see {log_path}")
                time.sleep(0.1)
        results = run(state, log_path)
    finally:
        server.terminate()
        server.wait()
    write_report(results, args.server, output)


def run(state, log_path):
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
                                  "cmd": f"{RENDER_SAMPLES} reports, first GET of each PDF (renders); then 40 GET of one (pinned bytes)"}
        if name == "short":
            genuine_pdf = pdf

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
    code_env = {"VERIFY_CODE": results["pdf short"]["code"]}
    results["verify-code 1 conn"] = wrk("verify_code.lua", "/api/v1/verify/code", 1, code_env)
    results["verify-code 8 conn"] = wrk("verify_code.lua", "/api/v1/verify/code", 8, code_env)

    # Verification by file: a 5 MiB upload (the genuine report padded to the limit).
    upload = os.path.join(state, "upload.pdf")
    with open(upload, "wb") as f:
        f.write(genuine_pdf)
        f.write(b"%" + b"x" * (5 * 1024 * 1024 - len(genuine_pdf) - 2) + b"\n")
    results["verify-file 5 MiB"] = wrk("verify_file.lua", "/api/v1/verify/file", 1, {"UPLOAD": upload})

    # Building a report reads only that entity's records: apply with 1k, then with BULK_RECORDS stored.
    results["apply, 1k records stored"] = apply_latency(records_entity)
    bulk_load(dept, BULK_RECORDS)
    results[f"apply, {BULK_RECORDS:,} records stored"] = apply_latency(records_entity)

    log = open(log_path).read()
    for component in ("generate", "verify-code", "verify-file", "request"):
        results.setdefault("memory", {})[component] = peak_memory_mib(log, component)
    return results


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


SERVER_NAMES = {"host": "the release `credit-host`", "spin": "`spin up` (the real Spin CLI)"}


def write_report(results, server, output):
    mem = results.pop("memory")
    short, long_ = results["pdf short"], results["pdf long"]
    code8, code1 = results["verify-code 8 conn"], results["verify-code 1 conn"]
    upload = results["verify-file 5 MiB"]
    small_store, big_store = [results[k] for k in results if k.startswith("apply, ")]
    rows = [
        ("verify-code, 8 connections", "≥ 5,000 req/s, p99 ≤ 5 ms",
         f"{code8['rps']:,.0f} req/s, p99 {code8['lat'].get('99', 0):.2f} ms, {code8['non2xx']} non-2xx", code8["cmd"]),
        ("verify-code, 1 connection", "—",
         f"{code1['rps']:,.0f} req/s, p99 {code1['lat'].get('99', 0):.2f} ms", code1["cmd"]),
        ("verify-file, 5 MiB upload", "≤ 40 ms median",
         f"{upload['lat'].get('50', 0):.1f} ms median, p99 {upload['lat'].get('99', 0):.1f} ms", upload["cmd"]),
        (f"report PDF generated, {short['pages']} pages ({short['bytes']:,} bytes)", "≤ 25 ms",
         f"{short['render_median']:.1f} ms median, max {short['render_max']:.1f} ms; pinned copy served in {short['median']:.1f} ms", short["cmd"]),
        (f"report PDF generated, {long_['pages']} pages ({long_['bytes']:,} bytes)", "≤ 100 ms",
         f"{long_['render_median']:.1f} ms median, max {long_['render_max']:.1f} ms; pinned copy served in {long_['median']:.1f} ms", long_["cmd"]),
        ("sealing a 4-page report (signature, placeholder, visible block)", "≤ 3 ms in wasm",
         f"native {results['seal']['sealed_ms'] - results['seal']['unsealed_ms']:.2f} ms "
         f"({results['seal']['unsealed_ms']:.2f} → {results['seal']['sealed_ms']:.2f} ms); "
         f"in wasm ≈ {results['seal']['wasm_estimate']:.1f} ms (component ≈ {results['seal']['wasm_per_native']:.1f}× native)",
         results["seal"]["cmd"]),
        ("peak linear memory per instance", "≤ 32 MB",
         ", ".join(f"{c} {m:.1f} MiB" for c, m in mem.items() if m is not None)
         or f"not reported by {SERVER_NAMES[server]}", "host log `peak_memory=`"),
        ("apply (36 months, all domains), few records stored", "flat",
         f"{small_store['median']:.1f} ms median", small_store["cmd"]),
        (f"apply, after {BULK_RECORDS:,} other records stored", "as fast as above",
         f"{big_store['median']:.1f} ms median", big_store["cmd"]),
    ]
    lines = ["# Benchmarks", "",
             f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M')} UTC: {SERVER_NAMES[server]} on this "
             "2-core machine, components built with the `component` profile, a fresh SQLite store, "
             "load from `wrk` on the same machine (it takes one of the two cores). "
             f"`BENCH_SECONDS={DURATION}`, `BENCH_BULK_RECORDS={BULK_RECORDS}`.", "",
             "| what | target | measured | how |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | `{d}` |" for a, b, c, d in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
