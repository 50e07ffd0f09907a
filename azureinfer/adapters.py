"""The shared adapter layer: the glue every framework class over the core needs, written once.

A framework class (the LangChain and LlamaIndex ones, or a third adapter's) that owns a core
client mixes in :class:`ConnectedAdapter` and declares:

- the connection fields it has (:data:`CONNECTION_ARGUMENTS` by default; ``_field_of`` renames
  one, e.g. ``{"headers": "default_headers"}``, or maps it to None when the class has no such
  field);
- ``_adapter_name`` (its package, for the user agent);
- ``_new_client(settings)``: the core client it owns (a ``ChatClient``, an ``Embedder``);
- three private attributes, ``_client``, ``_client_key`` and ``_route_detected`` (a Pydantic
  class gets them, and ``SecretStr`` keys, by listing
  :class:`azureinfer.pydantic_adapter.PydanticConnection` first among its bases).

It then gets, from this module:

- one ``__init__`` (:class:`ConnectedAdapter`): the arguments checked, the framework's model
  built, a Pydantic ``ValidationError`` turned into one ``ConfigurationError``
  (:func:`configuration_error`), the client connected; a chat class also defines
  ``_probe_request()`` and has its request builder dry-run at construction;
- settings resolution from its fields (:meth:`ConnectedAdapter._connect`: ``resolve_settings``
  with the environment fallback, the values found in the environment written back to the
  fields so the object says what it uses);
- one user-agent rule (:func:`adapter_user_agent`);
- the deprecated integrations' ``client_kwargs`` keys moved to their fields
  (:func:`lift_legacy_fields`);
- unknown constructor arguments rejected with a "did you mean" (:func:`reject_unknown_arguments`);
- the client lifecycle (``close``, ``aclose``, the context managers; ``get_model_info`` with
  :class:`ModelInfo`);
- copy-with-new-connection: a copy whose connection fields differ (``model_copy(update=...)``,
  ``copy``, an assignment) gets its own client on first use (:attr:`ConnectedAdapter._connection`)
  instead of sending through the original's;
- for embeddings classes (:class:`EmbeddingsAdapter`), the ``Embedder`` plumbing: the
  ``EmbeddingsSpec`` and ``BatchOptions`` of a call made from the fields, and the four runs.

Nothing here imports a framework or Pydantic: classes are read through ``model_fields`` when they
have it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from azure.core.credentials import AzureKeyCredential

from azureinfer._lifecycle import ClientLifecycle, ModelInfo
from azureinfer._version import __version__
from azureinfer.batching import BatchOptions, Embedder, EmbeddingsSpec
from azureinfer.errors import ConfigurationError
from azureinfer.request import CALL_OPTIONS, CHAT_REQUEST_PARAMETERS, OPENAI_EXTRA_PARAMETERS
from azureinfer.settings import (
    LEGACY_CLIENT_KWARGS,
    ConnectionSettings,
    lift_legacy_client_kwargs,
    requested_route,
)

__all__ = [
    "CHAT_PARAMETER_FIELDS",
    "CONNECTION_ARGUMENTS",
    "WHERE_EXTRAS_GO",
    "CallKeywords",
    "ChatAdapter",
    "ChatCall",
    "ClientLifecycle",
    "ConnectedAdapter",
    "EmbeddingsAdapter",
    "ModelInfo",
    "UnknownArgumentError",
    "adapter_user_agent",
    "configuration_error",
    "known_arguments",
    "lift_legacy_fields",
    "reject_unknown_arguments",
    "sort_call_keywords",
]

#: The ``resolve_settings`` arguments an adapter class holds as fields (same names by default).
CONNECTION_ARGUMENTS = (
    "endpoint",
    "route",
    "credential",
    "api_version",
    "credential_scopes",
    "timeout",
    "max_retries",
    "headers",
    "user_agent",
    "client_kwargs",
)


# Per class: reads the fields of CONNECTION_ARGUMENTS in one C call (every call checks them).
_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


#: The chat request parameters an adapter class holds as fields: its defaults, which a call's
#: keyword arguments override (:meth:`ChatAdapter._chat_call`). The others (tools,
#: tool_choice, parallel_tool_calls, response_format) are per call only.
CHAT_PARAMETER_FIELDS = (
    *sorted(
        CHAT_REQUEST_PARAMETERS - {"tools", "tool_choice", "parallel_tool_calls", "response_format"}
    ),
    "stream_usage",
    "extra_parameters",
)


_CALL_PARAMETERS = CHAT_REQUEST_PARAMETERS | {"stream_usage", "extra_parameters"}
# Per-call keywords that carry dicts: extra body parameters, and headers (later ones win).
_EXTRAS_KEYWORDS = ("model_kwargs", "model_extras")
_HEADERS_KEYWORDS = ("default_headers", "headers")


@dataclass
class CallKeywords:
    """A chat call's keyword arguments sorted by where each goes (:func:`sort_call_keywords`)."""

    parameters: dict[str, Any] = field(default_factory=dict)
    """``build_chat_request`` parameters given a value (None counts as not given), with
    ``stream_usage`` and ``extra_parameters``."""
    options: dict[str, Any] = field(default_factory=dict)
    """The client method's per-call options (``timeout``, ``max_retries``)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Extra body parameters (``model_extras``): ``model_kwargs`` / ``model_extras`` dicts and
    the OpenAI-only parameters."""
    headers: dict[str, str] = field(default_factory=dict)
    """Headers of this request (``default_headers`` then ``headers``)."""
    connection: list[str] = field(default_factory=list)
    """Names of connection settings given per call (they configure the client: an error)."""
    unknown: dict[str, Any] = field(default_factory=dict)
    """Everything else (an adapter refuses them or sends them as extras)."""


