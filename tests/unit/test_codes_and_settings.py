"""Identifiers and codes (SPEC §2 Codes), money rounding, settings (SPEC §8), domain purity."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from ugpp_bridge.config import Settings, load_settings
from ugpp_bridge.domain.codes import AccountType, TitleType, parse_code
from ugpp_bridge.domain.identifiers import PersonId, nit_check_digit
from ugpp_bridge.domain.money import cents_to_pesos, to_pesos
from ugpp_bridge.errors import ConfigurationError, InvalidInputError

DIAN_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def spec_check_digit(nit: str) -> int:
    """SPEC §2 read literally, as an independent oracle for the library."""
    total = sum(
        int(digit) * weight for digit, weight in zip(reversed(nit), DIAN_WEIGHTS, strict=False)
    )
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


@pytest.mark.parametrize(
    ("nit", "digit"),
    [("800197268", 4), ("890903938", 8), ("860002964", 4), ("860034313", 7), ("899999068", 1)],
)
def test_nit_check_digit_follows_dian(nit: str, digit: int) -> None:
    assert nit_check_digit(nit) == digit == spec_check_digit(nit)


@pytest.mark.parametrize("nit", [str(n) for n in range(800_000_000, 800_000_200, 7)])
def test_nit_check_digit_agrees_with_the_spec_formula(nit: str) -> None:
    assert nit_check_digit(nit) == spec_check_digit(nit)


@pytest.mark.parametrize("nit", ["", "80019726-8", "800.197.268", "12345", "a00197268"])
def test_malformed_operator_nits_are_refused(nit: str) -> None:
    with pytest.raises(InvalidInputError, match="NIT"):
        nit_check_digit(nit)


@pytest.mark.parametrize(
    ("doc_type", "number"),
    [
        ("CC", "52123456"),
        ("PT", "7788990"),
        ("PA", "AX1234567"),
        ("CE", "312"),
        ("RC", "1234"),
        ("SC", "SC12A"),
        ("NI", "800197268"),
    ],
)
def test_valid_person_ids_are_accepted(doc_type: str, number: str) -> None:
    assert PersonId(doc_type, number).doc_number == number


@pytest.mark.parametrize(
    ("doc_type", "number", "message"),
    [
        ("XX", "1", "Unknown document type"),
        ("cc", "1", "Unknown document type"),
        ("CC", "", "1 to 16"),
        ("CC", "1" * 17, "1 to 16"),
        ("CE", "12-34", "1 to 16"),
        ("CC", "12A4", "digits only"),
        ("CE", "E12", "digits only"),
        ("RC", "12B", "digits only"),
        ("TI", "1O1", "digits only"),
        ("TI", "X1", "digits only"),
    ],
)
def test_invalid_person_ids_are_refused(doc_type: str, number: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        PersonId(doc_type, number)


def test_masked_person_ids_hide_the_number() -> None:
    assert PersonId("CC", "52123456").masked() == "CC:***56"


def test_codes_are_the_spec_tables() -> None:
    assert [int(code) for code in AccountType] == [1, 2, 3, 4, 5]
    assert [int(code) for code in TitleType] == [1, 2, 3, 4, 5, 6, 7]
    with pytest.raises(InvalidInputError, match="account_type"):
        parse_code(AccountType, 6, "account_type")


@pytest.mark.parametrize(
    ("amount", "pesos"),
    [("0.50", 1), ("-0.50", -1), ("1.49", 1), ("2.50", 3), ("-2.50", -3), ("-2.49", -2), ("0", 0)],
)
def test_pesos_round_half_away_from_zero(amount: str, pesos: int) -> None:
    assert to_pesos(Decimal(amount)) == pesos


def test_settings_have_the_spec_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///ugpp_bridge.db"
    assert (settings.lote_max_records, settings.ugpp_auth, settings.account_number_digits) == (
        5000,
        "token",
        4,
    )
    assert settings.uvt_values[2026] == 52_374


def test_settings_come_from_the_environment_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('UGPP_BRIDGE_PORT = 9000\nlote_max_records = 10\nhost = "0.0.0.0"\n')
    settings = load_settings({"UGPP_BRIDGE_PORT": "9100", "OTHER": "x"}, config)
    assert (settings.port, settings.lote_max_records, settings.host) == (9100, 10, "0.0.0.0")


def test_uvt_values_for_later_years_can_be_configured() -> None:
    settings = load_settings({"UGPP_BRIDGE_UVT_VALUES": "2027=55000, 2028=57000"})
    assert (settings.uvt_values[2027], settings.uvt_values[2019]) == (55_000, 34_270)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("UGPP_BRIDGE_PORT", "eighty"),
        ("UGPP_BRIDGE_PORT", "70000"),
        ("UGPP_BRIDGE_UGPP_AUTH", "basic"),
        ("UGPP_BRIDGE_TERM_STARTS_NEXT_DAY", "maybe"),
        ("UGPP_BRIDGE_OPERATOR_NIT", "800197268-4"),
        ("UGPP_BRIDGE_ACCOUNT_NUMBER_DIGITS", "3"),
        ("UGPP_BRIDGE_LOTE_MAX_RECORDS", "0"),
        ("UGPP_BRIDGE_UVT_VALUES", "2027"),
        ("UGPP_BRIDGE_POTR", "1"),
    ],
)
def test_bad_settings_fail_naming_the_setting(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        load_settings({key: value})


def test_secrets_are_required_by_name_and_never_shown() -> None:
    settings = load_settings({"UGPP_BRIDGE_UGPP_PASSWORD": "s3cret-value"})
    assert "s3cret-value" not in repr(settings)
    with pytest.raises(ConfigurationError, match="UGPP_BRIDGE_INBOUND_PASSWORD"):
        Settings().require("inbound_password", "check UsernameTokens")


def test_the_domain_imports_only_the_standard_library_and_pure_data_libraries() -> None:
    allowed_third_party = {"stdnum"}
    domain = Path(__file__).parents[2] / "ugpp_bridge" / "domain"
    offenders = []
    for path in domain.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in {"ugpp_bridge", "__future__"} | allowed_third_party and not _stdlib(
                    top
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def _stdlib(module: str) -> bool:
    import sys

    return module in sys.stdlib_module_names


@pytest.mark.parametrize(
    "cents", [0, 1, 49, 50, 51, 149, 150, 250, -1, -49, -50, -51, -250, 123456789012345, -99]
)
def test_integer_centavos_round_to_pesos_like_decimals(cents: int) -> None:
    assert cents_to_pesos(cents) == to_pesos(Decimal(cents).scaleb(-2))
    assert cents_to_pesos(Decimal(cents)) == to_pesos(Decimal(cents).scaleb(-2))


@pytest.mark.parametrize("cents", [Decimal("1.5"), Decimal("-0.01"), 2.5])
def test_a_fraction_of_a_centavo_is_refused_not_rounded(cents: Decimal | float) -> None:
    # Only ints take the fast path; any other value must be a whole number of centavos.
    with pytest.raises(ValueError, match="not a whole number of centavos"):
        cents_to_pesos(cents)  # type: ignore[arg-type]
