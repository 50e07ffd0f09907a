"""LangChain and LlamaIndex get the core's spans for every call kind, nested under the caller's
span, with no setup beyond ``instrument()``."""

from __future__ import annotations

import asyncio
import gc
import io
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from opentelemetry.trace import SpanKind, StatusCode
from tracing_support import CHAT_MODEL, EMBED_MODEL, IMAGE_MODEL, Telemetry

from azureinfer import errors
from azureinfer.emulator import Emulator
from langchain_azureinfer import AzureInferenceEmbeddings, ChatAzureInference
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"
MESSAGES = [ChatMessage(role="user", content="Hello there")]


def _conn(emu: Emulator, endpoint: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "credential": emu.key, "max_retries": 0}


async def _drain(agen: Any) -> list[Any]:
    return [item async for item in agen]


def lc_calls(emu: Emulator, endpoint: str) -> dict[str, Callable[[], Any]]:
    llm = ChatAzureInference(model=CHAT_MODEL, **_conn(emu, endpoint))
    emb = AzureInferenceEmbeddings(model=EMBED_MODEL, **_conn(emu, endpoint))
    img = AzureInferenceEmbeddings(model=IMAGE_MODEL, **_conn(emu, endpoint))
    return {
        "invoke": lambda: llm.invoke("Hello there"),
        "ainvoke": lambda: asyncio.run(llm.ainvoke("Hello there")),
        "stream": lambda: list(llm.stream("Hello there")),
        "astream": lambda: asyncio.run(_drain(llm.astream("Hello there"))),
        "embed_documents": lambda: emb.embed_documents(["a", "b"]),
        "aembed_documents": lambda: asyncio.run(emb.aembed_documents(["a", "b"])),
        "embed_query": lambda: emb.embed_query("a"),
        "embed_images": lambda: img.embed_images([PNG]),
    }


def li_calls(emu: Emulator, endpoint: str) -> dict[str, Callable[[], Any]]:
    llm = AzureInference(model=CHAT_MODEL, **_conn(emu, endpoint))
    emb = AzureInferenceEmbedding(model_name=EMBED_MODEL, **_conn(emu, endpoint))
    img = AzureInferenceEmbedding(model_name=IMAGE_MODEL, **_conn(emu, endpoint))

    async def astream_chat() -> list[Any]:
        return await _drain(await llm.astream_chat(MESSAGES))

    return {
        "chat": lambda: llm.chat(MESSAGES),
        "achat": lambda: asyncio.run(llm.achat(MESSAGES)),
        "stream_chat": lambda: list(llm.stream_chat(MESSAGES)),
        "astream_chat": lambda: asyncio.run(astream_chat()),
        "complete": lambda: llm.complete("Hello there"),
        "get_text_embedding": lambda: emb.get_text_embedding("a"),
        "aget_text_embedding": lambda: asyncio.run(emb.aget_text_embedding("a")),
        "get_image_embedding": lambda: img.get_image_embedding(io.BytesIO(PNG)),
    }


EXPECTED = {
    "invoke": ("chat gpt-4o", False),
    "ainvoke": ("chat gpt-4o", False),
    "stream": ("chat gpt-4o", True),
    "astream": ("chat gpt-4o", True),
    "embed_documents": ("embeddings cohere-embed-v3-english", None),
    "aembed_documents": ("embeddings cohere-embed-v3-english", None),
    "embed_query": ("embeddings cohere-embed-v3-english", None),
    "embed_images": ("embeddings embed-v-4-0", None),
    "chat": ("chat gpt-4o", False),
    "achat": ("chat gpt-4o", False),
    "stream_chat": ("chat gpt-4o", True),
    "astream_chat": ("chat gpt-4o", True),
    "complete": ("chat gpt-4o", False),
    "get_text_embedding": ("embeddings cohere-embed-v3-english", None),
    "aget_text_embedding": ("embeddings cohere-embed-v3-english", None),
    "get_image_embedding": ("embeddings embed-v-4-0", None),
}
IMAGES = {"embed_images", "get_image_embedding"}  # model-inference route only
CALLS = [("langchain", name) for name in list(EXPECTED)[:8] if name not in IMAGES]
CALLS += [("llamaindex", name) for name in list(EXPECTED)[8:] if name not in IMAGES]
IMAGE_CALLS = [("langchain", "embed_images"), ("llamaindex", "get_image_embedding")]


