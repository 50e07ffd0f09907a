"""Wire request builders: the one place where parameters become a JSON body and headers.

Rules applied here, once, for both adapters:

- a value of 0 is a value (``temperature=0``, ``seed=0``, penalties of 0 are sent); None means
  "not set" and the key is left out;
- ``stop`` is always a list; ``tools: []`` is never sent; ``tool_choice`` and
  ``parallel_tool_calls`` are only sent with tools; ``tool_choice`` is normalised
  (``any`` -> ``required``, a tool name -> the named-function object);
- ``response_format`` is built from a Pydantic class, a TypedDict, a JSON schema, ``json_object``
  or a wire dict (:func:`build_response_format`);
- every top-level key the model-inference API does not define (``KNOWN_CHAT_KEYS``) travels in
  the body with an ``extra-parameters`` header carrying the caller's policy (``pass-through``,
  ``drop``, ``error``); nothing is ever passed to the HTTP layer as a keyword argument. The
  route (:mod:`azureinfer._routes`) decides what that header becomes on the wire: the OpenAI/v1
  route has no such header, so the transport enforces ``drop`` there itself.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from azureinfer.errors import ConfigurationError

__all__ = [
    "CALL_OPTIONS",
    "CHAT_REQUEST_PARAMETERS",
    "ENCODING_FORMATS",
    "EXTRA_PARAMETERS_POLICIES",
    "KNOWN_CHAT_KEYS",
    "KNOWN_EMBEDDINGS_KEYS",
    "OPENAI_EXTRA_PARAMETERS",
    "EncodingFormat",
    "ExtraParameters",
    "WireRequest",
    "build_chat_request",
    "build_embeddings_request",
    "build_response_format",
    "make_strict_schema",
    "normalize_tool_choice",
]

ExtraParameters = Literal["pass-through", "drop", "error"]
EXTRA_PARAMETERS_POLICIES: tuple[str, ...] = ("pass-through", "drop", "error")

# Top-level keys the Azure AI Model Inference API defines (spec §3.2). Anything else is "extra".
KNOWN_CHAT_KEYS = frozenset(
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
KNOWN_EMBEDDINGS_KEYS = frozenset({"input", "dimensions", "encoding_format", "input_type", "model"})
# The request parameters :func:`build_chat_request` takes by name (everything but messages,
# stream, stream_usage, model_extras, extra_parameters and headers): what an adapter's per-call
# keyword arguments map onto.
CHAT_REQUEST_PARAMETERS = frozenset(
    {
        "model",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "seed",
        "stop",
        "frequency_penalty",
        "presence_penalty",
        "reasoning_effort",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
    }
)

#: Per-call options of the HTTP call (the clients' ``timeout=`` / ``max_retries=``), not body
#: parameters: they change that call only.
CALL_OPTIONS = frozenset({"timeout", "max_retries"})
#: OpenAI chat-completions parameters the API does not define: sent in the body as extra
#: parameters (governed by ``extra_parameters``).
OPENAI_EXTRA_PARAMETERS = frozenset(
    {"logprobs", "top_logprobs", "logit_bias", "user", "modalities", "audio", "prediction"}
)
#: Values of ``encoding_format`` the API defines (the embeddings classes return floats for all).
EncodingFormat = Literal["float", "base64", "int8", "uint8", "binary", "ubinary"]
ENCODING_FORMATS: tuple[str, ...] = get_args(EncodingFormat)
_INPUT_TYPES = ("text", "query", "document")
_TOOL_CHOICE_PRESETS = {"auto": "auto", "none": "none", "required": "required", "any": "required"}


@dataclass
class WireRequest:
    """One request as it goes on the wire: the JSON body and the extra headers."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    stream_usage: bool = False
    """Streams should carry token usage where the route allows ``stream_options``."""
    extra_parameters: str = "pass-through"
    """The caller's policy for parameters the API does not define (also in the
    ``extra-parameters`` header when the body has such keys)."""

    @property
    def stream(self) -> bool:
        """True when the body asks for a stream."""
        return self.body.get("stream") is True


# --------------------------------------------------------------------------------------------
# Small validators


def _number(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigurationError(f"{name}={value!r} is out of range [{lo}, {hi}]")
    return value


def _integer(name: str, value: Any, lo: int | None = None) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an integer, got {value!r}")
    if lo is not None and value < lo:
        raise ConfigurationError(f"{name} must be >= {lo}, got {value!r}")
    return value


def _stop_list(stop: Any) -> list[str] | None:
    if stop is None:
        return None
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, Sequence) and all(isinstance(s, str) for s in stop):
        return list(stop) or None  # an empty list means "no stop sequences"
    raise ConfigurationError(f"stop must be a string or a list of strings, got {stop!r}")


