"""Control channel, recording, concurrency, lifecycle, CLI (spec §9 rows 34, 35, 36)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys

import pytest
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.aio import ChatCompletionsClient as AsyncChatCompletionsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from azureinfer.emulator import Emulator, RemoteEmulator
from azureinfer.emulator.__main__ import main

MSG = [{"role": "user", "content": "hello there"}]


def _chat(emu: Emulator) -> ChatCompletionsClient:
    return ChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key))


def test_row34_http_control_channel(azure_inference_emulator: Emulator) -> None:
    """Row 34: scripts and faults through /_emulator/... reach the unmodified SDK."""
    emu = azure_inference_emulator
    remote = RemoteEmulator(emu.base_url)
    remote.script_reply("phi-4", content="from the control API")
    remote.inject_fault("status", status=503, times=1, route="chat", deployment="gpt-4o")
    with _chat(emu) as client:
        assert client.complete(messages=MSG, model="phi-4").choices[0].message.content == (
            "from the control API"
        )
        with pytest.raises(HttpResponseError) as info:
            client.complete(messages=MSG, model="gpt-4o", retry_total=0)
        assert info.value.status_code == 503
    recorded = remote.requests_for("chat")
    assert [r["status"] for r in recorded] == [200, 503]
    assert "_emulator" not in json.dumps([r["path"] for r in remote.requests])
    settings = remote.configure(chunk_size=5)
    assert settings["chunk_size"] == 5
    assert emu.settings.chunk_size == 5
    remote.script_raw(418, "teapot", route="chat")
    remote.clear()
    assert emu.requests == []
    assert emu.settings.chunk_size == 0
    with _chat(emu) as client:
        assert client.complete(messages=MSG).choices  # the raw script was cleared


def test_row34_control_errors_are_clear(azure_inference_emulator: Emulator) -> None:
    """Bad control input names the problem (in-process and over HTTP)."""
    emu = azure_inference_emulator
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.inject_fault("explode")
    with pytest.raises(ValueError, match="unknown deployment"):
        emu.script_reply("gpt-5", content="x")
    with pytest.raises(TypeError, match="unknown emulator setting"):
        emu.configure(latencyy=1)
    with pytest.raises(ValueError, match="status"):
        emu.inject_fault("status")
    remote = RemoteEmulator(emu.base_url)
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as info:
        remote.inject_fault("explode")
    assert info.value.code == 400
    info.value.close()


def test_row35_records_requests(azure_inference_emulator: Emulator) -> None:
    """Row 35: method, path, query, headers (redacted), body, route, deployment, status."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        client.complete(messages=MSG, model="gpt-4o", model_extras={"user": "u-1"})
    (rec,) = emu.requests
    assert rec.method == "POST"
    assert rec.path == "/models/chat/completions"
    assert rec.query == {"api-version": "2024-05-01-preview"}
    assert rec.headers["extra-parameters"] == "pass-through"
    assert rec.headers["api-key"] == "***"
    assert rec.body == {"messages": MSG, "model": "gpt-4o", "user": "u-1"}
    assert (rec.route, rec.deployment, rec.status, rec.stream) == ("chat", "gpt-4o", 200, False)
    assert emu.key not in json.dumps(rec.to_dict())


def test_row36_sequential_keep_alive(azure_inference_emulator: Emulator) -> None:
    """Row 36: 100 sequential SDK calls on one client."""
    emu = azure_inference_emulator
    with _chat(emu) as client:
        for _ in range(100):
            assert client.complete(messages=MSG).choices
    assert len(emu.requests) == 100


async def test_row36_concurrent_async_calls(azure_inference_emulator: Emulator) -> None:
    """Row 36: 20 concurrent aio calls (with latency so they overlap)."""
    emu = azure_inference_emulator
    emu.configure(latency=0.05)
    async with AsyncChatCompletionsClient(emu.endpoint, AzureKeyCredential(emu.key)) as client:
        results = await asyncio.gather(
            *(client.complete(messages=[{"role": "user", "content": f"n {i}"}]) for i in range(20))
        )
    assert all(r.choices[0].message.content for r in results)
    assert len({r.id for r in results}) == 20


