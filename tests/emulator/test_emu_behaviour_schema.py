"""Unit tests of the emulator's JSON-schema instance synthesis (pure functions, no server)."""

from __future__ import annotations

import enum
import json
from typing import Any, Literal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from azureinfer.emulator._behaviour import chat_reply
from azureinfer.emulator._catalogue import DEFAULT_CATALOGUE, find
from azureinfer.emulator._schema import PromptValues, synthesise

GPT4O = find(DEFAULT_CATALOGUE, "gpt-4o")
assert GPT4O is not None


class Colour(str, enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str
    zip_code: str | None = None


class Person(BaseModel):
    """A person with nested and optional data."""

    name: str = Field(description="full name")
    age: int = Field(ge=0, le=150)
    height: float
    favourite: Colour
    tags: list[str]
    address: Address
    previous: list[Address] = []
    nickname: str | None = None
    mood: Literal["happy", "sad"] = "happy"
    active: bool = True
    scores: dict[str, int] = {}


class Tree(BaseModel):
    """Recursive schema through $defs."""

    label: str
    children: list[Tree] = []


class Movie(TypedDict):
    title: str
    year: int
    rating: float


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI-style strict variant: every object closed, every property required."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
            out["required"] = list(out["properties"])
        return out
    if isinstance(schema, list):
        return [_strict(x) for x in schema]  # type: ignore[return-value]
    return schema


SCHEMAS: dict[str, dict[str, Any]] = {
    "person": Person.model_json_schema(),
    "person_strict": _strict(Person.model_json_schema()),
    "tree": Tree.model_json_schema(),
    "typeddict": TypeAdapter(Movie).json_schema(),
    "plain": {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 2},
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "minLength": 5, "maxLength": 6},
            "kind": {"enum": ["alpha", "beta"]},
            "fixed": {"const": 7},
            "maybe": {"type": ["string", "null"]},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "nested": {
                "type": "object",
                "properties": {
                    "deep": {"type": "object", "properties": {"x": {"type": "integer"}}}
                },
                "required": ["deep"],
                "additionalProperties": False,
            },
            "either": {"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 0}]},
            "both": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "string"}}, "required": ["b"]},
                ]
            },
        },
        "required": ["ids", "when", "code", "kind", "fixed", "nested", "either", "both"],
        "additionalProperties": False,
    },
    "empty_object": {"type": "object", "properties": {}},
    "untyped": {},
}

PROMPTS = [
    "",
    "Hello!",
    "Tell me a joke about cats.",
    "Record 'Ada Lovelace', aged 36, height 1.65 in London; tags 'math' and 'poetry'. Colour blue.",
    "Numbers 3, 4, -7 and 2.5 please; status \u201cdone\u201d.",
    "Create a customer named '\u4f60\u597d\u554a\u96c6\u56e2' (Hello Group)",
]


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_synthesised_instance_is_valid(name: str, prompt: str) -> None:
    schema = SCHEMAS[name]
    instance = synthesise(schema, PromptValues(prompt))
    jsonschema.validate(instance, schema)
    json.dumps(instance)


def test_integers_are_taken_from_the_prompt_in_order() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    }
    assert synthesise(schema, PromptValues("What is 3 + 4?")) == {"a": 3, "b": 4}


def test_numeric_array_takes_all_numbers() -> None:
    schema = {"type": "array", "items": {"type": "number"}}
    assert synthesise(schema, PromptValues("sum 1, 2.5 and 10")) == [1, 2.5, 10]


def test_quoted_string_wins_for_strings() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    assert synthesise(schema, PromptValues('Weather in "New York" please')) == {"city": "New York"}


def test_capitalised_phrase_is_used_without_quotes() -> None:
    schema = {"type": "object", "properties": {"location": {"type": "string"}}}
    values = PromptValues("What is the weather in San Francisco, CA?")
    assert synthesise(schema, values) == {"location": "San Francisco"}


def test_enum_value_mentioned_in_the_prompt_is_chosen() -> None:
    schema = {"type": "string", "enum": ["celsius", "fahrenheit"]}
    assert synthesise(schema, PromptValues("in Fahrenheit please")) == "fahrenheit"
    assert synthesise(schema, PromptValues("no unit given")) == "celsius"


