"""Clients that own the SDK clients and send wire requests through their pipelines.

Every request goes through the ``azure-ai-inference`` client's azure-core pipeline with
``send_request`` (credential policy, user agent, request id, logging, tracing and our retry
policy all apply) while the body and headers stay what :mod:`azureinfer.request` built. Both
routes (OpenAI/v1 and model inference) use that one pipeline: the settings' route
(:mod:`azureinfer._routes`) decides the path, the query, the key header, the default scope, the
headers and body keys that go on the wire, and the hints of error messages. The URL is
``{endpoint}/{path}?{endpoint query}&{route query}``.

Under ``extra_parameters="drop"`` on the OpenAI/v1 route (which has no ``extra-parameters``
header), a 400 "Unrecognized request argument supplied: X" naming a body key outside the OpenAI
API's own (a model extra, Cohere's ``input_type``) is answered by sending the request again
without X, once per key, with one WARNING; the client remembers X for that model and stops
sending it.

Lifecycle: SDK clients are created lazily on first use. One sync client per instance, created
under a lock; one async client per event loop, closed automatically when that loop shuts down
(``asyncio.run`` calls ``loop.shutdown_asyncgens()``, which runs the ``finally`` of a small
guard generator started per loop), so repeated ``asyncio.run(...)`` on one instance never leaks
a session; an instance dropped while its loop keeps running has its client closed by the loop's
async-generator finalizer hook. Instances are picklable and deep-copyable: clients are rebuilt,
never copied.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import weakref
from collections.abc import AsyncGenerator, Generator, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from azure.core.exceptions import AzureError

from azureinfer import _telemetry
from azureinfer._credentials import default_credential
from azureinfer._policies import (
    AsyncFromSyncCredential,
    PendingAuth,
    auth_policy,
    redacting_trace_policy,
)
from azureinfer._retry import InferenceAsyncRetryPolicy, InferenceRetryPolicy, retry_policy_kwargs
from azureinfer._routes import MODEL_INFERENCE_API_VERSION, Operation, Route
from azureinfer.errors import (
    AzureInferenceError,
    ConfigurationError,
    UnsupportedParameterError,
    error_from_response,
    wrap_azure_error,
)
from azureinfer.observe import observed
from azureinfer.request import WireRequest
from azureinfer.response import (
    ChatChunk,
    ChatResult,
    EmbeddingsResult,
    _json_object,
    parse_chat_completion,
    parse_embeddings,
)
from azureinfer.settings import ConnectionSettings
from azureinfer.streaming import (
    AsyncChatStream,
    ChatStream,
    StreamAccumulator,
    StreamParser,
    StreamRun,
)

__all__ = ["DEFAULT_API_VERSION", "ChatClient", "EmbeddingsClient"]

DEFAULT_API_VERSION = MODEL_INFERENCE_API_VERSION

_log = logging.getLogger("azureinfer.transport")

_Result = TypeVar("_Result", ChatResult, EmbeddingsResult)
_AnyStream = TypeVar("_AnyStream", ChatStream, AsyncChatStream)

_INFO_HINT = (
    "This endpoint does not serve model information (GET /info): Azure OpenAI deployments, "
    "the Foundry '.../models' endpoint and GitHub Models answer 404 there."
)


@dataclass
class _LoopEntry:
    client: Any
    credential: Any  # an async credential we created (closed with the client), or None
    guard: Any  # the async generator whose ``finally`` closes the client at loop shutdown


async def _close_async(client: Any, credential: Any) -> None:
    try:
        await client.close()
    finally:
        if credential is not None and hasattr(credential, "close"):
            await credential.close()


async def _loop_guard(
    client: Any, credential: Any, forget: Any = None
) -> AsyncGenerator[None, None]:
    """Suspend forever; closed by ``loop.shutdown_asyncgens()`` or by ``aclose``.

    ``forget()`` drops the owner's entry for this loop: the closed client still references the
    loop, so a weak-keyed entry would otherwise keep the dead loop (and client) alive.
    """
    try:
        yield
        await asyncio.Event().wait()  # pragma: no cover - never resumed
        yield  # pragma: no cover
    finally:
        try:
            await _close_async(client, credential)
        finally:
            if forget is not None:
                forget(client)


def _read_environment_once(endpoint: str, kwargs: dict[str, Any]) -> None:
    """Resolve the environment's proxy and CA-bundle settings for ``endpoint`` now, once.

    With its default ``trust_env``, ``requests`` reads them again on every request (it walks
    ``os.environ`` for proxies and ``NO_PROXY``, and stats ``~/.netrc``): about 0.5 ms of CPU per
    call, the largest part of our sync per-call cost over the ``openai`` SDK's. A client only
    talks to one host, so the answer is the same for every request: ``HTTP(S)_PROXY`` /
    ``NO_PROXY`` (for this host) and ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` are applied as
    the client's ``proxies`` / ``connection_verify`` (``.netrc`` credentials are not used: the
    key or token is the authentication). A user's own ``transport``, ``session``,
    ``use_env_settings``, ``proxies`` or ``connection_verify`` is left alone.
    """
    if kwargs.keys() & {"transport", "session", "use_env_settings"}:
        return
    import os

    from requests.utils import get_environ_proxies

    kwargs["use_env_settings"] = False
    proxies = get_environ_proxies(endpoint)
    if proxies and "proxies" not in kwargs:
        kwargs["proxies"] = dict(proxies)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and "connection_verify" not in kwargs:
        kwargs["connection_verify"] = bundle


def _forgetter(owner: _BaseClient, loop: asyncio.AbstractEventLoop) -> Any:
    """A callable removing ``loop``'s entry from ``owner`` without keeping either alive."""
    owner_ref = weakref.ref(owner)
    loop_ref = weakref.ref(loop)

    def forget(client: Any) -> None:
        who, where = owner_ref(), loop_ref()
        if who is not None and where is not None:
            with who._lock:
                entry = who._loops.get(where)
                if entry is not None and entry.client is client:
                    del who._loops[where]

    return forget


class _BaseClient(Generic[_Result]):
    """Lazy SDK clients, per-loop async clients, sending and error mapping: everything but the
    I/O of a call, written once; the ``_sync`` / ``_async`` twins do only the I/O."""

    _operation: Operation = "chat"
    _sdk_class: str = "ChatCompletionsClient"

    def __init__(self, settings: ConnectionSettings) -> None:
        if not isinstance(settings, ConnectionSettings):
            raise ConfigurationError(
                f"{type(self).__name__} needs ConnectionSettings (see resolve_settings), got "
                f"{type(settings).__name__}"
            )
        self.settings = settings
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._sync_client: Any = None
        self._sync_credential: Any = None  # a DefaultAzureCredential we created
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopEntry] = (
            weakref.WeakKeyDictionary()
        )
        self._model_info: dict[str, Any] | None = None
        # (model, body key) pairs the service refused under extra_parameters="drop".
        self._refused: set[tuple[str | None, str]] = set()
        # What the settings decide once for every request: the route, its URL per operation
        # and query, and the keywords of every send (a call asks none of them again).
        self._routing: Route = self.settings.routing
        self._targets: dict[str, tuple[str, dict[str, str]]] = {}
        self._send_kwargs: dict[str, Any] | None = None

    # -- pickling / copying: settings only ---------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _RUNTIME_ATTRS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = type(self).__new__(type(self))
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint={self.settings.endpoint!r}, "
            f"route={self.settings.route!r})"
        )

    # -- client construction -----------------------------------------------------------------
    @property
    def route(self) -> str:
        """The route this client speaks: ``openai_v1`` or ``model_inference``."""
        return self.settings.route

    @property
    def api_version(self) -> str | None:
        """The api-version sent with every request (None: no ``api-version`` query)."""
        return self._routing.api_version(self.settings.api_version)

    def _client_kwargs(self, *, is_async: bool) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = dict(s.client_kwargs)
        policy_kwargs = retry_policy_kwargs(s.max_retries, kwargs)
        if "retry_policy" not in kwargs:  # a user's own azure-core policy wins
            policy_cls = InferenceAsyncRetryPolicy if is_async else InferenceRetryPolicy
            kwargs["retry_policy"] = policy_cls(**policy_kwargs)
        if s.timeout is not None:
            kwargs.setdefault("connection_timeout", s.timeout)
            kwargs.setdefault("read_timeout", s.timeout)
        # The SDK's own default api-version is never sent (requests go through send_request).
        kwargs["api_version"] = self.api_version or DEFAULT_API_VERSION
        kwargs["credential_scopes"] = list(s.credential_scopes)
        if s.credential_kind == "key" and "authentication_policy" not in kwargs:
            key_policy = self._routing.key_policy(s.credential, is_async=is_async)
            if key_policy is not None:
                kwargs["authentication_policy"] = key_policy
        elif s.credential_kind != "key" and "authentication_policy" not in kwargs:
            # Build it ourselves: the SDK only accepts credentials with ``get_token``, while
            # azure-core's policies also take ``get_token_info`` (AccessTokenInfo) ones.
            kwargs["authentication_policy"] = auth_policy(is_async, s.credential_scopes)
        kwargs["headers"] = dict(s.headers)
        kwargs["user_agent"] = s.user_agent
        if "logging_policy" not in kwargs:
            kwargs["logging_policy"] = redacting_trace_policy(
                bool(kwargs.get("logging_enable", False))
            )
        if not is_async:
            _read_environment_once(s.endpoint, kwargs)
        return kwargs

    def _finish_auth(self, kwargs: dict[str, Any], credential: Any) -> None:
        policy = kwargs.get("authentication_policy")
        if isinstance(policy, PendingAuth):
            kwargs["authentication_policy"] = policy.build(credential)

    def _sync_credential_for_client(self) -> Any:
        kind = self.settings.credential_kind
        if kind == "async_token":
            raise ConfigurationError(
                "The credential is an AsyncTokenCredential, which only the async methods can "
                "use. For sync calls pass a sync TokenCredential (azure.identity, not .aio)."
            )
        if kind == "default":
            s = self.settings
            self._sync_credential = default_credential(
                s.endpoint, s.credential_scopes, is_async=False
            )
            return self._sync_credential
        return self.settings.credential

    def _get_sync_client(self) -> Any:
        client = self._sync_client
        if client is not None:
            return client
        with self._lock:
            if self._sync_client is None:
                import azure.ai.inference as sdk

                credential = self._sync_credential_for_client()
                cls = getattr(sdk, self._sdk_class)
                kwargs = self._client_kwargs(is_async=False)
                self._finish_auth(kwargs, credential)
                self._sync_client = cls(self.settings.endpoint, credential, **kwargs)
            return self._sync_client

    async def _get_async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        entry = self._loops.get(loop)
        if entry is not None:
            return entry.client
        import azure.ai.inference.aio as sdk_aio

        created_credential = None
        kind = self.settings.credential_kind
        if kind == "default":
            s = self.settings
            credential: Any = default_credential(s.endpoint, s.credential_scopes, is_async=True)
            created_credential = credential
        elif kind == "token":
            credential = AsyncFromSyncCredential(self.settings.credential)
        else:
            credential = self.settings.credential
        cls = getattr(sdk_aio, self._sdk_class)
        kwargs = self._client_kwargs(is_async=True)
        self._finish_auth(kwargs, credential)
        client = cls(self.settings.endpoint, credential, **kwargs)
        guard = _loop_guard(client, created_credential, _forgetter(self, loop))
        await guard.__anext__()  # registers it with the loop's asyncgen hooks
        with self._lock:
            existing = self._loops.get(loop)
            if existing is None:
                # Only this entry holds the guard strongly: when the instance is dropped while
                # the loop keeps running, the loop's asyncgen finalizer hook closes the client.
                self._loops[loop] = _LoopEntry(client, created_credential, guard)
                return client
        await guard.aclose()  # another task won the race
        return existing.client

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the sync client, and the async clients of loops that are idle.

        An async client whose loop is running closes with that loop (or with ``aclose``).
        """
        with self._lock:
            client, self._sync_client = self._sync_client, None
            credential, self._sync_credential = self._sync_credential, None
            idle = [
                (loop, self._loops.pop(loop))
                for loop in list(self._loops)
                if not loop.is_running() and not loop.is_closed()
            ]
        for loop, entry in idle:
            # A loop driven by hand (run_until_complete) that is still open: close its client
            # on it now, or its session would leak if the loop is later closed without
            # shutdown_asyncgens().
            loop.run_until_complete(entry.guard.aclose())
        if client is not None:
            client.close()
        if credential is not None and hasattr(credential, "close"):
            credential.close()

    async def aclose(self) -> None:
        """Close this event loop's async client (and the sync client, if any)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - aclose is always awaited in a loop
            loop = None
        entry = self._loops.pop(loop, None) if loop is not None else None
        if entry is not None:
            await entry.guard.aclose()
        self.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # -- sending -------------------------------------------------------------------------------
    def _call_kwargs(self) -> dict[str, Any]:
        s = self.settings
        if (
            s.credential_kind in ("token", "async_token", "default")
            and s.is_loopback
            and s.endpoint.lower().startswith("http://")
        ):
            # azure-core refuses bearer tokens over http; a loopback host (the emulator) is fine.
            return {"enforce_https": False}
        return {}

    def _request_options(
        self, timeout: float | None = None, max_retries: int | None = None
    ) -> dict[str, Any]:
        """azure-core per-request keywords for a per-call ``timeout`` / ``max_retries``.

        The pipeline hands them to the retry policy (``retry_*`` counts, as the settings'
        ``max_retries`` sets them) and to the transport (``connection_timeout``,
        ``read_timeout``); the client's own settings are untouched.
        """
        options: dict[str, Any] = {}
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise ConfigurationError(f"timeout must be a positive number, got {timeout!r}")
            options["connection_timeout"] = timeout
            options["read_timeout"] = timeout
        if max_retries is not None:
            if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
                raise ConfigurationError(f"max_retries must be an int >= 0, got {max_retries!r}")
            counts = retry_policy_kwargs(max_retries, dict(self.settings.client_kwargs))
            for key in ("retry_total", "retry_status", "retry_connect", "retry_read"):
                options[key] = counts[key]
        return options

    def _prepare(self, send: _Send) -> tuple[Any, dict[str, Any]]:
        """The azure-core request of ``send`` and the keywords of ``send_request``."""
        from azure.core.rest import HttpRequest

        target = self._targets.get(send.operation)
        if target is None:
            routing = self._routing
            target = f"/{routing.path(send.operation)}", routing.query(self.settings.api_version)
            self._targets[send.operation] = target
        url, params = target
        headers = {"Accept": "application/json", **send.headers}
        request = HttpRequest(send.method, url, params=params, headers=headers, json=send.body)
        if self._send_kwargs is None:
            self._send_kwargs = self._call_kwargs()
        kwargs = {**self._send_kwargs, **send.options}
        if send.headers:
            # Also as the per-request ``headers`` option: azure-core's HeadersPolicy writes the
            # client's default headers over the request's, then applies these on top, so a
            # header of this request wins over a default of the same name.
            kwargs["headers"] = dict(send.headers)
        return request, kwargs

    def _error(self, response: Any, send: _Send) -> Any:
        """The typed error of an answer that is not 200 (its body read)."""
        routing = self._routing
        hint = send.not_found_hint
        if hint is None:
            hint = routing.not_found_hint(_model_of(send.body), self.settings.endpoint)
        return error_from_response(
            response, not_found_hint=hint, unsupported_hint=routing.unsupported_hint
        )

    def _send_sync(self, send: _Send) -> Any:
        """Send one request; the response of a 200, else its typed error is raised."""
        client = self._get_sync_client()
        request, kwargs = self._prepare(send)
        with _typed_errors():
            response = client.send_request(request, stream=send.stream, **kwargs)
        if response.status_code != 200:
            with closing(response):
                if send.stream:
                    response.read()
                raise self._error(response, send)
        return response

    async def _send_async(self, send: _Send, seen: Any = None) -> Any:
        """Async :meth:`_send_sync`; ``seen``: the `azureinfer.observe` record of this call."""
        client = await self._get_async_client()
        request, kwargs = self._prepare(send)
        if seen is not None and seen.observer is not None:
            await seen.begin()  # last, so a quota's start is the moment the request leaves
            kwargs["raw_response_hook"] = seen.hook
        with _typed_errors():
            response = await client.send_request(request, stream=send.stream, **kwargs)
        if response.status_code != 200:
            try:
                if send.stream:
                    await response.read()
                raise self._error(response, send)
            finally:
                await response.close()
        return response

    def _body(self, req: WireRequest, stream: bool) -> dict[str, Any]:
        return req.body

    def check_request(self, req: WireRequest) -> None:
        """Raise :class:`ConfigurationError` if ``req`` lacks what this client's route needs
        (``model`` on the OpenAI/v1 route), without sending anything."""
        self._routing.wire(self._operation, _check_request(req).body, req.headers)

    def _post(
        self, req: Any, stream: bool, timeout: float | None, max_retries: int | None
    ) -> _Send:
        """The POST of a ``WireRequest`` to this client's route, with this call's options."""
        req = _check_request(req)
        body, headers, policy = self._routing.wire(
            self._operation,
            self._body(req, stream),
            req.headers,
            stream_usage=req.stream_usage,
            policy=req.extra_parameters,
        )
        options = self._request_options(timeout, max_retries)
        if policy == "drop" and self._refused:
            model = _model_of(body)
            body = {k: v for k, v in body.items() if (model, k) not in self._refused}
        return _Send("POST", self._operation, body, headers, options, stream, policy)

    def _without_refused(self, send: _Send, exc: UnsupportedParameterError) -> _Send:
        """The request again without the extra parameter ``exc`` says the service refused, when
        the policy is ``drop`` and the route names such a key (else ``exc`` is raised)."""
        key = self._routing.refused_parameter(exc) if send.policy == "drop" else None
        if (
            key is None
            or send.body is None
            or key not in send.body
            or key in send.dropped
            or not self._routing.droppable(self._operation, key)
        ):
            raise exc
        model = _model_of(send.body)
        with self._lock:
            first = (model, key) not in self._refused
            self._refused.add((model, key))
        if first:
            _log.warning(
                "The deployment %r refused the parameter %r (extra_parameters='drop'): sent "
                "again without it, and it is no longer sent to this deployment.",
                model,
                key,
            )
        body = {k: v for k, v in send.body.items() if k != key}
        return replace(send, body=body, dropped=(*send.dropped, key))

    def _post_sync(self, send: _Send) -> Any:
        """:meth:`_send_sync`, sent again without each extra parameter the service refuses."""
        while True:
            try:
                return self._send_sync(send)
            except UnsupportedParameterError as exc:
                send = self._without_refused(send, exc)

    async def _post_async(self, send: _Send, seen: Any = None) -> Any:
        """Async :meth:`_post_sync`."""
        while True:
            try:
                return await self._send_async(send, seen)
            except UnsupportedParameterError as exc:
                send = self._without_refused(send, exc)

    # -- one request, one result -------------------------------------------------------------
    def _parse(self, text: str, req: WireRequest) -> _Result:
        raise NotImplementedError

    def _request(self, req: WireRequest, timeout: float | None, max_retries: int | None) -> _Result:
        """The public sync call: traced when the telemetry hook is on."""
        hook = _telemetry.HOOK
        if hook is not None:
            return hook.call(self, req, self._call, req, timeout, max_retries)
        return self._call(req, timeout, max_retries)

    def _call(self, req: WireRequest, timeout: float | None, max_retries: int | None) -> _Result:
        response = self._post_sync(self._post(req, False, timeout, max_retries))
        return self._parse(response.text(), req)

    async def _arequest(
        self, req: WireRequest, timeout: float | None, max_retries: int | None
    ) -> _Result:
        """Async :meth:`_request`."""
        hook = _telemetry.HOOK
        if hook is not None:
            return await hook.acall(self, req, self._acall, req, timeout, max_retries)
        return await self._acall(req, timeout, max_retries)

    async def _acall(
        self, req: WireRequest, timeout: float | None, max_retries: int | None
    ) -> _Result:
        # Seen by `azureinfer.observe.observe_requests` (each attempt, inside the span).
        async with observed(self._operation, _check_request(req).body) as seen:
            response = await self._post_async(self._post(req, False, timeout, max_retries), seen)
            result = self._parse(response.text(), req)
            seen.usage = result.usage
        return result

    # -- model info ------------------------------------------------------------------------------
    def get_model_info(self, model: str | None = None) -> dict[str, Any]:
        """What the endpoint tells about its model, asked once and cached on the instance.

        Model-inference route: ``GET /info`` (``model_name``, ``model_type``,
        ``model_provider_name``). OpenAI/v1 route: the entry of the deployment ``model`` in
        ``GET /models`` (``id``, ``object``, ``created``, ``owned_by``); ``model`` is required
        there, and a deployment the list does not name raises ``ModelNotFoundError``.
        """
        if self._model_info is None:
            response = self._send_sync(self._info_request(model))
            self._model_info = self._read_info(response.text(), model)
        return dict(self._model_info)

    async def aget_model_info(self, model: str | None = None) -> dict[str, Any]:
        """Async :meth:`get_model_info` (shares the cache)."""
        if self._model_info is None:
            response = await self._send_async(self._info_request(model))
            self._model_info = self._read_info(response.text(), model)
        return dict(self._model_info)

    def _info_request(self, model: str | None) -> _Send:
        self._routing.check_model_info(model)
        hint = _INFO_HINT if self.settings.route == "model_inference" else None
        return _Send("GET", "info", None, {}, {}, not_found_hint=hint)

    def _read_info(self, text: str, model: str | None) -> dict[str, Any]:
        return self._routing.read_model_info(_json_object(text), model, self.settings.endpoint)


_RUNTIME_ATTRS = frozenset(
    {
        "_lock",
        "_sync_client",
        "_sync_credential",
        "_loops",
        "_model_info",
        "_refused",
        "_routing",
        "_targets",
        "_send_kwargs",
    }
)


@dataclass
class _Send:
    """One request as sent: method, operation, body (None: no body), headers, per-call options,
    whether the answer is streamed, the extra-parameters policy of a POST and the keys dropped
    from it after the service refused them, and the hint of a 404."""

    method: str
    operation: Operation
    body: dict[str, Any] | None
    headers: dict[str, str]
    options: dict[str, Any]
    stream: bool = False
    policy: str = ""
    dropped: tuple[str, ...] = ()
    not_found_hint: str | None = None


@contextmanager
def _typed_errors() -> Iterator[None]:
    """azure-core's errors of a send (after its retries) raised as ours."""
    try:
        yield
    except AzureError as exc:
        raise wrap_azure_error(exc) from exc


@contextmanager
def _reading(run: StreamRun) -> Iterator[None]:
    """A connection that breaks while a stream's body is read: ``IncompleteStreamError`` with
    what arrived (our own errors, the parser's among them, pass as they are)."""
    try:
        yield
    except AzureInferenceError:
        raise
    except (AzureError, OSError, asyncio.TimeoutError) as exc:
        raise run.broken(exc) from exc


def _model_of(body: Any) -> str | None:
    model = body.get("model") if isinstance(body, Mapping) else None
    return model if isinstance(model, str) else None


def _check_request(req: Any) -> WireRequest:
    if not isinstance(req, WireRequest):
        raise ConfigurationError(
            f"Expected a WireRequest (see azureinfer.build_chat_request), got {type(req).__name__}"
        )
    return req


def _for_stream(req: WireRequest, stream: bool) -> dict[str, Any]:
    body = dict(req.body)
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


class ChatClient(_BaseClient[ChatResult]):
    """Chat completions: ``complete``/``acomplete`` and ``stream``/``astream``.

    ``think_tags=False`` keeps ``<think>...</think>`` in the content instead of splitting it into
    ``reasoning_content``.
    """

    _operation = "chat"
    _sdk_class = "ChatCompletionsClient"

    def __init__(self, settings: ConnectionSettings, *, think_tags: bool = True) -> None:
        super().__init__(settings)
        self.think_tags = think_tags

    def _body(self, req: WireRequest, stream: bool) -> dict[str, Any]:
        return _for_stream(req, stream)

    def _parse(self, text: str, req: WireRequest) -> ChatResult:
        return parse_chat_completion(text, think_tags=self.think_tags)

    def complete(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> ChatResult:
        """Send one chat request and parse the answer.

        ``timeout`` (seconds per attempt, connect and read) and ``max_retries`` override the
        settings for this call only.

        Raises:
            APIStatusError subclasses for error statuses, ServiceError for an unusable answer,
            APIConnectionError / APITimeoutError after all retries.
        """
        return self._request(req, timeout, max_retries)

    async def acomplete(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> ChatResult:
        """Async :meth:`complete`."""
        return await self._arequest(req, timeout, max_retries)

    def stream(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> ChatStream:
        """A streaming request: iterate the returned :class:`ChatStream` for the chunks as they
        arrive (the request is sent when the first one is asked for).

        The last chunk carries ``finish_reason`` (and the usage, when the service sent it).
        ``timeout`` and ``max_retries`` override the settings for this call (``timeout`` also
        bounds each wait for the next bytes of the stream). While iterating,
        ``stream.snapshot()`` / ``stream.tool_calls_so_far()`` read what has arrived;
        ``stream.result()`` is the final result; ``close()`` or a ``with`` block closes the
        response of a stream left early.

        Raises (while iterating):
            IncompleteStreamError: the stream carried an error event, or ended without a finish
            reason or ``[DONE]``; ``partial`` holds what arrived.
        """
        run = self._stream_run()
        chunks = self._read_stream(run, req, timeout, max_retries)
        return self._watched(req, ChatStream(run, chunks))

    def _read_stream(
        self, run: StreamRun, req: WireRequest, timeout: float | None, max_retries: int | None
    ) -> Generator[ChatChunk, None, None]:
        """The sync driver: send the request, move the body's bytes into ``run``."""
        with run.running():
            response = self._post_sync(self._post(req, True, timeout, max_retries))
            try:
                if _is_json(response):
                    response.read()
                    yield from run.whole(response.text())
                    return
                with _reading(run):
                    for data in response.iter_bytes():
                        yield from run.feed(data)
                yield from run.close()
            finally:
                response.close()

    def astream(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> AsyncChatStream:
        """Async :meth:`stream`: an :class:`AsyncChatStream` (``async for``, ``aclose()``,
        ``async with``)."""
        run = self._stream_run()
        chunks = self._aread_stream(run, req, timeout, max_retries)
        return self._watched(req, AsyncChatStream(run, chunks))

    async def _aread_stream(
        self, run: StreamRun, req: WireRequest, timeout: float | None, max_retries: int | None
    ) -> AsyncGenerator[ChatChunk, None]:
        """The async driver: :meth:`_read_stream`'s I/O, awaited."""
        with run.running():
            response = await self._post_async(self._post(req, True, timeout, max_retries))
            try:
                if _is_json(response):
                    await response.read()
                    for chunk in run.whole(response.text()):
                        yield chunk
                    return
                with _reading(run):
                    async for data in response.iter_bytes():
                        for chunk in run.feed(data):
                            yield chunk
                for chunk in run.close():
                    yield chunk
            finally:
                await response.close()

    def _stream_run(self) -> StreamRun:
        return StreamRun(StreamParser(StreamAccumulator(think_tags=self.think_tags)))

    def _watched(self, req: WireRequest, stream: _AnyStream) -> _AnyStream:
        """``stream``, traced when the telemetry hook is on."""
        hook = _telemetry.HOOK
        return stream if hook is None else hook.stream(self, req, stream)


def _is_json(response: Any) -> bool:
    ctype = (response.headers.get("content-type") or "").lower()
    return ctype.startswith("application/json")


class EmbeddingsClient(_BaseClient[EmbeddingsResult]):
    """Embeddings: ``embed``/``aembed`` on ``/embeddings`` or (``kind="images/embeddings"``,
    model-inference route only) ``/images/embeddings``."""

    def __init__(
        self,
        settings: ConnectionSettings,
        kind: Literal["embeddings", "images/embeddings"] = "embeddings",
    ) -> None:
        if kind not in ("embeddings", "images/embeddings"):
            raise ConfigurationError(
                f"kind must be 'embeddings' or 'images/embeddings', got {kind!r}"
            )
        super().__init__(settings)
        self._routing.path(kind)  # image embeddings on OpenAI/v1: a clear error, now
        self._operation = kind
        self._sdk_class = "EmbeddingsClient" if kind == "embeddings" else "ImageEmbeddingsClient"

    @property
    def kind(self) -> str:
        """``embeddings`` or ``images/embeddings``."""
        return self._operation

    def embed(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> EmbeddingsResult:
        """Send one embeddings request; vectors come back in input order.

        ``timeout`` and ``max_retries`` override the settings for this call only.
        """
        return self._request(req, timeout, max_retries)

    async def aembed(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> EmbeddingsResult:
        """Async :meth:`embed`."""
        return await self._arequest(req, timeout, max_retries)

    def _parse(self, text: str, req: WireRequest) -> EmbeddingsResult:
        body = req.body
        return parse_embeddings(
            text,
            expected=_count(req),
            encoding_format=body.get("encoding_format"),
            dimensions=body.get("dimensions"),
        )


def _count(req: WireRequest) -> int | None:
    inputs = req.body.get("input")
    return len(inputs) if isinstance(inputs, list) else None
