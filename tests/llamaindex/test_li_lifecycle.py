"""AzureInference lifecycle from the core's ModelInfo mixin: model info, context managers."""

from __future__ import annotations

import asyncio
from typing import Any

from llamaindex_azureinfer import AzureInference


def test_model_info_and_context_managers(azure_inference_emulator: Any) -> None:
    emu = azure_inference_emulator
    with AzureInference(endpoint=emu.endpoint, credential=emu.key) as llm:
        assert llm.get_model_info()["model_name"]
        assert llm.get_model_info() == llm.get_model_info()

    async def main() -> None:
        async with AzureInference(endpoint=emu.endpoint, credential=emu.key) as allm:
            assert (await allm.aget_model_info())["model_provider_name"]

    asyncio.run(main())
    assert len(emu.requests_for("info")) == 2
