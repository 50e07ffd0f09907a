"""The quota schedule, the header reading and the row translation, without a cluster."""

from __future__ import annotations

import itertools
from collections.abc import Generator
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from ray_support import small_embeddings

from azureinfer.errors import ConfigurationError
from azureinfer.ray import QuotaActor, RowError, Schedule, estimate_tokens, limits_from_headers
from azureinfer.ray._workers import EmbedBatches, _check_columns, reply_of, request_tokens


def test_requests_are_spaced_evenly_with_the_margin() -> None:
    s = Schedule(requests_per_minute=600, window=2.0, margin=0.1)
    starts = [s.reserve(1, now=0.0).at for _ in range(50)]
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(starts)}
    assert gaps == {0.11}  # 60 / 600 * 1.1: never a burst
    for t in starts:  # no 2-second window (of arrival times) holds more than its 20
        assert sum(t <= u < t + 2.0 for u in starts) <= 20


def test_a_large_request_waits_until_the_window_has_room() -> None:
    s = Schedule(tokens_per_minute=6000, window=2.0, margin=0.0)  # 200 tokens per 2 s
    first = s.reserve(150, now=0.0)
    second = s.reserve(150, now=0.0)
    assert second.at >= first.at + 2.0  # 300 > 200: not in the same window
    with pytest.raises(ConfigurationError, match="lower batch_size"):
        s.reserve(201, now=0.0)


def test_settled_tokens_replace_the_estimate() -> None:
    s = Schedule(tokens_per_minute=6000, window=2.0, margin=0.0)
    first = s.reserve(190, now=0.0)
    assert s.next_at == pytest.approx(1.9)  # 190 tokens at 100 per second
    s.settle(first.id, 10)
    assert s.next_at == pytest.approx(0.1)  # the spacing follows the real count
    assert s.reserve(150, now=0.5).at == 0.5  # and the window has room for 150 more


async def test_the_probe_holds_the_next_start_back_like_any_start() -> None:
    # Regression: with the quota read from the probe's answer, the first scheduled start went
    # right after the probe (a window then held one request more than the spacing allows).
    actor = QuotaActor(window=2.0, margin=0.1)  # no quota: the first request probes
    probe = await actor.acquire("run", 1)
    actor.answered("run", probe, 200, {"x-ratelimit-limit-requests": "600"})
    actor.settle(probe, 1, False, 1)
    await actor.acquire("run", 1)
    at_probe, at_next = actor.timeline("run")["starts"]
    assert at_next - at_probe >= 0.1  # 60 / 600 * 1.1 = 0.11 s, as between any two starts
    assert actor.summary("run")["requests_per_minute"] == 600


def test_a_pause_holds_every_start() -> None:
    s = Schedule(requests_per_minute=60_000)
    s.pause(1.5, now=10.0)
    assert s.reserve(1, now=10.2).at == pytest.approx(11.5)
    assert not Schedule().limited and Schedule().reserve(5, now=3.0).at == 3.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requests_per_minute": 0}, "requests_per_minute"),
        ({"tokens_per_minute": True}, "tokens_per_minute"),
        ({"window": 0}, "quota_window"),
        ({"margin": 1.0}, "quota_margin"),
    ],
)
def test_bad_quotas_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Schedule(**kwargs)  # type: ignore[arg-type]


def test_limits_from_headers() -> None:
    assert limits_from_headers(
        {"x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "90000"}, 5
    ) == (600.0, 90000.0, True)
    # Azure OpenAI sends only what remains (recorded traffic): a lower bound of the quota.
    assert limits_from_headers(
        {"x-ratelimit-remaining-requests": "8", "x-ratelimit-remaining-tokens": "6012"}, 40
    ) == (9.0, 6052.0, True)
    assert limits_from_headers({"content-type": "application/json"}, 5) == (None, None, False)


def test_token_estimates_cover_the_emulator_count() -> None:
    assert estimate_tokens("Hello, world!") == 4
    assert estimate_tokens("internationalisation") == 4  # a long word is several tokens
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}
    assert request_tokens("chat", body) > 100
    assert request_tokens("embeddings", {"input": ["one two", "three"]}) == 3


