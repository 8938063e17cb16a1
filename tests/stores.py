"""Marks and types the store contract suites share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from sorawatch.store import Store

StoreFactory = Callable[[], Awaitable[Store]]

# The ``store`` fixture runs each test on every backend; these run on the SQL ones only.
sql_only = pytest.mark.parametrize(
    "store_url",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
