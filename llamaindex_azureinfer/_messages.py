"""LlamaIndex ``ChatMessage`` / content blocks / tools -> Azure AI Model Inference wire dicts
(as ``langchain_azureinfer._messages`` does for LangChain), and tool calls read back as
``ToolSelection`` s. A chat call enters this module once, at :func:`to_wire_inputs`; the way
back (the core's parsed results -> ``ChatResponse``) is in ``llms.py``, next to the calls.

Pure functions, no I/O except reading a local file named by an ``ImageBlock`` / ``AudioBlock``
``path``. Only the API's own message keys are produced (``role``, ``content``,
``tool_calls``, ``tool_call_id``); nothing from ``additional_kwargs`` leaks onto the wire except
the two keys that carry tool-call state.

Tool calls live in two places on an assistant message, both JSON-safe:

- ``ToolCallBlock`` blocks (LlamaIndex's native form; read first on the way out), and
- ``additional_kwargs["tool_calls"]``: wire-shaped dicts, which LlamaIndex's token counting,
  chat engines and streaming structured output read.

Tool names are sanitised the same way on every outbound path (tool definitions, assistant
history, named ``tool_choice``) with the rule LlamaIndex's ``ToolMetadata.to_openai_tool`` uses.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.tools.types import ToolMetadata

from azureinfer._wire_messages import fold_system_messages
from azureinfer.request import make_strict_schema

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool


__all__ = [
    "WireInputs",
    "sanitise_tool_choice",
    "sanitize_tool_name",
    "to_wire_inputs",
    "to_wire_message",
    "to_wire_messages",
    "to_wire_tool",
    "to_wire_tool_call",
    "tool_calls_of",
    "tool_selections",
]

_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]")

_ROLE_MAP: dict[MessageRole, str] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "developer",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.TOOL: "tool",
    # Legacy / provider-specific spellings of the same roles.
    MessageRole.FUNCTION: "tool",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}

_AUDIO_FORMATS = {"wav": "wav", "x-wav": "wav", "wave": "wav", "mp3": "mp3", "mpeg": "mp3"}


def sanitize_tool_name(name: str) -> str:
    """Return ``name`` with every character outside ``[a-zA-Z0-9_-]`` replaced by ``_``.

    The same rule as LlamaIndex's ``ToolMetadata.to_openai_tool``, applied on every path so a
    tool definition, a named ``tool_choice`` and the assistant history always agree.
    """
    return _NAME_RE.sub("_", name)


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------


def to_wire_tool(
    tool: BaseTool | ToolMetadata | Mapping[str, Any], *, strict: bool = False
) -> dict[str, Any]:
    """Translate a LlamaIndex tool (or its metadata, or a wire dict) into a wire tool definition.

    With ``strict=True`` the function definition carries ``"strict": true`` and its parameters
    schema is made strict-compatible by the core (``make_strict_schema``).
    """
    if isinstance(tool, Mapping):
        wire = json.loads(json.dumps(dict(tool)))  # deep copy of plain data
        fn = wire.get("function")
        if (
            wire.get("type", "function") != "function"
            or not isinstance(fn, dict)
            or "name" not in fn
        ):
            raise ValueError(
                "a tool dict must have the wire shape "
                '{"type": "function", "function": {"name": ..., "parameters": {...}}}'
            )
        wire["type"] = "function"
        fn["name"] = sanitize_tool_name(str(fn["name"]))
    else:
        meta: ToolMetadata = tool if isinstance(tool, ToolMetadata) else tool.metadata
        if meta.name is None:
            raise ValueError("a tool passed to AzureInference must have a name")
        fn = {
            "name": sanitize_tool_name(meta.name),
            "description": meta.description,
            "parameters": meta.get_parameters_dict(),
        }
        wire = {"type": "function", "function": fn}
    if strict:
        fn["strict"] = True
        if isinstance(fn.get("parameters"), dict):
            fn["parameters"] = make_strict_schema(fn["parameters"])
    return wire


# --------------------------------------------------------------------------------------------
# Tool calls
# --------------------------------------------------------------------------------------------


def _arguments_string(arguments: Any) -> str:
    """Tool-call arguments as the wire's JSON text (None: no arguments, ``{}``)."""
    return (
        arguments
        if isinstance(arguments, str)
        else json.dumps({} if arguments is None else arguments)
    )


def _plain(obj: Any) -> Any:
    """SDK model objects and pydantic models -> plain data; dicts pass through."""
    if isinstance(obj, Mapping):
        return dict(obj)
    as_dict = getattr(obj, "as_dict", None)  # azure-ai-inference models
    if callable(as_dict):
        return as_dict()
    dump = getattr(obj, "model_dump", None)  # pydantic v2
    if callable(dump):
        return dump()
    raise ValueError(f"unsupported tool call object of type {type(obj).__name__}: {obj!r}")


