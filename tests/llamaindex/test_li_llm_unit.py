"""AzureInference construction, metadata, serialisation: no server needed."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from llama_index.core.llms.function_calling import FunctionCallingLLM

from azureinfer.errors import ConfigurationError
from llamaindex_azureinfer import AzureAICompletionsModel, AzureInference

ENDPOINT = "https://example.services.ai.azure.com/models"
SECRET = "s3cr3t-key-value"


def make(**kwargs: Any) -> AzureInference:
    kwargs.setdefault("endpoint", ENDPOINT)
    kwargs.setdefault("credential", SECRET)
    return AzureInference(**kwargs)


def test_is_a_function_calling_llm_with_metadata_from_fields() -> None:
    llm = make(model="gpt-4o", context_window=128000, max_tokens=512)
    assert isinstance(llm, FunctionCallingLLM)
    meta = llm.metadata
    assert meta.is_function_calling_model is True
    assert meta.is_chat_model is True
    assert meta.context_window == 128000
    assert meta.num_output == 512
    assert meta.model_name == "gpt-4o"
    llm2 = make(num_output=99, is_chat_model=False, is_function_calling_model=False)
    assert llm2.metadata.num_output == 99
    assert llm2.metadata.is_chat_model is False
    assert llm2.metadata.is_function_calling_model is False


def test_unknown_constructor_kwargs_are_rejected_with_a_hint() -> None:
    with pytest.raises(ConfigurationError, match=r"'temprature' \(did you mean 'temperature'\?\)"):
        make(temprature=0.9)


def test_temperature_range_is_zero_to_two_and_optional() -> None:
    assert make(temperature=1.5).temperature == 1.5
    assert make().temperature is None
    with pytest.raises(ConfigurationError, match=r"temperature=2.5 is out of range \[0, 2\]"):
        make(temperature=2.5)


def test_seed_is_an_int() -> None:
    assert make(seed=42).seed == 42
    with pytest.raises(ConfigurationError, match="seed='abc'"):
        make(seed="abc")


def test_secret_never_in_repr_dict_json_or_payload() -> None:
    llm = make(model="gpt-4o", temperature=0.2)
    for text in (repr(llm), str(llm), llm.to_json(), str(llm.to_dict()), str(llm.to_payload())):
        assert SECRET not in text


def test_to_dict_from_dict_round_trip_rereads_credential_from_env(monkeypatch: Any) -> None:
    llm = make(
        model="gpt-4o",
        temperature=0.2,
        seed=7,
        stop=["x"],
        max_tokens=10,
        api_version="2025-04-01",
        model_kwargs={"safe_prompt": True},
    )
    data = llm.to_dict()
    assert data["class_name"] == "AzureInference"
    assert data["endpoint"] == ENDPOINT and data["model"] == "gpt-4o"
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", "from-env")
    back = AzureInference.from_dict(data)
    assert back.to_dict() == data
    back2 = AzureInference.from_json(llm.to_json())
    assert back2.seed == 7


def test_pickle_round_trip() -> None:
    llm = make(model="gpt-4o", temperature=0.3)
    back = pickle.loads(pickle.dumps(llm))
    assert back.model == "gpt-4o" and back.temperature == 0.3
    assert back.metadata == llm.metadata


def test_missing_endpoint_is_a_clear_error(monkeypatch: Any) -> None:
    for name in ("AZURE_INFERENCE_ENDPOINT", "AZURE_AI_INFERENCE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="endpoint"):
        AzureInference(credential=SECRET)


def test_drop_in_alias_accepts_deprecated_arguments() -> None:
    llm = AzureAICompletionsModel(
        endpoint=ENDPOINT,
        credential=SECRET,
        model_name="mistral-large",
        client_kwargs={"logging_enable": False},
        model_kwargs={"top_p": 0.5},
    )
    assert isinstance(llm, AzureInference)
    assert llm.model == "mistral-large" and llm.model_name == "mistral-large"
    assert llm.temperature == 0.1
    assert llm.metadata.is_function_calling_model is True
    positional = AzureAICompletionsModel(ENDPOINT, SECRET)
    assert positional.endpoint == ENDPOINT


def test_class_name() -> None:
    assert AzureInference.class_name() == "AzureInference"


def test_drop_in_alias_maps_legacy_client_kwargs_to_fields() -> None:
    llm = AzureAICompletionsModel(
        endpoint=ENDPOINT,
        credential=SECRET,
        client_kwargs={
            "credential_scopes": ["https://cognitiveservices.azure.com/.default"],
            "retry_total": 0,
            "api_version": "2025-04-01",
            "read_timeout": 5,
        },
    )
    assert llm.credential_scopes == ["https://cognitiveservices.azure.com/.default"]
    assert llm.max_retries == 0
    assert llm.api_version == "2025-04-01"
    assert llm.client_kwargs == {"read_timeout": 5}
    with pytest.raises(ValueError, match="conflicts"):
        AzureAICompletionsModel(
            endpoint=ENDPOINT, credential=SECRET, max_retries=2, client_kwargs={"retry_total": 0}
        )
