"""Both embeddings classes close their clients the same way (sync and async context managers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_azureinfer import AzureInferenceEmbeddings
from llamaindex_azureinfer import AzureInferenceEmbedding


def _lc(conn: dict[str, Any]) -> Any:
    return AzureInferenceEmbeddings(model="text-embedding-3-small", **conn)


def _li(conn: dict[str, Any]) -> Any:
    return AzureInferenceEmbedding(model_name="text-embedding-3-small", **conn)


@pytest.mark.parametrize("make", [_lc, _li], ids=["langchain", "llamaindex"])
def test_context_managers_close_and_a_later_call_reopens(
    emu: Any, conn: dict[str, Any], make: Any
) -> None:
    embed = (
        (lambda m, t: m.embed_query(t)) if make is _lc else (lambda m, t: m.get_query_embedding(t))
    )
    with make(conn) as model:
        first = embed(model, "returns policy")
    # closed by the with block; using it again opens new clients instead of failing
    assert embed(model, "returns policy") == first
    model.close()

    async def run() -> list[float]:
        async with make(conn) as amodel:
            if make is _lc:
                return await amodel.aembed_query("returns policy")
            return await amodel.aget_query_embedding("returns policy")

    assert asyncio.run(run()) == first
    # three answered calls (each new instance first learns that this model refuses input_type)
    assert [r.status for r in emu.requests_for("embeddings")].count(200) == 3


@pytest.mark.parametrize("cls", [AzureInferenceEmbeddings, AzureInferenceEmbedding])
def test_a_misspelt_argument_is_an_error_naming_it(cls: Any, conn: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="embed_batchsize"):
        cls(model="text-embedding-3-small", embed_batchsize=3, **conn)


@pytest.mark.parametrize("alias", ["langchain", "llamaindex"])
def test_deprecated_client_kwargs_are_used_not_dropped(
    alias: str, emu: Any, conn: dict[str, Any]
) -> None:
    from langchain_azureinfer import AzureAIEmbeddingsModel as LCAlias
    from llamaindex_azureinfer import AzureAIEmbeddingsModel as LIAlias

    legacy = {"user_agent": "my-app/1.0", "retry_total": 0, "api_version": "2024-05-01-preview"}
    if alias == "langchain":
        model = LCAlias(model="cohere-embed-v3-english", client_kwargs=legacy, **conn)
        model.embed_query("returns policy")
    else:
        model = LIAlias(model_name="cohere-embed-v3-english", client_kwargs=legacy, **conn)
        model.get_query_embedding("returns policy")
    model.close()
    assert model.max_retries == 0
    sent = emu.requests_for("embeddings")[-1]
    assert "my-app/1.0" in sent.headers["user-agent"]
    assert "azureinfer/" in sent.headers["user-agent"]
    assert sent.query["api-version"] == "2024-05-01-preview"
