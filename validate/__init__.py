"""optdyn's validation: theory entries checked against simulations (docs/theory.md §7).

One check module per result id in :mod:`validate.checks` (discovered), checks declared with
:func:`validate.registry.check`, shared problems in :mod:`validate.problems`, record builders in
:mod:`validate.estimates`.
"""
from .records import CheckRecord, Settings
from .suite import format_table, run_suite, select, write_report

__all__ = ["CheckRecord", "Settings", "format_table", "run_suite", "select", "write_report"]
