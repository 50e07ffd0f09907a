"""Scenario 8: the OpenAI/v1 route. Our classes vs the raw ``openai`` SDK and the OpenAI-SDK
integrations people use on that route, on the same local endpoint (``{emulator}/openai/v1``).

Also ``python -m bench --only v1``. Subjects:

- ``openai.OpenAI`` / ``openai.AsyncOpenAI`` ``chat.completions.create`` (the floor on this route);
- ours: the core ``ChatClient`` (no framework), ``ChatAzureInference`` (LangChain) and
  ``AzureInference`` (LlamaIndex), all with ``route`` detected from the endpoint;
- ``langchain-azure-ai`` ``AzureAIOpenAIApiChatModel`` (chat completions, not its Responses
  default, which would not be comparable) and ``langchain-openai`` ``ChatOpenAI(base_url=...)``.

Measured per subject, interleaved round by round: sync calls, async calls (sequential awaits in
one long-lived event loop shared by all subjects: langchain-openai caches one async HTTP client
for every instance, which then only works in the loop that made it), and a streamed reply of
``stream_chunks`` one-character chunks. A last column says whether async calls still work in a
second ``asyncio.run`` (a new event loop), the defect the reference file reports for the
OpenAI-SDK integrations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench._harness import EmulatorProcess, Table, fmt_ratio, fmt_seconds, median, short_error
from bench._subjects import CHAT_MODEL, PROMPT, Subject, _LangChainSubject, _LlamaIndexSubject


def v1_endpoint(emu: EmulatorProcess) -> str:
    """The emulator's OpenAI/v1 base URL."""
    return f"{emu.base_url}/openai/v1"


