"""One quota for the whole cluster: paced within the emulator's quota (zero 429s), learnt from
its headers, and paused everywhere by a 429.

The emulator's quota window is made short (``rate_limit_window``, with the per-minute quota
scaled to it) and `embed_dataset` is told the same window (``quota_window``), so a run crosses
several windows in seconds.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
import pytest
from ray_support import small_embeddings

from azureinfer.ray import _RUNS, embed_dataset, summary


def _dataset(ray: Any, n: int) -> Any:
    texts = [f"w{i} alpha beta gamma" for i in range(n)]  # 4 tokens each, as the emulator counts
    return ray.data.from_arrow(pa.table({"id": list(range(n)), "text": texts})).repartition(4)


def _ids(ray: Any, ds: Any) -> list[int]:
    return pa.concat_tables(ray.get(ds.to_arrow_refs())).column("id").to_pylist()


def test_runs_within_the_quota_and_as_fast_as_it_allows(ray_cluster: Any, emu: Any) -> None:
    rpm, tpm, window = 300, 9_000, 3.0  # per 3 s: 15 requests, 450 tokens
    emu.configure(rate_limit_rpm=rpm, rate_limit_tpm=tpm, rate_limit_window=window)
    n, per_request = 450, 10  # 45 requests of 40 tokens: tokens bind (150/s), ~12 s, 4 windows
    out = embed_dataset(
        _dataset(ray_cluster, n),
        small_embeddings(emu, batch_size=per_request),
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        quota_window=window,
        quota_margin=0.1,
        quota_name=uuid.uuid4().hex,
    )
    assert _ids(ray_cluster, out) == list(range(n))
    seen = emu.requests_for("embeddings")
    assert [r.status for r in seen] == [200] * len(seen)  # not one 429
    assert sum(len(r.body["input"]) for r in seen) == n
    tokens = n * 4
    ideal = (tokens - 40) * 60 / tpm  # first to last arrival at exactly the quota: 11.7 s
    span = seen[-1].time - seen[0].time
    assert span >= 0.95 * ideal  # never faster than the quota
    assert span <= 1.5 * ideal + 3.0  # and close to it (10% margin, plus a busy machine)
    s = summary(out)
    assert (s.rows, s.rate_limited, s.retries, s.tokens) == (n, 0, 0, tokens)


def test_the_quota_is_read_from_the_headers_when_not_given(ray_cluster: Any, emu: Any) -> None:
    emu.configure(rate_limit_rpm=600, rate_limit_window=2.0)  # 20 requests per 2 s
    # Unpaced, the 40 requests (8 in flight) would draw 429s. The margin is the delay the
    # schedule absorbs between a start in the quota actor and the arrival at the emulator: 25%
    # of the 2 s window (16 starts per window, 0.5 s of slack) holds on a saturated machine,
    # where 10% (0.2 s) did not.
    out = embed_dataset(
        _dataset(ray_cluster, 200),
        small_embeddings(emu, batch_size=5),
        actors=1,
        quota_window=2.0,
        quota_margin=0.25,
        quota_name=uuid.uuid4().hex,
    )
    assert _ids(ray_cluster, out) == list(range(200))
    assert {r.status for r in emu.requests_for("embeddings")} == {200}
    s = summary(out)
    assert s.requests_per_minute == 600 and s.tokens_per_minute is None
    assert (s.requests, s.rate_limited) == (40, 0)


def test_a_429_pauses_every_worker_for_its_retry_after(ray_cluster: Any, emu: Any) -> None:
    emu.inject_fault("status", status=429, retry_after_ms=1200, times=1, route="embeddings")
    out = embed_dataset(
        _dataset(ray_cluster, 200),
        small_embeddings(emu, batch_size=5),
        requests_per_minute=60_000,
        actors=2,
        quota_name=uuid.uuid4().hex,
    )
    assert _ids(ray_cluster, out) == list(range(200))
    assert [r.status for r in emu.requests_for("embeddings")].count(429) == 1
    quota, run = _RUNS[out]
    timeline = ray_cluster.get(quota.timeline.remote(run))
    ((at, until),) = timeline["pauses"]
    assert until - at == pytest.approx(1.2)
    assert timeline["starts"]  # every start is before the 429 came back or after the pause
    assert [t for t in timeline["starts"] if at < t < until] == []
    assert len([t for t in timeline["starts"] if t >= until]) > 10  # the rest waited for it
    s = summary(out)
    assert (s.rows, s.requests, s.rate_limited, s.retries) == (200, 40, 1, 1)
