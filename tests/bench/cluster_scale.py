#!/usr/bin/env python3
"""`make bench-cluster`: the scale drill on Redis (issue 15, item 6).

Starts two stacks, each a Redis (AOF) with a release `credit-host` on it, and loads 1,000
records and 100 reports into both through the API; then one of them grows to SCALE_RECORDS
records (default 1,000,000) and SCALE_REPORTS reports (default 100,000). Report application
and code verification are then measured in alternation on the two and on a third node
started on the full Redis after the load (telling the store's size from the state the
loading left in its node), so that the ratios do not depend on when each was measured; also
each node's resident memory and Redis's memory.
With SCALE_MEASURE_WHEN=FILE the measurements wait until FILE exists (load while the machine
is busy, measure once it is quiet). Writes its section of docs/benchmarks.md
("Scale on Redis"), leaving the rest of the file as it is.

Redis runs with `appendfsync everysec` here, not the production `always`: the question is
whether the store's size slows a request, and an fsync per write costs the same at any size
(on this shared machine its time varies far more than the requests' own). SCALE_RECORDS and
SCALE_REPORTS choose a smaller store for a quicker run; the section says which was measured.
"""
import concurrent.futures
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = os.path.join(ROOT, "target/release/credit-host")
DEV = os.path.join(ROOT, "target/release/credit-dev")
RECORDS = int(os.environ.get("SCALE_RECORDS", "1000000"))
REPORTS = int(os.environ.get("SCALE_REPORTS", "100000"))
BASELINE_RECORDS = 1000
BASELINE_REPORTS = 100
SAMPLES = 200
# Alternating measurements of the stacks; each reports the median of its rounds' medians.
ROUNDS = 3
# Measure only once this file exists: load on a busy machine, measure once it is quiet.
MEASURE_WHEN = os.environ.get("SCALE_MEASURE_WHEN")
WRITERS = 4
RECORDS_PER_ENTITY = 50
DEPARTMENT_UNIT = "县税务局"
SECTION = "## Scale on Redis (make bench-cluster)"

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def with_check_character(body):
    check = (31 - sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS)) % 31) % 31
    return body + ALPHABET[check]


