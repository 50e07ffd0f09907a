"""The README's promise: a bad constructor argument is a `ConfigurationError` (a `ValueError`) with
the same message from LangChain and LlamaIndex, its first line naming the argument and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from azureinfer.errors import ConfigurationError
from langchain_azureinfer import AzureInferenceEmbeddings, ChatAzureInference
from llamaindex_azureinfer import AzureInference, AzureInferenceEmbedding

CONN = {"endpoint": "http://127.0.0.1:9/models", "credential": "sk-never-shown"}

CHAT_MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"temprature": 0.5}, "unknown argument(s) 'temprature' (did you mean 'temperature'?);"),
    ({"temperature": 5}, "temperature=5.0 is out of range [0, 2]"),
    ({"top_p": 1.5}, "top_p=1.5 is out of range [0, 1]"),
    ({"max_retries": -1}, "max_retries must be an integer >= 0, got -1"),
    ({"timeout": 0}, "timeout must be a positive number of seconds"),
    ({"timeout": "abc"}, "timeout='abc': Input should be a valid number"),
    ({"endpoint": "ftp://x"}, "endpoint must be an http(s) URL"),
]
EMBEDDING_MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"dimension": 5}, "unknown argument(s) 'dimension' (did you mean 'dimensions'?);"),
    ({"max_concurrency": 0}, "max_concurrency=0: Input should be greater than 0"),
    ({"endpoint": "ftp://x"}, "endpoint must be an http(s) URL"),
]


def _error(cls: type, **kwargs: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        cls(**{**CONN, "model": "gpt-4o", **kwargs})
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize(("kwargs", "first_line"), CHAT_MISTAKES)
def test_chat_models_raise_the_same_configuration_error(
    kwargs: dict[str, Any], first_line: str
) -> None:
    langchain, llamaindex = _error(ChatAzureInference, **kwargs), _error(AzureInference, **kwargs)
    assert str(langchain) == str(llamaindex)
    assert str(langchain).splitlines()[0].startswith(first_line)
    assert "validation error" not in str(langchain) and "sk-never-shown" not in str(langchain)


@pytest.mark.parametrize(("kwargs", "first_line"), EMBEDDING_MISTAKES)
def test_embeddings_raise_the_same_configuration_error(
    kwargs: dict[str, Any], first_line: str
) -> None:
    langchain = _error(AzureInferenceEmbeddings, **kwargs)
    llamaindex = _error(AzureInferenceEmbedding, **kwargs)
    assert str(langchain) == str(llamaindex)
    assert str(langchain).splitlines()[0].startswith(first_line)
    assert "validation error" not in str(langchain)


def test_the_unknown_argument_error_says_where_extras_go() -> None:
    message = str(_error(ChatAzureInference, safe_prompt=True))
    assert message == (
        "unknown argument(s) 'safe_prompt'; pass other request-body parameters in "
        "model_kwargs={...} and azure-core client options in client_kwargs={...}."
    )
