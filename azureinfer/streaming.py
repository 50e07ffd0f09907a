"""Streaming, with no I/O: SSE decoding, stream accumulation, a sans-I/O stream parser and the
stream objects ``ChatClient.stream`` / ``astream`` return.

Nothing here opens a socket or calls azure-core: the transport's sync and async drivers move a
response's bytes into a :class:`StreamRun` (a :class:`StreamParser` and the stream's watcher)
and yield the :class:`~azureinfer.response.ChatChunk` values it returns; :class:`ChatStream` /
:class:`AsyncChatStream` iterate that driver and read what has arrived.

The SSE decoder is tolerant where the SDK's own parser is not (it raises on CRLF line endings,
comments (``: keep-alive``), ``event:`` / ``id:`` / ``retry:`` lines and ``data:`` without a
space, and silently skips error events). It follows the SSE spec: lines end in LF, CRLF or CR;
``:`` lines are comments; an event's ``data`` lines are joined with newlines and the event ends
at a blank line (or the end of the stream).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from azureinfer.errors import IncompleteStreamError
from azureinfer.response import (
    _CHOICE_KEYS,
    _MESSAGE_KEYS,
    _TOP_KEYS,
    THINK_CLOSE,
    THINK_OPEN,
    ChatChunk,
    ChatResult,
    ToolCallChunk,
    Usage,
    _collect_extras,
    _int,
    _json_object,
    _list,
    _map,
    _parse_tool_calls,
    parse_usage,
)

__all__ = [
    "AsyncChatStream",
    "ChatStream",
    "SSEDecoder",
    "StreamAccumulator",
    "StreamParser",
    "StreamRun",
    "StreamWatcher",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SSEDecoder:
    """Feed bytes, get back the ``data`` payload of each complete event."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk of bytes; return the events it completed."""
        return self._process(self._decoder.decode(chunk), final=False)

    def close(self) -> list[str]:
        """End of stream: return the last event if it was not followed by a blank line."""
        events = self._process(self._decoder.decode(b"", final=True), final=True)
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        return events

    def _process(self, text: str, *, final: bool) -> list[str]:
        events: list[str] = []
        text = self._buffer + text
        # A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        hold_cr = not final and text.endswith("\r")
        if hold_cr:
            text = text[:-1]
        lines = _LINE_BREAK.split(text)
        self._buffer = "" if final else lines.pop()
        if hold_cr:
            self._buffer += "\r"
        for line in lines:
            self._handle_line(line, events)
        return events

    def _handle_line(self, line: str, events: list[str]) -> None:
        if line == "":
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        # event:, id:, retry: and unknown fields are ignored


# --------------------------------------------------------------------------------------------
# Accumulation


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
        self._tools: dict[int, ToolCallChunk] = {}  # joined so far, by index
        self._ids: dict[str, int] = {}
        self._last_tool: int | None = None
        self._held: ChatChunk | None = None
        self.done = False
        self.finished = False  # finish() has run: the stream is complete
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
            acc = self._tools.setdefault(index, ToolCallChunk(index))
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
        self.finished = True
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
        return [replace(acc) for _, acc in sorted(self._tools.items())]  # copies: ours grow

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
# The sans-I/O parser