@dataclass
class ChatCall:
    """One chat call as :meth:`ChatAdapter._chat_call` prepares it: the request parameters (the
    instance's, overridden by the call's), the call options, the extra body parameters and the
    headers, and the client that makes the call."""

    client: Any
    """The adapter's ``ChatClient`` (made anew when the connection fields changed)."""
    parameters: dict[str, Any]
    """``build_chat_request`` parameters (with ``stream_usage`` and ``extra_parameters``)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The client method's per-call options (``timeout``, ``max_retries``)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Extra body parameters (``model_extras``)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Headers of this request."""


def sort_call_keywords(
    kwargs: Mapping[str, Any],
    *,
    ignored: Iterable[str] = (),
    connection: Iterable[str] = (),
) -> CallKeywords:
    """Sort a chat call's keyword arguments (the one routing every adapter uses): request
    parameters, call options, extra body parameters, headers, connection settings (``connection``
    names them), framework keywords to drop (``ignored``), and the unknown rest."""
    call = CallKeywords()
    skip = frozenset(ignored)
    fixed = frozenset(connection)
    for key, value in kwargs.items():
        if key in skip:
            continue
        if key in CALL_OPTIONS:
            if value is not None:
                call.options[key] = value
        elif key in _CALL_PARAMETERS:
            if value is not None:
                call.parameters[key] = value
        elif key in OPENAI_EXTRA_PARAMETERS:
            if value is not None:
                call.extras[key] = value
        elif key in _EXTRAS_KEYWORDS or key in _HEADERS_KEYWORDS:
            continue  # merged below, in their order
        elif key in fixed:
            call.connection.append(key)
        else:
            call.unknown[key] = value
    for key in _EXTRAS_KEYWORDS:
        call.extras.update(kwargs.get(key) or {})
    for key in _HEADERS_KEYWORDS:
        call.headers.update(kwargs.get(key) or {})
    call.connection.sort()
    return call


#: Where the values that are not constructor arguments belong (said with an unknown argument).
WHERE_EXTRAS_GO = (
    "pass other request-body parameters in model_kwargs={...} and azure-core client options "
    "in client_kwargs={...}"
)


class UnknownArgumentError(ConfigurationError, TypeError):
    """A constructor got an argument it does not define (a ``ConfigurationError`` and, as
    Python's own "unexpected keyword argument", a ``TypeError``)."""


