"""Fixtures for the LlamaIndex adapter tests: the emulator-backed LLM."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from azureinfer.emulator import Emulator
from llamaindex_azureinfer import AzureInference


@pytest.fixture
def llm(emu: Emulator) -> Iterator[AzureInference]:
    """An AzureInference on the emulator's gpt-4o deployment, closed afterwards."""
    model = AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")
    yield model
    model.close()
