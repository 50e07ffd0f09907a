"""Shared helpers of the Ray tests (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

from typing import Any

from langchain_azureinfer import AzureInferenceEmbeddings


def small_embeddings(emu: Any, **fields: Any) -> AzureInferenceEmbeddings:
    """Our LangChain embeddings on the emulator's ``text-embedding-3-small``: 8 dimensions and
    no input type (the model takes none: no 422 to drop it), unless ``fields`` say otherwise."""
    fields = {"dimensions": 8, "document_input_type": None, **fields}
    return AzureInferenceEmbeddings(
        endpoint=emu.endpoint, credential=emu.key, model="text-embedding-3-small", **fields
    )