def _list_of(name: str, value: Any, what: str, *, empty: bool = False) -> Sequence[Any]:
    """``value`` if it is a list (not a string) and, unless ``empty``, not an empty one."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ConfigurationError(f"{name} must be a list of {what}")
    if not value and not empty:
        raise ConfigurationError(f"{name} must not be empty")
    return value


def _model(model: Any) -> str | None:
    if model is not None and (not isinstance(model, str) or not model):
        raise ConfigurationError(f"model must be a non-empty string, got {model!r}")
    return model


def _policy(extra_parameters: Any) -> str:
    if extra_parameters not in EXTRA_PARAMETERS_POLICIES:
        raise ConfigurationError(
            f"extra_parameters must be one of {', '.join(EXTRA_PARAMETERS_POLICIES)}; "
            f"got {extra_parameters!r}"
        )
    return str(extra_parameters)


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigurationError("headers must be a mapping of str to str")
    out = {}
    for key, val in headers.items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise ConfigurationError(f"header {key!r} must map a str to a str")
        out[key] = val
    return out


def _merge_extras(
    body: dict[str, Any],
    model_extras: Mapping[str, Any] | None,
    reserved: frozenset[str],
) -> None:
    """Merge ``model_extras`` into the body.

    A key the builder also takes as an argument fills it when the argument was not given; when
    both are given with different values it is an error (no silent override).
    """
    if not model_extras:
        return
    if not isinstance(model_extras, Mapping):
        raise ConfigurationError("model_extras must be a mapping of parameter names to values")
    for key, val in model_extras.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"model_extras keys must be non-empty strings, got {key!r}")
        if key in reserved:
            raise ConfigurationError(
                f"model_extras[{key!r}] is not allowed: it is set by the client itself."
            )
        if val is None:
            continue
        if key in body and body[key] != val:
            raise ConfigurationError(
                f"{key!r} was given twice with different values (as an argument: "
                f"{body[key]!r:.60}; in model_extras: {val!r:.60})."
            )
        body[key] = copy.deepcopy(val)


def _wire_headers(
    body: Mapping[str, Any],
    known: frozenset[str],
    policy: str,
    headers: Mapping[str, str] | None,
) -> dict[str, str]:
    """The request's headers, with ``extra-parameters: <policy>`` when the body holds a key
    outside ``known`` (a header of the caller's own is checked and kept)."""
    out = _headers(headers)
    if any(k.lower() == "extra-parameters" for k in out):
        value = next(v for k, v in out.items() if k.lower() == "extra-parameters")
        _policy(value)
    elif any(key not in known for key in body):
        out["extra-parameters"] = policy
    return out


# --------------------------------------------------------------------------------------------
# tool_choice


def _tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    names = []
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            names.append(fn["name"])
    return names


def normalize_tool_choice(
    tool_choice: Any, tools: Sequence[Mapping[str, Any]] | None
) -> str | dict[str, Any] | None:
    """Normalise ``tool_choice`` to the wire value.

    ``auto``/``none``/``required`` as is, ``any`` -> ``required``, ``True`` -> the only tool by
    name (or ``required`` with several), ``False`` -> ``none``, a tool name -> the named-function
    object, dicts as given. A name that matches no tool is an error.
    """
    if tool_choice is None:
        return None
    if isinstance(tool_choice, bool):
        if not tool_choice:
            return "none"
        names = _tool_names(tools or [])
        if len(names) == 1:
            return {"type": "function", "function": {"name": names[0]}}
        return "required"
    if isinstance(tool_choice, str):
        preset = _TOOL_CHOICE_PRESETS.get(tool_choice.lower())
        if preset:
            return preset
        names = _tool_names(tools or [])
        if tools is not None and tool_choice not in names:
            raise ConfigurationError(
                f"tool_choice={tool_choice!r} is neither auto, none, required, any nor the name "
                f"of a bound tool (tools: {', '.join(names) or 'none'})."
            )
        return {"type": "function", "function": {"name": tool_choice}}
    if isinstance(tool_choice, Mapping):
        return copy.deepcopy(dict(tool_choice))
    raise ConfigurationError(f"Unsupported tool_choice {tool_choice!r}")


# --------------------------------------------------------------------------------------------
# response_format


_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]+")


def _schema_name(title: Any, default: str = "response") -> str:
    name = _NAME_RE.sub("_", str(title)).strip("_") if title else ""
    return (name or default)[:64]


