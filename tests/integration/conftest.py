"""Shared fixtures for the integration tests: they run against the real local stack (`make stack-up`).

Nothing here skips: an integration test run without the stack is a failure that says how to start it. Each
fixture acts as one store role, with that role's own keys, as the entrypoints do: `stack_settings` is the
engines', `uploader_settings` writes landing, and `admin_settings` (the store's root) is only for fixtures that
create or remove buckets.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests import stack_probe
from tests.stack_probe import load_role
from twinlake.settings import Settings, StoreRole


@pytest.fixture(scope="session")
def stack_settings() -> Settings:
    """The engines' settings, after checking that both the broker and the store answer; fails (never skips)."""
    return stack_probe.stack_settings()


@pytest.fixture(scope="session")
def settings_as(stack_settings: Settings) -> Callable[[StoreRole], Settings]:
    """`settings_as(role)`: the stack's settings with that role's keys (the stack is checked first)."""
    return load_role


@pytest.fixture(scope="session")
def uploader_settings(settings_as: Callable[[StoreRole], Settings]) -> Settings:
    return settings_as(StoreRole.UPLOADER)


@pytest.fixture(scope="session")
def admin_settings(settings_as: Callable[[StoreRole], Settings]) -> Settings:
    """The store's root keys: only for fixtures that create or remove buckets."""
    return settings_as(StoreRole.ADMIN)
