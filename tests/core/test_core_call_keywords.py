"""sort_call_keywords (azureinfer.adapters): the one routing of a chat call's keywords."""

from __future__ import annotations

from azureinfer.adapters import sort_call_keywords


def test_each_keyword_goes_to_one_place() -> None:
    call = sort_call_keywords(
        {
            "temperature": 0.2,
            "max_tokens": None,  # None: not given, the instance's value stays
            "stream_usage": False,
            "timeout": 5,
            "max_retries": None,
            "logprobs": True,
            "model_kwargs": {"a": 1},
            "model_extras": {"a": 2, "b": 3},
            "default_headers": {"x": "1", "y": "1"},
            "headers": {"y": "2"},
            "api_version": "v",
            "stream": True,
            "surprise": 1,
        },
        ignored={"stream"},
        connection={"api_version", "endpoint"},
    )
    assert call.parameters == {"temperature": 0.2, "stream_usage": False}
    assert call.options == {"timeout": 5}
    assert call.extras == {"logprobs": True, "a": 2, "b": 3}
    assert call.headers == {"x": "1", "y": "2"}
    assert call.connection == ["api_version"]
    assert call.unknown == {"surprise": 1}


ENDPOINT = "https://res.services.ai.azure.com/openai/v1"


def test_a_call_overrides_the_instance_and_none_keeps_its_value() -> None:
    from langchain_azureinfer import ChatAzureInference

    llm = ChatAzureInference(
        endpoint=ENDPOINT, credential="k", model="m", temperature=1.0, max_tokens=9
    )
    call = llm._chat_call({"temperature": 0.2, "max_tokens": None, "timeout": 5})
    assert call.parameters["temperature"] == 0.2
    assert call.parameters["max_tokens"] == 9
    assert call.options == {"timeout": 5}
    assert call.client is llm._client


def test_llamaindex_model_kwargs_sit_between_the_instance_and_the_call() -> None:
    from llamaindex_azureinfer import AzureInference

    llm = AzureInference(
        endpoint=ENDPOINT,
        credential="k",
        model="m",
        temperature=1.0,
        model_kwargs={"temperature": 0.5, "top_k": 3, "timeout": 7},
    )
    call = llm._chat_call(
        {"top_k": 4, "surprise": 1},
        instance=llm.model_kwargs,
        unknown_as_extras=True,
    )
    assert call.parameters["temperature"] == 0.5
    # model_kwargs' other keys are body extras (a timeout there too); the call's win.
    assert call.extras == {"top_k": 4, "timeout": 7, "surprise": 1}
    assert call.options == {}
