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

import contextlib
import contextvars
import logging
from collections.abc import Iterator
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


@contextlib.contextmanager
def _quiet(endpoint: str, scopes: tuple[str, ...]) -> Iterator[None]:
    """azure-identity's records demoted to DEBUG, and its failure to find a token raised as
    the one `no_credential_error`."""
    quiet = _QUIET.set(True)
    try:
        yield
    except ClientAuthenticationError as exc:
        if isinstance(exc, AuthenticationError):
            raise
        raise no_credential_error(endpoint, scopes) from None
    finally:
        _QUIET.reset(quiet)


class _QuietDefaultCredential:
    """A sync ``DefaultAzureCredential`` (``inner``) with one clear error and a quiet chain."""

    def __init__(self, inner: Any, endpoint: str, scopes: tuple[str, ...]) -> None:
        self._inner, self._endpoint, self._scopes = inner, endpoint, scopes

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """``TokenCredential.get_token``."""
        with _quiet(self._endpoint, self._scopes):
            return self._inner.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        """``SupportsTokenInfo.get_token_info``."""
        with _quiet(self._endpoint, self._scopes):
            return self._inner.get_token_info(*scopes, **kwargs)

    def close(self) -> None:
        """Close the wrapped credential."""
        self._inner.close()


class _AsyncQuietDefaultCredential:
    """The async twin of `_QuietDefaultCredential` (``azure.identity.aio``)."""

    def __init__(self, inner: Any, endpoint: str, scopes: tuple[str, ...]) -> None:
        self._inner, self._endpoint, self._scopes = inner, endpoint, scopes

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """``AsyncTokenCredential.get_token``."""
        with _quiet(self._endpoint, self._scopes):
            return await self._inner.get_token(*scopes, **kwargs)

    async def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        """``AsyncSupportsTokenInfo.get_token_info``."""
        with _quiet(self._endpoint, self._scopes):
            return await self._inner.get_token_info(*scopes, **kwargs)

    async def close(self) -> None:
        """Close the wrapped credential."""
        await self._inner.close()

    async def __aenter__(self) -> _AsyncQuietDefaultCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def default_credential(endpoint: str, scopes: tuple[str, ...], *, is_async: bool) -> Any:
    """The lazy ``DefaultAzureCredential`` for a client given no credential (sync or async)."""
    if is_async:
        from azure.identity.aio import DefaultAzureCredential
    else:
        from azure.identity import DefaultAzureCredential  # type: ignore[assignment]
    _install_filter()  # azure-identity's loggers exist by now
    scopes = tuple(scopes)
    with _quiet(endpoint, scopes):
        inner = DefaultAzureCredential()
    cls = _AsyncQuietDefaultCredential if is_async else _QuietDefaultCredential
    return cls(inner, endpoint, scopes)
