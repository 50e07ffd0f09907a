"""Parsed results: chat completions, stream chunks and their accumulation, embeddings.

Everything the service returned is kept: fields we know become attributes, every other field
(``logprobs``, ``content_filter_results``, ``prompt_filter_results``, ``audio``, ...) lands in
``extras``, and ``raw`` is the wire dict. Reasoning sent inside ``<think>...</think>`` at the start
of the content is split into ``reasoning_content`` (``think_tags=False`` turns that off).
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from azureinfer.errors import (
    ContentFilterError,
    EmbeddingsResponseError,
    IncompleteStreamError,
    ServiceError,
)

__all__ = [
    "ChatChunk",
    "ChatResult",
    "EmbeddingsResult",
    "InvalidToolCall",
    "StreamAccumulator",
    "ToolCall",
    "ToolCallChunk",
    "Usage",
    "decode_embedding",
    "parse_chat_completion",
    "parse_embeddings",
    "parse_usage",
    "split_think_tags",
]

_TOP_KEYS = frozenset(
    {"id", "object", "created", "model", "choices", "usage", "system_fingerprint"}
)
_CHOICE_KEYS = frozenset({"index", "message", "delta", "finish_reason"})
_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "reasoning_content"})

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass
class Usage:
    """Token counts; ``cached_tokens`` and ``reasoning_tokens`` come from the details objects."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolCall:
    """A tool call whose arguments parsed as a JSON object."""

    id: str | None
    name: str
    arguments: dict[str, Any]
    index: int = 0


@dataclass
class InvalidToolCall:
    """A tool call whose arguments are not a JSON object: the raw string and the parse error."""

    id: str | None
    name: str | None
    arguments: str | None
    error: str
    index: int = 0


