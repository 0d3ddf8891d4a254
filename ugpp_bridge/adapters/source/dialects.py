"""The SQL constructs whose text differs by engine, each with its portable form.

An engine's module (``engines/``) registers its own form of each (``@compiles(..., dialect)``)
and its column types (``KEY_TYPES``, ``FLOAT_AMOUNTS``) when the registry imports it, so that
the build (``report_sql``), the checks (``check``) and the contract's tables (``schema``) are
written once, without naming an engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Dialect, Integer, Text, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

# dialect → the type of the contract's text keys and codes where plain TEXT will not do
KEY_TYPES: dict[str, TypeEngine[Any]] = {}
# dialects that store NUMERIC as a binary float (read back rounded to the centavo)
FLOAT_AMOUNTS: set[str] = set()


class KeyText(TypeDecorator[str]):
    """Text columns as written by ``source sample`` and ``source import``: TEXT, or the
    engine's ``KEY_TYPES`` form (MySQL/MariaDB index no TEXT column without a length and
    compare text case-insensitively under their default collations)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(KEY_TYPES.get(dialect.name, Text()))


class days_between(FunctionElement[int]):  # noqa: N801 — SQL function naming
    """Whole days from the first date to the second (``end − start``)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_default(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({end} - {start})"


class chars_in(FunctionElement[bool]):  # noqa: N801 — SQL function naming
    """Whether ``text`` is made only of ``chars`` (a bracket class of ASCII ranges, such as
    ``A-Za-z0-9``), 1 to ``longest`` of them — or, with ``anywhere``, holds at least one.

    A regular expression on every engine but SQLite, whose REGEXP calls back into Python for
    each row (0.9 s for the holder scan of the bench bank) and whose ``$`` admits a trailing
    line break: there, ``length()`` and ``GLOB``, native and exact.
    """

    type = Boolean()
    inherit_cache = False  # the class and the length are written into the SQL text

    def __init__(
        self, text: ColumnElement[Any], chars: str, longest: int | None = None,
        *, anywhere: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(text)
        self.chars, self.longest, self.anywhere = chars, longest, anywhere


@compiles(chars_in)
def _chars_in_regex(element: chars_in, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    if element.anywhere:
        return compiler.process(text.regexp_match(f"[{element.chars}]"), **kw)
    count = f"{{1,{element.longest}}}" if element.longest else "+"
    return compiler.process(text.regexp_match(f"^[{element.chars}]{count}$"), **kw)


def length_and_class(
    element: chars_in, compiler: SQLCompiler, length: str, holds: str, **kw: Any
) -> str:
    """``chars_in`` without an anchored pattern: ``holds`` (one character of a class, as the
    engine's GLOB or REGEXP writes it) for ``anywhere``, else a length between 1 and
    ``longest`` and no character outside the class."""
    (text,) = element.clauses
    value = compiler.process(text, **kw)
    if element.anywhere:
        return f"({value} {holds.format(element.chars)})"
    longest = f" AND {length}({value}) <= {int(element.longest)}" if element.longest else ""
    return f"({length}({value}) >= 1{longest} AND {value} NOT {holds.format('^' + element.chars)})"


class byte_exact(FunctionElement[str]):  # noqa: N801 — SQL function naming
    """A text compared byte for byte, whatever the collation of what it meets: MySQL and
    MariaDB compare under the column's collation, case- and trailing-space-insensitive by
    default (``'cc' = 'CC'``, ``'x300' = 'X300'``). An explicit binary collation wins there;
    elsewhere, the value itself."""

    type = Text()
    inherit_cache = True


@compiles(byte_exact)
def _byte_exact_default(element: byte_exact, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)
