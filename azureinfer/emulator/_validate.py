"""Request-body validation: FastAPI-style error details (`type`, `loc`, `msg`, `input`).

`validate_*` check the shape of a body (any deployment); `capability_*` check what one deployment
supports. Both return a list of details; an empty list means the body is acceptable.
"""

from __future__ import annotations

import re
from typing import Any

from azureinfer.emulator._catalogue import Deployment

Detail = dict[str, Any]
Loc = tuple[str | int, ...]

CHAT_KEYS = frozenset(
    {
        "messages",
        "frequency_penalty",
        "stream",
        "presence_penalty",
        "temperature",
        "top_p",
        "max_tokens",
        "response_format",
        "stop",
        "tools",
        "tool_choice",
        "seed",
        "model",
        "modalities",
    }
)
EMBEDDINGS_KEYS = frozenset({"input", "dimensions", "encoding_format", "input_type", "model"})
# What the OpenAI backend behind an Azure OpenAI deployment URL also understands.
OPENAI_EXTRA_CHAT_KEYS = frozenset(
    {
        "stream_options",
        "n",
        "user",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "parallel_tool_calls",
        "max_completion_tokens",
        "reasoning_effort",
        "audio",
        "prediction",
        "store",
        "metadata",
        "service_tier",
        "functions",
        "function_call",
        "data_sources",
    }
)
OPENAI_EXTRA_EMBEDDINGS_KEYS = frozenset({"user"})

ROLES = ("system", "developer", "user", "assistant", "tool")
CONTENT_TYPES = ("text", "image_url", "input_audio", "audio_url")
ENCODINGS = ("float", "base64", "int8", "uint8", "binary", "ubinary")
INPUT_TYPES = ("text", "query", "document")
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DATA_URL_RE = re.compile(r"^data:image/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/=\s]*$")