def to_wire_tool_call(call: Any) -> dict[str, Any]:
    """One tool call (``ToolCallBlock``, wire dict, SDK object or pydantic model) -> wire dict."""
    call_id: Any
    name: Any
    arguments: Any
    if isinstance(call, ToolCallBlock):
        call_id, name, arguments = call.tool_call_id, call.tool_name, call.tool_kwargs
    else:
        data = _plain(call)
        fn = data.get("function")
        if isinstance(fn, Mapping):
            name, arguments = fn.get("name"), fn.get("arguments")
        else:  # LlamaIndex ToolSelection-like shapes
            name = data.get("tool_name") or data.get("name")
            arguments = data.get("tool_kwargs", data.get("arguments"))
        call_id = data.get("id") or data.get("tool_id") or data.get("tool_call_id")
    if not call_id:
        raise ValueError(f"tool call {name!r} has no id; the API needs one to match tool results")
    if not name:
        raise ValueError(f"tool call {call_id!r} has no function name")
    return {
        "id": str(call_id),
        "type": "function",
        "function": {
            "name": sanitize_tool_name(str(name)),
            "arguments": _arguments_string(arguments),
        },
    }


def tool_calls_of(message: ChatMessage) -> list[dict[str, Any]]:
    """The tool calls an assistant message carries, as wire dicts (blocks win over kwargs)."""
    blocks = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
    if blocks:
        return [to_wire_tool_call(b) for b in blocks]
    raw = message.additional_kwargs.get("tool_calls") or []
    return [to_wire_tool_call(c) for c in raw]


# --------------------------------------------------------------------------------------------
# Outbound messages
# --------------------------------------------------------------------------------------------


def _image_part(block: ImageBlock) -> dict[str, Any]:
    url: str
    if block.url is not None and not block.image and not block.path:
        url = str(block.url)
    else:
        if block.image is None and block.path is None:
            raise ValueError("ImageBlock has no url, path or image data")
        data = block.resolve_image(as_base64=True).read().decode("ascii")
        mimetype = block.image_mimetype
        if not mimetype:
            raise ValueError(
                "cannot tell the image's MIME type; set ImageBlock(image_mimetype='image/png')"
            )
        url = f"data:{mimetype};base64,{data}"
    image_url: dict[str, Any] = {"url": url}
    if block.detail:
        image_url["detail"] = block.detail
    return {"type": "image_url", "image_url": image_url}


def _audio_part(block: AudioBlock) -> dict[str, Any]:
    if block.url is not None and not block.audio and not block.path:
        url = str(block.url)
        if not url.startswith("data:"):
            return {"type": "audio_url", "audio_url": {"url": url}}
    fmt = _AUDIO_FORMATS.get((block.format or "").lower().lstrip("."))
    if fmt is None:
        raise ValueError(
            f"unsupported audio format {block.format!r}: the API takes 'wav' or 'mp3' "
            "(set AudioBlock(format=...))"
        )
    raw = block.resolve_audio(as_base64=True).read()
    data = raw.decode("ascii")
    # resolve_audio(as_base64=True) on a data: URL returns the data as is; make sure it is b64.
    base64.b64decode(data, validate=True)
    return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}


def _text_of(message: ChatMessage, role: str) -> str | None:
    """Join the text blocks of a message whose role only takes a string."""
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append(block.text)
        elif isinstance(block, (CachePoint, ThinkingBlock, ToolCallBlock)):
            # CachePoint is a provider hint with no content; reasoning is output-only on this
            # API; tool calls travel in "tool_calls".
            continue
        else:
            raise ValueError(
                f"a {role!r} message cannot carry a {type(block).__name__} on this API; "
                "only user messages take images or audio"
            )
    if not parts:
        return None
    return "\n".join(parts)


def _user_content(message: ChatMessage) -> str | list[dict[str, Any]]:
    blocks = [b for b in message.blocks if not isinstance(b, (CachePoint, ThinkingBlock))]
    if all(isinstance(b, TextBlock) for b in blocks):
        return "\n".join(b.text for b in blocks if isinstance(b, TextBlock))
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        elif isinstance(block, AudioBlock):
            parts.append(_audio_part(block))
        else:
            raise ValueError(
                f"the Azure AI Model Inference API has no content item for "
                f"{type(block).__name__}; use text, image or audio blocks"
            )
    return parts


