"""Fault matrix: every injected fault x sync / async / streaming x both adapters (chat, embeddings).

Each cell ends in one of two ways: the right answer after the expected number of attempts
(counted from the emulator's request log), or the documented typed error from
``azureinfer.errors`` after that many attempts. A stream that breaks raises; it never ends
quietly with a partial message (no chunk carrying a finish reason is yielded before the error).
Timeouts are small and retries fast, so the whole matrix runs in seconds and cannot hang. Every
cell runs on both routes (``route_endpoint``: model inference and OpenAI/v1), whose requests are
checked against the route's wire.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from llama_index.core.llms import ChatMessage
from rel_support import MAX_RETRIES, TIMEOUT, lc_chat, lc_embed, li_chat, li_embed

from azureinfer import errors
from azureinfer.emulator import Emulator

PROMPT = "Hello there, how are you today"
REPLY = f"Emulated reply from gpt-4o: {PROMPT}"
ALL = MAX_RETRIES + 1  # attempts when every try fails

Inject = Callable[[Emulator, str], None]


def status(http_status: int, times: int = 1, **params: Any) -> Inject:
    def inject(emu: Emulator, route: str) -> None:
        emu.inject_fault("status", times=times, route=route, status=http_status, **params)

    return inject


def fault(kind: str, times: int = 1, **params: Any) -> Inject:
    def inject(emu: Emulator, route: str) -> None:
        emu.inject_fault(kind, times=times, route=route, **params)

    return inject


def nothing(emu: Emulator, route: str) -> None:
    """Faults carried by the prompt or the adapter's settings need no injection."""


@dataclass(frozen=True)
class Case:
    """One row of the matrix.

    ``outcome``: ``"ok"`` (the full answer), ``"filtered"`` (the answer cut by the output filter,
    flagged ``finish_reason == "content_filter"``) or an error class; ``stream_outcome`` overrides
    it for streaming modes. ``attempts``: requests the emulator must have seen.
    """

    id: str
    inject: Inject
    outcome: str | type[BaseException]
    attempts: int
    stream_outcome: str | type[BaseException] | None = None
    stream_attempts: int | None = None
    prompt: str = PROMPT
    chat_kwargs: dict[str, Any] = field(default_factory=dict)
    embed_kwargs: dict[str, Any] = field(default_factory=dict)
    embeddings: bool = True  # the fault applies to embeddings too
    min_seconds: float = 0.0  # a Retry-After that must have been waited
    max_seconds: float = 4.0  # never a hang


UNSUPPORTED = {"model_kwargs": {"safe_prompt": True}, "extra_parameters": "error"}

CASES = [
    Case("429-retry-after", status(429, retry_after=0.3), "ok", 2, min_seconds=0.3),
    Case("429-retry-after-ms", status(429, retry_after_ms=300), "ok", 2, min_seconds=0.3),
    Case("429-no-retry-after", status(429), "ok", 2),
    Case("429-exhausted", status(429, times=ALL), errors.RateLimitError, ALL),
    Case("429-retry-after-over-budget", status(429, retry_after=30), errors.RateLimitError, 1),
    *[Case(f"{code}-twice", status(code, times=2), "ok", 3) for code in (500, 502, 503, 504)],
    Case("503-exhausted", status(503, times=ALL), errors.ServiceError, ALL),
    Case("reset", fault("reset"), "ok", 2),
    Case("reset-exhausted", fault("reset", times=ALL), errors.APIConnectionError, ALL),
    Case("slower-than-timeout", fault("delay", seconds=TIMEOUT + 0.5), "ok", 2),
    Case(
        "slower-than-timeout-exhausted",
        fault("delay", times=ALL, seconds=TIMEOUT + 0.5),
        errors.APITimeoutError,
        ALL,
    ),
    # Stream-only faults: a non-streamed request is answered normally.
    Case(
        "stream-truncated",
        fault("truncate", n_events=3),
        "ok",
        1,
        stream_outcome=errors.IncompleteStreamError,
        embeddings=False,
    ),
    Case(
        "stream-truncated-connection-dropped",
        fault("truncate", n_events=3, abort=True),
        "ok",
        1,
        stream_outcome=errors.IncompleteStreamError,
        embeddings=False,
    ),
    Case(
        "stream-error-event",
        fault("stream_error", n_events=3),
        "ok",
        1,
        stream_outcome=errors.IncompleteStreamError,
        embeddings=False,
    ),
    Case(
        "malformed-json",
        fault("malformed_json"),
        errors.ServiceError,
        1,
        stream_outcome=errors.IncompleteStreamError,
    ),
    Case(
        "content-filter-400",
        nothing,
        errors.ContentFilterError,
        1,
        prompt="Tell me EMULATOR_FILTER_PROMPT_VIOLENCE now",
    ),
    Case(
        "finish-reason-content-filter",
        nothing,
        "filtered",
        1,
        prompt="Tell me EMULATOR_FILTER_OUTPUT a long story about a cat",
        embeddings=False,
    ),
    Case(
        "422-unsupported-parameter",
        nothing,
        errors.UnsupportedParameterError,
        1,
        chat_kwargs=UNSUPPORTED,
        embed_kwargs={"dimensions": 512},  # Cohere embed v3 has a fixed size
    ),
]
# The embeddings' content-filter 400 comes from the service's error envelope.
EMBED_FILTER = status(400, code="content_filter", message="The input was filtered.")


