"""The control channel: scripts, faults and settings, in-process and over HTTP (`/_emulator/...`).

Nothing here travels in API request bodies, so scenarios work through the unmodified SDK with
`extra-parameters: error`. The HTTP routes take JSON bodies whose keys are the keyword arguments of
the in-process methods of `Emulator`:

| Method and path | Body / query | Effect |
|---|---|---|
| `GET requests` | `?route=chat` (optional) | `{"requests": [RecordedRequest...]}` |
| `POST clear` | - | `Emulator.clear()` |
| `GET settings` | - | current settings |
| `POST configure` | settings | `Emulator.configure(**body)` |
| `POST script_reply` | `deployment, content, tool_calls, ...` | `Emulator.script_reply(...)` |
| `POST script_raw` | `status, body, headers, deployment, route` | `Emulator.script_raw(...)` |
| `POST faults` | `kind, times, deployment, route, **params` | `Emulator.inject_fault(...)` |
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
from typing import Any

from azureinfer.emulator._catalogue import Deployment
from azureinfer.emulator._state import (
    ROUTES,
    EmulatorState,
    Fault,
    RawReply,
    RecordedRequest,
    ScriptedReply,
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


def script_reply(
    state: EmulatorState,
    catalogue: Iterable[Deployment],
    deployment: str | None,
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    reasoning_content: str | None = None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
) -> None:
    """Queue one chat reply for `deployment` (None: the next chat request of any deployment)."""
    calls = [_tool_call(i, c) for i, c in enumerate(tool_calls or [])]
    if finish_reason is not None and finish_reason not in FINISH_REASONS:
        raise ValueError(f"finish_reason must be one of {FINISH_REASONS}, got {finish_reason!r}")
    if usage is not None and not isinstance(usage, dict):
        raise ValueError(
            "usage must be a dict such as {'prompt_tokens': 3, 'completion_tokens': 5}"
        )
    state.script_reply(
        ScriptedReply(
            deployment=_deployment_name(catalogue, deployment),
            content=content,
            tool_calls=calls,
            reasoning_content=reasoning_content,
            finish_reason=finish_reason,
            usage=usage,
        )
    )


def script_raw(
    state: EmulatorState,
    catalogue: Iterable[Deployment],
    status: int,
    body: Any,
    headers: dict[str, str] | None = None,
    deployment: str | None = None,
    route: str | None = None,
) -> None:
    """Queue an exact HTTP answer (dict/list: JSON; str/bytes: sent as is, text/plain unless
    `headers` set a Content-Type)."""
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code, got {status!r}")
    state.script_raw(
        RawReply(
            status=status,
            body=body,
            headers=dict(headers or {}),
            deployment=_deployment_name(catalogue, deployment),
            route=_route(route),
        )
    )


def inject_fault(
    state: EmulatorState,
    catalogue: Iterable[Deployment],
    kind: str,
    times: int = 1,
    deployment: str | None = None,
    route: str | None = None,
    **params: Any,
) -> None:
    """Queue a fault for the next `times` matching requests (see `Emulator.inject_fault`)."""
    state.inject_fault(
        Fault(
            kind=kind,
            times=times,
            deployment=_deployment_name(catalogue, deployment),
            route=_route(route),
            params=params,
        )
    )


def requests_for(requests: Iterable[RecordedRequest], route: str | None) -> list[RecordedRequest]:
    """The recorded requests of one route (all when None)."""
    if route is None:
        return list(requests)
    return [r for r in requests if r.route == route]


class RemoteEmulator:
    """Control an emulator that runs in another process (`python -m azureinfer.emulator`).

    `base_url` is the server root, e.g. ``"http://127.0.0.1:8765"``. Methods mirror `Emulator`;
    `requests` returns plain dicts.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RemoteEmulator({self.base_url!r})"

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
