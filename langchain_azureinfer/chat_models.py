"""``ChatAzureInference``: a LangChain chat model over the Azure AI Model Inference API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel, LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from azureinfer.adapters import ChatAdapter, ChatCall
from azureinfer.errors import ConfigurationError
from azureinfer.pydantic_adapter import PydanticConnection
from azureinfer.request import WireRequest, build_chat_request, build_response_format
from azureinfer.response import ChatChunk, Usage
from azureinfer.response import ChatResult as WireChatResult
from langchain_azureinfer._messages import convert_messages
from langchain_azureinfer._serializable import AzureInferenceSerializable

__all__ = ["AzureAIChatCompletionsModel", "ChatAzureInference"]

MODEL_PROVIDER = "azure_ai_inference"
"""The value of ``response_metadata["model_provider"]`` on every message we produce."""

# Keyword arguments LangChain itself may pass down; they are not request parameters.
_IGNORED_KWARGS = frozenset({"stream"})
# The resolve_settings argument named differently here.
_FIELD_OF = {"headers": "default_headers"}


class ChatAzureInference(
    PydanticConnection, ChatAdapter, AzureInferenceSerializable, BaseChatModel
):
    """Chat model for Azure's model endpoints: the Foundry OpenAI/v1 route and the Azure AI
    Model Inference route (serverless and managed-compute deployments, GitHub Models).

    ???+ info "Setup"

        Install `azureinfer[langchain]` and point it at an endpoint, with arguments or with
        the environment variables `AZURE_INFERENCE_ENDPOINT` and `AZURE_INFERENCE_CREDENTIAL`
        (`AZURE_AI_INFERENCE_*` also work). Without a key, `DefaultAzureCredential` (Entra ID)
        is used, with the token scope of the route. A Foundry resource's OpenAI/v1 endpoint
        (`https://<resource>.openai.azure.com/openai/v1`) speaks the OpenAI/v1 route; a
        `.../models`, serverless or managed-compute endpoint the model-inference route
        (`route=` / `AZURE_INFERENCE_ROUTE` name one explicitly).

        ```bash
        pip install "azureinfer[langchain]"
        export AZURE_INFERENCE_ENDPOINT="https://<resource>.openai.azure.com/openai/v1"
        export AZURE_INFERENCE_CREDENTIAL="<api-key>"
        ```

    ??? info "Key init args — completion params"

        | Param | Type | Description |
        | --- | --- | --- |
        | `model` | `str | None` | Deployment / model name (alias `model_name`). |
        | `temperature` | `float | None` | Sampling temperature (0 is sent as 0). |
        | `max_tokens` | `int | None` | Cap on generated tokens. |
        | `max_completion_tokens` | `int | None` | Cap including reasoning tokens. |
        | `stop` | `list[str] | None` | Stop sequences. |
        | `model_kwargs` | `dict` | Other body parameters, sent as extra parameters. |
        | `stream_usage` | `bool` | Token usage in streams (default on). |

    ??? info "Key init args — client params"

        | Param | Type | Description |
        | --- | --- | --- |
        | `endpoint` | `str | None` | Endpoint URL. |
        | `route` | `str` | `auto` (default), `openai_v1` or `model_inference`. |
        | `credential` | `str | TokenCredential | None` | API key (alias `api_key`) or Entra ID. |
        | `api_version` | `str | None` | `api-version` query value. |
        | `timeout` | `float | None` | Read timeout per attempt, seconds. |
        | `max_retries` | `int | None` | Retries on 408/429/5xx and connection errors. |
        | `client_kwargs` | `dict` | Other azure-core options (`connection_verify`, ...). |

        `timeout`, `max_retries` and headers (`headers=` or `default_headers=`) also work per
        call, e.g. `model.invoke(messages, timeout=5, max_retries=0)` or
        `model.bind(max_retries=0)`; the instance's settings stay as they are.

    ??? info "Instantiate"

        ```python
        from langchain_azureinfer import ChatAzureInference

        # endpoint and key from AZURE_INFERENCE_ENDPOINT / AZURE_INFERENCE_CREDENTIAL, or
        # pass endpoint="https://...", credential="<api-key>" explicitly.
        model = ChatAzureInference(model="gpt-4o", temperature=0, max_tokens=200)
        ```

    ??? info "Invoke"

        ```python
        messages = [
            ("system", "Translate the user sentence to French."),
            ("human", "I love programming."),
        ]
        ai_msg = model.invoke(messages)
        print(ai_msg.text)
        ```

    ??? info "Stream"

        ```python
        full = None
        for chunk in model.stream(messages):
            print(chunk.text, end="")
            full = chunk if full is None else full + chunk
        assert full is not None and full.chunk_position == "last"
        ```

    ??? info "Async"

        ```python
        import asyncio


        async def main() -> None:
            print((await model.ainvoke(messages)).text)
            async for chunk in model.astream(messages):
                print(chunk.text, end="")
            await model.aclose()


        asyncio.run(main())
        ```

    ??? info "Tool calling"

        ```python
        from pydantic import BaseModel, Field


        class GetWeather(BaseModel):
            '''Get the current weather in a given location.'''

            location: str = Field(..., description="The city, e.g. 'Paris'")


        model_with_tools = model.bind_tools([GetWeather], tool_choice="any")
        ai_msg = model_with_tools.invoke("What is the weather like in 'Paris'?")
        print(ai_msg.tool_calls)  # [{'name': 'GetWeather', 'args': {...}, 'id': ...}]
        ```

        `tool_choice` takes `"auto"`, `"none"`, `"required"`/`"any"`/`True`, a tool name
        or a wire dict; `strict=True` and `parallel_tool_calls=False` are passed on.

    ??? info "Structured output"

        ```python
        class Joke(BaseModel):
            '''Joke to tell the user.'''

            setup: str = Field(description="The setup of the joke")
            punchline: str = Field(description="The punchline")


        structured = model.with_structured_output(Joke, method="json_schema")
        joke = structured.invoke("Tell me a joke about cats")
        assert isinstance(joke, Joke)
        ```

        Methods: `function_calling` (default; widest model support), `json_schema` and
        `json_mode`. Pydantic v2/v1 classes, TypedDicts and JSON-schema dicts are accepted.

    ??? info "Image input"

        ```python
        from langchain_core.messages import HumanMessage

        message = HumanMessage(
            content=[
                {"type": "text", "text": "Describe this image."},
                {"type": "image", "url": "https://example.com/cat.png"},
            ]
        )
        print(model.invoke([message]).text)
        ```

        OpenAI `image_url` parts, LangChain `image` blocks (url or base64), the older
        `source_type` blocks and Anthropic `source` blocks all work; audio goes as
        `input_audio`.

    ??? info "Token usage"

        ```python
        ai_msg = model.invoke(messages)
        print(ai_msg.usage_metadata)  # {'input_tokens': ..., 'output_tokens': ..., ...}
        ```

    ??? info "Response metadata"

        ```python
        print(ai_msg.response_metadata)  # {'model_name': ..., 'finish_reason': 'stop', ...}
        model.close()
        ```
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    # ---- connection -------------------------------------------------------------------
    endpoint: str | None = None
    """Endpoint URL: ``https://<resource>.openai.azure.com/openai/v1`` (OpenAI/v1 route), or
    ``https://<resource>.services.ai.azure.com/models``, a serverless or managed-compute URL,
    GitHub Models (model-inference route). Falls back to ``AZURE_INFERENCE_ENDPOINT``."""
    route: Literal["auto", "openai_v1", "model_inference"] = "auto"
    """Wire route: ``auto`` (``AZURE_INFERENCE_ROUTE``, else from the endpoint's shape),
    ``openai_v1`` or ``model_inference``. Holds the chosen route once the model is built."""
    credential: Any = Field(default=None, alias="api_key")
    """API key (str or ``SecretStr``, kept secret), ``AzureKeyCredential`` or an Entra ID
    (async) token credential. Falls back to ``AZURE_INFERENCE_CREDENTIAL``, then
    ``DefaultAzureCredential``."""
    api_version: str | None = None
    """``api-version`` query value (model-inference route: ``2024-05-01-preview`` when unset;
    OpenAI/v1 route: none when unset, else only ``v1`` or ``preview``)."""
    credential_scopes: list[str] | None = None
    """Entra ID token scopes; derived from the endpoint's host when unset."""
    timeout: float | None = None
    """Read timeout of one HTTP attempt, in seconds."""
    max_retries: int | None = None
    """Retries on 408/429/5xx and connection errors (the core's default when unset)."""
    default_headers: dict[str, str] | None = None
    """Headers added to every request."""
    user_agent: str | None = None
    """Prefix for the ``User-Agent`` header."""
    client_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra azure-core client options (``connection_verify``, ``logging_enable``, ...)."""

    # ---- request parameters -----------------------------------------------------------
    model: str | None = Field(default=None, alias="model_name")
    """Deployment or model name, sent as ``model`` (required on multi-model endpoints)."""
    temperature: float | None = None
    """Sampling temperature; 0 is a value and is sent."""
    max_tokens: int | None = None
    """Maximum number of tokens to generate."""
    max_completion_tokens: int | None = None
    """Token cap including reasoning tokens (reasoning models)."""
    top_p: float | None = None
    """Nucleus-sampling probability mass."""
    seed: int | None = None
    """Seed for best-effort deterministic sampling."""
    stop: list[str] | None = None
    """Stop sequences (a single string is accepted and wrapped)."""
    frequency_penalty: float | None = None
    """Penalty for tokens by their frequency so far."""
    presence_penalty: float | None = None
    """Penalty for tokens already present."""
    reasoning_effort: str | None = None
    """Reasoning effort for reasoning models (``low``, ``medium``, ``high``)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Other body parameters, sent as ``model_extras`` under the ``extra_parameters`` policy."""
    extra_parameters: Literal["pass-through", "drop", "error"] = "pass-through"
    """What happens to parameters the API does not define: the ``extra-parameters`` header on
    the model-inference route; on OpenAI/v1 ``drop`` resends without a refused one (README)."""
    stream_usage: bool = True
    """Ask for token usage in streams (``stream_options.include_usage``)."""
    streaming: bool = False
    """Stream by default in ``invoke`` (callbacks receive tokens)."""

    # ---- message translation ----------------------------------------------------------
    developer_message_role: Literal["developer", "system"] = "developer"
    """Wire role for developer messages; ``system`` for models without the developer role."""
    fold_system_messages: bool = False
    """Fold system/developer text into the first user message (models rejecting system)."""

    _adapter_name: ClassVar[str] = "langchain_azureinfer"
    _lc_module: ClassVar[str] = "chat_models"  # LangChain's hooks: AzureInferenceSerializable
    _field_of: ClassVar[Mapping[str, str | None]] = _FIELD_OF

    # ---- construction -----------------------------------------------------------------

    @field_validator("credential", mode="before")
    @classmethod
    def _secret_credential(cls, value: Any) -> Any:
        if isinstance(value, str):
            return SecretStr(value)
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _no_field_in_model_kwargs(self) -> Self:
        clashes = sorted(set(self.model_kwargs) & set(type(self).model_fields))
        if clashes:
            raise ConfigurationError(
                f"model_kwargs {clashes} are constructor arguments: pass them directly."
            )
        return self

    def _probe_request(self) -> WireRequest:
        return self._prepare([HumanMessage("")], None, {}, stream=False)[1]

    # ---- LangChain hooks ----------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "azure-ai-inference-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = {
            "model": self.model,
            "endpoint": self.endpoint,
            "route": self.route,
            "api_version": self.api_version,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "max_completion_tokens": self.max_completion_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
            "stop": self.stop,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "reasoning_effort": self.reasoning_effort,
            "model_kwargs": self.model_kwargs or None,
            "extra_parameters": self.extra_parameters,
            "stream_usage": self.stream_usage,
        }
        return {k: v for k, v in params.items() if v is not None}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        ls_params = LangSmithParams(ls_provider=MODEL_PROVIDER, ls_model_type="chat")
        model = kwargs.get("model") or self.model
        if isinstance(model, str):
            ls_params["ls_model_name"] = model
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, (int, float)):
            ls_params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is None:
            max_tokens = kwargs.get("max_completion_tokens", self.max_completion_tokens)
        if isinstance(max_tokens, int):
            ls_params["ls_max_tokens"] = max_tokens
        ls_stop = stop or kwargs.get("stop") or self.stop
        if ls_stop:
            ls_params["ls_stop"] = [ls_stop] if isinstance(ls_stop, str) else list(ls_stop)
        return ls_params

    # ---- token counting -------------------------------------------------------------------

    def get_num_tokens(self, text: str) -> int:
        """Approximate token count of ``text`` (about 4 characters per token).

        Deployments behind this API use different tokenizers (GPT, Llama, Mistral, Phi...), so
        no single local tokenizer is exact; the service's ``usage`` is. Set
        ``custom_get_token_ids`` for an exact local count.
        """
        if self.custom_get_token_ids is not None:
            return super().get_num_tokens(text)
        return count_tokens_approximately([HumanMessage(text)], extra_tokens_per_message=0)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Approximate token count of a conversation (and tool schemas); see
        :meth:`get_num_tokens`."""
        if self.custom_get_token_ids is not None:
            return super().get_num_tokens_from_messages(messages, tools)
        return count_tokens_approximately(messages, tools=list(tools) if tools else None)

    # ---- lifecycle (close, aclose, context managers, get_model_info, copies: adapters) ----

    # ---- request building ---------------------------------------------------------------

    def _prepare(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: Mapping[str, Any],
        *,
        stream: bool,
    ) -> tuple[ChatCall, WireRequest]:
        """The call (its options and client, from the adapter layer) and its wire request:
        instance defaults merged with per-call overrides, messages translated."""
        call = self._chat_call(kwargs, ignored=_IGNORED_KWARGS)
        params = call.parameters
        if stop is not None:
            params["stop"] = stop
        if params.get("tools") is not None:
            # bind_tools already converted; tools passed per call may be any tool form.
            params["tools"] = [convert_to_openai_tool(t) for t in params["tools"]] or None
        extras = {**self.model_kwargs, **call.extras}
        wire_messages = convert_messages(
            messages,
            developer_role=self.developer_message_role,
            fold_system_messages=self.fold_system_messages,
        )
        request = build_chat_request(
            wire_messages,
            stream=stream,
            model_extras=extras or None,
            headers=call.headers or None,
            **params,
        )
        return call, request

    # ---- calls --------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call, request = self._prepare(messages, stop, kwargs, stream=False)
        return _chat_result(call.client.complete(request, **call.options))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call, request = self._prepare(messages, stop, kwargs, stream=False)
        return _chat_result(await call.client.acomplete(request, **call.options))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call, request = self._prepare(messages, stop, kwargs, stream=True)
        with call.client.stream(request, **call.options) as stream:
            for chunk in stream:
                generation = _generation_chunk(chunk)
                if run_manager:
                    run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call, request = self._prepare(messages, stop, kwargs, stream=True)
        async with call.client.astream(request, **call.options) as stream:
            async for chunk in stream:
                generation = _generation_chunk(chunk)
                if run_manager:
                    await run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    # ---- tools and structured output ------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form ``convert_to_openai_tool`` accepts: Pydantic classes,
        functions, ``BaseTool``s, OpenAI or Anthropic tool dicts).

        Args:
            tools: The tools.
            tool_choice: ``"auto"``, ``"none"``, ``"required"``/``"any"``/``True`` (call some
                tool), a tool name, a wire ``{"type": "function", ...}`` dict, or an
                Anthropic-style dict (``{"type": "tool", "name": ...}``, ``{"type": "any"}``).
            strict: Ask for schema-exact arguments (strict-compatible schemas).
            parallel_tool_calls: Allow or forbid several calls in one turn.
            kwargs: Other per-call parameters (e.g. ``response_format``).
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = _translate_tool_choice(tool_choice)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Return a runnable whose output follows ``schema``.

        Args:
            schema: A Pydantic (v2 or v1) class, a TypedDict, or a JSON schema / OpenAI
                function dict. Optional for ``json_mode``. Pydantic schemas give Pydantic
                objects in every method; the others give dicts.
            method: ``function_calling`` (a forced tool call; widest model support),
                ``json_schema`` (``response_format`` json_schema) or ``json_mode``
                (``response_format`` json_object; the prompt must describe the JSON).
            include_raw: Return ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``.
            strict: Strict schema adherence (function_calling and json_schema).
            kwargs: Other per-call parameters bound to the model.
        """
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        output_parser: Runnable[Any, Any]
        llm: Runnable[Any, Any]
        if method == "function_calling":
            if schema is None:
                raise ValueError("schema is required for method='function_calling'")
            tool_name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools(
                [schema],
                tool_choice=tool_name,
                strict=strict,
                ls_structured_output_format=ls_format,
                **kwargs,
            )
            if is_pydantic:
                output_parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
            else:
                output_parser = JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
        elif method == "json_schema":
            if schema is None:
                raise ValueError("schema is required for method='json_schema'")
            llm = self.bind(
                response_format=build_response_format(schema, strict=strict),
                ls_structured_output_format=ls_format,
                **kwargs,
            )
            output_parser = (
                PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
            )
        elif method == "json_mode":
            ls_format["kwargs"] = {"method": method}
            llm = self.bind(
                response_format={"type": "json_object"},
                ls_structured_output_format=ls_format,
                **kwargs,
            )
            if schema is not None:
                # json_object mode constrains the syntax only; the shape must be in the prompt
                # (and OpenAI-family models reject json_object unless the prompt says "JSON").
                instruction = _json_mode_instruction(schema)
                llm = (
                    RunnableLambda(
                        lambda value: _with_system_instruction(
                            self._convert_input(value).to_messages(), instruction
                        ),
                        name="json_mode_instruction",
                    )
                    | llm
                )
            output_parser = (
                PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
            )
        else:
            raise ValueError(
                f"Unknown method {method!r}: use 'function_calling', 'json_schema' or 'json_mode'."
            )
        if not include_raw:
            return cast("Runnable[LanguageModelInput, Any]", llm | output_parser)
        parser_assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | output_parser, parsing_error=lambda _: None
        )
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        raw_map: Runnable[Any, Any] = RunnableMap(raw=llm)
        return cast("Runnable[LanguageModelInput, Any]", raw_map | with_fallback)


def _translate_tool_choice(tool_choice: Any) -> Any:
    """Anthropic-style ``tool_choice`` dicts -> the forms the core normalises."""
    if isinstance(tool_choice, Mapping):
        kind = tool_choice.get("type")
        if kind == "tool" and isinstance(tool_choice.get("name"), str):
            return tool_choice["name"]
        if kind in ("any", "auto", "none") and set(tool_choice) <= {
            "type",
            "disable_parallel_tool_use",
        }:
            return kind
    return tool_choice


def _json_mode_instruction(schema: dict[str, Any] | type) -> str:
    json_schema = _json_schema_of(schema)
    keys = ", ".join(f"'{key}'" for key in json_schema.get("properties", {}))
    return (
        f"Respond with a JSON object only, with the keys {keys}, following this JSON schema: "
        + json.dumps(json_schema, ensure_ascii=False)
    )


def _json_schema_of(schema: dict[str, Any] | type) -> dict[str, Any]:
    """The JSON schema of ``schema``; a JSON-schema dict is taken as it is (it needs no
    ``title``: json_mode names no function, as langchain-azure-ai 1.2 accepted)."""
    keys = set(schema) if isinstance(schema, dict) else set()
    if (
        isinstance(schema, dict)
        and {"properties", "type"} & keys
        and not {"title", "function"} & keys
    ):
        return schema
    return convert_to_json_schema(schema)


def _with_system_instruction(messages: list[BaseMessage], instruction: str) -> list[BaseMessage]:
    """Add ``instruction`` to the leading system message (or put one first)."""
    if messages and isinstance(messages[0], SystemMessage) and isinstance(messages[0].content, str):
        first = messages[0]
        merged = first.model_copy(update={"content": f"{first.content}\n\n{instruction}"})
        return [merged, *messages[1:]]
    return [SystemMessage(instruction), *messages]


# ---- the way back: the core's parsed results -> LangChain messages ------------------------


def usage_to_metadata(usage: Usage) -> UsageMetadata:
    """Translate the core's ``Usage`` into LangChain ``UsageMetadata`` (with details)."""
    input_tokens = int(usage.prompt_tokens or 0)
    output_tokens = int(usage.completion_tokens or 0)
    total = usage.total_tokens
    metadata: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": int(total) if total is not None else input_tokens + output_tokens,
    }
    if usage.cached_tokens is not None:
        metadata["input_token_details"] = InputTokenDetails(cache_read=int(usage.cached_tokens))
    if usage.reasoning_tokens is not None:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=int(usage.reasoning_tokens))
    return cast("UsageMetadata", metadata)


