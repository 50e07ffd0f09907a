"""ChatAzureInference per-call options: timeout, max_retries and headers, on every call path."""

from __future__ import annotations

from typing import Any

import pytest

from azureinfer import APITimeoutError, ConfigurationError, ServiceError
from azureinfer.emulator import Emulator
from langchain_azureinfer import ChatAzureInference

FAST = {"retry_backoff_factor": 0.001, "retry_backoff_max": 0.01}


def make(emu: Emulator, **kwargs: Any) -> ChatAzureInference:
    return ChatAzureInference(
        **{
            "endpoint": emu.endpoint,
            "credential": emu.key,
            "model": "gpt-4o",
            "client_kwargs": FAST,
            **kwargs,
        }
    )


def test_per_call_timeout_gives_the_typed_error_after_the_expected_attempts(
    slow_answers: Any, emu_on_route: Emulator
) -> None:
    with make(emu_on_route) as model:
        slow_answers(2)
        with pytest.raises(APITimeoutError):
            model.invoke("x", timeout=0.25, max_retries=1)
        assert len(emu_on_route.requests_for("chat")) == 2
        assert model.timeout is None and model.max_retries is None
        emu_on_route.clear()
        emu_on_route.inject_fault("delay", times=1, seconds=0.5)
        assert model.invoke("the instance's settings still apply").text


def test_per_call_max_retries_zero_makes_one_attempt(emu_on_route: Emulator) -> None:
    with make(emu_on_route, max_retries=3) as model:
        emu_on_route.inject_fault("status", times=1, status=503)
        with pytest.raises(ServiceError):
            model.invoke("x", max_retries=0)
        assert len(emu_on_route.requests_for("chat")) == 1
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=1, status=503)
        assert model.invoke("x").text
        assert len(emu_on_route.requests_for("chat")) == 2


def test_per_call_options_through_bind_and_streams(
    slow_answers: Any, emu_on_route: Emulator
) -> None:
    with make(emu_on_route) as model:
        impatient = model.bind(max_retries=0, timeout=0.25)
        emu_on_route.inject_fault("status", times=1, status=503)
        with pytest.raises(ServiceError):
            list(impatient.stream("x"))
        assert len(emu_on_route.requests_for("chat")) == 1
        emu_on_route.clear()
        slow_answers(1)
        with pytest.raises(APITimeoutError):
            list(impatient.stream("x"))
        assert len(emu_on_route.requests_for("chat")) == 1
        assert (
            emu_on_route.requests_for("chat")[0].body.keys().isdisjoint({"timeout", "max_retries"})
        )


async def test_per_call_options_async(slow_answers: Any, emu_on_route: Emulator) -> None:
    async with make(emu_on_route) as model:
        slow_answers(2)
        with pytest.raises(APITimeoutError):
            await model.ainvoke("x", timeout=0.25, max_retries=1)
        assert len(emu_on_route.requests_for("chat")) == 2
        emu_on_route.clear()
        emu_on_route.inject_fault("status", times=1, status=503)
        with pytest.raises(ServiceError):
            [chunk async for chunk in model.astream("x", max_retries=0)]
        assert len(emu_on_route.requests_for("chat")) == 1


def test_per_call_headers_are_recorded_on_the_wire(emu_on_route: Emulator) -> None:
    with make(emu_on_route, default_headers={"x-team": "core", "x-keep": "yes"}) as model:
        model.invoke("x", headers={"x-request-tag": "one"})
        model.invoke("x", default_headers={"x-team": "search"})
        list(model.stream("x", headers={"x-request-tag": "streamed"}))
    first, second, third = (r.headers for r in emu_on_route.requests_for("chat"))
    assert first["x-request-tag"] == "one" and first["x-team"] == "core"
    assert second["x-team"] == "search" and second["x-keep"] == "yes"
    assert "x-request-tag" not in second
    assert third["x-request-tag"] == "streamed"
    assert model.default_headers == {"x-team": "core", "x-keep": "yes"}


def test_bad_per_call_option_is_a_clear_error(emu_on_route: Emulator) -> None:
    with (
        make(emu_on_route) as model,
        pytest.raises(ConfigurationError, match="timeout must be a positive number"),
    ):
        model.invoke("x", timeout=-1)
    assert emu_on_route.requests_for("chat") == []
