"""AzureAIChatCompletionsModel: deprecated client_kwargs keys become fields (the core's table)."""

from __future__ import annotations

import pytest

from azureinfer import ServiceError
from azureinfer.emulator import Emulator
from azureinfer.errors import ConfigurationError
from langchain_azureinfer import AzureAIChatCompletionsModel


def test_every_legacy_key_becomes_its_field_and_reaches_the_wire(emu: Emulator) -> None:
    model = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_name="gpt-4o",
        default_headers={"x-b": "field"},
        client_kwargs={
            "api_version": "2024-05-01-preview",
            "credential_scopes": ["https://ai.azure.com/.default"],
            "headers": {"x-a": "kw", "x-b": "kw"},
            "user_agent": "legacy-app/1",
            "retry_total": 0,
            "logging_enable": False,
        },
    )
    assert model.api_version == "2024-05-01-preview"
    assert model.credential_scopes == ["https://ai.azure.com/.default"]
    assert model.default_headers == {"x-a": "kw", "x-b": "field"}
    assert model.user_agent == "legacy-app/1" and model.max_retries == 0
    assert model.client_kwargs == {"logging_enable": False}
    emu.inject_fault("status", times=1, status=503)
    with pytest.raises(ServiceError):
        model.invoke("x")
    (sent,) = emu.requests_for("chat")  # retry_total=0: one attempt
    assert sent.headers["x-a"] == "kw" and sent.headers["x-b"] == "field"
    assert sent.headers["user-agent"].startswith("legacy-app/1")
    assert sent.query["api-version"] == "2024-05-01-preview"
    model.close()


def test_a_legacy_key_conflicting_with_its_field_is_an_error(emu: Emulator) -> None:
    with pytest.raises(ConfigurationError, match="conflicts with api_version"):
        AzureAIChatCompletionsModel(
            endpoint=emu.endpoint,
            credential=emu.key,
            api_version="2025-01-01",
            client_kwargs={"api_version": "2024-05-01-preview"},
        )
