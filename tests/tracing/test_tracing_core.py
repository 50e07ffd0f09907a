"""Core clients, every call kind, over HTTP against the emulator: span names, kinds, attributes,
parents and the three GenAI client metrics."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from tracing_support import CHAT_MODEL, EMBED_MODEL, IMAGE_MODEL, Telemetry

from azureinfer import ChatClient, EmbeddingsClient, build_chat_request, build_embeddings_request
from azureinfer.emulator import Emulator

HI = [{"role": "user", "content": "Hello there"}]
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48)
DURATION_BUCKETS += (40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
TOKEN_BUCKETS += (16777216, 67108864)


def _base(emu: Emulator, provider: str, operation: str, model: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": "127.0.0.1",
        "server.port": int(emu.endpoint.rsplit(":", 1)[1].split("/")[0]),
    }


def _chat_expected(emu: Emulator, provider: str, result: Any, **extra: Any) -> dict[str, Any]:
    usage = result.usage
    return {
        **_base(emu, provider, "chat", CHAT_MODEL),
        "gen_ai.response.id": result.id,
        "gen_ai.response.model": "gpt-4o-2024-11-20",
        "gen_ai.response.finish_reasons": (result.finish_reason,),
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens,
        "gen_ai.usage.cache_read.input_tokens": usage.cached_tokens,
        "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
        **extra,
    }


def test_complete_is_one_client_span_with_every_attribute(
    otel: Telemetry, emu: Emulator, provider: str, chat_client: ChatClient
) -> None:
    req = build_chat_request(
        [{"role": "user", "content": "Reply in JSON please"}],
        model=CHAT_MODEL,
        temperature=0.25,
        top_p=0.5,
        max_tokens=40,
        stop=["END", "STOP"],
        frequency_penalty=0.1,
        presence_penalty=0.2,
        seed=7,
        response_format={"type": "json_object"},
    )
    result = chat_client.complete(req)
    span = otel.span()
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.parent is None
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == _chat_expected(
        emu,
        provider,
        result,
        **{
            "gen_ai.request.temperature": 0.25,
            "gen_ai.request.top_p": 0.5,
            "gen_ai.request.max_tokens": 40,
            "gen_ai.request.stop_sequences": ("END", "STOP"),
            "gen_ai.request.frequency_penalty": 0.1,
            "gen_ai.request.presence_penalty": 0.2,
            "gen_ai.request.seed": 7,
            "gen_ai.output.type": "json",
        },
    )
    assert result.usage is not None and result.usage.prompt_tokens > 0


def test_acomplete_span(
    otel: Telemetry, emu: Emulator, provider: str, chat_client: ChatClient
) -> None:
    result = asyncio.run(chat_client.acomplete(build_chat_request(HI, model=CHAT_MODEL)))
    span = otel.span()
    assert (span.name, span.kind) == ("chat gpt-4o", SpanKind.CLIENT)
    assert dict(span.attributes or {}) == _chat_expected(emu, provider, result)


def _ttfc(span: Any) -> float:
    attrs = dict(span.attributes or {})
    value = attrs.pop("gen_ai.response.time_to_first_chunk")
    assert isinstance(value, float) and 0 < value <= (span.end_time - span.start_time) / 1e9
    return value


def test_stream_span_ends_on_exhaustion_with_time_to_first_chunk(
    otel: Telemetry, emu: Emulator, provider: str, chat_client: ChatClient
) -> None:
    stream = chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True))
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        assert otel.spans() == []  # open while chunks arrive
    span = otel.span()
    _ttfc(span)
    attrs = dict(span.attributes or {})
    attrs.pop("gen_ai.response.time_to_first_chunk")
    last = chunks[-1]
    assert attrs == {
        **_base(emu, provider, "chat", CHAT_MODEL),
        "gen_ai.request.stream": True,
        "gen_ai.response.id": last.id,
        "gen_ai.response.model": "gpt-4o-2024-11-20",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": last.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": last.usage.completion_tokens,
        "gen_ai.usage.cache_read.input_tokens": last.usage.cached_tokens,
        "gen_ai.usage.reasoning.output_tokens": last.usage.reasoning_tokens,
    }
    assert span.name == "chat gpt-4o" and span.kind is SpanKind.CLIENT


def test_astream_span(otel: Telemetry, emu: Emulator, chat_client: ChatClient) -> None:
    async def run() -> list[Any]:
        req = build_chat_request(HI, model=CHAT_MODEL, stream=True)
        return [c async for c in chat_client.astream(req)]

    chunks = asyncio.run(run())
    span = otel.span()
    _ttfc(span)
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.id"] == chunks[-1].id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.usage.output_tokens"] == chunks[-1].usage.completion_tokens


def test_cache_read_and_reasoning_tokens_where_reported(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient
) -> None:
    first = [
        {"role": "system", "content": "You know kitchens."},
        {"role": "user", "content": "Tell me about kettles and their many uses"},
    ]
    chat_client.complete(build_chat_request(first, model=CHAT_MODEL))
    follow = [*first, {"role": "assistant", "content": "Kettles boil."}, *HI]
    cached = chat_client.complete(build_chat_request(follow, model=CHAT_MODEL))
    reasoning = chat_client.complete(build_chat_request(HI, model="deepseek-r1"))
    spans = otel.spans()
    assert cached.usage and cached.usage.cached_tokens and cached.usage.cached_tokens > 0
    assert spans[1].attributes["gen_ai.usage.cache_read.input_tokens"] == (
        cached.usage.cached_tokens
    )
    assert reasoning.usage and reasoning.usage.reasoning_tokens
    assert spans[2].name == "chat deepseek-r1"
    assert spans[2].attributes["gen_ai.usage.reasoning.output_tokens"] == (
        reasoning.usage.reasoning_tokens
    )


def test_several_choices_give_their_finish_reasons_and_choice_count(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient
) -> None:
    body = {
        "id": "chatcmpl-two",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-2024-11-20",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "stop"},
            {
                "index": 1,
                "message": {"role": "assistant", "content": "b"},
                "finish_reason": "length",
            },
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    emu.script_raw(200, body)
    chat_client.complete(build_chat_request(HI, model=CHAT_MODEL, model_extras={"n": 2}))
    attrs = otel.span().attributes or {}
    assert attrs["gen_ai.request.choice.count"] == 2
    assert attrs["gen_ai.response.finish_reasons"] == ("stop", "length")
    assert attrs["gen_ai.response.id"] == "chatcmpl-two"
    assert "gen_ai.usage.cache_read.input_tokens" not in attrs  # not reported: not recorded
    assert "gen_ai.usage.reasoning.output_tokens" not in attrs


def test_embed_span_with_encoding_format_and_dimensions(
    otel: Telemetry, emu: Emulator, provider: str, embed_client: EmbeddingsClient
) -> None:
    req = build_embeddings_request(
        ["a", "b"], model=EMBED_MODEL, encoding_format="float", dimensions=1024
    )
    result = embed_client.embed(req)
    span = otel.span()
    assert (span.name, span.kind) == ("embeddings cohere-embed-v3-english", SpanKind.CLIENT)
    assert dict(span.attributes or {}) == {
        **_base(emu, provider, "embeddings", EMBED_MODEL),
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 1024,
        "gen_ai.response.model": result.model,
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
    }
    assert result.model and result.usage and result.usage.prompt_tokens > 0


def test_aembed_span(
    otel: Telemetry, emu: Emulator, provider: str, embed_client: EmbeddingsClient
) -> None:
    result = asyncio.run(embed_client.aembed(build_embeddings_request(["a"], model=EMBED_MODEL)))
    span = otel.span()
    assert span.name == "embeddings cohere-embed-v3-english"
    assert dict(span.attributes or {}) == {
        **_base(emu, provider, "embeddings", EMBED_MODEL),
        "gen_ai.response.model": result.model,
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
    }


def test_image_embeddings_span(
    otel: Telemetry, emu: Emulator, image_client: EmbeddingsClient
) -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    req = build_embeddings_request([{"image": url}], model=IMAGE_MODEL)
    image_client.embed(req)
    asyncio.run(image_client.aembed(req))
    spans = otel.spans()
    assert [s.name for s in spans] == ["embeddings embed-v-4-0"] * 2
    for span in spans:
        assert span.kind is SpanKind.CLIENT
        assert span.attributes["gen_ai.operation.name"] == "embeddings"
        assert span.attributes["gen_ai.usage.input_tokens"] > 0
    assert emu.requests[-1].route == "images/embeddings"


def test_no_model_in_the_request_names_the_span_by_operation(
    otel: Telemetry, emu: Emulator, provider: str, chat_client: ChatClient
) -> None:
    from azureinfer import ConfigurationError

    if provider == "azure.ai.openai":  # the v1 route needs a model: a clear error, traced
        with pytest.raises(ConfigurationError, match="needs `model`"):
            chat_client.complete(build_chat_request(HI))
    else:  # a single-model endpoint answers
        chat_client.complete(build_chat_request(HI))
    span = otel.span()
    assert span.name == "chat"
    assert "gen_ai.request.model" not in (span.attributes or {})
    assert ("error.type" in (span.attributes or {})) is (provider == "azure.ai.openai")


def test_spans_nest_under_the_callers_current_span(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient, embed_client: EmbeddingsClient
) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("app-request") as parent:
        chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
        list(chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True)))
        embed_client.embed(build_embeddings_request(["a"], model=EMBED_MODEL))
        assert trace.get_current_span() is parent  # ours never leak as current
    spans = {s.name: s for s in otel.spans()}
    ours = [s for s in otel.spans() if s.name != "app-request"]
    assert len(ours) == 3
    for span in ours:
        assert span.parent is not None
        assert span.parent.span_id == spans["app-request"].context.span_id
        assert span.context.trace_id == spans["app-request"].context.trace_id


def _hist(otel: Telemetry, name: str) -> dict[tuple[Any, ...], Any]:
    return {tuple(sorted(dict(p.attributes).items())): p for p in otel.points(name)}


def test_metrics_duration_token_usage_and_time_to_first_chunk(
    otel: Telemetry,
    emu: Emulator,
    provider: str,
    chat_client: ChatClient,
    embed_client: EmbeddingsClient,
) -> None:
    done = chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
    streamed = list(chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True)))
    emb = embed_client.embed(build_embeddings_request(["a", "b"], model=EMBED_MODEL))
    chat_attrs = {
        **_base(emu, provider, "chat", CHAT_MODEL),
        "gen_ai.response.model": "gpt-4o-2024-11-20",
    }
    emb_attrs = {
        **_base(emu, provider, "embeddings", EMBED_MODEL),
        "gen_ai.response.model": emb.model,
    }

    durations = _hist(otel, "gen_ai.client.operation.duration")
    assert {k: p.count for k, p in durations.items()} == {
        tuple(sorted(chat_attrs.items())): 2,
        tuple(sorted(emb_attrs.items())): 1,
    }
    for point in durations.values():
        assert tuple(point.explicit_bounds) == DURATION_BUCKETS
        assert point.sum > 0

    tokens = _hist(otel, "gen_ai.client.token.usage")
    key = lambda attrs, kind: tuple(sorted({**attrs, "gen_ai.token.type": kind}.items()))  # noqa: E731
    last = streamed[-1].usage
    assert done.usage and last and emb.usage
    assert tokens[key(chat_attrs, "input")].sum == done.usage.prompt_tokens + last.prompt_tokens
    assert tokens[key(chat_attrs, "output")].sum == (
        done.usage.completion_tokens + last.completion_tokens
    )
    assert tokens[key(emb_attrs, "input")].sum == emb.usage.prompt_tokens
    assert key(emb_attrs, "output") not in tokens
    assert tuple(tokens[key(chat_attrs, "input")].explicit_bounds) == TOKEN_BUCKETS

    ttfc = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert len(ttfc) == 1 and ttfc[0].count == 1  # streams only
    assert dict(ttfc[0].attributes) == chat_attrs
    assert tuple(ttfc[0].explicit_bounds) == DURATION_BUCKETS


@pytest.mark.parametrize("capture", [False, True])
def test_metrics_carry_no_content(
    instrument: Any, emu: Emulator, chat_client: ChatClient, capture: bool
) -> None:
    otel = instrument(capture_content=capture)
    chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
    for name in otel.metric_names():
        for point in otel.points(name):
            assert not any("messages" in k for k in point.attributes)
            assert "Hello there" not in repr(dict(point.attributes))


def test_a_request_that_is_not_a_wire_request_keeps_its_clear_error(
    otel: Telemetry, chat_client: ChatClient, embed_client: EmbeddingsClient
) -> None:
    from azureinfer import ConfigurationError

    with pytest.raises(ConfigurationError, match="Expected a WireRequest"):
        chat_client.complete({"messages": []})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Expected a WireRequest"):
        list(chat_client.stream("hello"))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Expected a WireRequest"):
        embed_client.embed(["a"])  # type: ignore[arg-type]
    spans = otel.spans()
    assert [s.name for s in spans] == ["chat", "chat", "embeddings"]
    assert {s.attributes["error.type"] for s in spans} == {"ConfigurationError"}


def test_concurrent_async_calls_each_get_their_span_under_their_own_parent(
    otel: Telemetry, emu: Emulator, chat_client: ChatClient, embed_client: EmbeddingsClient
) -> None:
    tracer = otel.tracer_provider.get_tracer("app")

    async def one(i: int) -> None:
        with tracer.start_as_current_span(f"task {i}"):
            if i % 2:
                await chat_client.acomplete(build_chat_request(HI, model=CHAT_MODEL))
            else:
                req = build_chat_request(HI, model=CHAT_MODEL, stream=True)
                async for _ in chat_client.astream(req):
                    await asyncio.sleep(0)  # let the other tasks run between chunks
            await embed_client.aembed(build_embeddings_request(["a"], model=EMBED_MODEL))

    async def run() -> None:
        await asyncio.gather(*(one(i) for i in range(12)))

    asyncio.run(run())
    spans = otel.spans()
    parents = {s.context.span_id: s.name for s in spans if s.name.startswith("task ")}
    ours = [s for s in spans if not s.name.startswith("task ")]
    assert len(parents) == 12 and len(ours) == 24
    per_task: dict[str, list[str]] = {}
    for span in ours:
        assert span.parent is not None
        per_task.setdefault(parents[span.parent.span_id], []).append(span.name)
    assert {k: sorted(v) for k, v in per_task.items()} == {
        f"task {i}": ["chat gpt-4o", "embeddings cohere-embed-v3-english"] for i in range(12)
    }
