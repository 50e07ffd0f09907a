"""LangChain's standard unit suite for ChatAzureInference (no network: sockets disabled)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_azureinfer import ChatAzureInference

ENDPOINT = "https://unit-test.services.ai.azure.com/models"

pytestmark = pytest.mark.disable_socket


@pytest.fixture(autouse=True)
def _trust_our_class_for_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """``test_serdes`` loads with ``allowed_objects="all"``, which langchain-core limits to the
    partner classes listed in its own serialisation mapping; a package outside langchain-core's
    repository cannot be listed there. Users pass ``allowed_objects=[ChatAzureInference]``
    (pinned in test_lc_chat_construction.py); here the class is added to the mapping for the
    duration of the test so the standard round trip runs unchanged."""
    import importlib

    load_module = importlib.import_module("langchain_core.load.load")

    path = ("langchain_azureinfer", "chat_models", "ChatAzureInference")
    monkeypatch.setitem(load_module.ALL_SERIALIZABLE_MAPPINGS, path, path)
    monkeypatch.setattr(load_module, "_default_class_paths_cache", {})


class TestChatAzureInferenceUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatAzureInference]:
        return ChatAzureInference

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"endpoint": ENDPOINT, "model": "gpt-4o-mini"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"AZURE_INFERENCE_ENDPOINT": ENDPOINT, "AZURE_INFERENCE_CREDENTIAL": "test"},
            {"model": "gpt-4o-mini"},
            {"endpoint": ENDPOINT, "credential": "test", "model": "gpt-4o-mini"},
        )

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return "gpt-4o"