class StreamParser:
    """Turn the bytes of a chat stream into chunks, with no I/O.

    ``feed`` the response's bytes as they arrive, then ``close`` at the end; ``whole`` takes
    the body of a service that ignored ``stream=True``; ``broken`` builds the error for a
    connection that broke mid-stream. The bytes are decoded at once; the returned iterator
    feeds the accumulator one event at a time as it is read, so ``acc.snapshot()`` always
    matches the chunks yielded so far.
    """

    def __init__(self, acc: StreamAccumulator) -> None:
        self.acc = acc
        self._decoder = SSEDecoder()

    def feed(self, data: bytes) -> Iterator[ChatChunk]:
        """Decode a piece of the SSE body; iterate the chunks its complete events make."""
        return self._add(self._decoder.feed(data), finish=False)

    def close(self) -> Iterator[ChatChunk]:
        """The end of the body: flush the last event and finish the stream.

        Raises:
            IncompleteStreamError: the stream ended without a finish reason or ``[DONE]``.
        """
        return self._add(self._decoder.close(), finish=True)

    def whole(self, text: str) -> Iterator[ChatChunk]:
        """A service that ignored ``stream``: its whole JSON completion as the stream's chunks."""
        return self._events([_completion_as_event(_json_object(text)), "[DONE]"], finish=True)

    def broken(self, exc: BaseException) -> IncompleteStreamError:
        """The error for a connection that broke mid-stream, with what arrived as ``partial``."""
        return IncompleteStreamError(
            f"The connection broke after {self.acc.events} stream events: {exc}",
            partial=self.acc.result(),
        )

    def _add(self, payloads: list[str], *, finish: bool) -> Iterator[ChatChunk]:
        return self._events(_decode_events(payloads), finish=finish)

    def _events(self, events: Iterable[Any], *, finish: bool) -> Iterator[ChatChunk]:
        for event in events:
            if self.acc.done:
                break  # anything after [DONE] is ignored
            chunk = self.acc.add(event)
            if chunk is not None:
                yield chunk
        if finish:
            last = self.acc.finish()
            if last is not None:
                yield last


def _completion_as_event(data: Mapping[str, Any]) -> dict[str, Any]:
    """A whole completion (a service that ignored ``stream``) as one stream event."""
    event = dict(data)
    choices = []
    for choice in data.get("choices") or []:
        if isinstance(choice, Mapping):
            c = dict(choice)
            message = dict(c.pop("message", None) or {})
            for i, tc in enumerate(message.get("tool_calls") or []):
                if isinstance(tc, dict):
                    tc.setdefault("index", i)
            c["delta"] = message
            choices.append(c)
    event["choices"] = choices
    return event


def _decode_events(payloads: list[str]) -> Iterator[Any]:
    for payload in payloads:
        text = payload.strip()
        if not text:
            continue
        if text == "[DONE]":
            yield "[DONE]"
            continue
        try:
            yield json.loads(text)
        except ValueError as exc:
            raise IncompleteStreamError(
                f"The stream carried an event that is not JSON: {text[:80]!r}"
            ) from exc


# --------------------------------------------------------------------------------------------
# The stream objects


class StreamWatcher(Protocol):
    """What watches one stream (the tracing hook's span), made when the stream starts reading."""

    def first_chunk(self) -> None:
        """The first chunk is about to be handed out."""

    def ended(self, result: ChatResult | None, error: BaseException | None) -> None:
        """The stream ended, once: read to its end (``result`` the final result), closed early
        or collected (``result`` what had arrived), or raised ``error`` (``result`` None)."""


