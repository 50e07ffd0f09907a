"""The text-protocol (ReAct) rule: tool use for agents that describe tools in the prompt.

Agents such as LlamaIndex's `ReActAgent` or LangChain's classic ReAct agent send no `tools`; the
prompt lists the tools and asks for ``Thought: / Action: / Action Input:`` lines, and tool
results come back as ``Observation: ...``. When a prompt uses that protocol (it contains
``Action Input:``) the emulator answers in it. Documented in `docs/emulator.md`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

from azureinfer.emulator._schema import PromptValues, synthesise

__all__ = ["react_reply", "uses_react"]

_ONE_OF_RE = re.compile(r"one of \[?([^\]\)\n]+)")
_TOOL_NAME_RE = re.compile(r"Tool Name:\s*([^\s]+)")
_ARGS_RE = re.compile(r"Tool Args:\s*")
_OBSERVATION_RE = re.compile(r"Observation:\s*(.*?)(?=\n(?:Thought|Action|Observation):|\Z)", re.S)
_DECODER = json.JSONDecoder()


def uses_react(prompt: str) -> bool:
    """Whether the prompt asks for the ReAct text protocol."""
    return "Action Input:" in prompt


def _tools(prompt: str) -> dict[str, Any]:
    """Tool name -> JSON schema (None when the prompt gives none)."""
    tools: dict[str, Any] = {}
    for m in _ONE_OF_RE.finditer(prompt):
        for name in m.group(1).split(","):
            name = name.strip().strip("`'\"")
            if re.fullmatch(r"[\w.-]+", name):
                tools.setdefault(name, None)
    for m in _TOOL_NAME_RE.finditer(prompt):
        name = m.group(1)
        schema: Any = {"type": "object", "properties": {}}
        args = _ARGS_RE.search(prompt, m.end())
        nxt = _TOOL_NAME_RE.search(prompt, m.end())
        if args and (nxt is None or args.start() < nxt.start()):
            with contextlib.suppress(ValueError):
                schema, _ = _DECODER.raw_decode(prompt, args.end())
        tools[name] = schema if isinstance(schema, dict) else {"type": "object"}
    return tools


def react_reply(
    instructions: str,
    turns: list[tuple[str, str]],
    head: str,
    mentioned: Callable[[str, str], bool],
) -> str:
    """The ReAct-format reply.

    `instructions`: the system/developer text; `turns`: (role, text) of the other messages;
    `head`: the start of every emulated answer ("Emulated reply from gpt-4o: ");
    `mentioned(name, text)`: whether a tool is mentioned (the native tool rule).
    """
    prompt = "\n".join([instructions, *(t for _, t in turns)])
    final_key = "Final Answer:" if "Final Answer:" in prompt else "Answer:"
    # The question: the last user message that is not an observation (in single-message
    # prompts, the text after the last "Question:" and before the first "Thought:").
    question = ""
    observations: list[str] = []
    for role, text in turns:
        if role == "user" and text.lstrip().startswith("Observation:"):
            observations.extend(o.strip() for o in _OBSERVATION_RE.findall(text))
        elif role == "user":
            question, observations = text, []
            if "Question:" in question:
                question = question.rsplit("Question:", 1)[1]
            if "\nThought:" in question:
                question, scratch = question.split("\nThought:", 1)
                observations = [o.strip() for o in _OBSERVATION_RE.findall(scratch)]
    question = question.strip()
    if observations:
        return (
            "Thought: I can answer without using any more tools.\n"
            f"{final_key} {head}tool results: {'; '.join(observations)}"
        )
    tools = _tools(instructions + "\n" + "\n".join(t for r, t in turns if r != "user"))
    if not tools:
        tools = _tools(prompt.replace(question, "") if question else prompt)
    chosen = [name for name in tools if mentioned(name, question)]
    if not chosen and re.search(r"\btools?\b", question, re.I) and tools:
        chosen = [next(iter(tools))]
    if chosen:
        schema = tools[chosen[0]]
        # Without a schema (a plain tool list) the tool gets the question itself.
        args = question if schema is None else synthesise(schema, PromptValues(question))
        return (
            "Thought: I need to use a tool to help me answer the question.\n"
            f"Action: {chosen[0]}\n"
            f"Action Input: {json.dumps(args, ensure_ascii=False)}"
        )
    return (
        "Thought: I can answer without using any more tools.\n"
        f"{final_key} {head}{' '.join(question.split()[:20]) or '(no text)'}"
    )
