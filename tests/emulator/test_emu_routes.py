"""Routes, prefixes, api-version, model routing, /info (spec §9 rows 1, 2, 3, 7, 8, 26, 40)."""

from __future__ import annotations

import pytest
import requests
from azure.ai.inference import (
    ChatCompletionsClient,
    EmbeddingsClient,
    ImageEmbeddingsClient,
    load_client,
)
from azure.ai.inference.aio import ChatCompletionsClient as AsyncChatCompletionsClient
from azure.ai.inference.aio import EmbeddingsClient as AsyncEmbeddingsClient
from azure.ai.inference.aio import load_client as async_load_client
from azure.ai.inference.models import ImageEmbeddingInput
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from azureinfer.emulator import Emulator

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
MSG = [{"role": "user", "content": "hello"}]


def _key(emu: Emulator) -> AzureKeyCredential:
    return AzureKeyCredential(emu.key)


@pytest.mark.parametrize("prefix", ["", "/models", "/api/models"])
def test_row1_every_route_under_foundry_prefixes(
    azure_inference_emulator: Emulator, prefix: str
) -> None:
    """Row 1: chat, embeddings, images/embeddings and info answer 200 under each prefix."""
    emu = azure_inference_emulator
    endpoint = emu.base_url + prefix
    with ChatCompletionsClient(endpoint, _key(emu)) as chat:
        assert chat.complete(messages=MSG, model="gpt-4o").choices[0].message.content
        assert chat.get_model_info().model_name == "gpt-4o-2024-11-20"
    with EmbeddingsClient(endpoint, _key(emu)) as emb:
        assert len(emb.embed(input=["x"], model="text-embedding-3-small").data) == 1
    with ImageEmbeddingsClient(endpoint, _key(emu)) as img:
        result = img.embed(input=[ImageEmbeddingInput(image=PNG)], model="embed-v-4-0")
        assert len(result.data) == 1
    paths = [r.path for r in emu.requests]
    assert paths == [
        f"{prefix}/chat/completions",
        f"{prefix}/info",
        f"{prefix}/embeddings",
        f"{prefix}/images/embeddings",
    ]
    assert all(r.status == 200 for r in emu.requests)


def test_row1_azure_openai_deployment_prefix(azure_inference_emulator: Emulator) -> None:
    """Row 1: the three POST routes under /openai/deployments/{d} (the deployment in the path)."""
    emu = azure_inference_emulator
    base = emu.base_url + "/openai/deployments/"
    with ChatCompletionsClient(base + "gpt-4o", _key(emu)) as chat:
        assert chat.complete(messages=MSG).choices[0].message.content
    with EmbeddingsClient(base + "text-embedding-3-small", _key(emu)) as emb:
        assert len(emb.embed(input=["x", "y"]).data) == 2
    with ImageEmbeddingsClient(base + "embed-v-4-0", _key(emu)) as img:
        assert len(img.embed(input=[ImageEmbeddingInput(image=PNG)]).data) == 1
    assert [r.deployment for r in emu.requests] == [
        "gpt-4o",
        "text-embedding-3-small",
        "embed-v-4-0",
    ]


async def test_row1_async_clients(azure_inference_emulator: Emulator) -> None:
    """Row 1 with the aio clients."""
    emu = azure_inference_emulator
    async with AsyncChatCompletionsClient(emu.endpoint, _key(emu)) as chat:
        r = await chat.complete(messages=MSG, model="phi-4")
        assert r.model == "Phi-4"
    async with AsyncEmbeddingsClient(emu.endpoint, _key(emu)) as emb:
        e = await emb.embed(input=["a"], model="cohere-embed-v3-english")
        assert len(e.data[0].embedding) == 1024


