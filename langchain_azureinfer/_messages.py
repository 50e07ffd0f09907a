"""LangChain messages -> Azure AI Model Inference wire dicts (pure functions).

:func:`convert_messages` turns LangChain messages (any content format LangChain users write:
plain strings, OpenAI chat-completions parts, LangChain v1 standard blocks, the older
``source_type`` blocks, Anthropic blocks) into the REST API's message dicts. The way back (the
core's parsed results -> ``AIMessage`` / ``AIMessageChunk``) is in ``chat_models``, next to the
calls that return them, so one call enters this module once.

Nothing here does I/O or builds a request body; that is ``azureinfer.request``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from azureinfer._wire_messages import fold_system_messages as fold_system

if TYPE_CHECKING:
    pass

__all__ = [
    "convert_content_part",
    "convert_messages",
]

WireMessage = dict[str, Any]
DeveloperRole = Literal["developer", "system"]

# Content blocks that carry model-internal reasoning. The chat-completions request has no
# field for them, so they are not re-sent (the same as OpenAI's own chat-completions API).
_REASONING_BLOCK_TYPES = frozenset({"reasoning", "thinking", "redacted_thinking"})
# v1 blocks that describe tool calls already present in ``AIMessage.tool_calls``.
_TOOL_CALL_BLOCK_TYPES = frozenset({"tool_call", "tool_use", "function_call"})
_AUDIO_FORMATS = {"wav": "wav", "x-wav": "wav", "wave": "wav", "mpeg": "mp3", "mp3": "mp3"}


# --------------------------------------------------------------------------------------
# outgoing: LangChain -> wire
# --------------------------------------------------------------------------------------


def convert_messages(
    messages: Sequence[BaseMessage],
    *,
    developer_role: DeveloperRole = "developer",
    fold_system_messages: bool = False,
) -> list[WireMessage]:
    """Translate a LangChain conversation into wire message dicts.

    Args:
        messages: The conversation, oldest first.
        developer_role: Role used for developer messages (``SystemMessage`` with
            ``additional_kwargs["__openai_role__"] == "developer"`` or
            ``ChatMessage(role="developer")``). ``"system"`` serves models that lack the
            developer role.
        fold_system_messages: For models that reject system messages: the text of every
            system/developer message is joined and put in front of the first user message
            (or sent as a user message when there is none).

    Raises:
        ValueError: a message or content block that the API cannot express (the error names
            the message index and the block).
    """
    wire: list[WireMessage] = []
    # Images returned by tools travel in a user message after the run of tool messages:
    # tool-message content is text-only on the wire, and a user message in the middle of a
    # run of tool results would break the assistant-tool_calls/tool pairing.
    pending_images: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, ToolMessage) and pending_images:
            wire.append(_tool_images_message(pending_images))
            pending_images = []
        try:
            converted, images = _convert_one(message, developer_role=developer_role)
        except ValueError as exc:
            raise ValueError(f"messages[{i}] ({type(message).__name__}): {exc}") from exc
        wire.append(converted)
        pending_images.extend(images)
    if pending_images:
        wire.append(_tool_images_message(pending_images))
    if fold_system_messages:
        wire = fold_system(wire)
    return wire


def _convert_one(
    message: BaseMessage, *, developer_role: DeveloperRole
) -> tuple[WireMessage, list[dict[str, Any]]]:
    role = _role_of(message, developer_role=developer_role)
    if role in ("system", "developer"):
        out: WireMessage = {"role": role, "content": _text_only(message.content, role)}
    elif role == "user":
        out = {"role": "user", "content": _user_content(message.content)}
    elif role == "assistant":
        out = _assistant_message(message)
    else:  # tool
        return _tool_message(message)
    if message.name:
        out["name"] = message.name
    return out, []


def _role_of(message: BaseMessage, *, developer_role: DeveloperRole) -> str:
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, ToolMessage):
        return "tool"
    if isinstance(message, SystemMessage):
        role = message.additional_kwargs.get("__openai_role__", "system")
        if role not in ("system", "developer"):
            raise ValueError(f"unsupported __openai_role__ {role!r}")
        return developer_role if role == "developer" else "system"
    if isinstance(message, ChatMessage):
        role = message.role
        if role == "developer":
            return developer_role
        if role == "human":
            return "user"
        if role == "ai":
            return "assistant"
        if role in ("system", "user", "assistant"):
            return role
        raise ValueError(
            f"ChatMessage role {role!r} is not one of system, developer, user, assistant"
        )
    if isinstance(message, FunctionMessage):
        raise ValueError(
            "FunctionMessage (the legacy OpenAI functions API) has no wire form; "
            "use ToolMessage with a tool_call_id"
        )
    raise ValueError(f"unsupported message type {message.type!r}")


def _user_content(content: str | list[str | dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        try:
            parts.append(convert_content_part(block))
        except ValueError as exc:
            raise ValueError(f"content[{j}]: {exc}") from exc
    return parts


def convert_content_part(block: str | dict[str, Any]) -> dict[str, Any]:
    """Translate one user content block to a wire content item.

    Accepts strings, OpenAI chat-completions parts (``text``, ``image_url``, ``input_audio``,
    ``audio_url``), LangChain v1 standard blocks (``image``/``audio`` with ``url`` or
    ``base64``, ``text-plain``), the older ``source_type`` blocks and Anthropic ``image``
    blocks with a ``source``. Provider hints such as ``cache_control`` are not sent.

    Raises:
        ValueError: for a block the API has no content item for (PDF/file, video, ...).
    """
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, dict):
        raise ValueError(f"content block must be a str or dict, got {type(block).__name__}")
    btype = block.get("type")
    if btype == "text" and "source_type" not in block:
        if not isinstance(block.get("text"), str):
            raise ValueError("text block without a 'text' string")
        return {"type": "text", "text": block["text"]}
    if btype == "text-plain" or (btype == "text" and block.get("source_type") == "text"):
        text = block.get("text")
        if not isinstance(text, str):
            raise ValueError(f"{btype} block without inline 'text'")
        return {"type": "text", "text": text}
    if btype == "image_url":
        return _image_url_part(block.get("image_url"))
    if btype == "image":
        return _image_block(block)
    if btype == "input_audio":
        payload = block.get("input_audio")
        if not isinstance(payload, dict) or "data" not in payload or "format" not in payload:
            raise ValueError("input_audio block needs input_audio.data and input_audio.format")
        return {
            "type": "input_audio",
            "input_audio": {"data": payload["data"], "format": payload["format"]},
        }
    if btype == "audio_url":
        payload = block.get("audio_url")
        url = payload.get("url") if isinstance(payload, dict) else payload
        if not isinstance(url, str):
            raise ValueError("audio_url block needs audio_url.url")
        return {"type": "audio_url", "audio_url": {"url": url}}
    if btype == "audio":
        return _audio_block(block)
    if btype in ("file", "video", "document"):
        raise ValueError(
            f"{btype!r} content is not supported by the Azure AI Model Inference API "
            "(it accepts text, images and audio)"
        )
    raise ValueError(f"unsupported content block type {btype!r}")


def _image_url_part(image_url: Any) -> dict[str, Any]:
    if isinstance(image_url, str):
        return {"type": "image_url", "image_url": {"url": image_url}}
    if isinstance(image_url, dict) and isinstance(image_url.get("url"), str):
        out: dict[str, Any] = {"url": image_url["url"]}
        if image_url.get("detail") is not None:
            out["detail"] = image_url["detail"]
        return {"type": "image_url", "image_url": out}
    raise ValueError("image_url block needs image_url.url")


def _image_block(block: dict[str, Any]) -> dict[str, Any]:
    detail = (block.get("extras") or {}).get("detail") or (block.get("metadata") or {}).get(
        "detail"
    )
    url: str | None = None
    source = block.get("source")
    if isinstance(source, dict):  # Anthropic
        if source.get("type") == "base64":
            url = _data_url(source.get("media_type"), source.get("data"))
        elif source.get("type") == "url":
            url = source.get("url")
    elif block.get("source_type") == "base64" or "base64" in block:
        data = block["data"] if block.get("source_type") == "base64" else block["base64"]
        url = _data_url(block.get("mime_type"), data)
    elif block.get("source_type") in (None, "url") and "url" in block:
        url = block["url"]
    elif block.get("source_type") == "id" or "file_id" in block:
        raise ValueError("image blocks that reference an uploaded file id are not supported")
    if not isinstance(url, str) or not url:
        raise ValueError("image block needs a url, base64 data or an Anthropic source")
    payload: dict[str, Any] = {"url": url}
    if detail:
        payload["detail"] = detail
    return {"type": "image_url", "image_url": payload}


def _data_url(mime_type: Any, data: Any) -> str:
    if not isinstance(mime_type, str) or not mime_type:
        raise ValueError("base64 data needs a mime_type")
    if not isinstance(data, str) or not data:
        raise ValueError("base64 block has no data")
    return f"data:{mime_type};base64,{data}"


def _audio_block(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("source_type") == "base64" or "base64" in block:
        data = block["data"] if block.get("source_type") == "base64" else block["base64"]
        mime = block.get("mime_type")
        if not isinstance(mime, str) or "/" not in mime:
            raise ValueError("base64 audio needs a mime_type such as audio/wav")
        subtype = mime.split("/", 1)[1].lower()
        fmt = _AUDIO_FORMATS.get(subtype)
        if fmt is None:
            raise ValueError(f"audio mime_type {mime!r} is not supported (wav or mp3)")
        return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}
    if "url" in block:
        return {"type": "audio_url", "audio_url": {"url": block["url"]}}
    raise ValueError("audio block needs base64 data or a url")


def _text_only(content: str | list[str | dict[str, Any]], role: str) -> str:
    """Join text content for roles whose wire content is a string."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for j, block in enumerate(content):
        if isinstance(block, str):
            texts.append(block)
            continue
        part = convert_content_part(block)
        if part["type"] != "text":
            raise ValueError(
                f"content[{j}]: {role} messages can only carry text, got {part['type']!r}"
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _assistant_message(message: BaseMessage) -> WireMessage:
    tool_calls: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    if isinstance(message, AIMessage):
        for tc in message.tool_calls:
            tool_calls.append(
                _wire_tool_call(
                    tc.get("id"), tc["name"], json.dumps(tc["args"], ensure_ascii=False)
                )
            )
            if tc.get("id"):
                seen_ids.add(str(tc["id"]))
        for itc in message.invalid_tool_calls:
            # Sent back as they came, so the model sees (and can repair) its own mistake.
            tool_calls.append(
                _wire_tool_call(itc.get("id"), itc.get("name") or "", itc.get("args") or "")
            )
            if itc.get("id"):
                seen_ids.add(str(itc["id"]))
    texts: list[str] = []
    content = message.content
    if isinstance(content, str):
        texts.append(content)
    else:
        for j, block in enumerate(content):
            if isinstance(block, str):
                texts.append(block)
                continue
            btype = block.get("type")
            if btype == "text":
                texts.append(str(block.get("text", "")))
            elif btype in _TOOL_CALL_BLOCK_TYPES or btype == "invalid_tool_call":
                call = _tool_call_from_block(block)
                if call is not None and call.get("id") not in seen_ids:
                    tool_calls.append(call)
                    if call.get("id"):
                        seen_ids.add(call["id"])
            elif btype in _REASONING_BLOCK_TYPES or btype in ("tool_call_chunk", "refusal"):
                continue
            else:
                raise ValueError(
                    f"content[{j}]: assistant messages can carry text and tool calls, "
                    f"got a {btype!r} block"
                )
    text = "".join(texts)
    out: WireMessage = {"role": "assistant"}
    if text or not tool_calls:
        out["content"] = text
    if tool_calls:
        out["tool_calls"] = tool_calls
    return out


def _wire_tool_call(call_id: Any, name: str, arguments: str) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id:
        call["id"] = str(call_id)
    return call


def _tool_call_from_block(block: dict[str, Any]) -> dict[str, Any] | None:
    btype = block.get("type")
    if btype == "tool_use":  # Anthropic
        args = block.get("input")
        arguments = args if isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)
        return _wire_tool_call(block.get("id"), str(block.get("name", "")), arguments)
    if btype == "function_call":  # OpenAI Responses
        return _wire_tool_call(
            block.get("call_id"), str(block.get("name", "")), str(block.get("arguments") or "")
        )
    if btype == "tool_call":  # LangChain v1
        return _wire_tool_call(
            block.get("id"),
            str(block.get("name", "")),
            json.dumps(block.get("args") or {}, ensure_ascii=False),
        )
    if btype == "invalid_tool_call":
        return _wire_tool_call(
            block.get("id"), str(block.get("name") or ""), str(block.get("args") or "")
        )
    return None


def _tool_message(message: BaseMessage) -> tuple[WireMessage, list[dict[str, Any]]]:
    assert isinstance(message, ToolMessage)
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    content = message.content
    if isinstance(content, str):
        texts.append(content)
    else:
        for j, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") == "json" and "json" in block:
                texts.append(json.dumps(block["json"], ensure_ascii=False))
                continue
            try:
                part = convert_content_part(block)
            except ValueError as exc:
                raise ValueError(f"content[{j}]: {exc}") from exc
            if part["type"] == "text":
                texts.append(part["text"])
            elif part["type"] == "image_url":
                images.append(part)
            else:
                raise ValueError(
                    f"content[{j}]: tool results can carry text and images, got {part['type']!r}"
                )
    text = "\n".join(texts)
    if images:
        note = f"[{len(images)} image(s) returned by the tool follow in the next user message]"
        text = f"{text}\n{note}" if text else note
    if message.status == "error" and not text.lstrip().lower().startswith("error"):
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": message.tool_call_id, "content": text}, images


def _tool_images_message(images: list[dict[str, Any]]) -> WireMessage:
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": "Images returned by the tool call(s) above:"},
            *images,
        ],
    }
