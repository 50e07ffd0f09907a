"""Shared data for the core tests (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

#: One user turn, as a wire message list.
HI = [{"role": "user", "content": "hello there"}]
#: The weather tool, as a wire tool definition.
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
#: A whole (not streamed) completion whose content is "whole": a service that ignores
#: ``stream`` answers this.
WHOLE_COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "whole"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
