"""Request-body validation: FastAPI-style error details (`type`, `loc`, `msg`, `input`).

`validate_*` check the shape of a body (any deployment); `capability_*` check what one deployment
supports. Both return a list of details; an empty list means the body is acceptable.

The keys the Model Inference API defines are the keys of the field tables (`CHAT_FIELDS`,
`EMBEDDINGS_FIELDS`, `IMAGE_EMBEDDINGS_FIELDS`), each with the check of its value; any other key
is an extra parameter (`extra-parameters`, spec §3.2).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeGuard

from azureinfer.emulator._catalogue import Deployment

Detail = dict[str, Any]
Loc = tuple[str | int, ...]
Check = Callable[[dict[str, Any], str, bool, list[Detail]], None]
"""How one key is checked: ``check(body, key, strict, out)`` adds to `out` the details of what is
wrong with ``body[key]`` (`strict`: `Settings.strict`)."""

ROLES = ("system", "developer", "user", "assistant", "tool")
CONTENT_TYPES = ("text", "image_url", "input_audio", "audio_url")
ENCODINGS = ("float", "base64", "int8", "uint8", "binary", "ubinary")
INPUT_TYPES = ("text", "query", "document")
IMAGE_DETAILS = ("auto", "low", "high")
AUDIO_FORMATS = ("wav", "mp3")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DATA_URL_RE = re.compile(r"^data:image/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/=\s]*$")
_NAME_MISMATCH = "String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"


def detail(kind: str, loc: Loc, msg: str, value: Any = None) -> Detail:
    """One FastAPI-style error detail."""
    return {"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}


def _one_of(loc: Loc, choices: tuple[str, ...], value: Any) -> Detail:
    return detail("literal_error", loc, f"Input should be one of {', '.join(choices)}", value)


def _spelled(choices: tuple[str, ...]) -> str:
    """``'a', 'b' or 'c'``: literals as pydantic lists them."""
    *first, last = (repr(c) for c in choices)
    return f"{', '.join(first)} or {last}" if first else last


def _literal(loc: Loc, choices: tuple[str, ...], value: Any) -> Detail:
    return detail("literal_error", loc, f"Input should be {_spelled(choices)}", value)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _has_str(obj: Any, field: str) -> TypeGuard[dict[str, Any]]:
    """Whether `obj` is an object whose `field` is a string."""
    return isinstance(obj, dict) and isinstance(obj.get(field), str)


# -------------------------------------------------------------------- checks of one key
def _valid(kind: str, msg: str, ok: Callable[[Any], bool]) -> Check:
    """A key whose value, when set (not None), must be `ok` (else one `kind` detail)."""

    def check(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
        value = body.get(key)
        if value is not None and not ok(value):
            out.append(detail(kind, (key,), msg, value))

    return check


def _choice(choices: tuple[str, ...]) -> Check:
    """A key whose value, when set, is one of `choices`."""

    def check(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
        value = body.get(key)
        if value is not None and value not in choices:
            out.append(_one_of((key,), choices, value))

    return check


def _between(lo: float, hi: float, strict_hi: float | None = None) -> Check:
    """A number in [lo, hi] when set ([lo, strict_hi] under strict validation)."""

    def check(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
        v = body.get(key)
        top = strict_hi if strict and strict_hi is not None else hi
        if v is None:
            return
        if not _is_number(v):
            out.append(detail("float_type", (key,), "Input should be a valid number", v))
        elif not lo <= v <= top:
            out.append(
                detail("value_error", (key,), f"Input should be between {lo:g} and {top:g}", v)
            )

    return check


def _is_stop(v: Any) -> bool:
    return isinstance(v, str) or (
        isinstance(v, list) and bool(v) and all(isinstance(s, str) for s in v)
    )


_MODEL = _valid("string_type", "Input should be a valid string", lambda v: isinstance(v, str))
_OBJECT = _valid("dict_type", "Input should be an object", lambda v: isinstance(v, dict))


def _text_parts(content: Any, loc: Loc, out: list[Detail]) -> None:
    """Array content on non-user roles: text items only."""
    for j, item in enumerate(content):
        if not isinstance(item, dict) or item.get("type") != "text":
            msg = "Only text content items are allowed"
            out.append(detail("literal_error", (*loc, j, "type"), msg, item))
        elif not _has_str(item, "text"):
            out.append(detail("string_type", (*loc, j, "text"), "Input should be a string"))


def _user_parts(content: list[Any], loc: Loc, out: list[Detail]) -> None:
    for j, item in enumerate(content):
        iloc = (*loc, j)
        if not isinstance(item, dict):
            out.append(detail("dict_type", iloc, "Input should be an object", item))
            continue
        kind = item.get("type")
        if kind not in CONTENT_TYPES:
            out.append(_one_of((*iloc, "type"), CONTENT_TYPES, kind))
        elif kind == "text":
            if not _has_str(item, "text"):
                out.append(detail("string_type", (*iloc, "text"), "Input should be a string"))
        elif kind in ("image_url", "audio_url"):
            inner = item.get(kind)
            if not _has_str(inner, "url"):
                out.append(detail("missing", (*iloc, kind, "url"), "Field required", inner))
            elif kind == "image_url" and inner.get("detail") not in (None, *IMAGE_DETAILS):
                out.append(_literal((*iloc, kind, "detail"), IMAGE_DETAILS, inner.get("detail")))
        else:
            inner = item.get("input_audio")
            if not _has_str(inner, "data"):
                out.append(detail("missing", (*iloc, "input_audio", "data"), "Field required"))
            elif inner.get("format") not in AUDIO_FORMATS:
                fmt = inner.get("format")
                out.append(_literal((*iloc, "input_audio", "format"), AUDIO_FORMATS, fmt))


def _tool_calls(calls: list[Any], loc: Loc, out: list[Detail]) -> None:
    """An assistant message's `tool_calls`."""
    for k, call in enumerate(calls):
        kloc = (*loc, k)
        fn = call.get("function") if isinstance(call, dict) else None
        if not _has_str(call, "id"):
            out.append(detail("missing", (*kloc, "id"), "Field required", call))
        elif not _has_str(fn, "name"):
            out.append(detail("missing", (*kloc, "function", "name"), "Field required", call))
        elif not isinstance(fn.get("arguments"), str):
            msg = "Input should be a valid string"
            args = fn.get("arguments")
            out.append(detail("string_type", (*kloc, "function", "arguments"), msg, args))


