"""Unit tests: connection settings (arguments > environment, endpoint fixes, scopes, secrets)."""

from __future__ import annotations

import copy
import pickle

import pytest
from azure.core.credentials import AccessToken, AzureKeyCredential

from azureinfer import AzureInferenceWarning, ConfigurationError, resolve_settings
from azureinfer.settings import (
    COGNITIVE_SERVICES_SCOPE,
    ML_SCOPE,
    credential_kind,
    default_scopes,
    is_loopback,
)

ENV_VARS = (
    "AZURE_INFERENCE_ENDPOINT",
    "AZURE_INFERENCE_CREDENTIAL",
    "AZURE_AI_INFERENCE_ENDPOINT",
    "AZURE_AI_INFERENCE_CREDENTIAL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


class SyncCred:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("tok", 2**31)


class AsyncCred:
    async def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("tok", 2**31)


def test_missing_endpoint_names_argument_and_env_vars() -> None:
    with pytest.raises(ValueError) as info:
        resolve_settings(credential="k")
    msg = str(info.value)
    assert "endpoint" in msg
    assert "AZURE_INFERENCE_ENDPOINT" in msg and "AZURE_AI_INFERENCE_ENDPOINT" in msg
    assert isinstance(info.value, ConfigurationError)


def test_arguments_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://env.services.ai.azure.com/models")
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", "env-key")
    s = resolve_settings("https://arg.services.ai.azure.com/models", "arg-key")
    assert s.endpoint == "https://arg.services.ai.azure.com/models"
    assert s.credential.key == "arg-key"


def test_primary_env_vars_then_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_AI_INFERENCE_ENDPOINT", "https://fallback.example.com/models")
    monkeypatch.setenv("AZURE_AI_INFERENCE_CREDENTIAL", "fallback-key")
    s = resolve_settings()
    assert s.endpoint == "https://fallback.example.com/models"
    assert s.credential.key == "fallback-key"
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://primary.example.com/models")
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", "primary-key")
    s = resolve_settings()
    assert s.endpoint == "https://primary.example.com/models"
    assert s.credential.key == "primary-key"


def test_no_key_anywhere_means_default_credential() -> None:
    s = resolve_settings("https://x.services.ai.azure.com/models")
    assert s.credential is None
    assert s.credential_kind == "default"


@pytest.mark.parametrize(
    ("cred", "kind"),
    [
        ("key", "key"),
        (AzureKeyCredential("key"), "key"),
        (SyncCred(), "token"),
        (AsyncCred(), "async_token"),
    ],
)
def test_credential_kinds(cred: object, kind: str) -> None:
    s = resolve_settings("https://x.openai.azure.com/openai/deployments/d", cred)
    assert s.credential_kind == kind


def test_secret_str_credential_is_unwrapped() -> None:
    from pydantic import SecretStr

    s = resolve_settings("https://x.example.com", SecretStr("sekrit"))
    assert s.credential.key == "sekrit"


def test_unsupported_and_empty_credentials_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="Unsupported credential"):
        resolve_settings("https://x.example.com", 42)
    with pytest.raises(ConfigurationError, match="empty"):
        resolve_settings("https://x.example.com", "  ")
    with pytest.raises(ConfigurationError):
        credential_kind(object())


@pytest.mark.parametrize(
    ("endpoint", "scope"),
    [
        ("https://r.services.ai.azure.com/models", COGNITIVE_SERVICES_SCOPE),
        ("https://r.openai.azure.com/openai/deployments/d", COGNITIVE_SERVICES_SCOPE),
        ("https://r.cognitiveservices.azure.com/models", COGNITIVE_SERVICES_SCOPE),
        ("https://e.eastus.inference.ml.azure.com", ML_SCOPE),
    ],
)
def test_scope_from_host(endpoint: str, scope: str) -> None:
    assert default_scopes(endpoint) == (scope,)
    assert resolve_settings(endpoint, SyncCred()).credential_scopes == (scope,)


def test_scope_is_overridable() -> None:
    s = resolve_settings(
        "https://r.services.ai.azure.com/models",
        SyncCred(),
        credential_scopes="https://ai.azure.com/.default",
    )
    assert s.credential_scopes == ("https://ai.azure.com/.default",)
    s = resolve_settings(
        "https://r.services.ai.azure.com/models", SyncCred(), credential_scopes=["a", "b"]
    )
    assert s.credential_scopes == ("a", "b")
    with pytest.raises(ConfigurationError):
        resolve_settings("https://r.example.com", SyncCred(), credential_scopes=[])


@pytest.mark.parametrize(
    "route",
    ["/chat/completions", "/embeddings", "/images/embeddings", "/info", "/chat/completions/"],
)
def test_endpoint_ending_in_a_route_is_corrected_with_a_warning(route: str) -> None:
    with pytest.warns(AzureInferenceWarning) as record:
        s = resolve_settings("https://r.services.ai.azure.com/models" + route, "k")
    assert s.endpoint == "https://r.services.ai.azure.com/models"
    text = str(record[0].message)
    assert "'https://r.services.ai.azure.com/models'" in text and "pass that as `endpoint`" in text


def test_endpoint_query_is_kept_and_api_version_is_lifted() -> None:
    s = resolve_settings("https://r.example.com/models/?foo=bar&api-version=2025-04-01", "k")
    assert s.endpoint == "https://r.example.com/models?foo=bar"
    assert s.api_version == "2025-04-01"
    with pytest.raises(ConfigurationError, match="conflicts"):
        resolve_settings(
            "https://r.example.com/models?api-version=2025-04-01", "k", api_version="x"
        )


