"""`chat_dataset` with our LangChain and LlamaIndex chat classes: plain, tools, structured."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ray_schemas import CityReport, get_weather

from azureinfer.ray import chat_dataset, summary
from langchain_azureinfer import ChatAzureInference
from llamaindex_azureinfer import AzureInference

N = 24


def _prompts(ray: Any, n: int = N) -> Any:
    items = [
        {"id": i, "prompt": f"Write a report about 'City {i}' with the summary 'Row {i}'."}
        for i in range(n)
    ]
    return ray.data.from_items(items)


def _chat(emu: Any) -> ChatAzureInference:
    return ChatAzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")


def _llm(emu: Any) -> AzureInference:
    return AzureInference(endpoint=emu.endpoint, credential=emu.key, model="gpt-4o")


def _check_usage(rows: list[dict[str, Any]], emu: Any) -> None:
    answered = [r for r in emu.requests_for("chat") if r.status == 200]
    assert len(answered) == len(rows)  # one request per row, none repeated
    for row in rows:
        assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
        assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"]


def test_langchain_plain_replies_match_direct_calls(ray_cluster: Any, emu: Any) -> None:
    model = _chat(emu)
    out = chat_dataset(_prompts(ray_cluster), model, requests_per_minute=60_000, actors=1)
    rows = out.take_all()
    assert [r["id"] for r in rows] == list(range(N))
    _check_usage(rows, emu)
    for row in rows[:3]:
        direct = model.invoke(row["prompt"])
        assert row["reply"] == direct.content
        assert row["prompt_tokens"] == direct.usage_metadata["input_tokens"]
        assert row["tool_calls"] is None
    s = summary(out)
    assert (s.rows, s.requests, s.failed_requests, s.rate_limited) == (N, N, 0, 0)
    assert s.tokens == sum(r["total_tokens"] for r in rows)


def test_langchain_bound_tools_fill_the_tool_calls_column(ray_cluster: Any, emu: Any) -> None:
    model = _chat(emu).bind_tools([get_weather], tool_choice="get_weather")
    rows = chat_dataset(_prompts(ray_cluster), model, actors=1).take_all()
    _check_usage(rows, emu)
    for row in rows:
        (call,) = json.loads(row["tool_calls"])
        assert call["name"] == "get_weather"
        assert set(call["arguments"]) == {"city"}


def test_langchain_structured_output(ray_cluster: Any, emu: Any) -> None:
    model = _chat(emu).with_structured_output(CityReport)
    rows = chat_dataset(_prompts(ray_cluster), model, output_column="report", actors=1).take_all()
    _check_usage(rows, emu)
    for row in rows:
        report = CityReport.model_validate_json(row["report"])
        assert report.city == f"City {row['id']}"
        assert report.summary == f"Row {row['id']}"


def test_llamaindex_plain_and_structured(ray_cluster: Any, emu: Any) -> None:
    llm = _llm(emu)
    rows = chat_dataset(_prompts(ray_cluster), llm, actors=1).take_all()
    _check_usage(rows, emu)
    for row in rows[:3]:
        assert row["reply"] == llm.complete(row["prompt"]).text
    emu.clear()
    structured = llm.as_structured_llm(CityReport)
    rows = chat_dataset(_prompts(ray_cluster), structured, actors=1).take_all()
    _check_usage(rows, emu)
    for row in rows:
        report = CityReport.model_validate_json(row["reply"])
        assert report.city == f"City {row['id']}"


def test_a_failed_row_is_kept_with_its_error_or_fails_the_job(ray_cluster: Any, emu: Any) -> None:
    model = _chat(emu)
    emu.inject_fault("status", status=400, times=1, route="chat")
    rows = chat_dataset(_prompts(ray_cluster, 8), model, on_error="keep", actors=1).take_all()
    failed = [r for r in rows if r["error"] is not None]
    assert len(failed) == 1
    assert failed[0]["reply"] is None and failed[0]["total_tokens"] is None
    assert "400" in failed[0]["error"]
    assert all(r["reply"] for r in rows if r["error"] is None)
    emu.clear()
    emu.inject_fault("status", status=400, times=1, route="chat")
    with pytest.raises(Exception, match=r"chat failed for row id=\d+: BadRequest|chat failed"):
        chat_dataset(_prompts(ray_cluster, 8), model, id_column="id", actors=1).take_all()


def test_bad_arguments_are_refused_before_anything_runs(ray_cluster: Any, emu: Any) -> None:
    from azureinfer.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="on_error"):
        chat_dataset(_prompts(ray_cluster), _chat(emu), on_error="skip")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="chat_model must be"):
        chat_dataset(_prompts(ray_cluster), object())
