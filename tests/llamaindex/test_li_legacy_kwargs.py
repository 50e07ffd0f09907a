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
    assert llm.client_kwargs is None
    llm.chat([ChatMessage(role="user", content="hi")])
    (sent,) = emu.requests_for("chat")
    assert sent.headers["x-a"] == "kw" and sent.headers["x-b"] == "field"
    assert sent.query["api-version"] == "2024-05-01-preview"
    llm.close()


def test_user_agent_has_no_field_here_and_stays_with_the_core() -> None:
    # The class sets its own user agent; a second one in client_kwargs is refused by the core.
    with pytest.raises(ConfigurationError, match="user_agent"):
        AzureAICompletionsModel(
            endpoint="https://r.services.ai.azure.com/models",
            credential="k",
            client_kwargs={"user_agent": "legacy/1"},
        )
