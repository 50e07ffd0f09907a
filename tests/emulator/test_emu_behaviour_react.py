"""Unit tests of the emulator's text-protocol (ReAct) rule (pure functions, no server)."""

from __future__ import annotations

import json
from typing import Any

from azureinfer.emulator._behaviour import chat_reply
from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, find

GPT4O = find(DEFAULT_CATALOGUE, "gpt-4o")
assert GPT4O is not None

# The shape of LlamaIndex's ReActAgent system prompt (tools with JSON-schema args).
LLAMAINDEX_SYSTEM = """You have access to the following tools:
> Tool Name: multiply
Tool Description: multiply(a: int, b: int) -> int
Multiply two integers.
Tool Args: {"properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}}, "required": ["a", "b"], "type": "object"}

> Tool Name: lookup_city
Tool Description: Find facts about a city.
Tool Args: {"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"}

## Output Format
```
Thought: I need to use a tool to help me answer the question.
Action: tool name (one of multiply, lookup_city) if using a tool.
Action Input: the input to the tool, in a JSON format representing the kwargs
```
Thought: I can answer without using any more tools.
Answer: [your answer here]
"""  # noqa: E501

# The shape of LangChain's classic ReAct prompt (one user message, no schemas).
CLASSIC = """Answer the following questions as best you can. You have access to the following tools:

search: Search the web.
calculator: Do arithmetic.

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [search, calculator]
Action Input: the input to the action
Observation: the result of the action
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: {question}
Thought:{scratchpad}"""


def _body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"messages": messages}


def _content(body: dict[str, Any]) -> str:
    content = chat_reply(GPT4O, body).content
    assert content is not None
    return content


def test_llamaindex_style_action_then_answer() -> None:
    system = {"role": "system", "content": LLAMAINDEX_SYSTEM}
    question = {"role": "user", "content": "Please multiply 4 and 5."}
    first = _content(_body([system, question]))
    lines = first.splitlines()
    assert lines[0].startswith("Thought:")
    assert lines[1] == "Action: multiply"
    assert lines[2].startswith("Action Input: ")
    assert json.loads(lines[2].removeprefix("Action Input: ")) == {"a": 4, "b": 5}
    history = [
        system,
        question,
        {"role": "assistant", "content": first},
        {"role": "user", "content": "Observation: 20"},
    ]
    final = _content(_body(history))
    assert final.splitlines() == [
        "Thought: I can answer without using any more tools.",
        "Answer: Emulated reply from gpt-4o: tool results: 20",
    ]


def test_llamaindex_style_without_a_tool_answers_directly() -> None:
    body = _body(
        [{"role": "system", "content": LLAMAINDEX_SYSTEM}, {"role": "user", "content": "Hi"}]
    )
    assert _content(body).splitlines()[-1] == "Answer: Emulated reply from gpt-4o: Hi"


def test_string_argument_from_a_capitalised_name() -> None:
    body = _body(
        [
            {"role": "system", "content": LLAMAINDEX_SYSTEM},
            {"role": "user", "content": "Use lookup_city for Lisbon."},
        ]
    )
    lines = _content(body).splitlines()
    assert lines[1] == "Action: lookup_city"
    assert json.loads(lines[2].removeprefix("Action Input: ")) == {"city": "Lisbon"}


def test_classic_single_message_prompt() -> None:
    first = CLASSIC.format(question="Use the calculator: what is 6 times 7?", scratchpad="")
    reply = _content(_body([{"role": "user", "content": first}]))
    lines = reply.splitlines()
    assert lines[1] == "Action: calculator"
    # No schema in the prompt: the tool gets the question.
    assert json.loads(lines[2].removeprefix("Action Input: ")) == (
        "Use the calculator: what is 6 times 7?"
    )
    second = CLASSIC.format(
        question="Use the calculator: what is 6 times 7?",
        scratchpad=" " + reply.removeprefix("Thought: ") + "\nObservation: 42\nThought:",
    )
    final = _content(_body([{"role": "user", "content": second}]))
    assert final.splitlines()[-1] == "Final Answer: Emulated reply from gpt-4o: tool results: 42"


def test_native_tools_take_precedence_over_the_text_protocol() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "multiply",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            },
        },
    }
    body = {
        "messages": [
            {"role": "system", "content": LLAMAINDEX_SYSTEM},
            {"role": "user", "content": "Please multiply 4 and 5."},
        ],
        "tools": [tool],
    }
    reply = chat_reply(GPT4O, body)
    assert reply.content is None and reply.tool_calls
