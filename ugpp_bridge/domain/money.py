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
    if type(cents) is not int:  # the SQL build's sums are ints; anything else is checked
        value = int(cents)
        if value != cents:
            raise ValueError(f"{cents!r} is not a whole number of centavos")
        cents = value
    pesos = (abs(cents) + 50) // 100  # 50 centavos and more round away from zero
    return -pesos if cents < 0 else pesos