def _response_metadata(
    item: WireChatResult | ChatChunk, system_fingerprint: str | None
) -> dict[str, Any]:
    """The closing ``response_metadata`` of a completion or of its finishing chunk."""
    metadata: dict[str, Any] = dict(item.extras or {})
    if item.usage is not None and item.usage.raw:
        metadata["token_usage"] = dict(item.usage.raw)
    finish_reason = item.finish_reason
    metadata.update(
        {
            "model_name": item.model,
            "model": item.model,  # the key of langchain-azure-ai 1.2 (kept for code migrating)
            "model_provider": MODEL_PROVIDER,
            "finish_reason": str(finish_reason) if finish_reason is not None else None,
            "id": item.id,
            "system_fingerprint": system_fingerprint,
        }
    )
    return {k: v for k, v in metadata.items() if v is not None}


def result_to_message(result: WireChatResult) -> AIMessage:
    """Translate a parsed completion into an ``AIMessage``.

    The completion id becomes the message id; reasoning is kept in
    ``additional_kwargs["reasoning_content"]`` (LangChain's v1 ``content_blocks`` turn it into a
    reasoning block); malformed tool-call arguments land in ``invalid_tool_calls``.
    """
    additional_kwargs: dict[str, Any] = {}
    if result.reasoning_content:
        additional_kwargs["reasoning_content"] = result.reasoning_content
    return AIMessage(
        content=result.content or "",
        id=result.id or None,
        additional_kwargs=additional_kwargs,
        tool_calls=[
            tool_call(name=tc.name, args=tc.arguments, id=tc.id) for tc in result.tool_calls
        ],
        invalid_tool_calls=[
            invalid_tool_call(name=tc.name, args=tc.arguments, id=tc.id, error=tc.error)
            for tc in result.invalid_tool_calls
        ],
        usage_metadata=usage_to_metadata(result.usage) if result.usage is not None else None,
        response_metadata=_response_metadata(result, result.system_fingerprint),
    )


