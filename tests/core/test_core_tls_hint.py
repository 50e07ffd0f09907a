"""``https://`` against a plain-HTTP server (the emulator) says so in one extra line."""

from __future__ import annotations

from typing import Any

import pytest

from azureinfer.errors import APIConnectionError
from azureinfer.request import WireRequest
from azureinfer.settings import resolve_settings
from azureinfer.transport import ChatClient

USER = {"role": "user", "content": "hi"}


def test_https_against_plain_http_hints_at_http(azure_inference_emulator: Any) -> None:
    emu = azure_inference_emulator
    https = emu.endpoint.replace("http://", "https://", 1)
    client = ChatClient(resolve_settings(https, emu.key, max_retries=0))
    try:
        with pytest.raises(APIConnectionError) as info:
            client.complete(WireRequest(body={"model": "gpt-4o", "messages": [USER]}))
    finally:
        client.close()
    first, hint = str(info.value).splitlines()
    assert "WRONG_VERSION_NUMBER" in first or "record layer" in first
    assert hint == (
        "(the server may speak plain http: try the endpoint with http:// instead of https://)"
    )
    assert emu.requests == []  # nothing reached the server as HTTP
