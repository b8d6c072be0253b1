"""One row of the caseload report: :class:`CaseloadRow` (what a report shows) and
:class:`Figures` (the sums it is made of, read from SQL or from the counters)."""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from projections.common import money, rate


@dataclass(frozen=True)
class CaseloadRow:
    key: str
    label: str
    received: int
    entrusted: int
    concluded: int
    succeeded: int
    succeeded_by_performance: int
    succeeded_by_statement: int
    failed: int
    pending: int
    overdue: int
    success_rate: Decimal | None
    mediation_share: Decimal | None
    amount_claimed: Decimal
    amount_agreed: Decimal
    amount_paid: Decimal
    median_days_to_conclusion: float | None
    workers: int = 0  # issue 17: applicants in the received cases
    collective: int = 0  # issue 17: collective disputes received (LDMAL art. 7)


_SUMMED = (
    "received",
    "entrusted",
    "by_performance",
    "by_statement",
    "failed",
    "pending",
    "overdue",
    "claimed",
    "agreed",
    "paid",
    "workers",
    "collective",
)


@dataclass
class Figures:
    """The figures of one row (days to conclusion kept as a histogram for the median)."""

    received: int = 0
    entrusted: int = 0
    by_performance: int = 0
    by_statement: int = 0
    failed: int = 0
    pending: int = 0
    overdue: int = 0
    claimed: int = 0
    agreed: int = 0
    paid: int = 0
    workers: int = 0
    collective: int = 0
    days: Counter[int] = field(default_factory=Counter)
    # or a dense histogram: dense[i] conclusions after dense_lo + i days
    dense_lo: int = 0
    dense: list[int] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.days.update(other.days)

    def add_hist(self, text: str) -> None:
        """Add a stored dense histogram (``first:count,count,...``, see projections.counters)."""
        first, _, rest = text.partition(":")
        lo = int(first)
        counts = list(map(int, rest.split(",")))
        mine = self.dense
        if not mine:
            self.dense_lo, self.dense = lo, counts
            return
        if lo < self.dense_lo:
            mine[:0] = [0] * (self.dense_lo - lo)
            self.dense_lo = lo
        start = lo - self.dense_lo
        end = start + len(counts)
        if end > len(mine):
            mine.extend([0] * (end - len(mine)))
        mine[start:end] = map(operator.add, mine[start:end], counts)

    def median(self) -> float | None:
        if not self.days:  # dense only: the two middle ranks by bisection over running counts
            running = list(itertools.accumulate(self.dense))
            n = running[-1] if running else 0
            if n == 0:
                return None
            return (
                self.dense_lo * 2
                + bisect.bisect_right(running, (n - 1) // 2)
                + bisect.bisect_right(running, n // 2)
            ) / 2
        days = Counter(self.days)
        for i, count in enumerate(self.dense):
            if count:
                days[self.dense_lo + i] += count
        n = sum(days.values())
        if n == 0:
            return None
        wanted = [(n - 1) // 2, n // 2]
        found: list[int] = []
        seen = 0
        for value in sorted(days):
            count = days[value]
            for index in wanted:
                if seen <= index < seen + count:
                    found.append(value)
            seen += count
        return (found[0] + found[1]) / 2

    def row(self, key: str, label: str) -> CaseloadRow:
        succeeded = self.by_performance + self.by_statement
        concluded = succeeded + self.failed
        return CaseloadRow(
            key=key,
            label=label,
            received=self.received,
            entrusted=self.entrusted,
            concluded=concluded,
            succeeded=succeeded,
            succeeded_by_performance=self.by_performance,
            succeeded_by_statement=self.by_statement,
            failed=self.failed,
            pending=self.pending,
            overdue=self.overdue,
            success_rate=rate(succeeded, concluded),
            mediation_share=rate(succeeded, self.received),
            amount_claimed=money(self.claimed),
            amount_agreed=money(self.agreed),
            amount_paid=money(self.paid),
            median_days_to_conclusion=self.median(),
            workers=self.workers,
            collective=self.collective,
        )
