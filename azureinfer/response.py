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
    ServiceError,
)

__all__ = [
    "ChatChunk",
    "ChatResult",
    "EmbeddingsResult",
    "InvalidToolCall",
    "StreamAccumulator",  # noqa: F822 - re-exported lazily from azureinfer.streaming
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


def parse_chat_completion(data: Mapping[str, Any] | str, *, think_tags: bool = True) -> ChatResult:
    """Parse a wire chat completion (its first choice); a ``str`` is the answer's body, read
    as a JSON object first.

    Raises:
        ContentFilterError: no choices and the prompt filter results say "filtered".
        ServiceError: no choices otherwise, or a body that is not a completion.
    """
    if isinstance(data, str):
        data = _json_object(data)
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


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ServiceError(
            f"The service answered 200 with a body that is not JSON: {text[:80]!r}"
        ) from exc
    if not isinstance(data, dict):
        raise ServiceError(
            f"The service answered 200 with JSON that is not an object: {text[:80]!r}"
        )
    return data


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
    data: Mapping[str, Any] | str,
    *,
    expected: int | None = None,
    encoding_format: str | None = None,
    dimensions: int | None = None,
) -> EmbeddingsResult:
    """Parse a wire embeddings result, ordering vectors by ``index`` and decoding them to floats
    (a ``str`` is the answer's body, read as a JSON object first).

    Raises:
        EmbeddingsResponseError: malformed data, or not exactly one embedding for each of the
            ``expected`` inputs; ``positions`` names the inputs left without one.
        ServiceError: a ``str`` body that is not a JSON object.
    """
    if isinstance(data, str):
        data = _json_object(data)
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


def __getattr__(name: str) -> Any:
    # StreamAccumulator lives in azureinfer.streaming (which imports this module); kept here too.
    if name == "StreamAccumulator":
        from azureinfer.streaming import StreamAccumulator

        return StreamAccumulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
