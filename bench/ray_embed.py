"""Ray: `azureinfer.ray.embed_dataset` on a local cluster, against the quota-limited ideal and
against the same corpus through one process with our batching engine. Prints wall times (not a
test).

    python -m bench.ray_embed             # 20,000 texts (about 2 minutes on 2 cores)
    python -m bench.ray_embed --quick     # 2,000 texts
    python -m bench --only ray            # the same, as scenario 8 of the suite

The emulator runs in a separate process with 50 ms latency per request. Two runs of each:

- **quota-limited**: the emulator enforces ``RPM`` requests and ``TPM`` tokens per minute over a
  5-second sliding window (``rate_limit_window``), and `embed_dataset` is given the same quota;
  the ideal is the time the quota allows, ``max(requests / RPM, tokens / TPM)`` minutes; 429s
  are counted from the server's log;
- **unlimited**: no quota; `embed_dataset` with 2 actors x 8 requests in flight against one
  process running ``AzureInferenceEmbeddings.aembed_documents`` with 8 and with 16 in flight
  (the same total as the cluster), whose ideal is ``ceil(N / 96) / in-flight x latency``.

Ray figures are given twice: the whole run (``ray.init`` excluded, actor start-up included) and
the span from the first request's arrival to the last one's (what the quota governs).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
import uuid
from typing import Any

from bench._harness import EmulatorProcess, Table, fmt_seconds

LATENCY = 0.05
MODEL = "text-embedding-3-small"
DIMS = 64
BATCH = 96
RPM = 1_200
TPM = 1_500_000
WINDOW = 5.0


def texts(n: int) -> list[str]:
    """``n`` distinct short texts (8 tokens each, as the emulator counts)."""
    topics = ("kettles", "shipping", "returns", "warranty", "payment", "support", "tea", "steel")
    return [f"note {i} about {topics[i % 8]} and item {i * 7 % 1000}" for i in range(n)]


def _embeddings(emu: EmulatorProcess, concurrency: int = 8) -> Any:
    from langchain_azureinfer import AzureInferenceEmbeddings

    return AzureInferenceEmbeddings(
        endpoint=emu.endpoint,
        credential=emu.key,
        model=MODEL,
        dimensions=DIMS,
        document_input_type=None,  # the model takes none: no 422 before the first batch
        max_concurrency=concurrency,
    )


def _arrivals(emu: EmulatorProcess) -> tuple[float, int, int]:
    """(first-to-last arrival span, 200s, 429s) of the embeddings requests."""
    import json
    import urllib.request

    req = urllib.request.Request(
        f"{emu.base_url}/_emulator/requests?route=embeddings", headers={"api-key": emu.key}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        seen = json.loads(resp.read())["requests"]
    ok = [r for r in seen if r["status"] == 200]
    span = ok[-1]["time"] - ok[0]["time"] if len(ok) > 1 else 0.0
    return span, len(ok), sum(r["status"] == 429 for r in seen)


def _ray_run(emu: EmulatorProcess, corpus: list[str], **quota: Any) -> tuple[float, float, int]:
    import pyarrow as pa
    import ray

    from azureinfer.ray import embed_dataset, summary

    ds = ray.data.from_arrow(pa.table({"id": list(range(len(corpus))), "text": corpus}))
    out = embed_dataset(
        ds.repartition(8), _embeddings(emu), actors=2, quota_name=uuid.uuid4().hex, **quota
    )
    t0 = time.perf_counter()
    rows = sum(t.num_rows for t in ray.get(out.to_arrow_refs()))
    wall = time.perf_counter() - t0
    assert rows == len(corpus), rows
    span, _, limited = _arrivals(emu)
    assert summary(out).rows == len(corpus)
    return wall, span, limited


def _local_run(emu: EmulatorProcess, corpus: list[str], concurrency: int) -> float:
    emb = _embeddings(emu, concurrency)

    async def run() -> int:
        try:
            return len(await emb.aembed_documents(corpus))
        finally:
            await emb.aclose()

    t0 = time.perf_counter()
    assert asyncio.run(run()) == len(corpus)
    return time.perf_counter() - t0


def table(emu: EmulatorProcess, n: int) -> Table:
    """Scenario 8's table (``emu``: an `EmulatorProcess` of this machine)."""
    import ray

    corpus = texts(n)
    requests = math.ceil(n / BATCH)
    tokens = 8 * n
    quota_ideal = max(requests / RPM, tokens / TPM) * 60
    t = Table(
        f"8. Ray: {n:,} texts through embed_dataset (2 actors x 8 in flight), 50 ms latency, "
        f"{BATCH} inputs per request",
        ["run", "wall", "first to last request", "ideal", "span / ideal", "429s"],
    )
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        # Warm-up: the first dataset of a session also starts Ray Data's own actors.
        emu.clear()
        emu.configure(latency=LATENCY)
        _ray_run(emu, corpus[:200])

        emu.clear()
        emu.configure(
            latency=LATENCY, rate_limit_rpm=RPM, rate_limit_tpm=TPM, rate_limit_window=WINDOW
        )
        wall, span, limited = _ray_run(
            emu, corpus, requests_per_minute=RPM, tokens_per_minute=TPM, quota_window=WINDOW
        )
        t.add(
            f"quota {RPM:,} RPM / {TPM:,} TPM (5 s window)",
            fmt_seconds(wall),
            fmt_seconds(span),
            fmt_seconds(quota_ideal),
            f"{span / quota_ideal:.2f}x",
            str(limited),
        )

        emu.clear()
        emu.configure(latency=LATENCY)
        wall, span, limited = _ray_run(emu, corpus)
        ideal16 = requests / 16 * LATENCY
        t.add(
            "no quota: Ray, 2 actors x 8",
            fmt_seconds(wall),
            fmt_seconds(span),
            fmt_seconds(ideal16),
            f"{span / ideal16:.2f}x",
            str(limited),
        )
        for concurrency in (8, 16):
            emu.clear()
            emu.configure(latency=LATENCY)
            wall = _local_run(emu, corpus, concurrency)
            span, _, limited = _arrivals(emu)
            ideal = requests / concurrency * LATENCY
            t.add(
                f"no quota: one process, batching engine, {concurrency} in flight",
                fmt_seconds(wall),
                fmt_seconds(span),
                fmt_seconds(ideal),
                f"{span / ideal:.2f}x",
                str(limited),
            )
    finally:
        if started:
            ray.shutdown()
    t.notes.append(
        f"{requests} requests, {tokens:,} tokens. Quota ideal: max(requests / RPM, tokens / TPM) "
        "minutes; 'no quota' ideal: requests / in-flight x latency. 'wall' includes the start of "
        "the Ray actors (not ray.init); the span is from the server's request log. The emulator "
        "runs in its own process."
    )
    return t


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bench.ray_embed``."""
    p = argparse.ArgumentParser(prog="python -m bench.ray_embed", description=__doc__)
    p.add_argument("--quick", action="store_true", help="2,000 texts")
    p.add_argument("--n", type=int, default=None, help="texts (default 20,000)")
    args = p.parse_args(argv)
    n = args.n or (2_000 if args.quick else 20_000)
    with EmulatorProcess() as emu:
        print(table(emu, n).to_markdown(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