def to_wire_message(message: ChatMessage) -> dict[str, Any]:
    """Translate one ``ChatMessage`` into a wire message dict.

    Raises ``ValueError`` for a role or a block the API cannot carry, and for a tool result
    without ``additional_kwargs["tool_call_id"]``.
    """
    role = _ROLE_MAP.get(MessageRole(message.role))
    if role is None:
        raise ValueError(f"unsupported message role {message.role!r}")
    if role == "user":
        return {"role": "user", "content": _user_content(message)}
    if role in ("system", "developer"):
        return {"role": role, "content": _text_of(message, role) or ""}
    if role == "tool":
        call_id = message.additional_kwargs.get("tool_call_id")
        if not call_id:
            raise ValueError(
                "a tool message needs additional_kwargs['tool_call_id'] naming the call it answers"
            )
        return {
            "role": "tool",
            "tool_call_id": str(call_id),
            "content": _text_of(message, role) or "",
        }
    # assistant
    wire: dict[str, Any] = {"role": "assistant"}
    text = _text_of(message, role)
    tool_calls = tool_calls_of(message)
    if text or not tool_calls:
        # Like the SDK, a tool-call-only turn carries no "content" key.
        wire["content"] = text or ""
    if tool_calls:
        wire["tool_calls"] = tool_calls
    return wire


def to_wire_messages(messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """Translate a conversation; the input messages are never modified."""
    return [to_wire_message(m) for m in messages]


# --------------------------------------------------------------------------------------------
# One call's inputs
# --------------------------------------------------------------------------------------------


@dataclass
class WireInputs:
    """A chat call's LlamaIndex inputs as wire data (:func:`to_wire_inputs`)."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    tool_names: dict[str, str] = field(default_factory=dict)
    """Sanitised wire name -> the caller's tool name, for each tool object translated (the
    reply's tool names are mapped back through it)."""


def to_wire_inputs(
    messages: Iterable[ChatMessage],
    *,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    strict: bool = False,
    fold_system: bool = False,
) -> WireInputs:
    """Translate one call's conversation, tools and ``tool_choice`` (the one entry of a chat
    call into this module). Dicts are wire tools already (from ``_prepare_chat_with_tools``, or
    the caller's own): only their names are sanitised; tool objects are translated, with
    ``strict`` schemas when asked."""
    wire = to_wire_messages(messages)
    out = WireInputs(fold_system_messages(wire) if fold_system else wire)
    if tools:
        out.tools = []
        for tool in tools:
            definition = to_wire_tool(tool, strict=False if isinstance(tool, Mapping) else strict)
            original = getattr(getattr(tool, "metadata", None), "name", None)
            if original:
                out.tool_names[definition["function"]["name"]] = original
            out.tools.append(definition)
    elif tools is not None:
        out.tools = list(tools)
    if tool_choice is not None:
        out.tool_choice = sanitise_tool_choice(tool_choice)
    return out


def tool_selections(response: ChatResponse, tool_names: Mapping[str, str]) -> list[ToolSelection]:
    """The tool calls of a (possibly partial) response as ``ToolSelection`` s, read from its
    ``ToolCallBlock`` s or else its ``additional_kwargs["tool_calls"]``; arguments that are
    empty, partial or malformed JSON become their best parse, or ``{}``."""
    blocks = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
    selections: list[ToolSelection] = []
    if blocks:
        for block in blocks:
            selections.append(
                ToolSelection(
                    tool_id=block.tool_call_id or "",
                    tool_name=tool_names.get(block.tool_name, block.tool_name),
                    tool_kwargs=_parse_arguments(block.tool_kwargs),
                )
            )
    else:
        for call in response.message.additional_kwargs.get("tool_calls") or []:
            selection = _selection_from_any(call)
            if selection is not None:
                selection.tool_name = tool_names.get(selection.tool_name, selection.tool_name)
                selections.append(selection)
    return selections


def sanitise_tool_choice(choice: Any) -> Any:
    """A ``tool_choice`` naming a tool (by name, wire dict or tool object), with the name
    sanitised as the tool definitions are."""
    if isinstance(choice, str) and choice.lower() not in ("auto", "none", "required", "any"):
        return sanitize_tool_name(choice)
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return {**choice, "function": {**fn, "name": sanitize_tool_name(fn["name"])}}
    metadata = getattr(choice, "metadata", None)
    if metadata is not None and getattr(metadata, "name", None):
        return sanitize_tool_name(metadata.name)
    return choice


def _parse_arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        parsed = parse_partial_json(arguments)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _selection_from_any(call: Any) -> ToolSelection | None:
    """A ToolSelection from a wire dict, an SDK tool call or a pydantic model; None if unusable."""
    if isinstance(call, ToolSelection):
        return call
    data: Any = call
    if not isinstance(call, Mapping):
        for attr in ("as_dict", "model_dump"):
            fn = getattr(call, attr, None)
            if callable(fn):
                data = fn()
                break
    if not isinstance(data, Mapping):
        return None
    fn_data = data.get("function")
    if isinstance(fn_data, Mapping):
        name, arguments = fn_data.get("name"), fn_data.get("arguments")
    else:
        name, arguments = data.get("tool_name") or data.get("name"), data.get("tool_kwargs")
    if not name:
        return None
    return ToolSelection(
        tool_id=str(data.get("id") or data.get("tool_id") or ""),
        tool_name=str(name),
        tool_kwargs=_parse_arguments(arguments),
    )
