"""Spark SQL for SQLAlchemy Core: a dialect and a small DB-API over a ``SparkSession``.

The build's Core statements (``report_sql``) and the contract checks (``check``) are the one
definition of the rules; this dialect renders them as Spark SQL — backquoted identifiers,
``RLIKE`` for regular expressions, ``datediff`` for days between dates, ``STRING`` for text —
and the DB-API below runs them with ``SparkSession.sql(text, args=...)`` (named parameters,
never pasted into the text) and streams the rows with ``toLocalIterator``: the result comes to
the bridge a partition at a time, whatever its size.

No maintained package offers this for an in-process ``SparkSession`` (PyHive and the Databricks
connector speak to a Thrift or SQL-warehouse server), so it is written here, kept to what the
bridge executes: reads. Writes go to Parquet files (``parquet.write_parquet``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import registry
from sqlalchemy.engine import default
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import compiler
from sqlalchemy.sql.elements import BinaryExpression

from ugpp_bridge.adapters.source.dialects import days_between

# -- DB-API 2.0 module surface (PEP 249), as SQLAlchemy expects of ``import_dbapi()`` ---------

apilevel = "2.0"
threadsafety = 1
paramstyle = "named"


class Error(Exception):
    """Every failure Spark reports, translated at this boundary (PEP 249's root)."""


class Warning(Exception):  # noqa: A001,N818 — PEP 249's name
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


def reason(exc: BaseException) -> str:
    """The first line of what Spark says failed: the JVM's exception where py4j carries one
    (py4j's own line is only "An error occurred while calling o123.…")."""
    java = getattr(exc, "java_exception", None)
    lines = str(java if java is not None else exc).strip().splitlines() or [type(exc).__name__]
    return lines[0]


def _translate(exc: Exception) -> Error:
    """Spark's analysis errors (a missing relation or column, a type mismatch) are programming
    errors; anything else — a failed job, a lost executor, an arithmetic overflow under ANSI
    mode — is operational."""
    from pyspark.errors import AnalysisException, ParseException  # optional [spark] extra

    analysis = isinstance(exc, AnalysisException | ParseException)
    return (ProgrammingError if analysis else OperationalError)(reason(exc))


class SparkConnection:
    """One DB-API connection: a Spark session of its own (its temporary views are its own),
    sharing the process's ``SparkContext``. ``relations`` are the contract's relations it
    found and registered as views."""

    def __init__(self, session: Any, relations: Mapping[str, str]) -> None:
        self.session = session
        self.relations = dict(relations)  # relation → where it was read from

    def cursor(self) -> SparkCursor:
        return SparkCursor(self)

    def commit(self) -> None:
        """Reads only: nothing to commit."""

    def rollback(self) -> None:
        """Reads only: nothing to roll back."""

    def close(self) -> None:
        if type(self.session).__module__.startswith("pyspark.sql.connect"):
            self.session.stop()  # a Connect session of its own: released on the server
            return
        for name in self.session.catalog.listTables():
            if name.isTemporary:
                self.session.catalog.dropTempView(name.name)


class SparkCursor:
    arraysize = 1_000
    rowcount = -1
    lastrowid = None

    def __init__(self, connection: SparkConnection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self._rows: Iterator[tuple[Any, ...]] = iter(())

    def execute(self, operation: str, parameters: Mapping[str, Any] | None = None) -> None:
        try:
            frame = self.connection.session.sql(operation, args=dict(parameters or {}) or None)
            fields = frame.schema.fields
        except Exception as exc:  # noqa: BLE001 — Spark's own errors, translated once here
            raise _translate(exc) from exc
        if not fields:  # a command (CREATE VIEW …): Spark ran it already
            self.description, self._rows = None, iter(())
            return
        self.description = [
            (f.name, f.dataType.simpleString(), None, None, None, None, f.nullable) for f in fields
        ]
        self._rows = self._stream(frame)

    def executemany(self, operation: str, seq: Sequence[Mapping[str, Any]]) -> None:
        raise NotSupportedError("the Spark source is read-only; the bridge writes Parquet files")

    @staticmethod
    def _stream(frame: Any) -> Iterator[tuple[Any, ...]]:
        try:
            for row in frame.toLocalIterator(prefetchPartitions=True):
                yield tuple(row)
        except Exception as exc:  # noqa: BLE001 — a job's failure surfaces while reading
            raise _translate(exc) from exc

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self._rows, None)

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        return list(islice(self._rows, size or self.arraysize))

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def close(self) -> None:
        self._rows = iter(())

    def setinputsizes(self, *_sizes: object) -> None:
        pass

    def setoutputsize(self, *_size: object) -> None:
        pass


# -- SQLAlchemy dialect -----------------------------------------------------------------------


class SparkCompiler(compiler.SQLCompiler):
    def visit_regexp_match_op_binary(
        self, binary: BinaryExpression[Any], operator: Any, **kw: Any
    ) -> str:
        return f"{self.process(binary.left, **kw)} RLIKE {self.process(binary.right, **kw)}"

    def visit_not_regexp_match_op_binary(
        self, binary: BinaryExpression[Any], operator: Any, **kw: Any
    ) -> str:
        return f"NOT ({self.visit_regexp_match_op_binary(binary, operator, **kw)})"


class SparkTypeCompiler(compiler.GenericTypeCompiler):
    def visit_TEXT(self, type_: Any, **kw: Any) -> str:  # noqa: N802 — SQLAlchemy's name
        return "STRING"

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:  # noqa: N802
        return "STRING"

    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:  # noqa: N802
        return "TIMESTAMP"


class SparkIdentifierPreparer(compiler.IdentifierPreparer):
    def __init__(
        self,
        dialect: Any,
        initial_quote: str = "`",
        final_quote: str | None = None,
        escape_quote: str = "`",
        quote_case_sensitive_collations: bool = True,
        omit_schema: bool = False,
    ) -> None:
        super().__init__(
            dialect, initial_quote, final_quote, escape_quote, quote_case_sensitive_collations,
            omit_schema,
        )  # fmt: skip

    def _requires_quotes(self, value: str) -> bool:
        return True  # every identifier backquoted: no keyword list to keep in step with Spark


@compiles(days_between, "spark")
def _days_spark(element: days_between, compiler_: compiler.SQLCompiler, **kw: Any) -> str:
    start, end = (compiler_.process(arg, **kw) for arg in element.clauses)
    return f"datediff({end}, {start})"


_TYPES: dict[str, type[sqltypes.TypeEngine[Any]]] = {
    "string": sqltypes.Text, "varchar": sqltypes.Text, "char": sqltypes.Text,
    "date": sqltypes.Date, "timestamp": sqltypes.DateTime, "timestamp_ntz": sqltypes.DateTime,
    "boolean": sqltypes.Boolean, "tinyint": sqltypes.SmallInteger,
    "smallint": sqltypes.SmallInteger, "int": sqltypes.Integer, "bigint": sqltypes.BigInteger,
    "float": sqltypes.Float, "double": sqltypes.Double,
}  # fmt: skip


def reflected_type(spark_type: str) -> sqltypes.TypeEngine[Any]:
    """A Spark type name (``decimal(20,2)``, ``string``…) as a SQLAlchemy type."""
    name = spark_type.split("(", 1)[0].strip().lower()
    if name == "decimal":
        precision, _, scale = spark_type.partition("(")[2].rstrip(")").partition(",")
        return sqltypes.Numeric(int(precision or 10), int(scale or 0))
    return _TYPES.get(name, sqltypes.NullType)()


class SparkDialect(default.DefaultDialect):
    """Spark SQL, read-only, over ``SparkConnection`` (a connection ``creator`` supplies them)."""

    name = "spark"
    driver = "pyspark"
    supports_statement_cache = True
    statement_compiler = SparkCompiler
    type_compiler_cls = SparkTypeCompiler
    preparer = SparkIdentifierPreparer
    default_paramstyle = "named"
    supports_native_boolean = True
    supports_native_decimal = True
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    supports_multivalues_insert = False
    tuple_in_values = False
    postfetch_lastrowid = False

    @classmethod
    def import_dbapi(cls) -> Any:
        import sys  # only on this path

        return sys.modules[__name__]

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        version = spark_connection(connection).session.version
        return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())

    def _get_default_schema_name(self, connection: Any) -> str:
        return "default"

    def get_isolation_level(self, dbapi_connection: Any) -> Any:
        raise NotImplementedError  # Spark SQL has no transactions

    def do_ping(self, dbapi_connection: Any) -> bool:
        return True

    def has_table(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        return table_name in spark_connection(connection).relations

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []  # the contract's relations are registered as views (see get_view_names)

    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return sorted(spark_connection(connection).relations)

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        fields = spark_connection(connection).session.table(table_name).schema.fields
        return [
            {
                "name": f.name,
                "type": reflected_type(f.dataType.simpleString()),
                "nullable": f.nullable,
                "default": None,
            }
            for f in fields
        ]

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> Any:
        return {"constrained_columns": [], "name": None}

    def get_foreign_keys(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        return []

    def get_indexes(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        return []


def spark_connection(connection: Any) -> SparkConnection:
    """The ``SparkConnection`` under a SQLAlchemy ``Connection``."""
    dbapi_connection = connection.connection.dbapi_connection
    assert isinstance(dbapi_connection, SparkConnection)
    return dbapi_connection


registry.register("ugpp_spark", __name__, "SparkDialect")  # create_engine("ugpp_spark://")
