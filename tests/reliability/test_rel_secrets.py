"""Secrets: a recognisable key never shows up where people or tools can read it.

Checked: ``repr``/``str`` of every public object (before and after use), ``dumpd``/``dumps``/
``model_dump``/``to_dict``/``to_json``, exception messages and formatted tracebacks (whole chains),
LangChain callback payloads and tracer runs, LlamaIndex instrumentation events and spans and
callback payloads, DEBUG logs of every logger (with azure-core's HTTP logging policy, and with
its network trace turned on by ``logging_enable=True``). Pickles carry the credential on purpose
(to worker processes): that is the documented exception, pinned at the end.

OpenTelemetry spans are checked in ``test_rel_tracing.py``.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import pickle
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.span_handlers import SimpleSpanHandler
from llama_index.core.llms import ChatMessage
from rel_support import lc_chat, lc_embed, li_chat, li_embed

from azureinfer import errors, resolve_settings
from azureinfer.emulator import Emulator
from azureinfer.transport import ChatClient, EmbeddingsClient

KEY = "relSECRETkey-7f3a9c1e5b2d"
WRONG_KEY = "relWRONGkey-0d9e8f7a6b5c"
SECRETS = (KEY, WRONG_KEY)


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret leaked in {where}: ...{_around(text, secret)}..."


def _around(text: str, secret: str) -> str:
    i = text.index(secret)
    return text[max(0, i - 80) : i + len(secret) + 20]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(key=KEY) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    """This module's emulator (it knows ``KEY``), cleared: overrides the shared ``emu``."""
    server.clear()
    return server


def _objects(emu: Emulator) -> dict[str, Any]:
    settings = resolve_settings(emu.endpoint, KEY)
    return {
        "lc_chat": lc_chat(emu, credential=KEY),
        "lc_chat_azure_key": lc_chat(emu, credential=AzureKeyCredential(KEY)),
        "lc_embed": lc_embed(emu, credential=KEY),
        "li_chat": li_chat(emu, credential=KEY),
        "li_embed": li_embed(emu, credential=KEY),
        "settings": settings,
        "chat_client": ChatClient(settings),
        "embeddings_client": EmbeddingsClient(settings),
    }


def _views(name: str, obj: Any) -> dict[str, str]:
    """Every readable rendering of a public object."""
    out = {"repr": repr(obj), "str": str(obj), "format": f"{obj!r:}"}
    if hasattr(obj, "model_dump"):
        out["model_dump"] = repr(obj.model_dump())
        out["model_dump_json"] = obj.model_dump_json(fallback=repr)
    if name.startswith("lc_"):
        out["dumpd"] = json.dumps(dumpd(obj), default=repr)
        out["dumps"] = dumps(obj)
        out["to_json"] = json.dumps(obj.to_json(), default=repr)
    if name.startswith("li_"):
        out["to_dict"] = repr(obj.to_dict())
        out["to_json"] = obj.to_json()
        out["dict"] = repr(obj.dict())
    for attr in ("credential", "_settings", "settings"):
        value = getattr(obj, attr, None)
        if value is not None:
            out[f"{attr}"] = repr(value) + str(value)
    return out


def _use(objects: dict[str, Any]) -> None:
    messages = [ChatMessage(role="user", content="Hello")]
    objects["lc_chat"].invoke("Hello")
    objects["lc_chat_azure_key"].invoke("Hello")
    asyncio.run(objects["lc_chat"].ainvoke("Hello"))
    objects["lc_embed"].embed_query("Hello")
    objects["li_chat"].chat(messages)
    objects["li_embed"].get_text_embedding("Hello")


def test_repr_str_and_serialised_forms_carry_no_key(emu: Emulator) -> None:
    objects = _objects(emu)
    for name, obj in objects.items():
        for view, text in _views(name, obj).items():
            assert_clean(text, f"{name} {view} (fresh)")
    _use(objects)  # clients are built lazily: look again once they exist
    for name, obj in objects.items():
        for view, text in _views(name, obj).items():
            assert_clean(text, f"{name} {view} (after use)")
    # The request log redacts too.
    assert_clean(repr([r.headers for r in emu.requests]), "emulator request log")


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc)