class StreamRun:
    """The non-I/O side of one stream being read: its parser, and who watches it.

    A transport driver moves the response's bytes in (``feed``, then ``close``; ``whole`` for a
    service that ignored ``stream``) inside ``with run.running():`` and yields the chunks they
    return. The driver's generator holds the run, never the stream object, so dropping the
    stream object closes the generator (and with it the response) at once.
    """

    __slots__ = ("_waiting", "parser", "watch")

    def __init__(self, parser: StreamParser) -> None:
        self.parser = parser
        #: Makes the watcher when the stream starts reading (the tracing hook sets it).
        self.watch: Callable[[], StreamWatcher] | None = None
        self._waiting: StreamWatcher | None = None  # the watcher, until the first chunk

    def feed(self, data: bytes) -> Iterator[ChatChunk]:
        """The chunks of a piece of the SSE body (:meth:`StreamParser.feed`)."""
        return self._handed(self.parser.feed(data))

    def close(self) -> Iterator[ChatChunk]:
        """The end of the SSE body (:meth:`StreamParser.close`)."""
        return self._handed(self.parser.close())

    def whole(self, text: str) -> Iterator[ChatChunk]:
        """A whole JSON completion as the stream's chunks (:meth:`StreamParser.whole`)."""
        return self._handed(self.parser.whole(text))

    def broken(self, exc: BaseException) -> IncompleteStreamError:
        """The error for a connection that broke mid-stream (:meth:`StreamParser.broken`)."""
        return self.parser.broken(exc)

    def _handed(self, chunks: Iterator[ChatChunk]) -> Iterator[ChatChunk]:
        return chunks if self._waiting is None else self._first(chunks)

    def _first(self, chunks: Iterator[ChatChunk]) -> Iterator[ChatChunk]:
        for chunk in chunks:
            watcher, self._waiting = self._waiting, None
            if watcher is not None:
                watcher.first_chunk()
            yield chunk

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around the whole read: the watcher learns how the stream ended, however it ends."""
        if self.watch is None:
            yield
            return
        watcher = self._waiting = self.watch()
        acc = self.parser.acc
        try:
            yield
        except GeneratorExit:  # closed early: close(), a with block, break and collection
            watcher.ended(acc.snapshot(), None)
            raise
        except BaseException as exc:
            watcher.ended(None, exc)
            raise
        watcher.ended(acc.result(), None)


_Stream = TypeVar("_Stream", bound="_ChatStream")


class _ChatStream:
    """What both stream objects offer besides iteration: what has arrived, and the result."""

    def __init__(self, run: StreamRun) -> None:
        self._run = run

    def snapshot(self) -> ChatResult:
        """Everything received so far as a :class:`ChatResult`, at any point of the stream
        (:meth:`StreamAccumulator.snapshot`: it matches the chunks handed out so far)."""
        return self._run.parser.acc.snapshot()

    def tool_calls_so_far(self) -> list[ToolCallChunk]:
        """The tool calls received so far, their fragments joined, in index order
        (``arguments`` is the JSON text received so far)."""
        return self._run.parser.acc.tool_calls_so_far()

    def text_so_far(self) -> tuple[str, str]:
        """The content and the reasoning received so far: what :meth:`snapshot` says of them,
        without building the snapshot (no tool-call parsing; cheap on every chunk)."""
        acc = self._run.parser.acc
        return acc.content, acc.reasoning

    def result(self) -> ChatResult:
        """The final result, once the stream has been read to its end.

        Raises:
            RuntimeError: the stream has not finished (not read to its end, closed early, or
            it raised); :meth:`snapshot` gives what arrived.
        """
        acc = self._run.parser.acc
        if not acc.finished:
            raise RuntimeError(
                "The stream has not finished: read it to its end first "
                "(snapshot() gives what has arrived so far)."
            )
        return acc.result()

    def _watch(self: _Stream, watch: Callable[[], StreamWatcher]) -> _Stream:
        """Have a watcher, made by ``watch`` when the stream starts reading, see it end."""
        self._run.watch = watch
        return self


class ChatStream(_ChatStream):
    """The chunks of one chat stream as they arrive (``ChatClient.stream`` returns one).

    Nothing is sent until the first chunk is asked for. The last chunk carries
    ``finish_reason`` (and the usage, when the service sent it). :meth:`snapshot` /
    :meth:`tool_calls_so_far` read what has arrived at any point, :meth:`result` the final
    result. :meth:`close` (or leaving a ``with`` block, or dropping the object) closes the HTTP
    response of a stream left before its end.
    """

    def __init__(self, run: StreamRun, chunks: Generator[ChatChunk, None, None]) -> None:
        super().__init__(run)
        self._chunks = chunks

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> ChatChunk:
        return next(self._chunks)

    def close(self) -> None:
        """Stop reading: close the response (nothing is sent if the stream never started)."""
        self._chunks.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatStream(_ChatStream):
    """Async :class:`ChatStream` (``ChatClient.astream`` returns one): ``async for``,
    :meth:`aclose` and ``async with``; one left open is closed by its event loop when it is
    dropped or when the loop shuts down."""

    def __init__(self, run: StreamRun, chunks: AsyncGenerator[ChatChunk, None]) -> None:
        super().__init__(run)
        self._chunks = chunks

    def __aiter__(self) -> AsyncChatStream:
        return self

    def __anext__(self) -> Awaitable[ChatChunk]:
        return self._chunks.__anext__()

    async def aclose(self) -> None:
        """Stop reading: close the response (nothing is sent if the stream never started)."""
        await self._chunks.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
