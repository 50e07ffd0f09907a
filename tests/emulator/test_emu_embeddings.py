"""Embeddings and image embeddings (spec §9 rows 24, 25)."""

from __future__ import annotations

import base64
import math
import struct

import pytest
from azure.ai.inference import EmbeddingsClient, ImageEmbeddingsClient
from azure.ai.inference.aio import ImageEmbeddingsClient as AsyncImageEmbeddingsClient
from azure.ai.inference.models import ImageEmbeddingInput
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from azureinfer.emulator import Emulator
from azureinfer.emulator._behaviour import count_tokens

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
TEXTS = ["The cat sat on the mat", "Stocks fell sharply today", "A kitten sleeps on a rug"]


def _emb(emu: Emulator) -> EmbeddingsClient:
    return EmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key))


def test_row24_one_item_per_input(azure_inference_emulator: Emulator) -> None:
    """Row 24: index = position, id/object/model, usage prompt == total, unit vectors."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        r = client.embed(input=TEXTS, model="text-embedding-3-small")
    raw = r.as_dict()
    assert raw["object"] == "list"
    assert raw["id"]
    assert r.model == "text-embedding-3-small"
    assert [d.index for d in r.data] == [0, 1, 2]
    assert all(len(d.embedding) == 1536 for d in r.data)
    assert all(abs(math.fsum(x * x for x in d.embedding) - 1) < 1e-6 for d in r.data)
    assert r.usage.prompt_tokens == r.usage.total_tokens == sum(count_tokens(t) for t in TEXTS)


def test_row24_deterministic(azure_inference_emulator: Emulator) -> None:
    """Row 24: the same input gives the same vector."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        a = client.embed(input=TEXTS[:1], model="text-embedding-3-small").data[0].embedding
        b = client.embed(input=TEXTS[:1], model="text-embedding-3-small").data[0].embedding
    assert a == b


def test_row24_dimensions(azure_inference_emulator: Emulator) -> None:
    """Row 24: `dimensions` honoured; too large or on a fixed-size model -> 422."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        r = client.embed(input=TEXTS, model="text-embedding-3-small", dimensions=64)
        assert all(len(d.embedding) == 64 for d in r.data)
        for model, dims in (("text-embedding-3-small", 4096), ("cohere-embed-v3-english", 256)):
            with pytest.raises(HttpResponseError) as info:
                client.embed(input=TEXTS, model=model, dimensions=dims)
            assert info.value.status_code == 422
            locs = [d["loc"] for d in info.value.response.json()["error"]["details"]]
            assert locs == [["body", "dimensions"]]


@pytest.mark.parametrize("fmt", ["float", "base64", "int8", "uint8", "binary", "ubinary"])
def test_row24_encoding_formats(azure_inference_emulator: Emulator, fmt: str) -> None:
    """Row 24: every encoding_format (spec §5.2)."""
    emu = azure_inference_emulator
    dims = 20
    with _emb(emu) as client:
        r = client.embed(
            input=TEXTS[:2], model="text-embedding-3-small", dimensions=dims, encoding_format=fmt
        )
    vec = r.data[0].embedding
    if fmt == "base64":
        values = struct.unpack(f"<{dims}f", base64.b64decode(vec))
        assert len(values) == dims
    elif fmt == "float":
        assert len(vec) == dims
    elif fmt == "int8":
        assert len(vec) == dims
        assert all(-128 <= v <= 127 for v in vec)
    elif fmt == "uint8":
        assert len(vec) == dims
        assert all(0 <= v <= 255 for v in vec)
    else:
        assert len(vec) == math.ceil(dims / 8)
        lo, hi = (-128, 127) if fmt == "binary" else (0, 255)
        assert all(lo <= v <= hi for v in vec)


def test_row24_input_type(azure_inference_emulator: Emulator) -> None:
    """Row 24: input_type accepted (and changes the vector) where supported; else 422."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        query = client.embed(input=TEXTS[:1], model="cohere-embed-v3-english", input_type="query")
        doc = client.embed(input=TEXTS[:1], model="cohere-embed-v3-english", input_type="document")
        assert query.data[0].embedding != doc.data[0].embedding
        with pytest.raises(HttpResponseError) as info:
            client.embed(input=TEXTS[:1], model="text-embedding-3-small", input_type="query")
    assert info.value.status_code == 422
    assert info.value.response.json()["error"]["details"][0]["loc"] == ["body", "input_type"]


