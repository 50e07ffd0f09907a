"""AzureAICompletionsModel: deprecated client_kwargs keys become fields (the core's table)."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from azureinfer import ConfigurationError
from llamaindex_azureinfer import AzureAICompletionsModel


def test_legacy_keys_become_fields_and_reach_the_wire(azure_inference_emulator: Any) -> None:
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_name="gpt-4o",
        headers={"x-b": "field"},
        client_kwargs={
            "api_version": "2024-05-01-preview",
            "credential_scopes": "https://ai.azure.com/.default",
            "headers": {"x-a": "kw", "x-b": "kw"},
            "retry_total": 0,
        },
    )
    assert llm.api_version == "2024-05-01-preview" and llm.max_retries == 0
    assert llm.credential_scopes == ["https://ai.azure.com/.default"]
    assert llm.headers == {"x-a": "kw", "x-b": "field"}
    assert not llm.client_kwargs  # every key moved to its field
    llm.chat([ChatMessage(role="user", content="hi")])
    (sent,) = emu.requests_for("chat")
    assert sent.headers["x-a"] == "kw" and sent.headers["x-b"] == "field"
    assert sent.query["api-version"] == "2024-05-01-preview"
    llm.close()


def test_a_legacy_user_agent_is_the_users_own_prefix(azure_inference_emulator: Any) -> None:
    # user_agent is a field (as on every adapter class); the deprecated key moves to it, and a
    # second, different one is refused.
    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, client_kwargs={"user_agent": "legacy/1"}
    )
    assert llm.user_agent == "legacy/1" and not llm.client_kwargs
    llm.chat([ChatMessage(role="user", content="hi")])
    (sent,) = emu.requests_for("chat")
    assert sent.headers["user-agent"].startswith("legacy/1 llamaindex_azureinfer/")
    llm.close()
    with pytest.raises(ConfigurationError, match="user_agent"):
        AzureAICompletionsModel(
            endpoint=emu.endpoint,
            credential="k",
            user_agent="mine/2",
            client_kwargs={"user_agent": "legacy/1"},
        )
