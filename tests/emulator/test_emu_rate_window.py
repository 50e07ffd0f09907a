"""`rate_limit_window`: the per-minute quotas counted over a short sliding window, scaled to it."""

from __future__ import annotations

import time

import pytest
import requests

from azureinfer.emulator import Emulator

MSG = [{"role": "user", "content": "hello"}]


def _post(
    emu: Emulator, body: dict[str, object], route: str = "chat/completions"
) -> requests.Response:
    url = f"{emu.endpoint}/{route}?api-version=2024-05-01-preview"
    return requests.post(url, json=body, headers={"api-key": emu.key}, timeout=10)


def test_window_scales_the_request_quota(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.configure(rate_limit_rpm=120, rate_limit_window=1.5)  # 3 requests per 1.5 s
    start = time.monotonic()
    statuses = [_post(emu, {"messages": MSG}).status_code for _ in range(4)]
    if time.monotonic() - start < 1.5:  # all four inside one window (else the machine stalled)
        assert statuses == [200, 200, 200, 429]
    r = _post(emu, {"messages": MSG})
    if r.status_code == 429:
        assert r.headers["x-ratelimit-limit-requests"] == "120"  # per minute, as the service
        assert r.headers["x-ratelimit-remaining-requests"] == "0"
        assert float(r.headers["retry-after-ms"]) <= 1500
        assert "3 per 1.5s" in r.json()["error"]["message"]
        time.sleep(float(r.headers["retry-after-ms"]) / 1000 + 0.05)
    assert _post(emu, {"messages": MSG}).status_code == 200  # the window slid on


def test_window_scales_the_token_quota(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.configure(rate_limit_tpm=600, rate_limit_window=3)  # 30 tokens per 3 s
    texts = ["one two three four five six seven eight nine ten"]  # 10 tokens
    ok = _post(emu, {"input": texts}, "embeddings")
    assert ok.status_code == 200
    assert ok.headers["x-ratelimit-limit-tokens"] == "600"
    assert ok.headers["x-ratelimit-remaining-tokens"] == "20"
    too_big = _post(emu, {"input": texts * 4}, "embeddings")  # 40 tokens: never fits 30
    assert too_big.status_code == 429


@pytest.mark.parametrize("bad", [0, -1, True, "2"])
def test_window_must_be_positive_seconds(azure_inference_emulator: Emulator, bad: object) -> None:
    with pytest.raises(ValueError, match="rate_limit_window"):
        azure_inference_emulator.configure(rate_limit_window=bad)
