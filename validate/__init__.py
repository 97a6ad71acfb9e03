"""optdyn's validation: theory entries checked against simulations (THEORY.md §7)."""
from .records import CheckRecord, Settings
from .suite import SUITES, format_table, run_suite, write_report

__all__ = ["CheckRecord", "Settings", "SUITES", "format_table", "run_suite", "write_report"]
