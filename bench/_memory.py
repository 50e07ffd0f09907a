"""Child process of the memory scenario: embed N texts with one client, report peak RSS as JSON.

``python -m bench._memory KIND ENDPOINT KEY N``; KIND is one of :data:`BUILDERS`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

#: A deployment that accepts ``dimensions`` and ``input_type`` (langchain-azure-ai always sends it),
#: so vectors stay small enough for a run of minutes.
MODEL = "embed-v-4-0"
DIMENSIONS = 64
BATCH = 96


def _ours_langchain(endpoint: str, key: str) -> Callable[[list[str]], list[list[float]]]:
    from langchain_azureinfer import AzureInferenceEmbeddings

    emb = AzureInferenceEmbeddings(
        model=MODEL, endpoint=endpoint, credential=key, dimensions=DIMENSIONS
    )
    return emb.embed_documents


def _ours_llamaindex(endpoint: str, key: str) -> Callable[[list[str]], list[list[float]]]:
    from llamaindex_azureinfer import AzureInferenceEmbedding

    emb = AzureInferenceEmbedding(
        model=MODEL, endpoint=endpoint, credential=key, dimensions=DIMENSIONS
    )
    return emb.get_text_embedding_batch


def _anchor_langchain(endpoint: str, key: str) -> Callable[[list[str]], list[list[float]]]:
    from langchain_azure_ai.embeddings.inference import (  # type: ignore[import-untyped]
        AzureAIEmbeddingsModel,
    )

    emb = AzureAIEmbeddingsModel(
        endpoint=endpoint,
        credential=key,
        model=MODEL,  # its `model_name=` is silently ignored (langchain-azure-ai issue #138)
        dimensions=DIMENSIONS,
        embed_batch_size=BATCH,
    )
    return emb.embed_documents


def _anchor_llamaindex(endpoint: str, key: str) -> Callable[[list[str]], list[list[float]]]:
    from llama_index.embeddings.azure_inference import AzureAIEmbeddingsModel

    emb = AzureAIEmbeddingsModel(
        endpoint=endpoint,
        credential=key,
        model_name=MODEL,
        embed_batch_size=BATCH,
        model_kwargs={"dimensions": DIMENSIONS},
    )
    return emb.get_text_embedding_batch


BUILDERS: dict[str, Callable[[str, str], Callable[[list[str]], list[list[float]]]]] = {
    "ours_langchain": _ours_langchain,
    "ours_llamaindex": _ours_llamaindex,
    "anchor_langchain": _anchor_langchain,
    "anchor_llamaindex": _anchor_llamaindex,
}


def _peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes.

    ``VmHWM`` from ``/proc/self/status`` where available: ``ru_maxrss`` survives ``exec``, so in
    a child it starts at the parent's RSS at fork time, which would hide the child's own peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _list_bytes(vectors: list[list[float]]) -> int:
    """Bytes held by a list of float lists (lists plus float objects)."""
    outer = sys.getsizeof(vectors)
    if not vectors:
        return outer
    per_float = sys.getsizeof(1.0)
    return outer + sum(sys.getsizeof(v) + per_float * len(v) for v in vectors)


def main(argv: list[str]) -> int:
    """Run one measurement and print ``{"before", "peak", "result_bytes", "seconds"}``."""
    warnings.simplefilter("ignore")
    kind, endpoint, key, n = argv[0], argv[1], argv[2], int(argv[3])
    embed = BUILDERS[kind](endpoint, key)
    texts = [f"document number {i} about topic {i % 97} and item {i % 13}" for i in range(n)]
    embed(texts[:8])  # imports and connections settle before the baseline
    before = _peak_rss()
    t0 = time.perf_counter()
    vectors: Any = embed(texts)
    seconds = time.perf_counter() - t0
    peak = _peak_rss()
    if len(vectors) != n or len(vectors[0]) != DIMENSIONS:
        raise SystemExit(f"wrong result shape: {len(vectors)} x {len(vectors[0])}")
    result = {
        "before": before,
        "peak": peak,
        "result_bytes": _list_bytes(vectors),
        "seconds": seconds,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
