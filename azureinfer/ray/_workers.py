"""What runs in the Ray workers: the callable classes given to ``map_batches``.

Each worker (a Ray actor of the pool) unpickles the user's embeddings or chat object once, so it
builds its own clients (sockets are never shared across processes), and sends every request
through `azureinfer.observe`: the `_QuotaObserver` waits for the cluster's quota actor before
each request, reports every answer (429s pause the whole cluster) and the usage after it.
Batches arrive as Arrow tables and leave as the same table with the new columns, so a vector or
a reply can only land in the row it was computed for.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from azureinfer.adapters import EmbeddingsAdapter
from azureinfer.batching import (
    BatchOptions,
    Embedder,
    EmbeddingInputError,
    EmbeddingsSpec,
    check_text,
    plan_batches,
)
from azureinfer.errors import AzureInferenceError, ConfigurationError
from azureinfer.observe import observe_requests
from azureinfer.settings import ConnectionSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from azureinfer.response import Usage

_WORD = re.compile(r"\w+|[^\w\s]")
_USAGE_COLUMNS = ("prompt_tokens", "completion_tokens", "total_tokens")


class RowError(AzureInferenceError):
    """A row's request failed after the retries (``on_error="raise"``); names the row."""


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` before the service counts them: one per word or punctuation mark, one
    per 6 characters of a long word (tokenizers split long words). The quota is corrected with
    the usage the service reports."""
    return sum(max(1, math.ceil(len(m) / 6)) for m in _WORD.findall(text))


def request_tokens(operation: str, body: Mapping[str, Any]) -> int:
    """The estimated tokens a request body will be charged (completion limit included)."""
    if operation.endswith("embeddings"):
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        return sum(estimate_tokens(i) if isinstance(i, str) else 85 for i in items)
    text = json.dumps(body.get("messages"), ensure_ascii=False)
    if body.get("tools"):
        text += json.dumps(body["tools"], ensure_ascii=False)
    limit = body.get("max_tokens") or body.get("max_completion_tokens") or 0
    return estimate_tokens(text) + (limit if isinstance(limit, int) else 0)


class _QuotaObserver:
    """`azureinfer.observe.RequestObserver` drawing from the cluster's quota actor."""

    def __init__(self, quota: Any, run: str, max_in_flight: int) -> None:
        self.quota = quota
        self.run = run
        self.slots = asyncio.Semaphore(max_in_flight)
        self.answers: dict[Any, int] = {}

    async def start(self, operation: str, body: Mapping[str, Any]) -> Any:
        await self.slots.acquire()
        try:
            return await self.quota.acquire.remote(self.run, request_tokens(operation, body))
        except BaseException:
            self.slots.release()
            raise

    def response(self, ticket: Any, status: int, headers: Mapping[str, str]) -> None:
        self.answers[ticket] = self.answers.get(ticket, 0) + 1
        # No wait: an azure-core hook must not block.
        self.quota.answered.remote(self.run, ticket, status, dict(headers))

    def finish(self, ticket: Any, usage: Usage | None, error: BaseException | None) -> None:
        self.slots.release()
        tokens = usage.total_tokens if usage is not None else None
        answers = self.answers.pop(ticket, 0)
        self.quota.settle.remote(ticket, tokens, error is not None, answers)


class _RowUsage:
    """Delegates to the worker's observer and adds up the usage of one row's requests."""

    def __init__(self, inner: _QuotaObserver) -> None:
        self.inner = inner
        self.prompt = self.completion = self.total = 0
        self.seen = False

    async def start(self, operation: str, body: Mapping[str, Any]) -> Any:
        return await self.inner.start(operation, body)

    def response(self, ticket: Any, status: int, headers: Mapping[str, str]) -> None:
        self.inner.response(ticket, status, headers)

    def finish(self, ticket: Any, usage: Usage | None, error: BaseException | None) -> None:
        if usage is not None:
            self.seen = True
            self.prompt += usage.prompt_tokens
            self.completion += usage.completion_tokens
            self.total += usage.total_tokens
        self.inner.finish(ticket, usage, error)


def embedding_plan(
    embeddings: Any, batch_size: int | None, model: str | None
) -> tuple[Embedder, EmbeddingsSpec, BatchOptions]:
    """The engine, request parameters and batching of an embeddings object: our LangChain or
    LlamaIndex class (their own `Embedder`, document input type and batch options) or
    `ConnectionSettings` (with ``model``)."""
    if isinstance(embeddings, ConnectionSettings):
        embedder = Embedder(embeddings)
        spec = EmbeddingsSpec.for_adapter(
            model=model, dimensions=None, encoding_format=None, input_type="document"
        )
        options = BatchOptions()
    elif isinstance(embeddings, EmbeddingsAdapter):
        if model is not None:
            raise ConfigurationError(
                "model= is for ConnectionSettings; set the model on the embeddings object"
            )
        embedder = embeddings._connection
        spec = embeddings._spec("document_input_type")
        options = embeddings._options()
    else:
        raise ConfigurationError(
            "embeddings must be langchain_azureinfer.AzureInferenceEmbeddings, "
            "llamaindex_azureinfer.AzureInferenceEmbedding or azureinfer.ConnectionSettings, "
            f"got {type(embeddings).__name__}"
        )
    options = replace(options, show_progress=False, max_concurrency=1)
    if batch_size is not None:
        options = replace(options, batch_size=batch_size)  # validated by BatchOptions
    return embedder, spec, options


def _row_name(batch: pa.Table, i: int, id_column: str | None, value_column: str) -> str:
    if id_column is not None:
        return f"row {id_column}={batch.column(id_column)[i].as_py()!r}"
    value = batch.column(value_column)[i].as_py()
    text = repr(value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "...")
    return f"the row whose {value_column} is {text}"


def _check_columns(batch: pa.Table, needed: Sequence[str | None], new: Sequence[str]) -> None:
    names = set(batch.column_names)
    for name in needed:
        if name is not None and name not in names:
            raise ConfigurationError(
                f"the dataset has no column {name!r} (columns: {', '.join(sorted(names))}); "
                "pass the right column name"
            )
    for name in new:
        if name in names:
            raise ConfigurationError(
                f"the dataset already has a column {name!r}; choose another output column name"
            )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class EmbedBatches:
    """``map_batches`` class of `azureinfer.ray.embed_dataset` (one instance per Ray actor)."""

    def __init__(
        self,
        embeddings: Any,
        model: str | None,
        quota: Any,
        run: str,
        text_column: str,
        output_column: str,
        error_column: str | None,
        id_column: str | None,
        batch_size: int | None,
        max_in_flight: int,
    ) -> None:
        self.embedder, self.spec, self.options = embedding_plan(embeddings, batch_size, model)
        self.observer = _QuotaObserver(quota, run, max_in_flight)
        self.quota, self.run = quota, run
        self.text_column, self.output_column = text_column, output_column
        self.error_column, self.id_column = error_column, id_column
        quota.register.remote(run, os.getpid())

    async def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        new = [self.output_column] + ([self.error_column] if self.error_column else [])
        _check_columns(batch, [self.text_column, self.id_column], new)
        texts = batch.column(self.text_column).to_pylist()
        vectors: list[list[float] | None] = [None] * len(texts)
        errors: list[str | None] = [None] * len(texts)
        good: list[int] = []
        for i, text in enumerate(texts):
            try:  # each row alone (a bad one is its own error), named by its position here
                check_text(i, text, self.options)
            except EmbeddingInputError as exc:
                self._fail(batch, [i], exc, errors)
            else:
                good.append(i)
        requests = plan_batches(  # none of them alone over max_batch_chars: no error here
            [texts[i] for i in good],
            batch_size=self.options.batch_size,
            max_batch_chars=self.options.max_batch_chars,
        )
        with observe_requests(self.observer):
            results = await asyncio.gather(
                *(self.embedder.aembed_batch(r.inputs, self.spec) for r in requests),
                return_exceptions=True,
            )
        for request, result in zip(requests, results, strict=True):
            rows = good[request.start : request.stop]
            if isinstance(result, BaseException):
                self._fail(batch, rows, result, errors)
                continue
            for row, vector in zip(rows, result, strict=True):
                vectors[row] = vector
        failed = sum(e is not None for e in errors)
        await self.quota.rows.remote(self.run, len(texts), failed)  # after this batch's settles
        out = batch.append_column(
            self.output_column, pa.array(vectors, type=pa.list_(pa.float32()))
        )
        if self.error_column:
            out = out.append_column(self.error_column, pa.array(errors, type=pa.string()))
        return out

    def _fail(
        self, batch: pa.Table, rows: list[int], exc: BaseException, errors: list[str | None]
    ) -> None:
        if not isinstance(exc, Exception):
            raise exc
        if self.error_column is None:
            self.quota.rows.remote(self.run, 0, len(rows))
            names = ", ".join(
                _row_name(batch, i, self.id_column, self.text_column) for i in rows[:3]
            )
            more = f" and {len(rows) - 3} more rows" if len(rows) > 3 else ""
            raise RowError(
                f"embedding failed for {names}{more}: {_error_text(exc)} "
                '(on_error="keep" gives such rows a null vector and an error column instead)'
            ) from exc
        for i in rows:
            errors[i] = _error_text(exc)


class ChatBatches:
    """``map_batches`` class of `azureinfer.ray.chat_dataset` (one instance per Ray actor)."""

    def __init__(
        self,
        chat_model: Any,
        quota: Any,
        run: str,
        prompt_column: str,
        output_column: str,
        error_column: str | None,
        id_column: str | None,
        max_in_flight: int,
    ) -> None:
        self.model = chat_model
        self.observer = _QuotaObserver(quota, run, max_in_flight)
        self.quota, self.run = quota, run
        self.prompt_column, self.output_column = prompt_column, output_column
        self.error_column, self.id_column = error_column, id_column
        quota.register.remote(run, os.getpid())

    def columns(self) -> list[str]:
        """The columns this class adds."""
        names = [self.output_column, "tool_calls", "prompt_tokens", "completion_tokens"]
        names.append("total_tokens")
        return names + ([self.error_column] if self.error_column else [])

    async def _one(self, prompt: Any) -> tuple[Any, _RowUsage]:
        usage = _RowUsage(self.observer)
        with observe_requests(usage):
            if hasattr(self.model, "ainvoke"):  # LangChain: a chat model or a Runnable over it
                result = await self.model.ainvoke(prompt)
            else:  # LlamaIndex LLM (also as_structured_llm)
                result = await self.model.acomplete(prompt)
        return result, usage

    async def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        _check_columns(batch, [self.prompt_column, self.id_column], self.columns())
        prompts = batch.column(self.prompt_column).to_pylist()
        results = await asyncio.gather(*(self._one(p) for p in prompts), return_exceptions=True)
        replies: list[str | None] = []
        calls: list[str | None] = []
        tokens: list[list[int | None]] = [[], [], []]
        errors: list[str | None] = []
        for i, outcome in enumerate(results):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                if self.error_column is None:
                    self.quota.rows.remote(self.run, 0, 1)
                    raise RowError(
                        f"chat failed for {_row_name(batch, i, self.id_column, self.prompt_column)}"
                        f': {_error_text(outcome)} (on_error="keep" gives such rows a null '
                        "reply and an error column instead)"
                    ) from outcome
                replies.append(None)
                calls.append(None)
                for column in tokens:
                    column.append(None)
                errors.append(_error_text(outcome))
                continue
            result, usage = outcome
            text, tool_calls = reply_of(result)
            replies.append(text)
            calls.append(json.dumps(tool_calls, ensure_ascii=False) if tool_calls else None)
            counts = (usage.prompt, usage.completion, usage.total)
            for column, value in zip(tokens, counts, strict=True):
                column.append(value if usage.seen else None)
            errors.append(None)
        await self.quota.rows.remote(self.run, len(prompts), sum(e is not None for e in errors))
        out = batch.append_column(self.output_column, pa.array(replies, type=pa.string()))
        out = out.append_column("tool_calls", pa.array(calls, type=pa.string()))
        for name, column in zip(_USAGE_COLUMNS, tokens, strict=True):
            out = out.append_column(name, pa.array(column, type=pa.int64()))
        if self.error_column:
            out = out.append_column(self.error_column, pa.array(errors, type=pa.string()))
        return out


def reply_of(result: Any) -> tuple[str, list[dict[str, Any]]]:
    """The reply text (JSON for structured output) and the tool calls of a chat call's result:
    a LangChain message, a LlamaIndex response, or a structured-output object (pydantic model
    or dict)."""
    if hasattr(result, "tool_calls") and hasattr(result, "content"):  # LangChain AIMessage
        content = result.content
        if isinstance(content, list):
            content = "".join(
                part if isinstance(part, str) else str(part.get("text", ""))
                for part in content
                if isinstance(part, (str, dict))
            )
        calls = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("args")}
            for c in result.tool_calls
        ]
        return str(content), calls
    if hasattr(result, "text") and hasattr(result, "additional_kwargs"):  # LlamaIndex completion
        return str(result.text), []
    if hasattr(result, "message") and hasattr(result, "raw"):  # LlamaIndex ChatResponse
        return str(result.message.content or ""), []
    if hasattr(result, "model_dump_json"):  # a pydantic object from structured output
        return str(result.model_dump_json()), []
    if isinstance(result, (dict, list)):
        return json.dumps(result, ensure_ascii=False, default=str), []
    return str(result), []
