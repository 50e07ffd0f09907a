"""AzureInference per-call options: timeout, max_retries and headers on chat and complete."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from azureinfer import APITimeoutError, ServiceError
from llamaindex_azureinfer import AzureInference

FAST = {"retry_backoff_factor": 0.001, "retry_backoff_max": 0.01}
HI = [ChatMessage(role="user", content="hello there")]


@pytest.fixture
def emu(emu_on_route: Any) -> Any:
    """The emulator, once per route (``emu.endpoint`` is the route's endpoint)."""
    return emu_on_route


@pytest.fixture
def llm(emu: Any) -> Any:
    model = AzureInference(
        endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", client_kwargs=FAST
    )
    yield model
    model.close()


def test_per_call_timeout_gives_the_typed_error_after_the_expected_attempts(
    slow_answers: Any, llm: Any, emu: Any
) -> None:
    slow_answers(2)
    with pytest.raises(APITimeoutError):
        llm.chat(HI, timeout=0.25, max_retries=1)
    assert len(emu.requests_for("chat")) == 2
    emu.clear()
    emu.inject_fault("delay", times=1, seconds=0.5)
    assert llm.complete("the instance's settings still apply").text


def test_per_call_max_retries_zero_makes_one_attempt(llm: Any, emu: Any) -> None:
    emu.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        llm.complete("x", max_retries=0)
    assert len(emu.requests_for("chat")) == 1
    emu.clear()
    emu.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        list(llm.stream_chat(HI, max_retries=0))
    assert len(emu.requests_for("chat")) == 1
    emu.clear()
    emu.inject_fault("status", times=1, status=503)
    assert llm.chat(HI).message.content  # the default retries still apply
    assert len(emu.requests_for("chat")) == 2
    # Options are never sent as body parameters.
    assert all(
        r.body.keys().isdisjoint({"timeout", "max_retries"}) for r in emu.requests_for("chat")
    )


async def test_per_call_options_async(slow_answers: Any, llm: Any, emu: Any) -> None:
    slow_answers(2)
    with pytest.raises(APITimeoutError):
        await llm.achat(HI, timeout=0.25, max_retries=1)
    assert len(emu.requests_for("chat")) == 2
    emu.clear()
    emu.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        gen = await llm.astream_complete("x", max_retries=0)
        [chunk async for chunk in gen]
    assert len(emu.requests_for("chat")) == 1
    emu.clear()
    emu.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        await llm.acomplete("x", max_retries=0)
    assert len(emu.requests_for("chat")) == 1
    await llm.aclose()


def test_per_call_headers_are_recorded_on_the_wire(emu: Any) -> None:
    with AzureInference(
        endpoint=emu.endpoint, credential=emu.key, model="gpt-4o", headers={"x-team": "core"}
    ) as llm:
        llm.chat(HI, headers={"x-request-tag": "one"})
        llm.complete("x", headers={"x-team": "search"})
        list(llm.stream_complete("x", headers={"x-request-tag": "streamed"}))
    first, second, third = (r.headers for r in emu.requests_for("chat"))
    assert first["x-request-tag"] == "one" and first["x-team"] == "core"
    assert second["x-team"] == "search" and "x-request-tag" not in second
    assert third["x-request-tag"] == "streamed" and third["x-team"] == "core"
