"""The ``DefaultAzureCredential`` azureinfer creates when it is given no credential.

With an endpoint and no key, the clients fall back to Entra ID through a lazy
``DefaultAzureCredential``. When no credential of its chain can get a token, azure-identity
logs the whole chain at WARNING and raises it again as the error: a wall of text that never
says "set the key". The credential made here instead raises one `AuthenticationError` naming
both ways out (a key, or an Entra ID login for the scope used), and demotes azure-identity's
records to DEBUG while it asks for a token (enable DEBUG on the ``azure.identity`` logger to
see every credential tried). Credentials the caller passes are used as they are.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from azure.core.exceptions import ClientAuthenticationError

from azureinfer.errors import AuthenticationError

__all__ = ["default_credential", "no_credential_error"]

_QUIET: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "azureinfer_quiet_identity", default=False
)


class _DemoteWhileQuiet(logging.Filter):
    """Turns azure-identity's records into DEBUG ones while our credential asks for a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _QUIET.get() or record.levelno <= logging.DEBUG:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_FILTER = _DemoteWhileQuiet()


def _install_filter() -> None:
    """Put the filter on every azure-identity logger (its modules, imported by now, made them)."""
    names = [n for n in list(logging.root.manager.loggerDict) if n.startswith("azure.identity")]
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def no_credential_error(endpoint: str, scopes: tuple[str, ...]) -> AuthenticationError:
    """The one error for "no key given and no Entra ID token to be had"."""
    return AuthenticationError(
        f"No credential for {endpoint}: set AZURE_INFERENCE_CREDENTIAL or pass credential= "
        f"with an API key, or sign in with Entra ID (for example `az login`) for the scope "
        f"{' '.join(scopes)}. Every credential DefaultAzureCredential tried is logged at DEBUG "
        "by the 'azure.identity' logger."
    )


class _QuietDefaultCredential:
    """A sync ``DefaultAzureCredential`` with one clear error and a quiet chain."""

    def __init__(self, endpoint: str, scopes: tuple[str, ...]) -> None:
        from azure.identity import DefaultAzureCredential

        _install_filter()
        quiet = _QUIET.set(True)
        try:
            self._inner = DefaultAzureCredential()
        finally:
            _QUIET.reset(quiet)
        self._endpoint, self._scopes = endpoint, scopes

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        quiet = _QUIET.set(True)
        try:
            return getattr(self._inner, method)(*args, **kwargs)
        except ClientAuthenticationError as exc:
            if isinstance(exc, AuthenticationError):
                raise
            raise no_credential_error(self._endpoint, self._scopes) from None
        finally:
            _QUIET.reset(quiet)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """``TokenCredential.get_token``."""
        return self._call("get_token", *scopes, **kwargs)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        """``SupportsTokenInfo.get_token_info``."""
        return self._call("get_token_info", *scopes, **kwargs)

    def close(self) -> None:
        """Close the wrapped credential."""
        self._inner.close()


class _AsyncQuietDefaultCredential:
    """The async twin of `_QuietDefaultCredential` (``azure.identity.aio``)."""

    def __init__(self, endpoint: str, scopes: tuple[str, ...]) -> None:
        from azure.identity.aio import DefaultAzureCredential

        _install_filter()
        quiet = _QUIET.set(True)
        try:
            self._inner = DefaultAzureCredential()
        finally:
            _QUIET.reset(quiet)
        self._endpoint, self._scopes = endpoint, scopes

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        quiet = _QUIET.set(True)
        try:
            return await getattr(self._inner, method)(*args, **kwargs)
        except ClientAuthenticationError as exc:
            if isinstance(exc, AuthenticationError):
                raise
            raise no_credential_error(self._endpoint, self._scopes) from None
        finally:
            _QUIET.reset(quiet)

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """``AsyncTokenCredential.get_token``."""
        return await self._call("get_token", *scopes, **kwargs)

    async def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        """``AsyncSupportsTokenInfo.get_token_info``."""
        return await self._call("get_token_info", *scopes, **kwargs)

    async def close(self) -> None:
        """Close the wrapped credential."""
        await self._inner.close()

    async def __aenter__(self) -> _AsyncQuietDefaultCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def default_credential(endpoint: str, scopes: tuple[str, ...], *, is_async: bool) -> Any:
    """The lazy ``DefaultAzureCredential`` for a client given no credential (sync or async)."""
    cls = _AsyncQuietDefaultCredential if is_async else _QuietDefaultCredential
    return cls(endpoint, tuple(scopes))
