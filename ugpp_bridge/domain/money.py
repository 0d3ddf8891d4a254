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
    """Whole pesos from an exact number of centavos (what the SQL build sums)."""
    return to_pesos(Decimal(cents).scaleb(-2))
