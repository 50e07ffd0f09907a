"""A tolerant server-sent-events decoder.

The SDK's own parser raises on CRLF line endings, comments (``: keep-alive``), ``event:`` /
``id:`` / ``retry:`` lines and ``data:`` without a space, and silently skips error events. This
one follows the SSE spec: lines end in LF, CRLF or CR; ``:`` lines are comments; an event's
``data`` lines are joined with newlines and the event ends at a blank line (or the end of the
stream).
"""

from __future__ import annotations

import codecs

__all__ = ["SSEDecoder"]


class SSEDecoder:
    """Feed bytes, get back the ``data`` payload of each complete event."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""
        self._data: list[str] = []
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk of bytes; return the events it completed."""
        return self._process(self._decoder.decode(chunk))

    def close(self) -> list[str]:
        """End of stream: return the last event if it was not followed by a blank line."""
        events = self._process(self._decoder.decode(b"", final=True))
        if self._line:
            self._handle_line(self._line, events)
            self._line = ""
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        return events

    def _process(self, text: str) -> list[str]:
        events: list[str] = []
        for ch in text:
            if self._pending_cr:
                self._pending_cr = False
                if ch == "\n":
                    continue  # the LF of a CRLF
            if ch == "\r" or ch == "\n":
                self._pending_cr = ch == "\r"
                self._handle_line(self._line, events)
                self._line = ""
            else:
                self._line += ch
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