def test_errors_and_tracebacks_carry_no_key(emu: Emulator) -> None:
    """A refused key (401), a service error, a connection error and bad arguments."""
    caught: list[BaseException] = []
    bad = {
        "lc_chat": lambda: lc_chat(emu, credential=WRONG_KEY).invoke("Hello"),
        "lc_stream": lambda: list(lc_chat(emu, credential=WRONG_KEY).stream("Hello")),
        "lc_embed": lambda: lc_embed(emu, credential=WRONG_KEY).embed_query("Hello"),
        "li_chat": lambda: li_chat(emu, credential=WRONG_KEY).chat(
            [ChatMessage(role="user", content="Hello")]
        ),
        "li_embed": lambda: li_embed(emu, credential=WRONG_KEY).get_text_embedding("Hello"),
        "li_achat": lambda: asyncio.run(
            li_chat(emu, credential=WRONG_KEY).achat([ChatMessage(role="user", content="Hi")])
        ),
    }
    for name, call in bad.items():
        with pytest.raises(errors.AuthenticationError) as info:
            call()
        caught.append(info.value)
        assert_clean(_format(info.value), f"{name} 401")
        assert_clean(repr(info.value.body), f"{name} 401 body")

    emu.inject_fault("status", status=500, times=10)
    with pytest.raises(errors.ServiceError) as info:
        lc_chat(emu, credential=KEY).invoke("Hello")
    assert_clean(_format(info.value), "500 after retries")

    unreachable = "http://127.0.0.1:9/models"  # discard port: connection refused
    for call in (
        lambda: lc_chat(emu, endpoint=unreachable, credential=KEY, max_retries=0).invoke("x"),
        lambda: li_embed(
            emu, endpoint=unreachable, credential=KEY, max_retries=0
        ).get_text_embedding("x"),
    ):
        with pytest.raises(errors.APIConnectionError) as conn:
            call()
        assert_clean(_format(conn.value), "connection error")

    # Construction errors: a bad argument next to a good key (pydantic shows input values).
    constructors = [
        lambda: lc_chat(emu, credential=KEY, temperature="hot"),
        lambda: lc_chat(emu, credential=KEY, endpoint="not a url"),
        lambda: lc_chat(emu, credential=KEY, client_kwargs={"bogus": 1}),
        lambda: lc_embed(emu, credential=KEY, batch_size=0),
        lambda: lc_embed(emu, credential=KEY, endpoint=""),
        lambda: li_chat(emu, credential=KEY, temperature=9.0),
        lambda: li_chat(emu, credential=KEY, client_kwargs={"bogus": 1}),
        lambda: li_embed(emu, credential=KEY, dimensions=-1),
        lambda: li_embed(emu, credential=KEY, client_kwargs={"bogus": 1}),
        lambda: resolve_settings(emu.endpoint, KEY, timeout=-1),
        lambda: resolve_settings("ftp://x", KEY),
    ]
    for i, make in enumerate(constructors):
        with pytest.raises((ValueError, TypeError)) as bad_arg:
            make()
        assert_clean(_format(bad_arg.value), f"construction error #{i}")