def uscc(n):
    return with_check_character("91620321" + "".join(ALPHABET[(n // 31 ** i) % 31] for i in range(9)))


AUTHORITY_USCC = with_check_character("11620321MB0123456")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(*args):
    out = subprocess.run([DEV, "token", *args], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, bearer=None, headers=None):
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=300) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def penalty(entity, n):
    return {
        "kind": "penalty", "domain": "tax", "document_no": f"规模税罚〔2026〕{n}号",
        "entity_name": f"规模测试企业{entity[-6:]}", "uscc": entity,
        "authority": "国家税务总局永昌县税务局", "authority_uscc": AUTHORITY_USCC,
        "source_unit": DEPARTMENT_UNIT, "source_unit_uscc": AUTHORITY_USCC,
        "entity_category": "法人及非法人组织", "legal_representative": "张三",
        "violation_type": "未按期申报", "facts": "未按照规定期限办理纳税申报和报送纳税资料。",
        "legal_basis": "《中华人民共和国税收征收管理法》第六十二条", "penalty_categories": ["罚款"],
        "penalty_content": "罚款0.2万元", "fine_wan_yuan": "0.2", "decided_on": "2026-06-01",
        "penalty_valid_until": "2099-12-31", "procedure": "general", "not_penalized": False,
        "severity": "general",
    }


def load_records(api, dept, first, last):
    """Records first..last (numbered), 1,000 per batch, WRITERS at once."""
    def batch(start):
        items = [penalty(uscc(n // RECORDS_PER_ENTITY), n) for n in range(start, min(start + 1000, last))]
        # Sending a batch again is harmless (records are upserted by their identity): a batch
        # that timed out on a busy machine is sent once more.
        for attempt in range(3):
            try:
                status, body = api.call("PUT", "/api/v1/records", items, dept)
                break
            except TimeoutError:
                if attempt == 2:
                    raise
        assert status == 200, (status, body[:300])
    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(batch, range(first, last, 1000)))


def issue_reports(api, first, last, purpose):
    """Reports first..last, one entity per 10,000 (the daily limit is raised for the bench)."""
    tokens = {}

    def apply(n):
        entity = uscc(n // 10000)
        bearer = tokens.get(entity) or tokens.setdefault(entity, token("--role", "entity", "--uscc", entity))
        status, body = api.call("POST", "/api/v1/reports", {"months": 12, "domains": "all", "purpose": purpose}, bearer)
        assert status == 201, (status, body[:300])
        return json.loads(body)["verification_code"]
    for n in range(first, last, 10000):  # tokens minted once, outside the pool
        entity = uscc(n // 10000)
        tokens[entity] = token("--role", "entity", "--uscc", entity)
    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        return list(pool.map(apply, range(first, last)))


def median_ms(api, samples, request):
    times = []
    for i in range(samples):
        started = time.perf_counter()
        status = request(i)
        times.append((time.perf_counter() - started) * 1000)
        assert status in (200, 201), status
    return statistics.median(times)


def measure(api, codes, purpose):
    # The baseline's last entity: RECORDS_PER_ENTITY records in both stacks, and none of the
    # bulk reports (issued for the first entities), so its daily applications are its own.
    entity = uscc(BASELINE_RECORDS // RECORDS_PER_ENTITY - 1)
    bearer = token("--role", "entity", "--uscc", entity)
    apply = median_ms(api, 30, lambda i: api.call(
        "POST", "/api/v1/reports", {"months": 12, "domains": "all", "purpose": purpose}, bearer)[0])
    verify = median_ms(api, SAMPLES, lambda i: api.call(
        "POST", "/api/v1/verify/code", {"code": codes[i * 7919 % len(codes)]},
        headers={"x-forwarded-for": f"10.77.{i // 250}.{i % 250 + 1}"})[0])
    return apply, verify


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def redis_memory_mib(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "memory"], capture_output=True, text=True).stdout
    return int(re.search(r"used_memory:(\d+)", out).group(1)) / 1024 / 1024


class Stack:
    """A Redis (AOF) and a release `credit-host` on it, in a folder of `scratch`; or, given
    `on`, another node on that stack's Redis."""

    def __init__(self, scratch, name, env, on=None):
        self.dir = os.path.join(scratch, name)
        os.makedirs(self.dir)
        host_port = free_port()
        if on:
            self.redis_port, self.redis = on.redis_port, None
        else:
            self.redis_port = free_port()
            self.redis = subprocess.Popen(
                ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", self.dir,
                 "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
                stdout=subprocess.DEVNULL)
        config = os.path.join(self.dir, "runtime-config.toml")
        with open(os.path.join(ROOT, "deploy/runtime-config-redis.toml")) as f:
            text = f.read().replace("redis://127.0.0.1:6379", f"redis://127.0.0.1:{self.redis_port}")
        with open(config, "w") as f:
            f.write(text)
        log = open(os.path.join(self.dir, "host.log"), "w")
        self.host = subprocess.Popen(
            [HOST, "--manifest", os.path.join(ROOT, "spin.toml"), "--listen", f"127.0.0.1:{host_port}",
             "--state-dir", os.path.join(self.dir, "state"), "--runtime-config-file", config],
            env=env, stdout=log, stderr=log)
        self.api = Api(f"http://127.0.0.1:{host_port}")
        for _ in range(1200):
            try:
                if self.api.call("GET", "/api/v1/catalog")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        self.codes = []

    def memory(self):
        return rss_mib(self.host.pid), redis_memory_mib(self.redis_port)

    def stop(self):
        for p in (self.host, self.redis):
            if p is None:
                continue
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    scratch = tempfile.mkdtemp(prefix="credit-scale.")
    stacks = []
    try:
        # A token key of this run (credit-dev finds it through this environment); no identity
        # provider, so the required client secret is never sent anywhere.
        subprocess.run([DEV, "token-key", "--dir", scratch], check=True, capture_output=True)
        os.environ["CREDIT_DEV_TOKEN_KEY_FILE"] = os.path.join(scratch, "development-token-key.pem")
        with open(os.path.join(scratch, "development-token-public-key.pem")) as f:
            os.environ["SPIN_VARIABLE_DEVELOPMENT_TOKEN_PUBLIC_KEY"] = f.read()
        os.environ["SPIN_VARIABLE_OIDC_CLIENT_SECRET"] = secrets.token_hex(16)
        env = dict(os.environ, SPIN_VARIABLE_AUTH_MODE="development",
                   SPIN_VARIABLE_APPLY_LIMIT_PER_DAY="10000", SPIN_VARIABLE_TRUSTED_PROXIES="127.0.0.1/32",
                   CREDIT_HOST_CACHE_DIR=os.path.join(ROOT, "target/credit-host-cache"),
                   # A batch of 1,000 records may take longer than the default 10 s on a busy
                   # machine; the measured requests take milliseconds either way.
                   CREDIT_HOST_DEADLINE_MS="120000")
        subprocess.run([DEV, "seal-ca", "--dir", scratch], check=True, capture_output=True)
        for name, file in (("SEAL_PRIVATE_KEY_PEM", "seal-key.pem"), ("SEAL_CERTIFICATE_CHAIN_PEM", "seal-chain.pem")):
            with open(os.path.join(scratch, file)) as f:
                env[f"SPIN_VARIABLE_{name}"] = f.read()
        # Two stacks, the same up to the baseline; then one grows to the full size. They are
        # measured in alternation, so a change in the machine's load falls on both alike.
        small, large = Stack(scratch, "small", env), Stack(scratch, "large", env)
        stacks += [small, large]
        purpose = json.loads(small.api.call("GET", "/api/v1/catalog")[1])["purposes"][0]["code"]
        dept = token("--role", "department", "--unit", DEPARTMENT_UNIT)
        for stack in stacks:
            load_records(stack.api, dept, 0, BASELINE_RECORDS)
            stack.codes = issue_reports(stack.api, 0, BASELINE_REPORTS, purpose)

        started = time.time()
        load_records(large.api, dept, BASELINE_RECORDS, RECORDS)
        loaded_records = time.time() - started
        started = time.time()
        large.codes += issue_reports(large.api, BASELINE_REPORTS, REPORTS, purpose)
        loaded_reports = time.time() - started
        print(f"loaded {RECORDS} records in {loaded_records:.0f} s, {REPORTS} reports in {loaded_reports:.0f} s", flush=True)
        if MEASURE_WHEN:
            print(f"waiting for {MEASURE_WHEN} to exist before measuring", flush=True)
            while not os.path.exists(MEASURE_WHEN):
                time.sleep(5)

        # A node started now on the full Redis: tells the store's size from the loading node's state.
        fresh = Stack(scratch, "fresh", env, on=large)
        fresh.codes = large.codes
        measured = [small, large, fresh]
        stacks.insert(0, fresh)  # stopped before the Redis it uses
        for stack in measured:
            measure(stack.api, stack.codes, purpose)  # warm-up: compiled components, connections
        rounds = {id(stack): [] for stack in measured}
        for _ in range(ROUNDS):
            for stack in measured:
                rounds[id(stack)].append(measure(stack.api, stack.codes, purpose))
        results = []
        for stack in measured:
            apply = statistics.median(a for a, _ in rounds[id(stack)])
            verify = statistics.median(v for _, v in rounds[id(stack)])
            results.append((apply, verify) + stack.memory())
        print(f"small: {results[0]}\nlarge: {results[1]}\nfresh node on large: {results[2]}")
        write_section(*results, loaded_records, loaded_reports)
    finally:
        for stack in stacks:
            stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def write_section(small, large, fresh, loaded_records, loaded_reports):
    ratio = lambda row, i: row[i] / small[i]
    section = f"""{SECTION}

Written by `make bench-cluster` (tests/bench/cluster_scale.py) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: two stacks, each a release `credit-host` on its own Redis 7 with AOF (`appendfsync everysec`: an fsync per write costs the same at any store size), one with the baseline and one with the full store, and after the load a third node started on the full store's Redis, the three measured in {ROUNDS} alternating rounds on this 2-core machine (load average {os.getloadavg()[0]:.1f} when written). Apply: median of 30 sequential `POST /api/v1/reports` (12 months, all domains, an entity with {RECORDS_PER_ENTITY} records); verify: median of {SAMPLES} sequential `POST /api/v1/verify/code` of issued codes; each figure is the median of the rounds' medians. Node memory: the host's resident set (VmRSS).

| stored | apply | verify-code | node memory | Redis memory |
|---|---|---|---|---|
| {BASELINE_RECORDS:,} records, {BASELINE_REPORTS:,} reports | {small[0]:.1f} ms | {small[1]:.2f} ms | {small[2]:.0f} MiB | {small[3]:.0f} MiB |
| {RECORDS:,} records, {REPORTS:,} reports: the node that loaded them | {large[0]:.1f} ms ({ratio(large, 0):.2f}×) | {large[1]:.2f} ms ({ratio(large, 1):.2f}×) | {large[2]:.0f} MiB | {large[3]:.0f} MiB |
| the same store: a node started after the load | {fresh[0]:.1f} ms ({ratio(fresh, 0):.2f}×) | {fresh[1]:.2f} ms ({ratio(fresh, 1):.2f}×) | {fresh[2]:.0f} MiB | (the same Redis) |

Target: ≤ 1.2× with the larger store, node memory flat. Loading took {loaded_records:.0f} s for the records ({(RECORDS - BASELINE_RECORDS) / max(loaded_records, 1e-9):.0f} records/s, batches of 1,000, {WRITERS} writers) and {loaded_reports:.0f} s for the reports ({(REPORTS - BASELINE_REPORTS) / max(loaded_reports, 1e-9):.0f}/s).
"""
    path = os.path.join(ROOT, "docs/benchmarks.md")
    with open(path) as f:
        text = f.read()
    if SECTION in text:
        before, _, after = text.partition(SECTION)
        rest = re.search(r"\n## ", after)
        text = before + section + (after[rest.start():] if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {SECTION!r} in docs/benchmarks.md")


if __name__ == "__main__":
    main()