def test_trailing_slash_removed_and_bad_urls_rejected() -> None:
    assert (
        resolve_settings("https://r.example.com/models/", "k").endpoint
        == "https://r.example.com/models"
    )
    for bad in ("r.example.com/models", "ftp://r.example.com", "https://"):
        with pytest.raises(ConfigurationError, match="endpoint"):
            resolve_settings(bad, "k")


def test_loopback_detection() -> None:
    assert is_loopback("http://127.0.0.1:8080/models")
    assert is_loopback("http://[::1]:8080")
    assert is_loopback("http://localhost:1")
    assert not is_loopback("http://10.0.0.1")
    assert not is_loopback("http://example.com")


def test_options_are_validated() -> None:
    ep = "https://r.example.com"
    with pytest.raises(ConfigurationError, match="timeout"):
        resolve_settings(ep, "k", timeout=0)
    with pytest.raises(ConfigurationError, match="max_retries"):
        resolve_settings(ep, "k", max_retries=-1)
    with pytest.raises(ConfigurationError, match="max_retries"):
        resolve_settings(ep, "k", max_retries=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Unknown client_kwargs key 'retry_totl'"):
        resolve_settings(ep, "k", client_kwargs={"retry_totl": 1})
    with pytest.raises(ConfigurationError, match="use the `max_retries` argument"):
        resolve_settings(ep, "k", client_kwargs={"retry_status": 1})
    with pytest.raises(ConfigurationError, match="use the `timeout` argument"):
        resolve_settings(ep, "k", client_kwargs={"timeout": 1})
    with pytest.raises(ConfigurationError, match="header"):
        resolve_settings(ep, "k", headers={"x": 1})  # type: ignore[dict-item]


def test_user_agent_keeps_the_users_own() -> None:
    from azureinfer import __version__

    assert resolve_settings("https://r.example.com", "k").user_agent == f"azureinfer/{__version__}"
    s = resolve_settings("https://r.example.com", "k", user_agent="myapp/1.0")
    assert s.user_agent == f"myapp/1.0 azureinfer/{__version__}"


def test_users_dicts_are_not_mutated_and_settings_are_frozen() -> None:
    headers = {"x-a": "1"}
    kwargs = {"connection_verify": False}
    s = resolve_settings("https://r.example.com", "k", headers=headers, client_kwargs=kwargs)
    assert headers == {"x-a": "1"} and kwargs == {"connection_verify": False}
    headers["x-b"] = "2"
    assert dict(s.headers) == {"x-a": "1"}
    with pytest.raises(TypeError):
        s.headers["x-c"] = "3"  # type: ignore[index]
    with pytest.raises(AttributeError):
        s.endpoint = "https://other"  # type: ignore[misc]


def test_secrets_never_in_repr() -> None:
    s = resolve_settings(
        "https://r.example.com", "super-secret-key", headers={"api-key": "hdr-secret", "x-a": "v"}
    )
    text = repr(s) + str(s)
    assert "super-secret-key" not in text and "hdr-secret" not in text
    assert "<key>" in text and "'x-a': 'v'" in text


def test_settings_pickle_and_deepcopy() -> None:
    s = resolve_settings("https://r.example.com", "k", headers={"x": "1"}, timeout=5)
    for other in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert other.endpoint == s.endpoint and other.credential.key == "k"
        assert dict(other.headers) == {"x": "1"} and other.timeout == 5.0


def test_copies_share_the_immutable_settings_and_credential() -> None:
    cred = SyncCred()
    s = resolve_settings("https://r.example.com", cred)
    assert copy.deepcopy(s) is s and copy.copy(s) is s
    assert pickle.loads(pickle.dumps(s)).credential_kind == "token"


def test_unpicklable_credential_gives_a_clear_error() -> None:
    import threading

    class Locked(SyncCred):
        def __init__(self) -> None:
            self.lock = threading.Lock()

    s = resolve_settings("https://r.example.com", Locked())
    with pytest.raises(TypeError, match="credential=None"):
        pickle.dumps(s)


def test_sdk_keywords_in_client_kwargs_move_to_their_arguments() -> None:
    # what users of the deprecated integrations pass (langchain-azure#57's documented fix)
    kwargs = {
        "credential_scopes": ["https://ai.azure.com/.default"],
        "api_version": "2025-04-01",
        "retry_total": 1,
        "user_agent": "old/1",
        "headers": {"x-a": "1", "x-b": "kw"},
        "read_timeout": 5,
    }
    before = repr(kwargs)
    s = resolve_settings(
        "https://r.services.ai.azure.com/models",
        SyncCred(),
        client_kwargs=kwargs,
        headers={"x-b": "arg"},
    )
    assert repr(kwargs) == before  # not mutated
    assert s.credential_scopes == ("https://ai.azure.com/.default",)
    assert s.api_version == "2025-04-01" and s.max_retries == 1
    assert s.user_agent.startswith("old/1 azureinfer/")
    assert dict(s.headers) == {"x-a": "1", "x-b": "arg"}
    assert dict(s.client_kwargs) == {"read_timeout": 5}
    with pytest.raises(ConfigurationError, match="given twice"):
        resolve_settings(
            "https://r.example.com", "k", max_retries=2, client_kwargs={"retry_total": 1}
        )
    same = resolve_settings(
        "https://r.example.com",
        "k",
        credential_scopes=("a",),
        client_kwargs={"credential_scopes": ["a"]},
    )
    assert same.credential_scopes == ("a",)
