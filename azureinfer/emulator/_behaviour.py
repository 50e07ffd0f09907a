"""The emulator's deterministic, rule-based chat behaviour (not a language model).

Every rule here is documented for users in `docs/emulator.md`. The server validates the body and
turns a `Reply` into the wire response (or a stream, via `stream_pieces`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from azureinfer.emulator._catalogue import Deployment
from azureinfer.emulator._embedding import (
    embed_image,
    embed_text,
    embed_texts,
    encode_embedding,
)
from azureinfer.emulator._react import react_reply, uses_react
from azureinfer.emulator._schema import STOPWORDS, PromptValues, synthesise

__all__ = [
    "AUDIO_TOKENS",
    "FILTER_OUTPUT_TRIGGER",
    "FILTER_PROMPT_TRIGGER",
    "IMAGE_TOKENS",
    "Reply",
    "chat_reply",
    "count_tokens",
    "embed_image",
    "embed_text",
    "embed_texts",
    "encode_embedding",
    "is_prompt_filtered",
    "prompt_tokens",
    "stream_pieces",
]

FILTER_PROMPT_TRIGGER = "EMULATOR_FILTER_PROMPT"
FILTER_OUTPUT_TRIGGER = "EMULATOR_FILTER_OUTPUT"
FILTER_CATEGORIES = ("hate", "sexual", "violence", "self_harm")

IMAGE_TOKENS = 85
AUDIO_TOKENS = 50
ECHO_WORDS = 20

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_IDENT_RE = re.compile(r"[A-Za-z_][\w-]{0,63}")
_FILTER_PROMPT_RE = re.compile(
    FILTER_PROMPT_TRIGGER + r"(?:_(HATE|SEXUAL|VIOLENCE|SELF_HARM|JAILBREAK))?"
)


# ---------------------------------------------------------------------------- tokens


def count_tokens(text: str) -> int:
    """Token count rule: each run of word characters (``\\w+``) and each other non-space
    character is one token. ``"Hello, world!"`` is 4 tokens."""
    return len(_TOKEN_RE.findall(text))


def _cut_tokens(text: str, limit: int) -> str:
    """The prefix of `text` holding its first `limit` tokens (rule of `count_tokens`)."""
    if limit <= 0:
        return ""
    for i, m in enumerate(_TOKEN_RE.finditer(text), start=1):
        if i == limit:
            return text[: m.end()]
    return text


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, dict) and item.get("type") == "text":
                parts.append(str(item.get("text", "")))
            elif isinstance(item, str):
                parts.append(item)
        return " ".join(parts)
    return str(content)


def _media_counts(content: Any) -> tuple[int, int]:
    images = audio = 0
    if isinstance(content, list):
        for item in content:
            if isinstance(item, dict):
                if item.get("type") == "image_url":
                    images += 1
                elif item.get("type") in ("input_audio", "audio_url"):
                    audio += 1
    return images, audio


def prompt_tokens(body: dict[str, Any]) -> int:
    """Prompt token rule: `count_tokens` of every message's text, tool-call names and arguments,
    plus 85 per image part and 50 per audio part, plus `count_tokens(json.dumps(tools))`."""
    total = 0
    for msg in body.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        total += count_tokens(_content_text(content))
        images, audio = _media_counts(content)
        total += images * IMAGE_TOKENS + audio * AUDIO_TOKENS
        calls = msg.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict):
                continue
            total += count_tokens(str(fn.get("name", ""))) + count_tokens(
                str(fn.get("arguments", ""))
            )
    tools = body.get("tools")
    if tools:
        total += _tools_tokens(tools)
    return total


_TOOLS_TOKENS: dict[str, int] = {}


def _tools_tokens(tools: Any) -> int:
    """`count_tokens(json.dumps(tools))`, memoised: agents resend the same tools every turn."""
    key = repr(tools)
    n = _TOOLS_TOKENS.get(key)
    if n is None:
        if len(_TOOLS_TOKENS) > 1024:
            _TOOLS_TOKENS.clear()
        n = _TOOLS_TOKENS[key] = count_tokens(json.dumps(tools))
    return n


# ---------------------------------------------------------------------------- reply


@dataclass
class Reply:
    """What the emulated model answers; the server wraps it in the wire envelope."""

    content: str | None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    audio: dict[str, Any] | None = None
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    content_filter_results: dict[str, Any] | None = None


def _body_digest(body: dict[str, Any]) -> str:
    """Hash of what makes a conversation turn: the messages and the seed (ids derive from it).

    repr is deterministic for JSON values and much cheaper than a canonical json.dumps."""
    key = repr((body.get("messages"), body.get("seed"), body.get("model")))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _call_id(digest: str, index: int) -> str:
    return "call_" + hashlib.sha256(f"{digest}:{index}".encode()).hexdigest()[:24]


#: Longest caption of a user message that only relays a tool's media (see `_carries_tool_media`).
MEDIA_CAPTION_WORDS = 12


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body.get("messages") or [] if isinstance(m, dict)]


def _last_user(messages: list[dict[str, Any]]) -> tuple[int, dict[str, Any] | None]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i, messages[i]
    return -1, None


def _echo(text: str) -> str:
    words = text.split()
    if not words:
        return "(no text)"
    echo = " ".join(words[:ECHO_WORDS])
    return echo + (" ..." if len(words) > ECHO_WORDS else "")


def _media_note(images: int, audio: int) -> str:
    notes = []
    if images:
        notes.append(f"{images} image{'s' if images != 1 else ''}")
    if audio:
        notes.append(f"{audio} audio clip{'s' if audio != 1 else ''}")
    return f" [received {' and '.join(notes)}]" if notes else ""


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        fn = tool.get("function")
        if isinstance(fn, dict):
            return str(fn.get("name", ""))
    return ""


def _tool_params(tool: dict[str, Any]) -> Any:
    fn = tool.get("function")
    params = fn.get("parameters") if isinstance(fn, dict) else None
    return params if isinstance(params, dict) else {"type": "object", "properties": {}}


_SPLIT_NAME_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+|[^\W\d_A-Za-z]+")


@lru_cache(maxsize=4096)
def _name_rule(tool_name: str) -> tuple[re.Pattern[str] | None, tuple[tuple[str, bool], ...]]:
    """(whole-name pattern, significant name words as (stem, exact)) for the mention rule."""
    pattern = (
        re.compile(r"(?<!\w)" + re.escape(tool_name.lower()) + r"(?!\w)") if tool_name else None
    )
    words = [w.lower() for w in _SPLIT_NAME_RE.findall(tool_name)]
    stems = tuple(
        (w, True) if len(w) < 4 else (w[: max(4, len(w) - 2)], False)
        for w in words
        if w not in STOPWORDS and not w.isdigit()
    )
    return pattern, stems


def _mentioned(tool_name: str, text: str, prompt_words: set[str]) -> bool:
    """A tool is mentioned when its exact name appears, or every significant word of its name
    (split at ``_``, ``-`` and camelCase, ignoring stop-words such as get/set) appears as a
    word starting with that word's stem (the word minus up to two trailing letters, min. 4)."""
    pattern, stems = _name_rule(tool_name)
    if pattern is not None and pattern.search(text.lower()):
        return True
    return bool(stems) and all(
        stem in prompt_words if exact else any(p.startswith(stem) for p in prompt_words)
        for stem, exact in stems
    )