def test_row2_api_version_required(azure_inference_emulator: Emulator) -> None:
    """Row 2: missing or unknown api-version -> 400 unsupported_api_version; SDK default -> 200."""
    emu = azure_inference_emulator
    url = emu.endpoint + "/chat/completions"
    headers = {"api-key": emu.key}
    for query in ("", "?api-version=2023-01-01"):
        r = requests.post(url + query, json={"messages": MSG}, headers=headers, timeout=10)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "unsupported_api_version"
        assert r.headers["x-ms-error-code"] == "unsupported_api_version"
    for version in ("2024-05-01-preview", "2025-04-01"):
        r = requests.post(
            f"{url}?api-version={version}", json={"messages": MSG}, headers=headers, timeout=10
        )
        assert r.status_code == 200
    with ChatCompletionsClient(emu.endpoint, _key(emu)) as client:
        client.complete(messages=MSG)
    assert emu.requests[-1].query["api-version"] == "2024-05-01-preview"


def test_row2_any_dated_version_under_azure_openai(azure_inference_emulator: Emulator) -> None:
    """Row 2: under /openai/deployments/ any YYYY-MM-DD[-preview] version is accepted."""
    emu = azure_inference_emulator
    endpoint = emu.base_url + "/openai/deployments/gpt-4o"
    for version in ("2024-06-01", "2025-01-01-preview"):
        with ChatCompletionsClient(endpoint, _key(emu), api_version=version) as client:
            assert client.complete(messages=MSG).choices
    with (
        ChatCompletionsClient(emu.endpoint, _key(emu), api_version="2024-06-01") as client,
        pytest.raises(HttpResponseError) as info,
    ):
        client.complete(messages=MSG)
    assert info.value.status_code == 400


def test_row3_endpoint_query_parameters_kept(azure_inference_emulator: Emulator) -> None:
    """Row 3: `endpoint=.../models?foo=bar` keeps working."""
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.endpoint + "?foo=bar", _key(emu)) as client:
        assert client.complete(messages=MSG).choices
    assert emu.requests[-1].query == {"foo": "bar", "api-version": "2024-05-01-preview"}


def test_row7_model_routing_ignores_case(azure_inference_emulator: Emulator) -> None:
    """Row 7: body `model` routes case-insensitively."""
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.endpoint, _key(emu)) as client:
        r = client.complete(messages=MSG, model="MISTRAL-large")
    assert r.model == "mistral-large-2411"
    assert emu.requests[-1].deployment == "mistral-large"


def test_row7_unknown_model_is_404(azure_inference_emulator: Emulator) -> None:
    """Row 7: an unknown model -> ResourceNotFoundError with code unknown_model."""
    emu = azure_inference_emulator
    with (
        ChatCompletionsClient(emu.endpoint, _key(emu)) as client,
        pytest.raises(ResourceNotFoundError) as info,
    ):
        client.complete(messages=MSG, model="nope")
    assert info.value.error is not None
    assert info.value.error.code == "unknown_model"
    assert info.value.response.headers["x-ms-error-code"] == "unknown_model"


def test_row7_default_deployment_is_configurable(azure_inference_emulator: Emulator) -> None:
    """Row 7: without `model` the default deployment answers; configure() changes it."""
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.endpoint, _key(emu)) as client:
        assert client.complete(messages=MSG).model == "gpt-4o-2024-11-20"
        emu.configure(default_deployment="deepseek-r1")
        assert client.complete(messages=MSG).model == "DeepSeek-R1"
        emu.configure(default_deployment=None)
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
    assert info.value.status_code == 422
    assert info.value.response.json()["error"]["details"][0]["loc"] == ["body", "model"]


def test_row7_wrong_operation_for_deployment(azure_inference_emulator: Emulator) -> None:
    """A chat call to an embeddings deployment answers 400 OperationNotSupported."""
    emu = azure_inference_emulator
    with (
        ChatCompletionsClient(emu.endpoint, _key(emu)) as client,
        pytest.raises(HttpResponseError) as info,
    ):
        client.complete(messages=MSG, model="text-embedding-3-small")
    assert info.value.status_code == 400
    assert info.value.error is not None
    assert info.value.error.code == "OperationNotSupported"