def test_row24_max_inputs_per_request(azure_inference_emulator: Emulator) -> None:
    """Row 24: Cohere takes at most 96 inputs per request."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        assert len(client.embed(input=["x"] * 96, model="cohere-embed-v3-english").data) == 96
        with pytest.raises(HttpResponseError) as info:
            client.embed(input=["x"] * 97, model="cohere-embed-v3-english")
    assert info.value.status_code == 422
    assert info.value.response.json()["error"]["details"][0]["loc"] == ["body", "input"]


def test_row24_retrieval_ranks_relevant_first(azure_inference_emulator: Emulator) -> None:
    """Vectors have similarity structure: the cat query is closest to the cat documents."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        docs = [d.embedding for d in client.embed(input=TEXTS).data]
        q = client.embed(input=["where did the cat sit"]).data[0].embedding
    scores = [sum(a * b for a, b in zip(q, d, strict=True)) for d in docs]
    assert max(range(3), key=scores.__getitem__) == 0


def test_row24_single_string_and_validation(azure_inference_emulator: Emulator) -> None:
    """A bare string input is accepted (OpenAI clients); a non-string item -> 422."""
    emu = azure_inference_emulator
    with _emb(emu) as client:
        assert len(client.embed({"input": "just one"}).data) == 1
        with pytest.raises(HttpResponseError) as info:
            client.embed({"input": ["ok", 3]})
    assert info.value.response.json()["error"]["details"][0]["loc"] == ["body", "input", 1]


def test_row25_image_embeddings(azure_inference_emulator: Emulator) -> None:
    """Row 25: a data-URL image (with optional text) -> one vector per input."""
    emu = azure_inference_emulator
    with ImageEmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        r = client.embed(
            input=[ImageEmbeddingInput(image=PNG), ImageEmbeddingInput(image=PNG, text="a dot")],
            model="embed-v-4-0",
            dimensions=32,
        )
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == 32 for d in r.data)
    assert r.data[0].embedding != r.data[1].embedding


def test_row25_bad_image_url_is_422(azure_inference_emulator: Emulator) -> None:
    """Row 25: an image that is not a data URL -> 422 naming it."""
    emu = azure_inference_emulator
    with (
        ImageEmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client,
        pytest.raises(HttpResponseError) as info,
    ):
        client.embed(input=[ImageEmbeddingInput(image="https://example.com/cat.png")])
    assert info.value.status_code == 422
    loc = info.value.response.json()["error"]["details"][0]["loc"]
    assert loc == ["body", "input", 0, "image"]


def test_row25_text_unsupported_is_422() -> None:
    """Row 25: text alongside an image on a deployment without text support -> 422."""
    from dataclasses import replace

    from azureinfer.emulator import DEFAULT_CATALOGUE

    catalogue = [
        replace(d, text_in_image_embeddings=False) if d.name == "embed-v-4-0" else d
        for d in DEFAULT_CATALOGUE
    ]
    with (
        Emulator(catalogue=catalogue) as emu,
        ImageEmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client,
    ):
        assert client.embed(input=[ImageEmbeddingInput(image=PNG)]).data
        with pytest.raises(HttpResponseError) as info:
            client.embed(input=[ImageEmbeddingInput(image=PNG, text="caption")])
    assert info.value.status_code == 422
    assert info.value.response.json()["error"]["details"][0]["loc"] == ["body", "input", 0, "text"]


async def test_row25_async_image_embeddings(azure_inference_emulator: Emulator) -> None:
    """Row 25 through the aio client."""
    emu = azure_inference_emulator
    async with AsyncImageEmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        r = await client.embed(input=[ImageEmbeddingInput(image=PNG)], encoding_format="base64")
    assert isinstance(r.data[0].embedding, str)
