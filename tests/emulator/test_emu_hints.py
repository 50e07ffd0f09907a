"""Errors and warnings that name the way out (issue 17's smaller items): the capability 422s of a
Mistral deployment (json_schema) and a Phi deployment (system messages), and a body `model`
that disagrees with the URL's deployment under /openai/deployments/."""

from __future__ import annotations

import logging

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from azureinfer.emulator import Emulator
from azureinfer.errors import AzureInferenceError
from langchain_azureinfer import ChatAzureInference


class Answer(BaseModel):
    text: str


def _llm(emu: Emulator, model: str, **kwargs: object) -> ChatAzureInference:
    return ChatAzureInference(model=model, endpoint=emu.endpoint, credential=emu.key, **kwargs)


def test_json_schema_on_mistral_names_function_calling(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    with pytest.raises(AzureInferenceError) as info:
        _llm(emu, "mistral-large").with_structured_output(Answer, method="json_schema").invoke("x")
    message = str(info.value)
    # The service's text first, then the way out.
    service = "The model 'mistral-large-2411' does not support response_format json_schema."
    assert service in message
    assert message.index(service) < message.index('method="function_calling"')
    # ...and the way out works.
    structured = _llm(emu, "mistral-large").with_structured_output(
        Answer, method="function_calling"
    )
    assert isinstance(structured.invoke("Say 'hello'"), Answer)


def test_system_message_on_phi_names_fold_system_messages(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    messages = [SystemMessage("Be brief."), HumanMessage("Hello")]
    with pytest.raises(AzureInferenceError) as info:
        _llm(emu, "phi-4").invoke(messages)
    message = str(info.value)
    service = "The model 'Phi-4' does not support system messages."
    assert service in message
    assert message.index(service) < message.index("fold_system_messages=True")
    assert _llm(emu, "phi-4", fold_system_messages=True).invoke(messages).content


def test_no_hint_where_there_is_no_way_out(azure_inference_emulator: Emulator) -> None:
    """phi-4 has no tools: its json_schema refusal does not suggest function calling."""
    emu = azure_inference_emulator
    with pytest.raises(AzureInferenceError) as info:
        _llm(emu, "phi-4").with_structured_output(Answer, method="json_schema").invoke("x")
    assert "does not support response_format json_schema" in str(info.value)
    assert "function_calling" not in str(info.value)


def test_body_model_disagreeing_with_the_url_deployment_warns(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The URL's deployment answers (as Azure OpenAI does); a WARNING log line and an
    `x-emulator-warning` header say so."""
    from openai import AzureOpenAI

    emu = azure_inference_emulator
    client = AzureOpenAI(
        azure_endpoint=emu.base_url,
        azure_deployment="gpt-4o",  # /openai/deployments/gpt-4o/...
        api_key=emu.key,
        api_version="2024-10-21",
        max_retries=0,
    )
    with caplog.at_level(logging.WARNING, logger="azureinfer.emulator"):
        raw = client.chat.completions.with_raw_response.create(
            model="mistral-large",
            messages=[{"role": "user", "content": "hi"}],
        )
        same = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    client.close()
    assert raw.parse().model == "gpt-4o-2024-11-20"
    assert raw.headers["x-emulator-warning"] == (
        "the body's model 'mistral-large' is not the URL's deployment 'gpt-4o'; 'gpt-4o' answers "
        "(under /openai/deployments/ the URL decides, as in Azure OpenAI)"
    )
    assert "x-emulator-warning" not in same.headers
    (record,) = [r for r in caplog.records if r.name == "azureinfer.emulator"]
    assert record.levelno == logging.WARNING and "'mistral-large'" in record.getMessage()
