"""Shared names of the tracing tests (a uniquely named module: ``conftest`` is not importable
by name when several test folders are collected together)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
