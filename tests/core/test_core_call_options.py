"""Per-call options (timeout, max_retries) and stream snapshots, end to end against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_support import HI, TOOL

from azureinfer import (
    APITimeoutError,
    ChatClient,
    ConfigurationError,
    EmbeddingsClient,
    ServiceError,
    build_chat_request,
    build_embeddings_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator

FAST = {"retry_backoff_factor": 0.001, "retry_backoff_max": 0.01}


def client(emu: Emulator, *, max_retries: int = 3, timeout: float | None = None) -> ChatClient:
    settings = resolve_settings(
        emu.endpoint, emu.key, max_retries=max_retries, timeout=timeout, client_kwargs=FAST
    )
    return ChatClient(settings)


def req(stream: bool = False) -> Any:
    return build_chat_request(HI, model="gpt-4o", stream=stream)


def test_per_call_timeout_gives_the_typed_error_after_the_expected_attempts(
    slow_answers: Any, emu_on_route: Emulator
) -> None:
    with client(emu_on_route) as c:
        slow_answers(2)
        with pytest.raises(APITimeoutError):
            c.complete(req(), timeout=0.25, max_retries=1)
        assert len(emu_on_route.requests_for("chat")) == 2  # one retry, then the typed error
        # The client's own settings (no timeout) are untouched: a slow answer is awaited.
        emu_on_route.clear()
        emu_on_route.inject_fault("delay", times=1, seconds=0.5)
        assert c.complete(req()).content
        assert len(emu_on_route.requests_for("chat")) == 1


def test_per_call_max_retries_overrides_the_settings_both_ways(emu_on_route: Emulator) -> None:
    with client(emu_on_route, max_retries=3) as c:
        emu_on_route.inject_fault("status", times=1, status=503)
        with pytest.raises(ServiceError) as info:
            c.complete(req(), max_retries=0)
        assert info.value.status_code == 503
        assert len(emu_on_route.requests_for("chat")) == 1
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=1, status=503)
        assert c.complete(req()).content  # the settings' 3 retries still apply
        assert len(emu_on_route.requests_for("chat")) == 2
    with client(emu_on_route, max_retries=0) as c:
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=2, status=503)
        assert c.complete(req(), max_retries=2).content
        assert len(emu_on_route.requests_for("chat")) == 3


def test_per_call_options_on_streams(slow_answers: Any, emu_on_route: Emulator) -> None:
    with client(emu_on_route) as c:
        slow_answers(1)
        with pytest.raises(APITimeoutError):
            list(c.stream(req(stream=True), timeout=0.25, max_retries=0))
        assert len(emu_on_route.requests_for("chat")) == 1
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=1, status=503)
        with pytest.raises(ServiceError):
            list(c.stream(req(stream=True), max_retries=0))
        assert len(emu_on_route.requests_for("chat")) == 1


async def test_per_call_options_async(slow_answers: Any, emu_on_route: Emulator) -> None:
    async with client(emu_on_route) as c:
        slow_answers(2)
        with pytest.raises(APITimeoutError):
            await c.acomplete(req(), timeout=0.25, max_retries=1)
        assert len(emu_on_route.requests_for("chat")) == 2
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=1, status=503)
        with pytest.raises(ServiceError):
            [chunk async for chunk in c.astream(req(stream=True), max_retries=0)]
        assert len(emu_on_route.requests_for("chat")) == 1
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=2, status=503)
        chunks = [chunk async for chunk in c.astream(req(stream=True), timeout=30, max_retries=2)]
        assert chunks[-1].finish_reason == "stop"
        assert len(emu_on_route.requests_for("chat")) == 3


def test_per_call_options_on_embeddings(emu_on_route: Emulator) -> None:
    settings = resolve_settings(emu_on_route.endpoint, emu_on_route.key, client_kwargs=FAST)
    request = build_embeddings_request(["a", "b"], model="text-embedding-3-small")
    with EmbeddingsClient(settings) as c:
        emu_on_route.inject_fault("status", times=1, status=503, route="embeddings")
        with pytest.raises(ServiceError):
            c.embed(request, max_retries=0)
        assert len(emu_on_route.requests_for("embeddings")) == 1
        assert len(c.embed(request, timeout=30).vectors) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": "5"}, "timeout must be a positive number"),
        ({"max_retries": -1}, "max_retries must be an int >= 0"),
        ({"max_retries": True}, "max_retries must be an int >= 0"),
    ],
)
def test_bad_per_call_options_are_rejected_before_sending(
    emu_on_route: Emulator, kwargs: dict[str, Any], message: str
) -> None:
    with client(emu_on_route) as c:
        with pytest.raises(ConfigurationError, match=message):
            c.complete(req(), **kwargs)
        with pytest.raises(ConfigurationError, match=message):
            list(c.stream(req(stream=True), **kwargs))
    assert emu_on_route.requests_for("chat") == []


def test_the_stream_snapshots_while_streaming(emu_on_route: Emulator) -> None:
    emu_on_route.configure(chunk_size=3)
    emu_on_route.script_reply(
        "gpt-4o",
        content="Let me check.",
        tool_calls=[
            {"name": "get_weather", "arguments": {"city": "Paris, with a long name"}},
            {"name": "get_weather", "arguments": {"city": "Oslo"}},
        ],
    )
    seen: list[tuple[str, list[str], str | None]] = []
    with client(emu_on_route) as c:
        request = build_chat_request(HI, model="gpt-4o", tools=[TOOL], stream=True)
        chunks = []
        stream = c.stream(request)
        for chunk in stream:
            chunks.append(chunk)
            snap = stream.snapshot()
            # The snapshot is exactly what the chunks so far add up to.
            assert snap.content == "".join(ch.content for ch in chunks)
            joined = stream.tool_calls_so_far()
            for call in joined:
                frags = [f for ch in chunks for f in ch.tool_call_chunks if f.index == call.index]
                assert call.arguments == "".join(f.arguments for f in frags)
            seen.append((snap.content, [t.arguments for t in joined], snap.finish_reason))
    final = stream.result()
    assert [t.arguments for t in final.tool_calls] == [
        {"city": "Paris, with a long name"},
        {"city": "Oslo"},
    ]
    calls = stream.tool_calls_so_far()
    assert [t.index for t in calls] == [0, 1]
    assert calls[0].name == "get_weather" and calls[0].id
    # Partial arguments were visible on the way (not valid JSON yet), and the finish reason
    # only on the last snapshot.
    partial = [args[0] for _, args, _ in seen if args and args[0]]
    assert any(_not_json(a) for a in partial)
    assert [fr for *_, fr in seen].count("tool_calls") == 1 and seen[-1][2] == "tool_calls"


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def test_the_stream_sends_nothing_until_read_and_has_no_result_before_its_end(
    emu_on_route: Emulator,
) -> None:
    with client(emu_on_route) as c:
        stream = c.stream(req(stream=True))
        assert stream.snapshot().content == "" and stream.tool_calls_so_far() == []
        with pytest.raises(RuntimeError, match="has not finished"):
            stream.result()
        assert emu_on_route.requests_for("chat") == []
        first = next(stream)
        assert stream.snapshot().content == first.content
        with pytest.raises(RuntimeError, match="has not finished"):
            stream.result()
        rest = list(stream)
        assert stream.result().content == "".join(ch.content for ch in [first, *rest])
        assert len(emu_on_route.requests_for("chat")) == 1


def test_a_request_header_wins_over_a_default_header_of_the_same_name(
    emu_on_route: Emulator,
) -> None:
    settings = resolve_settings(
        emu_on_route.endpoint, emu_on_route.key, headers={"x-team": "core", "x-keep": "1"}
    )
    with ChatClient(settings) as c:
        c.complete(build_chat_request(HI, model="gpt-4o", headers={"x-team": "search"}))
        list(c.stream(build_chat_request(HI, model="gpt-4o", stream=True)))
    first, second = (r.headers for r in emu_on_route.requests_for("chat"))
    assert first["x-team"] == "search" and first["x-keep"] == "1"
    assert second["x-team"] == "core"


def test_chat_request_parameters_are_exactly_the_builders_named_request_parameters() -> None:
    import inspect

    from azureinfer.request import CHAT_REQUEST_PARAMETERS

    named = set(inspect.signature(build_chat_request).parameters)
    others = {"messages", "stream", "stream_usage", "model_extras", "extra_parameters", "headers"}
    assert named - others == CHAT_REQUEST_PARAMETERS


async def test_per_call_timeout_bounds_a_stalled_stream(emu_on_route: Emulator) -> None:
    from azureinfer import IncompleteStreamError

    emu_on_route.configure(stream_delay=1.0)
    with (
        client(emu_on_route) as c,
        pytest.raises(IncompleteStreamError, match="after 1 stream events"),
    ):
        list(c.stream(req(stream=True), timeout=0.3, max_retries=0))
    async with client(emu_on_route) as ac:
        with pytest.raises(IncompleteStreamError, match="after 1 stream events"):
            [chunk async for chunk in ac.astream(req(stream=True), timeout=0.3, max_retries=0)]