def _schema_of(obj: Any) -> dict[str, Any] | None:
    """A JSON schema from a Pydantic v2 / v1 class or a TypedDict, else None."""
    if isinstance(obj, type):
        if hasattr(obj, "model_json_schema"):  # pydantic v2
            return dict(obj.model_json_schema())
        if hasattr(obj, "schema") and hasattr(obj, "__fields__"):  # pydantic v1
            return dict(obj.schema())
        if _is_typeddict(obj):
            try:
                from pydantic import TypeAdapter
            except ImportError as exc:  # pragma: no cover - pydantic comes with both frameworks
                raise ConfigurationError("A TypedDict response_format needs pydantic") from exc
            schema = dict(TypeAdapter(_pydantic_typeddict(obj)).json_schema())
            schema.setdefault("title", obj.__name__)
            if obj.__doc__ and "description" not in schema:
                schema["description"] = inspect_doc(obj.__doc__)
            return schema
    return None


def _pydantic_typeddict(obj: Any) -> Any:
    """Pydantic refuses ``typing.TypedDict`` before Python 3.12: rebuild it (typing_extensions)."""
    import sys

    if sys.version_info >= (3, 12) or type(obj).__module__ != "typing":
        return obj
    import typing

    import typing_extensions as te

    hints = typing.get_type_hints(obj, include_extras=True)
    required = getattr(obj, "__required_keys__", frozenset(hints))
    fields = {k: (te.Required[t] if k in required else te.NotRequired[t]) for k, t in hints.items()}
    make_typeddict: Any = te.TypedDict
    rebuilt = make_typeddict(obj.__name__, fields)
    rebuilt.__doc__ = obj.__doc__
    return rebuilt


def inspect_doc(doc: str) -> str:
    """Clean a docstring the way ``inspect.cleandoc`` does."""
    import inspect

    return inspect.cleandoc(doc)


def _is_typeddict(obj: Any) -> bool:
    from typing import is_typeddict

    if is_typeddict(obj):
        return True
    try:
        from typing_extensions import is_typeddict as te_is_typeddict
    except ImportError:  # pragma: no cover
        return False
    return bool(te_is_typeddict(obj))


