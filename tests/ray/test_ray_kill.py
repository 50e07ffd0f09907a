"""A worker process killed during a run: Ray restarts it and reruns its batch; every row comes
out exactly once, with its own vector."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from typing import Any

import pyarrow as pa
import pytest
from ray_support import small_embeddings

from azureinfer.ray import _RUNS, embed_dataset, summary

N = 1_000


def test_a_killed_worker_loses_and_duplicates_no_row(ray_cluster: Any, emu: Any) -> None:
    ray = ray_cluster
    texts = [f"row {i} of the killed run" for i in range(N)]
    ds = ray.data.from_arrow(pa.table({"id": list(range(N)), "text": texts})).repartition(10)
    emb = small_embeddings(emu, batch_size=10)
    # 100 requests at 1,200 a minute: about 5 s, so the kill lands mid-run.
    out = embed_dataset(
        ds, emb, requests_per_minute=1_200, rows_per_batch=50, quota_name=uuid.uuid4().hex
    )
    quota, run = _RUNS[out]
    result: dict[str, Any] = {}

    def consume() -> None:
        try:
            result["table"] = pa.concat_tables(ray.get(out.to_arrow_refs()))
        except BaseException as exc:  # pragma: no cover - reported below
            result["error"] = exc

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and summary(out).requests < 20:
        time.sleep(0.1)
    assert summary(out).requests < 100, "the run ended before the kill"
    victims = ray.get(quota.workers.remote(run))
    assert len(victims) == 2
    os.kill(victims[0], signal.SIGKILL)
    thread.join(timeout=180)
    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    table = result["table"]
    assert table.column("id").to_pylist() == list(range(N))  # every row once, in order
    vectors = table.column("embedding").to_pylist()
    sample = [*range(0, N, 25), N - 1]
    for i, expected in zip(sample, emb.embed_documents([texts[i] for i in sample]), strict=True):
        assert vectors[i] == pytest.approx(expected, abs=1e-6), i
    workers = ray.get(quota.workers.remote(run))
    assert victims[0] in workers and len(workers) == 3  # the killed one was restarted
