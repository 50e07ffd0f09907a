"""The ``route`` field of the LangChain classes: chosen once, visible, serialised (no network)."""

from __future__ import annotations

import pytest
from langchain_core.load import dumpd, load

from azureinfer.errors import ConfigurationError
from langchain_azureinfer import AzureAIChatCompletionsModel, ChatAzureInference

V1 = "https://r.openai.azure.com/openai/v1"
MI = "https://r.services.ai.azure.com/models"


@pytest.fixture(autouse=True)
def _no_route_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_INFERENCE_ROUTE", raising=False)


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
@pytest.mark.parametrize("cls", [ChatAzureInference, AzureAIChatCompletionsModel])
def test_route_is_detected_shown_and_serialised(cls: type[ChatAzureInference]) -> None:
    model = cls(endpoint=V1, credential="k", model="Llama-3.3-70B-Instruct")
    assert model.route == "openai_v1" and "route='openai_v1'" in repr(model)
    assert model._identifying_params["route"] == "openai_v1"
    ser = dumpd(model)
    assert ser["kwargs"]["route"] == "openai_v1" and "k" not in str(ser["kwargs"].get("credential"))
    loaded = load(
        ser,
        secrets_map={"AZURE_INFERENCE_CREDENTIAL": "k"},
        valid_namespaces=["langchain_azureinfer"],
        allowed_objects=[cls],
    )
    assert loaded.route == "openai_v1"
    assert cls(endpoint=MI, credential="k", model="m").route == "model_inference"


def test_v1_without_model_is_refused_at_construction_naming_model() -> None:
    with pytest.raises((ConfigurationError, ValueError), match="`model`"):
        ChatAzureInference(endpoint=V1, credential="k")
    # the model-inference route still allows the endpoint's default model
    ChatAzureInference(endpoint=MI, credential="k")


def test_a_copy_with_another_endpoint_detects_its_own_route() -> None:
    model = ChatAzureInference(endpoint=V1, credential="k", model="m")
    other = model.model_copy(update={"endpoint": MI})
    assert other.route == "model_inference" and model.route == "openai_v1"
    named = ChatAzureInference(
        endpoint="https://gw.example.com/ai", credential="k", model="m", route="openai_v1"
    )
    assert named.model_copy(update={"endpoint": "https://gw2.example.com/ai"}).route == "openai_v1"


def test_dated_api_version_on_v1_is_a_clear_error() -> None:
    with pytest.raises((ConfigurationError, ValueError), match="route='model_inference'"):
        ChatAzureInference(endpoint=V1, credential="k", model="m", api_version="2024-05-01-preview")
