"""The ``route`` field of both embeddings classes (no network)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.load import dumpd

from azureinfer.errors import ConfigurationError
from langchain_azureinfer import AzureInferenceEmbeddings
from llamaindex_azureinfer import AzureInferenceEmbedding

V1 = "https://r.openai.azure.com/openai/v1"
MI = "https://r.services.ai.azure.com/models"


@pytest.fixture(autouse=True)
def _no_route_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_INFERENCE_ROUTE", raising=False)


@pytest.mark.parametrize("cls", [AzureInferenceEmbeddings, AzureInferenceEmbedding])
def test_route_is_detected_shown_and_kept(cls: Any) -> None:
    emb = cls(endpoint=V1, credential="k", model="text-embedding-3-small")
    assert emb.route == "openai_v1" and "route='openai_v1'" in repr(emb)
    kept = dumpd(emb)["kwargs"] if cls is AzureInferenceEmbeddings else emb.to_dict()
    assert kept["route"] == "openai_v1"
    copy = emb.model_copy(update={"endpoint": MI})
    assert copy._engine.settings.route == "model_inference" and copy.route == "model_inference"
    with pytest.raises((ConfigurationError, ValueError), match="`model`"):
        cls(endpoint=V1, credential="k")


@pytest.mark.parametrize("cls", [AzureInferenceEmbeddings, AzureInferenceEmbedding])
def test_image_embeddings_on_v1_name_the_route_and_the_endpoint_shape(cls: Any) -> None:
    emb = cls(endpoint=V1, credential="k", model="embed-v-4-0")
    call = emb.embed_images if cls is AzureInferenceEmbeddings else emb.get_image_embedding_batch
    png = "data:image/png;base64,iVBORw0KGgo="
    with pytest.raises(
        ConfigurationError, match=r"route='openai_v1'.*services\.ai\.azure\.com/models"
    ):
        call([png])
