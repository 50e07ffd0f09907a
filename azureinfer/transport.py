"""Clients that own the SDK clients and send wire requests through their pipelines.

Every request goes through the ``azure-ai-inference`` client's azure-core pipeline with
``send_request`` (credential policy, user agent, request id, logging, tracing and our retry
policy all apply) while the body and headers stay exactly what :mod:`azureinfer.request` built.
The URL is built the way the SDK builds it: ``{endpoint}/{route}?{endpoint query}&api-version=``.

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
import json
import logging
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import NetworkTraceLoggingPolicy

from azureinfer._credentials import default_credential
from azureinfer._retry import InferenceAsyncRetryPolicy, InferenceRetryPolicy, retry_policy_kwargs
from azureinfer._sse import SSEDecoder
from azureinfer.errors import (
    ConfigurationError,
    IncompleteStreamError,
    ServiceError,
    error_from_response,
    wrap_azure_error,
)
from azureinfer.request import WireRequest
from azureinfer.response import (
    ChatChunk,
    ChatResult,
    EmbeddingsResult,
    StreamAccumulator,
    parse_chat_completion,
    parse_embeddings,
)
from azureinfer.settings import ConnectionSettings

__all__ = ["DEFAULT_API_VERSION", "ChatClient", "EmbeddingsClient"]

DEFAULT_API_VERSION = "2024-05-01-preview"

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


_SECRET_HEADERS = frozenset({"api-key", "authorization", "ocp-apim-subscription-key"})


class _RedactingNetworkTraceLoggingPolicy(NetworkTraceLoggingPolicy):
    """azure-core's network trace policy (``logging_enable=True``), minus the secrets.

    azure-core logs every request header verbatim at DEBUG there, after the credential policy
    added ``api-key`` and ``Authorization``; this one logs them as ``REDACTED``.
    """

    def on_request(self, request: Any) -> None:
        enabled = request.context.options.get("logging_enable", self.enable_http_logger)
        if not (enabled and _http_logger.isEnabledFor(logging.DEBUG)):
            super().on_request(request)  # logs nothing; only records the option
            return
        headers = request.http_request.headers
        saved = {k: headers[k] for k in list(headers) if k.lower() in _SECRET_HEADERS}
        for key in saved:
            headers[key] = "REDACTED"
        try:
            super().on_request(request)
        finally:
            for key, value in saved.items():
                headers[key] = value


# The logger azure-core's NetworkTraceLoggingPolicy writes to.
_http_logger = logging.getLogger(NetworkTraceLoggingPolicy.__module__)


def _redacting_trace_policy(logging_enable: bool) -> Any:
    return _RedactingNetworkTraceLoggingPolicy(logging_enable=logging_enable)


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


class _AsyncFromSyncCredential:
    """Use a sync TokenCredential from the async client without blocking the event loop."""

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        if hasattr(self._credential, "get_token"):
            return await asyncio.to_thread(self._credential.get_token, *scopes, **kwargs)
        from azure.core.credentials import AccessToken

        info = await asyncio.to_thread(self._credential.get_token_info, *scopes)
        return AccessToken(info.token, info.expires_on)

    async def close(self) -> None:
        """Nothing to close: the user's credential is theirs."""

    async def __aenter__(self) -> _AsyncFromSyncCredential:
        return self

    async def __aexit__(self, *args: Any) -> None:
        return None


@dataclass
class _PendingAuth:
    """A bearer-token policy waiting for the credential of the client being built."""

    is_async: bool
    scopes: tuple[str, ...]

    def build(self, credential: Any) -> Any:
        from azure.core.pipeline.policies import (
            AsyncBearerTokenCredentialPolicy,
            BearerTokenCredentialPolicy,
        )

        cls = AsyncBearerTokenCredentialPolicy if self.is_async else BearerTokenCredentialPolicy
        return cls(credential, *self.scopes)


def _auth_policy(is_async: bool, scopes: tuple[str, ...]) -> _PendingAuth:
    return _PendingAuth(is_async, tuple(scopes))


