"""Property tests: the SSE decoder and the stream accumulator do not depend on chunking."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from azureinfer import StreamAccumulator
from azureinfer.response import split_think_tags
from azureinfer.streaming import SSEDecoder

texts = st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=8)


def _events(pieces: list[str]) -> list[dict]:
    out = [{"id": "s", "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    out.append({"id": "s", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return out


@settings(max_examples=60, deadline=None)
@given(
    pieces=texts,
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_sse_decoding_is_independent_of_chunk_boundaries(
    pieces: list[str], cuts: list[int], newline: str
) -> None:
    events = _events(pieces)
    raw = "".join(f"data: {json.dumps(e, ensure_ascii=False)}{newline}{newline}" for e in events)
    raw += f": comment{newline}data: [DONE]{newline}{newline}"
    data = raw.encode()
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    dec = SSEDecoder()
    got: list[str] = []
    for chunk in chunks:
        got += dec.feed(chunk)
    got += dec.close()
    assert got == [json.dumps(e, ensure_ascii=False) for e in events] + ["[DONE]"]


@settings(max_examples=80, deadline=None)
@given(pieces=texts, think=st.booleans())
def test_accumulated_content_equals_the_joined_deltas(pieces: list[str], think: bool) -> None:
    if think:
        pieces = ["<think>", *pieces[:1], "</think>", *pieces[1:]]
    acc = StreamAccumulator()
    chunks = [c for c in (acc.add(e) for e in _events(pieces)) if c is not None]
    last = acc.finish()
    if last is not None:
        chunks.append(last)
    result = acc.result()
    joined = "".join(pieces)
    assert "".join(c.content for c in chunks) == result.content
    assert "".join(c.reasoning_content for c in chunks) == (result.reasoning_content or "")
    if not think and not joined.lstrip().startswith("<think>"):
        assert result.content == joined
    if think and "<think>" not in "".join(pieces[1:]) and "</think>" not in pieces[1]:
        # streaming splits exactly like a whole completion
        assert (result.reasoning_content or "", result.content) == (
            split_think_tags(joined)[0] or "",
            split_think_tags(joined)[1],
        )
    assert chunks[-1].finish_reason == "stop"
