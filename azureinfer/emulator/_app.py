"""The aiohttp application: routing, auth, api-version, extra-parameters, faults, answers.

Two APIs share the catalogue, the state and the checks: the Azure AI Model Inference API (under
``""``, ``/models``, ``/api/models`` and ``/openai/deployments/{name}``) and the OpenAI/v1 API
(under ``/openai/v1``; errors in its envelopes, see `_errors.for_v1`).

Order of checks for an API request (each failure answers at once):
latency -> method -> custom-header limit (431) -> auth (401) -> api-version (400) ->
body size (413) -> JSON (400) -> deployment (v1: `model` required 400; 404 / 400 wrong
operation) -> injected fault -> scripted raw answer -> extra-parameters (422; v1: unknown
argument 400) -> validation (422; v1: 400) -> capability (422; v1: 400) -> orphan tool message
(400) -> context length (400) -> prompt filter (400) -> rate limit (429) -> scripted or
rule-based reply.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from azureinfer.emulator import _control, _validate
from azureinfer.emulator._access import RECORD_KEY
from azureinfer.emulator._behaviour import (
    chat_reply,
    count_tokens,
    is_prompt_filtered,
    prompt_tokens,
)
from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, Deployment
from azureinfer.emulator._errors import (
    V1_API_VERSIONS,
    V1_GATEWAY_MESSAGES,
    ApiError,
    content_filter,
    context_length_exceeded,
    dumps,
    for_v1,
    gateway_error,
    invalid_input,
    loads,
    maas_unauthorized,
    openai_error,
    orphan_tool_message,
    rate_limited,
    service_error,
    token_audience_error,
    unrecognized_argument,
    unsupported_api_version,
    v1_model_required,
    v1_unsupported_api_version,
)
from azureinfer.emulator._profiles import PROFILES, SURFACE_PROFILES, Profile
from azureinfer.emulator._replies import (
    cached_tokens,
    completion_body,
    done_frame,
    image_embeddings_body,
    info_body,
    models_body,
    request_id,
    scripted,
    sse,
    stream_events,
    text_embeddings_body,
    usage_of,
)
from azureinfer.emulator._state import (
    REDACTED,
    SECRET_HEADERS,
    EmulatorState,
    Fault,
    RawReply,
    RecordedRequest,
    Settings,
)

logger = logging.getLogger("azureinfer.emulator")

STATE_KEY = web.AppKey("azureinfer_emulator_state", EmulatorState)
CATALOGUE_KEY = web.AppKey("azureinfer_emulator_catalogue", tuple)

PREFIXES = ("", "/models", "/api/models")
ROUTE_PATHS = {
    "chat": ("/chat/completions", "POST"),
    "embeddings": ("/embeddings", "POST"),
    "images/embeddings": ("/images/embeddings", "POST"),
    "info": ("/info", "GET"),
}
# The OpenAI/v1 API: no /info, no image embeddings.
V1_PREFIX = "/openai/v1"
V1_ROUTE_PATHS = {
    "chat": ("/chat/completions", "POST"),
    "embeddings": ("/embeddings", "POST"),
    "models": ("/models", "GET"),
}
# Surfaces: "models" (Foundry prefixes), "deployments" (/openai/deployments/{name}), "v1",
# "serverless" (/serverless/{name}: the endpoint of one serverless deployment).
SURFACES = ("models", "deployments", "v1", "serverless")
SERVERLESS_PREFIX = "/serverless"
OPENAI_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
# Headers that are not "custom" for the 431 limit (spec §3.1, seed 004).
STANDARD_HEADERS = frozenset(
    {
        "host",
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "content-length",
        "content-type",
        "user-agent",
        "authorization",
        "api-key",
        "x-ms-client-request-id",
        "x-ms-return-client-request-id",
        "extra-parameters",
        "traceparent",
        "tracestate",
        "transfer-encoding",
        "keep-alive",
        "expect",
    }
)
MAX_ERROR_DETAILS = 20


class _Dropped(web.Response):
    """Returned after a `reset` fault aborted the connection (never reaches the client)."""


RATE_LIMIT_FAULT_HEADERS = {
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-remaining-tokens": "0",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _redact(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}" if scheme else REDACTED
        out[low] = value
    return out


def _jwt_audiences(token: str) -> list[str] | None:
    """The `aud` claim of an (unverified) JWT, or None when `token` is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    aud = payload.get("aud") if isinstance(payload, dict) else None
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return None


