"""Fixtures for the embeddings tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def conn(emu: Any) -> dict[str, Any]:
    """Connection arguments for the adapters (the emulator's endpoint and key)."""
    return {"endpoint": emu.endpoint, "credential": emu.key}