def detail(kind: str, loc: Loc, msg: str, value: Any = None) -> Detail:
    """One FastAPI-style error detail."""
    return {"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _range(body: dict[str, Any], key: str, lo: float, hi: float, out: list[Detail]) -> None:
    if key not in body or body[key] is None:
        return
    v = body[key]
    if not _is_number(v):
        out.append(detail("float_type", (key,), "Input should be a valid number", v))
    elif not lo <= v <= hi:
        out.append(detail("value_error", (key,), f"Input should be between {lo:g} and {hi:g}", v))


def _text_parts(content: Any, loc: Loc, out: list[Detail]) -> None:
    """Array content on non-user roles: text items only."""
    for j, item in enumerate(content):
        if not isinstance(item, dict) or item.get("type") != "text":
            out.append(
                detail(
                    "literal_error", (*loc, j, "type"), "Only text content items are allowed", item
                )
            )
        elif not isinstance(item.get("text"), str):
            out.append(detail("string_type", (*loc, j, "text"), "Input should be a string"))


def _user_parts(content: list[Any], loc: Loc, out: list[Detail]) -> None:
    for j, item in enumerate(content):
        iloc = (*loc, j)
        if not isinstance(item, dict):
            out.append(detail("dict_type", iloc, "Input should be an object", item))
            continue
        kind = item.get("type")
        if kind not in CONTENT_TYPES:
            out.append(
                detail(
                    "literal_error",
                    (*iloc, "type"),
                    f"Input should be one of {', '.join(CONTENT_TYPES)}",
                    kind,
                )
            )
        elif kind == "text":
            if not isinstance(item.get("text"), str):
                out.append(detail("string_type", (*iloc, "text"), "Input should be a string"))
        elif kind in ("image_url", "audio_url"):
            inner = item.get(kind)
            if not isinstance(inner, dict) or not isinstance(inner.get("url"), str):
                out.append(detail("missing", (*iloc, kind, "url"), "Field required", inner))
            elif kind == "image_url" and inner.get("detail") not in (None, "auto", "low", "high"):
                out.append(
                    detail(
                        "literal_error",
                        (*iloc, kind, "detail"),
                        "Input should be 'auto', 'low' or 'high'",
                        inner.get("detail"),
                    )
                )
        else:
            inner = item.get("input_audio")
            if not isinstance(inner, dict) or not isinstance(inner.get("data"), str):
                out.append(detail("missing", (*iloc, "input_audio", "data"), "Field required"))
            elif inner.get("format") not in ("wav", "mp3"):
                out.append(
                    detail(
                        "literal_error",
                        (*iloc, "input_audio", "format"),
                        "Input should be 'wav' or 'mp3'",
                        inner.get("format"),
                    )
                )


def _message(i: int, msg: Any, strict: bool, out: list[Detail]) -> None:
    loc: Loc = ("messages", i)
    if not isinstance(msg, dict):
        out.append(detail("dict_type", loc, "Input should be an object", msg))
        return
    role = msg.get("role")
    if role not in ROLES:
        out.append(
            detail(
                "literal_error", (*loc, "role"), f"Input should be one of {', '.join(ROLES)}", role
            )
        )
        return
    content = msg.get("content")
    cloc = (*loc, "content")
    if role == "user":
        if isinstance(content, list):
            _user_parts(content, cloc, out)
        elif not isinstance(content, str):
            out.append(detail("string_type", cloc, "Input should be a string or a list", content))
        return
    if isinstance(content, list) and not strict:
        _text_parts(content, cloc, out)
    elif role in ("system", "developer"):
        if not isinstance(content, str):
            out.append(detail("string_type", cloc, "Input should be a valid string", content))
    elif content is not None and not isinstance(content, str):
        out.append(detail("string_type", cloc, "Input should be a valid string", content))
    if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
        out.append(detail("missing", (*loc, "tool_call_id"), "Field required", msg))
    if role == "assistant" and msg.get("tool_calls") is not None:
        calls = msg["tool_calls"]
        if not isinstance(calls, list):
            out.append(detail("list_type", (*loc, "tool_calls"), "Input should be a list", calls))
            return
        for k, call in enumerate(calls):
            kloc = (*loc, "tool_calls", k)
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(call, dict) or not isinstance(call.get("id"), str):
                out.append(detail("missing", (*kloc, "id"), "Field required", call))
            elif not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                out.append(detail("missing", (*kloc, "function", "name"), "Field required", call))
            elif not isinstance(fn.get("arguments"), str):
                out.append(
                    detail(
                        "string_type",
                        (*kloc, "function", "arguments"),
                        "Input should be a valid string",
                        fn.get("arguments"),
                    )
                )


def _tools(body: dict[str, Any], out: list[Detail]) -> set[str]:
    names: set[str] = set()
    tools = body.get("tools")
    if tools is None:
        return names
    if not isinstance(tools, list) or not tools:
        out.append(
            detail(
                "too_short", ("tools",), "List should have at least 1 item after validation", tools
            )
        )
        return names
    for i, tool in enumerate(tools):
        loc: Loc = ("tools", i)
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function":
            out.append(detail("literal_error", (*loc, "type"), "Input should be 'function'", tool))
        elif not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            out.append(detail("missing", (*loc, "function", "name"), "Field required", tool))
        elif not NAME_RE.match(fn["name"]):
            out.append(
                detail(
                    "string_pattern_mismatch",
                    (*loc, "function", "name"),
                    "String should match pattern '^[a-zA-Z0-9_-]{1,64}$'",
                    fn["name"],
                )
            )
        elif fn.get("parameters") is not None and not isinstance(fn["parameters"], dict):
            out.append(
                detail(
                    "dict_type",
                    (*loc, "function", "parameters"),
                    "Input should be an object",
                    fn["parameters"],
                )
            )
        else:
            names.add(fn["name"])
    return names


def _tool_choice(body: dict[str, Any], names: set[str], out: list[Detail]) -> None:
    choice = body.get("tool_choice")
    if choice is None or choice in ("auto", "none", "required"):
        return
    fn = choice.get("function") if isinstance(choice, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        out.append(
            detail(
                "union_tag_invalid",
                ("tool_choice",),
                "Input should be 'auto', 'none', 'required' or a named function",
                choice,
            )
        )
    elif fn["name"] not in names:
        out.append(
            detail(
                "value_error",
                ("tool_choice", "function", "name"),
                f"Tool {fn['name']!r} is not among the tools offered",
                fn["name"],
            )
        )


def _response_format(body: dict[str, Any], out: list[Detail]) -> None:
    rf = body.get("response_format")
    if rf is None:
        return
    kind = rf.get("type") if isinstance(rf, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        out.append(
            detail(
                "union_tag_invalid",
                ("response_format", "type"),
                "Input should be 'text', 'json_object' or 'json_schema'",
                rf,
            )
        )
        return
    if kind != "json_schema":
        return
    js = rf.get("json_schema")
    if not isinstance(js, dict):
        out.append(detail("missing", ("response_format", "json_schema"), "Field required", rf))
        return
    name = js.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        out.append(
            detail(
                "string_pattern_mismatch",
                ("response_format", "json_schema", "name"),
                "String should match pattern '^[a-zA-Z0-9_-]{1,64}$'",
                name,
            )
        )
    if not isinstance(js.get("schema"), dict):
        out.append(
            detail(
                "dict_type",
                ("response_format", "json_schema", "schema"),
                "Input should be an object",
                js.get("schema"),
            )
        )


def validate_chat(body: dict[str, Any], strict: bool) -> list[Detail]:
    """Shape errors of a chat body (any deployment)."""
    out: list[Detail] = []
    messages = body.get("messages")
    if messages is None:
        out.append(detail("missing", ("messages",), "Field required"))
    elif not isinstance(messages, list):
        out.append(detail("list_type", ("messages",), "Input should be a valid list", messages))
    elif not messages:
        out.append(
            detail(
                "too_short", ("messages",), "List should have at least 1 item after validation", []
            )
        )
    else:
        for i, msg in enumerate(messages):
            _message(i, msg, strict, out)
    _range(body, "frequency_penalty", -2.0, 2.0, out)
    _range(body, "presence_penalty", -2.0, 2.0, out)
    _range(body, "temperature", 0.0, 1.0 if strict else 2.0, out)
    _range(body, "top_p", 0.0, 1.0, out)
    mt = body.get("max_tokens")
    if mt is not None and (not _is_int(mt) or mt < 0):
        out.append(
            detail("greater_than_equal", ("max_tokens",), "Input should be an integer >= 0", mt)
        )
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        out.append(detail("int_type", ("seed",), "Input should be a valid integer", seed))
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        out.append(detail("bool_type", ("stream",), "Input should be a valid boolean", stream))
    stop = body.get("stop")
    if (
        stop is not None
        and not isinstance(stop, str)
        and (not isinstance(stop, list) or not stop or not all(isinstance(s, str) for s in stop))
    ):
        out.append(
            detail("list_type", ("stop",), "Input should be a non-empty list of strings", stop)
        )
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        out.append(detail("string_type", ("model",), "Input should be a valid string", model))
    modalities = body.get("modalities")
    if modalities is not None and (
        not isinstance(modalities, list) or any(m not in ("text", "audio") for m in modalities)
    ):
        out.append(
            detail(
                "literal_error",
                ("modalities",),
                "Input should be a list of 'text' and 'audio'",
                modalities,
            )
        )
    names = _tools(body, out)
    _tool_choice(body, names, out)
    _response_format(body, out)
    so = body.get("stream_options")
    if so is not None and not isinstance(so, dict):
        out.append(detail("dict_type", ("stream_options",), "Input should be an object", so))
    return out


# Emulator hints, after the service's text: the way out with this project's adapters.
_JSON_SCHEMA_HINT = (
    ". (Emulator hint: ask for structured output through a tool instead, e.g. "
    'with_structured_output(..., method="function_calling").)'
)
_SYSTEM_HINT = (
    ". (Emulator hint: send the instructions in the first user message instead, e.g. "
    "fold_system_messages=True on the chat model.)"
)


def capability_chat(dep: Deployment, body: dict[str, Any]) -> list[Detail]:
    """What this chat deployment cannot do (each -> 422 naming the parameter)."""
    out: list[Detail] = []
    msg = f"The model {dep.model_name!r} does not support"
    if not dep.tools:
        if body.get("tools"):
            out.append(detail("parameter_not_supported", ("tools",), f"{msg} tools", None))
        if body.get("tool_choice") not in (None, "none", "auto"):
            out.append(
                detail(
                    "parameter_not_supported",
                    ("tool_choice",),
                    f"{msg} tool_choice",
                    body["tool_choice"],
                )
            )
    rf = body.get("response_format")
    if isinstance(rf, dict):
        kind = rf.get("type")
        if (kind == "json_object" and not dep.json_object) or (
            kind == "json_schema" and not dep.json_schema
        ):
            hint = _JSON_SCHEMA_HINT if kind == "json_schema" and dep.tools else ""
            out.append(
                detail(
                    "parameter_not_supported",
                    ("response_format",),
                    f"{msg} response_format {kind}{hint}",
                    kind,
                )
            )
    modalities = body.get("modalities") or []
    if "audio" in modalities and not dep.audio_output:
        out.append(
            detail("parameter_not_supported", ("modalities",), f"{msg} audio output", modalities)
        )
    for i, m in enumerate(body.get("messages") or []):
        role = m.get("role")
        if role == "system" and not dep.system_messages:
            out.append(
                detail(
                    "parameter_not_supported",
                    ("messages", i, "role"),
                    f"{msg} system messages{_SYSTEM_HINT}",
                    role,
                )
            )
        elif role == "developer" and not dep.developer_messages:
            out.append(
                detail(
                    "parameter_not_supported",
                    ("messages", i, "role"),
                    f"{msg} developer messages",
                    role,
                )
            )
        content = m.get("content")
        if role != "user" or not isinstance(content, list):
            continue
        for j, item in enumerate(content):
            kind = item.get("type")
            if kind == "image_url" and not dep.images:
                out.append(
                    detail(
                        "parameter_not_supported",
                        ("messages", i, "content", j, "image_url"),
                        f"{msg} image input",
                        kind,
                    )
                )
            elif kind in ("input_audio", "audio_url") and not dep.audio_input:
                out.append(
                    detail(
                        "parameter_not_supported",
                        ("messages", i, "content", j, kind),
                        f"{msg} audio input",
                        kind,
                    )
                )
    return out


def _embedding_options(body: dict[str, Any], out: list[Detail]) -> None:
    dims = body.get("dimensions")
    if dims is not None and (not _is_int(dims) or dims < 1):
        out.append(detail("greater_than", ("dimensions",), "Input should be an integer > 0", dims))
    enc = body.get("encoding_format")
    if enc is not None and enc not in ENCODINGS:
        out.append(
            detail(
                "literal_error",
                ("encoding_format",),
                f"Input should be one of {', '.join(ENCODINGS)}",
                enc,
            )
        )
    it = body.get("input_type")
    if it is not None and it not in INPUT_TYPES:
        out.append(
            detail(
                "literal_error",
                ("input_type",),
                f"Input should be one of {', '.join(INPUT_TYPES)}",
                it,
            )
        )
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        out.append(detail("string_type", ("model",), "Input should be a valid string", model))


def validate_embeddings(body: dict[str, Any]) -> list[Detail]:
    """Shape errors of a text embeddings body (`input` may be a string or a list of strings)."""
    out: list[Detail] = []
    inputs = body.get("input")
    if inputs is None:
        out.append(detail("missing", ("input",), "Field required"))
    elif isinstance(inputs, list):
        if not inputs:
            out.append(detail("too_short", ("input",), "List should have at least 1 item", inputs))
        for i, text in enumerate(inputs):
            if not isinstance(text, str):
                out.append(detail("string_type", ("input", i), "Input should be a string", text))
    elif not isinstance(inputs, str):
        out.append(detail("list_type", ("input",), "Input should be a list of strings", inputs))
    _embedding_options(body, out)
    return out


def validate_image_embeddings(body: dict[str, Any]) -> list[Detail]:
    """Shape errors of an image embeddings body."""
    out: list[Detail] = []
    inputs = body.get("input")
    if not isinstance(inputs, list) or not inputs:
        out.append(
            detail("too_short", ("input",), "Input should be a non-empty list of images", inputs)
        )
    else:
        for i, item in enumerate(inputs):
            if not isinstance(item, dict):
                out.append(detail("dict_type", ("input", i), "Input should be an object", item))
                continue
            image = item.get("image")
            if not isinstance(image, str) or not DATA_URL_RE.match(image[:200]):
                shown = image[:60] if isinstance(image, str) else image
                out.append(
                    detail(
                        "value_error",
                        ("input", i, "image"),
                        "image must be a data URL: data:image/<format>;base64,<data>",
                        shown,
                    )
                )
            text = item.get("text")
            if text is not None and not isinstance(text, str):
                out.append(
                    detail("string_type", ("input", i, "text"), "Input should be a string", text)
                )
    _embedding_options(body, out)
    return out


def capability_embeddings(dep: Deployment, body: dict[str, Any], n_inputs: int) -> list[Detail]:
    """What this embeddings deployment cannot do."""
    out: list[Detail] = []
    msg = f"The model {dep.model_name!r} does not support"
    dims = body.get("dimensions")
    if dims is not None:
        if not dep.variable_dimensions and dims != dep.dimensions:
            out.append(
                detail("parameter_not_supported", ("dimensions",), f"{msg} dimensions", dims)
            )
        elif dims > dep.dimensions:
            out.append(
                detail(
                    "less_than_equal",
                    ("dimensions",),
                    f"dimensions must be <= {dep.dimensions} for {dep.model_name!r}",
                    dims,
                )
            )
    if body.get("input_type") is not None and not dep.input_type:
        out.append(
            detail(
                "parameter_not_supported", ("input_type",), f"{msg} input_type", body["input_type"]
            )
        )
    if n_inputs > dep.max_inputs:
        out.append(
            detail(
                "too_long",
                ("input",),
                f"At most {dep.max_inputs} inputs per request for {dep.model_name!r}, "
                f"got {n_inputs}",
                n_inputs,
            )
        )
    return out
