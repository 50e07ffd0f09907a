"""Fixtures of the reliability suite."""

from __future__ import annotations

import pytest

from azureinfer.emulator import Emulator


@pytest.fixture
def emu(azure_inference_emulator: Emulator) -> Emulator:
    """The session emulator, cleared before the test."""
    return azure_inference_emulator
