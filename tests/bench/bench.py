"""`make bench`: rudder-sentry against baselines run in the same invocation (docs/performance.md).

Measures the tool a user installs: `make bench` puts `pip install .` in .venv-bench and names
it in BENCH_PYTHON (the build that runs is printed with the figures); without it, the checkout's
own `python -m cli`. Generates (once, cached in tests/bench/out/) a dump of 1,000,000 events
over 50,000 visitors, the same number in the breadcrumb-heavy "browser" mix (60 % tracks, 20 %
pages, 15 % identifies, 5 % errors, the v3 SDK's whole context on every event;
tests/bench/generate.py) and one of 1,000,000 visitors, then measures, each figure the median of
RUNS runs:
  (a) a bare loop reading the dump and parsing each line with orjson: the ceiling;
  (b) `rudder-sentry replay --dry-run`, single process and with --jobs = cores: records/s
      and the ratio to (a), run in the same rounds, on both mixes;
  (c) peak RSS for the whole dump and for its first quarter (same visitors), and for the
      1,000,000-visitor dump;
  (d) sending to a loopback sink (its own process): events/s and delivered/sent for the tool,
      for a bare pycurl-multi loop posting pre-built gzip envelopes with as many requests in
      flight (the transport ceiling), for a loop of 4 threads posting with urllib3 (for
      reference), and for a straightforward script using sentry-sdk's stock client;
  (e) sending to a sink that answers each request after 100 ms (a realistic round trip to
      Sentry), with the default --workers and with 256: events/s against in-flight / 0.1 s.
  (a', b') inflating the gzip dump (isal, and the standard library for reference), and the
      dry-run on the gzip dump against (b).
  (b'') `diff OLD NEW` on the browser mix against the two dry-runs it replaces.
  (i) only when asked (BENCH_PARTS=i; it needs valgrind): instructions per record counted by
      callgrind, which do not drift with the machine as rates do: the bare loop, the dry-run
      and one shard of two, on records 30,001 to 60,000 of a 2,000-visitor dump (the count
      for 60,000 records less that for 30,000: start-up cancels out, visitors are warm).
Prints a table and writes tests/bench/out/results.json. BENCH_PARTS (a comma list of a, g, b,
d, e, i; default all but i) runs only some of them, for quick checks.
"""

import gzip
import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import urllib3

from tests.bench.generate import generate

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
VISITORS = 50_000
SEND_EVENTS = int(os.environ.get("BENCH_SEND_EVENTS", "20000"))
KEY = "0123456789abcdef0123456789abcdef"
PARTS = set(os.environ.get("BENCH_PARTS", "a,g,b,d,e").split(","))
LOOPBACK_WORKERS = 32  # the tool's default --workers, and the bare poster's requests in flight
DEFAULT_WORKERS = 32
CORES = os.cpu_count() or 1
ROUND_TRIP = 0.1  # seconds: a sink this far away answers like Sentry across a continent
BENCH_PYTHON = os.environ.get("BENCH_PYTHON")  # the interpreter of an installed build
# The tool under test: the installed console script, run outside the checkout so that nothing
# of it is imported; else the checkout's own.
TOOL = (
    [str(Path(BENCH_PYTHON).parent / "rudder-sentry")]
    if BENCH_PYTHON
    else [sys.executable, "-m", "cli"]
)
TOOL_CWD = OUT if BENCH_PYTHON else ROOT


def dump(
    name: str, events: int, visitors: int, *, sequential: bool = False, mix: str = "zipf"
) -> Path:
    path = OUT / f"{name}-{events}-{visitors}.ndjson"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        generate(path, events, visitors, sequential=sequential, mix=mix)
    return path


def tool_version() -> str:
    """What `--version` of the tool under test says (the build that runs)."""
    found = subprocess.run(
        [*TOOL, "--version"], cwd=TOOL_CWD, capture_output=True, text=True, check=True
    )
    where = "pip install . in .venv-bench" if BENCH_PYTHON else "the checkout"
    return f"{found.stdout.strip()}, {where}"


def head(source: Path, lines: int, name: str) -> Path:
    path = OUT / name
    if not path.exists():
        with source.open("rb") as src, path.open("wb") as dst:
            for index, line in enumerate(src):
                if index >= lines:
                    break
                dst.write(line)
    return path