def test_row8_azure_openai_path_ignores_body_model(azure_inference_emulator: Emulator) -> None:
    """Row 8: under /openai/deployments/{d} the body model is ignored; unknown {d} -> 404."""
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.base_url + "/openai/deployments/phi-4", _key(emu)) as client:
        assert client.complete(messages=MSG, model="nope").model == "Phi-4"
    with (
        ChatCompletionsClient(emu.base_url + "/openai/deployments/nope", _key(emu)) as client,
        pytest.raises(ResourceNotFoundError) as info,
    ):
        client.complete(messages=MSG)
    assert info.value.error is not None
    assert info.value.error.code == "DeploymentNotFound"


def test_row26_load_client_per_model_type(azure_inference_emulator: Emulator) -> None:
    """Row 26: /info reports the selected deployment; load_client picks the client class."""
    emu = azure_inference_emulator
    cases = {
        "gpt-4o": ChatCompletionsClient,
        "text-embedding-3-small": EmbeddingsClient,
        "embed-v-4-0": ImageEmbeddingsClient,
    }
    for deployment, cls in cases.items():
        client = load_client(
            emu.endpoint, _key(emu), headers={"azureml-model-deployment": deployment}
        )
        with client:
            assert isinstance(client, cls)
            info = client.get_model_info()
        assert info.model_provider_name in ("OpenAI", "Cohere")
    info_requests = emu.requests_for("info")
    assert [r.deployment for r in info_requests] == list(cases)


def test_row26_legacy_model_type_spelling(azure_inference_emulator: Emulator) -> None:
    """Row 26: `model_type` is configurable, including legacy spellings."""
    emu = azure_inference_emulator
    emu.configure(info_model_type="chat_completion")
    with load_client(emu.endpoint, _key(emu)) as client:
        assert isinstance(client, ChatCompletionsClient)
        assert client.get_model_info().model_type == "chat_completion"
    assert len(emu.requests_for("info")) == 1


async def test_row26_async_load_client(azure_inference_emulator: Emulator) -> None:
    """Row 26 with the aio load_client."""
    emu = azure_inference_emulator
    client = await async_load_client(
        emu.endpoint, _key(emu), headers={"azureml-model-deployment": "cohere-embed-v3-english"}
    )
    async with client:
        assert isinstance(client, AsyncEmbeddingsClient)
        assert (await client.get_model_info()).model_name == "Cohere-embed-v3-english"


def test_row26_info_404_under_azure_openai(azure_inference_emulator: Emulator) -> None:
    """Row 26: /info is not served on an Azure OpenAI deployment URL (SDK rewrites the message)."""
    emu = azure_inference_emulator
    with (
        ChatCompletionsClient(emu.base_url + "/openai/deployments/gpt-4o", _key(emu)) as client,
        pytest.raises(ResourceNotFoundError) as info,
    ):
        client.get_model_info()
    assert "Model information is not available" in info.value.message
    assert emu.requests[-1].status == 404


def test_row40_custom_header_limit(azure_inference_emulator: Emulator) -> None:
    """Row 40: off by default; with a limit of 10, 11 custom headers -> 431."""
    emu = azure_inference_emulator
    headers = {f"x-custom-{i}": "v" for i in range(11)}
    with ChatCompletionsClient(emu.endpoint, _key(emu), headers=headers) as client:
        assert client.complete(messages=MSG).choices
        emu.configure(custom_header_limit=10)
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG)
    assert info.value.status_code == 431
    assert info.value.response.headers["x-ms-error-code"] == "RequestHeaderFieldsTooLarge"


def test_unknown_path_and_wrong_method(azure_inference_emulator: Emulator) -> None:
    """A path the API does not have -> 404 envelope; a wrong method -> 405 envelope."""
    emu = azure_inference_emulator
    r = requests.post(
        emu.endpoint + "/chat/completions/chat/completions?api-version=2024-05-01-preview",
        json={"messages": MSG},
        headers={"api-key": emu.key},
        timeout=10,
    )
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "404", "message": "Resource not found"}}
    r = requests.get(
        emu.endpoint + "/chat/completions?api-version=2024-05-01-preview",
        headers={"api-key": emu.key},
        timeout=10,
    )
    assert r.status_code == 405
    assert r.headers["x-ms-error-code"] == "MethodNotAllowed"
