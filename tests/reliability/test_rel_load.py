"""Load: many requests through one instance, with rate-limit 429s injected.

Pins: every input gets exactly one result, at its own position (nothing lost, duplicated or
swapped); no ResourceWarning (unclosed sessions or sockets) once the loops are gone; memory does
not grow from one run to the next.
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import tracemalloc
import warnings
from collections import Counter
from typing import Any

from llama_index.core.llms import ChatMessage
from rel_support import lc_chat, lc_embed, li_chat, li_embed

from azureinfer.emulator import Emulator

N_CHAT = 1000
CHAT_CONCURRENCY = 50
N_EMBED = 20_000
# Faults hit whichever requests come next, so under concurrency one call may draw several in a
# row: with as many retries as injected 429s, no interleaving can exhaust a call's retries.


def _prompt(i: int) -> str:
    return f"request number {i} please"


def _reply(i: int) -> str:
    return f"Emulated reply from gpt-4o: {_prompt(i)}"


def _text(i: int) -> str:
    return f"t{i}"  # short and unique: the emulator's hashing stays cheap


# A small output size keeps 20,000 vectors cheap to make, send and compare.
EMBED_KWARGS: dict[str, Any] = {
    "model": "text-embedding-3-small",
    "dimensions": 64,
    "query_input_type": None,
    "document_input_type": None,
}


def _assert_no_resource_warnings(caught: list[warnings.WarningMessage]) -> None:
    gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks[:5]]


def _chat_log_counts(emu: Emulator) -> Counter[int]:
    return Counter(r.status for r in emu.requests_for("chat"))


def test_langchain_1000_chat_requests_concurrency_50_with_429s(emu: Emulator) -> None:
    llm = lc_chat(emu, timeout=10.0, max_retries=100)
    emu.inject_fault("status", times=60, route="chat", status=429, retry_after_ms=5)
    emu.inject_fault("status", times=40, route="chat", status=429)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = asyncio.run(
            llm.abatch(
                [_prompt(i) for i in range(N_CHAT)], config={"max_concurrency": CHAT_CONCURRENCY}
            )
        )
        _assert_no_resource_warnings(caught)

    assert [m.content for m in results] == [_reply(i) for i in range(N_CHAT)]
    counts = _chat_log_counts(emu)
    assert counts == Counter({200: N_CHAT, 429: 100})
    # Each prompt reached the model exactly once with a 200: no lost or duplicated request.
    answered = Counter(
        r.body["messages"][-1]["content"] for r in emu.requests_for("chat") if r.status == 200
    )
    assert answered == Counter(_prompt(i) for i in range(N_CHAT))


def test_llamaindex_1000_chat_requests_concurrency_50_with_429s(emu: Emulator) -> None:
    llm = li_chat(emu, timeout=10.0, max_retries=100)
    emu.inject_fault("status", times=100, route="chat", status=429, retry_after=0)

    async def run() -> list[str]:
        gate = asyncio.Semaphore(CHAT_CONCURRENCY)

        async def one(i: int) -> str:
            async with gate:
                resp = await llm.achat([ChatMessage(role="user", content=_prompt(i))])
                return resp.message.content or ""

        return await asyncio.gather(*(one(i) for i in range(N_CHAT)))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = asyncio.run(run())
        _assert_no_resource_warnings(caught)

    assert results == [_reply(i) for i in range(N_CHAT)]
    assert _chat_log_counts(emu) == Counter({200: N_CHAT, 429: 100})
    answered = Counter(
        r.body["messages"][-1]["content"] for r in emu.requests_for("chat") if r.status == 200
    )
    assert answered == Counter(_prompt(i) for i in range(N_CHAT))


def _check_vectors(emu: Emulator, vectors: list[list[float]], texts: list[str], model: Any) -> None:
    """All vectors present, unit length, and a random sample equal to a clean per-text run."""
    assert len(vectors) == len(texts)
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors[::997])
    sample = random.Random(7).sample(range(len(texts)), 40)
    emu.clear()
    clean = model.embed_documents([texts[i] for i in sample])
    for got_index, want in zip(sample, clean, strict=True):
        got = vectors[got_index]
        assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(got, want, strict=True))


def test_langchain_20000_embedding_inputs_with_429s(emu: Emulator) -> None:
    texts = [_text(i) for i in range(N_EMBED)]
    model = lc_embed(emu, timeout=10.0, max_retries=30, **EMBED_KWARGS)
    emu.inject_fault("status", times=30, route="embeddings", status=429, retry_after_ms=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = model.embed_documents(texts)
        _assert_no_resource_warnings(caught)

    log = emu.requests_for("embeddings")
    ok = [r for r in log if r.status == 200]
    assert Counter(r.status for r in log) == Counter({200: len(ok), 429: 30})
    # Every input was embedded exactly once (a 429'd batch is resent, never duplicated).
    sent = Counter(text for r in ok for text in r.body["input"])
    assert sent == Counter(texts)
    assert len(set(texts)) == N_EMBED
    _check_vectors(emu, vectors, texts, model)


def test_llamaindex_20000_embedding_inputs_async_with_429s(emu: Emulator) -> None:
    texts = [_text(i) for i in range(N_EMBED)]
    li_kwargs = {**EMBED_KWARGS, "model_name": EMBED_KWARGS["model"]}
    del li_kwargs["model"]
    model = li_embed(emu, timeout=10.0, max_retries=30, **li_kwargs)
    emu.inject_fault("status", times=30, route="embeddings", status=429, retry_after=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = asyncio.run(model.aget_text_embedding_batch(texts))
        _assert_no_resource_warnings(caught)

    ok = [r for r in emu.requests_for("embeddings") if r.status == 200]
    assert Counter(text for r in ok for text in r.body["input"]) == Counter(texts)
    _check_vectors(emu, vectors, texts, lc_embed(emu, **EMBED_KWARGS))


def test_memory_is_stable_across_repeated_runs(emu: Emulator) -> None:
    """Run the same mixed workload four times; the traced heap after the last two runs may not
    grow by more than a small bound (caches and clients are reused, nothing accumulates)."""
    chat = lc_chat(emu, timeout=10.0, max_retries=5)
    li = li_chat(emu, timeout=10.0, max_retries=5)
    embed = lc_embed(emu, timeout=10.0, max_retries=5, **EMBED_KWARGS)
    prompts = [_prompt(i) for i in range(50)]
    texts = [_text(i) for i in range(500)]

    def workload() -> None:
        emu.clear()  # the emulator (same process) keeps a request log: forget it each run
        emu.inject_fault("status", times=5, status=429, retry_after=0)
        asyncio.run(chat.abatch(prompts, config={"max_concurrency": 20}))
        for p in prompts[:5]:
            li.chat([ChatMessage(role="user", content=p)])
            chat.invoke(p)
        list(chat.stream(prompts[0]))
        assert len(embed.embed_documents(texts)) == len(texts)
        emu.clear()
        gc.collect()

    workload()  # warm-up: imports, lazy clients, pydantic caches
    tracemalloc.start()
    try:
        sizes = []
        for _ in range(3):
            workload()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    growth = sizes[-1] - sizes[0]
    assert growth < 1_000_000, f"traced heap grew by {growth} bytes over two runs: {sizes}"


def test_langchain_sync_batch_on_threads_with_429s(emu: Emulator) -> None:
    """``batch`` runs calls on threads sharing one sync client: 300 calls, 20 threads."""
    n = 300
    llm = lc_chat(emu, timeout=10.0, max_retries=30)
    emu.inject_fault("status", times=30, route="chat", status=429, retry_after=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = llm.batch([_prompt(i) for i in range(n)], config={"max_concurrency": 20})
        _assert_no_resource_warnings(caught)
    assert [m.content for m in results] == [_reply(i) for i in range(n)]
    assert _chat_log_counts(emu) == Counter({200: n, 429: 30})
