"""OpenTelemetry GenAI tracing and metrics for every azureinfer chat and embeddings call.

    from azureinfer.tracing import AzureInferenceInstrumentor

    AzureInferenceInstrumentor().instrument()  # the global providers, content off

Needs the ``tracing`` extra (``pip install "azureinfer[tracing]"``). Registered under the
``opentelemetry_instrumentor`` entry point, so ``opentelemetry-instrument python app.py``
instruments with no code. The library never sets a global provider, creates an exporter or
configures Azure Monitor: spans and metrics go to the providers you pass or have set.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

try:
    from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
        BaseInstrumentor,
    )
except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
    raise ImportError(
        "azureinfer.tracing needs OpenTelemetry: pip install 'azureinfer[tracing]' "
        "(opentelemetry-api, opentelemetry-instrumentation, opentelemetry-semantic-conventions)."
    ) from exc

from azureinfer import _telemetry
from azureinfer._version import __version__
from azureinfer.errors import ConfigurationError

__all__ = ["CAPTURE_CONTENT_ENV_VARS", "AzureInferenceInstrumentor"]

#: Environment variables that turn content capture on: the conventions' and Azure's.
CAPTURE_CONTENT_ENV_VARS = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED",
)
_ON = frozenset({"true", "1", "yes", "on", "span_only", "span_and_event"})
_OFF = frozenset({"", "false", "0", "no", "off", "no_content", "event_only"})


def _env_capture() -> bool:
    on = False
    for name in CAPTURE_CONTENT_ENV_VARS:
        value = os.environ.get(name, "").strip().lower()
        if value in _ON:
            on = True
        elif value not in _OFF:
            raise ConfigurationError(
                f"{name}={os.environ[name]!r} is not understood: set it to 'true' or 'false'."
            )
    return on


class AzureInferenceInstrumentor(BaseInstrumentor):
    """Spans (kind CLIENT, ``chat {model}`` / ``embeddings {model}``) and the GenAI client
    metrics for every call of both frameworks and the core, sync, async and streaming.

    A singleton, as every OpenTelemetry instrumentor: ``instrument()`` twice is a no-op (it logs
    a warning), ``uninstrument()`` stops all recording. Message content is recorded only when
    ``capture_content=True``, or when it is None and one of :data:`CAPTURE_CONTENT_ENV_VARS`
    is ``true``.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        """Nothing beyond azureinfer itself (it instruments its own transport)."""
        return ()

    def instrument(
        self,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        capture_content: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Start tracing; ``None`` providers mean the global ones (whatever is set later).

        Raises:
            ConfigurationError: ``capture_content`` is not a bool or None, or a content
            variable holds something other than true/false.
        """
        if capture_content is not None and not isinstance(capture_content, bool):
            raise ConfigurationError(
                f"capture_content must be True, False or None, got {capture_content!r}"
            )
        return super().instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            capture_content=capture_content,
            **kwargs,
        )

    def _instrument(self, **kwargs: Any) -> None:
        from opentelemetry import metrics, trace
        from opentelemetry.semconv.schemas import Schemas

        from azureinfer.tracing._hook import Telemetry

        capture = kwargs.get("capture_content")
        schema = Schemas.V1_44_0.value
        tracer = trace.get_tracer(
            __name__, __version__, kwargs.get("tracer_provider"), schema_url=schema
        )
        meter = metrics.get_meter(
            __name__, __version__, kwargs.get("meter_provider"), schema_url=schema
        )
        _telemetry.HOOK = Telemetry(tracer, meter, _env_capture() if capture is None else capture)

    def _uninstrument(self, **kwargs: Any) -> None:
        _telemetry.HOOK = None
