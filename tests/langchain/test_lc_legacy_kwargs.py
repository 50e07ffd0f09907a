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


def test_what_langchain_azure_ai_1_2_users_read_still_works(emu: Emulator) -> None:
    # Regressions for code migrating from langchain-azure-ai 1.2: .model_name raised
    # AttributeError, response_metadata["model"] was gone, and json_mode with a JSON-schema dict
    # without a "title" raised before sending anything.
    model = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="gpt-4o"
    )
    assert model.model_name == "gpt-4o" == model.model
    reply = model.invoke("hi")
    assert reply.response_metadata["model"] == reply.response_metadata["model_name"]
    assert reply.response_metadata["model"].startswith("gpt-4o")  # the served model version
    streamed = None
    for chunk in model.stream("hi"):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None
    assert streamed.response_metadata["model"] == streamed.response_metadata["model_name"]
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    structured = model.with_structured_output(schema, method="json_mode")
    answer = structured.invoke("Name a city and its population, as JSON.")
    assert isinstance(answer, dict)
    body = emu.requests_for("chat")[-1].body
    assert body["response_format"] == {"type": "json_object"}
    assert "'city', 'population'" in body["messages"][0]["content"]  # the shape is in the prompt
    model.close()