def test_row36_client_leaving_mid_stream(azure_inference_emulator: Emulator) -> None:
    """Row 36: breaking out of a slow stream does not hurt the server."""
    emu = azure_inference_emulator
    emu.configure(stream_delay=0.02)
    with _chat(emu) as client:
        for _ in range(3):
            stream = client.complete(messages=MSG, stream=True)
            for _update in stream:
                break
            stream.close()
        emu.configure(stream_delay=0.0)
        assert client.complete(messages=MSG).choices
        with client.complete(messages=MSG, stream=True) as stream:
            assert list(stream)


async def test_async_context_manager() -> None:
    """`async with Emulator()` works and sync SDK calls from async code do not deadlock."""
    async with Emulator(key="k-async") as emu:
        assert emu.running
        with ChatCompletionsClient(emu.endpoint, AzureKeyCredential("k-async")) as client:
            assert client.complete(messages=MSG).choices
    assert not emu.running


def test_start_stop_idempotent_and_port_released() -> None:
    """start()/stop() are idempotent; a fixed port is reusable after stop()."""
    emu = Emulator()
    emu.start()
    emu.start()
    port = emu.port
    assert emu.endpoint == f"http://127.0.0.1:{port}/models"
    emu.stop()
    emu.stop()
    again = Emulator(port=port)
    with again:
        assert again.port == port
    with pytest.raises(RuntimeError, match="could not start"), Emulator(port=port) as busy:
        Emulator(port=busy.port).start()


def test_repr_has_no_key() -> None:
    """The key never shows in repr."""
    emu = Emulator(key="secret-key-123")
    assert "secret-key-123" not in repr(emu)


def test_fixture_clears_between_tests_first(azure_inference_emulator: Emulator) -> None:
    """The fixture clears state (paired with the next test)."""
    azure_inference_emulator.configure(latency=0.01)
    azure_inference_emulator.script_reply(None, content="left over")


def test_fixture_clears_between_tests_second(azure_inference_emulator: Emulator) -> None:
    """...so nothing leaks from the previous test."""
    assert azure_inference_emulator.settings.latency == 0.0
    assert azure_inference_emulator.requests == []
    with _chat(azure_inference_emulator) as client:
        assert client.complete(messages=MSG).choices[0].message.content != "left over"


def test_cli_main_prints_endpoint_and_key() -> None:
    """`python -m azureinfer.emulator` prints endpoint and key and serves until stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "azureinfer.emulator", "--port", "0", "--key", "cli-key"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().split()[-1]
        key = proc.stdout.readline().split()[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/models", endpoint)
        assert key == "cli-key"
        with ChatCompletionsClient(endpoint, AzureKeyCredential(key)) as client:
            assert client.complete(messages=MSG).choices
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_cli_bad_port_returns_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    """main() returns 1 with a message when the port is taken."""
    with Emulator() as emu:
        assert main(["--port", str(emu.port)]) == 1
    assert "could not start" in capsys.readouterr().err


def test_imports_are_light() -> None:
    """`import azureinfer` does not import the emulator; the emulator package not aiohttp.web."""
    code = (
        "import sys, azureinfer; assert 'azureinfer.emulator' not in sys.modules; "
        "import azureinfer.emulator; assert 'aiohttp.web' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_recording_is_bounded() -> None:
    """A long-running server keeps only the newest `max_recorded` requests."""
    with Emulator(max_recorded=3) as emu, _chat(emu) as client:
        for i in range(5):
            client.complete(messages=[{"role": "user", "content": f"n{i}"}])
        assert [r.body["messages"][0]["content"] for r in emu.requests] == ["n2", "n3", "n4"]
        emu.clear()
        assert emu.requests == []
