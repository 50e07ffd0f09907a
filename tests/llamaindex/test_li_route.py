"""The ``route`` field of the LlamaIndex LLM: chosen once, visible, in ``to_dict`` (no network)."""

from __future__ import annotations

import pytest

from azureinfer.errors import ConfigurationError
from llamaindex_azureinfer import AzureAICompletionsModel, AzureInference

V1 = "https://r.services.ai.azure.com/openai/v1"


@pytest.fixture(autouse=True)
def _no_route_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_INFERENCE_ROUTE", raising=False)


@pytest.mark.parametrize("cls", [AzureInference, AzureAICompletionsModel])
def test_route_is_detected_shown_and_kept_by_to_dict(cls: type[AzureInference]) -> None:
    llm = cls(endpoint=V1, credential="k", model="Llama-3.3-70B-Instruct")
    assert llm.route == "openai_v1" and "route='openai_v1'" in repr(llm)
    data = llm.to_dict()
    assert data["route"] == "openai_v1" and "k" not in str(data.get("credential"))
    # a non-OpenAI model name is accepted (llama-index-llms-azure-openai refuses it)
    assert llm.metadata.model_name == "Llama-3.3-70B-Instruct"


def test_v1_without_model_is_refused_naming_model() -> None:
    with pytest.raises((ConfigurationError, ValueError), match="`model`"):
        AzureInference(endpoint=V1, credential="k")
