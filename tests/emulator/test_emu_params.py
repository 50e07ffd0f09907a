"""extra-parameters, body validation and capability 422s (spec §9 rows 9, 10, 11, 16, 39)."""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.inference import ChatCompletionsClient, EmbeddingsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from azureinfer.emulator import Emulator

MSG = [{"role": "user", "content": "hello"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _chat(emu: Emulator) -> ChatCompletionsClient:
    return ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key))


def _error(emu: Emulator, body: dict[str, Any], **kwargs: Any) -> HttpResponseError:
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(body, **kwargs)
    return info.value


def _locs(err: HttpResponseError) -> list[list[Any]]:
    return [d["loc"] for d in err.response.json()["error"]["details"]]


def test_row9_unknown_key_without_header_is_422(azure_inference_emulator: Emulator) -> None:
    """Row 9: absent header means `error`: 422 naming ["body", "<key>"]."""
    emu = azure_inference_emulator
    err = _error(emu, {"messages": MSG, "foo": 1, "safe_prompt": True})
    assert err.status_code == 422
    assert _locs(err) == [["body", "foo"], ["body", "safe_prompt"]]
    detail = err.response.json()["error"]["details"][0]
    assert detail["type"] == "extra_forbidden"
    assert detail["input"] == 1
    assert err.response.headers["x-ms-error-code"] == err.response.json()["error"]["code"]


def test_row9_explicit_error_header(azure_inference_emulator: Emulator) -> None:
    """Row 9: `extra-parameters: error` rejects too."""
    emu = azure_inference_emulator
    err = _error(emu, {"messages": MSG, "n": 2}, headers={"extra-parameters": "error"})
    assert _locs(err) == [["body", "n"]]


def test_row9_drop_ignores_the_key(azure_inference_emulator: Emulator) -> None:
    """Row 9: `drop` -> 200, the key is ignored (recorded as dropped)."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(
            {"messages": MSG, "foo": 1, "stream_options": {"include_usage": True}},
            headers={"extra-parameters": "drop"},
        )
    assert r.choices[0].message.content
    rec = emu.requests[-1]
    assert rec.dropped == ["foo", "stream_options"]
    assert rec.forwarded == {}
    assert rec.body["foo"] == 1


def test_row9_pass_through_forwards_the_key(azure_inference_emulator: Emulator) -> None:
    """Row 9: `model_extras` makes the SDK send pass-through; the key is recorded as forwarded."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete(messages=MSG, model_extras={"foo": 1, "user": "u1"})
    assert r.choices
    rec = emu.requests[-1]
    assert rec.headers["extra-parameters"] == "pass-through"
    assert rec.forwarded == {"foo": 1, "user": "u1"}


def test_row9_bad_header_value(azure_inference_emulator: Emulator) -> None:
    """An extra-parameters value other than pass-through/drop/error -> 400."""
    emu = azure_inference_emulator
    err = _error(emu, {"messages": MSG}, headers={"extra-parameters": "keep"})
    assert err.status_code == 400


def test_row9_embeddings_extra_key(azure_inference_emulator: Emulator) -> None:
    """Row 9 on /embeddings: unknown key via raw body -> 422, via model_extras -> 200."""
    emu = azure_inference_emulator
    with EmbeddingsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        with pytest.raises(HttpResponseError) as info:
            client.embed({"input": ["a"], "truncate": "END"})
        assert info.value.status_code == 422
        assert len(client.embed(input=["a"], model_extras={"truncate": "END"}).data) == 1


def test_row9_azure_openai_profile_ignores_header(azure_inference_emulator: Emulator) -> None:
    """On an Azure OpenAI URL OpenAI keys pass without a header; unknown ones -> 400."""
    emu = azure_inference_emulator
    endpoint = emu.base_url + "/openai/deployments/gpt-4o"
    with ChatCompletionsClient(endpoint, AzureKeyCredential(emu.key)) as client:
        assert client.complete({"messages": MSG, "user": "u", "n": 1}).choices
        with pytest.raises(HttpResponseError) as info:
            client.complete({"messages": MSG, "foo": 1})
    assert info.value.status_code == 400
    assert "Unrecognized request argument supplied: foo" in info.value.message


