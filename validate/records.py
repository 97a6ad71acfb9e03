"""The record every check returns, and the settings every check receives."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["CheckRecord", "Settings", "PASS", "FAIL", "FINDING"]

PASS, FAIL, FINDING = "pass", "fail", "finding"


@dataclass
class Settings:
    """What a check may depend on besides its own problem: size, seed, backend, output folder."""

    full: bool = False
    seed: int = 0
    backend: str = "numba"
    out: str = "validate-report"

    def paths(self, quick: int, full: int) -> int:
        """Ensemble size for the quick or the full suite."""
        return full if self.full else quick


@dataclass
class CheckRecord:
    """One comparison of docs/theory.md §7 and its verdict.

    ``measured`` passes when it lies in ``interval`` (inclusive).  ``tolerance`` says how the
    interval was derived (standard errors, the theory's admitted error, round-off), so the report can
    state it.  ``verdict`` is :data:`PASS`, :data:`FAIL`, or :data:`FINDING` (a measured deviation
    that the theory admits and the report explains, never a hidden failure).
    """

    result: str  # theory entry id, e.g. "thm1"
    comparison: str  # "sim vs exact", "closed form vs exact", "discrete vs SDE", "scaling law"
    quantity: str
    measured: float
    predicted: float
    interval: tuple[float, float]
    tolerance: str
    verdict: str = ""
    note: str = ""
    figure: str | None = None
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        lo, hi = self.interval
        self.interval = (float(lo), float(hi))
        self.measured, self.predicted = float(self.measured), float(self.predicted)
        if not self.verdict:
            ok = np.isfinite(self.measured) and lo <= self.measured <= hi
            self.verdict = PASS if ok else FAIL

    def to_json(self) -> dict:
        d = asdict(self)
        d["interval"] = list(self.interval)
        return d
