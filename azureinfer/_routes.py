"""The two routes an Azure endpoint may speak, and every decision that differs between them.

A :class:`Route` decides the URL path of each operation, the query (``api-version``), the
default Entra ID scope, how an API key travels, which headers and body keys go on the wire,
what a request must carry, and how an error answer reads. The transport asks the route; nothing
above it branches on the route, except where a feature does not exist on one (then the route
raises a clear error, it never fakes the feature).

- :data:`OPENAI_V1`: the Foundry OpenAI/v1 route, ``https://<resource>.openai.azure.com/openai/v1``
  or ``https://<resource>.services.ai.azure.com/openai/v1``: no api-version (only ``v1`` or
  ``preview`` when asked for), ``model`` on every request, the key in ``api-key``, Entra ID
  tokens for ``https://ai.azure.com/.default``, no ``extra-parameters`` header (extras travel
  in the body), ``GET /models`` instead of ``/info``, no image embeddings.
- :data:`MODEL_INFERENCE`: the Azure AI Model Inference route (``.../models``, serverless and
  managed-compute hosts, GitHub Models, ``/openai/deployments/<name>``), api-version
  ``2024-05-01-preview`` by default.

:func:`detect_route` chooses one from the endpoint alone (no network call).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from azureinfer.errors import ConfigurationError

__all__ = [
    "AI_SCOPE",
    "MODEL_INFERENCE",
    "MODEL_INFERENCE_API_VERSION",
    "OPENAI_V1",
    "ROUTES",
    "ROUTE_CHOICES",
    "ROUTE_ENV_VAR",
    "Operation",
    "Route",
    "RouteName",
    "detect_route",
    "get_route",
]

RouteName = Literal["openai_v1", "model_inference"]
Operation = Literal["chat", "embeddings", "images/embeddings", "info"]

ROUTE_CHOICES = ("auto", "openai_v1", "model_inference")
ROUTE_ENV_VAR = "AZURE_INFERENCE_ROUTE"
AI_SCOPE = "https://ai.azure.com/.default"
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
ML_SCOPE = "https://ml.azure.com/.default"
MODEL_INFERENCE_API_VERSION = "2024-05-01-preview"
V1_API_VERSIONS = ("v1", "preview")
V1_SUFFIX = "/openai/v1"

_log = logging.getLogger("azureinfer.settings")

# Hosts where a bare ``https://<host>`` means the OpenAI/v1 route.
_V1_HOSTS = (".services.ai.azure.com", ".openai.azure.com")
_DEPLOYMENT_PATH = re.compile(r"/openai/deployments/[^/]+$", re.I)
_UNRECOGNIZED = re.compile(r"Unrecognized request argument supplied: ([\w.\-]+)")
# The body keys the OpenAI chat-completions and embeddings APIs define: on OpenAI/v1 anything
# else (a model's own extras, Cohere's input_type) is what extra_parameters="drop" may drop.
# fmt: off
_OPENAI_CHAT_KEYS = frozenset({
    "messages", "model", "audio", "data_sources", "frequency_penalty", "function_call",
    "functions", "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "metadata",
    "modalities", "n", "parallel_tool_calls", "prediction", "presence_penalty",
    "prompt_cache_key", "reasoning_effort", "response_format", "safety_identifier", "seed",
    "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice",
    "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
# fmt: on
_OPENAI_KEYS: Mapping[str, frozenset[str]] = {
    "chat": _OPENAI_CHAT_KEYS,
    "embeddings": frozenset({"input", "model", "dimensions", "encoding_format", "user"}),
}


class Route:
    """What one route puts on the wire. Instances are module constants (:data:`ROUTES`)."""

    name: RouteName
    label: str
    endpoint_shape: str
    dropped_default_log_level: int = logging.INFO
    """Log level when a droppable default (an embeddings ``input_type`` the user did not
    choose) is refused by the model and dropped."""

    # -- URL -------------------------------------------------------------------------------
    def path(self, operation: Operation) -> str:
        """The path of ``operation`` relative to the endpoint (no leading slash)."""
        return "chat/completions" if operation == "chat" else operation

    def api_version(self, given: str | None) -> str | None:
        """The ``api-version`` query value sent (None: no query)."""
        raise NotImplementedError

    def check_api_version(self, given: str | None) -> None:
        """Raise :class:`ConfigurationError` for an api-version this route does not take."""

    def query(self, given: str | None) -> dict[str, str]:
        """The query parameters of every request."""
        version = self.api_version(given)
        return {"api-version": version} if version else {}

    # -- auth -----------------------------------------------------------------------------
    def default_scopes(self, endpoint: str) -> tuple[str, ...]:
        """The Entra ID scopes used when ``credential_scopes`` is not given."""
        raise NotImplementedError

    def key_policy(self, credential: Any, *, is_async: bool) -> Any:
        """The azure-core policy carrying an API key, or None for the SDK's own."""
        return None

    # -- body and headers -------------------------------------------------------------------
    model_required: bool = False
    """Whether chat and embeddings requests must name ``model``."""
    sends_policy_header: bool = True
    """Whether the ``extra-parameters`` header goes on the wire."""
    stream_usage_always: bool = False
    """Whether a stream that wants usage asks for it whatever the extra-parameters policy
    (``stream_options`` is a first-class parameter of the route)."""

    def wire(
        self,
        operation: Operation,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        stream_usage: bool = False,
        policy: str = "pass-through",
    ) -> tuple[dict[str, Any], dict[str, str], str]:
        """The body and headers sent for a built request, and its extra-parameters policy
        (the ``extra-parameters`` header's, else ``policy``).

        ``stream_usage``: the caller wants usage in a stream (``WireRequest.stream_usage``).
        Raises :class:`ConfigurationError` when the request lacks what the route needs.
        """
        if self.model_required and operation in ("chat", "embeddings") and not body.get("model"):
            raise ConfigurationError(
                f"The {self.label} route (route={self.name!r}) needs `model` on every request: "
                "pass model='<deployment name>'."
            )
        without_header, header = _split_policy(headers)
        out = dict(body)
        wants_usage = self.stream_usage_always and stream_usage and out.get("stream") is True
        if wants_usage and "stream_options" not in out:
            out["stream_options"] = {"include_usage": True}
        out_headers = dict(headers) if self.sends_policy_header else without_header
        return out, out_headers, header or policy

    def refused_parameter(self, error: BaseException) -> str | None:
        """The body key a 400 says this route's service does not take, if it names one."""
        return None

    def droppable(self, operation: Operation, key: str) -> bool:
        """Whether ``extra_parameters="drop"`` lets the client drop ``key`` when refused (on
        the model-inference route the service drops extras itself)."""
        return False

    # -- model info -------------------------------------------------------------------------
    def check_model_info(self, model: str | None) -> None:
        """Raise :class:`ConfigurationError` when model info cannot be asked for ``model``."""

    def read_model_info(
        self, data: Mapping[str, Any], model: str | None, endpoint: str
    ) -> dict[str, Any]:
        """The model info in the answer of the ``info`` operation."""
        return dict(data)

    # -- errors ---------------------------------------------------------------------------
    def not_found_hint(self, model: str | None, endpoint: str) -> str | None:
        """The sentence added to a 404 (None: the errors module's default)."""
        return None

    def unsupported_hint(self, param: str | None) -> str | None:
        """The sentence added to an UnsupportedParameterError (None: nothing)."""
        return None

    def __repr__(self) -> str:
        return f"<route {self.name}>"

    def __reduce__(self) -> Any:
        return (get_route, (self.name,))