def test_defaults_are_used_when_the_prompt_has_no_value() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "default": 5},
            "flag": {"type": "boolean", "default": False},
        },
    }
    assert synthesise(schema, PromptValues("nothing numeric")) == {"n": 5, "flag": False}


def test_pydantic_model_round_trips() -> None:
    prompt = "Record 'Ada Lovelace', aged 36, height 1.65; colour green"
    instance = synthesise(Person.model_json_schema(), PromptValues(prompt))
    person = Person.model_validate(instance)
    assert person.name == "Ada Lovelace"
    assert person.age == 36
    assert person.height == 1.65
    assert person.favourite is Colour.GREEN


def test_json_schema_response_format_reply_is_valid() -> None:
    schema = Person.model_json_schema()
    body = {
        "messages": [{"role": "user", "content": "Invent a person aged 40 in Paris."}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Person", "schema": schema, "strict": False},
        },
    }
    reply = chat_reply(GPT4O, body)
    assert reply.finish_reason == "stop"
    assert reply.content is not None
    instance = json.loads(reply.content)
    jsonschema.validate(instance, schema)
    assert instance["age"] == 40


def test_structured_output_via_named_tool_is_valid() -> None:
    schema = _strict(Tree.model_json_schema())
    body = {
        "messages": [{"role": "user", "content": "Make a tree rooted at 'oak'."}],
        "tools": [{"type": "function", "function": {"name": "Tree", "parameters": schema}}],
        "tool_choice": {"type": "function", "function": {"name": "Tree"}},
    }
    reply = chat_reply(GPT4O, body)
    assert reply.finish_reason == "tool_calls"
    (call,) = reply.tool_calls
    args = json.loads(call["function"]["arguments"])
    jsonschema.validate(args, schema)
    assert args["label"] == "oak"


# ------------------------------------------------------------------------ property-based

_leaf = st.one_of(
    st.builds(lambda: {"type": "string"}),
    st.builds(
        lambda lo, extra: {"type": "string", "minLength": lo, "maxLength": lo + extra},
        st.integers(0, 5),
        st.integers(0, 5),
    ),
    st.builds(
        lambda lo, extra: {"type": "integer", "minimum": lo, "maximum": lo + extra},
        st.integers(-50, 50),
        st.integers(0, 20),
    ),
    st.builds(lambda: {"type": "number"}),
    st.builds(lambda: {"type": "boolean"}),
    st.builds(lambda: {"type": "null"}),
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4, unique=True).map(
        lambda xs: {"enum": xs}
    ),
    st.sampled_from(["date", "date-time", "email", "uri", "uuid"]).map(
        lambda f: {"type": "string", "format": f}
    ),
)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    names = st.text("abcdefgh_", min_size=1, max_size=6)
    return st.one_of(
        st.dictionaries(names, children, max_size=4).flatmap(
            lambda props: st.booleans().map(
                lambda closed: {
                    "type": "object",
                    "properties": props,
                    "required": sorted(props),
                    **({"additionalProperties": False} if closed else {}),
                }
            )
        ),
        st.tuples(children, st.integers(0, 3)).map(
            lambda t: {"type": "array", "items": t[0], "minItems": t[1]}
        ),
        children.map(lambda c: {"anyOf": [c, {"type": "null"}]}),
    )


