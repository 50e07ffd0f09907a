"""The stream objects `ChatClient.stream` / `astream` return: snapshots while reading, the final
result, and closing the HTTP response early (close, with blocks, dropping the object)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from core_support import HI, TOOL, WHOLE_COMPLETION

from azureinfer import (
    AsyncChatStream,
    ChatClient,
    ChatStream,
    IncompleteStreamError,
    build_chat_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator


@pytest.fixture
def chat(emu: Emulator) -> Any:
    with ChatClient(resolve_settings(emu.endpoint, emu.key)) as c:
        yield c


def _req(**kwargs: Any) -> Any:
    return build_chat_request(HI, model="gpt-4o", stream=True, **kwargs)


def _responses(chat: ChatClient, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The azure-core responses of this client's streams, as the transport received them."""
    seen: list[Any] = []
    real_sync, real_async = chat._post_sync, chat._post_async

    def post_sync(send: Any) -> Any:
        seen.append(real_sync(send))
        return seen[-1]

    async def post_async(send: Any, observed: Any = None) -> Any:
        seen.append(await real_async(send, observed))
        return seen[-1]

    monkeypatch.setattr(chat, "_post_sync", post_sync)
    monkeypatch.setattr(chat, "_post_async", post_async)
    return seen


def _script_tool_reply(emu: Emulator) -> None:
    emu.configure(chunk_size=3)
    emu.script_reply(
        "gpt-4o",
        content="Let me check.",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}],
    )


def _check_snapshot(stream: ChatStream | AsyncChatStream, chunks: list[Any]) -> None:
    snap = stream.snapshot()
    assert snap.content == "".join(c.content for c in chunks)
    assert stream.text_so_far() == (snap.content, snap.reasoning_content or "")
    for call in stream.tool_calls_so_far():
        frags = [f for c in chunks for f in c.tool_call_chunks if f.index == call.index]
        assert call.arguments == "".join(f.arguments for f in frags)
    if chunks[-1].finish_reason is None:
        assert snap.finish_reason is None
        with pytest.raises(RuntimeError, match="has not finished"):
            stream.result()


def test_snapshots_between_chunks_and_the_result_at_the_end(emu: Emulator, chat: Any) -> None:
    _script_tool_reply(emu)
    chunks: list[Any] = []
    stream = chat.stream(_req(tools=[TOOL]))
    assert isinstance(stream, ChatStream)
    for chunk in stream:
        chunks.append(chunk)
        _check_snapshot(stream, chunks)
    result = stream.result()
    assert result.content == "Let me check." and result.finish_reason == "tool_calls"
    assert [c.arguments for c in result.tool_calls] == [{"city": "Paris"}]
    assert result.usage is not None and result.usage == chunks[-1].usage
    assert result == stream.snapshot()


async def test_the_async_twin_snapshots_and_gives_the_result(emu: Emulator, chat: Any) -> None:
    _script_tool_reply(emu)
    chunks: list[Any] = []
    stream = chat.astream(_req(tools=[TOOL]))
    assert isinstance(stream, AsyncChatStream)
    async with stream:
        async for chunk in stream:
            chunks.append(chunk)
            _check_snapshot(stream, chunks)
    assert stream.result().tool_calls[0].arguments == {"city": "Paris"}
    assert stream.result().content == "".join(c.content for c in chunks)


def test_close_closes_the_response_early(
    emu: Emulator, chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = _responses(chat, monkeypatch)
    stream = chat.stream(_req())
    first = next(stream)
    assert not responses[0].is_closed
    stream.close()
    assert responses[0].is_closed
    assert list(stream) == []  # a closed stream has nothing more
    assert stream.snapshot().content == first.content  # what arrived stays readable
    with pytest.raises(RuntimeError, match="has not finished"):
        stream.result()


def test_leaving_a_with_block_or_dropping_the_stream_closes_the_response(
    emu: Emulator, chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = _responses(chat, monkeypatch)
    with chat.stream(_req()) as stream:
        for _ in stream:
            break
    assert responses[0].is_closed
    dropped = chat.stream(_req())
    next(dropped)
    assert not responses[1].is_closed
    del dropped  # no reference cycle: the response is closed at once, no gc.collect() needed
    assert responses[1].is_closed


def test_a_stream_closed_before_it_is_read_sends_nothing(emu: Emulator, chat: Any) -> None:
    with chat.stream(_req()) as stream:
        pass
    assert list(stream) == []
    stream = chat.stream(_req())
    stream.close()
    assert list(stream) == []
    assert emu.requests_for("chat") == []


async def test_aclose_and_async_with_close_the_response_early(
    emu: Emulator, chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = _responses(chat, monkeypatch)
    stream = chat.astream(_req())
    await stream.__anext__()
    assert not responses[0].is_closed
    await stream.aclose()
    assert responses[0].is_closed
    assert [c async for c in stream] == []
    async with chat.astream(_req()) as other:
        async for _ in other:
            break
    assert responses[1].is_closed


def test_an_error_event_ends_the_stream_and_closes_the_response(
    emu: Emulator, chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = _responses(chat, monkeypatch)
    emu.inject_fault("stream_error", n_events=3)
    stream = chat.stream(_req())
    got: list[Any] = []
    with pytest.raises(IncompleteStreamError, match="error event") as info:
        for chunk in stream:
            got.append(chunk)
    assert responses[0].is_closed  # while the stream object is still referenced
    assert (
        info.value.partial.content == stream.snapshot().content == "".join(c.content for c in got)
    )
    with pytest.raises(RuntimeError, match="has not finished"):
        stream.result()


def test_a_service_that_ignores_stream_gives_its_result(emu: Emulator, chat: Any) -> None:
    completion = WHOLE_COMPLETION
    emu.script_raw(200, json.dumps(completion), headers={"Content-Type": "application/json"})
    stream = chat.stream(_req())
    assert [c.content for c in stream] == ["whole"]
    assert stream.result().content == "whole" and stream.result().usage is not None


def test_the_async_stream_works_in_a_second_event_loop(emu: Emulator, chat: Any) -> None:
    async def read() -> tuple[str, str]:
        async with chat.astream(_req()) as stream:
            text = "".join([c.content async for c in stream])
        return text, stream.result().content

    first = asyncio.run(read())
    second = asyncio.run(read())  # the same client, a new loop: a new async client
    assert first[0] == first[1] and second[0] == second[1] and second[0]
