"""Fixtures shared by every test area."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from azureinfer.emulator import Emulator

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