@dataclass
class Run:
    """What a call produced: the text, the finish reason, chunks, the error."""

    text: str = ""
    finish_reason: str | None = None
    chunks: int = 0
    finish_seen_at: int | None = None
    error: BaseException | None = None


# --------------------------------------------------------------------------------- chat calls
def _lc_run(emu: Emulator, case: Case, mode: str, endpoint: str) -> Run:
    llm = lc_chat(emu, endpoint=endpoint, **case.chat_kwargs)
    run = Run()
    try:
        if mode == "sync":
            msg = llm.invoke(case.prompt)
            run.text, run.finish_reason = (
                str(msg.content),
                msg.response_metadata.get("finish_reason"),
            )
        elif mode == "async":
            msg = asyncio.run(llm.ainvoke(case.prompt))
            run.text, run.finish_reason = (
                str(msg.content),
                msg.response_metadata.get("finish_reason"),
            )
        elif mode == "stream":
            for chunk in llm.stream(case.prompt):
                _lc_chunk(run, chunk)
        else:

            async def consume() -> None:
                async for chunk in llm.astream(case.prompt):
                    _lc_chunk(run, chunk)

            asyncio.run(consume())
    except Exception as exc:
        run.error = exc
    return run


def _lc_chunk(run: Run, chunk: AIMessageChunk) -> None:
    run.chunks += 1
    run.text += str(chunk.content)
    reason = chunk.response_metadata.get("finish_reason")
    if reason:
        run.finish_reason = reason
        run.finish_seen_at = run.chunks


def _li_run(emu: Emulator, case: Case, mode: str, endpoint: str) -> Run:
    llm = li_chat(emu, endpoint=endpoint, **case.chat_kwargs)
    messages = [ChatMessage(role="user", content=case.prompt)]
    run = Run()
    try:
        if mode == "sync":
            resp = llm.chat(messages)
            run.text = resp.message.content or ""
            run.finish_reason = resp.additional_kwargs.get("finish_reason")
        elif mode == "async":
            resp = asyncio.run(llm.achat(messages))
            run.text = resp.message.content or ""
            run.finish_reason = resp.additional_kwargs.get("finish_reason")
        elif mode == "stream":
            for resp in llm.stream_chat(messages):
                _li_chunk(run, resp)
        else:

            async def consume() -> None:
                async for resp in await llm.astream_chat(messages):
                    _li_chunk(run, resp)

            asyncio.run(consume())
    except Exception as exc:
        run.error = exc
    return run


def _li_chunk(run: Run, resp: Any) -> None:
    run.chunks += 1
    run.text += resp.delta or ""
    reason = resp.additional_kwargs.get("finish_reason")
    if reason:
        run.finish_reason = reason
        run.finish_seen_at = run.chunks


CHAT_RUNNERS = {"langchain": _lc_run, "llamaindex": _li_run}
CHAT_MODES = ["sync", "async", "stream", "astream"]


def _check_error(run: Run, expected: type[BaseException]) -> None:
    assert run.error is not None, f"expected {expected.__name__}, got a result: {run.text!r}"
    assert isinstance(run.error, expected), repr(run.error)
    assert isinstance(run.error, errors.AzureInferenceError)
    assert str(run.error)  # a message a person can read


@pytest.mark.parametrize("mode", CHAT_MODES)
@pytest.mark.parametrize("adapter", sorted(CHAT_RUNNERS))
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_chat_fault_cell(
    emu: Emulator, route_endpoint: Any, case: Case, adapter: str, mode: str
) -> None:
    streaming = mode in ("stream", "astream")
    expected = case.stream_outcome if streaming and case.stream_outcome else case.outcome
    attempts = case.stream_attempts if streaming and case.stream_attempts else case.attempts
    case.inject(emu, "chat")

    started = time.monotonic()
    run = CHAT_RUNNERS[adapter](emu, case, mode, route_endpoint.endpoint)
    elapsed = time.monotonic() - started

    assert len(emu.requests_for("chat")) == attempts, [r.status for r in emu.requests]
    assert all(r.stream is streaming for r in emu.requests_for("chat"))
    assert case.min_seconds <= elapsed < case.max_seconds
    if expected == "ok":
        assert run.error is None, repr(run.error)
        assert run.text == REPLY
        assert run.finish_reason == "stop"
    elif expected == "filtered":
        assert run.error is None, repr(run.error)
        # The answer is cut, and says so: it is never presented as a normal completion.
        assert run.finish_reason == "content_filter"
        full = f"Emulated reply from gpt-4o: {case.prompt}"
        assert run.text and full.startswith(run.text) and len(run.text) < len(full)
    else:
        assert isinstance(expected, type)
        _check_error(run, expected)
        # Whatever was streamed before the error is a prefix of the answer, and no chunk
        # claimed the answer was finished.
        assert run.finish_seen_at is None
        assert REPLY.startswith(run.text)
        if isinstance(run.error, errors.IncompleteStreamError) and run.error.partial is not None:
            assert run.error.partial.finish_reason is None
            assert REPLY.startswith(run.error.partial.content)
        if isinstance(run.error, errors.RateLimitError) and case.id.endswith("over-budget"):
            assert run.error.retry_after == 30