def make_strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a strict-mode compatible copy of a JSON schema.

    Every object gets ``additionalProperties: false`` and lists all its properties as required;
    properties that were optional become nullable; ``default: null`` is dropped. Nested objects,
    arrays, ``$defs`` and ``anyOf``/``allOf``/``oneOf`` are walked. The input is not modified.
    """
    out = copy.deepcopy(dict(schema))
    _strictify(out)
    return out


def _strictify(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _strictify(item)
        return
    if not isinstance(node, dict):
        return
    if "default" in node and node["default"] is None:
        del node["default"]
    for key in ("$defs", "definitions"):
        if isinstance(node.get(key), dict):
            for sub in node[key].values():
                _strictify(sub)
    props = node.get("properties")
    is_object = node.get("type") == "object" or isinstance(props, dict)
    if is_object:
        props = props if isinstance(props, dict) else {}
        node["properties"] = props
        required = set(node.get("required") or [])
        for name, prop in props.items():
            _strictify(prop)
            if name not in required:
                props[name] = _nullable(prop)
        node["required"] = list(props)
        node["additionalProperties"] = False
    for key in ("items", "anyOf", "allOf", "oneOf", "prefixItems"):
        if key in node:
            _strictify(node[key])
    if isinstance(node.get("additionalProperties"), dict):
        _strictify(node["additionalProperties"])


def _nullable(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return prop
    typ = prop.get("type")
    if typ == "null" or (isinstance(typ, list) and "null" in typ):
        return prop
    any_of = prop.get("anyOf")
    if isinstance(any_of, list):
        if not any(isinstance(s, dict) and s.get("type") == "null" for s in any_of):
            any_of.append({"type": "null"})
        return prop
    if isinstance(typ, str) and "$ref" not in prop and "enum" not in prop:
        prop["type"] = [typ, "null"]
        return prop
    if isinstance(typ, list):
        prop["type"] = [*typ, "null"]
        return prop
    return {"anyOf": [prop, {"type": "null"}]}


def build_response_format(schema: Any, strict: bool | None = None) -> dict[str, Any] | None:
    """Build a wire ``response_format``.

    Accepts ``None``, ``"text"``, ``"json_object"``, ``"json_schema"``-typed wire dicts, a Pydantic
    v2 or v1 class, a TypedDict, a JSON schema dict, or an OpenAI-style
    ``{"name", "schema"|"parameters", "description", "strict"}`` dict. ``strict=True`` makes the
    schema strict-compatible (:func:`make_strict_schema`); ``strict=None`` leaves ``strict`` out.
    The name comes from the schema's title, sanitised to ``[a-zA-Z0-9_-]{1,64}``.
    """
    if schema is None:
        return None
    if isinstance(schema, str):
        if schema in ("text", "json_object"):
            return {"type": schema}
        raise ConfigurationError(
            f"response_format string must be 'text' or 'json_object', got {schema!r}; pass a "
            "schema (Pydantic class, TypedDict or JSON schema dict) for structured output."
        )
    json_schema: dict[str, Any]
    name: Any = None
    description: Any = None
    wire_strict: Any = None
    from_class = _schema_of(schema)
    if from_class is not None:
        json_schema = from_class
    elif isinstance(schema, Mapping):
        kind = schema.get("type")
        if kind in ("text", "json_object"):
            return copy.deepcopy(dict(schema))
        if kind == "json_schema":
            inner = schema.get("json_schema")
            if not isinstance(inner, Mapping) or not isinstance(inner.get("schema"), Mapping):
                raise ConfigurationError(
                    "A json_schema response_format needs {'json_schema': {'name': ..., "
                    "'schema': {...}}}"
                )
            if strict is None:  # a complete wire value: sent exactly as given
                return copy.deepcopy(dict(schema))
            name = inner.get("name")
            description = inner.get("description")
            wire_strict = inner.get("strict")
            json_schema = dict(inner["schema"])
        elif "schema" in schema and isinstance(schema.get("schema"), Mapping):
            name = schema.get("name")
            description = schema.get("description")
            wire_strict = schema.get("strict")
            json_schema = dict(schema["schema"])
        elif "parameters" in schema and "name" in schema:  # OpenAI function shape
            name = schema.get("name")
            description = schema.get("description")
            wire_strict = schema.get("strict")
            json_schema = dict(schema["parameters"])
        elif isinstance(kind, (str, list)) or any(
            k in schema for k in ("properties", "$schema", "anyOf", "oneOf", "$defs", "title")
        ):
            json_schema = copy.deepcopy(dict(schema))
        else:
            raise ConfigurationError(
                f"Cannot build a response_format from the dict {json.dumps(schema)[:80]}: expected "
                "a JSON schema or a wire response_format."
            )
    else:
        raise ConfigurationError(
            f"Unsupported response_format {schema!r}: pass a Pydantic class, a TypedDict, a JSON "
            "schema dict, 'json_object' or a wire dict."
        )
    use_strict = strict if strict is not None else wire_strict
    json_schema = make_strict_schema(json_schema) if use_strict else copy.deepcopy(json_schema)
    out: dict[str, Any] = {
        "name": _schema_name(name or json_schema.get("title")),
        "schema": json_schema,
    }
    desc = description or json_schema.get("description")
    if isinstance(desc, str) and desc:
        out["description"] = desc
    if use_strict is not None:
        out["strict"] = bool(use_strict)
    return {"type": "json_schema", "json_schema": out}


# --------------------------------------------------------------------------------------------
# Builders


def build_chat_request(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
    max_completion_tokens: int | None = None,
    seed: int | None = None,
    stop: str | Sequence[str] | None = None,
    frequency_penalty: float | None = None,
    presence_penalty: float | None = None,
    reasoning_effort: str | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
    parallel_tool_calls: bool | None = None,
    response_format: Any = None,
    stream: bool = False,
    stream_usage: bool = True,
    model_extras: Mapping[str, Any] | None = None,
    extra_parameters: str = "pass-through",
    headers: Mapping[str, str] | None = None,
) -> WireRequest:
    """Build the body and headers of one ``POST /chat/completions``.

    ``messages`` and ``tools`` are wire dicts. With ``stream=True`` and ``stream_usage``,
    ``stream_options.include_usage`` is added (unless the policy is ``error``, where the
    model-inference service would reject it; the OpenAI/v1 route, where it is a first-class
    parameter, adds it back: ``WireRequest.stream_usage``). Raises
    :class:`~azureinfer.errors.ConfigurationError` on bad input.
    """
    policy = _policy(extra_parameters)
    for i, msg in enumerate(_list_of("messages", messages, "wire message dicts")):
        if not isinstance(msg, Mapping) or not isinstance(msg.get("role"), str):
            raise ConfigurationError(f"messages[{i}] must be a dict with a 'role', got {msg!r:.80}")
    body: dict[str, Any] = {"messages": [copy.deepcopy(dict(m)) for m in messages]}
    if stream:
        body["stream"] = True
    if _model(model) is not None:
        body["model"] = model
    params: dict[str, Any] = {
        "temperature": _number("temperature", temperature, 0, 2),
        "top_p": _number("top_p", top_p, 0, 1),
        "max_tokens": _integer("max_tokens", max_tokens, 0),
        "max_completion_tokens": _integer("max_completion_tokens", max_completion_tokens, 0),
        "seed": _integer("seed", seed),
        "stop": _stop_list(stop),
        "frequency_penalty": _number("frequency_penalty", frequency_penalty, -2, 2),
        "presence_penalty": _number("presence_penalty", presence_penalty, -2, 2),
        "reasoning_effort": reasoning_effort,
    }
    if reasoning_effort is not None and not isinstance(reasoning_effort, str):
        raise ConfigurationError(f"reasoning_effort must be a string, got {reasoning_effort!r}")
    body.update({k: v for k, v in params.items() if v is not None})

    if tools is not None:
        _list_of("tools", tools, "wire tool dicts", empty=True)
    tool_list = [copy.deepcopy(dict(t)) for t in tools or []]
    for i, tool in enumerate(tool_list):
        if not isinstance(tool.get("function"), Mapping) and tool.get("type") == "function":
            raise ConfigurationError(f"tools[{i}] has type 'function' but no 'function' object")
    choice = normalize_tool_choice(tool_choice, tool_list if tools is not None else None)
    if tool_list:
        body["tools"] = tool_list
        if choice is not None:
            body["tool_choice"] = choice
        if parallel_tool_calls is not None:
            body["parallel_tool_calls"] = bool(parallel_tool_calls)
    elif choice not in (None, "auto", "none"):
        raise ConfigurationError(
            f"tool_choice={tool_choice!r} needs tools, but no tools were given."
        )

    rf = build_response_format(response_format)
    if rf is not None:
        body["response_format"] = rf

    _merge_extras(body, model_extras, reserved=frozenset({"messages", "stream"}))
    if stream and stream_usage and policy != "error" and "stream_options" not in body:
        body["stream_options"] = {"include_usage": True}
    return WireRequest(
        body=body,
        headers=_wire_headers(body, KNOWN_CHAT_KEYS, policy, headers),
        stream_usage=stream and stream_usage,
        extra_parameters=policy,
    )


def build_embeddings_request(
    inputs: Sequence[Any],
    *,
    model: str | None = None,
    dimensions: int | None = None,
    encoding_format: str | None = None,
    input_type: str | None = None,
    model_extras: Mapping[str, Any] | None = None,
    extra_parameters: str = "pass-through",
    headers: Mapping[str, str] | None = None,
) -> WireRequest:
    """Build the body and headers of one ``POST /embeddings`` or ``/images/embeddings``.

    ``inputs`` is a list of strings (text) or of ``{"image": <data URL>, "text"?: str}`` dicts
    (images).
    """
    policy = _policy(extra_parameters)
    for i, item in enumerate(_list_of("inputs", inputs, "strings (or image input dicts)")):
        if isinstance(item, str):
            continue
        if isinstance(item, Mapping) and isinstance(item.get("image"), str):
            continue
        raise ConfigurationError(
            f"inputs[{i}] must be a string or an {{'image': 'data:image/...;base64,...'}} dict, "
            f"got {item!r:.60}"
        )
    body: dict[str, Any] = {
        "input": [item if isinstance(item, str) else dict(item) for item in inputs]
    }
    if dimensions is not None:
        body["dimensions"] = _integer("dimensions", dimensions, 1)
    if encoding_format is not None:
        if encoding_format not in ENCODING_FORMATS:
            raise ConfigurationError(
                f"encoding_format must be one of {', '.join(ENCODING_FORMATS)}; "
                f"got {encoding_format!r}"
            )
        body["encoding_format"] = encoding_format
    if input_type is not None:
        if input_type not in _INPUT_TYPES:
            raise ConfigurationError(
                f"input_type must be one of {', '.join(_INPUT_TYPES)}; got {input_type!r}"
            )
        body["input_type"] = input_type
    if _model(model) is not None:
        body["model"] = model
    _merge_extras(body, model_extras, reserved=frozenset({"input"}))
    return WireRequest(
        body=body,
        headers=_wire_headers(body, KNOWN_EMBEDDINGS_KEYS, policy, headers),
        extra_parameters=policy,
    )
