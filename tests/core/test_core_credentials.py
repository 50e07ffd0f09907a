"""Endpoint set, no key: one clear AuthenticationError; azure-identity's chain only at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError

from azureinfer.errors import AuthenticationError
from azureinfer.request import WireRequest
from azureinfer.settings import resolve_settings
from azureinfer.transport import ChatClient

REQUEST = WireRequest(body={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
SCOPE = "https://cognitiveservices.azure.com/.default"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, azure_inference_emulator: Any) -> ChatClient:
    """A client with an endpoint and no credential, on a machine without any Entra ID login."""
    for var in (
        "AZURE_INFERENCE_CREDENTIAL",
        "AZURE_AI_INFERENCE_CREDENTIAL",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    # Only EnvironmentCredential in the chain: it fails here without probing anything else.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    return ChatClient(resolve_settings(azure_inference_emulator.endpoint, None, max_retries=0))


def _check(error: BaseException, endpoint: str) -> None:
    assert isinstance(error, AuthenticationError) and isinstance(error, ClientAuthenticationError)
    message = str(error)
    assert "\n" not in message
    assert "set AZURE_INFERENCE_CREDENTIAL or pass credential=" in message
    assert "`az login`" in message and SCOPE in message and endpoint in message
    assert "Attempted credentials" not in message


def _identity_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("azure.identity") and r.levelno >= level]


def test_no_key_is_one_clear_error_and_no_warning_wall(
    no_key: ChatClient, azure_inference_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(AuthenticationError) as info:
        no_key.complete(REQUEST)
    no_key.close()
    _check(info.value, azure_inference_emulator.endpoint)
    assert _identity_records(caplog, logging.INFO) == []
    assert azure_inference_emulator.requests == []  # failed before sending


def test_the_chain_is_available_at_debug(
    no_key: ChatClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="azure.identity")
    with pytest.raises(AuthenticationError):
        no_key.complete(REQUEST)
    no_key.close()
    chain = [r.getMessage() for r in _identity_records(caplog, logging.DEBUG)]
    assert any("failed to retrieve a token" in m for m in chain), chain
    assert _identity_records(caplog, logging.INFO) == []


async def test_async_no_key_is_the_same_error(
    no_key: ChatClient, azure_inference_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(AuthenticationError) as info:
        await no_key.acomplete(REQUEST)
    await no_key.aclose()
    _check(info.value, azure_inference_emulator.endpoint)
    assert _identity_records(caplog, logging.INFO) == []
