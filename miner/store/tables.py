"""What every table object shares: the store it belongs to and a way to bind a list of values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlite_utils import Database

if TYPE_CHECKING:
    from miner.store import Store


class Table:
    """A table (or a few tables that change together) of one store, in the style of sqlite-utils'
    ``Table``: documented methods that take and return plain values and dataclasses."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def db(self) -> Database:
        return self.store.db


def marks(values: list) -> str:
    """``?,?,?`` for an ``in (...)`` of these values."""
    return ",".join("?" * len(values))