def _mentioned_in(tool_name: str, text: str) -> bool:
    return _mentioned(tool_name, text, {w.lower() for w in re.findall(r"[^\W_]+", text)})


def _tool_choice(body: dict[str, Any], tools: list[dict[str, Any]]) -> tuple[str, str | None]:
    """("none" | "auto" | "required" | "named", name)."""
    choice = body.get("tool_choice")
    if choice is None:
        return "auto", None
    if isinstance(choice, dict):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        return ("named", str(name)) if name else ("required", None)
    choice = str(choice)
    if choice in ("none", "auto", "required"):
        return choice, None
    if choice == "any":
        return "required", None
    if any(_tool_name(t) == choice for t in tools):
        return "named", choice
    return "auto", None


def _select_tools(
    body: dict[str, Any],
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    user_idx: int,
    user_text: str,
) -> list[dict[str, Any]]:
    mode, named = _tool_choice(body, tools)
    if mode == "none":
        return []
    after_results = bool(messages) and messages[-1].get("role") == "tool"
    if mode == "named":
        return [t for t in tools if _tool_name(t) == named][:1]
    prompt_words = {w.lower() for w in re.findall(r"[^\W_]+", user_text)}
    mentioned = [t for t in tools if _mentioned(_tool_name(t), user_text, prompt_words)]
    parallel = body.get("parallel_tool_calls") is not False
    if mode == "auto":
        if after_results:
            return []
        if not mentioned and ({"tool", "tools"} & prompt_words):
            mentioned = tools[:1]
        return mentioned if parallel else mentioned[:1]
    # required: never answer in text. After results, prefer tools not yet called this turn.
    if after_results:
        called = set()
        for msg in messages[user_idx + 1 :]:
            calls = msg.get("tool_calls")
            for call in calls if isinstance(calls, list) else []:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict):
                    called.add(str(fn.get("name", "")))
        fresh = [t for t in mentioned if _tool_name(t) not in called] or [
            t for t in tools if _tool_name(t) not in called
        ]
        return (fresh or tools)[:1]
    if mentioned:
        return mentioned if parallel else mentioned[:1]
    return tools[:1]


