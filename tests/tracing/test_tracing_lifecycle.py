"""instrument / uninstrument, the entry point, and what the library never does: set a global
provider, import OpenTelemetry while not instrumented, or record after ``uninstrument()``."""

from __future__ import annotations

import asyncio
import importlib.metadata
import pathlib
import subprocess
import sys
from typing import Any

import pytest
import tomllib
from opentelemetry import metrics, trace
from tracing_support import CHAT_MODEL, EMBED_MODEL, Telemetry

from azureinfer import (
    ChatClient,
    EmbeddingsClient,
    _telemetry,
    build_chat_request,
    build_embeddings_request,
)
from azureinfer.emulator import Emulator
from azureinfer.tracing import AzureInferenceInstrumentor

ROOT = pathlib.Path(__file__).resolve().parents[2]
HI = [{"role": "user", "content": "Hello"}]


def _every_call(chat: ChatClient, embed: EmbeddingsClient) -> None:
    chat.complete(build_chat_request(HI, model=CHAT_MODEL))
    list(chat.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True)))

    async def run() -> None:
        await chat.acomplete(build_chat_request(HI, model=CHAT_MODEL))
        async for _ in chat.astream(build_chat_request(HI, model=CHAT_MODEL, stream=True)):
            pass
        await embed.aembed(build_embeddings_request(["a"], model=EMBED_MODEL))

    asyncio.run(run())
    embed.embed(build_embeddings_request(["a"], model=EMBED_MODEL))


def test_uninstrument_stops_every_span_and_metric(
    instrument: Any, emu: Emulator, chat_client: ChatClient, embed_client: EmbeddingsClient
) -> None:
    otel: Telemetry = instrument()
    _every_call(chat_client, embed_client)
    assert len(otel.spans()) == 6
    before = {name: [p.count for p in otel.points(name)] for name in otel.metric_names()}
    assert set(before) == {
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.time_to_first_chunk",
    }
    AzureInferenceInstrumentor().uninstrument()
    assert _telemetry.HOOK is None
    _every_call(chat_client, embed_client)
    assert len(otel.spans()) == 6
    assert {name: [p.count for p in otel.points(name)] for name in otel.metric_names()} == before
    assert len(emu.requests) == 12  # the calls themselves still ran


def test_a_stream_open_at_uninstrument_still_ends_its_span(
    instrument: Any, emu: Emulator, chat_client: ChatClient
) -> None:
    otel: Telemetry = instrument()
    stream = iter(chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True)))
    next(stream)
    AzureInferenceInstrumentor().uninstrument()
    list(stream)
    assert otel.span().attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_instrument_is_an_idempotent_singleton(
    instrument: Any, emu: Emulator, chat_client: ChatClient, caplog: pytest.LogCaptureFixture
) -> None:
    otel: Telemetry = instrument()
    hook = _telemetry.HOOK
    assert AzureInferenceInstrumentor() is AzureInferenceInstrumentor()
    AzureInferenceInstrumentor().instrument()  # a second call changes nothing
    assert _telemetry.HOOK is hook
    chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
    assert len(otel.spans()) == 1
    AzureInferenceInstrumentor().uninstrument()
    AzureInferenceInstrumentor().uninstrument()  # and so does a second uninstrument
    assert _telemetry.HOOK is None
    assert AzureInferenceInstrumentor().is_instrumented_by_opentelemetry is False


def test_no_global_provider_is_set_and_no_exporter_made(
    monkeypatch: pytest.MonkeyPatch, emu: Emulator, chat_client: ChatClient
) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("the library set a global provider")

    monkeypatch.setattr(trace, "set_tracer_provider", refuse)
    monkeypatch.setattr(metrics, "set_meter_provider", refuse)
    tracer_provider = trace.get_tracer_provider()
    meter_provider = metrics.get_meter_provider()
    before = set(sys.modules)
    instrumentor = AzureInferenceInstrumentor()
    instrumentor.instrument()  # the global (possibly no-op) providers
    try:
        chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
        list(chat_client.stream(build_chat_request(HI, model=CHAT_MODEL, stream=True)))
    finally:
        instrumentor.uninstrument()
    assert trace.get_tracer_provider() is tracer_provider
    assert metrics.get_meter_provider() is meter_provider
    imported = set(sys.modules) - before
    assert not [m for m in imported if m.startswith(("azure.monitor", "opentelemetry.exporter"))]


