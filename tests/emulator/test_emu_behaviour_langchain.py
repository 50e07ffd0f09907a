"""The chat rules against the inputs LangChain's standard integration tests send.

Pure: the wire bodies are built here with langchain-core's own converters (the shapes an
adapter sends), and `chat_reply` is called directly. The same scenarios run end to end through
the adapter and the server in the adapter's test-suite.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import jsonschema
import pytest
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from azureinfer.emulator._behaviour import chat_reply
from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, Deployment, find

GPT4O = find(DEFAULT_CATALOGUE, "gpt-4o")
MISTRAL = find(DEFAULT_CATALOGUE, "mistral-large")
assert GPT4O is not None and MISTRAL is not None


class _MagicFunctionSchema(BaseModel):
    input: int = Field(..., gt=-1000, lt=1000)


@tool(args_schema=_MagicFunctionSchema)
def magic_function(_input: int) -> int:
    """Apply a magic function to an input."""
    return _input + 2


@tool
def magic_function_no_args() -> int:
    """Calculate a magic function."""
    return 5


@tool
def get_weather(location: str) -> str:
    """Get the weather at a location."""
    return "It's sunny."


@tool
def unicode_customer(customer_name: str, description: str) -> str:
    """Tool for creating a customer with Unicode name."""
    return f"Created customer: {customer_name} - {description}"


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeOptional(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str | None = Field(default=None, description="answer to resolve the joke")


class JokeDict(TypedDict):
    """Joke to tell user."""

    setup: Annotated[str, ..., "question to set up a joke"]
    punchline: Annotated[str, ..., "answer to resolve the joke"]


def wire_tools(*tools: Any) -> list[dict[str, Any]]:
    return [convert_to_openai_tool(t) for t in tools]


def human(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def calls(dep: Deployment, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    reply = chat_reply(dep, body)
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"])) for c in reply.tool_calls
    ]


@pytest.mark.parametrize("choice", [None, "required"])
def test_magic_function_is_called_with_the_prompt_integer(choice: str | None) -> None:
    body: dict[str, Any] = {
        "messages": [human("What is the value of magic_function(3)? Use the tool.")],
        "tools": wire_tools(magic_function),
    }
    if choice:
        body["tool_choice"] = choice
    assert calls(GPT4O, body) == [("magic_function", {"input": 3})]


@pytest.mark.parametrize("choice", [None, "required"])
def test_tool_without_arguments(choice: str | None) -> None:
    body: dict[str, Any] = {
        "messages": [human("What is the value of magic_function_no_args()? Use the tool.")],
        "tools": wire_tools(magic_function_no_args),
    }
    if choice:
        body["tool_choice"] = choice
    assert calls(MISTRAL, body) == [("magic_function_no_args", {})]


@pytest.mark.parametrize(
    "choice", ["required", {"type": "function", "function": {"name": "magic_function"}}]
)
def test_forced_tool_choice_on_a_greeting(choice: Any) -> None:
    body = {
        "messages": [human("Hello!")],
        "tools": wire_tools(magic_function, get_weather),
        "tool_choice": choice,
    }
    result = calls(GPT4O, body)
    assert result and result[0][0] == "magic_function"
    _MagicFunctionSchema.model_validate(result[0][1])


def test_unicode_names_survive() -> None:
    for prompt, name in [
        (
            "Create a customer named '\u4f60\u597d\u554a\u96c6\u56e2' (Hello Group) - a Chinese "
            "technology company",
            "\u4f60\u597d\u554a\u96c6\u56e2",
        ),
        (
            "Create a customer named '\u3053\u3093\u306b\u3061\u306f\u682a\u5f0f\u4f1a\u793e' "
            "(Hello Corporation) - a Japanese company",
            "\u3053\u3093\u306b\u3061\u306f\u682a\u5f0f\u4f1a\u793e",
        ),
    ]:
        body = {
            "messages": [human(prompt)],
            "tools": wire_tools(unicode_customer),
            "tool_choice": "required",
        }
        ((tool_name, args),) = calls(GPT4O, body)
        assert tool_name == "unicode_customer"
        assert args["customer_name"] == name
        assert args["description"]


def test_agent_loop() -> None:
    tools = wire_tools(get_weather)
    first = chat_reply(
        GPT4O, {"messages": [human("What is the weather in San Francisco, CA?")], "tools": tools}
    )
    (call,) = first.tool_calls
    assert json.loads(call["function"]["arguments"]) == {"location": "San Francisco"}
    history = [
        human("What is the weather in San Francisco, CA?"),
        {"role": "assistant", "content": None, "tool_calls": first.tool_calls},
        {"role": "tool", "tool_call_id": call["id"], "content": "It's sunny."},
    ]
    final = chat_reply(GPT4O, {"messages": history, "tools": tools})
    assert final.tool_calls == []
    assert final.content is not None and "It's sunny." in final.content


def test_few_shot_history_then_new_question() -> None:
    adder = {
        "type": "function",
        "function": {
            "name": "my_adder_tool",
            "description": "Tool that adds two integers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    }
    messages = [
        human("What is 1 + 2"),
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "my_adder_tool", "arguments": '{"a": 1, "b": 2}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"result": 3})},
        {"role": "assistant", "content": "3"},
        human("What is 3 + 4"),
    ]
    body = {"messages": messages, "tools": [adder], "tool_choice": "required"}
    assert calls(GPT4O, body) == [("my_adder_tool", {"a": 3, "b": 4})]
    # A history ending on an assistant text (no new question) with auto: a plain reply.
    plain = chat_reply(GPT4O, {"messages": messages[:4], "tools": [adder]})
    assert plain.tool_calls == [] and plain.content


@pytest.mark.parametrize("schema", [Joke, JokeOptional, JokeDict, Joke.model_json_schema()])
@pytest.mark.parametrize(
    "prompt",
    [
        "Tell me a joke about cats.",
        "Give me the setup to a joke about cats, no punchline.",
        "Give me a joke about cats, include the punchline.",
    ],
)
def test_structured_output_methods_yield_valid_instances(schema: Any, prompt: str) -> None:
    spec = convert_to_openai_tool(schema)["function"]
    params = spec["parameters"]
    name = spec["name"]
    by_tool = {
        "messages": [human(prompt)],
        "tools": [{"type": "function", "function": spec}],
        "tool_choice": {"type": "function", "function": {"name": name}},
        "parallel_tool_calls": False,
    }
    ((called, args),) = calls(GPT4O, by_tool)
    assert called == name
    jsonschema.validate(args, params)
    by_format = {
        "messages": [human(prompt)],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": params, "strict": True},
        },
    }
    content = chat_reply(GPT4O, by_format).content
    assert content is not None
    jsonschema.validate(json.loads(content), params)


def test_json_mode_joke() -> None:
    prompt = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
        "'punchline' keys. Return nothing other than JSON."
    )
    body = {"messages": [human(prompt)], "response_format": {"type": "json_object"}}
    content = chat_reply(MISTRAL, body).content
    assert content is not None
    Joke.model_validate_json(content)
