"""Construction, secrets, serialisation and LangSmith params of ChatAzureInference (no network)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from langchain_core.load import dumpd, dumps, load
from pydantic import SecretStr

from azureinfer.errors import ConfigurationError
from langchain_azureinfer import AzureAIChatCompletionsModel, ChatAzureInference

ENDPOINT = "https://unit.services.ai.azure.com/models"
KEY = "sk-very-secret-key-123"

pytestmark = pytest.mark.disable_socket


def make(**kwargs: Any) -> ChatAzureInference:
    return ChatAzureInference(
        **{"endpoint": ENDPOINT, "credential": KEY, "model": "gpt-4o", **kwargs}
    )


def test_unknown_constructor_kwargs_are_rejected_with_a_clear_error() -> None:
    # Anchor bug: unknown kwargs (foo_bar, n, ...) were silently ignored.
    with pytest.raises(ConfigurationError, match=r"unknown argument\(s\) 'foo_bar'.*model_kwargs"):
        make(foo_bar=1)


def test_max_retries_timeout_streaming_are_real_fields() -> None:
    model = make(max_retries=0, timeout=2.5, streaming=True)
    assert (model.max_retries, model.timeout, model.streaming) == (0, 2.5, True)


def test_model_name_alias_and_api_key_alias() -> None:
    # Anchor bug (issue #138): model_name= stopped working.
    model = ChatAzureInference(endpoint=ENDPOINT, api_key=KEY, model_name="phi-4")
    assert model.model == "phi-4"
    assert isinstance(model.credential, SecretStr)
    assert model.credential.get_secret_value() == KEY


def test_stop_accepts_a_list_and_a_single_string() -> None:
    # Anchor bug: stop was typed Optional[str], so stop=["END"] failed validation.
    assert make(stop=["END", "STOP"]).stop == ["END", "STOP"]
    assert make(stop="END").stop == ["END"]


def test_key_never_appears_in_repr_str_or_serialised_state() -> None:
    # Anchor bug: repr(model) and the serialized callback payload contained the raw key.
    model = make()
    assert KEY not in repr(model)
    assert KEY not in str(model)
    serialised = dumps(model)
    assert KEY not in serialised
    assert dumpd(model)["kwargs"]["credential"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AZURE_INFERENCE_CREDENTIAL"],
    }


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_dumpd_loads_roundtrip_takes_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", KEY)
    model = make(temperature=0.2, stop=["x"], model_kwargs={"logprobs": True})
    restored = load(
        dumpd(model),
        valid_namespaces=["langchain_azureinfer"],
        allowed_objects=[ChatAzureInference],
        secrets_from_env=True,
    )
    assert isinstance(restored, ChatAzureInference)
    assert restored.asdict() == model.asdict()
    assert restored.credential.get_secret_value() == KEY


def test_lc_serializable_hooks() -> None:
    assert ChatAzureInference.is_lc_serializable()
    assert make().lc_secrets == {"credential": "AZURE_INFERENCE_CREDENTIAL"}
    assert ChatAzureInference.get_lc_namespace() == ["langchain_azureinfer", "chat_models"]


def test_ls_params_use_a_stable_provider_and_honour_overrides() -> None:
    # Anchor bug: ls_provider was the class-name fallback.
    model = make(temperature=0, max_tokens=7, stop=["s"])
    assert model._get_ls_params() == {
        "ls_provider": "azure_ai_inference",
        "ls_model_type": "chat",
        "ls_model_name": "gpt-4o",
        "ls_temperature": 0,
        "ls_max_tokens": 7,
        "ls_stop": ["s"],
    }
    assert model._get_ls_params(model="gpt-4o-mini")["ls_model_name"] == "gpt-4o-mini"


def test_environment_fallbacks_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", KEY)
    model = ChatAzureInference(model="gpt-4o")
    assert model.endpoint == ENDPOINT
    assert model.credential.get_secret_value() == KEY


def test_missing_endpoint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_INFERENCE_ENDPOINT", "AZURE_AI_INFERENCE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="AZURE_INFERENCE_ENDPOINT"):
        ChatAzureInference(model="gpt-4o")


def test_credential_objects_are_accepted() -> None:
    cred = AzureKeyCredential(KEY)
    model = make(credential=cred)
    assert model.credential is cred
    assert KEY not in repr(model)


def test_model_kwargs_must_not_shadow_fields() -> None:
    with pytest.raises(ConfigurationError, match="temperature"):
        make(model_kwargs={"temperature": 0.5})


def test_client_kwargs_are_not_mutated() -> None:
    # Anchor bug: the user's client_kwargs dict was mutated (api_version, user_agent written in).
    client_kwargs = {"logging_enable": False}
    make(client_kwargs=client_kwargs, api_version="2024-05-01-preview")
    assert client_kwargs == {"logging_enable": False}


def test_model_pickles() -> None:
    model = make()
    clone = pickle.loads(pickle.dumps(model))
    assert clone.asdict() == model.asdict()


def test_drop_in_alias_accepts_the_deprecated_constructor_arguments() -> None:
    client_kwargs = {"api_version": "2024-05-01-preview", "logging_enable": False}
    model = AzureAIChatCompletionsModel(
        endpoint=ENDPOINT,
        credential=KEY,
        model_name="mistral-large",
        model_kwargs={"safe_prompt": True},
        client_kwargs=client_kwargs,
        stop="END",
    )
    assert isinstance(model, ChatAzureInference)
    assert model.model == "mistral-large"
    assert model.api_version == "2024-05-01-preview"
    assert model.client_kwargs == {"logging_enable": False}
    assert model.stop == ["END"]
    assert client_kwargs["api_version"] == "2024-05-01-preview"  # not mutated


def test_constructor_makes_no_network_call_without_a_model() -> None:
    # Anchor bug: construction without a model did a blocking GET /info. Sockets are disabled.
    model = ChatAzureInference(endpoint=ENDPOINT, credential=KEY)
    assert model.model is None


def test_token_counting_works_without_transformers() -> None:
    # Anchor bug: get_num_tokens fell back to the GPT-2 tokenizer (ImportError without
    # transformers). Counts are approximate by design (deployments use different tokenizers).
    from langchain_core.messages import AIMessage, HumanMessage

    model = make()
    assert model.get_num_tokens("hello world, how are you today?") > 0
    messages = [HumanMessage("hello"), AIMessage("hi there")]
    assert model.get_num_tokens_from_messages(messages) > model.get_num_tokens("hello")
    assert model.get_num_tokens_from_messages([]) == 0
    exact = make(custom_get_token_ids=lambda text: list(range(len(text.split()))))
    assert exact.get_num_tokens("one two three") == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 5}, "temperature"),
        ({"top_p": -1}, "top_p"),
        ({"max_tokens": -3}, "max_tokens"),
        ({"model_kwargs": {"messages": []}}, "messages"),
        ({"extra_parameters": "sometimes"}, "extra_parameters"),
    ],
)
def test_bad_parameters_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**kwargs)