class _RecordingHandler(BaseCallbackHandler):
    """Keeps a rendering of every callback's arguments."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):

            def record(*args: Any, **kwargs: Any) -> None:
                self.payloads.append(f"{name} {args!r} {kwargs!r}")

            return record
        return super().__getattribute__(name)


class _RecordingTracer(BaseTracer):
    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        self.runs.append(run)

    def _end_trace(self, run: Run) -> None:
        super()._end_trace(run)
        self.runs.append(run)


def test_langchain_callback_payloads_and_traces_carry_no_key(emu: Emulator) -> None:
    handler, tracer = _RecordingHandler(), _RecordingTracer()
    config: Any = {"callbacks": [handler, tracer]}
    llm = lc_chat(emu, credential=KEY)
    llm.invoke("Hello", config=config)
    list(llm.stream("Hello", config=config))
    asyncio.run(llm.ainvoke("Hello", config=config))
    llm.bind_tools([{"type": "function", "function": {"name": "f", "parameters": {}}}]).invoke(
        "Use the tool", config=config
    )
    with pytest.raises(errors.AuthenticationError):
        lc_chat(emu, credential=WRONG_KEY).invoke("Hello", config=config)
    assert len(handler.payloads) >= 10
    assert tracer.runs
    for payload in handler.payloads:
        assert_clean(payload, "LangChain callback")
    for run in tracer.runs:
        assert_clean(run.model_dump_json(), "LangChain tracer run")
        assert_clean(repr(run.serialized) + repr(run.extra), "LangChain run serialized/extra")


class _EventCollector(BaseEventHandler):
    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "RelEventCollector"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


def test_llamaindex_instrumentation_carries_no_key(emu: Emulator) -> None:
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.callbacks.base_handler import BaseCallbackHandler as LIHandler

    class Payloads(LIHandler):
        def __init__(self) -> None:
            super().__init__([], [])
            self.seen: list[str] = []

        def on_event_start(self, event_type: Any, payload: Any = None, **kw: Any) -> str:
            self.seen.append(f"{event_type} {payload!r} {kw!r}")
            return kw.get("event_id", "")

        def on_event_end(self, event_type: Any, payload: Any = None, **kw: Any) -> None:
            self.seen.append(f"{event_type} {payload!r} {kw!r}")

        def start_trace(self, trace_id: str | None = None) -> None:
            pass

        def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
            pass

    dispatcher = get_dispatcher()
    collector = _EventCollector(events=[])
    spans = SimpleSpanHandler()
    dispatcher.add_event_handler(collector)
    dispatcher.add_span_handler(spans)
    payloads = Payloads()
    try:
        llm = li_chat(emu, credential=KEY, callback_manager=CallbackManager([payloads]))
        messages = [ChatMessage(role="user", content="Hello")]
        llm.chat(messages)
        list(llm.stream_chat(messages))
        llm.complete("Hello")
        asyncio.run(llm.achat(messages))
        embed = li_embed(emu, credential=KEY, callback_manager=CallbackManager([payloads]))
        embed.get_text_embedding_batch(["a", "b"])
        with pytest.raises(errors.AuthenticationError):
            li_chat(emu, credential=WRONG_KEY).chat(messages)
    finally:
        dispatcher.event_handlers.remove(collector)
        dispatcher.span_handlers.remove(spans)
    assert len(collector.events) >= 8
    for event in collector.events:
        assert_clean(repr(event) + repr(event.model_dump()), f"event {event.class_name()}")
    for span in spans.completed_spans + spans.dropped_spans:
        assert_clean(repr(span), "LlamaIndex span")
    assert payloads.seen
    for seen in payloads.seen:
        assert_clean(seen, "LlamaIndex callback payload")


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Every logger at DEBUG into one buffer (names, messages, arguments, exc_info)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _exercise_all(emu: Emulator, client_kwargs: dict[str, Any], route: str) -> None:
    endpoint = emu.v1_endpoint if route == "openai_v1" else emu.endpoint
    kw = {"client_kwargs": client_kwargs, "endpoint": endpoint}
    messages = [ChatMessage(role="user", content="Hello")]
    llm = lc_chat(emu, credential=KEY, **kw)
    llm.invoke("Hello")
    list(llm.stream("Hello"))
    asyncio.run(llm.ainvoke("Hello"))
    lc_embed(emu, credential=KEY, **kw).embed_documents(["a", "b"])
    li = li_chat(emu, credential=KEY, **kw)
    li.chat(messages)
    asyncio.run(li.achat(messages))
    li_embed(emu, credential=KEY, **kw).get_text_embedding("a")
    emu.inject_fault("status", status=429, retry_after=0)
    llm.invoke("Hello")  # a retry logs too
    with pytest.raises(errors.AuthenticationError):
        lc_chat(emu, credential=WRONG_KEY, **kw).invoke("Hello")


ROUTES = ("model_inference", "openai_v1")


@pytest.mark.parametrize("route", ROUTES)
def test_debug_logs_carry_no_key(emu: Emulator, debug_log: io.StringIO, route: str) -> None:
    """azure-core's HttpLoggingPolicy logs headers at DEBUG (it redacts by allow-list)."""
    _exercise_all(emu, {}, route)
    text = debug_log.getvalue()
    assert "Request headers" in text or "Request URL" in text  # HTTP logging did run
    assert_clean(text, "DEBUG log")


@pytest.mark.parametrize("route", ROUTES)
def test_debug_logs_with_logging_enable_carry_no_key(
    emu: Emulator, debug_log: io.StringIO, route: str
) -> None:
    _exercise_all(emu, {"logging_enable": True, "logging_body": True}, route)
    text = debug_log.getvalue()
    assert "Request headers" in text
    assert_clean(text, "DEBUG log with logging_enable=True")


def test_pickle_carries_the_key_on_purpose(emu: Emulator) -> None:
    """The documented exception: a pickle rebuilds a working instance in another process."""
    llm = lc_chat(emu, credential=KEY)
    blob = pickle.dumps(llm)
    assert KEY.encode() in blob
    clone = pickle.loads(blob)
    assert clone.invoke("Hello").content == "Emulated reply from gpt-4o: Hello"
    assert_clean(repr(clone), "repr of an unpickled model")
