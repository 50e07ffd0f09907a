"""The control channel: scripts, faults and settings, in-process and over HTTP (`/_emulator/...`).

Nothing here travels in API request bodies, so scenarios work through the unmodified SDK with
`extra-parameters: error`. The HTTP routes take JSON bodies whose keys are the keyword arguments of
the in-process methods of `EmulatorControl` (which `Emulator` offers):

| Method and path | Body / query | Effect |
|---|---|---|
| `GET requests` | `?route=chat` (optional) | `{"requests": [RecordedRequest...]}` |
| `POST clear` | - | `clear()` |
| `GET settings` | - | current settings |
| `POST configure` | settings | `configure(**body)` |
| `POST script_reply` | `deployment, content, tool_calls, ...` | `script_reply(...)` |
| `POST script_raw` | `status, body, headers, deployment, route` | `script_raw(...)` |
| `POST faults` | `kind, times, deployment, route, **params` | `inject_fault(...)` |
| `GET catalogue` | - | the deployments |
| `GET unexpected_errors` | - | `{"unexpected_errors": [...]}`: 5xx answers no fault asked for |

(paths relative to `/_emulator/`)

`RemoteEmulator(base_url)` offers the same methods for a server running in another process.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, Protocol

from azureinfer.emulator._catalogue import Deployment
from azureinfer.emulator._profiles import PROFILES
from azureinfer.emulator._state import (
    APIS,
    ROUTES,
    EmulatorState,
    Fault,
    RawReply,
    RecordedRequest,
    ScriptedReply,
    Settings,
)

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")


def _deployment_name(catalogue: Iterable[Deployment], name: str | None) -> str | None:
    if name is None:
        return None
    wanted = name.strip().lower()
    for dep in catalogue:
        if dep.name.lower() == wanted:
            return dep.name
    raise ValueError(f"unknown deployment {name!r}; the catalogue has no such name")


def endpoint_path(catalogue: Iterable[Deployment], name: str, profile: str | None = None) -> str:
    """The path of the endpoint serving a deployment in `profile`'s shape (None: its own)."""
    rows = tuple(catalogue)
    wanted = _deployment_name(rows, name)
    dep = next(d for d in rows if d.name == wanted)
    chosen = dep.profile if profile is None else profile
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; expected one of {', '.join(PROFILES)}")
    if PROFILES[chosen].one_model and chosen != dep.profile:
        raise ValueError(
            f"{dep.name!r} has no {chosen!r} endpoint: only rows of that profile are served "
            f"on /serverless/{{name}} (its profile is {dep.profile!r})"
        )
    return PROFILES[chosen].endpoint.format(name=dep.name)


def _api(api: str | None) -> str | None:
    if api is not None and api not in APIS:
        raise ValueError(f"unknown api {api!r}; expected one of {APIS}")
    return api


def _route(route: str | None) -> str | None:
    if route is not None and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; expected one of {ROUTES}")
    return route


