"""Fixtures for the embeddings tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def emu(azure_inference_emulator: Any) -> Any:
    """The session emulator, cleared for this test."""
    return azure_inference_emulator


@pytest.fixture
def conn(emu: Any) -> dict[str, Any]:
    """Connection arguments for the adapters (the emulator's endpoint and key)."""
    return {"endpoint": emu.endpoint, "credential": emu.key}
