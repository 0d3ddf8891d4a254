"""Money as ``Decimal``: sum in centavos first, round the final figure to whole pesos (SPEC §2)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_PESO = Decimal(1)
CENTAVO = Decimal("0.01")


def to_pesos(amount: Decimal) -> int:
    """Round a final figure to whole pesos, half away from zero (``ROUND_HALF_UP`` is that).

    Only final figures go through here: sums are taken over the exact centavo amounts first,
    so rounding never accumulates.
    """
    return int(amount.quantize(ONE_PESO, rounding=ROUND_HALF_UP))


def cents_to_pesos(cents: int | Decimal) -> int:
    """Whole pesos from an exact number of centavos (what the SQL build sums), half away from
    zero — the same rounding as ``to_pesos``, in integer arithmetic."""
    value = int(cents)
    if value != cents:
        raise ValueError(f"{cents!r} is not a whole number of centavos")
    pesos, rest = divmod(abs(value), 100)
    pesos += rest >= 50
    return -pesos if value < 0 else pesos