@dataclass
class ToolCallChunk:
    """A streamed tool-call fragment; join fragments by ``index``."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass
class ChatResult:
    """One parsed chat completion (the first choice)."""

    id: str | None
    model: str | None
    created: int | None
    content: str
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    invalid_tool_calls: list[InvalidToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    system_fingerprint: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def created_at(self) -> datetime | None:
        """``created`` as an aware UTC datetime (None when absent or out of range)."""
        if not self.created:
            return None
        try:
            return datetime.fromtimestamp(self.created, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None


@dataclass
class ChatChunk:
    """One streamed update. The last chunk of a successful stream carries ``finish_reason``."""

    id: str | None = None
    model: str | None = None
    content: str = ""
    reasoning_content: str = ""
    tool_call_chunks: list[ToolCallChunk] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class EmbeddingsResult:
    """Vectors in input order, decoded from base64 when that encoding was asked for."""

    vectors: list[list[float]]
    model: str | None = None
    usage: Usage | None = None
    raw: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Helpers


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_usage(data: Any) -> Usage | None:
    """Parse a wire ``usage`` object (None when absent)."""
    if not isinstance(data, Mapping):
        return None
    prompt = _int(data.get("prompt_tokens")) or 0
    completion = _int(data.get("completion_tokens")) or 0
    total = _int(data.get("total_tokens"))
    prompt_details = data.get("prompt_tokens_details")
    completion_details = data.get("completion_tokens_details")
    cached = (
        _int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, Mapping) else None
    )
    reasoning = (
        _int(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, Mapping)
        else None
    )
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if total is not None else prompt + completion,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
        raw=dict(data),
    )


def split_think_tags(content: str) -> tuple[str | None, str]:
    """Split a leading ``<think>...</think>`` block off the content.

    Returns ``(reasoning, rest)``; ``reasoning`` is None when the content does not start with
    ``<think>``. An unclosed block (a truncated answer) is all reasoning.
    """
    stripped = content.lstrip()
    if not stripped.startswith(THINK_OPEN):
        return None, content
    inner = stripped[len(THINK_OPEN) :]
    end = inner.find(THINK_CLOSE)
    if end < 0:
        return inner.strip(), ""
    return inner[:end].strip(), inner[end + len(THINK_CLOSE) :].lstrip()


def _collect_extras(extras: dict[str, Any], data: Mapping[str, Any], known: frozenset[str]) -> None:
    for key, val in data.items():
        if key not in known and val is not None:
            extras[key] = val


def _parse_tool_calls(raw_calls: Any) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    if not isinstance(raw_calls, list):
        return calls, invalid
    for i, tc in enumerate(raw_calls):
        if not isinstance(tc, Mapping):
            invalid.append(InvalidToolCall(None, None, json.dumps(tc), "not an object", i))
            continue
        index = _int(tc.get("index"))
        index = i if index is None else index
        fn = tc.get("function")
        call_id = tc.get("id") if isinstance(tc.get("id"), str) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            invalid.append(
                InvalidToolCall(
                    call_id, None, json.dumps(tc), "tool call without a function name", index
                )
            )
            continue
        name = fn["name"]
        args = fn.get("arguments")
        if args is None or (isinstance(args, str) and not args.strip()):
            calls.append(ToolCall(call_id, name, {}, index))
            continue
        if isinstance(args, Mapping):  # some services send an object
            calls.append(ToolCall(call_id, name, dict(args), index))
            continue
        if not isinstance(args, str):
            invalid.append(
                InvalidToolCall(
                    call_id, name, json.dumps(args), "arguments are not a string", index
                )
            )
            continue
        try:
            parsed = json.loads(args)
        except ValueError as exc:
            invalid.append(InvalidToolCall(call_id, name, args, f"invalid JSON: {exc}", index))
            continue
        if not isinstance(parsed, dict):
            invalid.append(
                InvalidToolCall(
                    call_id,
                    name,
                    args,
                    f"arguments are JSON {type(parsed).__name__}, not an object",
                    index,
                )
            )
            continue
        calls.append(ToolCall(call_id, name, parsed, index))
    return calls, invalid


def _empty_choices_error(data: Mapping[str, Any]) -> Exception:
    filters = data.get("prompt_filter_results")
    filtered = False
    results: dict[str, Any] | None = None
    if isinstance(filters, list):
        for entry in filters:
            cfr = entry.get("content_filter_results") if isinstance(entry, Mapping) else None
            if isinstance(cfr, Mapping):
                results = dict(cfr)
                if any(isinstance(v, Mapping) and v.get("filtered") for v in cfr.values()):
                    filtered = True
    if filtered:
        exc = ContentFilterError(
            "The service returned no choices: the prompt was blocked by the content filter.",
            body=dict(data),
            code="content_filter",
            param="prompt",
        )
        exc.content_filter_results = results
        return exc
    return ServiceError(
        "The service returned an answer with no choices"
        + (f" (id {data.get('id')!r})" if data.get("id") else "")
        + ".",
        body=dict(data),
    )


def parse_chat_completion(data: Mapping[str, Any], *, think_tags: bool = True) -> ChatResult:
    """Parse a wire chat completion (its first choice).

    Raises:
        ContentFilterError: no choices and the prompt filter results say "filtered".
        ServiceError: no choices otherwise, or a body that is not a completion.
    """
    if not isinstance(data, Mapping):
        raise ServiceError(f"Expected a JSON object from the service, got {type(data).__name__}")
    if isinstance(data.get("error"), Mapping):
        raise ServiceError(f"The service returned an error object with status 200: {data['error']}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise _empty_choices_error(data)
    extras: dict[str, Any] = {}
    _collect_extras(extras, data, _TOP_KEYS)
    choice: Mapping[str, Any] = next(
        (c for c in choices if isinstance(c, Mapping) and c.get("index") == 0), _map(choices[0])
    )
    if len(choices) > 1:
        extras["choices"] = [c for c in choices if c is not choice]
    _collect_extras(extras, choice, _CHOICE_KEYS)
    message = _map(choice.get("message"))
    _collect_extras(extras, message, _MESSAGE_KEYS)
    content = message.get("content")
    if isinstance(content, list):  # some services send text parts
        content = "".join(
            p["text"]
            for p in content
            if isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str)
        )
    content = content if isinstance(content, str) else ""
    reasoning = message.get("reasoning_content")
    reasoning = reasoning if isinstance(reasoning, str) else None
    if think_tags and reasoning is None:
        split_reasoning, rest = split_think_tags(content)
        if split_reasoning is not None:
            reasoning, content = split_reasoning or None, rest
    calls, invalid = _parse_tool_calls(message.get("tool_calls"))
    fp = data.get("system_fingerprint")
    return ChatResult(
        id=data.get("id") if isinstance(data.get("id"), str) else None,
        model=data.get("model") if isinstance(data.get("model"), str) else None,
        created=_int(data.get("created")),
        content=content,
        reasoning_content=reasoning,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        finish_reason=choice.get("finish_reason")
        if isinstance(choice.get("finish_reason"), str)
        else None,
        usage=parse_usage(data.get("usage")),
        system_fingerprint=fp if isinstance(fp, str) else None,
        extras=extras,
        raw=dict(data),
    )


# --------------------------------------------------------------------------------------------
# Streaming


class _ThinkSplitter:
    """Incrementally route content deltas to reasoning or content around a leading <think>."""

    def __init__(self) -> None:
        self.state = "start"  # start -> thinking -> content, or start -> content
        self.buffer = ""
        self.strip_leading = False  # strip whitespace at the start of the current part

    def _lead(self) -> bool:
        """Drop leading whitespace of a part; False while only whitespace has arrived."""
        if self.strip_leading:
            self.buffer = self.buffer.lstrip()
            if not self.buffer:
                return False
            self.strip_leading = False
        return True

    def feed(self, text: str) -> tuple[str, str]:
        """Return ``(reasoning, content)`` that can be emitted now.

        Whitespace around the reasoning and at the start of the answer is dropped, as
        :func:`split_think_tags` does; trailing whitespace of the reasoning is held back until
        more reasoning text follows.
        """
        reasoning, content = "", ""
        self.buffer += text
        while self.buffer:
            if self.state == "start":
                lead = self.buffer.lstrip()
                if lead.startswith(THINK_OPEN):
                    self.buffer = lead[len(THINK_OPEN) :]
                    self.state = "thinking"
                    self.strip_leading = True
                    continue
                if THINK_OPEN.startswith(lead):  # may still become "<think>"
                    return reasoning, content
                self.state = "content"
                continue
            if not self._lead():
                return reasoning, content
            if self.state == "thinking":
                end = self.buffer.find(THINK_CLOSE)
                if end >= 0:
                    reasoning += self.buffer[:end].rstrip()
                    self.buffer = self.buffer[end + len(THINK_CLOSE) :]
                    self.state = "content"
                    self.strip_leading = True
                    continue
                hold = _partial_suffix(self.buffer, THINK_CLOSE)
                emit = self.buffer[: len(self.buffer) - hold].rstrip()
                reasoning += emit
                self.buffer = self.buffer[len(emit) :]
                return reasoning, content
            content += self.buffer  # content
            self.buffer = ""
        return reasoning, content

    def flush(self) -> tuple[str, str]:
        """Emit whatever is held back at the end of the stream."""
        held, self.buffer = self.buffer, ""
        if self.state == "thinking":
            return held.rstrip(), ""
        if self.state == "content" and self.strip_leading:
            return "", held.lstrip()
        return "", held


def _partial_suffix(text: str, token: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``token``."""
    for n in range(min(len(token) - 1, len(text)), 0, -1):
        if token.startswith(text[-n:]):
            return n
    return 0


