"""`embed_dataset`: every row gets its own vector, once, in order; failures named or kept."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest
from ray_support import small_embeddings

from azureinfer.emulator._behaviour import count_tokens
from azureinfer.errors import ConfigurationError
from azureinfer.ray import embed_dataset, summary
from azureinfer.settings import resolve_settings
from langchain_azureinfer import AzureInferenceEmbeddings
from llamaindex_azureinfer import AzureInferenceEmbedding

WORDS = ["harbour", "lantern", "orchard", "glacier", "meadow", "copper", "violet", "thunder"]


def _texts(n: int) -> list[str]:
    return [
        f"passage {i}: the {WORDS[i % 8]} of record {i * 7} near {WORDS[i * 3 % 8]}"
        for i in range(n)
    ]


def _dataset(ray: Any, texts: list[str], blocks: int = 8) -> Any:
    table = pa.table({"id": list(range(len(texts))), "text": texts})
    return ray.data.from_arrow(table).repartition(blocks)


def _table(ray: Any, ds: Any) -> pa.Table:
    return pa.concat_tables(ray.get(ds.to_arrow_refs()))


def _sent_inputs(emu: Any) -> Counter[str]:
    return Counter(
        t for r in emu.requests_for("embeddings") if r.status == 200 for t in r.body["input"]
    )


def test_20000_texts_through_two_actors(ray_cluster: Any, emu: Any) -> None:
    texts = _texts(20_000)
    emb = AzureInferenceEmbeddings(
        endpoint=emu.endpoint, credential=emu.key, model="text-embedding-3-small", dimensions=32
    )
    out = embed_dataset(_dataset(ray_cluster, texts, blocks=20), emb, actors=2)
    table = _table(ray_cluster, out)
    assert table.column("id").to_pylist() == list(range(20_000))  # none lost, none twice, in order
    assert table.column("text").to_pylist() == texts
    vectors = table.column("embedding").to_pylist()
    sample = random.Random(15).sample(range(20_000), 60)
    direct = emb.embed_documents([texts[i] for i in sample])
    for i, expected in zip(sample, direct, strict=True):
        assert vectors[i] == pytest.approx(expected, abs=1e-6), i
    assert len({tuple(v) for v in vectors}) == 20_000  # each text its own vector
    sent = _sent_inputs(emu)
    for text in texts[:3] + texts[-3:]:
        assert sent[text] == 1 + (text in {texts[i] for i in sample})
    assert sum(sent.values()) == 20_000 + len(sample)  # each text in exactly one request
    s = summary(out)
    assert (s.rows, s.failed_rows, s.rate_limited, s.workers) == (20_000, 0, 0, 2)
    assert s.requests >= 20_000 // 96  # ~96 inputs per request (plus a dropped input_type's 422s)
    assert s.tokens == sum(count_tokens(t) for t in texts)  # the usage the service reported


def test_llamaindex_keeps_failed_rows_with_an_error(ray_cluster: Any, emu: Any) -> None:
    texts = _texts(300)
    texts[7] = "   "
    emb = AzureInferenceEmbedding(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_name="text-embedding-3-small",
        dimensions=16,
        embed_batch_size=10,
    )
    emu.inject_fault("status", status=400, times=1, route="embeddings", message="bad input")
    out = embed_dataset(_dataset(ray_cluster, texts, blocks=3), emb, on_error="keep", actors=1)
    table = _table(ray_cluster, out)
    assert table.column("id").to_pylist() == list(range(300))
    rows = table.to_pylist()
    assert "empty or whitespace only" in rows[7]["error"] and rows[7]["embedding"] is None
    failed = [r for r in rows if r["error"] is not None and r["id"] != 7]
    assert 1 <= len(failed) <= 10  # one request's rows
    assert all("400" in r["error"] or "bad input" in r["error"] for r in failed)
    assert all(r["embedding"] is None for r in failed)
    good = [r for r in rows if r["error"] is None]
    assert len(good) == 300 - 1 - len(failed)
    direct = emb.get_text_embedding_batch([r["text"] for r in good[:20]])
    for row, expected in zip(good[:20], direct, strict=True):
        assert row["embedding"] == pytest.approx(expected, abs=1e-6)
    assert summary(out).failed_rows == 1 + len(failed)


def test_a_failed_request_fails_the_job_naming_its_rows(ray_cluster: Any, emu: Any) -> None:
    settings = resolve_settings(emu.endpoint, emu.key)
    emu.inject_fault("status", status=400, times=1, route="embeddings", message="bad input")
    out = embed_dataset(
        _dataset(ray_cluster, _texts(40), blocks=1),
        settings,
        model="text-embedding-3-small",
        id_column="id",
        batch_size=10,
        actors=1,
    )
    with pytest.raises(Exception, match=r"embedding failed for row id=\d+, row id=\d+") as info:
        out.materialize()
    assert 'on_error="keep"' in str(info.value)


def test_a_text_too_long_for_one_request_is_its_rows_error(ray_cluster: Any, emu: Any) -> None:
    # Regression: such a text failed the whole job, even with on_error="keep".
    texts = _texts(30)
    texts[11] = "lantern " * 200  # 1600 characters; a request carries at most 1000
    emb = small_embeddings(emu, max_batch_chars=1000)
    kept = embed_dataset(_dataset(ray_cluster, texts, blocks=1), emb, on_error="keep", actors=1)
    rows = _table(ray_cluster, kept).to_pylist()
    assert [r["id"] for r in rows if r["error"] is not None] == [11]
    # One Ray batch of all 30 rows: the position the error names is the row's.
    assert "input 11 has 1600 characters" in rows[11]["error"]
    assert "max_batch_chars=1000" in rows[11]["error"] and rows[11]["embedding"] is None
    assert all(r["embedding"] is not None for r in rows if r["id"] != 11)
    raised = embed_dataset(_dataset(ray_cluster, texts, blocks=1), emb, id_column="id", actors=1)
    with pytest.raises(Exception, match=r"embedding failed for row id=11: .*input 11 has 1600"):
        raised.materialize()


def test_bad_arguments_are_refused_at_once(ray_cluster: Any, emu: Any) -> None:
    ds = _dataset(ray_cluster, _texts(4), blocks=1)
    emb = AzureInferenceEmbeddings(endpoint=emu.endpoint, credential=emu.key)
    with pytest.raises(ConfigurationError, match="embeddings must be"):
        embed_dataset(ds, "text-embedding-3-small")
    with pytest.raises(ConfigurationError, match="on_error"):
        embed_dataset(ds, emb, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="batch_size"):
        embed_dataset(ds, emb, batch_size=0)
    with pytest.raises(ConfigurationError, match="requests_per_minute"):
        embed_dataset(ds, emb, requests_per_minute=-5)
    with pytest.raises(ConfigurationError, match="model= is for ConnectionSettings"):
        embed_dataset(ds, emb, model="x")
    assert not emu.requests