def adapter_user_agent(adapter: str, user_agent: str | None = None) -> str:
    """The ``user_agent`` an adapter passes to ``resolve_settings``: the user's own prefix (if
    any), then ``<adapter>/<version>``; the core appends ``azureinfer/<version>`` and azure-core
    its own tokens, so the header reads ``myapp/1.0 langchain_azureinfer/0.1.0 azureinfer/0.1.0
    azsdk-python-ai-inference/... Python/...``."""
    if user_agent is not None and not isinstance(user_agent, str):
        raise ConfigurationError(f"user_agent must be a string, got {type(user_agent).__name__}")
    own = f"{adapter}/{__version__}"
    return f"{user_agent.strip()} {own}" if user_agent and user_agent.strip() else own


def known_arguments(cls: type, extra: Iterable[str] = ()) -> set[str]:
    """Field names and aliases of a Pydantic class (``model_fields``), plus ``extra``."""
    fields: Mapping[str, Any] = getattr(cls, "model_fields", {})
    known = set(fields) | set(extra)
    known.update(f.alias for f in fields.values() if getattr(f, "alias", None))
    return known


def reject_unknown_arguments(
    given: Iterable[str], known: Iterable[str], hint: str = WHERE_EXTRAS_GO
) -> None:
    """Raise :class:`UnknownArgumentError` naming every argument of ``given`` not in ``known``,
    each with the closest known name ("did you mean ...?"), then ``hint`` (where other values
    belong). The message names no class, so the four classes say the same thing."""
    choices = sorted(set(known))
    unknown = sorted(k for k in given if k not in choices)
    if not unknown:
        return
    names = []
    for key in unknown:
        close = difflib.get_close_matches(key, choices, n=1)
        names.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise UnknownArgumentError(f"unknown argument(s) {', '.join(names)}; {hint}.")


_SECRET_WORDS = ("credential", "key", "token", "secret", "password")