@dataclass
class _ToolAcc:
    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


class StreamAccumulator:
    """Turn stream events into :class:`ChatChunk`s and accumulate the final :class:`ChatResult`.

    Feed each decoded SSE event with :meth:`add` (``"[DONE]"`` for the terminator), then call
    :meth:`finish`. A chunk carrying ``finish_reason`` is held back until the next event so a
    trailing usage-only chunk (``choices: []``) is merged into it: the last chunk of a
    successful stream carries ``finish_reason``, and usage arrives on exactly one chunk.
    """

    def __init__(self, *, think_tags: bool = True) -> None:
        self.think_tags = think_tags
        self._splitter = _ThinkSplitter() if think_tags else None
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.system_fingerprint: str | None = None
        self.content = ""
        self.reasoning = ""
        self._native_reasoning = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.extras: dict[str, Any] = {}
        self._tools: dict[int, _ToolAcc] = {}
        self._ids: dict[str, int] = {}
        self._last_tool: int | None = None
        self._held: ChatChunk | None = None
        self.done = False
        self.events = 0

    # -- tool fragments -------------------------------------------------------------------
    def _tool_index(self, frag: Mapping[str, Any]) -> int:
        index = _int(frag.get("index"))
        frag_id = frag.get("id") if isinstance(frag.get("id"), str) and frag.get("id") else None
        if index is None:
            if frag_id is not None and frag_id in self._ids:
                index = self._ids[frag_id]
            elif frag_id is not None or self._last_tool is None:
                index = max(self._tools, default=-1) + 1
            else:
                index = self._last_tool
        if frag_id is not None:
            self._ids.setdefault(frag_id, index)
        return index

    def _add_tool_fragments(self, frags: Any) -> list[ToolCallChunk]:
        out: list[ToolCallChunk] = []
        if not isinstance(frags, list):
            return out
        for frag in frags:
            if not isinstance(frag, Mapping):
                continue
            index = self._tool_index(frag)
            acc = self._tools.setdefault(index, _ToolAcc(index))
            fn = _map(frag.get("function"))
            frag_id = frag.get("id") if isinstance(frag.get("id"), str) and frag.get("id") else None
            name = fn.get("name") if isinstance(fn.get("name"), str) and fn.get("name") else None
            args = fn.get("arguments")
            args = args if isinstance(args, str) else (json.dumps(args) if args else "")
            if frag_id and not acc.id:
                acc.id = frag_id
            if name and not acc.name:
                acc.name = name
            acc.arguments += args
            self._last_tool = index
            out.append(ToolCallChunk(index=index, id=frag_id, name=name, arguments=args))
        return out

    # -- events ---------------------------------------------------------------------------
    def add(self, event: Mapping[str, Any] | str) -> ChatChunk | None:
        """Add one decoded event; return the chunk to hand out now, if any.

        Raises:
            IncompleteStreamError: the event is an error event (``{"error": ...}``).
        """
        if isinstance(event, str):
            if event.strip() == "[DONE]":
                self.done = True
                return None
            raise IncompleteStreamError(f"Unexpected stream event {event[:80]!r}")
        if not isinstance(event, Mapping):
            raise IncompleteStreamError(f"Unexpected stream event of type {type(event).__name__}")
        self.events += 1
        if "error" in event and not event.get("choices"):
            err = event.get("error")
            payload = dict(err) if isinstance(err, Mapping) else {"message": str(err)}
            code = payload.get("code")
            msg = payload.get("message") or "no message"
            raise IncompleteStreamError(
                f"The stream carried an error event after {self.events - 1} events: "
                + (f"({code}) {msg}" if code else str(msg)),
                partial=self._partial(),
                error_event={"error": payload},
            )
        if isinstance(event.get("id"), str) and event.get("id"):
            self.id = self.id or event["id"]
        if isinstance(event.get("model"), str) and event.get("model"):
            self.model = self.model or event["model"]
        if self.created is None:
            self.created = _int(event.get("created"))
        if isinstance(event.get("system_fingerprint"), str):
            self.system_fingerprint = event["system_fingerprint"]

        chunk = ChatChunk(id=self.id, model=self.model, raw=dict(event))
        _collect_extras(chunk.extras, event, _TOP_KEYS)
        choices = _list(event.get("choices"))
        choice = next(
            (c for c in choices if isinstance(c, Mapping) and _int(c.get("index")) in (0, None)),
            None,
        )
        if choice is not None:
            _collect_extras(chunk.extras, choice, _CHOICE_KEYS)
            delta = _map(choice.get("delta"))
            _collect_extras(chunk.extras, delta, _MESSAGE_KEYS)
            text = delta.get("content")
            text = text if isinstance(text, str) else ""
            native = delta.get("reasoning_content")
            if isinstance(native, str) and native:
                self._native_reasoning = True
                chunk.reasoning_content += native
            if self._splitter is not None and not self._native_reasoning:
                thought, text = self._splitter.feed(text)
                chunk.reasoning_content += thought
            chunk.content = text
            chunk.tool_call_chunks = self._add_tool_fragments(delta.get("tool_calls"))
            fr = choice.get("finish_reason")
            if isinstance(fr, str) and fr:
                chunk.finish_reason = fr
        self.content += chunk.content
        self.reasoning += chunk.reasoning_content
        for key, val in chunk.extras.items():
            _merge_extra(self.extras, key, val)
        usage = parse_usage(event.get("usage"))
        if usage is not None:
            self.usage = usage
            chunk.usage = usage

        if self._held is not None:
            # Everything after the finishing chunk (an OpenAI usage-only chunk, filter results)
            # is merged into it, so the finishing chunk stays last and carries the usage.
            _merge_chunk(self._held, chunk)
            return None
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self._held = chunk
            return None
        if choice is None and usage is None and not chunk.extras:
            return None
        return chunk

    def finish(self) -> ChatChunk | None:
        """Close the stream; return the last chunk (carrying ``finish_reason``) if one is held.

        Raises:
            IncompleteStreamError: the stream ended without a finish reason and without
            ``[DONE]``.
        """
        tail_reasoning, tail_content = self._splitter.flush() if self._splitter else ("", "")
        self.content += tail_content
        self.reasoning += tail_reasoning
        if self.finish_reason is None and not self.done:
            raise IncompleteStreamError(
                f"The stream ended after {self.events} events without a finish reason or [DONE]: "
                "the answer is incomplete.",
                partial=self._partial(),
            )
        last = self._held
        self._held = None
        if last is None and (tail_content or tail_reasoning):
            last = ChatChunk(id=self.id, model=self.model)
        if last is not None:
            last.content += tail_content
            last.reasoning_content += tail_reasoning
        return last

    def tool_calls_so_far(self) -> list[ToolCallChunk]:
        """The tool calls received so far, their fragments joined, in index order.

        ``arguments`` is the JSON text received so far (partial until the stream finishes).
        """
        return [
            ToolCallChunk(index=acc.index, id=acc.id, name=acc.name, arguments=acc.arguments)
            for acc in sorted(self._tools.values(), key=lambda a: a.index)
        ]

    def snapshot(self) -> ChatResult:
        """Everything received so far as a :class:`ChatResult`, at any point of the stream.

        Tool calls whose arguments do not parse yet are ``invalid_tool_calls``;
        ``finish_reason`` is set once the finishing event came. Text still held by the
        ``<think>`` splitter (a possibly partial tag) arrives with :meth:`finish`.
        """
        return self._build()

    def _partial(self) -> ChatResult:
        return self._build()

    def result(self) -> ChatResult:
        """The accumulated result (call after :meth:`finish`)."""
        return self._build()

    def _build(self) -> ChatResult:
        calls, invalid = _parse_tool_calls(
            [
                {
                    "index": c.index,
                    "id": c.id,
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in self.tool_calls_so_far()
            ]
        )
        return ChatResult(
            id=self.id,
            model=self.model,
            created=self.created,
            content=self.content,
            reasoning_content=self.reasoning or None,
            tool_calls=calls,
            invalid_tool_calls=invalid,
            finish_reason=self.finish_reason,
            usage=self.usage,
            system_fingerprint=self.system_fingerprint,
            extras=dict(self.extras),
            raw={},
        )


def _merge_chunk(held: ChatChunk, new: ChatChunk) -> None:
    held.content += new.content
    held.reasoning_content += new.reasoning_content
    held.tool_call_chunks.extend(new.tool_call_chunks)
    if new.usage is not None:
        held.usage = new.usage
    held.extras.update(new.extras)


def _merge_extra(target: dict[str, Any], key: str, val: Any) -> None:
    """Accumulate streamed extras: lists concatenate (logprobs content), others last-wins."""
    old = target.get(key)
    if isinstance(old, Mapping) and isinstance(val, Mapping) and key == "logprobs":
        merged = dict(old)
        for k, v in val.items():
            if isinstance(merged.get(k), list) and isinstance(v, list):
                merged[k] = merged[k] + v
            else:
                merged[k] = v
        target[key] = merged
    else:
        target[key] = val


# --------------------------------------------------------------------------------------------
# Embeddings


def decode_embedding(
    value: Any, encoding_format: str | None = None, dimensions: int | None = None
) -> list[float]:
    """One embedding from the wire as a list of floats.

    - ``float`` (or None): the list itself;
    - ``base64``: little-endian float32 bytes (a base64 string is decoded whatever format was
      asked for: some services answer base64 for every format);
    - ``int8``: the integers as floats; ``uint8``: the integers minus 128 (uint8 is int8 shifted
      by 128), so the vector is centred like the others and cosine similarity stays meaningful;
    - ``binary`` / ``ubinary``: sign bits packed 8 per byte (most significant bit first),
      unpacked to +1.0 / -1.0 and cut to ``dimensions`` when given.

    Raises:
        EmbeddingsResponseError: anything else (bad base64, a non-number, another type).
    """
    if isinstance(value, str):
        return _decode_base64(value)
    if not isinstance(value, list):
        raise EmbeddingsResponseError(
            f"embedding is a {type(value).__name__}, expected a list or a base64 string"
        )
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in value):
        raise EmbeddingsResponseError("embedding holds a value that is not a number")
    if encoding_format in ("binary", "ubinary"):
        bits: list[float] = []
        for byte in value:
            b = int(byte) & 0xFF
            bits.extend(1.0 if b & (0x80 >> k) else -1.0 for k in range(8))
        return bits[:dimensions] if dimensions else bits
    offset = 128.0 if encoding_format == "uint8" else 0.0
    return [float(x) - offset for x in value]