def bare_parse(path: Path) -> float:
    """(a): lines per second of `for line in file: orjson.loads(line)`."""
    started = time.perf_counter()
    count = 0
    loads = orjson.loads
    with path.open("rb") as stream:
        for line in stream:
            loads(line)
            count += 1
    return count / (time.perf_counter() - started)


def gzipped(path: Path) -> Path:
    """The dump gzipped (level 6, as RudderStack's uploads), made once."""
    packed = path.with_suffix(".ndjson.gz")
    if not packed.exists():
        print(f"gzipping {path.name} ...", flush=True)
        with path.open("rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    return packed


def inflate_rate(path: Path, tool: bool) -> float:
    """(a'): MiB/s of decompressed bytes from the gzip dump, through the tool's reader (isal)
    or, for reference, the standard library's."""
    from core.input.dump import open_dump

    started = time.perf_counter()
    size = 0
    with path.open("rb") as raw:
        stream = open_dump(raw) if tool else gzip.GzipFile(fileobj=raw, mode="rb")
        while chunk := stream.read1(1 << 20):
            size += len(chunk)
    return size / (time.perf_counter() - started) / 2**20


def run_tool(
    args: list[str], env: dict[str, str] | None = None
) -> tuple[float, int, dict[str, Any]]:
    """Wall seconds, the child's own peak RSS (KiB) and the JSON report of one replay run."""
    command = [*TOOL, "replay", *args, "--no-progress", "--report", "json"]
    report_path = OUT / "report.json"
    with report_path.open("wb") as out, (OUT / "stderr.log").open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=TOOL_CWD, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        _, status, rusage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    if code not in (0, 3):
        raise RuntimeError(f"replay failed ({code}): {(OUT / 'stderr.log').read_text()[-2000:]}")
    return wall, rusage.ru_maxrss, json.loads(report_path.read_bytes())


class Sink:
    """The loopback sink process, answering each request after `delay` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def __enter__(self) -> "Sink":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.sink", str(self.delay)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.dsn = f"http://{KEY}@127.0.0.1:{self.port}/1"
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def _call(self, method: str, path: str) -> dict[str, int]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    def reset(self) -> None:
        self._call("POST", "/__reset")

    def stats(self) -> dict[str, int]:
        return self._call("GET", "/__stats")


def prebuilt_bodies(events: list[bytes]) -> list[bytes]:
    """The gzip envelopes the tool would post for these events."""
    from datetime import UTC, datetime

    from core.delivery.envelope import build_envelope

    now = datetime.now(UTC)
    return [
        gzip.compress(build_envelope(json.loads(e)["event_id"], e, now), compresslevel=1, mtime=0)
        for e in events
    ]


AUTH = f"Sentry sentry_key={KEY}, sentry_version=7"


def four_threads(bodies: list[bytes], post: Callable[[Any, bytes], None], open_: Any) -> float:
    """Events/s of 4 threads, each with a connection of its own, posting every body once."""
    work: queue.Queue[bytes | None] = queue.Queue()
    for body in bodies:
        work.put(body)
    for _ in range(4):
        work.put(None)

    errors: list[BaseException] = []

    def run() -> None:
        try:
            connection = open_()
            while (body := work.get()) is not None:
                post(connection, body)
        except BaseException as exc:  # the figure would be meaningless: fail the bench
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"a posting thread failed: {errors[0]!r}")
    return len(bodies) / elapsed


def bare_post(sink: Sink, bodies: list[bytes], in_flight: int) -> tuple[float, int]:
    """(d) the transport ceiling: one pycurl multi loop keeping `in_flight` requests of
    pre-built gzip envelopes going, nothing else per event."""
    import pycurl

    headers = [
        "Content-Type: application/x-sentry-envelope",
        "Content-Encoding: gzip",
        f"X-Sentry-Auth: {AUTH}",
        "Expect:",
    ]
    url = f"http://127.0.0.1:{sink.port}/api/1/envelope/"
    multi = pycurl.CurlMulti()
    idle = []
    for _ in range(in_flight):
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.HTTPHEADER, headers)
        curl.setopt(pycurl.WRITEFUNCTION, len)
        curl.setopt(pycurl.TCP_NODELAY, 1)
        idle.append(curl)
    todo = iter(bodies)
    active = 0
    started = time.perf_counter()
    while True:
        while idle and (body := next(todo, None)) is not None:
            curl = idle.pop()
            curl.setopt(pycurl.POSTFIELDS, body)
            multi.add_handle(curl)
            active += 1
        if not active:
            break
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        multi.select(0.5)
        while True:
            queued, finished, failed = multi.info_read()
            for curl in [*finished, *(c for c, _, _ in failed)]:
                multi.remove_handle(curl)
                idle.append(curl)
                active -= 1
            if failed:
                raise RuntimeError(f"the bare poster failed: {failed[0][1:]}")
            if not queued:
                break
    rate = len(bodies) / (time.perf_counter() - started)
    return rate, sink.stats()["unique"]


def urllib3_post(sink: Sink, bodies: list[bytes]) -> tuple[float, int]:
    """(d) for reference: the same bare loop with urllib3, a common Python HTTP client."""
    pool = urllib3.HTTPConnectionPool(
        "127.0.0.1",
        sink.port,
        maxsize=4,
        block=True,
        retries=False,
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    headers = {
        "Content-Type": "application/x-sentry-envelope",
        "Content-Encoding": "gzip",
        "X-Sentry-Auth": AUTH,
    }

    def post(_: None, body: bytes) -> None:
        pool.urlopen("POST", "/api/1/envelope/", body=body, headers=headers)

    rate = four_threads(bodies, post, lambda: None)
    return rate, sink.stats()["unique"]


STOCK_SCRIPT = """
import sys, json, sentry_sdk
sentry_sdk.init(dsn=sys.argv[1])
for line in open(sys.argv[2], "rb"):
    sentry_sdk.capture_event(json.loads(line))
"""


def stock_client(sink: Sink, events_path: Path, count: int) -> tuple[float, int]:
    """A straightforward script with sentry-sdk's stock client (default transport)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", STOCK_SCRIPT, sink.dsn, str(events_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - started
    return count / elapsed, sink.stats()["unique"]


def send_rate(sink: Sink, events: Path, workers: int) -> tuple[float, int, int]:
    """The tool's events/s over its own run (reading, deciding, sending, draining; not its
    start-up), how many distinct events the sink got, and how many the tool counted sent
    (an error repeating the visitor's previous one is `deduplicated`, as 6.13.1 drops it)."""
    _, _, report = run_tool(
        [str(events), "--no-state", "--workers", str(workers)], env={"SENTRY_DSN": sink.dsn}
    )
    sent = report["outcomes"].get("sent", 0)
    return sent / report["duration_s"], sink.stats()["unique"], sent


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    full = dump("zipf", EVENTS, VISITORS)  # "zipf": errors drawn from 1,000, Zipf-distributed
    quarter = head(full, EVENTS // 4, f"zipf-{EVENTS // 4}-quarter.ndjson")
    many = dump("visitors", EVENTS, EVENTS, sequential=True)
    results: dict[str, Any] = {"events": EVENTS, "visitors": VISITORS, "runs": RUNS}
    results["tool"] = tool_version()

    if "a" in PARTS or "b" in PARTS:
        print("(a) bare orjson loop ...", flush=True)
        results["bare_parse_per_s"] = median([bare_parse(full) for _ in range(RUNS)])
    if "g" in PARTS:
        packed = gzipped(full)
        print("(a') inflating the gzip dump ...", flush=True)
        tool_runs, stdlib_runs = [], []
        for _ in range(RUNS):  # interleaved: this machine's speed drifts
            tool_runs.append(inflate_rate(packed, True))
            stdlib_runs.append(inflate_rate(packed, False))
        results["gzip_tool_mib_s"] = median(tool_runs)
        results["gzip_stdlib_mib_s"] = median(stdlib_runs)
        print("(b') dry-run on the gzip dump ...", flush=True)
        runs = [run_tool([str(packed), "--dry-run"]) for _ in range(RUNS)]
        results["dry_run_gzip_per_s"] = median([EVENTS / wall for wall, _, _ in runs])
    if "b" in PARTS:
        dry_run(results, full, quarter, many)
        browser = dump("browser", EVENTS, VISITORS, mix="browser")
        dry_run_mix(results, browser, "browser")
        diff_cost(results, browser, "browser")
    if "d" in PARTS or "e" in PARTS:
        sending(results, full)
    if "i" in PARTS:
        instructions(results)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


# `diff` against the two dry-runs it replaces: a config change as users make one (an
# ignoreErrors entry, a denyUrls host, a new release)
DIFF_OLD = {"release": "shop@1.4.2", "ignoreErrors": [{"ignoreErrors": "reading 'f1'"}]}
DIFF_NEW = {
    "release": "shop@1.5.0",
    "ignoreErrors": [{"ignoreErrors": "reading 'f1'"}, {"ignoreErrors": "/reading 'f2\\d'/"}],
    "denyUrls": [{"denyUrls": "chunk-7."}],
}


def diff_cost(results: dict[str, Any], path: Path, name: str) -> None:
    """(b'') `diff OLD NEW` against the two dry-runs it replaces, in interleaved rounds."""
    print(f"(b'') diff of two configs on the {name} mix, against two dry-runs ...", flush=True)
    configs = []
    for side, config in (("old", DIFF_OLD), ("new", DIFF_NEW)):
        configs.append(OUT / f"diff-{side}.json")
        configs[-1].write_text(json.dumps(config))
    pairs, diffs = [], []
    for _ in range(RUNS):
        pairs.append(sum(run_tool([str(path), "--dry-run", "-c", str(c)])[0] for c in configs))
        diffs.append(run_diff_tool([str(c) for c in configs], path))
    results[f"{name}_two_dry_runs_s"] = median(pairs)
    results[f"{name}_diff_s"] = median(diffs)
    results[f"{name}_diff_ratio"] = median([d / p for d, p in zip(diffs, pairs, strict=True)])


def run_diff_tool(configs: list[str], path: Path) -> float:
    """Wall seconds of one `diff` run."""
    command = [*TOOL, "diff", *configs, str(path), "--no-progress", "--report", "json"]
    started = time.perf_counter()
    subprocess.run(command, cwd=TOOL_CWD, check=True, capture_output=True)
    return time.perf_counter() - started


def dry_run_mix(results: dict[str, Any], path: Path, name: str) -> None:
    """(b) on another mix: the dry-run, single and with --jobs = cores, against (a) over the
    same dump, in interleaved rounds."""
    print(f"(b) dry-run of the {name} mix, single and --jobs {CORES} ...", flush=True)
    bare, dry, jobs, pure = [], [], [], []
    for _ in range(RUNS):
        bare.append(bare_parse(path))
        dry.append(EVENTS / run_tool([str(path), "--dry-run"])[0])
        jobs.append(EVENTS / run_tool([str(path), "--dry-run", "--jobs", str(CORES)])[0])
        pure.append(EVENTS / run_tool([str(path), "--dry-run"], {"RUDDER_SENTRY_PURE": "1"})[0])
    results[f"{name}_bare_per_s"] = median(bare)
    results[f"{name}_pure_times"] = median([b / p for b, p in zip(bare, pure, strict=True)])
    results[f"{name}_dry_run_per_s"] = median(dry)
    results[f"{name}_dry_run_jobs_per_s"] = median(jobs)
    # the measure: the dry-run's time as a multiple of the bare loop's, per round
    results[f"{name}_dry_run_times"] = median([b / d for b, d in zip(bare, dry, strict=True)])
    results[f"{name}_jobs_times"] = median([b / j for b, j in zip(bare, jobs, strict=True)])


def dry_run(results: dict[str, Any], full: Path, quarter: Path, many: Path) -> None:
    """(b) and (c): the dry-run's rate, single process and with --jobs = cores, against (a)
    run in the same rounds (this machine's speed drifts), and its peak memory."""
    print(f"(b, c) dry-run, single and --jobs {CORES} ...", flush=True)
    bare, dry, jobs = [], [], []
    for _ in range(RUNS):
        bare.append(bare_parse(full))
        dry.append(run_tool([str(full), "--dry-run"]))
        jobs.append(run_tool([str(full), "--dry-run", "--jobs", str(CORES)]))
    results["bare_parse_per_s"] = median(bare)
    results["dry_run_per_s"] = median([EVENTS / wall for wall, _, _ in dry])
    results["dry_run_ratio"] = results["dry_run_per_s"] / results["bare_parse_per_s"]
    results["jobs"] = CORES
    results["dry_run_jobs_per_s"] = median([EVENTS / wall for wall, _, _ in jobs])
    results["dry_run_jobs_ratio"] = results["dry_run_jobs_per_s"] / results["bare_parse_per_s"]
    assert all(run[2]["outcomes"] == dry[0][2]["outcomes"] for run in jobs), "jobs differ"
    results["rss_full_mib"] = median([peak / 1024 for _, peak, _ in dry])
    results["dry_run_outcomes"] = dry[0][2]["outcomes"]
    quarter_runs = [run_tool([str(quarter), "--dry-run"]) for _ in range(RUNS)]
    results["rss_quarter_mib"] = median([peak / 1024 for _, peak, _ in quarter_runs])
    results["rss_growth"] = results["rss_full_mib"] / results["rss_quarter_mib"]
    many_runs = [run_tool([str(many), "--dry-run"]) for _ in range(RUNS)]
    results["rss_1m_visitors_mib"] = median([peak / 1024 for _, peak, _ in many_runs])
    results["visitors_in_1m_visitor_dump"] = many_runs[0][2]["visitors"]


BARE_LOOP = "import sys, orjson\nfor line in open(sys.argv[1], 'rb'): orjson.loads(line)"
STEADY = 30_000  # records counted, after as many that warm the visitors up


def instructions(results: dict[str, Any]) -> None:
    """(i): instructions per record under callgrind (the bare loop, the dry-run, one shard of
    two), each the count for 2 * STEADY records less the count for STEADY, over STEADY."""
    if shutil.which("valgrind") is None:
        print("(i) skipped: it needs valgrind (Debian: apt install valgrind)", flush=True)
        return
    print("(i) instructions per record under callgrind (about 3 minutes) ...", flush=True)
    whole = dump("steady", 2 * STEADY, 2_000)
    half = head(whole, STEADY, f"steady-{STEADY}-head.ndjson")
    tool = [*TOOL, "replay", "--dry-run", "--no-state", "--no-progress"]
    for key, command in (
        ("instructions_bare", [sys.executable, "-c", BARE_LOOP]),
        ("instructions_dry_run", tool),
        ("instructions_shard", [*tool, "--shard", "0/2"]),
    ):
        counts = _callgrind([[*command, str(half)], [*command, str(whole)]])
        results[key] = (counts[1] - counts[0]) / STEADY


def _callgrind(commands: list[list[str]]) -> list[int]:
    """The instructions each command executes (run side by side: a count does not depend on
    what else runs; with a fixed hash seed, as dicts probe differently with each seed)."""
    processes = [
        subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    counts = []
    for process in processes:
        _, err = process.communicate()
        found = re.search(r"Collected : (\d+)", err)
        if process.returncode not in (0, 3) or found is None:
            raise RuntimeError(f"callgrind failed ({process.returncode}): {err[-2000:]}")
        counts.append(int(found.group(1)))
    return counts


def sending(results: dict[str, Any], full: Path) -> None:
    """(d) and (e): sending to a loopback sink, and to one 100 ms away."""
    print("(d) sending to a loopback sink ...", flush=True)
    errors = OUT / f"errors-{SEND_EVENTS}.ndjson"
    if not errors.exists():
        with full.open("rb") as src, errors.open("wb") as dst:
            kept = 0
            for line in src:
                if b'"JavaScript Error"' in line:
                    dst.write(line)
                    kept += 1
                    if kept == SEND_EVENTS:
                        break
    sentry_events = OUT / f"errors-{SEND_EVENTS}.sentry.jsonl"
    run_tool([str(errors), "--dry-run", "--output", str(sentry_events)])
    payloads = sentry_events.read_bytes().splitlines()
    bodies = prebuilt_bodies(payloads)
    with Sink() as sink:
        tool, bare, pooled, stock = [], [], [], []
        for _ in range(RUNS):
            sink.reset()
            tool.append(send_rate(sink, errors, LOOPBACK_WORKERS)[:2])
            sink.reset()
            bare.append(bare_post(sink, bodies, LOOPBACK_WORKERS))
            sink.reset()
            pooled.append(urllib3_post(sink, bodies))
            sink.reset()
            stock.append(stock_client(sink, sentry_events, len(payloads)))
    sent = len(payloads)
    results.update(
        send_events=sent,
        tool_send_per_s=median([r for r, _ in tool]),
        tool_delivered=min(d for _, d in tool),
        bare_post_per_s=median([r for r, _ in bare]),
        bare_delivered=min(d for _, d in bare),
        urllib3_post_per_s=median([r for r, _ in pooled]),
        urllib3_delivered=min(d for _, d in pooled),
        stock_send_per_s=median([r for r, _ in stock]),
        stock_delivered=median([d for _, d in stock]),
    )
    results["tool_send_ratio"] = results["tool_send_per_s"] / results["bare_post_per_s"]
    results["tool_vs_urllib3"] = results["tool_send_per_s"] / results["urllib3_post_per_s"]

    print("(e) sending to a sink 100 ms away ...", flush=True)
    with Sink(delay=ROUND_TRIP) as slow:
        for workers in (DEFAULT_WORKERS, 256):
            count = workers * 40  # about 4 s at the ideal rate
            subset = OUT / f"errors-{count}.ndjson"
            subset.write_bytes(b"".join(errors.read_bytes().splitlines(keepends=True)[:count]))
            runs = []
            for _ in range(RUNS):
                slow.reset()
                runs.append(send_rate(slow, subset, workers))
            ideal = workers / ROUND_TRIP
            results[f"slow_{workers}_per_s"] = median([r for r, _, _ in runs])
            results[f"slow_{workers}_delivered"] = min(d for _, d, _ in runs)
            results[f"slow_{workers}_events"] = max(sent for _, _, sent in runs)
            results[f"slow_{workers}_ratio"] = results[f"slow_{workers}_per_s"] / ideal


def print_table(r: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    if "bare_parse_per_s" in r:
        rows.append(
            ("(a) bare orjson parse loop", f"{r['bare_parse_per_s']:,.0f} lines/s", "ceiling")
        )
    if "gzip_tool_mib_s" in r:
        ratio = r["gzip_tool_mib_s"] / r["gzip_stdlib_mib_s"]
        rows.append(
            (
                "(a') inflating the gzip dump, isal",
                f"{r['gzip_tool_mib_s']:,.0f} MiB/s",
                f"{ratio:.1f}x the standard library's",
            )
        )
        stdlib = f"{r['gzip_stdlib_mib_s']:,.0f} MiB/s"
        rows.append(("    the same, standard library gzip", stdlib, ""))
    if "dry_run_per_s" in r:
        rows += dry_rows(r)
    if "browser_dry_run_per_s" in r:
        rows += mix_rows(r, "browser")
    if "browser_diff_s" in r:
        rows.append(
            (
                "(b'') diff OLD NEW, browser mix",
                f"{r['browser_diff_s']:,.1f} s",
                f"{r['browser_diff_ratio']:.0%} of two dry-runs "
                f"({r['browser_two_dry_runs_s']:,.1f} s)",
            )
        )
    if "dry_run_gzip_per_s" in r and "dry_run_per_s" in r:
        rows.append(
            (
                "(b') replay --dry-run, gzip dump",
                f"{r['dry_run_gzip_per_s']:,.0f} records/s",
                f"{r['dry_run_gzip_per_s'] / r['dry_run_per_s']:.0%} of (b)",
            )
        )
    if "tool_send_per_s" in r:
        rows += send_rows(r)
    if "instructions_dry_run" in r:
        rows += instruction_rows(r)
    print(
        f"\nrudder-sentry bench: {r['events']:,} events, {r['visitors']:,} visitors, "
        f"median of {r['runs']} runs\ntool: {r['tool']}"
    )
    for name, value, note in rows:
        print(f"{name:<40} {value:>20}   {note}")


def dry_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            "(b) replay --dry-run",
            f"{r['dry_run_per_s']:,.0f} records/s",
            f"{r['dry_run_ratio']:.0%} of (a)",
        ),
        (
            f"(b) replay --dry-run --jobs {r['jobs']}",
            f"{r['dry_run_jobs_per_s']:,.0f} records/s",
            f"{r['dry_run_jobs_ratio']:.0%} of (a), "
            f"{r['dry_run_jobs_per_s'] / r['dry_run_per_s']:.2f}x single",
        ),
        (
            "(c) peak RSS, whole dump",
            f"{r['rss_full_mib']:,.0f} MiB",
            f"{r['rss_growth']:.2f}x the quarter",
        ),
        ("    peak RSS, first quarter", f"{r['rss_quarter_mib']:,.0f} MiB", ""),
        (
            "    peak RSS, 1,000,000 visitors",
            f"{r['rss_1m_visitors_mib']:,.0f} MiB",
            f"{r['visitors_in_1m_visitor_dump']:,} visitors",
        ),
    ]


def mix_rows(r: dict[str, Any], name: str) -> list[tuple[str, str, str]]:
    bare = r[f"{name}_bare_per_s"]
    return [
        (f"(a) bare orjson parse loop, {name} mix", f"{bare:,.0f} lines/s", "ceiling"),
        (
            f"(b) replay --dry-run, {name} mix",
            f"{r[f'{name}_dry_run_per_s']:,.0f} records/s",
            f"{r[f'{name}_dry_run_times']:.2f}x the time of (a)",
        ),
        (
            f"(b) the same, --jobs {CORES}",
            f"{r[f'{name}_dry_run_jobs_per_s']:,.0f} records/s",
            f"{r[f'{name}_jobs_times']:.2f}x the time of (a)",
        ),
        (
            "(b) the same, RUDDER_SENTRY_PURE=1",
            "",
            f"{r[f'{name}_pure_times']:.2f}x the time of (a) (the pure-Python build)",
        ),
    ]


def instruction_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    bare, single, shard = r["instructions_bare"], r["instructions_dry_run"], r["instructions_shard"]
    return [
        ("(i) instructions a line, bare loop", f"{bare:,.0f}", "callgrind, records 30,001-60,000"),
        (
            "(i) instructions a record, dry-run",
            f"{single:,.0f}",
            f"the bare loop's is {bare / single:.0%} of it",
        ),
        (
            "(i) the same, --shard 0/2, a line read",
            f"{shard:,.0f}",
            f"two jobs: {2 * shard / single:.2f}x the single's work",
        ),
    ]


def send_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [
        (
            f"(d) tool sending, {LOOPBACK_WORKERS} workers",
            f"{r['tool_send_per_s']:,.0f} events/s",
            f"{r['tool_delivered']:,}/{r['send_events']:,} delivered, "
            f"{r['tool_send_ratio']:.0%} of bare",
        ),
        (
            f"    bare pycurl-multi poster, {LOOPBACK_WORKERS} in flight",
            f"{r['bare_post_per_s']:,.0f} events/s",
            f"{r['bare_delivered']:,}/{r['send_events']:,} delivered (the ceiling)",
        ),
        (
            "    4 threads posting with urllib3",
            f"{r['urllib3_post_per_s']:,.0f} events/s",
            f"{r['urllib3_delivered']:,}/{r['send_events']:,} delivered, "
            f"tool = {r['tool_vs_urllib3']:.0%} of it",
        ),
        (
            "    sentry-sdk stock client",
            f"{r['stock_send_per_s']:,.0f} events/s",
            f"{r['stock_delivered']:,.0f}/{r['send_events']:,} delivered",
        ),
    ]
    for workers in (DEFAULT_WORKERS, 256):
        rows.append(
            (
                f"(e) 100 ms sink, {workers} workers",
                f"{r[f'slow_{workers}_per_s']:,.0f} events/s",
                f"{r[f'slow_{workers}_delivered']:,}/{r[f'slow_{workers}_events']:,} delivered, "
                f"{r[f'slow_{workers}_ratio']:.0%} of {workers / ROUND_TRIP:,.0f}/s",
            )
        )
    return rows


if __name__ == "__main__":
    main()
