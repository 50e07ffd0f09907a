"""AzureInference: the eight chat/complete entry points end to end against the emulator."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.callbacks import CallbackManager, CBEventType
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.prompts import PromptTemplate

from llamaindex_azureinfer import AzureInference


def _chat_bodies(emu: Any) -> list[dict[str, Any]]:
    return [r.body for r in emu.requests_for("chat")]


def test_chat_returns_reply_usage_finish_reason_and_plain_dict_raw(llm: Any, emu: Any) -> None:
    resp = llm.chat([ChatMessage(role="user", content="hello there")])
    assert resp.message.role == "assistant"
    assert "hello there" in resp.message.content
    assert resp.additional_kwargs["finish_reason"] == "stop"
    usage = resp.additional_kwargs["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert type(resp.raw) is dict and resp.raw["object"] == "chat.completion"
    (body,) = _chat_bodies(emu)
    assert body["messages"] == [{"role": "user", "content": "hello there"}]
    assert body["model"] == "gpt-4o"
    assert "stream" not in body
    # the response message is JSON-serialisable
    json.loads(resp.message.model_dump_json())


def test_constructor_parameters_are_sent(emu: Any) -> None:
    llm = AzureInference(
        endpoint=emu.endpoint,
        credential=emu.key,
        model="gpt-4o",
        temperature=0.0,
        max_tokens=50,
        top_p=0.5,
        seed=0,
        stop=["END"],
        frequency_penalty=0.1,
        presence_penalty=-0.1,
        model_kwargs={"logprobs": False},
    )
    with llm:
        llm.chat([ChatMessage(role="user", content="hi")])
    (req,) = emu.requests_for("chat")
    body = req.body
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 50
    assert body["top_p"] == 0.5
    assert body["seed"] == 0
    assert body["stop"] == ["END"]
    assert body["frequency_penalty"] == 0.1
    assert body["presence_penalty"] == -0.1
    assert body["logprobs"] is False
    assert req.headers["extra-parameters"] == "pass-through"


def test_per_call_kwargs_override_and_unknown_go_to_model_extras(llm: Any, emu: Any) -> None:
    llm.chat([ChatMessage(role="user", content="hi")], temperature=1.5, user="u1")
    (req,) = emu.requests_for("chat")
    assert req.body["temperature"] == 1.5
    assert req.body["user"] == "u1"
    assert req.headers["extra-parameters"] == "pass-through"


def test_complete_sends_one_user_message(llm: Any, emu: Any) -> None:
    resp = llm.complete("complete me", formatted=True)
    assert "complete me" in resp.text
    assert resp.additional_kwargs["finish_reason"] == "stop"
    assert _chat_bodies(emu)[0]["messages"] == [{"role": "user", "content": "complete me"}]


def test_stream_chat_accumulates_and_ends_with_finish_reason_and_usage(llm: Any, emu: Any) -> None:
    chunks = list(llm.stream_chat([ChatMessage(role="user", content="stream this please")]))
    assert len(chunks) > 2
    text = "".join(c.delta or "" for c in chunks)
    assert chunks[-1].message.content == text
    assert "stream this please" in text
    last = chunks[-1]
    assert last.additional_kwargs["finish_reason"] == "stop"
    assert last.additional_kwargs["usage"]["total_tokens"] > 0
    assert all("usage" not in c.additional_kwargs for c in chunks[:-1])
    assert all(type(c.raw) is dict for c in chunks)
    (body,) = _chat_bodies(emu)
    assert body["stream"] is True


def test_stream_complete(llm: Any) -> None:
    chunks = list(llm.stream_complete("stream complete"))
    assert "stream complete" in chunks[-1].text
    assert chunks[-1].text == "".join(c.delta or "" for c in chunks)


async def test_async_entry_points_are_native(emu: Any) -> None:
    llm = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    async with llm:
        r1 = await llm.achat([ChatMessage(role="user", content="a1")])
        r2 = await llm.acomplete("a2")
        chunks = [c async for c in await llm.astream_chat([ChatMessage(role="user", content="a3")])]
        cchunks = [c async for c in await llm.astream_complete("a4")]
    assert "a1" in r1.message.content
    assert "a2" in r2.text
    assert "a3" in chunks[-1].message.content
    assert chunks[-1].additional_kwargs["finish_reason"] == "stop"
    assert "a4" in cchunks[-1].text
    assert [b.get("stream") for b in _chat_bodies(emu)] == [None, None, True, True]


def test_repeated_asyncio_run_on_one_instance(llm: Any) -> None:
    async def one(i: int) -> str:
        resp = await llm.achat([ChatMessage(role="user", content=f"run {i}")])
        return resp.message.content

    for i in range(3):
        assert f"run {i}" in asyncio.run(one(i))


async def test_fifty_concurrent_achat_on_one_instance(emu: Any) -> None:
    llm = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    async with llm:
        replies = await asyncio.gather(
            *(llm.achat([ChatMessage(role="user", content=f"q{i}")]) for i in range(50))
        )
    for i, resp in enumerate(replies):
        assert f"q{i}" in resp.message.content
    assert len(emu.requests_for("chat")) == 50


def test_reasoning_content_becomes_thinking_block_and_thinking_delta(emu: Any) -> None:
    with AzureInference(endpoint=emu.endpoint, credential=emu.key, model="deepseek-r1") as llm:
        resp = llm.chat([ChatMessage(role="user", content="think")])
        chunks = list(llm.stream_chat([ChatMessage(role="user", content="think")]))
    thinking = [b for b in resp.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking and thinking[0].content
    assert resp.additional_kwargs.get("reasoning_tokens", 0) > 0
    deltas = "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks)
    assert deltas == thinking[0].content
    # sending the reply back does not send reasoning (output-only on this API)
    llm2 = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="deepseek-r1")
    with llm2:
        llm2.chat([ChatMessage(role="user", content="a"), resp.message, ChatMessage(content="b")])
    sent = _chat_bodies(emu)[-1]["messages"][1]
    assert sent == {"role": "assistant", "content": resp.message.content}


class _Events(BaseEventHandler):
    names: list[str] = []

    @classmethod
    def class_name(cls) -> str:
        return "_Events"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.names.append(event.class_name())


class _Callbacks(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__([], [])
        self.starts: list[CBEventType] = []
        self.ends: list[CBEventType] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: Any = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        self.starts.append(event_type)
        return event_id

    def on_event_end(
        self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kwargs: Any
    ) -> None:
        self.ends.append(event_type)

    def start_trace(self, trace_id: str | None = None) -> None:
        pass

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        pass


def test_callbacks_and_instrumentation_events_fire(emu: Any) -> None:
    handler = _Events(names=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    cb = _Callbacks()
    try:
        llm = AzureInference(
            endpoint=emu.endpoint,
            credential=emu.key,
            model="gpt-4o",
            callback_manager=CallbackManager([cb]),
        )
        with llm:
            llm.chat([ChatMessage(role="user", content="x")])
            list(llm.stream_chat([ChatMessage(role="user", content="y")]))
            llm.complete("z")
    finally:
        dispatcher.event_handlers.remove(handler)
    names = handler.names
    assert names.count("LLMChatStartEvent") == 2
    assert names.count("LLMChatEndEvent") == 2
    assert "LLMChatInProgressEvent" in names
    assert names.count("LLMCompletionStartEvent") == 1
    assert names.count("LLMCompletionEndEvent") == 1
    assert cb.starts == [CBEventType.LLM] * 3
    assert cb.ends == [CBEventType.LLM] * 3
    # and the payload never needed the network: only chat requests, no GET /info
    assert [r.route for r in emu.requests] == ["chat"] * 3


@pytest.mark.parametrize("model", ["gpt-4o", "mistral-large"])
def test_token_counting_handler_sees_usage_for_chat_and_stream(emu: Any, model: str) -> None:
    from llama_index.core.callbacks import TokenCountingHandler

    counter = TokenCountingHandler()
    llm = AzureInference(
        endpoint=emu.endpoint,
        credential=emu.key,
        model=model,
        callback_manager=CallbackManager([counter]),
    )
    with llm:
        resp = llm.chat([ChatMessage(role="user", content="count my tokens")])
        chunks = list(llm.stream_chat([ChatMessage(role="user", content="count my tokens")]))
    usage = resp.additional_kwargs["usage"]
    assert [e.completion_token_count for e in counter.llm_token_counts] == [
        usage["completion_tokens"],
        chunks[-1].additional_kwargs["completion_tokens"],
    ]
    assert counter.llm_token_counts[0].prompt_token_count == usage["prompt_tokens"]


def test_drop_in_alias_end_to_end(emu: Any) -> None:
    from llamaindex_azureinfer import AzureAICompletionsModel

    llm = AzureAICompletionsModel(
        emu.endpoint,
        emu.key,
        model_name="mistral-large",
        system_prompt="Be brief.",
        model_kwargs={"top_p": 0.9, "safe_prompt": True},
        client_kwargs={"retry_total": 0},
    )
    with llm:
        answer = llm.complete("hello alias")
        predicted = llm.predict(PromptTemplate("say {x}"), x="hi")
    assert "hello alias" in answer.text and "say hi" in predicted
    b1, b2 = (r.body for r in emu.requests_for("chat"))
    assert b1["model"] == "mistral-large" and b1["temperature"] == 0.1
    assert b1["top_p"] == 0.9 and b1["safe_prompt"] is True
    assert b2["messages"][0] == {"role": "system", "content": "Be brief."}


def test_audio_and_image_url_parts_reach_the_service(llm: Any, emu: Any) -> None:
    from llama_index.core.base.llms.types import AudioBlock, ImageBlock, TextBlock

    wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
    msg = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="what do you hear and see?"),
            AudioBlock(audio=wav, format="wav"),
            ImageBlock(url="https://example.com/cat.png"),
        ],
    )
    resp = llm.chat([msg])
    assert resp.message.content
    (req,) = emu.requests_for("chat")
    assert req.status == 200
    kinds = [part["type"] for part in req.body["messages"][0]["content"]]
    assert kinds == ["text", "input_audio", "image_url"]