def _tool_call(i: int, call: dict[str, Any]) -> dict[str, Any]:
    """Accept `{"name", "arguments", "id"?}` or the wire shape; return the wire shape."""
    fn = call.get("function")
    if isinstance(fn, dict):
        name, args = fn.get("name"), fn.get("arguments", "{}")
    else:
        name, args = call.get("name"), call.get("arguments", {})
    if not isinstance(name, str) or not name:
        raise ValueError(f"tool_calls[{i}] needs a function name")
    if not isinstance(args, str):
        args = json.dumps(args)
    return {
        "id": call.get("id") or f"call_scripted_{i}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    }


class _Served(Protocol):
    @property
    def base_url(self) -> str: ...

    @property
    def catalogue(self) -> tuple[Deployment, ...]: ...


class Endpoints:
    """The endpoints a client connects to, from the server root (`base_url`) and its
    `catalogue`: the same on `Emulator` and `RemoteEmulator`."""

    @property
    def endpoint(self: _Served) -> str:
        """The Foundry-shaped Model Inference endpoint: ``base_url + "/models"``."""
        return self.base_url + "/models"

    @property
    def v1_endpoint(self: _Served) -> str:
        """The OpenAI/v1 endpoint: ``base_url + "/openai/v1"`` (``model`` names the deployment)."""
        return self.base_url + "/openai/v1"

    def endpoint_for(self: _Served, deployment: str, profile: str | None = None) -> str:
        """The endpoint that serves `deployment` in `profile`'s shape (default: the row's own
        profile): ``/serverless/{name}`` (``maas``, ``cohere_embed``),
        ``/openai/deployments/{name}`` (``azure_openai``), ``/models`` (``foundry``) or
        ``/openai/v1`` (``openai_v1``). Raises ValueError for an unknown deployment or a
        serverless profile that is not the row's own."""
        return self.base_url + endpoint_path(self.catalogue, deployment, profile)


class EmulatorControl:
    """The in-process control API over one server's state and catalogue: what `Emulator`
    offers, and what the ``/_emulator/...`` routes call."""

    def __init__(self, state: EmulatorState, catalogue: tuple[Deployment, ...]) -> None:
        self._state = state
        self.catalogue = catalogue

    # ---------------------------------------------------------------- inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received since the last `clear()` (the newest `max_recorded`), oldest first."""
        return self._state.recorded()

    def requests_for(self, route: str | None) -> list[RecordedRequest]:
        """Recorded requests of one route: "chat", "embeddings", "images/embeddings", "info",
        "models" (both APIs; `RecordedRequest.api` tells them apart); None: all."""
        return [r for r in self._state.recorded() if route is None or r.route == route]

    @property
    def unexpected_errors(self) -> list[str]:
        """Reports (with the traceback) of the 5xx answers since the last `clear()` that no
        fault or script asked for: emulator bugs, also logged at ERROR on ``azureinfer.emulator``.
        The pytest fixture fails a test that leaves any."""
        with self._state.lock:
            return list(self._state.unexpected)

    @property
    def settings(self) -> Settings:
        """The current settings (read-only snapshot)."""
        return self._state.settings

    # ---------------------------------------------------------------- control
    def clear(self) -> None:
        """Forget recorded requests, scripts, faults and unexpected errors; reset settings."""
        self._state.clear()

    def configure(self, **settings: Any) -> Settings:
        """Change settings: latency, stream_delay, chunk_size, rate_limit_rpm, rate_limit_tpm,
        rate_limit_window, max_body_bytes, default_deployment, api_versions, strict,
        accept_any_bearer_token, allowed_tokens, token_audiences, v1_token_audiences,
        custom_header_limit, sse_crlf,
        sse_keepalive, info_model_type, prompt_cache (see `Settings`).

        Unknown names raise TypeError; bad values ValueError."""
        return self._state.configure(**settings)

    def script_reply(
        self,
        deployment: str | None,
        content: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        reasoning_content: str | None = None,
        finish_reason: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        """Queue one chat reply for `deployment` (None: any), used instead of the rules.

        `tool_calls` items: ``{"name": ..., "arguments": dict | str, "id"?: ...}`` or the wire
        shape. `finish_reason` defaults to "tool_calls" with tool calls, else "stop". `usage`
        overrides counts (e.g. ``{"prompt_tokens": 3}``). Scripted replies stream too.
        """
        calls = [_tool_call(i, c) for i, c in enumerate(tool_calls or [])]
        if finish_reason is not None and finish_reason not in FINISH_REASONS:
            raise ValueError(
                f"finish_reason must be one of {FINISH_REASONS}, got {finish_reason!r}"
            )
        if usage is not None and not isinstance(usage, dict):
            raise ValueError(
                "usage must be a dict such as {'prompt_tokens': 3, 'completion_tokens': 5}"
            )
        self._state.script_reply(
            ScriptedReply(
                deployment=_deployment_name(self.catalogue, deployment),
                content=content,
                tool_calls=calls,
                reasoning_content=reasoning_content,
                finish_reason=finish_reason,
                usage=usage,
            )
        )

    def script_raw(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        deployment: str | None = None,
        route: str | None = None,
        api: str | None = None,
    ) -> None:
        """Queue an exact HTTP answer for the next matching request (any route and API by
        default; `api`: "openai_v1" or "model_inference"). A dict or list body is sent as JSON;
        a str or bytes body as is, text/plain unless `headers` set a Content-Type."""
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {status!r}")
        self._state.script_raw(
            RawReply(
                status=status,
                body=body,
                headers=dict(headers or {}),
                deployment=_deployment_name(self.catalogue, deployment),
                route=_route(route),
                api=_api(api),
            )
        )

    def inject_fault(
        self,
        kind: str,
        times: int = 1,
        deployment: str | None = None,
        route: str | None = None,
        api: str | None = None,
        **params: Any,
    ) -> None:
        """Fail the next `times` matching requests (of `deployment`, `route` and `api`:
        "openai_v1" or "model_inference"; None: any).

        Kinds and their params:
        - "status": status=429/500/503/..., retry_after=<seconds>, retry_after_ms=<ms>,
          code=, message=, body= (exact JSON body), headers=, plain_text=True (text/plain body),
          shape="A".."E" (error envelope, spec §7.1; A is the default)
        - "reset": drop the connection without an answer
        - "delay": seconds= before answering normally
        - "truncate": streams only; stop after n_events= events (default 2), no finish reason
          and no [DONE]; abort=True drops the connection instead of ending the body cleanly
        - "stream_error": streams only; a ``data: {"error": ...}`` event after n_events=
        - "malformed_json": a 200 body (status= to change) that is not valid JSON
        """
        self._state.inject_fault(
            Fault(
                kind=kind,
                times=times,
                deployment=_deployment_name(self.catalogue, deployment),
                route=_route(route),
                params=params,
                api=_api(api),
            )
        )


class RemoteEmulator(Endpoints):
    """Control an emulator that runs in another process (`python -m azureinfer.emulator`).

    `base_url` is the server root, e.g. ``"http://127.0.0.1:8765"``. Methods mirror `Emulator`;
    `requests` returns plain dicts.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RemoteEmulator({self.base_url!r})"

    @property
    def catalogue(self) -> tuple[Deployment, ...]:
        """The server's deployments (asked for on each use)."""
        rows = self._call("GET", "catalogue")["deployments"]
        return tuple(Deployment(**{**d, "v1_extras": tuple(d["v1_extras"])}) for d in rows)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + "/_emulator/" + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read() or b"null")

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Recorded requests, oldest first."""
        return list(self._call("GET", "requests")["requests"])

    @property
    def unexpected_errors(self) -> list[str]:
        """Reports of the 5xx answers no fault or script asked for (see `Emulator`)."""
        errors: list[str] = self._call("GET", "unexpected_errors")["unexpected_errors"]
        return errors

    def requests_for(self, route: str) -> list[dict[str, Any]]:
        """Recorded requests of one route."""
        return list(self._call("GET", f"requests?route={route}")["requests"])

    def clear(self) -> None:
        """Forget requests, scripts and faults; reset settings."""
        self._call("POST", "clear", {})

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings; returns all settings."""
        return dict(self._call("POST", "configure", settings))

    def script_reply(self, deployment: str | None, **kwargs: Any) -> None:
        """Queue one chat reply."""
        self._call("POST", "script_reply", {"deployment": deployment, **kwargs})

    def script_raw(self, status: int, body: Any, **kwargs: Any) -> None:
        """Queue an exact HTTP answer."""
        self._call("POST", "script_raw", {"status": status, "body": body, **kwargs})

    def inject_fault(self, kind: str, times: int = 1, **kwargs: Any) -> None:
        """Queue a fault."""
        self._call("POST", "faults", {"kind": kind, "times": times, **kwargs})


def settings_dict(state: EmulatorState) -> dict[str, Any]:
    """The current settings as JSON-ready values."""
    return asdict(state.settings)
