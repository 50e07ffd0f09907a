"""End to end: the request policy, asserted on the bodies and headers the emulator recorded."""

from __future__ import annotations

from typing import Any

import pytest

from azureinfer import (
    ChatClient,
    EmbeddingsClient,
    UnsupportedParameterError,
    __version__,
    build_chat_request,
    build_embeddings_request,
    resolve_settings,
)
from azureinfer.emulator import Emulator

HI = [{"role": "user", "content": "hi"}]
TOOL = {
    "type": "function",
    "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
}


@pytest.fixture
def client(azure_inference_emulator: Emulator) -> Any:
    emu = azure_inference_emulator
    with ChatClient(resolve_settings(emu.endpoint, emu.key)) as c:
        yield c


def last(emu: Emulator) -> Any:
    return emu.requests[-1]


def test_zero_values_and_stop_list_on_the_wire(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    client.complete(
        build_chat_request(
            HI, model="gpt-4o", temperature=0, seed=0, presence_penalty=0, stop="END"
        )
    )
    body = last(azure_inference_emulator).body
    assert body["temperature"] == 0 and body["seed"] == 0 and body["presence_penalty"] == 0
    assert body["stop"] == ["END"]
    assert "extra-parameters" not in last(azure_inference_emulator).headers


def test_model_extras_with_pass_through(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    client.complete(build_chat_request(HI, model="gpt-4o", model_extras={"user": "u1"}))
    rec = last(azure_inference_emulator)
    assert rec.status == 200
    assert rec.headers["extra-parameters"] == "pass-through"
    assert rec.body["user"] == "u1" and rec.forwarded == {"user": "u1"}


def test_model_extras_with_drop(client: ChatClient, azure_inference_emulator: Emulator) -> None:
    client.complete(
        build_chat_request(HI, model="gpt-4o", model_extras={"user": "u1"}, extra_parameters="drop")
    )
    rec = last(azure_inference_emulator)
    assert (
        rec.status == 200 and rec.headers["extra-parameters"] == "drop" and rec.dropped == ["user"]
    )


def test_model_extras_with_error_policy_names_the_parameter(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    with pytest.raises(UnsupportedParameterError) as info:
        client.complete(
            build_chat_request(
                HI, model="gpt-4o", model_extras={"user": "u1"}, extra_parameters="error"
            )
        )
    assert info.value.param == "user" and info.value.status_code == 422
    assert len(azure_inference_emulator.requests) == 1  # a 422 is not retried


def test_tools_tool_choice_parallel_and_max_completion_tokens(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    client.complete(
        build_chat_request(
            HI,
            model="gpt-4o",
            tools=[TOOL],
            tool_choice="f",
            parallel_tool_calls=False,
            max_completion_tokens=50,
        )
    )
    rec = last(azure_inference_emulator)
    assert rec.body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert rec.body["parallel_tool_calls"] is False and rec.body["max_completion_tokens"] == 50
    assert rec.headers["extra-parameters"] == "pass-through"
    assert set(rec.forwarded) == {"parallel_tool_calls", "max_completion_tokens"}


def test_json_schema_response_format_from_pydantic(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    import json

    from pydantic import BaseModel

    class Answer(BaseModel):
        city: str
        temperature: float

    result = client.complete(build_chat_request(HI, model="gpt-4o", response_format=Answer))
    Answer.model_validate(json.loads(result.content))
    assert last(azure_inference_emulator).body["response_format"]["json_schema"]["name"] == "Answer"


def test_headers_user_agent_and_api_version(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    settings = resolve_settings(
        emu.endpoint,
        emu.key,
        headers={"azureml-model-deployment": "blue"},
        user_agent="myapp/1.0",
        api_version="2025-04-01",
    )
    with ChatClient(settings) as client:
        client.complete(
            build_chat_request(HI, model="gpt-4o", headers={"x-ms-client-request-id": "rid-1"})
        )
    rec = last(emu)
    assert rec.headers["azureml-model-deployment"] == "blue"
    assert rec.headers["user-agent"].startswith(
        f"myapp/1.0 azureinfer/{__version__} azsdk-python-ai-inference/"
    )
    assert rec.headers["x-ms-client-request-id"] == "rid-1"
    assert rec.query["api-version"] == "2025-04-01"
    assert rec.headers["accept"] == "application/json"


def test_complete_never_streams_and_stream_always_does(
    client: ChatClient, azure_inference_emulator: Emulator
) -> None:
    client.complete(build_chat_request(HI, model="gpt-4o", stream=True))
    body = last(azure_inference_emulator).body
    assert "stream" not in body and "stream_options" not in body
    list(client.stream(build_chat_request(HI, model="gpt-4o")))
    assert last(azure_inference_emulator).body["stream"] is True


def test_embeddings_wire(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    with EmbeddingsClient(resolve_settings(emu.endpoint, emu.key)) as client:
        client.embed(
            build_embeddings_request(
                ["q"], model="cohere-embed-v3-english", input_type="query", encoding_format="float"
            )
        )
    rec = last(emu)
    assert rec.body == {
        "input": ["q"],
        "encoding_format": "float",
        "input_type": "query",
        "model": "cohere-embed-v3-english",
    }
    assert "extra-parameters" not in rec.headers


def test_network_trace_logging_never_logs_the_key(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = azure_inference_emulator
    kwargs = {"logging_enable": True}
    with caplog.at_level("DEBUG", logger="azure"):
        with ChatClient(resolve_settings(emu.endpoint, emu.key, client_kwargs=kwargs)) as client:
            client.complete(build_chat_request(HI, model="gpt-4o"))
            list(client.stream(build_chat_request(HI, model="gpt-4o")))
        import asyncio

        async def run() -> None:
            async with ChatClient(
                resolve_settings(emu.endpoint, emu.key, client_kwargs=kwargs)
            ) as c:
                await c.acomplete(build_chat_request(HI, model="gpt-4o"))

        asyncio.run(run())
    assert "Request headers" in caplog.text and "'api-key': 'REDACTED'" in caplog.text
    assert emu.key not in caplog.text
    # the live requests still carried the key
    assert all(r.status == 200 for r in emu.requests)
