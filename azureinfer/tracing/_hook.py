"""The OpenTelemetry side of :mod:`azureinfer._telemetry`: spans and metrics per operation.

One CLIENT span per chat or embeddings call (retries inside it), current while the request is
sent so azure-core's HTTP spans (when the user turns them on) nest under it; for a stream the span
(a watcher of the stream object) ends when the stream is exhausted, raises, is closed, or is
garbage-collected. Imported only by ``AzureInferenceInstrumentor.instrument()``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import Token
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as GA
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as GM
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from azureinfer._telemetry import S
from azureinfer.response import ChatResult, EmbeddingsResult, Usage
from azureinfer.tracing import _content
from azureinfer.transport import EmbeddingsClient

T = TypeVar("T")

CHAT = GA.GenAiOperationNameValues.CHAT.value
EMBEDDINGS = GA.GenAiOperationNameValues.EMBEDDINGS.value
MODEL_INFERENCE = GA.GenAiProviderNameValues.AZURE_AI_INFERENCE.value
OPENAI_V1 = GA.GenAiProviderNameValues.AZURE_AI_OPENAI.value

#: The conventions' ExplicitBucketBoundaries for the duration and time-to-first-chunk histograms.
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48]
DURATION_BUCKETS += [40.96, 81.92]
#: ... and for the token usage histogram.
TOKEN_BUCKETS = [4**i for i in range(14)]  # 1, 4, 16, ... 67108864

# Request body key -> span attribute (numbers as sent).
_CHAT_PARAMS = (
    ("temperature", GA.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", GA.GEN_AI_REQUEST_TOP_P),
    ("top_k", GA.GEN_AI_REQUEST_TOP_K),
    ("max_tokens", GA.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", GA.GEN_AI_REQUEST_MAX_TOKENS),
    ("frequency_penalty", GA.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", GA.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", GA.GEN_AI_REQUEST_SEED),
)
_JSON_FORMATS = frozenset({"json_object", "json_schema"})


@lru_cache(maxsize=64)
def _server(endpoint: str) -> tuple[str | None, int | None]:
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.hostname, port


def provider_name(client: Any) -> str:
    """``azure.ai.openai`` for a client on the Foundry ``/openai/v1`` route, else
    ``azure.ai.inference`` (the model-inference route)."""
    route = getattr(client.settings, "route", None)  # resolved once by the settings
    return OPENAI_V1 if route == "openai_v1" else MODEL_INFERENCE


def error_type(exc: BaseException) -> str:
    """The typed error's class name (``RateLimitError``); a foreign one fully qualified."""
    cls = type(exc)
    module = cls.__module__
    if module == "builtins" or module.startswith("azureinfer"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chat_request_attributes(body: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    """The request parameters the conventions name, from a chat body."""
    for key, name in _CHAT_PARAMS:
        value = body.get(key)
        if _number(value):
            attrs[name] = value
    stop = body.get("stop")
    if isinstance(stop, str):
        attrs[GA.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, list) and stop:
        attrs[GA.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stop]
    n = body.get("n")
    if _number(n) and n != 1:
        attrs[GA.GEN_AI_REQUEST_CHOICE_COUNT] = n
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind in _JSON_FORMATS:
        attrs[GA.GEN_AI_OUTPUT_TYPE] = GA.GenAiOutputTypeValues.JSON.value
    elif kind == "text":
        attrs[GA.GEN_AI_OUTPUT_TYPE] = GA.GenAiOutputTypeValues.TEXT.value


def embeddings_request_attributes(body: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    """Encoding format and dimension count, from an embeddings body."""
    fmt = body.get("encoding_format")
    if isinstance(fmt, str):
        attrs[GA.GEN_AI_REQUEST_ENCODING_FORMATS] = [fmt]
    dims = body.get("dimensions")
    if _number(dims):
        attrs[GA.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dims


def _usage_attributes(usage: Usage | None, attrs: dict[str, Any], chat: bool) -> None:
    if usage is None:
        return
    attrs[GA.GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_tokens
    if chat:
        attrs[GA.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completion_tokens
    if usage.cached_tokens is not None:
        attrs[GA.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cached_tokens
    if usage.reasoning_tokens is not None:
        attrs[GA.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens


def _finish_reasons(result: ChatResult) -> list[str]:
    reasons = [result.finish_reason] if result.finish_reason else []
    for choice in result.extras.get("choices") or []:
        if isinstance(choice, Mapping) and isinstance(choice.get("finish_reason"), str):
            reasons.append(choice["finish_reason"])
    return reasons


class Operation:
    """One traced call: its span, start time and metric attributes; ends once.

    As a context manager, the span is current inside the block, and the operation fails with
    whatever the block raises. A stream's operation is its ``StreamWatcher``: current from when
    the stream sends its request until its first chunk (azure-core's HTTP spans nest under it),
    ended with whatever the stream ends with."""

    __slots__ = (
        "chat",
        "context",
        "metric_attrs",
        "over",
        "span",
        "start",
        "telemetry",
        "token",
        "ttfc",
    )

    def __init__(self, telemetry: Telemetry, client: Any, req: Any, stream: bool) -> None:
        chat = not isinstance(client, EmbeddingsClient)
        raw = getattr(req, "body", None)  # not a WireRequest: the call itself raises, traced
        body: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        operation = CHAT if chat else EMBEDDINGS
        model = body.get("model")
        address, port = _server(client.settings.endpoint)
        attrs: dict[str, Any] = {
            GA.GEN_AI_OPERATION_NAME: operation,
            GA.GEN_AI_PROVIDER_NAME: provider_name(client),
        }
        if isinstance(model, str) and model:
            attrs[GA.GEN_AI_REQUEST_MODEL] = model
        if address:
            attrs[SERVER_ADDRESS] = address
        if port is not None:
            attrs[SERVER_PORT] = port
        self.metric_attrs = dict(attrs)
        if chat:
            chat_request_attributes(body, attrs)
            if stream:
                attrs[GA.GEN_AI_REQUEST_STREAM] = True
            if telemetry.capture_content:
                _content_request_attributes(body, attrs)
        else:
            embeddings_request_attributes(body, attrs)
        name = f"{operation} {model}" if isinstance(model, str) and model else operation
        self.telemetry = telemetry
        self.chat = chat
        self.span = telemetry.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attrs)
        self.context = trace.set_span_in_context(self.span)
        self.start = time.perf_counter()
        self.over = False
        self.ttfc: float | None = None
        self.token: Token[Context] | None = None

    def attach(self) -> Operation:
        """Make the span current (until :meth:`detach`)."""
        self.token = otel_context.attach(self.context)
        return self

    def detach(self) -> None:
        if self.token is not None:
            otel_context.detach(self.token)
            self.token = None

    def __enter__(self) -> Operation:
        return self.attach()

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.fail(exc)
        self.detach()

    # -- outcomes ---------------------------------------------------------------------------
    def first_chunk(self) -> None:
        """The stream's first chunk arrived: no longer current; time to first chunk (the
        attribute now, the metric when the operation ends, with the response model known)."""
        self.detach()
        self.ttfc = time.perf_counter() - self.start
        self.span.set_attribute(GA.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, self.ttfc)

    def succeed(self, result: Any) -> None:
        """End with the result's response attributes, usage and (opted in) output messages."""
        if self.over:
            return
        self._response(result)
        self._end(None)

    def ended(self, result: ChatResult | None, error: BaseException | None) -> None:
        """The stream ended (``StreamWatcher.ended``): with ``result``, or failed with ``error``."""
        self.detach()
        if error is None:
            self.succeed(result)
        else:
            self.fail(error)

    def fail(self, exc: BaseException, partial: Any = None) -> None:
        """End with ``error.type`` and ERROR status; ``partial`` is what arrived of a stream."""
        if self.over:
            return
        if partial is None:
            partial = getattr(exc, "partial", None)
        if isinstance(partial, ChatResult):
            self._response(partial)
        kind = error_type(exc)
        self.span.set_attribute(ERROR_TYPE, kind)
        self.span.set_status(Status(StatusCode.ERROR, f"{kind}: {exc}"[:500]))
        self._end(kind)

    def _response(self, result: Any) -> None:
        attrs: dict[str, Any] = {}  # set at once: one lock and one validation pass in the SDK
        if isinstance(result, ChatResult):
            if result.id:
                attrs[GA.GEN_AI_RESPONSE_ID] = result.id
            reasons = _finish_reasons(result)
            if reasons:
                attrs[GA.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
            if self.telemetry.capture_content:
                attrs[GA.GEN_AI_OUTPUT_MESSAGES] = _content.output_messages(result)
        if isinstance(result, (ChatResult, EmbeddingsResult)):
            if result.model:
                attrs[GA.GEN_AI_RESPONSE_MODEL] = result.model
                self.metric_attrs[GA.GEN_AI_RESPONSE_MODEL] = result.model
            _usage_attributes(result.usage, attrs, self.chat)
            self._record_tokens(result.usage)
        if attrs:
            self.span.set_attributes(attrs)

    def _record_tokens(self, usage: Usage | None) -> None:
        if usage is None:
            return
        tokens = self.telemetry.token_usage
        tokens.record(
            usage.prompt_tokens,
            {**self.metric_attrs, GA.GEN_AI_TOKEN_TYPE: GA.GenAiTokenTypeValues.INPUT.value},
        )
        if self.chat:
            tokens.record(
                usage.completion_tokens,
                {**self.metric_attrs, GA.GEN_AI_TOKEN_TYPE: GA.GenAiTokenTypeValues.OUTPUT.value},
            )

    def _end(self, kind: str | None) -> None:
        self.over = True
        attrs = self.metric_attrs if kind is None else {**self.metric_attrs, ERROR_TYPE: kind}
        self.telemetry.duration.record(time.perf_counter() - self.start, attrs)
        if self.ttfc is not None:  # recorded at the end, with the response model known
            self.telemetry.time_to_first_chunk.record(self.ttfc, self.metric_attrs)
        self.span.end()


def _content_request_attributes(body: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    messages = _content.input_messages(body)
    if messages is not None:
        attrs[GA.GEN_AI_INPUT_MESSAGES] = messages
    tools = _content.tool_definitions(body)
    if tools is not None:
        attrs[GA.GEN_AI_TOOL_DEFINITIONS] = tools


class Telemetry:
    """The active hook: a tracer, three histograms and the content setting."""

    def __init__(self, tracer: Tracer, meter: Meter, capture_content: bool) -> None:
        self.tracer = tracer
        self.capture_content = capture_content
        self.duration = meter.create_histogram(
            GM.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            GM.GEN_AI_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            GM.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streaming response.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    def call(self, client: Any, req: Any, fn: Callable[..., T], *args: Any) -> T:
        with Operation(self, client, req, False) as op:
            result = fn(*args)
        op.succeed(result)
        return result

    async def acall(self, client: Any, req: Any, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        with Operation(self, client, req, False) as op:
            result = await fn(*args)
        op.succeed(result)
        return result

    def stream(self, client: Any, req: Any, stream: S) -> S:
        return stream._watch(lambda: Operation(self, client, req, True).attach())
