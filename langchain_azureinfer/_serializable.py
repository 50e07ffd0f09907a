"""The LangChain serialisation hooks both classes share (``dumpd`` / ``dumps`` / ``loads``)."""

from __future__ import annotations

from typing import ClassVar

from langchain_core.load.serializable import Serializable

from azureinfer.settings import KEY_ENV_VARS

__all__ = ["AzureInferenceSerializable"]


class AzureInferenceSerializable(Serializable):
    """Serialisable with ``dumpd`` / ``dumps``: the fields are kept, the credential becomes a
    secret reference to ``AZURE_INFERENCE_CREDENTIAL`` (``loads`` reads it back from there)."""

    _lc_module: ClassVar[str]
    """The module the class lives in, under ``langchain_azureinfer``."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """True: ``dumpd`` keeps the fields; the credential stays a secret reference."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """``["langchain_azureinfer", <module>]``."""
        return ["langchain_azureinfer", cls._lc_module]

    @property
    def lc_secrets(self) -> dict[str, str]:
        """The credential is read back from ``AZURE_INFERENCE_CREDENTIAL``."""
        return {"credential": KEY_ENV_VARS[0]}
