"""Wire bodies of successful answers: chat completions, stream events, embeddings, /info."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from azureinfer.emulator._behaviour import (
    IMAGE_TOKENS,
    Reply,
    count_tokens,
    embed_image,
    embed_text,
    encode_embedding,
    prompt_tokens,
    stream_pieces,
)
from azureinfer.emulator._catalogue import Deployment
from azureinfer.emulator._errors import dumps
from azureinfer.emulator._profiles import Profile
from azureinfer.emulator._state import EmulatorState, ScriptedReply

_SAFE = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}
SYSTEM_FINGERPRINT = "fp_emulator"
# Azure OpenAI's full annotation sets (recorded traffic: `aoai_chat`).
_NOT_DETECTED = {"filtered": False, "detected": False}
CHOICE_FILTER_RESULTS = {
    "hate": _SAFE["hate"],
    "protected_material_code": _NOT_DETECTED,
    "protected_material_text": _NOT_DETECTED,
    "self_harm": _SAFE["self_harm"],
    "sexual": _SAFE["sexual"],
    "violence": _SAFE["violence"],
}
FULL_PROMPT_FILTER_RESULTS = [
    {"prompt_index": 0, "content_filter_results": {**_SAFE, "jailbreak": _NOT_DETECTED}}
]
MODELS_CREATED = 1735689600  # 2025-01-01: a fixed `created` for the v1 models list

_PREFIX = secrets.token_hex(4)
_SUFFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def new_id(kind: str) -> str:
    """A unique response id such as ``chatcmpl-1a2b3c4d00000001``."""
    return f"{kind}-{_PREFIX}{next(_COUNTER):016x}"


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALNUM_PREFIX = "".join(secrets.choice(_ALNUM) for _ in range(17))


def _alnum(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = _ALNUM[r] + out
    return out.rjust(width, "0")


def completion_id(profile: Profile) -> str:
    """A unique completion id in the profile's shape: 32 hex digits (MaaS), ``chatcmpl-`` and
    29 alphanumerics (Azure OpenAI), or ``chatcmpl-`` and 24 hex digits (Foundry)."""
    n = next(_COUNTER)
    if profile.completion_id == "hex32":
        return f"{_PREFIX}{_SUFFIX}{n:016x}"
    if profile.completion_id == "chatcmpl29":
        return f"chatcmpl-{_ALNUM_PREFIX}{_alnum(n, 12)}"
    return f"chatcmpl-{_PREFIX}{n:016x}"


def request_id() -> str:
    """A unique UUID-shaped server request id (cheaper than uuid4 on the hot path)."""
    n = next(_COUNTER)
    return f"{_PREFIX}-{_SUFFIX[:4]}-4{_SUFFIX[4:7]}-8000-{n:012x}"


def scripted(script: ScriptedReply) -> Reply:
    """Turn a queued scripted reply into a `Reply`."""
    finish = script.finish_reason or ("tool_calls" if script.tool_calls else "stop")
    tokens = count_tokens(script.content or "") + sum(
        count_tokens(c["function"]["name"]) + count_tokens(c["function"]["arguments"])
        for c in script.tool_calls
    )
    reasoning_tokens = count_tokens(script.reasoning_content or "")
    return Reply(
        content=script.content,
        reasoning_content=script.reasoning_content,
        tool_calls=list(script.tool_calls),
        finish_reason=finish,
        completion_tokens=tokens + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
    )


def cached_tokens(state: EmulatorState, dep: Deployment, messages: list[Any]) -> int:
    """Simulated prompt cache: tokens of the longest message prefix seen before (this session).

    Every prefix of every request is remembered; a later request whose first k messages equal an
    earlier request's first k messages (k < its length) reports their tokens as cached.
    """
    if len(messages) < 2:
        return 0
    seen = state.seen_prefixes
    if len(seen) > 200_000:
        seen.clear()
    running = hash(dep.name)
    total = 0
    cached = 0
    for i, msg in enumerate(messages):
        running = hash((running, dumps(msg)))
        total += prompt_tokens({"messages": [msg]})
        if i < len(messages) - 1 and running in seen:
            cached = seen[running]
        seen[running] = total
    return cached


def usage_of(
    dep: Deployment,
    reply: Reply,
    prompt: int,
    cached: int,
    override: dict[str, Any] | None,
    *,
    full: bool = False,
) -> dict[str, Any]:
    """The `usage` object: prompt + completion = total, plus details for OpenAI/reasoning models
    (`full`: Azure OpenAI's complete detail sets)."""
    completion = reply.completion_tokens
    if not completion and (reply.content or reply.tool_calls):
        completion = count_tokens(reply.content or "")
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if full:
        usage["completion_tokens_details"] = {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": reply.reasoning_tokens,
            "rejected_prediction_tokens": 0,
        }
        usage["prompt_tokens_details"] = {"audio_tokens": 0, "cached_tokens": cached}
    elif dep.usage_profile == "openai" or dep.reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if override:
        usage.update(override)
        if "total_tokens" not in override:
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


def _tool_calls(reply: Reply, profile: Profile) -> list[dict[str, Any]]:
    if not profile.function_call_id:
        return reply.tool_calls
    return [
        {**call, "function": {**call.get("function", {}), "call_id": None}}
        for call in reply.tool_calls
    ]


def _message(reply: Reply, profile: Profile) -> dict[str, Any]:
    content = reply.content
    if content is None and reply.tool_calls and profile.tool_call_content == "empty":
        content = ""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if profile.filter_annotations:
        message["refusal"] = None
    if reply.reasoning_content is not None:
        message["reasoning_content"] = reply.reasoning_content
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply, profile)
    if reply.audio is not None:
        message["audio"] = reply.audio
    return message


