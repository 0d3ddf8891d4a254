"""The source contract on real databases (SQLite and PostgreSQL): write, read back, check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import editing
from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.domain.codes import AccountType, TransactionKind
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.source import Account, DailyBalance, SourceData, Transaction
from ugpp_bridge.errors import SourceDataError, SourceUnavailableError
from ugpp_bridge.service.sample_bank import sample_bank

ANA = PersonId("CC", "52123456")


Sources = Callable[[str], SqlAlchemySource]


def sample_source(
    sources: Sources, url: str, persons: int = 30, seed: int = 5
) -> tuple[SqlAlchemySource, SourceData]:
    source = sources(url)
    parts = list(sample_bank(persons, seed))
    source.write(parts)
    return source, SourceData.merge(parts)


def as_sets(data: SourceData) -> dict[str, set[object]]:
    return {name: set(getattr(data, name)) for name in schema.RELATION_ORDER}


def test_sample_data_reads_back_exactly(sources: Sources, source_url: str) -> None:
    source, written = sample_source(sources, source_url)
    persons = sorted({account.holder for account in written.accounts})
    assert as_sets(source.load(persons)) == as_sets(written)


def test_loading_some_persons_returns_only_their_data(sources: Sources, source_url: str) -> None:
    source, written = sample_source(sources, source_url)
    some = sorted({account.holder for account in written.accounts})[:3]
    loaded = source.load(some)
    assert {account.holder for account in loaded.accounts} == set(some)
    ids = {account.account_id for account in loaded.accounts}
    assert {movement.account_id for movement in loaded.transactions} <= ids
    assert loaded.transactions  # the sample gives movements to every open account


def test_the_sample_meets_the_contract(sources: Sources, source_url: str) -> None:
    source, _ = sample_source(sources, source_url)
    assert source.check() == []


def test_large_amounts_keep_every_centavo(sources: Sources, source_url: str) -> None:
    source = sources(source_url)
    account = Account("A1", ANA, AccountType.CURRENT, "123", date(2024, 1, 1))
    amounts = [Decimal("123456789012.34"), Decimal("-0.01"), Decimal("99999999999.99")]
    source.write(
        [
            SourceData(
                accounts=(account,),
                transactions=tuple(
                    Transaction("A1", date(2025, 1, n + 1), amount, TransactionKind.REGULAR)
                    for n, amount in enumerate(amounts)
                ),
                daily_balances=(DailyBalance("A1", date(2025, 1, 1), Decimal("-98765432109.87")),),
            )
        ]
    )
    loaded = source.load([ANA])
    assert sorted(t.amount for t in loaded.transactions) == sorted(amounts)
    assert loaded.daily_balances[0].balance == Decimal("-98765432109.87")


def test_check_names_missing_relations(sources: Sources, source_url: str) -> None:
    source = sources(source_url)
    with editing(source) as connection:
        schema.accounts.create(connection)
    problems = source.check()
    assert {p.relation for p in problems} == set(schema.RELATION_ORDER) - {"accounts"}
    assert all("missing" in p.message for p in problems)


def test_check_names_missing_columns(sources: Sources, source_url: str) -> None:
    source = sources(source_url)
    with editing(source) as connection:
        for name in schema.RELATION_ORDER:
            if name != "titles":
                schema.RELATIONS[name].create(connection)
        connection.execute(sa.text("CREATE TABLE titles (title_id TEXT, holder_doc_type TEXT)"))
    problems = source.check()
    assert {(p.relation, p.column) for p in problems} == {
        ("titles", "holder_doc_number"),
        ("titles", "title_type"),
        ("titles", "title_number"),
    }


BAD_ROWS = [
    ("accounts", {"account_type": 9}, "accounts.account_type", "BAD-1"),
    ("accounts", {"holder_doc_type": "XX"}, "accounts.holder_doc_type", "BAD-1"),
    ("accounts", {"holder_doc_number": "12.345"}, "accounts.holder_doc_number", "BAD-1"),
    ("accounts", {"holder_doc_number": "12A45"}, "accounts.holder_doc_number", "BAD-1"),
    ("accounts", {"closed_on": date(2019, 1, 1)}, "accounts.closed_on", "BAD-1"),
    ("transactions", {"kind": "refund"}, "transactions.kind", "BAD-1@2025-01-02"),
    ("title_events", {"amount": Decimal("-5")}, "title_events.amount", "T-BAD@2025-01-03"),
    ("title_events", {"event": "rollover"}, "title_events.event", "T-BAD@2025-01-03"),
    ("titles", {"title_type": 0}, "titles.title_type", "T-BAD"),
]


def _good_rows() -> dict[str, dict[str, object]]:
    return {
        "accounts": {
            "account_id": "BAD-1",
            "holder_doc_type": "CC",
            "holder_doc_number": "12345",
            "account_type": 1,
            "account_number": "000111",
            "opened_on": date(2020, 1, 1),
            "closed_on": None,
        },
        "transactions": {
            "account_id": "BAD-1",
            "booked_on": date(2025, 1, 2),
            "amount": Decimal("1"),
            "kind": "regular",
            "counterparty_account_id": None,
        },
        "titles": {
            "title_id": "T-BAD",
            "holder_doc_type": "CC",
            "holder_doc_number": "12345",
            "title_type": 4,
            "title_number": "1",
        },
        "title_events": {
            "title_id": "T-BAD",
            "event_date": date(2025, 1, 3),
            "event": "issue",
            "amount": Decimal("1"),
        },
    }


@pytest.mark.parametrize(("relation", "change", "where", "key"), BAD_ROWS)
def test_check_finds_bad_codes_with_example_keys(
    sources: Sources,
    source_url: str,
    relation: str,
    change: dict[str, object],
    where: str,
    key: str,
) -> None:
    source, _ = sample_source(sources, source_url, persons=3)
    rows = _good_rows()
    rows[relation].update(change)
    with editing(source) as connection:
        for name, row in rows.items():
            connection.execute(schema.RELATIONS[name].insert(), [row])
    problems = source.check()
    assert [p.describe().split(":")[0] for p in problems] == [where]
    assert problems[0].example_keys == (key,)


def test_check_finds_two_balances_for_one_account_and_day(
    sources: Sources, source_url: str
) -> None:
    source, _ = sample_source(sources, source_url, persons=3)
    row = {"account_id": "A9", "balance_date": date(2025, 1, 1), "balance": Decimal(1)}
    with editing(source) as connection:
        connection.execute(schema.daily_balances.insert(), [row, row])
    problems = source.check()
    assert [(p.relation, p.column, p.example_keys) for p in problems] == [
        ("daily_balances", "balance_date", ("A9@2025-01-01",)),
        ("daily_balances", "account_id", ("A9@2025-01-01", "A9@2025-01-01")),  # no account A9
    ]


def test_loading_a_bad_row_is_a_source_data_error_naming_relation_column_and_key(
    sources: Sources, source_url: str
) -> None:
    source, _ = sample_source(sources, source_url, persons=3)
    rows = _good_rows()
    rows["transactions"]["kind"] = "refund"
    with editing(source) as connection:
        for name, row in rows.items():
            connection.execute(schema.RELATIONS[name].insert(), [row])
    with pytest.raises(SourceDataError, match=r"transactions\.kind.*BAD-1@2025-01-02"):
        source.load([PersonId("CC", "12345")])


def test_writing_a_duplicate_keeps_nothing_of_that_write(sources: Sources, source_url: str) -> None:
    source, written = sample_source(sources, source_url, persons=2)
    before = len(source.load(sorted({a.holder for a in written.accounts})).transactions)
    with pytest.raises(SourceUnavailableError, match="nothing was kept"):
        source.write(list(sample_bank(2, 5)))
    assert len(source.load(sorted({a.holder for a in written.accounts})).transactions) == before


def test_an_unreachable_source_is_reported_without_its_password(sources: Sources) -> None:
    source = sources("postgresql://bridge:topsecret@127.0.0.1:1/nowhere")
    with pytest.raises(SourceUnavailableError) as caught:
        source.check()
    assert "topsecret" not in str(caught.value)
    assert "UGPP_BRIDGE_SOURCE_URL" in str(caught.value)


def test_the_sample_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    assert list(sample_bank(20, 3)) == list(sample_bank(20, 3))
    assert list(sample_bank(20, 3)) != list(sample_bank(20, 4))


def test_the_sample_has_the_shapes_the_rules_care_about() -> None:
    data = SourceData.merge(sample_bank(300, 11))
    kinds = {t.kind for t in data.transactions}
    assert kinds == set(TransactionKind)
    by_id = {a.account_id: a for a in data.accounts}
    assert any(
        t.kind is TransactionKind.REGULAR
        and t.counterparty_account_id in by_id
        and by_id[t.counterparty_account_id].holder == by_id[t.account_id].holder
        for t in data.transactions
    ), "own transfers recognisable only through the counterparty"
    assert any(t.amount == 0 for t in data.transactions)
    assert any(a.opened_on.year == 2025 and a.opened_on.month > 1 for a in data.accounts)
    assert any(a.closed_on is not None for a in data.accounts)
    assert {e.event.value for e in data.title_events} == {"issue", "renewal", "cancellation"}
    assert {p.from_fideicomiso for p in data.trust_yield_payments} == {True, False}
    assert any(b.balance < 0 for b in data.daily_balances)
    returned = [t for t in data.transactions if t.kind is TransactionKind.RETURNED_CHEQUE]
    assert 0.005 < len(returned) / len(data.transactions) < 0.08


@pytest.mark.parametrize(
    ("relation", "row", "where", "key"),
    [
        ("accounts", {"account_id": "A0000000-0", "holder_doc_type": "CC", "holder_doc_number": "777",
                      "account_type": 1, "account_number": "1", "opened_on": date(2020, 1, 1), "closed_on": None},
         "accounts.account_id", "A0000000-0"),
        ("titles", {"title_id": "T-DUP", "holder_doc_type": "CC", "holder_doc_number": "777", "title_type": 4, "title_number": "9"},
         "titles.title_id", "T-DUP"),
    ],
)  # fmt: skip
def test_check_finds_a_key_repeated_in_a_view(
    sources: Sources, source_url: str, relation: str, row: dict, where: str, key: str
) -> None:  # type: ignore[type-arg]
    source, _ = sample_source(sources, source_url, persons=3)
    table = schema.RELATIONS[relation]
    with editing(source) as connection:  # a view over two systems can repeat a key
        connection.execute(sa.text(f"CREATE TABLE {relation}_base AS SELECT * FROM {relation}"))
        connection.execute(sa.text(f"DROP TABLE {relation}"))
        connection.execute(sa.text(f"CREATE TABLE {relation} AS SELECT * FROM {relation}_base"))
        connection.execute(table.insert(), [row, row] if relation == "titles" else [row])
    problems = source.check()
    assert [(f"{p.relation}.{p.column}", p.example_keys) for p in problems] == [(where, (key,))]


@pytest.mark.duckdb
@pytest.mark.parametrize("engine", ["duckdb", "parquet"])
def test_duckdb_s_memory_budget_is_the_setting_s(
    engine: str, request: pytest.FixtureRequest
) -> None:
    from ugpp_bridge.bootstrap_source import source_engine
    from ugpp_bridge.config import load_settings
    from ugpp_bridge.errors import ConfigurationError

    url = str(request.getfixturevalue(f"{engine}_url"))

    def budget(settings: dict[str, str]) -> str:
        made = source_engine(url, load_settings(settings))
        try:
            with made.connect() as connection:
                return str(connection.exec_driver_sql(
                    "SELECT current_setting('memory_limit')"
                ).scalar())  # fmt: skip
        finally:
            made.dispose()

    assert budget({}) == "122.0 MiB"  # 128MB, DuckDB counting in MiB
    assert budget({"UGPP_BRIDGE_DUCKDB_MEMORY_LIMIT": "64MB"}) == "61.0 MiB"
    with pytest.raises(ConfigurationError, match="DUCKDB_MEMORY_LIMIT: write a size"):
        load_settings({"UGPP_BRIDGE_DUCKDB_MEMORY_LIMIT": "lots"})