# ---------------------------------------------------------------------------- embeddings calls
TEXTS = ["the cat sat on the mat", "a dog in the fog", "azure inference embeddings"]


def _lc_embed_run(emu: Emulator, case: Case, mode: str, endpoint: str) -> Any:
    model = lc_embed(emu, endpoint=endpoint, **case.embed_kwargs)
    if mode == "sync":
        return model.embed_documents(TEXTS)
    return asyncio.run(model.aembed_documents(TEXTS))


def _li_embed_run(emu: Emulator, case: Case, mode: str, endpoint: str) -> Any:
    model = li_embed(emu, endpoint=endpoint, **case.embed_kwargs)
    if mode == "sync":
        return model.get_text_embedding_batch(TEXTS)
    return asyncio.run(model.aget_text_embedding_batch(TEXTS))


EMBED_RUNNERS = {"langchain": _lc_embed_run, "llamaindex": _li_embed_run}
EMBED_CASES = [c for c in CASES if c.embeddings]
for _i, _c in enumerate(EMBED_CASES):
    if _c.id == "content-filter-400":
        EMBED_CASES[_i] = Case(_c.id, EMBED_FILTER, errors.ContentFilterError, 1)
    elif _c.id == "malformed-json":
        EMBED_CASES[_i] = Case(_c.id, _c.inject, errors.ServiceError, 1)


@pytest.fixture(scope="module")
def clean_vectors() -> list[list[float]]:
    with Emulator() as server:
        return lc_embed(server).embed_documents(TEXTS)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("adapter", sorted(EMBED_RUNNERS))
@pytest.mark.parametrize("case", EMBED_CASES, ids=[c.id for c in EMBED_CASES])
def test_embeddings_fault_cell(
    emu: Emulator,
    route_endpoint: Any,
    case: Case,
    adapter: str,
    mode: str,
    clean_vectors: list[list[float]],
) -> None:
    case.inject(emu, "embeddings")
    started = time.monotonic()
    result: Any = None
    error: BaseException | None = None
    try:
        result = EMBED_RUNNERS[adapter](emu, case, mode, route_endpoint.endpoint)
    except Exception as exc:
        error = exc
    elapsed = time.monotonic() - started

    assert len(emu.requests_for("embeddings")) == case.attempts, [r.status for r in emu.requests]
    assert case.min_seconds <= elapsed < case.max_seconds
    if case.outcome == "ok":
        assert error is None, repr(error)
        assert len(result) == len(TEXTS)
        for got, want in zip(result, clean_vectors, strict=True):
            assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(got, want, strict=True))
    else:
        assert isinstance(case.outcome, type)
        assert result is None
        assert isinstance(error, case.outcome), repr(error)
        assert isinstance(error, errors.AzureInferenceError)


# ------------------------------------------------------ aggregated streams (invoke on a stream)
STREAM_FAULTS = [c for c in CASES if c.stream_outcome is errors.IncompleteStreamError]


@pytest.mark.parametrize("case", STREAM_FAULTS, ids=[c.id for c in STREAM_FAULTS])
def test_streamed_invoke_never_returns_a_partial_message(emu: Emulator, case: Case) -> None:
    """``invoke``/``ainvoke`` with ``streaming=True`` (LangChain) and ``complete`` on a stream
    (LlamaIndex ``stream_complete`` joined) aggregate chunks: a broken stream must raise, not
    come back as a shorter message."""
    calls: list[Callable[[], Any]] = [
        lambda: lc_chat(emu, streaming=True).invoke(PROMPT),
        lambda: asyncio.run(lc_chat(emu, streaming=True).ainvoke(PROMPT)),
        lambda: [r.text for r in li_chat(emu).stream_complete(PROMPT)],
    ]
    for call in calls:
        emu.clear()
        case.inject(emu, "chat")
        with pytest.raises(errors.IncompleteStreamError):
            call()
        assert [r.stream for r in emu.requests_for("chat")] == [True]
