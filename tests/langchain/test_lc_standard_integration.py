"""LangChain's standard integration suite against the local emulator, once per structured-output
method and per route (``route_endpoint``: model inference and OpenAI/v1, each request checked
against the route's wire). The suite's image/audio downloads are served from memory (fixture
``local_media``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests

from azureinfer.emulator import Emulator
from langchain_azureinfer import ChatAzureInference


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """Cassettes for ``test_stream_time`` (recorded from the emulator; keys filtered out). Matched
    on method and path only: the emulator's port changes between runs, and the benchmark is
    about parsing a recorded stream, not about the request's exact bytes."""
    from langchain_tests.conftest import base_vcr_config
    from vcr import VCR

    config = base_vcr_config()
    config.update(
        match_on=["method", "path"],
        cassette_library_dir=str(Path(__file__).parent / "cassettes"),
        serializer="yaml.gz",
        path_transformer=VCR.ensure_suffix(".yaml.gz"),
    )
    return config


class _EmulatorChatTests(ChatModelIntegrationTests):
    emulator: Emulator
    endpoint: str

    @pytest.fixture(autouse=True)
    def _use_emulator(
        self, azure_inference_emulator: Emulator, route_endpoint: Any, local_media: None
    ) -> None:
        self.emulator = azure_inference_emulator
        self.endpoint = route_endpoint.endpoint

    @property
    def chat_model_class(self) -> type[ChatAzureInference]:
        return ChatAzureInference

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "credential": self.emulator.key,
            "model": "gpt-4o",
        }

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return "gpt-4o-mini"

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[Any, list[Any]]:
        details = ["reasoning_output", "cache_read_input"]
        return {"invoke": details, "stream": details}

    def _run(self, model: ChatAzureInference, prompt: Any, *, stream: bool) -> AIMessage:
        if not stream:
            return model.invoke(prompt)
        full: Any = None
        for chunk in model.stream(prompt):
            full = chunk if full is None else full + chunk
        return full  # type: ignore[no-any-return]

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        model = ChatAzureInference(**{**self.chat_model_params, "model": "deepseek-r1"})
        return self._run(model, "Why is the sky blue? Think it through.", stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        # The emulator reports a repeated message prefix (here the long system message) as
        # cached, like the service's prompt caching.
        model = ChatAzureInference(**self.chat_model_params)
        system = ("system", "You summarise documents. " + "Shared preamble text. " * 60)
        self._run(model, [system, ("human", "first question")], stream=stream)
        message = self._run(model, [system, ("human", "second question")], stream=stream)
        assert message.usage_metadata is not None
        assert message.usage_metadata["input_token_details"]["cache_read"] > 0
        return message


class TestChatAzureInferenceFunctionCalling(_EmulatorChatTests):
    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "function_calling"}


class TestChatAzureInferenceJsonSchema(_EmulatorChatTests):
    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "json_schema"}


class TestChatAzureInferenceJsonMode(_EmulatorChatTests):
    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "json_mode"}