def _message(i: int, msg: Any, strict: bool, out: list[Detail]) -> None:
    loc: Loc = ("messages", i)
    if not isinstance(msg, dict):
        out.append(detail("dict_type", loc, "Input should be an object", msg))
        return
    role = msg.get("role")
    if role not in ROLES:
        out.append(_one_of((*loc, "role"), ROLES, role))
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
    if role == "tool" and not _has_str(msg, "tool_call_id"):
        out.append(detail("missing", (*loc, "tool_call_id"), "Field required", msg))
    if role == "assistant" and msg.get("tool_calls") is not None:
        calls = msg["tool_calls"]
        if not isinstance(calls, list):
            out.append(detail("list_type", (*loc, "tool_calls"), "Input should be a list", calls))
        else:
            _tool_calls(calls, (*loc, "tool_calls"), out)


def _messages(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
    messages = body.get(key)
    if messages is None:
        out.append(detail("missing", (key,), "Field required"))
    elif not isinstance(messages, list):
        out.append(detail("list_type", (key,), "Input should be a valid list", messages))
    elif not messages:
        msg = "List should have at least 1 item after validation"
        out.append(detail("too_short", (key,), msg, []))
    else:
        for i, message in enumerate(messages):
            _message(i, message, strict, out)


def _offered(tools: Any, out: list[Detail]) -> set[str]:
    """Check `tools`; the names of the well-formed functions among them."""
    names: set[str] = set()
    if tools is None:
        return names
    if not isinstance(tools, list) or not tools:
        msg = "List should have at least 1 item after validation"
        out.append(detail("too_short", ("tools",), msg, tools))
        return names
    for i, tool in enumerate(tools):
        floc: Loc = ("tools", i, "function")
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function":
            out.append(_literal(("tools", i, "type"), ("function",), tool))
        elif not _has_str(fn, "name"):
            out.append(detail("missing", (*floc, "name"), "Field required", tool))
        elif not NAME_RE.match(fn["name"]):
            out.append(
                detail("string_pattern_mismatch", (*floc, "name"), _NAME_MISMATCH, fn["name"])
            )
        elif fn.get("parameters") is not None and not isinstance(fn["parameters"], dict):
            msg = "Input should be an object"
            out.append(detail("dict_type", (*floc, "parameters"), msg, fn["parameters"]))
        else:
            names.add(fn["name"])
    return names


def _tools(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
    _offered(body.get(key), out)


def _tool_choice(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
    choice = body.get(key)
    if choice is None or choice in ("auto", "none", "required"):
        return
    fn = choice.get("function") if isinstance(choice, dict) else None
    if not _has_str(fn, "name"):
        msg = "Input should be 'auto', 'none', 'required' or a named function"
        out.append(detail("union_tag_invalid", (key,), msg, choice))
    elif fn["name"] not in _offered(body.get("tools"), []):
        msg = f"Tool {fn['name']!r} is not among the tools offered"
        out.append(detail("value_error", (key, "function", "name"), msg, fn["name"]))


def _response_format(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
    rf = body.get(key)
    if rf is None:
        return
    kind = rf.get("type") if isinstance(rf, dict) else None
    if kind not in RESPONSE_FORMATS:
        msg = f"Input should be {_spelled(RESPONSE_FORMATS)}"
        out.append(detail("union_tag_invalid", (key, "type"), msg, rf))
        return
    if kind != "json_schema":
        return
    js = rf.get("json_schema")
    if not isinstance(js, dict):
        out.append(detail("missing", (key, "json_schema"), "Field required", rf))
        return
    name = js.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        out.append(
            detail("string_pattern_mismatch", (key, "json_schema", "name"), _NAME_MISMATCH, name)
        )
    schema = js.get("schema")
    if not isinstance(schema, dict):
        msg = "Input should be an object"
        out.append(detail("dict_type", (key, "json_schema", "schema"), msg, schema))


def _text_input(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
    """Text embeddings: a string or a list of strings."""
    inputs = body.get(key)
    if inputs is None:
        out.append(detail("missing", (key,), "Field required"))
    elif isinstance(inputs, list):
        if not inputs:
            out.append(detail("too_short", (key,), "List should have at least 1 item", inputs))
        for i, text in enumerate(inputs):
            if not isinstance(text, str):
                out.append(detail("string_type", (key, i), "Input should be a string", text))
    elif not isinstance(inputs, str):
        out.append(detail("list_type", (key,), "Input should be a list of strings", inputs))


def _image_input(body: dict[str, Any], key: str, strict: bool, out: list[Detail]) -> None:
    """Image embeddings: a non-empty list of ``{"image": <data URL>, "text"?: str}``."""
    inputs = body.get(key)
    if not isinstance(inputs, list) or not inputs:
        msg = "Input should be a non-empty list of images"
        out.append(detail("too_short", (key,), msg, inputs))
        return
    for i, item in enumerate(inputs):
        if not isinstance(item, dict):
            out.append(detail("dict_type", (key, i), "Input should be an object", item))
            continue
        image = item.get("image")
        if not isinstance(image, str) or not DATA_URL_RE.match(image[:200]):
            msg = "image must be a data URL: data:image/<format>;base64,<data>"
            shown = image[:60] if isinstance(image, str) else image
            out.append(detail("value_error", (key, i, "image"), msg, shown))
        text = item.get("text")
        if text is not None and not isinstance(text, str):
            out.append(detail("string_type", (key, i, "text"), "Input should be a string", text))


# -------------------------------------------------------------------- the keys of the API
CHAT_FIELDS: dict[str, Check] = {
    "messages": _messages,
    "frequency_penalty": _between(-2.0, 2.0),
    "presence_penalty": _between(-2.0, 2.0),
    "temperature": _between(0.0, 2.0, strict_hi=1.0),
    "top_p": _between(0.0, 1.0),
    "max_tokens": _valid(
        "greater_than_equal", "Input should be an integer >= 0", lambda v: _is_int(v) and v >= 0
    ),
    "seed": _valid("int_type", "Input should be a valid integer", _is_int),
    "stream": _valid("bool_type", "Input should be a valid boolean", lambda v: isinstance(v, bool)),
    "stop": _valid("list_type", "Input should be a non-empty list of strings", _is_stop),
    "model": _MODEL,
    "modalities": _valid(
        "literal_error",
        "Input should be a list of 'text' and 'audio'",
        lambda v: isinstance(v, list) and all(m in ("text", "audio") for m in v),
    ),
    "tools": _tools,
    "tool_choice": _tool_choice,
    "response_format": _response_format,
}
"""The chat keys of the Model Inference API (spec §3.2), in the order their details are listed."""
_EMBEDDING_OPTIONS: dict[str, Check] = {
    "dimensions": _valid(
        "greater_than", "Input should be an integer > 0", lambda v: _is_int(v) and v >= 1
    ),
    "encoding_format": _choice(ENCODINGS),
    "input_type": _choice(INPUT_TYPES),
    "model": _MODEL,
}
EMBEDDINGS_FIELDS: dict[str, Check] = {"input": _text_input, **_EMBEDDING_OPTIONS}
IMAGE_EMBEDDINGS_FIELDS: dict[str, Check] = {"input": _image_input, **_EMBEDDING_OPTIONS}
CHAT_KEYS = frozenset(CHAT_FIELDS)
EMBEDDINGS_KEYS = frozenset(EMBEDDINGS_FIELDS)
"""The embeddings keys (text and image embeddings take the same ones)."""

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
# The OpenAI request sets of the /openai/v1 API (a deployment's `v1_extras` add to them).
V1_CHAT_KEYS = (
    CHAT_KEYS
    | OPENAI_EXTRA_CHAT_KEYS
    | {
        "prompt_cache_key",
        "safety_identifier",
        "verbosity",
        "user_security_context",
    }
)
V1_EMBEDDINGS_KEYS = frozenset({"input", "model", "dimensions", "encoding_format", "user"})


def _check(body: dict[str, Any], fields: dict[str, Check], strict: bool) -> list[Detail]:
    out: list[Detail] = []
    for key, check in fields.items():
        check(body, key, strict, out)
    return out


def validate_chat(body: dict[str, Any], strict: bool) -> list[Detail]:
    """Shape errors of a chat body (any deployment)."""
    out = _check(body, CHAT_FIELDS, strict)
    _OBJECT(body, "stream_options", strict, out)  # an OpenAI key, checked where it is taken
    return out


def validate_embeddings(body: dict[str, Any]) -> list[Detail]:
    """Shape errors of a text embeddings body (`input` may be a string or a list of strings)."""
    return _check(body, EMBEDDINGS_FIELDS, False)


def validate_image_embeddings(body: dict[str, Any]) -> list[Detail]:
    """Shape errors of an image embeddings body."""
    return _check(body, IMAGE_EMBEDDINGS_FIELDS, False)


# -------------------------------------------------------------------- what a deployment takes
# Emulator hints, after the service's text: the way out with this project's adapters.
_JSON_SCHEMA_HINT = (
    ". (Emulator hint: ask for structured output through a tool instead, e.g. "
    'with_structured_output(..., method="function_calling").)'
)
_SYSTEM_HINT = (
    ". (Emulator hint: send the instructions in the first user message instead, e.g. "
    "fold_system_messages=True on the chat model.)"
)


def _unsupported(dep: Deployment, loc: Loc, what: str, value: Any) -> Detail:
    """422 `parameter_not_supported`: "The model '<model>' does not support <what>"."""
    msg = f"The model {dep.model_name!r} does not support {what}"
    return detail("parameter_not_supported", loc, msg, value)


def capability_chat(dep: Deployment, body: dict[str, Any]) -> list[Detail]:
    """What this chat deployment cannot do (each -> 422 naming the parameter)."""
    out: list[Detail] = []
    if not dep.tools:
        if body.get("tools"):
            out.append(_unsupported(dep, ("tools",), "tools", None))
        if body.get("tool_choice") not in (None, "none", "auto"):
            out.append(_unsupported(dep, ("tool_choice",), "tool_choice", body["tool_choice"]))
    rf = body.get("response_format")
    if isinstance(rf, dict):
        kind = rf.get("type")
        if (kind == "json_object" and not dep.json_object) or (
            kind == "json_schema" and not dep.json_schema
        ):
            hint = _JSON_SCHEMA_HINT if kind == "json_schema" and dep.tools else ""
            what = f"response_format {kind}{hint}"
            out.append(_unsupported(dep, ("response_format",), what, kind))
    modalities = body.get("modalities") or []
    if "audio" in modalities and not dep.audio_output:
        out.append(_unsupported(dep, ("modalities",), "audio output", modalities))
    for i, m in enumerate(body.get("messages") or []):
        role = m.get("role")
        if role == "system" and not dep.system_messages:
            what = f"system messages{_SYSTEM_HINT}"
            out.append(_unsupported(dep, ("messages", i, "role"), what, role))
        elif role == "developer" and not dep.developer_messages:
            out.append(_unsupported(dep, ("messages", i, "role"), "developer messages", role))
        content = m.get("content")
        if role != "user" or not isinstance(content, list):
            continue
        for j, item in enumerate(content):
            kind = item.get("type")
            loc: Loc = ("messages", i, "content", j, kind)
            if kind == "image_url" and not dep.images:
                out.append(_unsupported(dep, loc, "image input", kind))
            elif kind in ("input_audio", "audio_url") and not dep.audio_input:
                out.append(_unsupported(dep, loc, "audio input", kind))
    return out


def capability_embeddings(dep: Deployment, body: dict[str, Any], n_inputs: int) -> list[Detail]:
    """What this embeddings deployment cannot do."""
    out: list[Detail] = []
    dims = body.get("dimensions")
    if dims is not None:
        if not dep.variable_dimensions and dims != dep.dimensions:
            out.append(_unsupported(dep, ("dimensions",), "dimensions", dims))
        elif dims > dep.dimensions:
            msg = f"dimensions must be <= {dep.dimensions} for {dep.model_name!r}"
            out.append(detail("less_than_equal", ("dimensions",), msg, dims))
    if body.get("input_type") is not None and not dep.input_type:
        out.append(_unsupported(dep, ("input_type",), "input_type", body["input_type"]))
    if n_inputs > dep.max_inputs:
        msg = f"At most {dep.max_inputs} inputs per request for {dep.model_name!r}, got {n_inputs}"
        out.append(detail("too_long", ("input",), msg, n_inputs))
    return out