def _decode_base64(value: str) -> list[float]:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EmbeddingsResponseError(f"embedding is not valid base64: {exc}") from None
    if len(raw) % 4:
        raise EmbeddingsResponseError(
            f"base64 embedding has {len(raw)} bytes, not a whole number of float32 values"
        )
    floats = array("f")
    floats.frombytes(raw)
    if sys.byteorder != "little":  # pragma: no cover - big-endian hosts only
        floats.byteswap()
    return floats.tolist()


def parse_embeddings(
    data: Mapping[str, Any],
    *,
    expected: int | None = None,
    encoding_format: str | None = None,
    dimensions: int | None = None,
) -> EmbeddingsResult:
    """Parse a wire embeddings result, ordering vectors by ``index`` and decoding them to floats.

    Raises:
        EmbeddingsResponseError: malformed data, or not exactly one embedding for each of the
            ``expected`` inputs; ``positions`` names the inputs left without one.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        raise EmbeddingsResponseError(
            "The service returned an embeddings answer without a 'data' list"
        )
    items = data["data"]
    indexed: dict[int, list[float]] = {}
    for pos, item in enumerate(items):
        if not isinstance(item, Mapping) or "embedding" not in item:
            raise EmbeddingsResponseError(f"Embeddings item {pos} has no 'embedding'")
        index = _int(item.get("index"))
        index = pos if index is None else index
        if index in indexed:
            raise EmbeddingsResponseError(f"the service returned two embeddings for input {index}")
        indexed[index] = decode_embedding(item["embedding"], encoding_format, dimensions)
    count = len(indexed)
    wanted = count if expected is None else expected
    missing = [i for i in range(wanted) if i not in indexed]
    stray = sorted(i for i in indexed if not 0 <= i < wanted)
    if missing or stray:
        message = f"the service returned {count} embeddings for {wanted} inputs"
        if missing:
            message += f"; missing positions: {missing[:10]}"
        if stray:
            message += f"; indexes out of range: {stray[:10]}"
        error = EmbeddingsResponseError(message)
        error.positions = missing
        raise error
    return EmbeddingsResult(
        vectors=[indexed[i] for i in range(count)],
        model=data.get("model") if isinstance(data.get("model"), str) else None,
        usage=parse_usage(data.get("usage")),
        raw=dict(data),
    )
