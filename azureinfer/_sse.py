"""A tolerant server-sent-events decoder.

The SDK's own parser raises on CRLF line endings, comments (``: keep-alive``), ``event:`` /
``id:`` / ``retry:`` lines and ``data:`` without a space, and silently skips error events. This
one follows the SSE spec: lines end in LF, CRLF or CR; ``:`` lines are comments; an event's
``data`` lines are joined with newlines and the event ends at a blank line (or the end of the
stream).
"""

from __future__ import annotations

import codecs
import re

__all__ = ["SSEDecoder"]

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