def _tool_results(messages: list[dict[str, Any]]) -> list[str]:
    results: list[str] = []
    for msg in reversed(messages):
        if msg.get("role") != "tool":
            break
        results.append(_content_text(msg.get("content")))
    return list(reversed(results))


_DECODER = json.JSONDecoder()


def _embedded_schema(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` that looks like a JSON schema (has ``properties``)."""
    start = text.find("{")
    attempts = 0
    while start != -1 and attempts < 32:
        attempts += 1
        try:
            obj, _end = _DECODER.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict) and isinstance(obj.get("properties"), dict):
            return obj
        start = text.find("{", start + 1)
    return None


def _json_object(user_text: str, instructions: str, value_text: str, echo: str) -> Any:
    """json_object rule, first match wins:

    1. a JSON schema (an object with ``properties``) written in the last user message, else in
       the system/developer messages -> an instance of it (values from `value_text`: the user
       message and the tool results after it);
    2. quoted identifiers in the last user message, else in the system/developer messages ->
       an object with those keys, string values synthesised from `value_text`;
    3. ``{"reply": <the plain text reply>}``.
    """
    for text in (user_text, instructions):
        schema = _embedded_schema(text) if "{" in text else None
        if schema is not None:
            return synthesise(schema, PromptValues(value_text))
    keys = [q for q in PromptValues(user_text).quoted if _IDENT_RE.fullmatch(q)]
    if not keys:
        keys = [q for q in PromptValues(instructions).quoted if _IDENT_RE.fullmatch(q)]
    if not keys:
        return {"reply": echo}
    values = PromptValues(value_text)
    values.quoted = [q for q in values.quoted if q not in keys]
    out: dict[str, Any] = {}
    for key in dict.fromkeys(keys):
        out[key] = values.next_string() or key
    return out


def _apply_stop(text: str, stop: Any) -> tuple[str, bool]:
    if isinstance(stop, str):
        stops = [stop]
    elif isinstance(stop, list):
        stops = [s for s in stop if isinstance(s, str)]
    else:
        stops = []
    cut = len(text)
    for s in stops:
        if s:
            pos = text.find(s)
            if 0 <= pos < cut:
                cut = pos
    return text[:cut], cut < len(text)


def _wav(seconds: float = 0.1, rate: int = 8000) -> bytes:
    frames = int(seconds * rate)
    data = b"\x00\x00" * frames
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


_WAV_B64 = base64.b64encode(_wav()).decode("ascii")


def _filter_results(category: str, prompt: bool) -> dict[str, Any]:
    """Azure's per-category results with `category` filtered (prompts also report jailbreak)."""
    out: dict[str, Any] = {}
    for cat in FILTER_CATEGORIES:
        hit = cat == category
        out[cat] = {"filtered": hit, "severity": "high" if hit else "safe"}
    if prompt:
        hit = category == "jailbreak"
        out["jailbreak"] = {"filtered": hit, "detected": hit}
    return out


def is_prompt_filtered(body: dict[str, Any]) -> dict[str, Any] | None:
    """Prompt filter rule: a message containing ``EMULATOR_FILTER_PROMPT`` (optionally suffixed
    ``_HATE``, ``_SEXUAL``, ``_VIOLENCE``, ``_SELF_HARM`` or ``_JAILBREAK``; default hate) is
    filtered. Returns the ``content_filter_result`` dict for the 400 answer, else None."""
    for msg in _messages(body):
        m = _FILTER_PROMPT_RE.search(_content_text(msg.get("content")))
        if m:
            category = (m.group(1) or "HATE").lower()
            return _filter_results(category, prompt=True)
    return None


def _tool_call_reply(body: dict[str, Any], chosen: list[dict[str, Any]], value_text: str) -> Reply:
    values = PromptValues(value_text)
    digest = _body_digest(body)
    calls: list[dict[str, Any]] = []
    for i, tool in enumerate(chosen):
        # Numbers are shared out across parallel calls, strings start over per call.
        values.restart_strings()
        args = synthesise(_tool_params(tool), values)
        calls.append(
            {
                "id": _call_id(digest, i),
                "type": "function",
                "function": {
                    "name": _tool_name(tool),
                    "arguments": json.dumps(args, ensure_ascii=False),
                },
            }
        )
    tokens = sum(
        count_tokens(c["function"]["name"]) + count_tokens(c["function"]["arguments"])
        for c in calls
    )
    return Reply(
        content=None, tool_calls=calls, finish_reason="tool_calls", completion_tokens=tokens
    )


def _formatted(
    body: dict[str, Any], text: str, user_text: str, instructions: str, value_text: str
) -> str:
    """Apply `response_format`: json_object / json_schema replace the plain text."""
    fmt = body.get("response_format")
    fmt_type = fmt.get("type") if isinstance(fmt, dict) else fmt
    if fmt_type == "json_object":
        obj = _json_object(user_text, instructions, value_text, text)
        return json.dumps(obj, ensure_ascii=False)
    if fmt_type == "json_schema" and isinstance(fmt, dict):
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            schema = {"type": "object"}
        return json.dumps(synthesise(schema, PromptValues(value_text)), ensure_ascii=False)
    return text


def _limited(
    body: dict[str, Any], messages: list[dict[str, Any]], text: str
) -> tuple[str, str, dict[str, Any] | None]:
    """(text, finish_reason, content_filter_results) after the output filter, stop, max_tokens."""
    if any(FILTER_OUTPUT_TRIGGER in _content_text(m.get("content")) for m in messages):
        cut = _cut_tokens(text, max(1, count_tokens(text) // 2))
        return cut, "content_filter", _filter_results("violence", prompt=False)
    text, _stopped = _apply_stop(text, body.get("stop"))
    limits = [
        v
        for v in (body.get("max_tokens"), body.get("max_completion_tokens"))
        if isinstance(v, int) and not isinstance(v, bool)
    ]
    if limits and count_tokens(text) > min(limits):
        return _cut_tokens(text, min(limits)), "length", None
    return text, "stop", None


def _carries_tool_media(msg: dict[str, Any], previous: dict[str, Any]) -> bool:
    """A user message right after tool results that only carries media (images or audio a tool
    returned, which the tool role cannot hold) and a short caption belongs to those results."""
    content = msg.get("content")
    return (
        msg.get("role") == "user"
        and previous.get("role") == "tool"
        and any(_media_counts(content))
        and len(_content_text(content).split()) <= MEDIA_CAPTION_WORDS
    )


def chat_reply(dep: Deployment, body: dict[str, Any]) -> Reply:
    """The deterministic reply of `dep` to a validated chat body (rules in docs/emulator.md)."""
    messages = _messages(body)
    if len(messages) >= 2 and _carries_tool_media(messages[-1], messages[-2]):
        messages = messages[:-1]
    user_idx, user = _last_user(messages)
    user_content = user.get("content") if user else None
    user_text = _content_text(user_content)
    results = _tool_results(messages)
    # Structured values come from the last user message and the tool results after it.
    value_text = " ".join([user_text, *results])

    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)] if dep.tools else []
    if tools:
        chosen = _select_tools(body, tools, messages, user_idx, user_text)
        if chosen:
            return _tool_call_reply(body, chosen, value_text)

    head = f"Emulated reply from {dep.name}: "
    instructions = " ".join(
        _content_text(m.get("content"))
        for m in messages
        if m.get("role") in ("system", "developer")
    )
    if results:
        text = head + "tool results: " + "; ".join(results)
    elif uses_react(instructions) or uses_react(user_text):
        turns = [
            (str(m.get("role")), _content_text(m.get("content")))
            for m in messages
            if m.get("role") not in ("system", "developer")
        ]
        text = react_reply(instructions, turns, head, _mentioned_in)
    else:
        text = head + _echo(user_text) + _media_note(*_media_counts(user_content))
    text = _formatted(body, text, user_text, instructions, value_text)
    text, finish, filter_results = _limited(body, messages, text)

    modalities = body.get("modalities")
    if dep.audio_output and isinstance(modalities, list) and "audio" in modalities:
        audio = {
            "id": f"audio_{_body_digest(body)[:24]}",
            "expires_at": int(time.time()) + 3600,
            "data": _WAV_B64,
            "format": "wav",
            "transcript": text,
        }
        return Reply(
            content=None,
            audio=audio,
            finish_reason=finish,
            completion_tokens=count_tokens(text),
            content_filter_results=filter_results,
        )

    reasoning = None
    reasoning_tokens = 0
    if dep.reasoning:
        reasoning = (
            f"Emulated reasoning: the last user message has {count_tokens(user_text)} tokens; "
            "the rule is to echo it."
        )
        reasoning_tokens = count_tokens(reasoning)
    return Reply(
        content=text,
        reasoning_content=reasoning,
        finish_reason=finish,
        completion_tokens=count_tokens(text) + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
        content_filter_results=filter_results,
    )


# ---------------------------------------------------------------------------- streaming

_WORD_PIECE_RE = re.compile(r"\s*\S+\s*|\s+")


def _split(text: str, chunk_size: int) -> list[str]:
    if not text:
        return []
    if chunk_size <= 0:
        return _WORD_PIECE_RE.findall(text)
    return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]


def stream_pieces(reply: Reply, chunk_size: int) -> list[dict[str, Any]]:
    """The `delta` dicts after the role chunk: reasoning_content pieces, content pieces (of
    `chunk_size` characters, or words when `chunk_size <= 0`), audio, then tool-call fragments
    (first: index, id, type, name, arguments ""; then the arguments in pieces)."""
    deltas: list[dict[str, Any]] = []
    for piece in _split(reply.reasoning_content or "", chunk_size):
        deltas.append({"reasoning_content": piece})
    for piece in _split(reply.content or "", chunk_size):
        deltas.append({"content": piece})
    if reply.audio is not None:
        deltas.append({"audio": dict(reply.audio)})
    for index, call in enumerate(reply.tool_calls):
        fn = call.get("function") or {}
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.get("id"),
                        "type": "function",
                        "function": {"name": fn.get("name", ""), "arguments": ""},
                    }
                ]
            }
        )
        for piece in _split(str(fn.get("arguments", "")), chunk_size if chunk_size > 0 else 16):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    return deltas
