"""ClientLifecycle / ModelInfo: close, context managers and model info, framework-free."""

from __future__ import annotations

import asyncio

import pytest

from azureinfer import ChatClient, build_chat_request, resolve_settings
from azureinfer._lifecycle import ClientLifecycle, ModelInfo
from azureinfer.emulator import Emulator


class Owner(ModelInfo):
    def __init__(self, emu: Emulator) -> None:
        self.client = ChatClient(resolve_settings(emu.endpoint, emu.key))

    @property
    def _closeable(self) -> ChatClient:
        return self.client


def test_sync_context_manager_closes_and_model_info_is_cached(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    with Owner(emu) as owner:
        assert isinstance(owner, Owner)
        assert owner.get_model_info()["model_name"]
        assert owner.get_model_info() == owner.get_model_info()
        owner.client.complete(build_chat_request([{"role": "user", "content": "hi"}]))
        assert owner.client._sync_client is not None
    assert owner.client._sync_client is None  # closed by __exit__
    assert len(emu.requests_for("info")) == 1


def test_async_context_manager_closes_the_loop_client(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator

    async def main() -> Owner:
        async with Owner(emu) as owner:
            assert (await owner.aget_model_info())["model_name"]
            assert len(owner.client._loops) == 1
        assert len(owner.client._loops) == 0  # closed by __aexit__
        return owner

    asyncio.run(main())
    asyncio.run(main())  # again on a new loop


def test_a_class_without_closeable_says_so() -> None:
    class Bare(ClientLifecycle):
        pass

    with pytest.raises(NotImplementedError, match="Bare must define the _closeable property"):
        Bare().close()
