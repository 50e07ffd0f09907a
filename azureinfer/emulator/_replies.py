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
    embed_texts,
    encode_embedding,
    prompt_tokens,
    stream_pieces,
)
from azureinfer.emulator._catalogue import Deployment
from azureinfer.emulator._errors import dumps
from azureinfer.emulator._state import EmulatorState, ScriptedReply

_SAFE = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}
PROMPT_FILTER_RESULTS = [{"prompt_index": 0, "content_filter_results": _SAFE}]
SYSTEM_FINGERPRINT = "fp_emulator"

_PREFIX = secrets.token_hex(4)
_SUFFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def new_id(kind: str) -> str:
    """A unique response id such as ``chatcmpl-1a2b3c4d00000001``."""
    return f"{kind}-{_PREFIX}{next(_COUNTER):016x}"


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
) -> dict[str, Any]:
    """The `usage` object: prompt + completion = total, plus details for OpenAI/reasoning models."""
    completion = reply.completion_tokens
    if not completion and (reply.content or reply.tool_calls):
        completion = count_tokens(reply.content or "")
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if dep.usage_profile == "openai" or dep.reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if override:
        usage.update(override)
        if "total_tokens" not in override:
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


def _message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.reasoning_content is not None:
        message["reasoning_content"] = reply.reasoning_content
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    if reply.audio is not None:
        message["audio"] = reply.audio
    return message


def completion_body(
    dep: Deployment, reply: Reply, usage: dict[str, Any], azure_openai: bool
) -> dict[str, Any]:
    """A non-streaming `chat.completion` body."""
    choice: dict[str, Any] = {
        "index": 0,
        "message": _message(reply),
        "finish_reason": reply.finish_reason,
        "logprobs": None,
    }
    body: dict[str, Any] = {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": dep.model_name,
        "choices": [choice],
        "usage": usage,
    }
    if azure_openai:
        choice["content_filter_results"] = reply.content_filter_results or _SAFE
        body["prompt_filter_results"] = PROMPT_FILTER_RESULTS
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
    azure_openai: bool,
    include_usage: bool | None,
) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` events of a stream (without the final ``[DONE]``).

    Role chunk, deltas, a final chunk carrying `finish_reason`; usage on that final chunk (MaaS
    profile) or in a separate ``choices: []`` chunk (OpenAI profile, Azure OpenAI deployment URLs,
    or ``stream_options.include_usage``). ``include_usage: false`` in the OpenAI profile omits it.
    """
    head = {
        "id": new_id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": dep.model_name,
    }
    if azure_openai:
        head["system_fingerprint"] = SYSTEM_FINGERPRINT

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {**head, "choices": [choice]}

    events: list[dict[str, Any]] = []
    if azure_openai:
        events.append(
            {
                "id": "",
                "object": "",
                "created": 0,
                "model": "",
                "choices": [],
                "prompt_filter_results": PROMPT_FILTER_RESULTS,
            }
        )
    events.append(chunk({"role": "assistant", "content": ""}))
    events.extend(chunk(delta) for delta in stream_pieces(reply, chunk_size))
    final = chunk({}, reply.finish_reason)
    if reply.content_filter_results is not None:
        final["choices"][0]["content_filter_results"] = reply.content_filter_results
    separate = dep.usage_profile == "openai" or azure_openai or include_usage is True
    events.append(final)
    if separate:
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


def text_embeddings_body(
    dep: Deployment, body: dict[str, Any], inputs: list[str]
) -> dict[str, Any]:
    """An `EmbeddingsResult` for text inputs."""
    dims = body.get("dimensions") or dep.dimensions
    fmt = body.get("encoding_format") or "float"
    input_type = body.get("input_type")
    data = [
        {"index": i, "object": "embedding", "embedding": encode_embedding(vec, fmt)}
        for i, vec in enumerate(embed_texts(inputs, dims, input_type))
    ]
    tokens = sum(count_tokens(t) for t in inputs)
    return {
        "id": new_id("embd"),
        "object": "list",
        "data": data,
        "model": dep.model_name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def image_embeddings_body(
    dep: Deployment, body: dict[str, Any], inputs: list[dict[str, Any]]
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
    return {
        "id": new_id("embd"),
        "object": "list",
        "data": data,
        "model": dep.model_name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def info_body(dep: Deployment, model_type: str | None) -> dict[str, Any]:
    """The `/info` body."""
    return {
        "model_name": dep.model_name,
        "model_type": model_type or dep.model_type,
        "model_provider_name": dep.provider,
    }
