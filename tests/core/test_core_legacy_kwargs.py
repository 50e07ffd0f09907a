"""lift_legacy_client_kwargs: the one table of deprecated client_kwargs keys."""

from __future__ import annotations

import pytest

from azureinfer.settings import (
    LEGACY_CLIENT_KWARGS,
    ConfigurationError,
    lift_legacy_client_kwargs,
    resolve_settings,
)

ALL_ARGS = dict.fromkeys(LEGACY_CLIENT_KWARGS.values())


def test_table_names_resolve_settings_arguments() -> None:
    import inspect

    params = inspect.signature(resolve_settings).parameters
    assert set(LEGACY_CLIENT_KWARGS.values()) <= set(params)
    assert dict(LEGACY_CLIENT_KWARGS) == {
        "api_version": "api_version",
        "credential_scopes": "credential_scopes",
        "headers": "headers",
        "user_agent": "user_agent",
        "retry_total": "max_retries",
    }


def test_lift_moves_keys_without_mutating() -> None:
    kwargs = {
        "api_version": "2025-04-01",
        "credential_scopes": ("s1",),
        "headers": {"x-a": "kw", "x-b": "kw"},
        "user_agent": "old/1",
        "retry_total": 0,
        "read_timeout": 5,
    }
    before = dict(kwargs)
    rest, moved = lift_legacy_client_kwargs(kwargs, {**ALL_ARGS, "headers": {"x-b": "arg"}})
    assert kwargs == before
    assert rest == {"read_timeout": 5}
    assert moved == {
        "api_version": "2025-04-01",
        "credential_scopes": ["s1"],
        "headers": {"x-a": "kw", "x-b": "arg"},
        "user_agent": "old/1",
        "max_retries": 0,
    }


def test_lift_only_moves_to_the_arguments_named() -> None:
    rest, moved = lift_legacy_client_kwargs(
        {"user_agent": "old/1", "retry_total": 2}, {"max_retries": None}
    )
    assert rest == {"user_agent": "old/1"} and moved == {"max_retries": 2}
    assert lift_legacy_client_kwargs(None, ALL_ARGS) == (None, {})


def test_lift_conflicts_and_agreements() -> None:
    with pytest.raises(ConfigurationError, match=r"client_kwargs\['retry_total'\]=1 conflicts"):
        lift_legacy_client_kwargs({"retry_total": 1}, {"max_retries": 2})
    _, moved = lift_legacy_client_kwargs({"credential_scopes": "s"}, {"credential_scopes": ["s"]})
    assert moved == {"credential_scopes": ["s"]}
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        lift_legacy_client_kwargs({"headers": "x-a: 1"}, {"headers": None})
