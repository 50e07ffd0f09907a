"""pytest plugin (entry point ``azureinfer_emulator``): the ``azure_inference_emulator`` fixture.

One emulator serves the whole session; the function-scoped fixture `clear()`s it before each
test (recorded requests, scripts, faults and settings are reset). A test after which the emulator
answered a 5xx that no fault or script asked for (an emulator bug, which a client's retry would
otherwise hide) fails at teardown with the server's traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from azureinfer.emulator._server import Emulator


def fail_on_unexpected_errors(emu: Emulator) -> None:
    """`pytest.fail` with the reports of `emu.unexpected_errors` (then forgets them), if any."""
    errors = emu._state.take_unexpected()
    if not errors:
        return
    detail = "\n\n".join(errors)
    pytest.fail(
        f"the emulator answered {len(errors)} unexpected 5xx (an emulator bug, not an "
        f"injected fault):\n{detail}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def azure_inference_emulator_session() -> Iterator[Emulator]:
    """The session's emulator (not cleared between tests; prefer `azure_inference_emulator`)."""
    from azureinfer.emulator._server import Emulator

    with Emulator() as emu:
        yield emu
        fail_on_unexpected_errors(emu)


@pytest.fixture
def azure_inference_emulator(azure_inference_emulator_session: Emulator) -> Iterator[Emulator]:
    """A running emulator, cleared before the test; fails the test on an unexpected 5xx."""
    azure_inference_emulator_session.clear()
    yield azure_inference_emulator_session
    fail_on_unexpected_errors(azure_inference_emulator_session)
