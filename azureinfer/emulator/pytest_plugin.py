"""pytest plugin (entry point ``azureinfer_emulator``): the ``azure_inference_emulator`` fixture.

One emulator serves the whole session; the function-scoped fixture `clear()`s it before each
test (recorded requests, scripts, faults and settings are reset).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from azureinfer.emulator._server import Emulator


@pytest.fixture(scope="session")
def azure_inference_emulator_session() -> Iterator[Emulator]:
    """The session's emulator (not cleared between tests; prefer `azure_inference_emulator`)."""
    from azureinfer.emulator._server import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture
def azure_inference_emulator(azure_inference_emulator_session: Emulator) -> Emulator:
    """A running emulator, cleared before the test."""
    azure_inference_emulator_session.clear()
    return azure_inference_emulator_session
