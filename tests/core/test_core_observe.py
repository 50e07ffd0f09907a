"""`azureinfer.observe`: the hook around each async request (what azureinfer.ray draws through)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from azureinfer import ChatClient, EmbeddingsClient, build_chat_request, build_embeddings_request
from azureinfer.errors import ContentFilterError
from azureinfer.observe import observe_requests
from azureinfer.settings import resolve_settings


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.tickets = 0

    async def start(self, route: str, body: Mapping[str, Any]) -> int:
        await asyncio.sleep(0)
        self.tickets += 1
        self.events.append(("start", self.tickets, route, sorted(body)))
        return self.tickets

    def response(self, ticket: int, status: int, headers: Mapping[str, str]) -> None:
        self.events.append(("response", ticket, status, "apim-request-id" in headers))

    def finish(self, ticket: int, usage: Any, error: BaseException | None) -> None:
        total = usage.total_tokens if usage is not None else None
        self.events.append(("finish", ticket, total, type(error).__name__ if error else None))


def _settings(emu: Any) -> Any:
    fast = {"retry_backoff_factor": 0.001, "retry_backoff_max": 0.01}
    return resolve_settings(emu.endpoint, emu.key, client_kwargs=fast)


async def test_every_answer_and_the_usage_are_seen(azure_inference_emulator: Any) -> None:
    emu = azure_inference_emulator
    emu.inject_fault("status", status=429, retry_after_ms=10, times=1, route="chat")
    rec = Recorder()
    async with ChatClient(_settings(emu)) as chat:
        with observe_requests(rec):
            result = await chat.acomplete(build_chat_request([{"role": "user", "content": "hi"}]))
    assert rec.events == [
        ("start", 1, "chat", ["messages"]),
        ("response", 1, 429, True),  # the retried answer too
        ("response", 1, 200, True),
        ("finish", 1, result.usage.total_tokens, None),
    ]


async def test_concurrent_tasks_and_errors(azure_inference_emulator: Any) -> None:
    emu = azure_inference_emulator
    rec = Recorder()
    async with EmbeddingsClient(_settings(emu)) as client:
        with observe_requests(rec):
            await asyncio.gather(
                *(client.aembed(build_embeddings_request([f"text {i}"])) for i in range(3))
            )
    assert sorted(e[0] for e in rec.events) == ["finish"] * 3 + ["response"] * 3 + ["start"] * 3
    assert {e[2] for e in rec.events if e[0] == "finish"} == {2}  # "text N": 2 tokens each
    rec = Recorder()
    filtered = [{"role": "user", "content": "EMULATOR_FILTER_PROMPT_VIOLENCE"}]
    async with ChatClient(_settings(emu)) as chat:
        with observe_requests(rec), pytest.raises(ContentFilterError):
            await chat.acomplete(build_chat_request(filtered))
        await chat.acomplete(build_chat_request([{"role": "user", "content": "unobserved"}]))
    assert rec.events[-1] == ("finish", 1, None, "ContentFilterError")
    assert len(rec.events) == 3  # nothing after the block