def _with_defs(inner: dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Inner"}
    return {
        "$defs": {"Inner": inner},
        "type": "object",
        "properties": {"x": ref, "xs": {"type": "array", "items": ref}},
        "required": ["x", "xs"],
    }


_TREE = st.recursive(_leaf, _extend, max_leaves=12)
SCHEMA_STRATEGY = st.one_of(_TREE, _TREE.map(_with_defs))


@settings(max_examples=150, deadline=None)
@given(schema=SCHEMA_STRATEGY, prompt=st.text(max_size=80))
def test_any_generated_schema_gets_a_valid_instance(schema: dict[str, Any], prompt: str) -> None:
    instance = synthesise(schema, PromptValues(prompt))
    jsonschema.validate(instance, schema)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-5, 5) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_KEYWORDS = [
    "type",
    "properties",
    "items",
    "required",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "minLength",
    "maxLength",
    "default",
    "format",
    "additionalProperties",
    "prefixItems",
    "$defs",
]
_ODD_SCHEMA = st.recursive(
    st.dictionaries(st.sampled_from(_KEYWORDS), _JSON, max_size=4),
    lambda inner: st.dictionaries(
        st.sampled_from(_KEYWORDS),
        inner
        | st.lists(inner, max_size=2)
        | st.dictionaries(st.text(max_size=3), inner, max_size=2),
        max_size=4,
    ),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(schema=_ODD_SCHEMA, prompt=st.text(max_size=40))
def test_malformed_schemas_never_crash(schema: dict[str, Any], prompt: str) -> None:
    # Tool schemas are not validated by the service; synthesis must still answer something.
    json.dumps(synthesise(schema, PromptValues(prompt)))


class City(BaseModel):
    """A city and the country it is in (notebook 01)."""

    name: str = Field(description="the city")
    country: str = Field(description="the country")
    population: int = Field(description="inhabitants")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        # The subject of a sentence keeps its place: "Paris is ..." is not an imperative.
        (
            "Paris is the capital of France and has 2102650 inhabitants.",
            ("Paris", "France", 2102650),
        ),
        # Labelled values go to the property of that name or description, in any order.
        ("The country is France and the city is Paris.", ("Paris", "France", 1)),
        ("country: France, name: Paris, population: 5", ("Paris", "France", 5)),
        (
            "Marseille is a city in France with a population of 861635.",
            ("Marseille", "France", 861635),
        ),
        # Nothing labelled: positions as before (a sentence-initial imperative comes last).
        ("Check the weather in Lyon, France.", ("Lyon", "France", 1)),
    ],
)
def test_properties_take_the_values_their_names_label(
    prompt: str, expected: tuple[str, str, int]
) -> None:
    instance = synthesise(City.model_json_schema(), PromptValues(prompt))
    assert (instance["name"], instance["country"], instance["population"]) == expected
    assert synthesise(City.model_json_schema(), PromptValues(prompt)) == instance  # same again


def test_a_labelled_number_goes_to_its_property_whatever_the_order() -> None:
    schema = {
        "type": "object",
        "properties": {"nights": {"type": "integer"}, "adults": {"type": "integer", "maximum": 4}},
    }
    assert synthesise(schema, PromptValues("A room for 2 adults, 3 nights")) == {
        "nights": 3,
        "adults": 2,
    }
    # Schema bounds still apply to labelled values.
    assert synthesise(schema, PromptValues("9 adults for 1 night")) == {"nights": 1, "adults": 4}


def test_quoted_key_names_are_not_labels() -> None:
    """'"name" and "country" for Paris' names keys; Paris is not labelled by "country"."""
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "country": {"type": "string"}},
    }
    prompt = 'Return the keys "name" and "country" for Paris, the capital of France.'
    values = PromptValues(prompt)
    values.quoted = []
    assert synthesise(schema, values) == {"name": "Paris", "country": "France"}


def test_a_comma_breaks_a_label() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    # "Rome, city" is not "Rome city" (the comma ends the value before the label), and
    # "city breaks" labels nothing (a string needs "of", "is", ":" ... after its label).
    assert synthesise(schema, PromptValues("Flights to Rome, city breaks and Oslo")) == {
        "city": "Rome"
    }
    assert synthesise(schema, PromptValues("Flights to Rome and the city of Oslo")) == {
        "city": "Oslo"
    }


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_notebook_city_over_http(azure_inference_emulator: Any, method: str) -> None:
    """Notebook 01's structured output reads right end to end (LangChain adapter, server)."""
    from langchain_azureinfer import ChatAzureInference

    emu = azure_inference_emulator
    llm = ChatAzureInference(model="gpt-4o", endpoint=emu.endpoint, credential=emu.key)
    city = llm.with_structured_output(City, method=method).invoke(
        "Paris is the capital of France and has 2102650 inhabitants."
    )
    assert city == City(name="Paris", country="France", population=2102650)
