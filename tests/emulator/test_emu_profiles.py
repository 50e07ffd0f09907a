"""Deployment profiles: each row's own endpoint, the routes it serves, and the shapes the
recordings do not cover (parallel tool calls, image embeddings, ids, /info settings)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.ai.inference import ChatCompletionsClient, ImageEmbeddingsClient
from azure.ai.inference.models import ImageEmbeddingInput
from azure.core.credentials import AzureKeyCredential

from azureinfer.emulator import DEFAULT_CATALOGUE, Deployment, Emulator, RemoteEmulator
from azureinfer.emulator._behaviour import chat_reply
from azureinfer.emulator._profiles import PROFILES

Q = "?api-version=2024-05-01-preview"
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }


def _post(emu: Emulator, url: str, body: Any, key: str | None = None) -> requests.Response:
    return requests.post(url, json=body, headers={"api-key": key or emu.key}, timeout=10)


def _events(resp: requests.Response) -> list[Any]:
    frames = resp.text.split("\n\n")[:-1]
    return [json.loads(f[6:]) for f in frames if f != "data: [DONE]"]


def test_endpoint_for_names_each_rows_own_endpoint() -> None:
    with Emulator() as emu:
        expected = {
            "mistral-large": "/serverless/mistral-large",
            "cohere-embed-v3-english": "/serverless/cohere-embed-v3-english",
            "gpt-4o": "/openai/deployments/gpt-4o",
            "text-embedding-3-small": "/openai/deployments/text-embedding-3-small",
            "phi-4": "/models",
        }
        for name, path in expected.items():
            assert emu.endpoint_for(name) == emu.base_url + path
        assert RemoteEmulator(emu.base_url).endpoint_for("Mistral-Large") == emu.endpoint_for(
            "mistral-large"
        )
        with pytest.raises(ValueError, match="unknown deployment 'nope'"):
            emu.endpoint_for("nope")
        assert emu.endpoint_for("mistral-large", "foundry") == emu.endpoint
        assert emu.endpoint_for("mistral-large", "openai_v1") == emu.v1_endpoint
        assert emu.endpoint_for("phi-4", "azure_openai").endswith("/openai/deployments/phi-4")
        with pytest.raises(ValueError, match="'gpt-4o' has no 'maas' endpoint"):
            emu.endpoint_for("gpt-4o", "maas")
        with pytest.raises(ValueError, match="unknown profile 'aoai'"):
            emu.endpoint_for("gpt-4o", "aoai")


def test_a_row_names_a_known_profile() -> None:
    with pytest.raises(ValueError, match=r"unknown profile 'serverless'; use one of 'maas'"):
        Deployment(
            name="x", kind="chat", model_name="x", model_type="chat-completion", provider="x",
            profile="serverless",
        )  # fmt: skip
    assert {d.profile for d in DEFAULT_CATALOGUE} == set(PROFILES) - {"openai_v1"}


def test_serverless_endpoint_serves_one_model(azure_inference_emulator: Emulator) -> None:
    """A chat endpoint has no /embeddings (404 text/plain NOT FOUND) and reads no `model`."""
    emu = azure_inference_emulator
    chat = emu.endpoint_for("mistral-large")
    resp = _post(emu, chat + "/embeddings" + Q, {"input": ["x"]})
    assert (resp.status_code, resp.headers["content-type"], resp.text) == (
        404,
        "text/plain",
        "NOT FOUND",
    )
    assert emu.requests[-1].status == 404
    reply = _post(
        emu,
        chat + "/chat/completions" + Q,
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    ).json()
    assert reply["model"] == "mistral-large-2411"
    assert re.fullmatch(r"[0-9a-f]{32}", reply["id"])
    embed = emu.endpoint_for("cohere-embed-v3-english")
    resp = _post(emu, embed + "/chat/completions" + Q, {"messages": []})
    assert (resp.status_code, resp.text) == (404, "NOT FOUND")
    for name in ("gpt-4o", "phi-4", "nope"):
        resp = _post(emu, f"{emu.base_url}/serverless/{name}/chat/completions{Q}", {})
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "404"


def test_serverless_cohere_takes_image_embeddings(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    endpoint = emu.endpoint_for("cohere-embed-v3-english")
    with ImageEmbeddingsClient(endpoint, AzureKeyCredential(emu.key)) as client:
        result = client.embed(input=[ImageEmbeddingInput(image=PNG)])
    assert len(result.data[0].embedding) == 1024
    assert result.model == "embed-english-v3.0"
    assert result.usage.as_dict() == {
        "prompt_tokens": 85,
        "completion_tokens": 0,
        "total_tokens": 85,
    }
    # The same row on the Foundry surface keeps its kind: text embeddings only.
    resp = _post(
        emu, emu.endpoint + "/images/embeddings" + Q,
        {"model": "cohere-embed-v3-english", "input": [{"image": PNG}]},
    )  # fmt: skip
    assert resp.status_code == 400


def test_serverless_401_and_info(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    endpoint = emu.endpoint_for("cohere-embed-v3-english")
    resp = _post(emu, endpoint + "/embeddings" + Q, {"input": ["x"]}, key="BAD")
    assert resp.status_code == 401
    assert resp.json() == {
        "statusCode": 401,
        "message": "Auth token validation failed. Please provide a valid key or a valid AAD token",
    }
    assert resp.headers["x-ms-error-reason"] == "Invalid JWT."
    assert emu.requests[-1].deployment == "cohere-embed-v3-english"
    info = requests.get(endpoint + "/info" + Q, headers={"api-key": emu.key}, timeout=10).json()
    assert info == {
        "model_name": "Cohere-embed-v3-english",
        "model_type": "embedding",
        "model_provider_name": "Cohere",
        "served_model_name": "embed-english-v3.0",
        "served_model_type": "embedding",
    }


def test_maas_streams_parallel_tool_calls_whole(azure_inference_emulator: Emulator) -> None:
    """Two tool calls: both whole in the one finish chunk; the SDK reassembles them."""
    emu = azure_inference_emulator
    endpoint = emu.endpoint_for("mistral-large")
    body = {
        "messages": [{"role": "user", "content": "Weather and population of Paris?"}],
        "tools": [_tool("get_weather"), _tool("get_population")],
        "stream": True,
    }
    events = _events(_post(emu, endpoint + "/chat/completions" + Q, body))
    assert len(events) == 2
    finish = events[-1]["choices"][0]
    assert finish["finish_reason"] == "tool_calls"
    assert [set(c) for c in finish["delta"]["tool_calls"]] == [{"function", "id"}] * 2
    assert events[-1]["usage"]["total_tokens"] > 0
    with (
        ChatCompletionsClient(endpoint, AzureKeyCredential(emu.key)) as client,
        client.complete(body=body) as stream,
    ):
        calls = [c for u in stream for ch in u.choices for c in ch.delta.tool_calls or []]
    assert [c.function.name for c in calls] == ["get_weather", "get_population"]


def test_maas_text_then_tool_call_stream(azure_inference_emulator: Emulator) -> None:
    """Content before a tool call streams as text chunks, the call whole on the finish chunk."""
    emu = azure_inference_emulator
    emu.script_reply("mistral-large", content="Let me look.", tool_calls=[{"name": "f"}])
    body = {"messages": [{"role": "user", "content": "x"}], "tools": [_tool("f")], "stream": True}
    events = _events(_post(emu, emu.endpoint_for("mistral-large") + "/chat/completions" + Q, body))
    deltas = [e["choices"][0]["delta"] for e in events]
    assert "".join(d.get("content", "") for d in deltas) == "Let me look."
    assert deltas[-1] == {
        "tool_calls": [{"function": {"name": "f", "arguments": "{}"}, "id": "call_scripted_0"}]
    }


def test_azure_openai_embeddings_have_no_id(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    resp = _post(
        emu,
        emu.endpoint_for("text-embedding-3-small") + "/embeddings?api-version=2024-10-21",
        {"input": ["x"]},
    )
    assert set(resp.json()) == {"object", "data", "model", "usage"}
    assert resp.headers["x-ms-region"]
    foundry = _post(emu, emu.endpoint + "/embeddings" + Q, {"input": ["x"]}).json()
    assert foundry["id"].startswith("embd-")


def test_foundry_info_setting(azure_inference_emulator: Emulator) -> None:
    """`/models/info` answers 200 by default, 404 with foundry_info=False; serverless /info
    keeps answering."""
    emu = azure_inference_emulator
    url = emu.endpoint + "/info" + Q
    assert requests.get(url, headers={"api-key": emu.key}, timeout=10).status_code == 200
    emu.configure(foundry_info=False)
    resp = requests.get(url, headers={"api-key": emu.key}, timeout=10)
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Resource not found"
    serverless = emu.endpoint_for("mistral-large") + "/info" + Q
    assert requests.get(serverless, headers={"api-key": emu.key}, timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("tool", "prompt", "called"),
    [
        ("get_max_temperature", "the maximum temperature in Seattle", True),
        ("get_max_temperature", "the temperature in Seattle", False),
        ("sum", "a summary of Seattle", False),
        ("sum", "the sum of 2 and 3", True),
    ],
)
def test_short_name_words_match_the_start_of_a_word(tool: str, prompt: str, called: bool) -> None:
    """`max` matches "maximum" in a name with a longer word; a one-word short name stays exact."""
    dep = next(d for d in DEFAULT_CATALOGUE if d.name == "gpt-4o")
    body = {"messages": [{"role": "user", "content": prompt}], "tools": [_tool(tool)]}
    assert bool(chat_reply(dep, body).tool_calls) is called


def test_doc_every_family_example_runs(azure_inference_emulator: Emulator) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "endpoint_for(" in b)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/emulator.md", "exec"), namespace)
    namespace["test_chain_streams_on_every_family"](azure_inference_emulator)
    paths = [r.path for r in azure_inference_emulator.requests]
    assert paths == [
        "/serverless/mistral-large/chat/completions",
        "/openai/deployments/mistral-large/chat/completions",
        "/models/chat/completions",
    ]