def test_row10_modalities_is_known(azure_inference_emulator: Emulator) -> None:
    """Row 10: `modalities: ["text"]` without a header -> 200."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        r = client.complete({"messages": MSG, "modalities": ["text"]})
    assert r.choices[0].message.content
    assert "extra-parameters" not in emu.requests[-1].headers


VIOLATIONS: list[tuple[str, dict[str, Any], list[Any]]] = [
    ("messages missing", {}, ["body", "messages"]),
    ("messages empty", {"messages": []}, ["body", "messages"]),
    (
        "bad role",
        {"messages": [{"role": "robot", "content": "x"}]},
        ["body", "messages", 0, "role"],
    ),
    (
        "tool without tool_call_id",
        {"messages": [*MSG, {"role": "tool", "content": "r"}]},
        ["body", "messages", 1, "tool_call_id"],
    ),
    (
        "bad content item type",
        {"messages": [{"role": "user", "content": [{"type": "video", "video": {}}]}]},
        ["body", "messages", 0, "content", 0, "type"],
    ),
    (
        "frequency_penalty high",
        {"messages": MSG, "frequency_penalty": 2.5},
        ["body", "frequency_penalty"],
    ),
    (
        "presence_penalty low",
        {"messages": MSG, "presence_penalty": -3},
        ["body", "presence_penalty"],
    ),
    ("top_p high", {"messages": MSG, "top_p": 1.5}, ["body", "top_p"]),
    ("temperature high", {"messages": MSG, "temperature": 2.5}, ["body", "temperature"]),
    ("temperature negative", {"messages": MSG, "temperature": -0.1}, ["body", "temperature"]),
    ("max_tokens negative", {"messages": MSG, "max_tokens": -1}, ["body", "max_tokens"]),
    ("tools empty", {"messages": MSG, "tools": []}, ["body", "tools"]),
    ("stop wrong type", {"messages": MSG, "stop": 3}, ["body", "stop"]),
    ("stream not bool", {"messages": MSG, "stream": "yes"}, ["body", "stream"]),
    (
        "response_format unknown",
        {"messages": MSG, "response_format": {"type": "xml"}},
        ["body", "response_format", "type"],
    ),
    (
        "tool_choice names an absent tool",
        {
            "messages": MSG,
            "tools": [TOOL],
            "tool_choice": {"type": "function", "function": {"name": "x"}},
        },
        ["body", "tool_choice", "function", "name"],
    ),
]


@pytest.mark.parametrize(("case", "body", "loc"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_row11_validation_422(
    azure_inference_emulator: Emulator, case: str, body: dict[str, Any], loc: list[Any]
) -> None:
    """Row 11: each violation -> 422 envelope A with `details[].loc`."""
    err = _error(azure_inference_emulator, body)
    assert err.status_code == 422, case
    assert loc in _locs(err)
    assert err.error is not None
    assert err.error.code == "Invalid input"
    assert azure_inference_emulator.requests[-1].status == 422


def test_row11_strict_temperature(azure_inference_emulator: Emulator) -> None:
    """Row 11: temperature 1.5 passes by default and fails in strict mode ([0, 1])."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        assert client.complete(messages=MSG, temperature=1.5).choices
    emu.configure(strict=True)
    err = _error(emu, {"messages": MSG, "temperature": 1.5})
    assert _locs(err) == [["body", "temperature"]]


def test_row11_lenient_history(azure_inference_emulator: Emulator) -> None:
    """Row 37: array text content on any role and a `name` key in history are accepted."""
    emu = azure_inference_emulator
    messages = [
        {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
        {"role": "user", "content": "hi", "name": "alice"},
        {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
        {"role": "user", "content": "again"},
    ]
    with _chat(emu) as client:
        assert client.complete(messages=messages, model="mistral-large").choices


CAPABILITIES: list[tuple[str, str, dict[str, Any], list[Any]]] = [
    ("tools on phi-4", "phi-4", {"tools": [TOOL]}, ["body", "tools"]),
    ("tools on deepseek", "deepseek-r1", {"tools": [TOOL]}, ["body", "tools"]),
    (
        "json_schema on mistral",
        "mistral-large",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {}}}},
        ["body", "response_format"],
    ),
    (
        "json_object on phi-4",
        "phi-4",
        {"response_format": {"type": "json_object"}},
        ["body", "response_format"],
    ),
    (
        "image on mistral",
        "mistral-large",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                }
            ]
        },
        ["body", "messages", 0, "content", 0, "image_url"],
    ),
    (
        "audio input on phi-4",
        "phi-4",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}}
                    ],
                }
            ]
        },
        ["body", "messages", 0, "content", 0, "input_audio"],
    ),
    (
        "system message on phi-4",
        "phi-4",
        {"messages": [{"role": "system", "content": "s"}, *MSG]},
        ["body", "messages", 0, "role"],
    ),
    (
        "audio output on mistral",
        "mistral-large",
        {"modalities": ["text", "audio"]},
        ["body", "modalities"],
    ),
]


@pytest.mark.parametrize(
    ("case", "model", "extra", "loc"), CAPABILITIES, ids=[c[0] for c in CAPABILITIES]
)
def test_row16_row39_capability_422(
    azure_inference_emulator: Emulator, case: str, model: str, extra: dict[str, Any], loc: list[Any]
) -> None:
    """Rows 16 and 39: a deployment marked unsupporting answers 422 naming the parameter."""
    body = {"messages": MSG, "model": model, **extra}
    err = _error(azure_inference_emulator, body)
    assert err.status_code == 422, case
    assert loc in _locs(err)
    assert err.response.headers["x-ms-error-code"] == "parameter_not_supported"


def test_row16_supported_features_pass(azure_inference_emulator: Emulator) -> None:
    """The same features on a supporting deployment answer 200."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        for model in ("gpt-4o", "mistral-large"):
            assert client.complete(messages=MSG, model=model, tools=[TOOL]).choices
        r = client.complete(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                    ],
                }
            ],
            model="gpt-4o",
        )
        assert r.choices[0].message.content


def test_invalid_json_body_is_400(azure_inference_emulator: Emulator) -> None:
    """A body that is not a JSON object -> 400 BadRequest with x-ms-error-code."""
    emu = azure_inference_emulator
    with _chat(emu) as client, pytest.raises(HttpResponseError) as info:
        client.complete(b"{not json")
    assert info.value.status_code == 400
    assert info.value.response.headers["x-ms-error-code"] == "BadRequest"
