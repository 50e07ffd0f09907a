"""sort_call_keywords: the one routing of a chat call's keyword arguments (both adapters)."""

from __future__ import annotations

from azureinfer.request import sort_call_keywords


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
    assert call.with_defaults({"temperature": 1.0, "max_tokens": 9}) == {
        "temperature": 0.2,
        "max_tokens": 9,
        "stream_usage": False,
    }
