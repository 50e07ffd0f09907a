"""Embedding batches: one engine behind both frameworks' embedding classes.

```python
from azureinfer.batching import BatchOptions, Embedder, EmbeddingsSpec

embedder = Embedder(resolve_settings())          # lazy clients for both routes; no I/O yet
spec = EmbeddingsSpec(model="cohere-embed-v3-english", input_type="document")
vectors = embedder.embed_texts(texts, spec, BatchOptions(batch_size=96, max_concurrency=8))
```

The adapters (`langchain_azureinfer.AzureInferenceEmbeddings`,
`llamaindex_azureinfer.AzureInferenceEmbedding`) only translate their fields into an
`EmbeddingsSpec` (`EmbeddingsSpec.for_adapter`) and `BatchOptions` and call an `Embedder`.

What the engine guarantees:

- exactly one vector (a list of floats) per input, in input order, whatever order the service
  answers in (results are placed by the response's ``data[].index``); an empty input list gives
  ``[]`` without a request;
- inputs are split by count (``batch_size``) and by a size budget (``max_batch_chars``);
- batches run with bounded concurrency: threads for the sync path, asyncio tasks for the async
  path; the first failure stops the run (pending batches are not sent) and is re-raised with a
  note naming the input positions of the failed batch;
- retries are the transport's: each batch is one request that the core's retry policy retries on
  its own, so a 429 in the middle of a run never re-sends a batch that already succeeded;
- empty or whitespace-only strings, non-strings and inputs over ``max_input_chars`` (or alone
  over ``max_batch_chars``) raise `EmbeddingInputError` naming their position before any request;
- vectors in ``base64``, ``int8``, ``uint8``, ``binary`` and ``ubinary`` encodings are decoded to
  floats (`decode_embedding`), and an answer without one vector per input is an
  `EmbeddingsResponseError` naming the positions (both checked once, by the client's parser);
- ``show_progress=True`` draws a tqdm bar (imported only then);
- parameters marked droppable (``EmbeddingsSpec.droppable``: ``input_type``,
  ``encoding_format``) are dropped (logged: a warning when the user chose them) when the model
  rejects them, so defaults such as query/document input types or the compact base64 transfer
  work on every model; an `Embedder` remembers this per route.

The package is split by job: `_plan` (options, the shared request parameters, the input checks
and the split into batches, one pass), `_run` (a run as a step object without I/O, and its sync
and async drivers, the only code that sends), `_images` (image inputs and their batches),
`_embedder` (`Embedder`); decoding is `azureinfer.response`'s.
"""

from __future__ import annotations

from azureinfer.batching._embedder import Embedder, Route
from azureinfer.batching._images import image_input
from azureinfer.batching._plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_CHARS,
    DEFAULT_MAX_CONCURRENCY,
    Batch,
    BatchOptions,
    EmbeddingInputError,
    EmbeddingsSpec,
    check_text,
    plan_batches,
    validate_texts,
)
from azureinfer.errors import EmbeddingsResponseError
from azureinfer.request import ENCODING_FORMATS, EncodingFormat
from azureinfer.response import decode_embedding

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_CHARS",
    "DEFAULT_MAX_CONCURRENCY",
    "ENCODING_FORMATS",
    "Batch",
    "BatchOptions",
    "Embedder",
    "EmbeddingInputError",
    "EmbeddingsResponseError",
    "EmbeddingsSpec",
    "EncodingFormat",
    "Route",
    "check_text",
    "decode_embedding",
    "image_input",
    "plan_batches",
    "validate_texts",
]