@pytest.mark.parametrize(("framework", "call"), CALLS)
def test_every_framework_call_is_one_span_under_the_callers_span(
    otel: Telemetry, emu: Emulator, endpoint: str, provider: str, framework: str, call: str
) -> None:
    _check_call(otel, emu, endpoint, provider, framework, call)


@pytest.mark.parametrize("route_endpoint", ["model_inference"], indirect=True)
@pytest.mark.parametrize(("framework", "call"), IMAGE_CALLS)
def test_image_embeddings_of_both_frameworks_are_spans(
    otel: Telemetry, emu: Emulator, endpoint: str, provider: str, framework: str, call: str
) -> None:
    _check_call(otel, emu, endpoint, provider, framework, call)


def _check_call(
    otel: Telemetry, emu: Emulator, endpoint: str, provider: str, framework: str, call: str
) -> None:
    calls = lc_calls(emu, endpoint) if framework == "langchain" else li_calls(emu, endpoint)
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span(f"app {call}"):
        calls[call]()
    name, stream = EXPECTED[call]
    ours = [s for s in otel.spans() if not s.name.startswith("app ")]
    (parent,) = [s for s in otel.spans() if s.name.startswith("app ")]
    assert [s.name for s in ours] == [name]
    span = ours[0]
    assert span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == parent.context.span_id
    assert span.status.status_code is StatusCode.UNSET
    attrs = span.attributes or {}
    assert attrs["gen_ai.provider.name"] == provider
    assert attrs["gen_ai.request.model"] == name.split(" ", 1)[1]
    assert attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs.get("gen_ai.request.stream") is (True if stream else None)
    if stream is not None:
        assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
        assert attrs["gen_ai.usage.output_tokens"] > 0
        assert ("gen_ai.response.time_to_first_chunk" in attrs) is stream
    assert otel.points("gen_ai.client.operation.duration")[0].count == 1


def test_langchain_request_parameters_reach_the_span(
    otel: Telemetry, emu: Emulator, endpoint: str
) -> None:
    llm = ChatAzureInference(
        model=CHAT_MODEL, temperature=0.3, max_tokens=50, top_p=0.9, seed=3, **_conn(emu, endpoint)
    )
    llm.invoke("Hello", stop=["END"])
    attrs = otel.span().attributes or {}
    assert attrs["gen_ai.request.temperature"] == 0.3
    assert attrs["gen_ai.request.max_tokens"] == 50
    assert attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.seed"] == 3
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)


def test_langchain_stream_left_by_break_ends_its_span(
    otel: Telemetry, emu: Emulator, endpoint: str
) -> None:
    llm = ChatAzureInference(model=CHAT_MODEL, **_conn(emu, endpoint))
    stream = llm.stream("Hello there, how are you today")
    for _ in stream:
        break
    del stream
    gc.collect()
    span = otel.span()
    assert span.status.status_code is StatusCode.UNSET


def test_llamaindex_stream_left_by_break_ends_its_span(
    otel: Telemetry, emu: Emulator, endpoint: str
) -> None:
    llm = AzureInference(model=CHAT_MODEL, **_conn(emu, endpoint))
    stream = llm.stream_chat(MESSAGES)
    for _ in stream:
        break
    del stream
    gc.collect()
    assert otel.span().status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_framework_error_spans_carry_the_typed_error(
    otel: Telemetry, emu: Emulator, endpoint: str, framework: str
) -> None:
    emu.inject_fault("status", status=429, retry_after=0)
    emu.inject_fault("truncate", n_events=3)
    if framework == "langchain":
        llm: Any = ChatAzureInference(model=CHAT_MODEL, **_conn(emu, endpoint))
        with pytest.raises(errors.RateLimitError):
            llm.invoke("Hello")
        with pytest.raises(errors.IncompleteStreamError):
            list(llm.stream("Hello there, how are you today"))
    else:
        llm = AzureInference(model=CHAT_MODEL, **_conn(emu, endpoint))
        with pytest.raises(errors.RateLimitError):
            llm.chat(MESSAGES)
        with pytest.raises(errors.IncompleteStreamError):
            list(llm.stream_chat([ChatMessage(role="user", content="Hello there, how are you")]))
    first, second = otel.spans()
    assert first.attributes["error.type"] == "RateLimitError"
    assert second.attributes["error.type"] == "IncompleteStreamError"
    assert {first.status.status_code, second.status.status_code} == {StatusCode.ERROR}
