"""Many rows in one PostgreSQL statement, given column by column (`unnest` of arrays).

A statement that writes N rows through N parameter sets makes SQLAlchemy build N rows of
bound values in Python, and a multi-row VALUES grows with N (and is bounded by the
protocol's 32,767 parameters). Here each column is ONE parameter whatever N: an array read
by `unnest(...) WITH ORDINALITY`, or, when every row holds the same value (the brand, the
site, the clock of a request, a column left empty), that value once. The driver (asyncpg)
encodes a list element by element, so a column sent once costs nothing per row.

Array types are plain base types (`text[]`, `numeric[]`), never `varchar(n)[]` or
`numeric(p, s)[]`: an explicit cast to those would cut a long value short or round it
silently, where the INSERT's own conversion to the column refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Columns:
    """The SQL of columns given from parameter `$first` on, one parameter per column.

    `values[i]` is the expression of column i in a `SELECT ... FROM {source}`; `source`
    yields one row per element of the arrays, with `ord` (1, 2, ...) their position.
    """

    values: tuple[str, ...]
    source: str


def column_parameters(columns: Sequence[Sequence[Any]]) -> tuple[tuple[bool, ...], list[Any]]:
    """(which columns are sent as one value, the parameters): a column whose values are all
    the same is its first value; any other the list of its values. Every column has the
    same length, at least 1; one column (the first that varies, else the first) stays a list
    so the statement has rows to read."""
    single: list[bool] = []
    params: list[Any] = []
    for values in columns:
        first = values[0]
        same = all(value is first or value == first for value in values)
        single.append(same)
        params.append(first if same else list(values))
    if all(single):
        single[0] = False
        params[0] = list(columns[0])
    return tuple(single), params


def unnest_columns(types: Sequence[str], single: Sequence[bool], first: int) -> Columns:
    """The expressions and row source for columns of these PostgreSQL `types` (`uuid`,
    `text`, ...), the ones marked `single` a scalar parameter, the others an array."""
    values: list[str] = []
    arrays: list[str] = []
    names: list[str] = []
    for i, (sql_type, one) in enumerate(zip(types, single, strict=True)):
        parameter = f"${first + i}"
        if one:
            values.append(f"CAST({parameter} AS {sql_type})")
        else:
            arrays.append(f"CAST({parameter} AS {sql_type}[])")
            names.append(f"c{i}")
            values.append(f"u.c{i}")
    if not arrays:
        raise ValueError("at least one column must be an array")
    source = f"unnest({', '.join(arrays)}) WITH ORDINALITY AS u({', '.join(names)}, ord)"
    return Columns(tuple(values), source)
