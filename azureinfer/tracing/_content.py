"""Wire messages and results in the GenAI conventions' JSON shapes (recorded only on opt-in).

``gen_ai.input.messages``: ``[{"role", "parts": [...], "name"?}]`` with ``text``, ``tool_call``,
``tool_call_response``, ``blob`` / ``uri`` (images, audio) parts; ``gen_ai.output.messages``: the
same plus ``finish_reason``, one message per choice; ``gen_ai.tool.definitions``:
``[{"type", "name", "description"?, "parameters"?}]``. Chat completions carry system messages in
the chat history, so they stay in ``gen_ai.input.messages`` (role ``system``), as the
conventions ask; ``gen_ai.system_instructions`` is for APIs that take instructions apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from azureinfer.response import ChatResult

__all__ = ["input_messages", "output_messages", "tool_definitions"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _arguments(raw: Any) -> Any:
    """Tool-call arguments as an object when they are JSON text, else as sent."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _media_part(url: str, modality: str) -> dict[str, Any]:
    if url.startswith("data:") and "," in url:
        header, _, data = url.partition(",")
        mime = header[5:].split(";", 1)[0] or None
        return {"type": "blob", "modality": modality, "mime_type": mime, "content": data}
    return {"type": "uri", "modality": modality, "uri": url}


def _content_part(part: Any) -> dict[str, Any]:
    if not isinstance(part, Mapping):
        return {"type": "text", "content": str(part)}
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "content": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return _media_part(str(url or ""), "image")
    if kind == "input_audio":
        audio = part.get("input_audio")
        if isinstance(audio, Mapping):
            fmt = audio.get("format")
            return {
                "type": "blob",
                "modality": "audio",
                "mime_type": f"audio/{fmt}" if fmt else None,
                "content": str(audio.get("data", "")),
            }
    return dict(part)  # a generic part: the conventions keep unknown types as they are


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, list):
        return [_content_part(p) for p in content]
    return [{"type": "text", "content": str(content)}]


def _tool_call_parts(calls: Any) -> list[dict[str, Any]]:
    out = []
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, Mapping):
            continue
        function = _map(call.get("function"))
        out.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name") or "",
                "arguments": _arguments(function.get("arguments")),
            }
        )
    return out


def _input_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        return {"role": "user", "parts": _parts(message)}
    role = str(message.get("role") or "user")
    if role == "tool":
        parts: list[dict[str, Any]] = [
            {
                "type": "tool_call_response",
                "id": message.get("tool_call_id"),
                "response": message.get("content"),
            }
        ]
    else:
        parts = _parts(message.get("content")) + _tool_call_parts(message.get("tool_calls"))
    out: dict[str, Any] = {"role": role, "parts": parts}
    if isinstance(message.get("name"), str):
        out["name"] = message["name"]
    return out


def input_messages(body: Mapping[str, Any]) -> str | None:
    """``gen_ai.input.messages`` of a chat body (``None`` when it has no messages)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    return _dumps([_input_message(m) for m in messages])


def tool_definitions(body: Mapping[str, Any]) -> str | None:
    """``gen_ai.tool.definitions`` of a chat body (``None`` when it declares no tools)."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    out = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        function = _map(tool.get("function"))
        entry: dict[str, Any] = {
            "type": tool.get("type") or "function",
            "name": function.get("name") or "",
        }
        for key in ("description", "parameters"):
            if function.get(key) is not None:
                entry[key] = function[key]
        out.append(entry)
    return _dumps(out)


def _result_message(result: ChatResult) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if result.reasoning_content:
        parts.append({"type": "reasoning", "content": result.reasoning_content})
    if result.content:
        parts.append({"type": "text", "content": result.content})
    for call in result.tool_calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    for bad in result.invalid_tool_calls:
        parts.append(
            {"type": "tool_call", "id": bad.id, "name": bad.name or "", "arguments": bad.arguments}
        )
    return {"role": "assistant", "parts": parts, "finish_reason": result.finish_reason or ""}


def _raw_choice_message(choice: Mapping[str, Any]) -> dict[str, Any]:
    message = _map(choice.get("message"))
    parts = _parts(message.get("content")) + _tool_call_parts(message.get("tool_calls"))
    finish = choice.get("finish_reason")
    return {
        "role": str(message.get("role") or "assistant"),
        "parts": parts,
        "finish_reason": finish if isinstance(finish, str) else "",
    }


def output_messages(result: ChatResult) -> str:
    """``gen_ai.output.messages``: the first choice, then any further choices (``n`` > 1)."""
    messages = [_result_message(result)]
    for choice in result.extras.get("choices") or []:
        if isinstance(choice, Mapping):
            messages.append(_raw_choice_message(choice))
    return _dumps(messages)
