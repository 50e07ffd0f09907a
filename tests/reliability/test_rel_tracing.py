"""Secrets in OpenTelemetry spans: with azure-core tracing on, no span carries the key.

azure-core's ``DistributedTracingPolicy`` (through ``azure-core-tracing-opentelemetry``) opens a
span per HTTP request of every adapter; names, attributes, events, links and status are searched
for the key, across chat (sync, async, stream), embeddings, retries and a refused key; and
azureinfer.tracing's GenAI spans and metrics (content off and on) carry no key or bearer token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.settings import settings as azure_settings
from llama_index.core.llms import ChatMessage
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rel_support import lc_chat, lc_embed, li_chat, li_embed

from azureinfer import errors
from azureinfer.emulator import Emulator

KEY = "relSECRETtraceKey-5e6f7a8b"
WRONG_KEY = "relWRONGtraceKey-1a2b3c4d"
TOKEN = "relSECRETbearerToken-9f8e7d6c"


class _StaticToken:
    """A TokenCredential handing out one bearer token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, int(time.time()) + 3600)


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the global can be set once per process
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    previous = azure_settings.tracing_implementation()
    azure_settings.tracing_implementation = "opentelemetry"
    try:
        yield exporter
    finally:
        azure_settings.tracing_implementation = previous
        processor.shutdown()  # the exporter drops later spans


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(key=KEY) as emu:
        yield emu


def _render(span: ReadableSpan) -> str:
    return " ".join(
        [
            span.name,
            repr(dict(span.attributes or {})),
            repr([(e.name, dict(e.attributes or {})) for e in span.events]),
            repr([dict(link.attributes or {}) for link in span.links]),
            repr(span.status.description),
            span.to_json(),
        ]
    )


def test_spans_carry_no_key(spans: InMemorySpanExporter, server: Emulator) -> None:
    server.clear()
    spans.clear()
    messages = [ChatMessage(role="user", content="Hello")]
    tracer = trace.get_tracer("rel-tests")
    with tracer.start_as_current_span("rel-root"):
        llm = lc_chat(server, credential=KEY)
        llm.invoke("Hello")
        list(llm.stream("Hello"))
        asyncio.run(llm.ainvoke("Hello"))
        lc_embed(server, credential=KEY).embed_documents(["a", "b"])
        li_chat(server, credential=KEY).chat(messages)
        li_embed(server, credential=KEY).get_text_embedding("a")
        server.inject_fault("status", status=503, retry_after=0)
        llm.invoke("Hello")  # a retried request: two spans
        for bad in (
            lambda: lc_chat(server, credential=WRONG_KEY).invoke("Hello"),
            lambda: li_chat(server, credential=WRONG_KEY).chat(messages),
        ):
            with pytest.raises(errors.AuthenticationError):
                bad()

    finished = spans.get_finished_spans()
    http_spans = [s for s in finished if (s.attributes or {}).get("http.request.method")]
    # One span per HTTP request the server saw: tracing really was on for every call.
    assert len(http_spans) == len(server.requests) >= 10
    statuses = sorted((s.attributes or {}).get("http.response.status_code", 0) for s in http_spans)
    assert 401 in statuses and 503 in statuses
    for span in finished:
        text = _render(span)
        for secret in (KEY, WRONG_KEY):
            assert secret not in text, f"key in span {span.name!r}"


def test_exception_events_carry_no_key(spans: InMemorySpanExporter, server: Emulator) -> None:
    """An error recorded on a user's span (``record_exception``) carries no key either."""
    server.clear()
    spans.clear()
    tracer = trace.get_tracer("rel-tests")
    caught: Any = None
    with tracer.start_as_current_span("rel-user-span") as span:
        try:
            lc_chat(server, credential=WRONG_KEY).invoke("Hello")
        except errors.AuthenticationError as exc:
            caught = exc
            span.record_exception(exc)
    assert caught is not None
    user_span = next(s for s in spans.get_finished_spans() if s.name == "rel-user-span")
    assert user_span.events and user_span.events[0].name == "exception"
    assert WRONG_KEY not in _render(user_span)


@pytest.mark.parametrize("capture_content", [False, True])
def test_genai_spans_and_metrics_carry_no_key(
    spans: InMemorySpanExporter, server: Emulator, capture_content: bool
) -> None:
    """``azureinfer.tracing``'s own spans and metrics, content off and on, with azure-core's
    HTTP spans nested under them: no key in any span, event, attribute or metric point."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from azureinfer.tracing import AzureInferenceInstrumentor

    server.clear()
    spans.clear()
    reader = InMemoryMetricReader()
    instrumentor = AzureInferenceInstrumentor()
    instrumentor.instrument(
        tracer_provider=trace.get_tracer_provider(),
        meter_provider=MeterProvider(metric_readers=[reader]),
        capture_content=capture_content,
    )
    messages = [ChatMessage(role="user", content="Hello")]
    try:
        lc_chat(server, credential=_StaticToken()).invoke("Hello")  # an Entra ID bearer token
        llm = lc_chat(server, credential=KEY)
        llm.invoke("Hello")
        list(llm.stream("Hello"))
        asyncio.run(llm.ainvoke("Hello"))
        lc_embed(server, credential=KEY).embed_documents(["a", "b"])
        li_chat(server, credential=KEY).chat(messages)
        li_embed(server, credential=KEY).get_text_embedding("a")
        server.inject_fault("status", status=503, retry_after=0)
        llm.invoke("Hello")
        for bad in (
            lambda: lc_chat(server, credential=WRONG_KEY).invoke("Hello"),
            lambda: list(lc_chat(server, credential=WRONG_KEY).stream("Hello")),
            lambda: lc_embed(server, credential=WRONG_KEY).embed_query("Hello"),
            lambda: li_chat(server, credential=WRONG_KEY).chat(messages),
        ):
            with pytest.raises(errors.AuthenticationError):
                bad()
    finally:
        instrumentor.uninstrument()
    finished = spans.get_finished_spans()
    genai = [s for s in finished if (s.attributes or {}).get("gen_ai.operation.name")]
    assert len(genai) == 12  # every call traced, errors included
    assert any("gen_ai.input.messages" in (s.attributes or {}) for s in genai) is capture_content
    for span in finished:
        text = _render(span)
        for secret in (KEY, WRONG_KEY, TOKEN):
            assert secret not in text, f"key in span {span.name!r}"
    metrics_json = reader.get_metrics_data().to_json()
    assert "gen_ai.client.operation.duration" in metrics_json
    for secret in (KEY, WRONG_KEY, TOKEN):
        assert secret not in metrics_json