def _split_policy(headers: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    out: dict[str, str] = {}
    policy = None
    for key, val in headers.items():
        if key.lower() == "extra-parameters":
            policy = val
        else:
            out[key] = val
    return out, policy


class _ModelInference(Route):
    name: RouteName = "model_inference"
    label = "Azure AI Model Inference"
    endpoint_shape = "https://<resource>.services.ai.azure.com/models (or a serverless endpoint)"

    def api_version(self, given: str | None) -> str | None:
        return given or MODEL_INFERENCE_API_VERSION

    def default_scopes(self, endpoint: str) -> tuple[str, ...]:
        host = (urlsplit(endpoint).hostname or "").lower()
        if host.endswith(".ml.azure.com"):
            return (ML_SCOPE,)
        return (COGNITIVE_SERVICES_SCOPE,)


class _OpenAIV1(Route):
    name: RouteName = "openai_v1"
    label = "OpenAI/v1"
    endpoint_shape = "https://<resource>.openai.azure.com/openai/v1"
    # Undocumented there which deployments take input_type: say so when one refuses it.
    dropped_default_log_level = logging.WARNING
    model_required = True
    sends_policy_header = False  # extras travel in the body
    stream_usage_always = True

    def path(self, operation: Operation) -> str:
        if operation == "info":
            return "models"
        if operation == "images/embeddings":
            raise ConfigurationError(
                "Image embeddings do not exist on the OpenAI/v1 route (route='openai_v1'): they "
                "are served by the Azure AI Model Inference route, an endpoint of the shape "
                "https://<resource>.services.ai.azure.com/models or a serverless endpoint "
                "(https://<name>.<region>.models.ai.azure.com). Use such an endpoint for images."
            )
        return super().path(operation)

    def api_version(self, given: str | None) -> str | None:
        self.check_api_version(given)
        return given

    def check_api_version(self, given: str | None) -> None:
        if given is not None and given not in V1_API_VERSIONS:
            raise ConfigurationError(
                f"api_version={given!r} is a dated version, which the OpenAI/v1 route "
                "(route='openai_v1') does not take: leave api_version unset (or pass 'v1' / "
                "'preview'), or use the model-inference route (route='model_inference' with a "
                "https://<resource>.services.ai.azure.com/models endpoint)."
            )

    def default_scopes(self, endpoint: str) -> tuple[str, ...]:
        return (AI_SCOPE,)

    def key_policy(self, credential: Any, *, is_async: bool) -> Any:
        from azure.core.pipeline.policies import AzureKeyCredentialPolicy

        # One header, the one the route documents (the SDK would also send the key as a
        # bearer token).
        return AzureKeyCredentialPolicy(credential, "api-key")

    def refused_parameter(self, error: BaseException) -> str | None:
        from azureinfer.errors import UnsupportedParameterError

        if not isinstance(error, UnsupportedParameterError):
            return None
        match = _UNRECOGNIZED.search(getattr(error, "message", "") or str(error))
        return match.group(1) if match else None

    def check_model_info(self, model: str | None) -> None:
        if not model:
            raise ConfigurationError(
                "get_model_info on the OpenAI/v1 route (route='openai_v1') reads the "
                "deployment's entry in GET /models, so it needs `model`: pass "
                "model='<deployment name>'."
            )

    def read_model_info(
        self, data: Mapping[str, Any], model: str | None, endpoint: str
    ) -> dict[str, Any]:
        from azureinfer.errors import ModelNotFoundError

        entries = data.get("data")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and entry.get("id") == model:
                return dict(entry)
        raise ModelNotFoundError(
            f"The deployment {model!r} is not in the model list of {endpoint}/models (route "
            "'openai_v1'): check the deployment name. The OpenAI/v1 route has no /info; "
            "get_model_info returns the deployment's entry of that list.",
            code="DeploymentNotFound",
            status_code=404,
        )

    def droppable(self, operation: Operation, key: str) -> bool:
        known = _OPENAI_KEYS.get(operation)
        return known is not None and key not in known

    def not_found_hint(self, model: str | None, endpoint: str) -> str | None:
        name = f"{model!r}" if model else "the deployment"
        return (
            f"On the OpenAI/v1 route (route='openai_v1', {endpoint}) {name} is not a "
            "deployment of this resource: check `model`."
        )

    def unsupported_hint(self, param: str | None) -> str | None:
        if param is None:
            return None
        return (
            f"The deployment does not take {param!r} on the OpenAI/v1 route: remove it, or pass "
            'extra_parameters="drop" to drop parameters the deployment refuses.'
        )


MODEL_INFERENCE: Route = _ModelInference()
OPENAI_V1: Route = _OpenAIV1()
ROUTES: Mapping[str, Route] = {r.name: r for r in (OPENAI_V1, MODEL_INFERENCE)}


def get_route(name: str) -> Route:
    """The route called ``name`` (``openai_v1`` or ``model_inference``)."""
    try:
        return ROUTES[name]
    except KeyError:
        raise ConfigurationError(
            f"route must be one of {', '.join(ROUTE_CHOICES)}; got {name!r}"
        ) from None


def detect_route(endpoint: str) -> tuple[RouteName, str]:
    """The route an endpoint speaks, from its shape alone, and the endpoint to use.

    A path ending in ``/openai/v1`` is the OpenAI/v1 route; a bare
    ``https://<resource>.services.ai.azure.com`` or ``.openai.azure.com`` host too (the endpoint
    becomes ``<host>/openai/v1``, logged at INFO). Everything else (``/models``,
    ``/openai/deployments/<name>``, serverless and managed-compute hosts, GitHub Models, other
    hosts) is the model-inference route.
    """
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    host = (parts.hostname or "").lower()
    if path.lower().endswith(V1_SUFFIX):
        return "openai_v1", endpoint
    if not path and host.endswith(_V1_HOSTS):
        base = urlunsplit((parts.scheme, parts.netloc, V1_SUFFIX, parts.query, ""))
        _log.info(
            "The endpoint %s has no path: using the OpenAI/v1 route at %s (pass "
            "route='model_inference' with a '/models' endpoint for the other route).",
            urlunsplit((parts.scheme, parts.netloc, "", "", "")),
            urlunsplit((parts.scheme, parts.netloc, V1_SUFFIX, "", "")),
        )
        return "openai_v1", base
    return "model_inference", endpoint


def endpoint_for(route: RouteName, endpoint: str) -> str:
    """``endpoint`` checked against an explicitly named route (a bare host gets its path).

    Raises :class:`ConfigurationError` for an endpoint of the other route's shape.
    """
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    is_v1_path = path.lower().endswith(V1_SUFFIX)
    if route == "openai_v1":
        if is_v1_path:
            return endpoint
        if not path:
            return urlunsplit((parts.scheme, parts.netloc, V1_SUFFIX, parts.query, ""))
        if path.lower().endswith("/models") or _DEPLOYMENT_PATH.search(path):
            raise ConfigurationError(
                f"route='openai_v1' but the endpoint {_no_query(endpoint)!r} has the shape of "
                "the model-inference route: use the resource's OpenAI/v1 endpoint "
                "(https://<resource>.openai.azure.com/openai/v1) or route='model_inference'."
            )
        return endpoint  # a gateway or proxy with its own path: taken as the v1 base
    if is_v1_path:
        raise ConfigurationError(
            f"route='model_inference' but the endpoint {_no_query(endpoint)!r} is an OpenAI/v1 "
            "endpoint: pass route='openai_v1' (or 'auto'), or a model-inference endpoint "
            "(https://<resource>.services.ai.azure.com/models)."
        )
    return endpoint


def _no_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