def test_replies_of_every_result_kind() -> None:
    from langchain_core.messages import AIMessage
    from llama_index.core.base.llms.types import CompletionResponse
    from pydantic import BaseModel

    class City(BaseModel):
        name: str

    msg = AIMessage(content="", tool_calls=[{"id": "c1", "name": "f", "args": {"x": 1}}])
    assert reply_of(msg) == ("", [{"id": "c1", "name": "f", "arguments": {"x": 1}}])
    assert reply_of(CompletionResponse(text="hey")) == ("hey", [])
    assert reply_of(City(name="Oslo")) == ('{"name":"Oslo"}', [])
    assert reply_of({"name": "Oslo"}) == ('{"name": "Oslo"}', [])


def test_columns_are_checked_with_a_clear_message() -> None:
    table = pa.table({"id": [1], "body": ["x"]})
    with pytest.raises(ConfigurationError, match=r"no column 'text'.*columns: body, id"):
        _check_columns(table, ["text"], ["embedding"])
    with pytest.raises(ConfigurationError, match="already has a column 'body'"):
        _check_columns(table, ["body"], ["body"])


class _Ready:
    """What awaiting a finished ``ObjectRef`` gives: ``value``, at once."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[None, None, Any]:
        return self.value
        yield  # a generator function: awaitable


def _quota() -> tuple[Any, list[tuple[str, tuple[Any, ...]]]]:
    """A quota actor's handle without Ray: each ``method.remote(...)`` is recorded and answers
    at once (every ticket is 1)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def method(name: str) -> SimpleNamespace:
        def remote(*args: Any) -> _Ready:
            calls.append((name, args))
            return _Ready(1)

        return SimpleNamespace(remote=remote)

    names = ("register", "acquire", "answered", "settle", "rows")
    return SimpleNamespace(**{name: method(name) for name in names}), calls


def _embed_worker(emu: Any, quota: Any, error_column: str | None) -> EmbedBatches:
    return EmbedBatches(
        embeddings=small_embeddings(emu, max_batch_chars=20),
        model=None,
        quota=quota,
        run="run",
        text_column="text",
        output_column="embedding",
        error_column=error_column,
        id_column=None,
        batch_size=None,
        max_in_flight=2,
    )


async def test_a_bad_row_is_its_own_error_named_by_its_position(
    azure_inference_emulator: Any,
) -> None:
    # Regressions: a text alone over max_batch_chars failed the whole batch (the job) even
    # with on_error="keep"; and every row's error said "input 0", whatever the row.
    quota, calls = _quota()
    texts = ["alpha", "beta", "   ", "gamma", "x" * 50, "delta"]
    out = await _embed_worker(azure_inference_emulator, quota, "error")(pa.table({"text": texts}))
    rows = out.to_pylist()
    assert [r["embedding"] is None for r in rows] == [False, False, True, False, True, False]
    assert "input 2 is empty or whitespace only" in rows[2]["error"]
    assert "input 4 has 50 characters" in rows[4]["error"]
    assert "max_batch_chars=20" in rows[4]["error"]
    assert [r["error"] for r in rows if r["embedding"] is not None] == [None] * 4
    assert all(len(r["embedding"]) == 8 for r in rows if r["embedding"] is not None)
    assert ("rows", ("run", 6, 2)) in calls
    assert len(azure_inference_emulator.requests_for("embeddings")) == 1  # the 4 good ones


async def test_a_text_over_max_batch_chars_fails_the_job_naming_its_row(
    azure_inference_emulator: Any,
) -> None:
    quota, _ = _quota()
    worker = _embed_worker(azure_inference_emulator, quota, None)  # on_error="raise"
    message = r"embedding failed for the row whose text is 'xxx.*: .*input 1 has 50 characters"
    with pytest.raises(RowError, match=message) as info:
        await worker(pa.table({"text": ["alpha", "x" * 50, "beta"]}))
    assert 'on_error="keep"' in str(info.value)
    assert not azure_inference_emulator.requests  # the batch failed before any request