def configuration_error(errors: Sequence[Mapping[str, Any]]) -> ConfigurationError:
    """One `ConfigurationError` for a failed construction (pydantic's ``ValidationError.errors()``).

    A `ConfigurationError` raised by the core inside a validator is returned as it is; other
    errors become ``name=value: reason`` lines, the first one first.
    """
    lines = []
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigurationError):
            if len(errors) == 1:
                return cause
            lines.append(str(cause))
            continue
        reason = str(cause) if isinstance(cause, BaseException) else str(error.get("msg", ""))
        loc = ".".join(str(part) for part in error.get("loc", ()))
        if loc:
            value = error.get("input")
            secret = any(word in loc.lower() for word in _SECRET_WORDS)
            shown = value is not None and not secret
            reason = f"{loc}={_short(value)}: {reason}" if shown else f"{loc}: {reason}"
        lines.append(reason)
    return ConfigurationError("\n".join(lines) or "invalid arguments")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def lift_legacy_fields(
    values: Mapping[str, Any], field_of: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """Constructor arguments with the deprecated integrations' ``client_kwargs`` keys
    (``api_version``, ``credential_scopes``, ``headers``, ``user_agent``, ``retry_total``:
    ``azureinfer.settings.LEGACY_CLIENT_KWARGS``) moved to the fields they set, so the object
    shows the values it uses. ``field_of`` maps a ``resolve_settings`` argument to the field
    naming it when the names differ (None: no such field; the key stays in ``client_kwargs``
    and the core resolves it). ``values`` is not mutated; conflicting values raise
    ``ConfigurationError``.
    """
    client_kwargs = values.get("client_kwargs")
    if not isinstance(client_kwargs, Mapping) or not client_kwargs:
        return dict(values)
    renames = field_of or {}
    fields: dict[str, str] = {}
    for name in set(LEGACY_CLIENT_KWARGS.values()):
        field = renames.get(name, name)
        if field is not None:
            fields[name] = field
    out = dict(values)
    rest, moved = lift_legacy_client_kwargs(
        client_kwargs, {name: values.get(field) for name, field in fields.items()}
    )
    out["client_kwargs"] = rest
    for name, value in moved.items():
        out[fields[name]] = value
    return out


class ConnectedAdapter(ClientLifecycle):
    """Mixin for an adapter class that owns one core client made from its connection fields.

    List it before the framework's base class: its ``__init__`` checks the arguments, builds
    the object through the framework's ``__init__`` and connects. Read the client through
    :attr:`_connection` on every call.
    """

    _adapter_name: ClassVar[str] = "azureinfer"
    """The adapter's package, named in the user agent."""
    _field_of: ClassVar[Mapping[str, str | None]] = {}
    """``resolve_settings`` argument -> this class's field, where the names differ (None: the
    class has no such field)."""
    _secret: ClassVar[Callable[[str], Any] | None] = None
    """How the class keeps an API key found in the environment in its ``credential`` field
    (e.g. Pydantic's ``SecretStr``); None leaves the field empty."""

    _legacy_arguments: ClassVar[frozenset[str]] = frozenset()
    """Constructor arguments that are not fields but that the class translates (aliases)."""

    _client: Any
    _client_key: tuple[Any, ...]
    _route_detected: str | None

    def __init__(self, **kwargs: Any) -> None:
        """Check the arguments (:meth:`_checked_arguments`), let the framework's model set the
        fields, then connect (:meth:`_connect`) and check the result (:meth:`_check_connection`).
        A Pydantic ``ValidationError`` becomes one :func:`configuration_error`, so every adapter
        class fails the same way."""
        kwargs = self._checked_arguments(kwargs)
        try:
            super().__init__(**kwargs)
        except ValueError as exc:
            errors = getattr(exc, "errors", None)  # pydantic's ValidationError (a ValueError)
            if not callable(errors):
                raise
            raise configuration_error(errors()) from None
        self._connect()
        self._check_connection()

    def _check_connection(self) -> None:
        """Checks to make once connected, before any request (none by default)."""

    @classmethod
    def _checked_arguments(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The constructor's arguments, checked and prepared (call it first, e.g. in a Pydantic
        ``model_validator(mode="before")``): an unknown name is an :class:`UnknownArgumentError`
        with a "did you mean", the deprecated ``client_kwargs`` keys move to their fields
        (:func:`lift_legacy_fields`), and an API key string becomes the class's ``_secret``."""
        reject_unknown_arguments(values, known_arguments(cls, cls._legacy_arguments))
        out = lift_legacy_fields(values, cls._field_of)
        field = cls._field_of.get("credential", "credential")
        if field is not None and cls._secret is not None and isinstance(out.get(field), str):
            out[field] = cls._secret(out[field])
        return out

    def _new_client(self, settings: ConnectionSettings) -> Any:
        """The core client of these settings (no I/O)."""
        raise NotImplementedError(f"{type(self).__name__} must define _new_client")

    def _field(self, argument: str) -> str | None:
        return self._field_of.get(argument, argument)

    def _connection_values(self) -> tuple[Any, ...]:
        """The connection fields' current values, in `CONNECTION_ARGUMENTS` order, None for one
        the class does not have (compared to tell whether a copy moved)."""
        getter = _GETTERS.get(type(self))
        if getter is None:
            names = [self._field(a) or "_no_such_field" for a in CONNECTION_ARGUMENTS]
            getter = _GETTERS[type(self)] = attrgetter(*names)
        values: tuple[Any, ...] = getter(self)
        return values

    @property
    def _no_such_field(self) -> None:
        return None

    def _connect(self) -> None:
        """Resolve the settings from the fields (then the environment), record what came from
        the environment in the fields, and make the (lazy) client."""
        from azureinfer.settings import resolve_settings

        arguments = dict(zip(CONNECTION_ARGUMENTS, self._connection_values(), strict=True))
        previous = getattr(self, "_client", None)
        if self._field("credential") is None and previous is not None:
            arguments["credential"] = previous.settings.credential  # held by the client only
        # Legacy client_kwargs keys first, so a user_agent there is the user's own prefix.
        arguments["client_kwargs"], moved = lift_legacy_client_kwargs(
            arguments["client_kwargs"], arguments
        )
        arguments.update(moved)
        arguments["user_agent"] = adapter_user_agent(self._adapter_name, arguments["user_agent"])
        # A route that an earlier detection only recorded is detected again (a copy with
        # another endpoint detects its own).
        detected = getattr(self, "_route_detected", None)
        arguments["route"] = requested_route(arguments["route"], detected)
        settings = resolve_settings(**arguments)
        endpoint_field, credential_field = self._field("endpoint"), self._field("credential")
        if endpoint_field is not None and getattr(self, endpoint_field, None) is None:
            setattr(self, endpoint_field, settings.endpoint)
        route_field = self._field("route")
        if route_field is not None:
            auto = arguments["route"] in (None, "auto")
            self._route_detected = settings.route if auto else None
            setattr(self, route_field, settings.route)  # the object says which route it speaks
        secret = type(self)._secret
        if credential_field is not None and secret is not None:
            held = getattr(self, credential_field, None)
            if isinstance(held, str):  # a copy's update=... is not validated: keep it secret
                setattr(self, credential_field, secret(held))
            elif held is None and isinstance(settings.credential, AzureKeyCredential):
                setattr(self, credential_field, secret(settings.credential.key))
        self._client = self._new_client(settings)
        self._client_key = self._connection_values()

    @property
    def _connection(self) -> Any:
        """The client, made anew first when the connection fields changed since it was made
        (a copy with another endpoint must not send through the original's client)."""
        # Pydantic keeps private attributes in the __pydantic_private__ slot: read it directly,
        # its __getattr__ costs microseconds and this runs on every call.
        state = getattr(self, "__pydantic_private__", None)
        if state is None:
            state = self.__dict__
        if self._connection_values() != state["_client_key"]:
            self._connect()
        return state["_client"]

    @property
    def _closeable(self) -> Any:
        return self._connection

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        """Copy the object (Pydantic's ``model_copy``); a copy with other connection fields gets
        its own client, made (and its settings checked) here."""
        copy = super().model_copy(update=update, deep=deep)  # type: ignore[misc]
        if update and "route" in update:
            copy._route_detected = None  # the route asked for, not the one detected before
        if copy._connection_values() != copy._client_key:
            copy._connect()
        return copy


class ChatAdapter(ConnectedAdapter, ModelInfo):
    """Mixin for a chat class over a ``ChatClient``: the class holds `CHAT_PARAMETER_FIELDS`
    as fields (its request defaults) and sorts each call's keyword arguments here."""

    def _new_client(self, settings: ConnectionSettings) -> Any:
        from azureinfer.transport import ChatClient

        return ChatClient(settings)  # lazy: no I/O until the first call

    def _probe_request(self) -> Any:
        """The framework's one-message request, as the class builds it (a ``WireRequest``)."""
        raise NotImplementedError(f"{type(self).__name__} must define _probe_request")

    def _check_connection(self) -> None:
        """Dry-run the request builder, so a bad parameter (out-of-range temperature, a reserved
        ``model_kwargs`` key, a missing model on OpenAI/v1, ...) fails at construction, with
        the core's message, rather than on first use."""
        self._client.check_request(self._probe_request())

    def _chat_call(
        self,
        kwargs: Mapping[str, Any],
        *,
        ignored: Iterable[str] = (),
        instance: Mapping[str, Any] | None = None,
        unknown_as_extras: bool = False,
    ) -> ChatCall:
        """All the adapter layer does for one chat call, in one step: the instance's request
        parameters (`CHAT_PARAMETER_FIELDS`), overridden by the keywords ``instance`` names (a
        ``model_kwargs`` whose request parameters count as such; its other keys are extras),
        then by the call's ``kwargs``, sorted (:func:`sort_call_keywords`), and the client.

        A connection setting given per call is a ``TypeError`` naming the copy to make instead;
        so is an unknown keyword, unless ``unknown_as_extras`` sends it in the body."""
        call = ChatCall(self._connection, {n: getattr(self, n) for n in CHAT_PARAMETER_FIELDS})
        if instance:
            own = sort_call_keywords(instance)
            call.parameters.update(own.parameters)
            call.extras.update({**own.options, **own.unknown, **own.extras})
            call.headers.update(own.headers)
        this = sort_call_keywords(kwargs, ignored=ignored, connection=CONNECTION_ARGUMENTS)
        if this.connection:
            first = this.connection[0]
            raise TypeError(
                f"{', '.join(this.connection)} cannot change per call: it configures the HTTP "
                f"client. Use a copy, e.g. model.model_copy(update={{{first!r}: ...}})."
            )
        if this.unknown and not unknown_as_extras:
            raise TypeError(
                f"Unknown per-call argument(s) {', '.join(map(repr, sorted(this.unknown)))} for "
                f"{type(self).__name__}. Pass other body parameters as "
                "model_kwargs={...} (sent as extra parameters)."
            )
        call.parameters.update(this.parameters)
        call.options = this.options
        call.extras.update({**this.unknown, **this.extras})
        call.headers.update(this.headers)
        return call


class EmbeddingsAdapter(ConnectedAdapter):
    """Mixin for an embeddings class over an :class:`~azureinfer.batching.Embedder`.

    The class has the fields ``dimensions``, ``encoding_format``, ``model_kwargs``,
    ``max_concurrency``, ``max_batch_chars``, ``max_input_chars``, ``show_progress``, the
    input-type fields it passes by name (``query_input_type``, ``document_input_type``), and
    the model and batch-size fields named by ``_model_field`` / ``_batch_size_field``.
    """

    _model_field: ClassVar[str] = "model"
    _batch_size_field: ClassVar[str] = "batch_size"

    if TYPE_CHECKING:
        _client: Embedder
        model_fields_set: set[str]
        dimensions: int | None
        encoding_format: str | None
        model_kwargs: dict[str, Any]
        max_concurrency: int
        max_batch_chars: int | None
        max_input_chars: int | None
        show_progress: bool

    def _new_client(self, settings: ConnectionSettings) -> Embedder:
        # The route's own needs, checked before any request (``model`` on OpenAI/v1).
        settings.routing.wire(
            "embeddings", {"model": getattr(self, self._model_field), "input": []}, {}
        )
        return Embedder(settings)

    def _spec(self, input_type_field: str) -> EmbeddingsSpec:
        """The request parameters of a call sending the input type held by that field."""
        return EmbeddingsSpec.for_adapter(
            model=getattr(self, self._model_field),
            dimensions=self.dimensions,
            encoding_format=self.encoding_format,
            input_type=getattr(self, input_type_field),
            input_type_chosen=input_type_field in self.model_fields_set,
            model_extras=self.model_kwargs,
        )

    def _concurrency(self) -> int:
        """Requests in flight at once."""
        return self.max_concurrency

    def _options(self, show_progress: bool = False) -> BatchOptions:
        return BatchOptions(
            batch_size=getattr(self, self._batch_size_field),
            max_concurrency=self._concurrency(),
            max_batch_chars=self.max_batch_chars,
            max_input_chars=self.max_input_chars,
            show_progress=self.show_progress or show_progress,
        )

    def _embed_texts(
        self, texts: Sequence[str], input_type_field: str, show_progress: bool = False
    ) -> list[list[float]]:
        """One vector per text, in order."""
        spec, options = self._spec(input_type_field), self._options(show_progress)
        return self._connection.embed_texts(texts, spec, options)

    async def _aembed_texts(
        self, texts: Sequence[str], input_type_field: str, show_progress: bool = False
    ) -> list[list[float]]:
        """Async :meth:`_embed_texts`."""
        spec, options = self._spec(input_type_field), self._options(show_progress)
        return await self._connection.aembed_texts(texts, spec, options)

    def _embed_images(
        self, images: Sequence[Any], show_progress: bool = False
    ) -> list[list[float]]:
        """One vector per image (``document_input_type``), in order."""
        spec, options = self._spec("document_input_type"), self._options(show_progress)
        return self._connection.embed_images(images, spec, options)

    async def _aembed_images(
        self, images: Sequence[Any], show_progress: bool = False
    ) -> list[list[float]]:
        """Async :meth:`_embed_images`."""
        spec, options = self._spec("document_input_type"), self._options(show_progress)
        return await self._connection.aembed_images(images, spec, options)
