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
def llm(emu_on_route: Any) -> Any:
    model = AzureInference(
        endpoint=emu_on_route.endpoint,
        credential=emu_on_route.key,
        model="gpt-4o",
        client_kwargs=FAST,
    )
    yield model
    model.close()


def test_per_call_timeout_gives_the_typed_error_after_the_expected_attempts(
    slow_answers: Any, llm: Any, emu_on_route: Any
) -> None:
    slow_answers(2)
    with pytest.raises(APITimeoutError):
        llm.chat(HI, timeout=0.25, max_retries=1)
    assert len(emu_on_route.requests_for("chat")) == 2
    emu_on_route.clear()
    emu_on_route.inject_fault("delay", times=1, seconds=0.5)
    assert llm.complete("the instance's settings still apply").text


def test_per_call_max_retries_zero_makes_one_attempt(llm: Any, emu_on_route: Any) -> None:
    emu_on_route.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        llm.complete("x", max_retries=0)
    assert len(emu_on_route.requests_for("chat")) == 1
    emu_on_route.clear()
    emu_on_route.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        list(llm.stream_chat(HI, max_retries=0))
    assert len(emu_on_route.requests_for("chat")) == 1
    emu_on_route.clear()
    emu_on_route.inject_fault("status", times=1, status=503)
    assert llm.chat(HI).message.content  # the default retries still apply
    assert len(emu_on_route.requests_for("chat")) == 2
    # Options are never sent as body parameters.
    assert all(
        r.body.keys().isdisjoint({"timeout", "max_retries"})
        for r in emu_on_route.requests_for("chat")
    )


async def test_per_call_options_async(slow_answers: Any, llm: Any, emu_on_route: Any) -> None:
    slow_answers(2)
    with pytest.raises(APITimeoutError):
        await llm.achat(HI, timeout=0.25, max_retries=1)
    assert len(emu_on_route.requests_for("chat")) == 2
    emu_on_route.clear()
    emu_on_route.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        gen = await llm.astream_complete("x", max_retries=0)
        [chunk async for chunk in gen]
    assert len(emu_on_route.requests_for("chat")) == 1
    emu_on_route.clear()
    emu_on_route.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        await llm.acomplete("x", max_retries=0)
    assert len(emu_on_route.requests_for("chat")) == 1
    await llm.aclose()


def test_per_call_headers_are_recorded_on_the_wire(emu_on_route: Any) -> None:
    with AzureInference(
        endpoint=emu_on_route.endpoint,
        credential=emu_on_route.key,
        model="gpt-4o",
        headers={"x-team": "core"},
    ) as llm:
        llm.chat(HI, headers={"x-request-tag": "one"})
        llm.complete("x", headers={"x-team": "search"})
        list(llm.stream_complete("x", headers={"x-request-tag": "streamed"}))
    first, second, third = (r.headers for r in emu_on_route.requests_for("chat"))
    assert first["x-request-tag"] == "one" and first["x-team"] == "core"
    assert second["x-team"] == "search" and "x-request-tag" not in second
    assert third["x-request-tag"] == "streamed" and third["x-team"] == "core"


def test_per_call_keywords_are_routed_as_in_langchain(
    llm: Any, emu_on_route: Any, route_endpoint: Any
) -> None:
    # One routing in the core (azureinfer.adapters.sort_call_keywords) for both adapters:
    # extra_parameters / stream_usage are request options (they were sent as body keys here),
    # a connection setting per call is refused (it was sent in the body), other keys are extras.
    llm.chat(HI, extra_parameters="drop", top_k=3, temperature=0.5)
    chats = emu_on_route.requests_for("chat")
    sent = chats[-1]
    assert "extra_parameters" not in sent.body and sent.body["temperature"] == 0.5
    if route_endpoint.route == "openai_v1":
        # No extra-parameters header on this route: gpt-4o refuses top_k with a 400 and the
        # client sends the request again without it (the route's "drop").
        assert [r.status for r in chats] == [400, 200]
        assert chats[0].body["top_k"] == 3 and "top_k" not in sent.body
        assert "extra-parameters" not in sent.headers
    else:
        assert sent.headers["extra-parameters"] == "drop"
        assert sent.dropped == ["top_k"]  # the extra went out as an extra and was dropped
    with pytest.raises(TypeError, match=r"api_version cannot change per call.*model_copy"):
        llm.chat(HI, api_version="2024-05-01-preview")
