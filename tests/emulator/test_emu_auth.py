"""Authentication: api-key, Bearer key, token credentials, JWT audience, TLS (rows 4, 5, 6)."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import pytest
import requests
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.aio import ChatCompletionsClient as AsyncChatCompletionsClient
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError

from azureinfer.emulator import Emulator

MSG = [{"role": "user", "content": "hello"}]
AUDIENCE = "https://cognitiveservices.azure.com"


def _jwt(aud: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'aud': aud, 'exp': 9999999999})}.sig"


class FakeCredential:
    """A TokenCredential returning a fixed token (records the scopes asked for)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


class FakeAsyncCredential(FakeCredential):
    """The async flavour."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        return super().get_token(*scopes, **kwargs)

    async def close(self) -> None:
        return None


def _post(emu: Emulator, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        emu.endpoint + "/chat/completions?api-version=2024-05-01-preview",
        json={"messages": MSG},
        headers=headers,
        timeout=10,
    )


def test_row4_api_key_or_bearer_key_raw(azure_inference_emulator: Emulator) -> None:
    """Row 4: only api-key -> 200; only Bearer key -> 200; neither -> 401 envelope A."""
    emu = azure_inference_emulator
    assert _post(emu, {"api-key": emu.key}).status_code == 200
    assert _post(emu, {"Authorization": f"Bearer {emu.key}"}).status_code == 200
    r = _post(emu, {})
    assert r.status_code == 401
    assert r.headers["x-ms-error-code"] == "401"
    error = r.json()["error"]
    assert error["code"] == "401"
    assert error["message"].startswith("Access denied due to invalid subscription key")
    assert _post(emu, {"api-key": "wrong"}).status_code == 401


def test_row4_sdk_wrong_key_raises_client_auth_error(azure_inference_emulator: Emulator) -> None:
    """Row 4: the SDK raises ClientAuthenticationError for a wrong key."""
    emu = azure_inference_emulator
    with (
        ChatCompletionsClient(emu.endpoint, AzureKeyCredential("wrong-key")) as client,
        pytest.raises(ClientAuthenticationError) as info,
    ):
        client.complete(messages=MSG)
    assert info.value.status_code == 401
    assert info.value.error is not None
    assert info.value.error.code == "401"


def test_row4_secrets_are_redacted_in_records(azure_inference_emulator: Emulator) -> None:
    """Row 4/35: recorded headers never hold the key."""
    emu = azure_inference_emulator
    with ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        client.complete(messages=MSG)
    headers = emu.requests[-1].headers
    assert headers["api-key"] == "***"
    assert headers["authorization"] == "Bearer ***"
    assert emu.key not in repr(emu.requests) + repr(emu)


def test_row5_token_credential_over_http(azure_inference_emulator: Emulator) -> None:
    """Row 5: a TokenCredential with enforce_https=False is accepted over plain HTTP."""
    emu = azure_inference_emulator
    cred = FakeCredential("some-opaque-token")
    with ChatCompletionsClient(
        emu.endpoint, cred, credential_scopes=[AUDIENCE + "/.default"]
    ) as client:
        assert client.complete(messages=MSG, enforce_https=False).choices
    assert cred.scopes == [(AUDIENCE + "/.default",)]
    assert "api-key" not in emu.requests[-1].headers
    assert emu.requests[-1].headers["authorization"] == "Bearer ***"


async def test_row5_async_token_credential(azure_inference_emulator: Emulator) -> None:
    """Row 5 with the aio client and an async credential."""
    emu = azure_inference_emulator
    async with AsyncChatCompletionsClient(emu.endpoint, FakeAsyncCredential("t")) as client:
        r = await client.complete(messages=MSG, enforce_https=False)
    assert r.choices[0].message.content


def test_row5_jwt_audience_check(azure_inference_emulator: Emulator) -> None:
    """Row 5: with audiences configured, a JWT for another audience -> 401 shape C."""
    emu = azure_inference_emulator
    emu.configure(token_audiences=[AUDIENCE])
    good = FakeCredential(_jwt(AUDIENCE))
    with ChatCompletionsClient(emu.endpoint, good) as client:
        assert client.complete(messages=MSG, enforce_https=False).choices
    bad = FakeCredential(_jwt("https://ml.azure.com"))
    with (
        ChatCompletionsClient(emu.endpoint, bad) as client,
        pytest.raises(ClientAuthenticationError) as info,
    ):
        client.complete(messages=MSG, enforce_https=False)
    body = info.value.response.json()
    assert body["statusCode"] == 401
    assert "audience is incorrect" in body["message"]
    assert info.value.error is None or info.value.error.code is None
    # The key still works.
    with ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        assert client.complete(messages=MSG).choices


def test_row5_token_allow_list(azure_inference_emulator: Emulator) -> None:
    """Row 5: with accept_any_bearer_token off, only allow-listed tokens pass."""
    emu = azure_inference_emulator
    emu.configure(accept_any_bearer_token=False, allowed_tokens=["token-a"])
    assert _post(emu, {"Authorization": "Bearer token-a"}).status_code == 200
    assert _post(emu, {"Authorization": "Bearer token-b"}).status_code == 401


def test_row6_https_with_token_credential() -> None:
    """Row 6: HTTPS with a generated certificate; a token credential works without
    enforce_https, verifying against `ca_file`."""
    with Emulator(tls=True) as emu:
        assert emu.base_url.startswith("https://")
        assert emu.ca_file is not None
        endpoint = f"https://localhost:{emu.port}/models"
        with ChatCompletionsClient(
            endpoint, FakeCredential("tls-token"), connection_verify=emu.ca_file
        ) as client:
            assert client.complete(messages=MSG).choices
        with ChatCompletionsClient(
            emu.endpoint, AzureKeyCredential(emu.key), connection_verify=emu.ca_file
        ) as client:
            assert client.complete(messages=MSG).choices
        ca_file = emu.ca_file
    assert not os.path.exists(ca_file)


async def test_row6_https_async_client() -> None:
    """Row 6 with the aio client (aiohttp transport verifying against `ca_file`)."""
    async with (
        Emulator(tls=True) as emu,
        AsyncChatCompletionsClient(
            f"https://localhost:{emu.port}/models",
            FakeAsyncCredential("tls-token"),
            connection_verify=emu.ca_file,
        ) as client,
    ):
        r = await client.complete(messages=MSG)
    assert r.choices[0].message.content
