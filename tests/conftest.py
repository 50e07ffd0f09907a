"""Fixtures shared by every test area."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from azureinfer.emulator import Emulator, RecordedRequest

SLOW_SECONDS = 1.0


@pytest.fixture
def slow_answers(azure_inference_emulator: Emulator) -> Iterator[Callable[[int], float]]:
    """``slow_answers(times)``: the next ``times`` answers of the session emulator take
    ``SLOW_SECONDS`` (a ``delay`` fault); returns that delay.

    A delayed handler keeps running after the client gave up on it, so the test waits at
    teardown until it has ended: it cannot take a reply that a later test scripts.
    """
    used: list[int] = []

    def inject(times: int = 1) -> float:
        azure_inference_emulator.inject_fault("delay", times=times, seconds=SLOW_SECONDS)
        used.append(times)
        return SLOW_SECONDS

    yield inject
    if used:
        time.sleep(SLOW_SECONDS + 0.2)


@pytest.fixture(autouse=True)
def _no_unexpected_emulator_errors() -> Iterator[None]:
    """Fail any test after which an in-process emulator answered a 5xx that no fault asked for
    (the fixture checks its own emulator; this covers the `Emulator()`s that tests start)."""
    yield
    from azureinfer.emulator._server import live_emulators
    from azureinfer.emulator.pytest_plugin import fail_on_unexpected_errors

    for emu in live_emulators():
        fail_on_unexpected_errors(emu)


@pytest.fixture
def emu(azure_inference_emulator: Emulator) -> Emulator:
    """The session emulator, cleared for this test (short name). A directory whose tests need
    more (a running cluster, another server) overrides it in its own conftest; a module that runs
    on both routes takes ``emu_on_route`` instead."""
    return azure_inference_emulator


#: The two wire routes every route-parametrised suite runs on.
ROUTES = ("model_inference", "openai_v1")


@dataclass(frozen=True)
class RouteEndpoint:
    """One route of the session emulator: its name and the endpoint that speaks it."""

    route: str
    endpoint: str

    def check_wire(self, requests: list[RecordedRequest]) -> None:
        """Assert that every API request in ``requests`` went out as this route puts it on the
        wire: path, query, auth header, no ``extra-parameters`` header on v1, ``model``."""
        api = [r for r in requests if r.route in ("chat", "embeddings", "models", "info")]
        for r in api:
            where = f"{r.method} {r.path}"
            assert r.api == self.route, where
            headers = {k.lower() for k in r.headers}
            if self.route == "openai_v1":
                assert r.path.startswith("/openai/v1/"), where
                assert "api-version" not in r.query, where
                assert "extra-parameters" not in headers, where
                assert "api-key" in headers and "authorization" not in headers, where
                if r.method == "POST" and r.status not in (401, 403):  # refused unread
                    assert isinstance(r.body, dict) and r.body.get("model"), where
            else:
                assert not r.path.startswith("/openai/v1/"), where
                assert r.query.get("api-version") == "2024-05-01-preview", where


@pytest.fixture(params=ROUTES)
def route_endpoint(
    request: pytest.FixtureRequest, azure_inference_emulator: Emulator
) -> Iterator[RouteEndpoint]:
    """``RouteEndpoint`` of the (cleared) session emulator, once per route; at teardown every
    request the test made is checked against that route's wire (``check_wire``)."""
    emu = azure_inference_emulator
    endpoint = emu.v1_endpoint if request.param == "openai_v1" else emu.endpoint
    target = RouteEndpoint(request.param, endpoint)
    yield target
    target.check_wire(emu.requests)


class EmulatorOnRoute:
    """The session emulator seen through one route: ``endpoint`` is that route's endpoint
    (``emu.v1_endpoint`` on OpenAI/v1); every other attribute is the emulator's own."""

    def __init__(self, emulator: Emulator, endpoint: str) -> None:
        self._emulator = emulator
        self.endpoint = endpoint

    def __getattr__(self, name: str) -> object:
        return getattr(self._emulator, name)


@pytest.fixture
def emu_on_route(azure_inference_emulator: Emulator, route_endpoint: RouteEndpoint) -> Emulator:
    """The cleared emulator with ``endpoint`` set to the route under test (both routes): a
    module whose tests take it in place of ``emu`` runs on both routes."""
    view: Any = EmulatorOnRoute(azure_inference_emulator, route_endpoint.endpoint)
    return view
