"""Time-off allowances per contract: annual entitlement in hours, accrual, balance.

The leave year starts on ``year_start_month`` / 1. ``Accrual.UPFRONT`` credits the whole
annual entitlement on its first day; ``Accrual.MONTHLY`` credits one twelfth at the start of
each month of the leave year (so in the k-th month, k twelfths are available). The balance
is ``carry_over_h + accrued - taken`` (hours); a request may not take it below
``-max_negative_h``.

Examples
--------
>>> from datetime import date
>>> a = Allowance(annual_h=180.0, accrual=Accrual.MONTHLY)
>>> a.accrued_h(date(2026, 3, 30))          # 3 months of 15 h
45.0
>>> a.balance_h(date(2026, 3, 30), taken_h=40.0)
5.0
>>> a.allows(date(2026, 3, 30), taken_h=40.0, request_h=8.0)
False
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["Accrual", "Allowance"]


class Accrual(StrEnum):
    """How the annual entitlement becomes available."""

    UPFRONT = "upfront"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Allowance:
    """A contract's annual leave (hours)."""

    annual_h: float
    accrual: Accrual = Accrual.MONTHLY
    carry_over_h: float = 0.0
    year_start_month: int = 1
    max_negative_h: float = 0.0

    def __post_init__(self) -> None:
        if self.annual_h < 0 or not 1 <= self.year_start_month <= 12:
            raise ValueError("annual_h >= 0 and year_start_month in 1..12 expected")

    def months_in(self, on: date) -> int:
        """Month of the leave year `on` falls in (1..12)."""
        return (on.month - self.year_start_month) % 12 + 1

    def accrued_h(self, on: date) -> float:
        """Hours credited by `on` in its leave year."""
        if self.accrual is Accrual.UPFRONT:
            return self.annual_h
        return self.annual_h * self.months_in(on) / 12

    def balance_h(self, on: date, taken_h: float) -> float:
        """Hours left on `on` after `taken_h` hours taken (approved) this leave year."""
        return self.carry_over_h + self.accrued_h(on) - taken_h

    def allows(self, on: date, taken_h: float, request_h: float) -> bool:
        """Whether `request_h` more hours fit the balance (down to ``-max_negative_h``)."""
        return self.balance_h(on, taken_h) - request_h >= -self.max_negative_h - 1e-9
