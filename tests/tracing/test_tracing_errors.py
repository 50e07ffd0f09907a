"""Error spans for the reliability suite's fault kinds, streams broken or abandoned mid-way, and
retries under the one operation span (azure-core's HTTP spans nest under it)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.settings import settings as azure_settings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tracing_support import CHAT_MODEL, EMBED_MODEL, FAST, RETRIES, Telemetry

from azureinfer import (
    ChatClient,
    EmbeddingsClient,
    IncompleteStreamError,
    build_chat_request,
    build_embeddings_request,
    errors,
    resolve_settings,
)
from azureinfer.emulator import Emulator
from azureinfer.tracing import AzureInferenceInstrumentor

ALL = RETRIES + 1
HI = [{"role": "user", "content": "Hello there, how are you today"}]
FILTERED = [{"role": "user", "content": "Tell me EMULATOR_FILTER_PROMPT_VIOLENCE now"}]
UNSUPPORTED: dict[str, Any] = {"model_extras": {"safe_prompt": True}, "extra_parameters": "error"}


def _status(code: int, times: int = 1) -> Callable[[Emulator], None]:
    return lambda emu: emu.inject_fault("status", times=times, status=code, retry_after=0)


def _fault(kind: str, times: int = 1, **params: Any) -> Callable[[Emulator], None]:
    return lambda emu: emu.inject_fault(kind, times=times, **params)


def _nothing(emu: Emulator) -> None:
    """The fault rides on the request itself."""


# (id, inject, request kwargs, error class, attempts)
CHAT_FAULTS = [
    ("429-exhausted", _status(429, ALL), {}, errors.RateLimitError, ALL),
    ("503-exhausted", _status(503, ALL), {}, errors.ServiceError, ALL),
    ("reset-exhausted", _fault("reset", ALL), {}, errors.APIConnectionError, ALL),
    ("401", _status(401), {}, errors.AuthenticationError, 1),
    ("content-filter-400", _nothing, {"messages": FILTERED}, errors.ContentFilterError, 1),
    ("422-unsupported-parameter", _nothing, UNSUPPORTED, errors.UnsupportedParameterError, 1),
    ("404-model", _nothing, {"model": "no-such-model"}, errors.ModelNotFoundError, 1),
]
MODES = ["sync", "async", "stream", "astream"]


def _chat(client: ChatClient, mode: str, **kwargs: Any) -> Any:
    messages = kwargs.pop("messages", HI)
    model = kwargs.pop("model", CHAT_MODEL)
    req = build_chat_request(messages, model=model, stream=mode.endswith("stream"), **kwargs)
    if mode == "sync":
        return client.complete(req)
    if mode == "async":
        return asyncio.run(client.acomplete(req))
    if mode == "stream":
        return list(client.stream(req))

    async def consume() -> list[Any]:
        return [c async for c in client.astream(req)]

    return asyncio.run(consume())


def _assert_error_span(
    otel: Telemetry, name: str, error: type[BaseException], provider: str
) -> Any:
    span = otel.span()  # exactly one: retries never add operation spans
    assert (span.name, span.kind) == (name, SpanKind.CLIENT)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description.startswith(f"{error.__name__}: ")
    assert span.attributes["error.type"] == error.__name__
    assert span.attributes["gen_ai.provider.name"] == provider
    (point,) = [
        p
        for p in otel.points("gen_ai.client.operation.duration")
        if p.attributes.get("error.type") == error.__name__
    ]
    assert point.count == 1
    return span


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("case", "inject", "kwargs", "error", "attempts"), CHAT_FAULTS)
def test_chat_faults_end_the_span_with_the_typed_error(
    otel: Telemetry,
    emu: Emulator,
    provider: str,
    endpoint: str,
    chat_client: ChatClient,
    mode: str,
    case: str,
    inject: Callable[[Emulator], None],
    kwargs: dict[str, Any],
    error: type[BaseException],
    attempts: int,
) -> None:
    if case == "401":
        settings = resolve_settings(endpoint, "wrong-key")
        chat_client = ChatClient(settings)
    inject(emu)
    with pytest.raises(error):
        _chat(chat_client, mode, **kwargs)
    model = kwargs.get("model", CHAT_MODEL)
    _assert_error_span(otel, f"chat {model}", error, provider)
    assert len(emu.requests_for("chat")) == attempts
    if case == "401":
        emu.clear()  # a refused request is logged without its body: nothing left to wire-check


@pytest.mark.parametrize("mode", ["sync", "stream"])
def test_a_timeout_after_every_retry_is_an_api_timeout_error_span(
    otel: Telemetry, emu: Emulator, provider: str, endpoint: str, mode: str
) -> None:
    # Every attempt is answered after 1 s, three times the timeout: a timeout on any machine.
    settings = resolve_settings(
        endpoint, emu.key, timeout=0.3, max_retries=RETRIES, client_kwargs=FAST
    )
    emu.inject_fault("delay", times=ALL, seconds=1.0)
    try:
        with ChatClient(settings) as client, pytest.raises(errors.APITimeoutError):
            _chat(client, mode)
        _assert_error_span(otel, "chat gpt-4o", errors.APITimeoutError, provider)
    finally:
        time.sleep(1.1)  # the delayed handlers end before the next test scripts anything


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_malformed_json_is_an_error_span(
    otel: Telemetry, emu: Emulator, provider: str, chat_client: ChatClient, mode: str
) -> None:
    emu.inject_fault("malformed_json")
    with pytest.raises(IncompleteStreamError):
        _chat(chat_client, mode)
    _assert_error_span(otel, "chat gpt-4o", IncompleteStreamError, provider)


def test_malformed_json_on_a_complete_is_a_service_error_span(
    otel: Telemetry, emu: Emulator, provider: str, chat_client: ChatClient
) -> None:
    emu.inject_fault("malformed_json")
    with pytest.raises(errors.ServiceError):
        chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
    _assert_error_span(otel, "chat gpt-4o", errors.ServiceError, provider)


EMBED_FAULTS = [
    ("429-exhausted", _status(429, ALL), errors.RateLimitError, ALL),
    ("503-exhausted", _status(503, ALL), errors.ServiceError, ALL),
    ("reset-exhausted", _fault("reset", ALL), errors.APIConnectionError, ALL),
    ("malformed-json", _fault("malformed_json"), errors.ServiceError, 1),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("case", "inject", "error", "attempts"), EMBED_FAULTS)
def test_embeddings_faults_end_the_span_with_the_typed_error(
    otel: Telemetry,
    emu: Emulator,
    provider: str,
    embed_client: EmbeddingsClient,
    mode: str,
    case: str,
    inject: Callable[[Emulator], None],
    error: type[BaseException],
    attempts: int,
) -> None:
    inject(emu)
    req = build_embeddings_request(["a"], model=EMBED_MODEL)
    with pytest.raises(error):
        if mode == "sync":
            embed_client.embed(req)
        else:
            asyncio.run(embed_client.aembed(req))
    _assert_error_span(otel, "embeddings cohere-embed-v3-english", error, provider)
    assert len(emu.requests_for("embeddings")) == attempts


BROKEN = [
    ("truncated", {"kind": "truncate", "n_events": 3}),
    ("connection-dropped", {"kind": "truncate", "n_events": 3, "abort": True}),
    ("error-event", {"kind": "stream_error", "n_events": 3}),
]


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize(("case", "fault"), BROKEN)
def test_a_stream_broken_mid_way_ends_its_span_with_what_arrived(
    otel: Telemetry,
    emu: Emulator,
    provider: str,
    chat_client: ChatClient,
    mode: str,
    case: str,
    fault: dict[str, Any],
) -> None:
    emu.inject_fault(**fault)
    got: list[Any] = []
    req = build_chat_request(HI, model=CHAT_MODEL, stream=True)
    with pytest.raises(IncompleteStreamError) as caught:
        if mode == "stream":
            for chunk in chat_client.stream(req):
                got.append(chunk)
        else:

            async def consume() -> None:
                async for chunk in chat_client.astream(req):
                    got.append(chunk)

            asyncio.run(consume())
    span = _assert_error_span(otel, "chat gpt-4o", IncompleteStreamError, provider)
    assert got, "chunks arrived before the break"
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert span.attributes["gen_ai.response.id"] == caught.value.partial.id
    assert "gen_ai.response.finish_reasons" not in span.attributes


def _three_chunks_then(stream: Iterator[Any]) -> None:
    # Three: on OpenAI/v1 the first chunk may be the prompt filter's, with no id yet.
    for i, _ in enumerate(stream):
        if i == 2:
            break


def test_a_sync_stream_left_by_break_and_dropped_ends_its_span(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient
) -> None:
    stream = chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True))
    _three_chunks_then(stream)
    assert otel.spans() == []  # still open: the caller may come back for more
    del stream
    gc.collect()
    span = otel.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert span.attributes["gen_ai.response.id"].startswith("chatcmpl-")
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_a_closed_sync_stream_ends_its_span(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient
) -> None:
    stream = chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True))
    next(iter(stream))
    stream.close()  # type: ignore[attr-defined]
    assert otel.span().status.status_code is StatusCode.UNSET


def test_an_async_stream_closed_or_abandoned_ends_its_span(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient
) -> None:
    req = build_chat_request(HI, model=CHAT_MODEL, stream=True)
    keep: list[Any] = []

    async def run() -> None:
        closed = chat_client.astream(req)
        await closed.__anext__()
        await closed.aclose()  # type: ignore[attr-defined]
        assert len(otel.spans()) == 1
        abandoned = chat_client.astream(req)
        await abandoned.__anext__()
        del abandoned  # the loop's async-generator finalizer closes it on its next turns
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(otel.spans()) == 2
        left_open = chat_client.astream(req)
        await left_open.__anext__()
        keep.append(left_open)  # still referenced when the loop shuts down

    asyncio.run(run())  # shutdown_asyncgens() closes what is left
    spans = otel.spans()
    assert len(spans) == 3
    assert [s.status.status_code for s in spans[:2]] == [StatusCode.UNSET] * 2
    assert "error.type" not in spans[0].attributes and "error.type" not in spans[1].attributes
    keep.clear()


def test_a_stream_never_iterated_sends_nothing_and_opens_no_span(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient
) -> None:
    stream = chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True))
    del stream
    gc.collect()
    assert otel.spans() == []
    assert emu.requests == []


@pytest.fixture
def global_spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """azure-core's HTTP spans go to the global provider: give it an in-memory exporter."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the global can be set once per process
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    previous = azure_settings.tracing_implementation()
    azure_settings.tracing_implementation = "opentelemetry"
    try:
        yield provider, exporter
    finally:
        azure_settings.tracing_implementation = previous
        processor.shutdown()


@pytest.mark.parametrize("mode", MODES)
def test_retried_attempts_are_azure_core_http_spans_under_the_one_operation_span(
    global_spans: tuple[TracerProvider, InMemorySpanExporter],
    emu: Emulator,
    chat_client: ChatClient,
    mode: str,
) -> None:
    provider, exporter = global_spans
    instrumentor = AzureInferenceInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        emu.inject_fault("status", times=2, status=503, retry_after=0)
        _chat(chat_client, mode)
    finally:
        instrumentor.uninstrument()
    spans = exporter.get_finished_spans()
    (ours,) = [s for s in spans if s.name == "chat gpt-4o"]
    http = [s for s in spans if s is not ours and s.kind is SpanKind.CLIENT]
    assert len(http) == 3  # two 503s and the answer
    for span in http:
        assert span.parent is not None and span.parent.span_id == ours.context.span_id
    assert ours.status.status_code is StatusCode.UNSET
    assert len(emu.requests_for("chat")) == 3
