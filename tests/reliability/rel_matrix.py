"""Render the fault matrix of ``test_rel_faults`` as the Markdown table in docs/reliability.md."""

from __future__ import annotations

from typing import Any

import test_rel_faults as faults

HEADER = (
    "| Fault (test id) | Chat: sync, async | Chat: stream, astream | Embeddings: sync, async |\n"
    "|---|---|---|---|"
)


def _outcome(outcome: Any, attempts: int) -> str:
    plural = "s" if attempts > 1 else ""
    if outcome == "ok":
        return f"answer after {attempts} attempt{plural}"
    if outcome == "filtered":
        return f"cut answer flagged `finish_reason: content_filter` ({attempts} attempt)"
    return f"`{outcome.__name__}` after {attempts} attempt{plural}"


def matrix_table() -> str:
    """One row per fault; each cell holds for LangChain and LlamaIndex alike."""
    embed = {c.id: c for c in faults.EMBED_CASES}
    rows = [HEADER]
    for case in faults.CASES:
        stream = _outcome(
            case.stream_outcome or case.outcome, case.stream_attempts or case.attempts
        )
        emb = embed.get(case.id)
        emb_cell = _outcome(emb.outcome, emb.attempts) if emb else "n/a (no such answer)"
        rows.append(
            f"| `{case.id}` | {_outcome(case.outcome, case.attempts)} | {stream} | {emb_cell} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(matrix_table())
