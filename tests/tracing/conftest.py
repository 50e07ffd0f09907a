"""Fixtures of the tracing tests: an instrumentor on this test's own providers, and its readers.

Each test gets its own TracerProvider (in-memory span exporter) and MeterProvider (in-memory
metric reader) passed to ``instrument()``; nothing global is set, and teardown always
uninstruments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azureinfer import ChatClient, EmbeddingsClient, resolve_settings
from azureinfer.emulator import Emulator
from azureinfer.tracing import AzureInferenceInstrumentor

CHAT_MODEL = "gpt-4o"
EMBED_MODEL = "cohere-embed-v3-english"
IMAGE_MODEL = "embed-v-4-0"
#: gen_ai.provider.name of each route.
PROVIDERS = {"model_inference": "azure.ai.inference", "openai_v1": "azure.ai.openai"}
#: Fast retries so exhausted-retry cases cost milliseconds; a small timeout per attempt.
FAST = {"retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "retry_max_wait": 5.0}
RETRIES = 2
#: Per-attempt timeout of the fixtures' clients: far above any answer on a busy machine.
TIMEOUT = 10.0


@dataclass
class Telemetry:
    """What one test's providers received."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    _metrics: dict[str, list[Any]] = field(default_factory=dict)

    def spans(self) -> list[ReadableSpan]:
        """Ended spans, in end order."""
        return list(self.exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        """The one ended span (fails when there are more or none)."""
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def points(self, name: str) -> list[Any]:
        """The data points of metric ``name`` (histograms: count, sum, attributes)."""
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        out.extend(metric.data.data_points)
        return out

    def metric_names(self) -> set[str]:
        data = self.reader.get_metrics_data()
        return {
            m.name
            for rm in (data.resource_metrics if data else [])
            for sm in rm.scope_metrics
            for m in sm.metrics
        }


@pytest.fixture
def emu(azure_inference_emulator: Emulator) -> Emulator:
    """The session emulator, cleared for this test."""
    return azure_inference_emulator


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