class RawOpenAI(Subject):
    """``openai.OpenAI(base_url=...).chat.completions.create``: the floor on this route."""

    name = "raw openai SDK (chat.completions.create)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        import openai

        self._client = openai.OpenAI(base_url=endpoint, api_key=key, max_retries=0)
        self._aclient: Any = None
        self._messages: Any = [{"role": "user", "content": PROMPT}]

    def invoke(self) -> str:
        reply = self._client.chat.completions.create(model=CHAT_MODEL, messages=self._messages)
        return str(reply.choices[0].message.content)

    def stream(self, on_first: Callable[[], None]) -> int:
        n = 0
        stream = self._client.chat.completions.create(
            model=CHAT_MODEL,
            messages=self._messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        with stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    if n == 0:
                        on_first()
                    n += 1
        return n

    async def ainvoke(self) -> str:
        if self._aclient is None:
            import openai

            self._aclient = openai.AsyncOpenAI(
                base_url=self.endpoint, api_key=self.key, max_retries=0
            )
        reply = await self._aclient.chat.completions.create(
            model=CHAT_MODEL, messages=self._messages
        )
        return str(reply.choices[0].message.content)

    def close(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.close()
            self._aclient = None


class OurCore(Subject):
    """``azureinfer.ChatClient`` with ``build_chat_request``: the core without a framework."""

    name = "ours: core ChatClient"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from azureinfer import ChatClient, build_chat_request, resolve_settings

        self._client = ChatClient(resolve_settings(endpoint, key, max_retries=0))
        self._build = build_chat_request
        self._messages = [{"role": "user", "content": PROMPT}]

    def invoke(self) -> str:
        return self._client.complete(self._build(self._messages, model=CHAT_MODEL)).content or ""

    def stream(self, on_first: Callable[[], None]) -> int:
        n = 0
        request = self._build(self._messages, model=CHAT_MODEL, stream=True)
        for chunk in self._client.stream(request):
            if chunk.content:
                if n == 0:
                    on_first()
                n += 1
        return n

    async def ainvoke(self) -> str:
        result = await self._client.acomplete(self._build(self._messages, model=CHAT_MODEL))
        return result.content or ""

    def close(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        await self._client.aclose()


class OurLangChainV1(_LangChainSubject):
    """``ChatAzureInference`` on the v1 endpoint (route detected)."""

    name = "ours: ChatAzureInference"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from langchain_azureinfer import ChatAzureInference

        self.llm = ChatAzureInference(
            model=CHAT_MODEL, endpoint=endpoint, credential=key, max_retries=0
        )


class OurLlamaIndexV1(_LlamaIndexSubject):
    """``AzureInference`` on the v1 endpoint (route detected)."""

    name = "ours: AzureInference (LlamaIndex)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from llamaindex_azureinfer import AzureInference

        self.llm = AzureInference(
            model=CHAT_MODEL, endpoint=endpoint, credential=key, max_retries=0
        )


class AzureAIOpenAIApi(_LangChainSubject):
    """``langchain_azure_ai.chat_models.AzureAIOpenAIApiChatModel`` (chat completions)."""

    name = "langchain-azure-ai AzureAIOpenAIApiChatModel"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_azure_ai.chat_models import (  # type: ignore[import-untyped]
                AzureAIOpenAIApiChatModel,
            )

            self.llm = AzureAIOpenAIApiChatModel(
                endpoint=endpoint,
                credential=key,
                model=CHAT_MODEL,
                use_responses_api=False,
                max_retries=0,
            )


class ChatOpenAIBaseURL(_LangChainSubject):
    """``langchain_openai.ChatOpenAI(base_url=...)``."""

    name = "langchain-openai ChatOpenAI(base_url=...)"

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(endpoint, key)
        from langchain_openai import ChatOpenAI

        self.llm = ChatOpenAI(base_url=endpoint, api_key=key, model=CHAT_MODEL, max_retries=0)


#: Table order: the floor, ours, the existing integrations.
V1_SUBJECTS: list[type[Subject]] = [
    RawOpenAI,
    OurCore,
    OurLangChainV1,
    OurLlamaIndexV1,
    AzureAIOpenAIApi,
    ChatOpenAIBaseURL,
]
_LANGCHAIN = (OurLangChainV1, AzureAIOpenAIApi, ChatOpenAIBaseURL)


async def _async_calls(s: Subject, n: int) -> list[float]:
    out: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        await s.ainvoke()
        out.append(time.perf_counter() - t0)
    return out


def _new_loop_check(cls: type[Subject], endpoint: str, key: str) -> str:
    """Two ``asyncio.run`` calls on one instance: does the second (a new loop) work?"""
    s = cls(endpoint, key)
    try:
        for _ in range(2):
            asyncio.run(s.ainvoke())
        return "yes"
    except Exception as exc:
        return f"NO: {short_error(exc)}"
    finally:
        s.close()


def scenario_v1(
    emu: EmulatorProcess, cfg: Any, classes: list[type[Subject]] | None = None
) -> Table:
    """Per-call (sync, async) and streaming cost on the OpenAI/v1 route (of ``classes``, by
    default every subject)."""
    classes = V1_SUBJECTS if classes is None else classes
    emu.clear()
    endpoint = v1_endpoint(emu)
    subjects: list[Subject] = []
    errors: dict[str, str] = {}
    failed: dict[tuple[str, str], str] = {}
    loop = asyncio.new_event_loop()
    for cls in classes:
        try:
            subjects.append(cls(endpoint, emu.key))
        except Exception as exc:
            errors[cls.name] = f"unavailable ({short_error(exc)})"
    rounds = cfg.overhead_rounds
    per_round = max(1, cfg.overhead_calls // rounds)
    sync: dict[str, list[float]] = {s.name: [] for s in subjects}
    cpu: dict[str, list[float]] = {s.name: [] for s in subjects}
    asyn: dict[str, list[float]] = {s.name: [] for s in subjects}
    stream: dict[str, list[float]] = {s.name: [] for s in subjects}
    content = ("abcdefghij" * (cfg.stream_chunks // 10 + 1))[: cfg.stream_chunks]

    def guarded(s: Subject, what: str, fn: Callable[[], None]) -> None:
        if (s.name, what) in failed:
            return
        try:
            fn()
        except Exception as exc:
            failed[(s.name, what)] = short_error(exc)

    for s in subjects:  # warm-up: connections, imports, caches
        guarded(s, "sync", lambda s=s: [s.invoke() for _ in range(cfg.overhead_warmup)])
        guarded(s, "async", lambda s=s: loop.run_until_complete(_async_calls(s, 3)))
    for rnd in range(rounds):
        for s in subjects:

            def run_sync(s: Subject = s) -> None:
                c0 = time.process_time()
                for _ in range(per_round):
                    t0 = time.perf_counter()
                    s.invoke()
                    sync[s.name].append(time.perf_counter() - t0)
                cpu[s.name].append((time.process_time() - c0) / per_round)

            guarded(s, "sync", run_sync)
            guarded(
                s,
                "async",
                lambda s=s: asyn[s.name].extend(
                    loop.run_until_complete(_async_calls(s, per_round))
                ),
            )
            if rnd < cfg.stream_reps + 1:

                def run_stream(s: Subject = s, rnd: int = rnd) -> None:
                    emu.configure(chunk_size=1)
                    emu.script_reply(CHAT_MODEL, content=content)
                    t0 = time.perf_counter()
                    n = s.stream(lambda: None)
                    elapsed = time.perf_counter() - t0
                    emu.configure(chunk_size=0)
                    if n != cfg.stream_chunks:
                        raise RuntimeError(f"received {n} of {cfg.stream_chunks} chunks")
                    if rnd > 0:  # round 0 is the streams' warm-up
                        stream[s.name].append(elapsed)

                guarded(s, "stream", run_stream)
    for s in subjects:
        s.close()
        loop.run_until_complete(s.aclose())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    new_loop = {
        cls.name: _new_loop_check(cls, endpoint, emu.key)
        for cls in classes
        if cls.name not in errors
    }

    table = Table(
        f"8. OpenAI/v1 route: {per_round * rounds} sync and {per_round * rounds} async calls, "
        f"and {cfg.stream_reps} streams of {cfg.stream_chunks} chunks per client, zero server "
        "latency",
        ["client", "sync per call", "ratio to openai", "client CPU per call", "async per call",
         "ratio to openai", "stream total", "ratio to openai", "async in a new event loop",
         "targets"],
    )  # fmt: skip
    base = median(sync.get(RawOpenAI.name, []))
    base_async = median(asyn.get(RawOpenAI.name, []))
    base_stream = median(stream.get(RawOpenAI.name, []))
    lc_sync = {c.name: median(sync.get(c.name, [])) for c in _LANGCHAIN}
    for cls in classes:
        name = cls.name
        if name in errors:
            table.add(name, errors[name])
            continue
        med, med_a, med_s = median(sync[name]), median(asyn[name]), median(stream[name])

        def cell(what: str, text: str, name: str = name) -> str:
            return failed.get((name, what), text)

        verdicts = []
        if name.startswith("ours"):
            verdicts.append(_verdict("call", med / base, 1.05))
            verdicts.append(_verdict("stream", med_s / base_stream, 1.0))
        if cls is OurLangChainV1:
            others = [v for n, v in lc_sync.items() if n != name and v == v]
            if others:
                ok = med < min(others)
                verdicts.append(f"{'met' if ok else 'MISSED'} (below both LangChain classes)")
        table.add(
            name,
            cell("sync", fmt_seconds(med)),
            fmt_ratio(med, base),
            fmt_seconds(median(cpu[name])),
            cell("async", fmt_seconds(med_a)),
            fmt_ratio(med_a, base_async),
            cell("stream", fmt_seconds(med_s)),
            fmt_ratio(med_s, base_stream),
            new_loop.get(name, ""),
            "; ".join(v for v in verdicts if v),
        )
    table.notes.append(
        "Medians over every call; clients interleaved round by round (sync calls, then async "
        "calls in one shared event loop, then a stream). 'Async in a new event loop': two "
        "asyncio.run() calls on one instance (the raw SDK row reuses one AsyncOpenAI, as the "
        "integrations do). Targets: per call within 1.05x of the raw "
        "openai SDK, streaming faster than it (< 1.00x), ChatAzureInference below both LangChain "
        "classes built on the openai SDK."
    )
    return table


def _verdict(what: str, ratio: float, limit: float) -> str:
    if ratio != ratio:
        return ""
    ok = ratio <= limit if limit != 1.0 else ratio < limit
    return f"{what} {'met' if ok else 'MISSED'} ({ratio:.2f}x)"
