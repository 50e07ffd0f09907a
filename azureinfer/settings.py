"""Connection settings: endpoint, route, credential, scopes, api-version, timeouts, headers.

``resolve_settings`` takes arguments first, then the environment (``AZURE_INFERENCE_ENDPOINT`` /
``AZURE_INFERENCE_CREDENTIAL``, falling back to ``AZURE_AI_INFERENCE_ENDPOINT`` /
``AZURE_AI_INFERENCE_CREDENTIAL``; ``AZURE_INFERENCE_ROUTE``) and returns a frozen
:class:`ConnectionSettings`. The route (:mod:`azureinfer._routes`) is resolved here, once. Nothing
here touches the network or imports azure.identity.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from azure.core.credentials import AzureKeyCredential

from azureinfer._retry import RETRY_CLIENT_KWARGS
from azureinfer._routes import (
    COGNITIVE_SERVICES_SCOPE,
    ML_SCOPE,
    ROUTE_CHOICES,
    ROUTE_ENV_VAR,
    Route,
    RouteName,
    detect_route,
    endpoint_for,
    get_route,
)
from azureinfer._version import __version__
from azureinfer.errors import ConfigurationError

__all__ = [
    "COGNITIVE_SERVICES_SCOPE",
    "DEFAULT_MAX_RETRIES",
    "ENDPOINT_ENV_VARS",
    "KEY_ENV_VARS",
    "LEGACY_CLIENT_KWARGS",
    "ML_SCOPE",
    "ROUTE_CHOICES",
    "ROUTE_ENV_VAR",
    "AzureInferenceWarning",
    "ConnectionSettings",
    "CredentialKind",
    "credential_kind",
    "default_scopes",
    "is_loopback",
    "lift_legacy_client_kwargs",
    "requested_route",
    "resolve_route",
    "resolve_settings",
]

ENDPOINT_ENV_VARS = ("AZURE_INFERENCE_ENDPOINT", "AZURE_AI_INFERENCE_ENDPOINT")
KEY_ENV_VARS = ("AZURE_INFERENCE_CREDENTIAL", "AZURE_AI_INFERENCE_CREDENTIAL")
DEFAULT_MAX_RETRIES = 3
USER_AGENT = f"azureinfer/{__version__}"

# Routes users paste by mistake at the end of the endpoint (longest first).
_ROUTE_SUFFIXES = ("/images/embeddings", "/chat/completions", "/embeddings", "/info")

# azure-core / SDK constructor keywords accepted in ``client_kwargs``.
_CLIENT_KWARGS = frozenset(
    {
        "connection_timeout",
        "read_timeout",
        "connection_verify",
        "connection_cert",
        "connection_data_block_size",
        "proxies",
        "transport",
        "session",
        "logging_enable",
        "logger",
        "logging_body",
        *RETRY_CLIENT_KWARGS,
        "policies",
        "per_call_policies",
        "per_retry_policies",
        "user_agent_overwrite",
        "user_agent_use_env",
        "raw_request_hook",
        "raw_response_hook",
        "tracing_attributes",
    }
)
# SDK keywords that have a dedicated argument. The deprecated integrations took them in
# ``client_kwargs`` (for example ``credential_scopes``, the documented fix for
# langchain-azure#57), so they are accepted there too and moved to their argument
# (:func:`lift_legacy_client_kwargs`); giving both with different values is an error.
LEGACY_CLIENT_KWARGS: Mapping[str, str] = MappingProxyType(
    {
        "api_version": "api_version",
        "credential_scopes": "credential_scopes",
        "headers": "headers",
        "user_agent": "user_agent",
        "retry_total": "max_retries",
    }
)
"""``client_kwargs`` key of the deprecated integrations -> the :func:`resolve_settings`
argument it sets."""
# Keywords that cannot be given in client_kwargs at all: say which argument to use.
_OWNED_KWARGS = {
    "retry_status": "max_retries",
    "timeout": "timeout",
    "endpoint": "endpoint",
    "credential": "credential",
}

CredentialKind = Literal["key", "token", "async_token", "default"]


class AzureInferenceWarning(UserWarning):
    """Warnings about settings azureinfer corrected for you."""


def credential_kind(credential: Any) -> CredentialKind:
    """Classify a credential: ``key``, ``token`` (sync), ``async_token`` or ``default`` (None)."""
    if credential is None:
        return "default"
    if isinstance(credential, AzureKeyCredential):
        return "key"
    get_token = getattr(credential, "get_token", None) or getattr(
        credential, "get_token_info", None
    )
    if get_token is None or not callable(get_token):
        raise ConfigurationError(
            f"Unsupported credential of type {type(credential).__name__}: pass an API key (str), "
            "an AzureKeyCredential, a TokenCredential or an AsyncTokenCredential."
        )
    return "async_token" if inspect.iscoroutinefunction(get_token) else "token"


def is_loopback(endpoint: str) -> bool:
    """True when the endpoint's host is 127.0.0.0/8, ::1 or localhost."""
    host = (urlsplit(endpoint).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_scopes(endpoint: str, route: str = "model_inference") -> tuple[str, ...]:
    """The Entra ID scope for an endpoint on a route.

    OpenAI/v1 route -> ``https://ai.azure.com/.default``. Model-inference route:
    ``*.inference.ml.azure.com`` (managed compute) -> ``https://ml.azure.com/.default``; every
    other host (``*.services.ai.azure.com``, ``*.openai.azure.com``,
    ``*.cognitiveservices.azure.com``, custom domains) -> ``https://cognitiveservices.azure.com/.default``.
    """
    return get_route(route).default_scopes(endpoint)


_SECRET_HEADERS = frozenset({"api-key", "authorization", "ocp-apim-subscription-key"})


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to build SDK clients. Frozen; the credential never appears in repr.

    ``credential`` is an ``AzureKeyCredential``, a sync or async token credential, or None
    (``DefaultAzureCredential`` is then created by the transport, of the client's own kind).
    """

    endpoint: str
    credential: Any = field(repr=False, compare=False)
    api_version: str | None = None
    route: RouteName = "model_inference"
    credential_scopes: tuple[str, ...] = ()
    timeout: float | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    user_agent: str = USER_AGENT
    client_kwargs: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )

    @property
    def credential_kind(self) -> CredentialKind:
        """``key``, ``token``, ``async_token`` or ``default``."""
        return credential_kind(self.credential)

    @property
    def routing(self) -> Route:
        """The :class:`~azureinfer._routes.Route` object of ``route``."""
        return get_route(self.route)

    @property
    def is_loopback(self) -> bool:
        """True when the endpoint is on this machine (plain http allowed for tokens)."""
        return is_loopback(self.endpoint)

    def __repr__(self) -> str:
        headers = {
            k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in self.headers.items()
        }
        return (
            f"ConnectionSettings(endpoint={self.endpoint!r}, route={self.route!r}, "
            f"credential=<{self.credential_kind}>, api_version={self.api_version!r}, "
            f"credential_scopes={self.credential_scopes!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, headers={headers!r}, "
            f"user_agent={self.user_agent!r}, client_kwargs={sorted(self.client_kwargs)!r})"
        )

    def __copy__(self) -> ConnectionSettings:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ConnectionSettings:
        # Immutable: copies share it, and so share the credential (and its token cache) and
        # any transport or policy objects in client_kwargs, which must not be duplicated.
        return self

    def __getstate__(self) -> dict[str, Any]:
        if self.credential_kind in ("token", "async_token"):
            import pickle

            try:
                pickle.dumps(self.credential)
            except Exception as exc:
                raise TypeError(
                    f"These settings hold a {type(self.credential).__name__} credential that "
                    f"cannot be pickled ({exc}). Pass credential=None to use "
                    "DefaultAzureCredential, which is created again after unpickling."
                ) from exc
        state = {f: getattr(self, f) for f in self.__dataclass_fields__}
        state["headers"] = dict(self.headers)
        state["client_kwargs"] = dict(self.client_kwargs)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, val in state.items():
            if key in ("headers", "client_kwargs"):
                val = MappingProxyType(dict(val))
            object.__setattr__(self, key, val)


def _env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value and value.strip():
            return value.strip()
    return None


def _normalise_endpoint(endpoint: str) -> tuple[str, str | None]:
    """Validate and clean an endpoint; return it and an api-version found in its query."""
    if not isinstance(endpoint, str):
        raise ConfigurationError(f"endpoint must be a string URL, got {type(endpoint).__name__}")
    raw = endpoint.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            "endpoint must be an http(s) URL such as 'https://<resource>.openai.azure.com/"
            f"openai/v1' or 'https://<resource>.services.ai.azure.com/models', got {raw!r}"
        )
    path = parts.path.rstrip("/")
    for suffix in _ROUTE_SUFFIXES:
        if path.lower().endswith(suffix):
            fixed_path = path[: -len(suffix)]
            fixed = urlunsplit((parts.scheme, parts.netloc, fixed_path, parts.query, ""))
            warnings.warn(
                f"The endpoint {_strip_query(raw)!r} ends with the route {suffix!r}; the client "
                f"adds routes itself. Using {_strip_query(fixed)!r}: pass that as `endpoint` "
                "to silence this warning.",
                AzureInferenceWarning,
                stacklevel=4,
            )
            path = fixed_path.rstrip("/")
            break
    query = parse_qsl(parts.query, keep_blank_values=True)
    api_version = None
    kept = []
    for key, val in query:
        if key.lower() == "api-version":
            api_version = val
        else:
            kept.append((key, val))
    cleaned = urlunsplit((parts.scheme, parts.netloc, path, urlencode(kept), ""))
    return cleaned, api_version


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _resolve_credential(credential: Any) -> Any:
    if credential is None:
        key = _env(KEY_ENV_VARS)
        return AzureKeyCredential(key) if key else None
    if hasattr(credential, "get_secret_value") and callable(credential.get_secret_value):
        credential = credential.get_secret_value()  # pydantic SecretStr
    if isinstance(credential, str):
        if not credential.strip():
            raise ConfigurationError(
                "credential is an empty string: pass an API key, a TokenCredential, or None "
                f"(then {KEY_ENV_VARS[0]} or DefaultAzureCredential is used)"
            )
        return AzureKeyCredential(credential.strip())
    credential_kind(credential)  # validates
    return credential


def _resolve_headers(headers: Mapping[str, str] | None) -> Mapping[str, str]:
    if headers is None:
        return MappingProxyType({})
    if not isinstance(headers, Mapping):
        raise ConfigurationError(f"headers must be a mapping of str to str, got {type(headers)}")
    out: dict[str, str] = {}
    for key, val in headers.items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise ConfigurationError(f"header {key!r} must map a str to a str, got {val!r:.40}")
        out[key] = val
    return MappingProxyType(out)


def _merge_arg(key: str, name: str, arg: Any, from_kwargs: Any) -> Any:
    if from_kwargs is None:
        return arg
    if name == "headers":
        if not isinstance(from_kwargs, Mapping):
            raise ConfigurationError(f"client_kwargs[{key!r}] must be a mapping")
        return {**from_kwargs, **(arg or {})}  # the argument's headers win
    if name == "credential_scopes":
        from_kwargs = [from_kwargs] if isinstance(from_kwargs, str) else from_kwargs
        if isinstance(from_kwargs, (list, tuple)):
            from_kwargs = list(from_kwargs)
            arg = [arg] if isinstance(arg, str) else arg
            arg = list(arg) if isinstance(arg, (list, tuple)) else arg
    if arg is not None and arg != from_kwargs:
        raise ConfigurationError(
            f"client_kwargs[{key!r}]={from_kwargs!r} conflicts with {name}={arg!r}: {name} was "
            "given twice with different values. Pass only the argument."
        )
    return from_kwargs


def lift_legacy_client_kwargs(
    client_kwargs: Mapping[str, Any] | None, arguments: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Move the :data:`LEGACY_CLIENT_KWARGS` keys of ``client_kwargs`` to their arguments.

    Args:
        client_kwargs: The caller's ``client_kwargs`` (never mutated).
        arguments: The current values of the :func:`resolve_settings` arguments that may
            receive a key (argument name -> value, None when not given). Keys whose argument is
            not named here stay in ``client_kwargs``.

    Returns:
        ``(other client_kwargs, {argument: value})``: a new dict without the moved keys (None
        when ``client_kwargs`` is None), and the new value of every argument a key moved to.
        ``headers`` merge (the argument's win); ``credential_scopes`` become a list.

    Raises:
        ConfigurationError: a key and its argument were both given with different values.
    """
    if client_kwargs is None or not isinstance(client_kwargs, Mapping):
        return client_kwargs, {}  # not a mapping: resolve_settings rejects it
    rest = dict(client_kwargs)
    moved: dict[str, Any] = {}
    for key, name in LEGACY_CLIENT_KWARGS.items():
        if key in rest and name in arguments:
            moved[name] = _merge_arg(key, name, arguments[name], rest.pop(key))
    return rest, moved


def _resolve_client_kwargs(client_kwargs: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if client_kwargs is None:
        return MappingProxyType({})
    if not isinstance(client_kwargs, Mapping):
        raise ConfigurationError("client_kwargs must be a mapping")
    for key in client_kwargs:
        if key in _OWNED_KWARGS:
            raise ConfigurationError(
                f"client_kwargs[{key!r}] is not accepted: use the `{_OWNED_KWARGS[key]}` argument."
            )
        if key not in _CLIENT_KWARGS and not key.endswith("_policy"):
            raise ConfigurationError(
                f"Unknown client_kwargs key {key!r}. Accepted: {', '.join(sorted(_CLIENT_KWARGS))} "
                "and azure-core '*_policy' objects."
            )
    return MappingProxyType(dict(client_kwargs))


def resolve_route(route: str | None, endpoint: str) -> tuple[RouteName, str]:
    """The route to use for ``endpoint`` and the endpoint to send to.

    ``route`` is ``"openai_v1"``, ``"model_inference"``, or ``"auto"`` / None: then
    ``AZURE_INFERENCE_ROUTE`` when set, else :func:`~azureinfer._routes.detect_route` (from the
    endpoint's shape; no network call).
    """
    if route is None or route == "auto":
        route = _env((ROUTE_ENV_VAR,)) or "auto"
        source = ROUTE_ENV_VAR
    else:
        source = "route"
    if not isinstance(route, str) or route not in ROUTE_CHOICES:
        raise ConfigurationError(
            f"{source} must be one of {', '.join(map(repr, ROUTE_CHOICES))}; got {route!r}"
        )
    if route == "auto":
        return detect_route(endpoint)
    name: RouteName = "openai_v1" if route == "openai_v1" else "model_inference"
    return name, endpoint_for(name, endpoint)


def requested_route(route: str | None, detected: str | None) -> str | None:
    """The ``route`` to resolve for an adapter object again: ``"auto"`` when ``route`` is only
    the value an earlier detection recorded (``detected``), so that a copy with another
    endpoint detects its own route; else ``route`` as given."""
    return "auto" if detected is not None and route == detected else route


def resolve_settings(
    endpoint: str | None = None,
    credential: Any = None,
    *,
    route: str | None = None,
    api_version: str | None = None,
    credential_scopes: Any = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> ConnectionSettings:
    """Resolve connection settings from arguments, then the environment.

    ``route`` (``"auto"``, ``"openai_v1"``, ``"model_inference"``; see :func:`resolve_route`)
    is resolved here: ``ConnectionSettings.route`` is never ``"auto"``.

    Raises:
        ConfigurationError (a ``ValueError``): no endpoint, a malformed one, an unsupported
        credential, an api-version the route does not take, or a bad option. An endpoint
        ending in a path (``/chat/completions``, ``/embeddings``, ``/images/embeddings``,
        ``/info``) is corrected with an :class:`AzureInferenceWarning`.
    """
    client_kwargs, moved = lift_legacy_client_kwargs(
        client_kwargs,
        {
            "api_version": api_version,
            "credential_scopes": credential_scopes,
            "headers": headers,
            "user_agent": user_agent,
            "max_retries": max_retries,
        },
    )
    api_version = moved.get("api_version", api_version)
    credential_scopes = moved.get("credential_scopes", credential_scopes)
    headers = moved.get("headers", headers)
    user_agent = moved.get("user_agent", user_agent)
    max_retries = moved.get("max_retries", max_retries)
    if endpoint is None or (isinstance(endpoint, str) and not endpoint.strip()):
        endpoint = _env(ENDPOINT_ENV_VARS)
    if not endpoint:
        raise ConfigurationError(
            "No endpoint: pass `endpoint=` (for example "
            "'https://<resource>.openai.azure.com/openai/v1') or set the environment variable "
            f"{ENDPOINT_ENV_VARS[0]} (or {ENDPOINT_ENV_VARS[1]})."
        )
    clean_endpoint, query_version = _normalise_endpoint(endpoint)
    if api_version is None:
        api_version = query_version
    elif query_version is not None and query_version != api_version:
        raise ConfigurationError(
            f"api_version={api_version!r} conflicts with api-version={query_version!r} in the "
            "endpoint URL; pass only one."
        )
    if api_version is not None and (not isinstance(api_version, str) or not api_version.strip()):
        raise ConfigurationError(f"api_version must be a non-empty string, got {api_version!r}")
    api_version = api_version.strip() if api_version else None
    route_name, clean_endpoint = resolve_route(route, clean_endpoint)
    get_route(route_name).check_api_version(api_version)

    cred = _resolve_credential(credential)

    if credential_scopes is None:
        scopes = default_scopes(clean_endpoint, route_name)
    elif isinstance(credential_scopes, str):
        scopes = (credential_scopes,)
    else:
        scopes = tuple(credential_scopes)
        if not scopes or not all(isinstance(s, str) and s for s in scopes):
            raise ConfigurationError(
                f"credential_scopes must be a non-empty list of strings, got {credential_scopes!r}"
            )

    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError(
                f"timeout must be a positive number of seconds, got {timeout!r}"
            )
        timeout = float(timeout)
    if max_retries is None:
        max_retries = DEFAULT_MAX_RETRIES
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0, got {max_retries!r}")

    if user_agent is not None and not isinstance(user_agent, str):
        raise ConfigurationError(f"user_agent must be a string, got {type(user_agent).__name__}")
    agent = (
        f"{user_agent.strip()} {USER_AGENT}" if user_agent and user_agent.strip() else USER_AGENT
    )

    return ConnectionSettings(
        endpoint=clean_endpoint,
        credential=cred,
        api_version=api_version,
        route=route_name,
        credential_scopes=scopes,
        timeout=timeout,
        max_retries=max_retries,
        headers=_resolve_headers(headers),
        user_agent=agent,
        client_kwargs=_resolve_client_kwargs(client_kwargs),
    )