class _BaseClient:
    """Lazy SDK clients, per-loop async clients, sending and error mapping."""

    _route: str = "chat/completions"
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
        return f"{type(self).__name__}(endpoint={self.settings.endpoint!r})"

    # -- client construction -----------------------------------------------------------------
    @property
    def api_version(self) -> str:
        """The api-version sent with every request."""
        return self.settings.api_version or DEFAULT_API_VERSION

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
        kwargs["api_version"] = self.api_version
        kwargs["credential_scopes"] = list(s.credential_scopes)
        if s.credential_kind != "key" and "authentication_policy" not in kwargs:
            # Build it ourselves: the SDK only accepts credentials with ``get_token``, while
            # azure-core's policies also take ``get_token_info`` (AccessTokenInfo) ones.
            kwargs["authentication_policy"] = _auth_policy(is_async, s.credential_scopes)
        kwargs["headers"] = dict(s.headers)
        kwargs["user_agent"] = s.user_agent
        if "logging_policy" not in kwargs:
            kwargs["logging_policy"] = _redacting_trace_policy(
                bool(kwargs.get("logging_enable", False))
            )
        return kwargs

    def _finish_auth(self, kwargs: dict[str, Any], credential: Any) -> None:
        policy = kwargs.get("authentication_policy")
        if isinstance(policy, _PendingAuth):
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
            credential = _AsyncFromSyncCredential(self.settings.credential)
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

    def _send_kwargs(
        self, headers: Mapping[str, str], options: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        kwargs = {**self._call_kwargs(), **(options or {})}
        if headers:
            # Also as the per-request ``headers`` option: azure-core's HeadersPolicy writes the
            # client's default headers over the request's, then applies these on top, so a
            # header of this request wins over a default of the same name.
            kwargs["headers"] = dict(headers)
        return kwargs

    def _http_request(self, method: str, route: str, body: Any, headers: Mapping[str, str]) -> Any:
        from azure.core.rest import HttpRequest

        all_headers = {"Accept": "application/json", **headers}
        if body is None:
            return HttpRequest(
                method, f"/{route}", params={"api-version": self.api_version}, headers=all_headers
            )
        return HttpRequest(
            method,
            f"/{route}",
            params={"api-version": self.api_version},
            headers=all_headers,
            json=body,
        )

    def _send_sync(
        self,
        method: str,
        route: str,
        body: Any,
        headers: Mapping[str, str],
        *,
        stream: bool,
        not_found_hint: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any:
        client = self._get_sync_client()
        request = self._http_request(method, route, body, headers)
        kwargs = self._send_kwargs(headers, options)
        try:
            response = client.send_request(request, stream=stream, **kwargs)
        except AzureError as exc:
            raise wrap_azure_error(exc) from exc
        if response.status_code != 200:
            try:
                if stream:
                    response.read()
                error = error_from_response(response, not_found_hint=not_found_hint)
            finally:
                response.close()
            raise error
        return response

    async def _send_async(
        self,
        method: str,
        route: str,
        body: Any,
        headers: Mapping[str, str],
        *,
        stream: bool,
        not_found_hint: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any:
        client = await self._get_async_client()
        request = self._http_request(method, route, body, headers)
        kwargs = self._send_kwargs(headers, options)
        try:
            response = await client.send_request(request, stream=stream, **kwargs)
        except AzureError as exc:
            raise wrap_azure_error(exc) from exc
        if response.status_code != 200:
            try:
                if stream:
                    await response.read()
                error = error_from_response(response, not_found_hint=not_found_hint)
            finally:
                await response.close()
            raise error
        return response

    def _body(self, req: WireRequest, stream: bool) -> dict[str, Any]:
        return req.body

    def _post_args(
        self, req: Any, stream: bool, timeout: float | None, max_retries: int | None
    ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
        req = _check_request(req)
        return self._body(req, stream), req.headers, self._request_options(timeout, max_retries)

    def _post_sync(
        self, req: Any, stream: bool, timeout: float | None, max_retries: int | None
    ) -> Any:
        """POST a ``WireRequest`` to this client's route, with this call's options."""
        body, headers, options = self._post_args(req, stream, timeout, max_retries)
        return self._send_sync("POST", self._route, body, headers, stream=stream, options=options)

    async def _post_async(
        self, req: Any, stream: bool, timeout: float | None, max_retries: int | None
    ) -> Any:
        """Async :meth:`_post_sync`."""
        body, headers, options = self._post_args(req, stream, timeout, max_retries)
        return await self._send_async(
            "POST", self._route, body, headers, stream=stream, options=options
        )

    # -- model info ------------------------------------------------------------------------------
    def get_model_info(self) -> dict[str, Any]:
        """``GET /info`` once; the answer (``model_name``, ``model_type``,
        ``model_provider_name``) is cached on the instance."""
        if self._model_info is None:
            response = self._send_sync(
                "GET", "info", None, {}, stream=False, not_found_hint=_INFO_HINT
            )
            self._model_info = _json_object(response.text())
        return dict(self._model_info)

    async def aget_model_info(self) -> dict[str, Any]:
        """Async :meth:`get_model_info` (shares the cache)."""
        if self._model_info is None:
            response = await self._send_async(
                "GET", "info", None, {}, stream=False, not_found_hint=_INFO_HINT
            )
            self._model_info = _json_object(response.text())
        return dict(self._model_info)


_RUNTIME_ATTRS = frozenset({"_lock", "_sync_client", "_sync_credential", "_loops", "_model_info"})


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ServiceError(
            f"The service answered 200 with a body that is not JSON: {text[:80]!r}"
        ) from exc
    if not isinstance(data, dict):
        raise ServiceError(
            f"The service answered 200 with JSON that is not an object: {text[:80]!r}"
        )
    return data


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


def _completion_as_event(data: Mapping[str, Any]) -> dict[str, Any]:
    """A whole completion (a service that ignored ``stream``) as one stream event."""
    event = dict(data)
    choices = []
    for choice in data.get("choices") or []:
        if isinstance(choice, Mapping):
            c = dict(choice)
            message = dict(c.pop("message", None) or {})
            for i, tc in enumerate(message.get("tool_calls") or []):
                if isinstance(tc, dict):
                    tc.setdefault("index", i)
            c["delta"] = message
            choices.append(c)
    event["choices"] = choices
    return event


class ChatClient(_BaseClient):
    """Chat completions: ``complete``/``acomplete`` and ``stream``/``astream``.

    ``think_tags=False`` keeps ``<think>...</think>`` in the content instead of splitting it into
    ``reasoning_content``.
    """

    _route = "chat/completions"
    _sdk_class = "ChatCompletionsClient"

    def __init__(self, settings: ConnectionSettings, *, think_tags: bool = True) -> None:
        super().__init__(settings)
        self.think_tags = think_tags

    def _body(self, req: WireRequest, stream: bool) -> dict[str, Any]:
        return _for_stream(req, stream)

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
        response = self._post_sync(req, False, timeout, max_retries)
        return parse_chat_completion(_json_object(response.text()), think_tags=self.think_tags)

    async def acomplete(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> ChatResult:
        """Async :meth:`complete`."""
        response = await self._post_async(req, False, timeout, max_retries)
        return parse_chat_completion(_json_object(response.text()), think_tags=self.think_tags)

    def stream(
        self,
        req: WireRequest,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        accumulator: StreamAccumulator | None = None,
    ) -> Iterator[ChatChunk]:
        """Send a streaming request and yield chunks as they arrive.

        The last chunk carries ``finish_reason`` (and the usage, when the service sent it).
        ``timeout`` and ``max_retries`` override the settings for this call (``timeout`` also
        bounds each wait for the next bytes of the stream). Pass your own ``accumulator`` to
        read what has arrived so far (:meth:`StreamAccumulator.snapshot`) while iterating; it
        is fed every event before the chunks of that event are yielded.

        Raises:
            IncompleteStreamError: the stream carried an error event, or ended without a finish
            reason or ``[DONE]``; ``partial`` holds what arrived.
        """
        acc = self._accumulator(accumulator)
        response = self._post_sync(req, True, timeout, max_retries)
        try:
            if _is_json(response):
                response.read()
                yield from _feed(acc, _whole_completion(response.text()))
            else:
                decoder = SSEDecoder()
                try:
                    for data in response.iter_bytes():
                        yield from _feed(acc, _decode_events(decoder.feed(data)))
                except IncompleteStreamError:
                    raise
                except (AzureError, OSError) as exc:
                    raise _broken_stream(acc, exc) from exc
                yield from _feed(acc, _decode_events(decoder.close()))
            yield from _finish(acc)
        finally:
            response.close()

    async def astream(
        self,
        req: WireRequest,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        accumulator: StreamAccumulator | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Async :meth:`stream`."""
        acc = self._accumulator(accumulator)
        response = await self._post_async(req, True, timeout, max_retries)
        try:
            if _is_json(response):
                await response.read()
                for chunk in _feed(acc, _whole_completion(response.text())):
                    yield chunk
            else:
                decoder = SSEDecoder()
                try:
                    async for data in response.iter_bytes():
                        for chunk in _feed(acc, _decode_events(decoder.feed(data))):
                            yield chunk
                except IncompleteStreamError:
                    raise
                except (AzureError, OSError, asyncio.TimeoutError) as exc:
                    raise _broken_stream(acc, exc) from exc
                for chunk in _feed(acc, _decode_events(decoder.close())):
                    yield chunk
            for chunk in _finish(acc):
                yield chunk
        finally:
            await response.close()

    def _accumulator(self, accumulator: StreamAccumulator | None) -> StreamAccumulator:
        if accumulator is None:
            return StreamAccumulator(think_tags=self.think_tags)
        if not isinstance(accumulator, StreamAccumulator) or accumulator.events:
            raise ConfigurationError("accumulator must be a new, unused StreamAccumulator")
        return accumulator


def _is_json(response: Any) -> bool:
    ctype = (response.headers.get("content-type") or "").lower()
    return ctype.startswith("application/json")


def _decode_events(payloads: list[str]) -> Iterator[Any]:
    for payload in payloads:
        text = payload.strip()
        if not text:
            continue
        if text == "[DONE]":
            yield "[DONE]"
            continue
        try:
            yield json.loads(text)
        except ValueError as exc:
            raise IncompleteStreamError(
                f"The stream carried an event that is not JSON: {text[:80]!r}"
            ) from exc


def _feed(acc: StreamAccumulator, events: Any) -> Iterator[ChatChunk]:
    for event in events:
        if acc.done:
            break  # anything after [DONE] is ignored
        chunk = acc.add(event)
        if chunk is not None:
            yield chunk


def _whole_completion(text: str) -> list[Any]:
    """A service that ignored ``stream``: its whole completion as the events of a stream."""
    return [_completion_as_event(_json_object(text)), "[DONE]"]


def _finish(acc: StreamAccumulator) -> Iterator[ChatChunk]:
    last = acc.finish()
    if last is not None:
        yield last


def _broken_stream(acc: StreamAccumulator, exc: BaseException) -> IncompleteStreamError:
    return IncompleteStreamError(
        f"The connection broke after {acc.events} stream events: {exc}",
        partial=acc.result(),
    )


class EmbeddingsClient(_BaseClient):
    """Embeddings: ``embed``/``aembed`` on ``/embeddings`` or ``/images/embeddings``."""

    def __init__(
        self,
        settings: ConnectionSettings,
        route: Literal["embeddings", "images/embeddings"] = "embeddings",
    ) -> None:
        if route not in ("embeddings", "images/embeddings"):
            raise ConfigurationError(
                f"route must be 'embeddings' or 'images/embeddings', got {route!r}"
            )
        super().__init__(settings)
        self._route = route
        self._sdk_class = "EmbeddingsClient" if route == "embeddings" else "ImageEmbeddingsClient"

    @property
    def route(self) -> str:
        """``embeddings`` or ``images/embeddings``."""
        return self._route

    def embed(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> EmbeddingsResult:
        """Send one embeddings request; vectors come back in input order.

        ``timeout`` and ``max_retries`` override the settings for this call only.
        """
        response = self._post_sync(req, False, timeout, max_retries)
        return _parse_embeddings(response.text(), req)

    async def aembed(
        self, req: WireRequest, *, timeout: float | None = None, max_retries: int | None = None
    ) -> EmbeddingsResult:
        """Async :meth:`embed`."""
        response = await self._post_async(req, False, timeout, max_retries)
        return _parse_embeddings(response.text(), req)


def _parse_embeddings(text: str, req: WireRequest) -> EmbeddingsResult:
    body = req.body
    return parse_embeddings(
        _json_object(text),
        expected=_count(req),
        encoding_format=body.get("encoding_format"),
        dimensions=body.get("dimensions"),
    )


def _count(req: WireRequest) -> int | None:
    inputs = req.body.get("input")
    return len(inputs) if isinstance(inputs, list) else None
