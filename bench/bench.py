"""``make bench``: newsflow's throughput, latency and memory next to its baselines.

Reports, in one run on one Redis server:

- raw redis-py: pipelined XADD and XREADGROUP + decode + XACK of the corpus;
- newsflow end to end (inbox XADD -> stored in SQLite) with NER off, and the ratio;
- bare ``nlp.pipe`` (same model, 1 and 2 processes) and newsflow end to end with NER
  on and 1 or 2 enrich workers, and the ratios;
- ingest-to-stored latency p50/p95/p99 at a fixed offered rate of half the measured
  NER-on capacity;
- what 1,000 saved filters cost: matching per article, and the NER-off rate with them;
- peak RSS of each service.

Writes ``bench/results/<date>.json`` and ``.md`` and prints the table. It measures;
it never asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import psutil
import redis

from bench.filters import FILTERS, bench_matching
from services.embedded import RedisServer, die_with_parent, free_port, start_redis
from shared.codec import loads
from shared.models import StoredEvent
from shared.settings import Settings
from shared.streams import JSON_FIELD, StreamNames

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CHUNK = 500


# --- corpus -------------------------------------------------------------------------------


def seed_corpus(n: int) -> list[dict[str, Any]]:
    """``n`` distinct articles made from the seed files by varying title and URL."""
    seeds = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        seeds.append((title.strip(), body.strip()))
    return [
        {
            "title": f"{seeds[i % len(seeds)][0]} ({i})",
            "body": seeds[i % len(seeds)][1],
            "url": f"https://bench.test/{i}",
            "source": "bench",
        }
        for i in range(n)
    ]


def load_corpus(path: Path | None, n: int) -> list[dict[str, Any]]:
    if path is None:
        return seed_corpus(n)
    items = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return items[:n] if n else items


# --- process helpers ----------------------------------------------------------------------


class RssSampler:
    """Peak resident memory of named processes, sampled every 0.2 s in a thread."""

    def __init__(self) -> None:
        self.procs: dict[str, list[psutil.Process]] = {}
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def watch(self, name: str, pid: int) -> None:
        self.procs.setdefault(name, []).append(psutil.Process(pid))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name, procs in list(self.procs.items()):
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        rss = proc.memory_info().rss
                        self.peak[name] = max(self.peak.get(name, 0), rss)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {name: round(rss / 2**20, 1) for name, rss in sorted(self.peak.items())}


class Stack:
    """newsflow workers as processes against one Redis, with their own prefix and SQLite file."""

    def __init__(
        self,
        redis_url: str,
        workdir: Path,
        *,
        ner: str,
        enrich_workers: int,
        rss: RssSampler,
        label: str,
    ) -> None:
        self.prefix = f"bench{label}:"
        self.names = StreamNames(self.prefix)
        self.db = workdir / f"{label}.db"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")},
            "REDIS_URL": redis_url,
            "DATABASE_URL": f"sqlite:///{self.db}",
            "NEWSFLOW_PREFIX": self.prefix,
            "NEWSFLOW_NER": ner,
            "NEWSFLOW_API_PORT": str(free_port()),
            "NEWSFLOW_LOG_LEVEL": "WARNING",
            "NEWSFLOW_MAX_RAW_BACKLOG": "10000000",
            "NEWSFLOW_DATA_DIR": str(workdir),
            # Several enrich workers on one host: no health servers to collide.
            "NEWSFLOW_ENRICH_HTTP_PORT": "0",
            "NEWSFLOW_SINK_HTTP_PORT": "0",
        }
        self.logs = workdir / f"{label}.log"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.services = ["sink", *["enrich"] * enrich_workers, "ingest"]
        self.rss = rss
        self.label = label
        self.base = 0

    def start(self) -> None:
        with self.logs.open("ab") as log:
            for service in self.services:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "services.cli", "worker", service],
                    env=self.env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent,  # noqa: PLW1509 - one prctl call
                )
                self.procs.append(proc)
                self.rss.watch(f"{service} ({self.label})", proc.pid)
        # Ready when a warm-up article has gone all the way through.
        client = redis.Redis.from_url(self.env["REDIS_URL"])
        warmup = {
            "title": "Warm-up article",
            "body": "The government met in Paris on Monday.",
            "url": f"https://bench.test/warmup-{self.label}",
        }
        client.xadd(self.names.inbox, {JSON_FIELD: orjson.dumps(warmup)})
        deadline = time.monotonic() + 120
        while self.stored() < 1:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                tail = self.logs.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"stack {self.label} did not start:\n{tail}")
            time.sleep(0.1)
        self.base = self.stored()

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()

    def stored(self) -> int:
        try:
            with contextlib.closing(sqlite3.connect(self.db, timeout=5)) as conn:
                return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.Error:
            return 0


def feed_inbox(client: redis.Redis, stream: str, corpus: list[dict[str, Any]]) -> None:
    for start in range(0, len(corpus), CHUNK):
        with client.pipeline(transaction=False) as pipe:
            for item in corpus[start : start + CHUNK]:
                pipe.xadd(stream, {JSON_FIELD: orjson.dumps(item)})
            pipe.execute()


def wait_stored(stack: Stack, n: int, timeout: float) -> float:
    """Seconds until ``n`` articles are stored (polling SQLite every 50 ms)."""
    start = time.perf_counter()
    while stack.stored() - stack.base < n:
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"{stack.label}: only {stack.stored()}/{n} stored in {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - start


# --- measurements -------------------------------------------------------------------------


def bench_raw_redis(client: redis.Redis, corpus: list[dict[str, Any]]) -> dict[str, float]:
    """redis-py alone: pipelined XADD, then XREADGROUP + decode + XACK in batches."""
    stream, group = "bench:raw-redis", "g"
    client.delete(stream)
    payloads = [orjson.dumps(item) for item in corpus]
    t0 = time.perf_counter()
    for start in range(0, len(payloads), CHUNK):
        with client.pipeline(transaction=False) as pipe:
            for payload in payloads[start : start + CHUNK]:
                pipe.xadd(stream, {JSON_FIELD: payload})
            pipe.execute()
    xadd_s = time.perf_counter() - t0
    client.xgroup_create(stream, group, id="0")
    t0 = time.perf_counter()
    done = 0
    while done < len(payloads):
        reply = client.xreadgroup(group, "c", {stream: ">"}, count=CHUNK)
        entries = reply[0][1]
        for _, fields in entries:
            orjson.loads(fields[JSON_FIELD.encode()])
        client.xack(stream, group, *[entry_id for entry_id, _ in entries])
        done += len(entries)
    read_s = time.perf_counter() - t0
    client.delete(stream)
    return {"xadd_per_s": len(payloads) / xadd_s, "xreadgroup_per_s": len(payloads) / read_s}


def _pipe_worker(texts: list[str], batch_size: int, out: Any) -> None:
    from services.enrich.nlp import load_model

    nlp = load_model(None)
    list(nlp.pipe(texts[:4]))  # warm up
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    out.put(time.perf_counter() - t0)


def bench_bare_pipe(corpus: list[dict[str, Any]], processes: int) -> float:
    """Articles/s of bare ``nlp.pipe`` (NER only) over the corpus split across processes."""
    texts = [f"{a['title']}\n\n{a['body']}" for a in corpus]
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    shards = [texts[i::processes] for i in range(processes)]
    # The same number of texts per nlp.pipe batch as the enrich worker uses.
    size = Settings().ner_batch_size
    procs = [ctx.Process(target=_pipe_worker, args=(shard, size, out)) for shard in shards]
    for proc in procs:
        proc.start()
    times = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    return len(texts) / max(times)


def bench_ner_cpu(corpus: list[dict[str, Any]], repeat: int = 3) -> dict[str, float]:
    """CPU milliseconds per article of bare ``nlp.pipe`` and of ``Enricher.enrich_batch``
    over the same articles, in this process, best of ``repeat`` each.

    The wall-clock ratio of the end-to-end runs moves with whatever else the machine
    runs; CPU time does much less, so this is the measure of what enrichment costs
    beside the model. The enrichment's CPU includes its keyword thread's."""
    from services.enrich.pipeline import Enricher
    from shared.models import ArticleIn
    from shared.normalize import normalize

    enricher = Enricher(Settings().model_copy(update={"ner": "on"}))
    nlp = enricher.nlp
    texts = [f"{a['title']}\n\n{a['body']}" for a in corpus]
    articles = [normalize(ArticleIn.model_validate(a)) for a in corpus]
    size = enricher.settings.resolved_enrich_batch_size

    def bare() -> None:
        for _ in nlp.pipe(texts, batch_size=enricher.settings.ner_batch_size):
            pass

    def enrich() -> None:
        for start in range(0, len(articles), size):
            enricher.enrich_batch(articles[start : start + size])

    list(nlp.pipe(texts[:4]))  # warm up
    enricher.enrich_batch(articles[:2])
    best = {"bare": float("inf"), "enrich": float("inf")}
    for _ in range(repeat):
        for name, run in (("bare", bare), ("enrich", enrich)):
            started = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - started)
    return {
        "articles": len(corpus),
        "bare_ms": best["bare"] / len(corpus) * 1000,
        "enrich_ms": best["enrich"] / len(corpus) * 1000,
        "ratio": best["bare"] / best["enrich"],
    }


def bench_pipeline(
    server: RedisServer,
    workdir: Path,
    corpus: list[dict[str, Any]],
    *,
    ner: str,
    enrich_workers: int,
    rss: RssSampler,
    label: str,
    saved_filters: int = 0,
) -> float:
    stack = Stack(server.url, workdir, ner=ner, enrich_workers=enrich_workers, rss=rss, label=label)
    try:
        client = redis.Redis.from_url(server.url)
        if saved_filters:
            from bench.filters import saved_filters as make_filters
            from bench.filters import store_filters

            store_filters(client, stack.names, make_filters(saved_filters))
        stack.start()
        t0 = time.perf_counter()
        feeder = threading.Thread(target=feed_inbox, args=(client, stack.names.inbox, corpus))
        feeder.start()
        wait_stored(stack, len(corpus), timeout=3600)
        elapsed = time.perf_counter() - t0
        feeder.join()
        return len(corpus) / elapsed
    finally:
        stack.stop()


def bench_latency(
    server: RedisServer, workdir: Path, corpus: list[dict[str, Any]], rate: float, rss: RssSampler
) -> dict[str, float]:
    """Ingest-to-stored latency at ``rate`` articles/s offered through the inbox."""
    stack = Stack(server.url, workdir, ner="on", enrich_workers=1, rss=rss, label="latency")
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    client = redis.Redis.from_url(server.url)
    sent: dict[str, float] = {}
    stored: dict[str, float] = {}
    stop = threading.Event()

    def follow() -> None:
        last: bytes | str = "0"
        while not stop.is_set() or len(stored) < len(sent):
            for _, entries in client.xread({stack.names.stored: last}, block=500, count=500):
                for entry_id, fields in entries:
                    last = entry_id
                    ms = int(entry_id.split(b"-")[0])
                    event = loads(StoredEvent, fields[JSON_FIELD.encode()])
                    stored[event.title] = ms / 1000
            if stop.is_set() and time.monotonic() > deadline:
                break

    deadline = float("inf")
    reader = threading.Thread(target=follow)
    reader.start()
    try:
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for item in corpus:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            entry_id = client.xadd(stack.names.inbox, {JSON_FIELD: orjson.dumps(item)})
            sent[item["title"]] = int(entry_id.split(b"-")[0]) / 1000
            next_at += interval
        deadline = time.monotonic() + 120
        stop.set()
        reader.join()
    finally:
        stack.stop()
    latencies = sorted(stored[t] - sent[t] for t in sent if t in stored)
    if not latencies:
        return {}

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    return {
        "offered_per_s": round(rate, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "samples": len(latencies),
    }


# --- report -------------------------------------------------------------------------------


def bench_topics() -> dict[str, float]:
    """Topic classification of the ~6 KB seed article on this core: best of 5 x 200."""
    import timeit

    from services.enrich.topics import TopicTaxonomy

    taxonomy = TopicTaxonomy.load(None)
    seed = (Path(__file__).resolve().parent.parent / "seeds/iraq-troop-withdrawal.txt").read_text()
    title, _, body = seed.partition("\n")
    taxonomy.classify(title, body, 0.3)
    runs = timeit.repeat(lambda: taxonomy.classify(title, body, 0.3), number=200, repeat=5)
    return {"ms_per_article": min(runs) / 200 * 1000, "article_kb": len(seed.encode()) / 1024}


def markdown(result: dict[str, Any]) -> str:
    r = result
    rows = [
        ("raw redis-py pipelined XADD", f"{r['raw']['xadd_per_s']:,.0f} /s", ""),
        ("raw redis-py XREADGROUP+decode+XACK", f"{r['raw']['xreadgroup_per_s']:,.0f} /s", ""),
        (
            "newsflow end to end, NER off",
            f"{r['ner_off_per_s']:,.0f} /s ({r['ner_off_mb_per_s']:.1f} MB/s)",
            f"{r['ner_off_per_s'] / r['raw']['xadd_per_s']:.2f} x raw XADD",
        ),
    ]
    if "topics" in r:
        rows.append(
            (
                f"topic classification, {r['topics']['article_kb']:.1f} KB seed article",
                f"{r['topics']['ms_per_article']:.3f} ms",
                "one core, best of 5",
            )
        )
    if "filters" in r:
        f = r["filters"]
        rows.append(
            (
                f"matching {f['filters']} saved filters per article (indexed / one by one)",
                f"{f['indexed_ms']:.3f} ms / {f['linear_ms']:.2f} ms",
                f"{f['indexed_ms'] / f['enrich_ms']:.1%} of NER-off enrichment "
                f"({f['enrich_ms']:.2f} ms); {f['matched_per_article']:.0f} matches per article",
            )
        )
        rows.append(
            (
                f"newsflow end to end, NER off, {f['filters']} saved filters",
                f"{f['ner_off_per_s']:,.0f} /s",
                f"{f['ner_off_per_s'] / r['ner_off_per_s']:.2f} x without filters",
            )
        )
    for n in (1, 2):
        key = f"ner_on_{n}"
        if key in r:
            rows.append((f"bare nlp.pipe, {n} process(es)", f"{r[f'pipe_{n}']:,.1f} /s", ""))
            rows.append(
                (
                    f"newsflow end to end, NER on, {n} enrich worker(s)",
                    f"{r[key]:,.1f} /s",
                    f"{r[key] / r[f'pipe_{n}']:.2f} x bare nlp.pipe",
                )
            )
    if "ner_on_2" in r:
        rows.append(("2 enrich workers vs 1", "", f"{r['ner_on_2'] / r['ner_on_1']:.2f} x"))
    if "ner_cpu" in r:
        cpu = r["ner_cpu"]
        rows.append(
            (
                f"CPU per article, {cpu['articles']} articles in one process",
                f"bare nlp.pipe {cpu['bare_ms']:.1f} ms, enrichment {cpu['enrich_ms']:.1f} ms",
                f"{cpu['ratio']:.2f} x bare nlp.pipe",
            )
        )
    lat = r.get("latency") or {}
    if lat:
        rows.append(
            (
                f"ingest-to-stored latency at {lat['offered_per_s']}/s offered",
                f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, p99 {lat['p99_ms']} ms",
                f"{lat['samples']} articles",
            )
        )
    for name, mb in r["peak_rss_mb"].items():
        rows.append((f"peak RSS {name}", f"{mb} MB", ""))
    lines = [
        f"newsflow bench {r['date']} — {r['articles']} articles "
        f"({r['corpus_mb']:.1f} MB), {r['cpus']} cores, {r['machine']}",
        "",
        "| measure | result | ratio |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="ArticleIn JSONL (default: from seeds/)")
    parser.add_argument(
        "--articles",
        type=int,
        default=20_000,
        help="articles for the transport runs (default 20000)",
    )
    parser.add_argument(
        "--ner-articles", type=int, default=300, help="articles for the NER runs (default 300)"
    )
    parser.add_argument("--skip-ner", action="store_true", help="transport runs only")
    args = parser.parse_args(argv)

    corpus = load_corpus(args.corpus, args.articles)
    ner_corpus = corpus[: args.ner_articles]
    size = sum(len(orjson.dumps(a)) for a in corpus)
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    rss = RssSampler()
    server = start_redis(workdir / "redis", binary=shutil.which("redis-server"))
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "articles": len(corpus),
        "corpus_mb": size / 2**20,
        "cpus": os.cpu_count(),
        "machine": f"{sys.platform} Python {sys.version.split()[0]}",
        "redis": redis.Redis.from_url(server.url).info("server")["redis_version"],
    }
    try:
        client = redis.Redis.from_url(server.url)
        print("topic classification ...", flush=True)
        result["topics"] = bench_topics()
        print("raw redis-py ...", flush=True)
        result["raw"] = bench_raw_redis(client, corpus)
        print("newsflow, NER off ...", flush=True)
        result["ner_off_per_s"] = bench_pipeline(
            server, workdir, corpus, ner="off", enrich_workers=1, rss=rss, label="neroff"
        )
        result["ner_off_mb_per_s"] = result["ner_off_per_s"] * size / len(corpus) / 2**20
        print(f"saved filters: matching {FILTERS} ...", flush=True)
        result["filters"] = bench_matching(corpus)
        print(f"newsflow, NER off, {FILTERS} saved filters ...", flush=True)
        result["filters"]["ner_off_per_s"] = bench_pipeline(
            server,
            workdir,
            corpus,
            ner="off",
            enrich_workers=1,
            rss=rss,
            label="filters",
            saved_filters=FILTERS,
        )
        if not args.skip_ner:
            print("NER CPU per article, bare and enriched ...", flush=True)
            result["ner_cpu"] = bench_ner_cpu(ner_corpus[:100])
            for n in (1, 2):
                print(f"bare nlp.pipe x{n} ...", flush=True)
                result[f"pipe_{n}"] = bench_bare_pipe(ner_corpus, n)
                print(f"newsflow, NER on, {n} enrich worker(s) ...", flush=True)
                result[f"ner_on_{n}"] = bench_pipeline(
                    server,
                    workdir,
                    ner_corpus,
                    ner="on",
                    enrich_workers=n,
                    rss=rss,
                    label=f"neron{n}",
                )
            rate = result["ner_on_1"] / 2
            print(f"latency at {rate:.1f}/s ...", flush=True)
            result["latency"] = bench_latency(server, workdir, ner_corpus, rate, rss)
    finally:
        server.stop()
        result["peak_rss_mb"] = rss.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = result["date"][:10]
    table = markdown(result)
    (RESULTS / f"{stamp}.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    (RESULTS / f"{stamp}.md").write_text(table)
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