def chunk_to_message_chunk(chunk: ChatChunk) -> AIMessageChunk:
    """Translate one streamed chunk into an ``AIMessageChunk``.

    Every chunk carries the completion id (as message id), ``model_provider`` and those
    non-standard fields that add up across chunks (``logprobs``, ``prompt_filter_results``).
    The chunk with ``finish_reason`` is the last one the core hands out (a trailing usage-only
    chunk is merged into it); it gets ``chunk_position="last"`` and the closing metadata
    (``model_name`` and ``model``, ``finish_reason``, ``id``, ``system_fingerprint``, all its
    extras such as content-filter results), so adding the chunks up gives each value once.
    """
    additional_kwargs: dict[str, Any] = {}
    if chunk.reasoning_content:
        additional_kwargs["reasoning_content"] = chunk.reasoning_content
    final = chunk.finish_reason is not None
    if final:
        raw = chunk.raw if isinstance(chunk.raw, dict) else {}
        fingerprint = raw.get("system_fingerprint")
        response_metadata = _response_metadata(
            chunk, fingerprint if isinstance(fingerprint, str) else None
        )
    else:
        # Only values that add up correctly when LangChain merges chunks (lists concatenate;
        # logprobs is {"content": [...]}); strings inside dicts would be concatenated.
        response_metadata = {
            k: v
            for k, v in (chunk.extras or {}).items()
            if v is not None and (isinstance(v, list) or k == "logprobs")
        }
        response_metadata["model_provider"] = MODEL_PROVIDER
    return AIMessageChunk(
        content=chunk.content or "",
        id=chunk.id or None,
        additional_kwargs=additional_kwargs,
        tool_call_chunks=[
            tool_call_chunk(name=tc.name, args=tc.arguments or None, id=tc.id, index=tc.index)
            for tc in chunk.tool_call_chunks
        ],
        usage_metadata=usage_to_metadata(chunk.usage) if chunk.usage is not None else None,
        response_metadata=response_metadata,
        chunk_position="last" if final else None,
    )