def _declared_entry_point() -> importlib.metadata.EntryPoint:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    group = project["entry-points"]["opentelemetry_instrumentor"]
    assert list(group) == ["azureinfer"]
    return importlib.metadata.EntryPoint(
        "azureinfer", group["azureinfer"], "opentelemetry_instrumentor"
    )


def test_the_entry_point_resolves_to_the_instrumentor() -> None:
    assert _declared_entry_point().load() is AzureInferenceInstrumentor
    installed = [
        ep
        for ep in importlib.metadata.entry_points(group="opentelemetry_instrumentor")
        if ep.name == "azureinfer"
    ]
    for ep in installed:  # an install built from an older checkout may not have it yet
        assert ep.value == _declared_entry_point().value


def test_opentelemetry_instrument_loads_it_the_way_the_cli_does(
    emu: Emulator, chat_client: ChatClient
) -> None:
    from opentelemetry.instrumentation.distro import DefaultDistro

    DefaultDistro().load_instrumentor(_declared_entry_point(), skip_dep_check=True)
    try:
        assert _telemetry.HOOK is not None
        chat_client.complete(build_chat_request(HI, model=CHAT_MODEL))
    finally:
        AzureInferenceInstrumentor().uninstrument()
    assert _telemetry.HOOK is None


def test_not_instrumented_nothing_of_opentelemetry_is_imported(emu: Emulator) -> None:
    """Tracing off costs nothing: the transport checks one attribute; OTel is never imported."""
    code = f"""
import asyncio, sys
from azureinfer import ChatClient, EmbeddingsClient, resolve_settings
from azureinfer import build_chat_request, build_embeddings_request
settings = resolve_settings({emu.endpoint!r}, {emu.key!r})
req = build_chat_request([{{"role": "user", "content": "hi"}}], model="gpt-4o")
sreq = build_chat_request([{{"role": "user", "content": "hi"}}], model="gpt-4o", stream=True)
with ChatClient(settings) as chat, EmbeddingsClient(settings) as emb:
    chat.complete(req)
    list(chat.stream(sreq))
    async def run():
        await chat.acomplete(req)
        async for _ in chat.astream(sreq):
            pass
        await emb.aembed(build_embeddings_request(["a"], model="cohere-embed-v3-english"))
    asyncio.run(run())
    emb.embed(build_embeddings_request(["a"], model="cohere-embed-v3-english"))
bad = [m for m in sys.modules if m.startswith(("opentelemetry", "azureinfer.tracing"))]
print(bad)
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_without_the_opentelemetry_packages_calls_work_and_the_import_names_the_extra(
    emu: Emulator,
) -> None:
    """A process where no ``opentelemetry`` module can be imported (the extra not installed)."""
    code = f"""
import sys
class NoOTel:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NoOTel())
from azureinfer import ChatClient, resolve_settings, build_chat_request
with ChatClient(resolve_settings({emu.endpoint!r}, {emu.key!r})) as chat:
    req = build_chat_request([{{"role": "user", "content": "hi"}}], model="gpt-4o")
    print(chat.complete(req).content)
try:
    import azureinfer.tracing
except ImportError as exc:
    print("ImportError:", exc)
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "Emulated reply from gpt-4o: hi", out.stderr
    assert lines[1].startswith("ImportError: azureinfer.tracing needs OpenTelemetry")
    assert "pip install 'azureinfer[tracing]'" in lines[1]
