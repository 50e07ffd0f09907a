"""The batching engine end to end: real SDK over HTTP to the emulator, asserting on the wire."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from emb_support import InFlight

from azureinfer.batching import (
    BatchOptions,
    Embedder,
    EmbeddingInputError,
    EmbeddingsResponseError,
    EmbeddingsSpec,
)
from azureinfer.errors import APIStatusError, UnsupportedParameterError
from azureinfer.settings import resolve_settings

TEXTS = [f"document number {i} talks about topic {i % 7}" for i in range(250)]
COHERE = "cohere-embed-v3-english"
OPENAI = "text-embedding-3-small"


def _ok(emu: Any, route: str = "embeddings") -> list[Any]:
    return [r for r in emu.requests_for(route) if r.status == 200]


def _cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.fixture
def emb(emu: Any) -> Iterator[Embedder]:
    embedder = Embedder(resolve_settings(emu.endpoint, emu.key))
    yield embedder
    embedder.close()


def test_requests_respect_the_96_input_limit_and_keep_order(emu: Any, emb: Embedder) -> None:
    spec = EmbeddingsSpec(model=COHERE, input_type="document")
    vectors = emb.embed_texts(TEXTS, spec, BatchOptions(max_concurrency=4))
    bodies = [r.body for r in _ok(emu)]
    assert len(bodies) == 3 == len(emu.requests_for("embeddings"))
    assert sorted(len(b["input"]) for b in bodies) == [58, 96, 96]
    assert all(b["input_type"] == "document" for b in bodies)
    assert all(b["model"] == COHERE for b in bodies)
    assert sorted(t for b in bodies for t in b["input"]) == sorted(TEXTS)  # each sent once
    assert len(vectors) == len(TEXTS)
    # order: each vector is its own text's vector
    single = emb.embed_texts([TEXTS[137]], spec, BatchOptions())
    assert _cos(vectors[137], single[0]) > 0.9999
    assert _cos(vectors[136], single[0]) < 0.99


def test_a_batch_over_the_deployment_limit_is_refused_by_the_server(emb: Embedder) -> None:
    # Proves the limit above is real: 97 inputs in one request fail on the Cohere deployment.
    spec = EmbeddingsSpec(model=COHERE)
    with pytest.raises(APIStatusError):
        emb.embed_texts(TEXTS[:97], spec, BatchOptions(batch_size=97))


def test_size_budget_splits_requests(emu: Any, emb: Embedder) -> None:
    texts = ["word " * 50] * 10  # 250 characters each
    emb.embed_texts(texts, EmbeddingsSpec(model=OPENAI), BatchOptions(max_batch_chars=1000))
    sizes = [sum(len(t) for t in r.body["input"]) for r in _ok(emu)]
    assert len(sizes) == 3 and max(sizes) <= 1000


def test_dimensions_and_input_type_are_sent_per_call(emu: Any, emb: Embedder) -> None:
    emb.embed_texts(
        ["a query"],
        EmbeddingsSpec(model="embed-v-4-0", input_type="query", dimensions=256),
        BatchOptions(),
    )
    emb.embed_texts(
        ["a doc"],
        EmbeddingsSpec(model="embed-v-4-0", input_type="document", dimensions=256),
        BatchOptions(),
    )
    first, second = (r.body for r in _ok(emu))
    assert (first["input_type"], second["input_type"]) == ("query", "document")
    assert first["dimensions"] == second["dimensions"] == 256


def test_order_is_restored_when_the_server_answers_out_of_order(emu: Any, emb: Embedder) -> None:
    emu.script_raw(
        200,
        {
            "id": "e-1",
            "object": "list",
            "model": OPENAI,
            "data": [
                {"index": 2, "object": "embedding", "embedding": [2.0, 0.0]},
                {"index": 0, "object": "embedding", "embedding": [0.0, 0.0]},
                {"index": 1, "object": "embedding", "embedding": [1.0, 0.0]},
            ],
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
        },
        route="embeddings",
    )
    vectors = emb.embed_texts(["a", "b", "c"], EmbeddingsSpec(model=OPENAI), BatchOptions())
    assert vectors == [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]


def test_batches_finishing_out_of_order_land_in_place(emu: Any, emb: Embedder) -> None:
    # The first request is held back, so later batches finish first.
    emu.inject_fault("delay", times=1, route="embeddings", seconds=0.3)
    spec = EmbeddingsSpec(model=OPENAI)
    texts = TEXTS[:40]
    vectors = emb.embed_texts(texts, spec, BatchOptions(batch_size=5, max_concurrency=8))
    emu.clear()
    reference = emb.embed_texts(texts, spec, BatchOptions(batch_size=40, max_concurrency=1))
    assert all(_cos(a, b) > 0.9999 for a, b in zip(vectors, reference, strict=True))


async def test_async_batches_finishing_out_of_order_land_in_place(emu: Any, emb: Embedder) -> None:
    emu.inject_fault("delay", times=1, route="embeddings", seconds=0.3)
    spec = EmbeddingsSpec(model=OPENAI)
    texts = TEXTS[:40]
    vectors = await emb.aembed_texts(texts, spec, BatchOptions(batch_size=5, max_concurrency=8))
    reference = await emb.aembed_texts(texts, spec, BatchOptions(batch_size=40))
    assert all(_cos(a, b) > 0.9999 for a, b in zip(vectors, reference, strict=True))
    await emb.aclose()


def test_batches_run_concurrently_within_the_bound(emu: Any) -> None:
    emu.configure(latency=0.05)
    probe = InFlight(gate=4)  # the first 4 requests wait until 4 are in flight at once
    emb = Embedder(resolve_settings(emu.endpoint, emu.key, client_kwargs=probe.client_kwargs))
    try:
        emb.embed_texts(
            TEXTS[:16], EmbeddingsSpec(model=OPENAI), BatchOptions(batch_size=2, max_concurrency=4)
        )
    finally:
        emb.close()
    assert probe.peak == 4  # 8 batches, 4 at a time (never more)
    assert len(_ok(emu)) == 8


async def test_async_batches_run_concurrently_within_the_bound(emu: Any) -> None:
    emu.configure(latency=0.2)  # held by the server, so the 4 are in flight together
    probe = InFlight()
    emb = Embedder(resolve_settings(emu.endpoint, emu.key, client_kwargs=probe.client_kwargs))
    await emb.aembed_texts(
        TEXTS[:16], EmbeddingsSpec(model=OPENAI), BatchOptions(batch_size=2, max_concurrency=4)
    )
    await emb.aclose()
    assert 1 < probe.peak <= 4  # concurrent, within the bound
    assert len(_ok(emu)) == 8


def _inject_before(emu: Any, n: int, **fault: Any) -> Any:
    """A raw_request_hook that queues ``fault`` just before the ``n``-th request is sent.

    The fault is in the server's state before that request leaves, so it is consumed by
    exactly one request whatever the thread timing (a hook on the ``n``-th *response* races
    with the requests other workers already sent: under load they were all answered first).
    """
    sent = {"n": 0}
    lock = threading.Lock()

    def hook(request: Any) -> None:
        with lock:
            sent["n"] += 1
            if sent["n"] == n:
                emu.inject_fault(**fault)

    return hook


@pytest.mark.parametrize("concurrency", [1, 4])
def test_429_mid_run_is_retried_without_resending_finished_batches(
    emu: Any, concurrency: int
) -> None:
    hook = _inject_before(emu, 4, kind="status", status=429, retry_after=0, route="embeddings")
    emb = Embedder(
        resolve_settings(
            emu.endpoint,
            emu.key,
            client_kwargs={"raw_request_hook": hook, "retry_backoff_factor": 0.01},
        )
    )
    try:
        texts = TEXTS[:60]
        vectors = emb.embed_texts(
            texts,
            EmbeddingsSpec(model=OPENAI),
            BatchOptions(batch_size=10, max_concurrency=concurrency),
        )
    finally:
        emb.close()
    recorded = emu.requests_for("embeddings")
    assert [r.status for r in recorded].count(429) == 1
    assert len(recorded) == 7  # 6 batches + 1 retry
    ok_inputs = [t for r in recorded if r.status == 200 for t in r.body["input"]]
    assert sorted(ok_inputs) == sorted(texts)  # no batch embedded twice
    assert len(vectors) == 60


async def test_async_429_mid_run_is_retried_without_resending_finished_batches(emu: Any) -> None:
    hook = _inject_before(emu, 4, kind="status", status=429, retry_after=0, route="embeddings")
    emb = Embedder(
        resolve_settings(
            emu.endpoint,
            emu.key,
            client_kwargs={"raw_request_hook": hook, "retry_backoff_factor": 0.01},
        )
    )
    texts = TEXTS[:60]
    vectors = await emb.aembed_texts(
        texts, EmbeddingsSpec(model=OPENAI), BatchOptions(batch_size=10, max_concurrency=4)
    )
    await emb.aclose()
    recorded = emu.requests_for("embeddings")
    assert [r.status for r in recorded].count(429) == 1 and len(recorded) == 7
    assert sorted(t for r in recorded if r.status == 200 for t in r.body["input"]) == sorted(texts)
    assert len(vectors) == 60


def test_a_failing_batch_stops_the_run_and_names_its_positions(emu: Any) -> None:
    hook = _inject_before(emu, 3, kind="status", status=400, times=10, route="embeddings")
    emb = Embedder(
        resolve_settings(emu.endpoint, emu.key, client_kwargs={"raw_request_hook": hook})
    )
    try:
        with pytest.raises(APIStatusError) as info:
            emb.embed_texts(
                TEXTS[:100],
                EmbeddingsSpec(model=OPENAI),
                BatchOptions(batch_size=10, max_concurrency=1),
            )
    finally:
        emb.close()
    assert "while embedding inputs 20..29 of 100" in "\n".join(info.value.__notes__)
    assert len(emu.requests_for("embeddings")) == 3  # nothing sent after the failure


def test_empty_list_makes_no_request(emu: Any, emb: Embedder) -> None:
    assert emb.embed_texts([], EmbeddingsSpec(model=OPENAI), BatchOptions()) == []
    assert asyncio.run(emb.aembed_texts([], EmbeddingsSpec(model=OPENAI), BatchOptions())) == []
    assert emu.requests_for("embeddings") == []


def test_blank_text_is_refused_before_any_request(emu: Any, emb: Embedder) -> None:
    with pytest.raises(EmbeddingInputError, match="input 2 is empty") as info:
        emb.embed_texts(["a", "b", "   "], EmbeddingsSpec(model=OPENAI), BatchOptions())
    assert info.value.position == 2
    assert emu.requests_for("embeddings") == []


def test_oversized_input_is_named_by_position(emu: Any, emb: Embedder) -> None:
    texts = ["short text"] * 5 + ["word " * 2000] + ["short text"] * 5
    with pytest.raises(APIStatusError) as info:
        emb.embed_texts(texts, EmbeddingsSpec(model=COHERE), BatchOptions(batch_size=4))
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "inputs 4..7" in notes
    assert "the service named input 5" in notes  # mapped from the batch's input.1
    # client-side limit: refused before sending, with the exact position
    emu.clear()
    with pytest.raises(EmbeddingInputError, match="input 5 has 10000 characters"):
        emb.embed_texts(texts, EmbeddingsSpec(model=COHERE), BatchOptions(max_input_chars=2000))
    assert emu.requests_for("embeddings") == []


@pytest.mark.parametrize("fmt", ["base64", "int8", "uint8", "binary", "ubinary"])
def test_every_encoding_format_comes_back_as_floats(emu: Any, emb: Embedder, fmt: str) -> None:
    texts = ["the kettle boils water", "shipping takes three days", "the kettle is steel"]
    floats = emb.embed_texts(texts, EmbeddingsSpec(model=COHERE), BatchOptions())
    coded = emb.embed_texts(
        texts, EmbeddingsSpec(model=COHERE, encoding_format=fmt), BatchOptions()
    )
    assert _ok(emu)[-1].body["encoding_format"] == fmt
    assert all(isinstance(x, float) for v in coded for x in v)
    if fmt == "base64":
        assert all(_cos(a, b) > 0.99999 for a, b in zip(coded, floats, strict=True))
    elif fmt in ("int8", "uint8"):
        # quantised: close to the float vectors
        assert all(_cos(a, b) > 0.95 for a, b in zip(coded, floats, strict=True))
    # similarity ranks the same way in every format
    assert _cos(coded[0], coded[2]) > _cos(coded[0], coded[1])
    if fmt in ("binary", "ubinary"):
        assert len(coded[0]) == len(floats[0])


def test_base64_answer_is_decoded_even_when_not_asked_for(emu: Any, emb: Embedder) -> None:
    packed = base64.b64encode(struct.pack("<2f", 0.5, -0.5)).decode()
    emu.script_raw(
        200,
        {
            "object": "list",
            "model": OPENAI,
            "data": [{"index": 0, "object": "embedding", "embedding": packed}],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        },
        route="embeddings",
    )
    assert emb.embed_texts(["x"], EmbeddingsSpec(model=OPENAI), BatchOptions()) == [[0.5, -0.5]]


def test_a_short_answer_is_an_error_not_a_misalignment(emu: Any, emb: Embedder) -> None:
    emu.script_raw(
        200,
        {
            "object": "list",
            "model": OPENAI,
            "data": [{"index": 0, "object": "embedding", "embedding": [1.0]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        },
        route="embeddings",
    )
    # Regression: this was a plain ServiceError ("Expected 2 embeddings...") without positions.
    with pytest.raises(EmbeddingsResponseError, match=r"missing positions: \[1\]") as info:
        emb.embed_texts(["x", "y"], EmbeddingsSpec(model=OPENAI), BatchOptions())
    assert info.value.positions == [1]


def test_a_short_answer_in_a_later_batch_names_the_runs_positions(emu: Any, emb: Embedder) -> None:
    def answer(indexes: list[int]) -> dict[str, Any]:
        data = [{"index": i, "object": "embedding", "embedding": [1.0, 0.0]} for i in indexes]
        return {"object": "list", "model": OPENAI, "data": data, "usage": {"total_tokens": 2}}

    emu.script_raw(200, answer([0, 1]), route="embeddings")
    emu.script_raw(200, answer([1]), route="embeddings")  # input 0 of the second batch missing
    spec = EmbeddingsSpec(model=OPENAI, encoding_format="float")
    with pytest.raises(EmbeddingsResponseError, match="missing positions") as info:
        emb.embed_texts(["a", "b", "c", "d"], spec, BatchOptions(batch_size=2, max_concurrency=1))
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "inputs 2..3 of 4" in notes and "inputs without an embedding: [2]" in notes


def test_input_type_is_dropped_once_for_a_model_that_rejects_it(emu: Any, emb: Embedder) -> None:
    spec = EmbeddingsSpec(model=OPENAI, input_type="document", droppable=frozenset({"input_type"}))
    first = emb.embed_texts(["alpha", "beta"], spec, BatchOptions())
    statuses = [r.status for r in emu.requests_for("embeddings")]
    assert statuses == [422, 200]
    assert "input_type" not in emu.requests_for("embeddings")[1].body
    emb.embed_texts(["gamma"], spec, BatchOptions())  # remembered: no second probe
    assert [r.status for r in emu.requests_for("embeddings")] == [422, 200, 200]
    assert len(first) == 2


def test_input_type_rejection_is_raised_when_fallback_is_off(emu: Any) -> None:
    emb = Embedder(resolve_settings(emu.endpoint, emu.key), drop_rejected=False)
    try:
        spec = EmbeddingsSpec(model=OPENAI, input_type="query", droppable=frozenset({"input_type"}))
        with pytest.raises(UnsupportedParameterError):
            emb.embed_texts(["alpha"], spec, BatchOptions())
    finally:
        emb.close()


def test_progress_bar_counts_inputs(emu: Any, emb: Embedder, capsys: Any) -> None:
    emb.embed_texts(
        TEXTS[:30],
        EmbeddingsSpec(model=OPENAI),
        BatchOptions(batch_size=10, show_progress=True, progress_desc="Embedding"),
    )
    err = capsys.readouterr().err
    assert "Embedding" in err and "30/30" in err


def test_images_route_embeds_paths_and_bytes(emu: Any, emb: Embedder, tmp_path: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"pixels-one"
    other = b"\x89PNG\r\n\x1a\n" + b"pixels-two"
    path = tmp_path / "one.png"
    path.write_bytes(png)
    vectors = emb.embed_images(
        [str(path), other, png], EmbeddingsSpec(model="embed-v-4-0"), BatchOptions(batch_size=2)
    )
    assert len(vectors) == 3
    assert _cos(vectors[0], vectors[2]) > 0.9999  # same bytes, same vector
    assert _cos(vectors[0], vectors[1]) < 0.5
    bodies = [r.body for r in _ok(emu, "images/embeddings")]
    assert [len(b["input"]) for b in bodies] == [2, 1] or sorted(
        len(b["input"]) for b in bodies
    ) == [1, 2]
    assert bodies[0]["input"][0]["image"].startswith("data:image/png;base64,")


def test_a_model_without_input_type_fails_unless_it_is_droppable(emu: Any, emb: Embedder) -> None:
    with pytest.raises(UnsupportedParameterError, match="input_type"):
        emb.embed_texts(["alpha"], EmbeddingsSpec(model=OPENAI, input_type="query"), BatchOptions())


def test_adapter_spec_sends_base64_and_falls_back_when_refused(emu: Any, emb: Embedder) -> None:
    spec = EmbeddingsSpec.for_adapter(
        model=COHERE, dimensions=None, encoding_format=None, input_type="document"
    )
    base = emb.embed_texts(["kettle"], spec, BatchOptions())
    assert _ok(emu)[0].body["encoding_format"] == "base64"
    emu.clear()
    refusal = {
        "error": {
            "code": "Invalid input",
            "status": 422,
            "message": "invalid input error",
            "details": [
                {
                    "type": "literal_error",
                    "loc": ["body", "encoding_format"],
                    "msg": "base64 is not supported by this model",
                    "input": "base64",
                }
            ],
        }
    }
    emu.script_raw(422, refusal, route="embeddings")
    fresh = Embedder(resolve_settings(emu.endpoint, emu.key))
    try:
        again = fresh.embed_texts(["kettle"], spec, BatchOptions())
        fresh.embed_texts(["kettle"], spec, BatchOptions())
    finally:
        fresh.close()
    bodies = [r.body for r in emu.requests_for("embeddings")]
    assert [b.get("encoding_format") for b in bodies] == ["base64", None, None]
    assert max(abs(a - b) for a, b in zip(base[0], again[0], strict=True)) < 1e-6
