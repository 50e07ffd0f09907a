"""Fixtures of the tracing tests: an instrumentor on this test's own providers, and its readers.

Each test gets its own TracerProvider (in-memory span exporter) and MeterProvider (in-memory
metric reader) passed to ``instrument()``; nothing global is set, and teardown always
uninstruments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tracing_support import FAST, PROVIDERS, RETRIES, TIMEOUT, Telemetry

from azureinfer import ChatClient, EmbeddingsClient, resolve_settings
from azureinfer.emulator import Emulator
from azureinfer.tracing import AzureInferenceInstrumentor


@pytest.fixture
def instrument() -> Iterator[Callable[..., Telemetry]]:
    """``instrument(capture_content=None)``: instrument on fresh in-memory providers."""
    instrumentor = AzureInferenceInstrumentor()

    def start(**kwargs: Any) -> Telemetry:
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader])
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, **kwargs
        )
        return Telemetry(exporter, reader, tracer_provider, meter_provider)

    try:
        yield start
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def otel(instrument: Callable[..., Telemetry]) -> Telemetry:
    """Instrumented with the defaults (content off)."""
    return instrument()


@pytest.fixture
def endpoint(route_endpoint: Any) -> str:
    """The emulator's endpoint of this test's route (each test using it runs on both)."""
    return str(route_endpoint.endpoint)


@pytest.fixture
def provider(route_endpoint: Any) -> str:
    """The ``gen_ai.provider.name`` expected on this test's route."""
    return PROVIDERS[route_endpoint.route]


@pytest.fixture
def chat_client(emu: Emulator, endpoint: str) -> Iterator[ChatClient]:
    """A core ChatClient on the emulator, on each route."""
    settings = resolve_settings(
        endpoint, emu.key, timeout=TIMEOUT, max_retries=RETRIES, client_kwargs=FAST
    )
    with ChatClient(settings) as client:
        yield client


@pytest.fixture
def embed_client(emu: Emulator, endpoint: str) -> Iterator[EmbeddingsClient]:
    """A core EmbeddingsClient on the emulator's /embeddings, on each route."""
    settings = resolve_settings(
        endpoint, emu.key, timeout=TIMEOUT, max_retries=RETRIES, client_kwargs=FAST
    )
    with EmbeddingsClient(settings) as client:
        yield client


@pytest.fixture
def image_client(emu: Emulator) -> Iterator[EmbeddingsClient]:
    """A core EmbeddingsClient on the emulator's /images/embeddings (the model-inference route
    only: OpenAI/v1 has no image embeddings)."""
    with EmbeddingsClient(resolve_settings(emu.endpoint, emu.key), "images/embeddings") as c:
        yield c