def _chat_result(result: WireChatResult) -> ChatResult:
    """LangChain's ``ChatResult`` of a parsed completion."""
    generation_info: dict[str, Any] = {}
    if result.finish_reason is not None:
        generation_info["finish_reason"] = str(result.finish_reason)
    llm_output: dict[str, Any] = {"model_name": result.model, "id": result.id}
    if result.usage is not None:
        llm_output["token_usage"] = dict(result.usage.raw or {})
    if result.system_fingerprint:
        llm_output["system_fingerprint"] = result.system_fingerprint
    return ChatResult(
        generations=[
            ChatGeneration(
                message=result_to_message(result), generation_info=generation_info or None
            )
        ],
        llm_output=llm_output,
    )


def _generation_chunk(chunk: ChatChunk) -> ChatGenerationChunk:
    info = {"finish_reason": chunk.finish_reason} if chunk.finish_reason else None
    return ChatGenerationChunk(message=chunk_to_message_chunk(chunk), generation_info=info)


class AzureAIChatCompletionsModel(ChatAzureInference):
    """Drop-in replacement for ``langchain_azure_ai``'s deprecated ``AzureAIChatCompletionsModel``.

    Accepts that class's constructor arguments (``endpoint``, ``credential``,
    ``model_name``/``model``, ``model_kwargs``, ``client_kwargs``, ``api_version``, a single
    ``stop`` string). Options it used to read from ``client_kwargs`` that have their own
    argument here (``api_version``, ``credential_scopes``, ``user_agent``, ``headers``,
    ``retry_total``; ``azureinfer.settings.LEGACY_CLIENT_KWARGS``) are moved to that argument
    (``headers`` merge into ``default_headers``; other values given both ways must agree).
    """

    @property
    def model_name(self) -> str | None:
        """The deprecated class's name for :attr:`model`."""
        return self.model