def completion_body(
    dep: Deployment, reply: Reply, usage: dict[str, Any], profile: Profile
) -> dict[str, Any]:
    """A non-streaming `chat.completion` body in `profile`'s shape."""
    choice: dict[str, Any] = {
        "index": 0,
        "message": _message(reply, profile),
        "finish_reason": reply.finish_reason,
    }
    if profile.completion_logprobs:
        choice["logprobs"] = None
    body: dict[str, Any] = {
        "id": completion_id(profile),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": dep.model_name,
        "choices": [choice],
        "usage": usage,
    }
    if profile.filter_annotations:
        choice["content_filter_results"] = reply.content_filter_results or CHOICE_FILTER_RESULTS
        body["prompt_filter_results"] = FULL_PROMPT_FILTER_RESULTS
        body["system_fingerprint"] = SYSTEM_FINGERPRINT
    elif reply.content_filter_results is not None:
        choice["content_filter_results"] = reply.content_filter_results
    return body


def stream_events(
    dep: Deployment,
    reply: Reply,
    usage: dict[str, Any],
    chunk_size: int,
    *,
    profile: Profile,
    include_usage: bool | None,
) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` events of a stream (without the final ``[DONE]``), framed
    as `profile` says: a first ``choices: []`` chunk with `prompt_filter_results` (Azure
    OpenAI), a role chunk, reasoning / content / tool-call deltas (OpenAI-style fragments, or
    whole calls on the finish chunk for MaaS), the chunk carrying `finish_reason`, and usage
    on that chunk or in a separate ``choices: []`` chunk.
    """
    head: dict[str, Any] = {
        "id": completion_id(profile),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": dep.model_name,
    }
    filters = profile.filter_annotations
    if filters:
        head["system_fingerprint"] = SYSTEM_FINGERPRINT

    def chunk(
        delta: dict[str, Any], finish: str | None = None, results: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        if filters:
            choice["content_filter_results"] = {} if results is None else results
        return {**head, "choices": [choice]}

    events: list[dict[str, Any]] = []
    if profile.stream_filter_first:
        events.append(
            {
                "id": "",
                "object": "",
                "created": 0,
                "model": "",
                "choices": [],
                "prompt_filter_results": FULL_PROMPT_FILTER_RESULTS,
            }
        )
    role: dict[str, Any] = {"role": "assistant", "content": ""}
    if filters:
        role["refusal"] = None
    events.append(chunk(role))
    pieces = stream_pieces(reply, chunk_size)
    final_delta: dict[str, Any] = {"content": ""} if profile.finish_delta_content else {}
    if profile.whole_tool_calls:
        pieces = [p for p in pieces if "tool_calls" not in p]
        if reply.tool_calls:
            final_delta = {
                "tool_calls": [
                    {"function": dict(call.get("function", {})), "id": call.get("id")}
                    for call in reply.tool_calls
                ]
            }
    events.extend(chunk(p, None, _SAFE if "content" in p else None) for p in pieces)
    final = chunk(final_delta, reply.finish_reason)
    if reply.content_filter_results is not None:
        final["choices"][0]["content_filter_results"] = reply.content_filter_results
    events.append(final)
    if profile.stream_usage == "finish_chunk":
        final["usage"] = usage
    elif profile.stream_usage == "when_asked":
        if include_usage is True:
            events.append({**head, "choices": [], "usage": usage})
    elif dep.usage_profile == "openai" or include_usage is True:
        if include_usage is not False:
            events.append({**head, "choices": [], "usage": usage})
    else:
        final["usage"] = usage
    return events


def sse(
    events: list[dict[str, Any]], *, crlf: bool = False, keepalive: bool = False
) -> list[bytes]:
    """Frame events as ``data: <json>\\n\\n`` (the only framing the SDK parses)."""
    end = b"\r\n\r\n" if crlf else b"\n\n"
    frames = [b"data: " + dumps(ev) + end for ev in events]
    if keepalive:
        frames.insert(0, b": keep-alive" + end)
    return frames


def done_frame(crlf: bool = False) -> bytes:
    """The stream terminator."""
    return b"data: [DONE]\r\n\r\n" if crlf else b"data: [DONE]\n\n"


def _embeddings_result(
    dep: Deployment, profile: Profile, data: list[dict[str, Any]], tokens: int
) -> dict[str, Any]:
    """The envelope of an embeddings answer: id, model name and usage per profile."""
    out: dict[str, Any] = {}
    if profile.embeddings_id == "uuid":
        out["id"] = request_id()
    elif profile.embeddings_id == "embd":
        out["id"] = new_id("embd")
    out["object"] = "list"
    out["data"] = data
    served = profile.embeddings_served_name and dep.served_model_name
    out["model"] = served or dep.model_name
    usage: dict[str, Any] = {"prompt_tokens": tokens, "total_tokens": tokens}
    if profile.embeddings_served_name:
        usage = {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}
    out["usage"] = usage
    return out


def text_embeddings_body(
    dep: Deployment, body: dict[str, Any], inputs: list[str], profile: Profile
) -> dict[str, Any]:
    """An `EmbeddingsResult` for text inputs."""
    dims = body.get("dimensions") or dep.dimensions
    fmt = body.get("encoding_format") or "float"
    input_type = body.get("input_type")
    data = [
        {
            "index": i,
            "object": "embedding",
            "embedding": encode_embedding(embed_text(text, dims, input_type), fmt),
        }
        for i, text in enumerate(inputs)
    ]
    tokens = sum(count_tokens(t) for t in inputs)
    return _embeddings_result(dep, profile, data, tokens)


def image_embeddings_body(
    dep: Deployment, body: dict[str, Any], inputs: list[dict[str, Any]], profile: Profile
) -> dict[str, Any]:
    """An `EmbeddingsResult` for image inputs (each image counts `IMAGE_TOKENS` tokens)."""
    dims = body.get("dimensions") or dep.dimensions
    fmt = body.get("encoding_format") or "float"
    data = [
        {
            "index": i,
            "object": "embedding",
            "embedding": encode_embedding(embed_image(item["image"], item.get("text"), dims), fmt),
        }
        for i, item in enumerate(inputs)
    ]
    tokens = sum(IMAGE_TOKENS + count_tokens(item.get("text") or "") for item in inputs)
    return _embeddings_result(dep, profile, data, tokens)


def info_body(dep: Deployment, model_type: str | None, profile: Profile) -> dict[str, Any]:
    """The `/info` body (serverless profiles add the served model's name and type)."""
    kind = model_type or dep.model_type
    if profile.info_served and kind == "embeddings":
        kind = "embedding"
    out = {"model_name": dep.model_name, "model_type": kind, "model_provider_name": dep.provider}
    if profile.info_served:
        out["served_model_name"] = dep.served_model_name or dep.model_name
        out["served_model_type"] = kind
    return out


def models_body(deployments: Any) -> dict[str, Any]:
    """``GET /openai/v1/models``: one OpenAI `model` object per deployment (id = its name)."""
    return {
        "object": "list",
        "data": [
            {"id": d.name, "object": "model", "created": MODELS_CREATED, "owned_by": d.provider}
            for d in deployments
        ],
    }