class EmulatorApp:
    """Request handlers bound to one `EmulatorState` and catalogue."""

    def __init__(self, state: EmulatorState, catalogue: tuple[Deployment, ...]) -> None:
        self.state = state
        self.catalogue = catalogue
        self.by_name = {d.name.strip().lower(): d for d in catalogue}

    # ---------------------------------------------------------------- entry
    def handler(self, route: str, surface: str) -> Handler:
        """The aiohttp handler of one API route on one surface (see `SURFACES`)."""

        async def handle(request: web.Request) -> web.StreamResponse:
            return await self.dispatch(request, route, surface)

        return handle

    async def dispatch(self, request: web.Request, route: str, surface: str) -> web.StreamResponse:
        """Serve one API request, record it and its status."""
        state = self.state
        v1 = surface == "v1"
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=_redact(request.headers),
            body=None,
            route=route,
            time=time.time(),
            api="openai_v1" if v1 else "model_inference",
        )
        state.record(rec)
        request[RECORD_KEY] = rec  # for the access log
        headers = {"apim-request-id": request_id()}
        client_id = request.headers.get("x-ms-client-request-id")
        if client_id is not None:
            headers["x-ms-client-request-id"] = client_id
        headers["x-request-id"] = headers["apim-request-id"]
        bug: str | None = None
        try:
            resp = await self.serve(request, rec, route, surface, headers)
        except ApiError as err:
            resp = error_response(for_v1(err) if v1 else err, headers)
        except Exception as exc:  # a bug in the emulator: still answer like the service
            bug = traceback.format_exc()
            failure = service_error(500, message=f"Emulator error: {type(exc).__name__}: {exc}")
            resp = error_response(for_v1(failure) if v1 else failure, headers)
        if resp.status >= 500 and not request.get(_INJECTED, False):
            self.unexpected(request, resp, bug)
        if not resp.prepared:
            await _until_deadline(request)
        # 0: the connection was dropped (reset fault) before any answer.
        rec.status = 0 if isinstance(resp, _Dropped) else resp.status
        return resp

    def unexpected(self, request: web.Request, resp: web.StreamResponse, bug: str | None) -> None:
        """Log and keep a 5xx that no fault or script asked for (an emulator bug)."""
        if bug is None:
            body = resp.body if isinstance(resp, web.Response) else None
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else ""
            bug = f"answered {resp.status} without an injected fault: {text}"
        _report_bug(self.state, request, resp.status, bug)

    async def serve(
        self,
        request: web.Request,
        rec: RecordedRequest,
        route: str,
        surface: str,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        """The checks of the module docstring, in order."""
        s = self.state.settings
        v1 = surface == "v1"
        azure_openai = surface in ("deployments", "v1")
        if surface == "serverless":
            own: Deployment | None = self.serverless_deployment(request)
            assert own is not None
            rec.deployment = own.name
            profile = PROFILES[own.profile]
        else:
            own = None
            profile = PROFILES[SURFACE_PROFILES[surface]]
        if route not in profile.routes:
            if profile.one_model:
                # A serverless endpoint serves one model: other routes are not there at all.
                raise ApiError(404, "NOT FOUND", content_type="text/plain")
            raise service_error(404)
        if s.latency:
            # The answer leaves no sooner than `latency` after arrival; the emulator's own work
            # happens within that time, as a service's does within its response time.
            request[_DEADLINE] = asyncio.get_running_loop().time() + s.latency
        expected_method = (V1_ROUTE_PATHS if v1 else ROUTE_PATHS)[route][1]
        if request.method != expected_method:
            raise service_error(
                405, message=f"{request.method} is not allowed here; use {expected_method}."
            )
        if s.custom_header_limit:
            custom = [h for h in rec.headers if h not in STANDARD_HEADERS]
            if len(custom) > s.custom_header_limit:
                raise service_error(
                    431,
                    message=f"{len(custom)} custom headers sent; at most "
                    f"{s.custom_header_limit} are forwarded.",
                )
        self.authenticate(request, s, v1, profile)
        version = request.query.get("api-version")
        if v1:
            if version is not None and version not in V1_API_VERSIONS:
                raise v1_unsupported_api_version(version)
        elif version not in s.api_versions and not (
            azure_openai and version is not None and OPENAI_VERSION_RE.match(version)
        ):
            raise unsupported_api_version(version, s.api_versions)

        if route == "models":
            return await self.models(request, headers)
        body: dict[str, Any] = {}
        if route != "info":
            body = await self.read_body(request, s)
            rec.body = body
        dep = own or self.resolve(request, route, surface, body, s)
        rec.deployment = dep.name
        if surface == "deployments":
            _warn_model_mismatch(body, dep, headers)
        stream = route == "chat" and body.get("stream") is True
        rec.stream = stream

        fault = self.state.take_fault(route, dep.name, stream, rec.api)
        if fault is not None:
            request[_INJECTED] = True
            early = await self.apply_fault(request, fault, stream, headers, v1)
            if early is not None:
                return early
            if fault.kind == "delay":
                fault = None
        raw = self.state.take_raw(route, dep.name, rec.api)
        if raw is not None:
            request[_INJECTED] = True
            return raw_response(raw, headers)
        headers.update(profile.headers)
        if route == "info":
            return json_response(200, info_body(dep, s.info_model_type, profile), headers)
        if v1:
            self.v1_arguments(route, dep, body, rec)
        else:
            body = self.extra_parameters(request, route, azure_openai, body, rec)
        if route == "chat":
            return await self.chat(request, dep, body, stream, fault, profile, headers, s)
        return self.embeddings(route, dep, body, headers, s, profile)

    # ---------------------------------------------------------------- checks
    def authenticate(self, request: web.Request, s: Settings, v1: bool, profile: Profile) -> None:
        """api-key or `Bearer <key>`; other bearer tokens per settings (spec §2.4).

        With audience checking on (`token_audiences` set), v1 requests need a JWT for one of
        `v1_token_audiences` and the others one for `token_audiences`. Failures answer in the
        profile's 401 shape."""
        try:
            self._authenticate(request, s, v1)
        except ApiError:
            if profile.auth_error == "maas":
                raise maas_unauthorized() from None
            raise

    def _authenticate(self, request: web.Request, s: Settings, v1: bool) -> None:
        key = self.state.key
        api_key = request.headers.get("api-key")
        if api_key is not None and hmac.compare_digest(api_key.encode(), key.encode()):
            return
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if token and hmac.compare_digest(token.encode(), key.encode()):
            return
        if api_key is not None or not token:
            raise service_error(401)
        if s.token_audiences:
            wanted = s.v1_token_audiences if v1 else s.token_audiences
            audiences = _jwt_audiences(token)
            if not audiences or not set(audiences) & set(wanted):
                raise token_audience_error(wanted[0] if wanted else "")
            return
        if s.accept_any_bearer_token or token in s.allowed_tokens:
            return
        raise service_error(401)

    async def read_body(self, request: web.Request, s: Settings) -> dict[str, Any]:
        """The JSON object body (413 when too large, 400 when not a JSON object)."""
        length = request.content_length
        if length is not None and length > s.max_body_bytes:
            raise service_error(
                413, message=f"The request body ({length} bytes) exceeds {s.max_body_bytes} bytes."
            )
        raw = await request.read()
        if len(raw) > s.max_body_bytes:
            raise service_error(
                413,
                message=f"The request body ({len(raw)} bytes) exceeds {s.max_body_bytes} bytes.",
            )
        try:
            body = loads(raw)
        except ValueError as exc:
            raise service_error(400, message=f"The request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise service_error(400, message="The request body must be a JSON object.")
        return body

    def serverless_deployment(self, request: web.Request) -> Deployment:
        """The deployment of a ``/serverless/{name}`` endpoint (404 when it has none)."""
        dep = self.by_name.get(request.match_info.get("deployment", "").strip().lower())
        if dep is None or not PROFILES[dep.profile].one_model:
            raise service_error(404)
        return dep

    def resolve(
        self,
        request: web.Request,
        route: str,
        surface: str,
        body: dict[str, Any],
        s: Settings,
    ) -> Deployment:
        """The deployment: URL path (Azure OpenAI), body `model` (v1: required), or a header
        or the default (the other surfaces)."""
        if route == "info" and surface == "models" and not s.foundry_info:
            raise service_error(404)
        if surface == "deployments":
            dep = self.by_name.get(request.match_info.get("deployment", "").strip().lower())
            if dep is None:
                raise deployment_not_found()
        elif surface == "v1":
            model = body.get("model")
            if model is None or model == "":
                raise v1_model_required()
            if not isinstance(model, str):
                raise openai_error(
                    400,
                    f"Invalid type for 'model': expected a string, but got {type(model).__name__}.",
                    type="invalid_request_error",
                    param="model",
                    code="invalid_type",
                )
            dep = self.by_name.get(model.strip().lower())
            if dep is None:
                raise deployment_not_found()
        else:
            model = body.get("model")
            name: str | None = model if isinstance(model, str) else None
            if name is None:
                name = request.headers.get("azureml-model-deployment") or request.headers.get(
                    "x-ms-model-mesh-model-name"
                )
            if name is None:
                name = {
                    "chat": s.default_deployment,
                    "info": s.default_deployment,
                    "embeddings": s.default_embeddings_deployment,
                    "images/embeddings": s.default_image_embeddings_deployment,
                }[route]
            if name is None:
                raise invalid_input([_validate.detail("missing", ("model",), "Field required")])
            dep = self.by_name.get(name.strip().lower())
            if dep is None:
                text = f"Unknown model: {name}"
                raise service_error(404, "unknown_model", text, details=text)
        wanted = {
            "chat": ("chat",),
            "embeddings": ("embeddings", "image_embeddings"),
            "images/embeddings": ("image_embeddings",),
            "info": ("chat", "embeddings", "image_embeddings"),
        }[route]
        if dep.kind not in wanted:
            operation = {"chat": "chatCompletion", "embeddings": "embeddings"}.get(
                route, "imageEmbeddings"
            )
            raise service_error(
                400,
                "OperationNotSupported",
                f"The {operation} operation does not work with the specified model, "
                f"{dep.model_name}. Please choose different model and try again.",
            )
        return dep

    def v1_arguments(
        self, route: str, dep: Deployment, body: dict[str, Any], rec: RecordedRequest
    ) -> None:
        """400 "Unrecognized request argument supplied" for a body key outside the OpenAI set
        and the deployment's `v1_extras` (the `extra-parameters` header means nothing here)."""
        known = _validate.V1_CHAT_KEYS if route == "chat" else _validate.V1_EMBEDDINGS_KEYS
        for k in body:
            if k not in known and k not in dep.v1_extras:
                raise unrecognized_argument(k)
        extras = {k: body[k] for k in dep.v1_extras if k in body}
        if extras:
            rec.forwarded = extras

    def extra_parameters(
        self,
        request: web.Request,
        route: str,
        azure_openai: bool,
        body: dict[str, Any],
        rec: RecordedRequest,
    ) -> dict[str, Any]:
        """Apply `extra-parameters` (spec §3.2); returns the body the model sees."""
        known = _validate.CHAT_KEYS if route == "chat" else _validate.EMBEDDINGS_KEYS
        mode = request.headers.get("extra-parameters")
        if mode is not None:
            mode = mode.strip().lower()
            if mode not in ("pass-through", "drop", "error"):
                raise service_error(
                    400,
                    message=f"Invalid extra-parameters header {mode!r}: "
                    "expected 'pass-through', 'drop' or 'error'.",
                )
        extras = [k for k in body if k not in known]
        if not extras:
            return body
        if azure_openai:
            # The header has no effect there; the OpenAI backend knows its own extra keys.
            allowed = (
                _validate.OPENAI_EXTRA_CHAT_KEYS
                if route == "chat"
                else _validate.OPENAI_EXTRA_EMBEDDINGS_KEYS
            )
            for k in extras:
                if k not in allowed:
                    raise unrecognized_argument(k)
            rec.forwarded = {k: body[k] for k in extras}
            return body
        if mode is None or mode == "error":
            raise invalid_input(
                [
                    _validate.detail(
                        "extra_forbidden", (k,), "Extra inputs are not permitted", body[k]
                    )
                    for k in extras
                ]
            )
        if mode == "drop":
            rec.dropped = extras
            return {k: v for k, v in body.items() if k in known}
        rec.forwarded = {k: body[k] for k in extras}
        return body

    async def apply_fault(
        self,
        request: web.Request,
        fault: Fault,
        stream: bool,
        headers: dict[str, str],
        v1: bool = False,
    ) -> web.StreamResponse | None:
        """Answer for faults that replace the whole response; None for the others."""
        p = fault.params
        if fault.kind == "delay":
            await asyncio.sleep(float(p.get("seconds", 1.0)))
            return None
        if fault.kind == "status":
            return fault_status_response(p, headers, v1)
        if fault.kind == "reset":
            await _until_deadline(request)
            if request.transport is not None:
                request.transport.abort()
            return _Dropped(status=500)
        if fault.kind == "malformed_json" and not stream:
            status = int(p.get("status", 200))
            return web.Response(
                status=status,
                body=b'{"id": "chatcmpl-broken", "choices": [{"index": 0, "message": ',
                headers={**headers, "Content-Type": "application/json"},
            )
        return None

    # ---------------------------------------------------------------- chat
    async def chat(
        self,
        request: web.Request,
        dep: Deployment,
        body: dict[str, Any],
        stream: bool,
        fault: Fault | None,
        profile: Profile,
        headers: dict[str, str],
        s: Settings,
    ) -> web.StreamResponse:
        """Validate, then answer a chat request as JSON or SSE in the profile's shape."""
        details = _validate.validate_chat(body, s.strict)
        if details:
            raise invalid_input(details[:MAX_ERROR_DETAILS])
        details = _validate.capability_chat(dep, body)
        if details:
            raise invalid_input(details[:MAX_ERROR_DETAILS], "parameter_not_supported")
        orphan = _orphan_tool_message(body["messages"])
        if orphan is not None:
            raise orphan_tool_message(orphan)
        prompt = prompt_tokens(body)
        if prompt > dep.context_window:
            raise context_length_exceeded(dep.context_window, prompt)
        filtered = is_prompt_filtered(body)
        if filtered is not None:
            raise content_filter(filtered)
        limited = bool(s.rate_limit_rpm or s.rate_limit_tpm)
        if limited:
            self.rate_limit(dep, prompt, s, "ChatCompletions")
        script = self.state.take_script(dep.name)
        reply = scripted(script) if script is not None else chat_reply(dep, body)
        cached = cached_tokens(self.state, dep, body["messages"]) if s.prompt_cache else 0
        usage = usage_of(
            dep,
            reply,
            prompt,
            cached,
            script.usage if script else None,
            full=profile.filter_annotations,
        )
        if limited:
            self.state.add_tokens(dep.name, usage["completion_tokens"])
            headers.update(self.state.quota_headers(dep.name))
        if not stream:
            if profile.one_model:
                headers["prompt_token_len"] = str(usage["prompt_tokens"])
                headers["sampling_token_len"] = str(usage["completion_tokens"])
            return json_response(200, completion_body(dep, reply, usage, profile), headers)
        options = body.get("stream_options")
        include = options.get("include_usage") if isinstance(options, dict) else None
        events = stream_events(
            dep,
            reply,
            usage,
            s.chunk_size,
            profile=profile,
            include_usage=include if isinstance(include, bool) else None,
        )
        if profile.one_model:
            headers["x-ms-rai-invoked"] = "true"
        headers["Content-Type"] = profile.stream_content_type
        return await self.write_stream(request, events, fault, headers, s)

    def rate_limit(self, dep: Deployment, tokens: int, s: Settings, operation: str) -> None:
        """429 like the service when the per-minute windows are full."""
        verdict = self.state.rate_check(dep.name, tokens)
        if verdict is None:
            return
        wait, quota = verdict
        limits = []
        max_requests, max_tokens = self.state.rate_caps()
        span = f"{s.rate_limit_window:g}s"
        if s.rate_limit_rpm:
            limits.append(f"{max_requests:g} per {span}")
        if s.rate_limit_tpm:
            limits.append(f"{max_tokens:g} tokens per {span}")
        raise rate_limited(" and ".join(limits), wait, quota, operation)

    async def write_stream(
        self,
        request: web.Request,
        events: list[dict[str, Any]],
        fault: Fault | None,
        headers: dict[str, str],
        s: Settings,
    ) -> web.StreamResponse:
        """Send SSE frames; faults cut the stream or insert an error event."""
        frames = sse(events, crlf=s.sse_crlf, keepalive=s.sse_keepalive)
        abort = False
        if fault is None:
            frames.append(done_frame(s.sse_crlf))
        else:
            n = int(fault.params.get("n_events", 2))
            frames = frames[:n]
            if fault.kind == "stream_error":
                code = fault.params.get("code", "InternalServerError")
                message = fault.params.get(
                    "message", "The server had an error while processing your request."
                )
                frames.append(
                    b"data: " + dumps({"error": {"code": code, "message": message}}) + b"\n\n"
                )
            elif fault.kind == "malformed_json":
                frames.append(b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
            else:
                abort = bool(fault.params.get("abort", False))
        resp = web.StreamResponse(
            status=200,
            headers={"Content-Type": "text/event-stream", **headers, "Cache-Control": "no-cache"},
        )
        await _until_deadline(request)
        # Recorded before the first byte goes out: a client that has read the whole stream may
        # look at the request log before this handler returns.
        request[RECORD_KEY].status = resp.status
        try:
            await resp.prepare(request)
            if s.stream_delay:
                for frame in frames:
                    await resp.write(frame)
                    await asyncio.sleep(s.stream_delay)
            else:
                await resp.write(b"".join(frames))
            if abort and request.transport is not None:
                request.transport.abort()
            else:
                await resp.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            # The client went away mid-stream: nothing to do, the server carries on.
            pass
        return resp

    # ---------------------------------------------------------------- v1 models
    async def models(self, request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
        """``GET /openai/v1/models`` (the deployments) and ``/models/{model}`` (one of them)."""
        fault = self.state.take_fault("models", None, False, "openai_v1")
        if fault is not None:
            request[_INJECTED] = True
            early = await self.apply_fault(request, fault, False, headers, True)
            if early is not None:
                return early
        raw = self.state.take_raw("models", None, "openai_v1")
        if raw is not None:
            request[_INJECTED] = True
            return raw_response(raw, headers)
        name = request.match_info.get("model")
        if name is None:
            return json_response(200, models_body(self.catalogue), headers)
        dep = self.by_name.get(name.strip().lower())
        if dep is None:
            raise gateway_error(404, "DeploymentNotFound", DEPLOYMENT_NOT_FOUND)
        return json_response(200, models_body([dep])["data"][0], headers)

    # ---------------------------------------------------------------- embeddings
    def embeddings(
        self,
        route: str,
        dep: Deployment,
        body: dict[str, Any],
        headers: dict[str, str],
        s: Settings,
        profile: Profile,
    ) -> web.Response:
        """Validate, then answer a text or image embeddings request."""
        v1 = profile.error_envelope == "openai_v1"
        if route == "embeddings":
            details = _validate.validate_embeddings(body)
        else:
            details = _validate.validate_image_embeddings(body)
        if details:
            raise invalid_input(details[:MAX_ERROR_DETAILS])
        inputs = body["input"]
        if isinstance(inputs, str):
            inputs = [inputs]
        details = _validate.capability_embeddings(dep, body, len(inputs))
        if route == "embeddings":
            for i, text in enumerate(inputs):
                n = count_tokens(text)
                if n > dep.max_input_tokens and v1:
                    raise context_length_exceeded(dep.max_input_tokens, n, f"input[{i}]")
                if n > dep.max_input_tokens:
                    details.append(
                        _validate.detail(
                            "too_long",
                            ("input", i),
                            f"Input has {n} tokens; {dep.model_name!r} accepts at most "
                            f"{dep.max_input_tokens}",
                            n,
                        )
                    )
        elif not dep.text_in_image_embeddings:
            for i, item in enumerate(inputs):
                if item.get("text") is not None:
                    details.append(
                        _validate.detail(
                            "parameter_not_supported",
                            ("input", i, "text"),
                            f"The model {dep.model_name!r} does not support text with images",
                            item["text"],
                        )
                    )
        if details:
            raise invalid_input(details[:MAX_ERROR_DETAILS], "parameter_not_supported")
        if route == "embeddings":
            result = text_embeddings_body(dep, body, inputs, profile)
        else:
            result = image_embeddings_body(dep, body, inputs, profile)
        if profile.one_model:
            tokens = str(result["usage"]["prompt_tokens"])
            headers["num_tokens"] = headers["prompt_token_len"] = tokens
            if "model" not in body:
                headers["x-api-warning"] = (
                    "default model on embed will be deprecated in the future,"
                    "please specify a model in the request."
                )
        if s.rate_limit_rpm or s.rate_limit_tpm:
            self.rate_limit(dep, result["usage"]["total_tokens"], s, "Embeddings")
            headers.update(self.state.quota_headers(dep.name))
        return json_response(200, result, headers)


def _warn_model_mismatch(body: dict[str, Any], dep: Deployment, headers: dict[str, str]) -> None:
    """Under /openai/deployments/{name} the URL's deployment answers whatever the body's `model`
    says (as Azure OpenAI does); a `model` naming something else is most likely a mistake, so it
    is logged (WARNING) and reported in an `x-emulator-warning` header."""
    model = body.get("model")
    if not isinstance(model, str) or model.strip().lower() in (
        dep.name.lower(),
        dep.model_name.lower(),
    ):
        return
    text = (
        f"the body's model {model!r} is not the URL's deployment {dep.name!r}; "
        f"{dep.name!r} answers (under /openai/deployments/ the URL decides, as in Azure OpenAI)"
    )
    logger.warning("Request to /openai/deployments/%s: %s", dep.name, text)
    headers["x-emulator-warning"] = text.encode("ascii", "backslashreplace").decode("ascii")


# -------------------------------------------------------------------- responses
def json_response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    """A JSON answer."""
    return web.Response(
        status=status, body=dumps(body), headers={**headers, "Content-Type": "application/json"}
    )


def error_response(err: ApiError, headers: dict[str, str]) -> web.Response:
    """An error answer with `x-ms-error-code` mirroring `error.code`."""
    out = {**headers, "Content-Type": err.content_type, **err.headers}
    if err.code is not None:
        out["x-ms-error-code"] = err.code
    return web.Response(status=err.status, body=err.payload(), headers=out)


def fault_status_response(
    p: dict[str, Any], headers: dict[str, str], v1: bool = False
) -> web.Response:
    """The answer of a `status` fault (params: status, retry_after, retry_after_ms, code,
    message, body, headers, plain_text, shape "A".."E"; on v1 the default is the v1 envelope)."""
    status = int(p["status"])
    extra: dict[str, str] = {}
    if p.get("retry_after") is not None:
        extra["Retry-After"] = str(p["retry_after"])
    if p.get("retry_after_ms") is not None:
        extra["retry-after-ms"] = str(p["retry_after_ms"])
    elif v1 and status == 429 and p.get("retry_after") is not None:
        # Azure OpenAI sends both headers on a 429.
        extra["retry-after-ms"] = str(int(float(p["retry_after"]) * 1000))
    if status == 429:
        extra.update(RATE_LIMIT_FAULT_HEADERS)
    extra.update({str(k): str(v) for k, v in (p.get("headers") or {}).items()})
    if p.get("plain_text"):
        text = str(p.get("message") or "Internal Server Error")
        err = ApiError(status, text, code=None, headers=extra, content_type="text/plain")
    elif p.get("body") is not None:
        body = p["body"]
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        err = ApiError(status, body, code=code, headers=extra)
    else:
        err = service_error(status, p.get("code"), p.get("message"), headers=extra)
        shape = p.get("shape")
        if v1 and shape is None:
            err = _v1_fault_error(status, p.get("code"), p.get("message"), extra)
        elif shape not in (None, "A"):
            err = reshape(err, str(shape))
    return error_response(err, headers)


def _v1_fault_error(
    status: int, code: str | None, message: str | None, headers: dict[str, str]
) -> ApiError:
    """A `status` fault's answer on ``/openai/v1``."""
    if status == 429 and message is None:
        wait = headers.get("Retry-After")
        message = V1_GATEWAY_MESSAGES[429] + (
            f" Please retry after {wait} seconds." if wait is not None else ""
        )
    if status in (401, 403, 404, 429):
        return gateway_error(status, code, message, headers=headers)
    return openai_error(
        status,
        message,
        type="invalid_request_error" if status < 500 else None,
        code=code,
        headers=headers,
    )


DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)


def deployment_not_found() -> ApiError:
    """404 `DeploymentNotFound` (Azure OpenAI deployment URLs and ``/openai/v1``)."""
    err = service_error(404, "DeploymentNotFound", DEPLOYMENT_NOT_FOUND)
    err.v1 = gateway_error(404, "DeploymentNotFound", DEPLOYMENT_NOT_FOUND)
    return err


def _orphan_tool_message(messages: list[Any]) -> int | None:
    """The index of the first `tool` message that does not follow (through other tool messages)
    an assistant message with `tool_calls`, or None."""
    answered = False
    for i, msg in enumerate(messages):
        role = msg.get("role")
        if role == "tool":
            if not answered:
                return i
        else:
            answered = role == "assistant" and bool(msg.get("tool_calls"))
    return None


def reshape(err: ApiError, shape: str) -> ApiError:
    """Re-send an envelope-A error in another shape seen in the wild (spec §7.1):
    B flat with code, C APIM flat (no code), D FastAPI `detail` list, E old MaaS reference."""
    inner = err.body["error"]
    code, message = inner["code"], inner["message"]
    bodies: dict[str, tuple[Any, str | None]] = {
        "B": ({"status": err.status, "code": code, "message": message}, code),
        "C": ({"statusCode": err.status, "message": message}, None),
        "D": ({"detail": [{"type": code, "loc": ["body"], "msg": message, "input": None}]}, None),
        "E": ({"status": err.status, "error": code, "message": message, "code": code}, code),
    }
    if shape not in bodies:
        raise ValueError(f"unknown error shape {shape!r}; expected A, B, C, D or E")
    body, header_code = bodies[shape]
    return ApiError(err.status, body, code=header_code, headers=err.headers)


def raw_response(raw: RawReply, headers: dict[str, str]) -> web.Response:
    """The answer of a scripted raw reply."""
    out = dict(headers)
    has_type = any(k.lower() == "content-type" for k in raw.headers)
    if isinstance(raw.body, (dict, list)):
        payload = dumps(raw.body)
        if not has_type:
            out["Content-Type"] = "application/json"
        if raw.status >= 400 and isinstance(raw.body, dict):
            err = raw.body.get("error")
            if isinstance(err, dict) and isinstance(err.get("code"), str):
                out["x-ms-error-code"] = err["code"]
    else:
        payload = raw.body if isinstance(raw.body, bytes) else str(raw.body).encode()
        if not has_type:
            out["Content-Type"] = "text/plain"
    out.update(raw.headers)
    return web.Response(status=raw.status, body=payload, headers=out)


# -------------------------------------------------------------------- control routes
def _control_routes(
    app: web.Application, state: EmulatorState, catalogue: tuple[Deployment, ...]
) -> None:
    """The ``/_emulator/...`` routes (see `_control`): JSON answers, ``{"ok": true}`` for None."""
    control = _control.EmulatorControl(state, catalogue)

    def configure(data: dict[str, Any]) -> Any:
        control.configure(**data)
        return _control.settings_dict(state)

    # GET (and POST clear): the answer from the request alone.
    plain: dict[tuple[str, str], Callable[[web.Request], Any]] = {
        ("GET", "requests"): lambda request: {
            "requests": [r.to_dict() for r in control.requests_for(request.query.get("route"))]
        },
        ("POST", "clear"): lambda request: control.clear(),
        ("GET", "settings"): lambda request: _control.settings_dict(state),
        ("GET", "catalogue"): lambda request: {"deployments": [asdict(d) for d in catalogue]},
        ("GET", "unexpected_errors"): lambda request: {
            "unexpected_errors": control.unexpected_errors
        },
    }
    # POST with a JSON object of keyword arguments: TypeError and ValueError answer 400.
    with_body: dict[str, Callable[[dict[str, Any]], Any]] = {
        "configure": configure,
        "script_reply": lambda data: control.script_reply(data.pop("deployment", None), **data),
        "script_raw": lambda data: control.script_raw(**data),
        "faults": lambda data: control.inject_fault(**data),
    }

    def ok(data: Any) -> web.Response:
        return web.Response(
            body=dumps({"ok": True} if data is None else data), content_type="application/json"
        )

    def answer(fn: Callable[[web.Request], Any]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return ok(fn(request))

        return handle

    def answer_body(fn: Callable[[dict[str, Any]], Any]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                raw = await request.read()
                data = json.loads(raw) if raw else {}
                if not isinstance(data, dict):
                    raise ValueError("the control body must be a JSON object")
                result = fn(data)
            except (TypeError, ValueError) as exc:
                return web.Response(
                    status=400,
                    body=dumps({"error": {"code": "BadRequest", "message": str(exc)}}),
                    content_type="application/json",
                )
            return ok(result)

        return handle

    add = {"GET": app.router.add_get, "POST": app.router.add_post}
    for (method, name), fn in plain.items():
        add[method]("/_emulator/" + name, answer(fn))
    for name, body_fn in with_body.items():
        app.router.add_post("/_emulator/" + name, answer_body(body_fn))


def _report_bug(state: EmulatorState, request: web.Request, status: int, bug: str) -> None:
    """Log (ERROR, with the traceback) and keep an unexpected 5xx."""
    where = f"{request.method} {request.path}"
    logger.error("emulator error while serving %s (status %d)\n%s", where, status, bug)
    state.add_unexpected(f"{where} -> {status}\n{bug}")


def _catch_bugs(state: EmulatorState) -> Any:
    """A middleware: an exception escaping any handler (the control routes, say; the API
    handlers answer their own) is logged, kept as an unexpected error and answered 500."""

    @web.middleware
    async def catch(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            _report_bug(state, request, 500, traceback.format_exc())
            err = service_error(500, message=f"Emulator error: {type(exc).__name__}: {exc}")
            return error_response(err, {"apim-request-id": request_id()})

    return catch


async def _not_found(request: web.Request) -> web.Response:
    return error_response(service_error(404), {"apim-request-id": request_id()})


async def _v1_not_found(request: web.Request) -> web.Response:
    """Any other path under /openai/v1 (e.g. /info, /images/embeddings): 404."""
    return error_response(gateway_error(404), {"apim-request-id": request_id()})


def create_app(
    *,
    key: str,
    catalogue: tuple[Deployment, ...] | list[Deployment] | None = None,
    settings: Settings | None = None,
    state: EmulatorState | None = None,
) -> web.Application:
    """The emulator as an aiohttp application (serve it with `web.run_app` or an AppRunner).

    The state (recorded requests, scripts, faults, settings) is `app[STATE_KEY]`.
    """
    deployments = tuple(catalogue if catalogue is not None else DEFAULT_CATALOGUE)
    if state is None:
        state = EmulatorState(key, settings or Settings())
    # Body size is enforced by the handlers (413 with the service's envelope).
    app = web.Application(client_max_size=1 << 40, middlewares=[_catch_bugs(state)])
    app[STATE_KEY] = state
    app[CATALOGUE_KEY] = deployments
    api = EmulatorApp(state, deployments)
    for route, (suffix, _method) in ROUTE_PATHS.items():
        for prefix in PREFIXES:
            app.router.add_route("*", prefix + suffix, api.handler(route, "models"))
        app.router.add_route(
            "*", "/openai/deployments/{deployment}" + suffix, api.handler(route, "deployments")
        )
        app.router.add_route(
            "*", SERVERLESS_PREFIX + "/{deployment}" + suffix, api.handler(route, "serverless")
        )
    for route, (suffix, _method) in V1_ROUTE_PATHS.items():
        app.router.add_route("*", V1_PREFIX + suffix, api.handler(route, "v1"))
    app.router.add_route("*", V1_PREFIX + "/models/{model}", api.handler("models", "v1"))
    app.router.add_route("*", V1_PREFIX + "/{tail:.*}", _v1_not_found)
    _control_routes(app, state, deployments)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


if TYPE_CHECKING or hasattr(web, "RequestKey"):
    # Typed request storage (aiohttp >= 3.14 warns, NotAppKeyWarning, about plain string keys).
    _DEADLINE = web.RequestKey("azureinfer_emulator_deadline", float)
    _INJECTED = web.RequestKey("azureinfer_emulator_injected", bool)
else:  # aiohttp < 3.14: no RequestKey, and string keys do not warn there
    _DEADLINE = "azureinfer_emulator_deadline"
    _INJECTED = "azureinfer_emulator_injected"


async def _until_deadline(request: web.Request) -> None:
    """Wait until the request's `latency` deadline (set on arrival), if any is left."""
    deadline = request.get(_DEADLINE)
    if deadline is not None:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining > 0:
            await asyncio.sleep(remaining)
