"""Theorem 3 / Proposition 4 with the temperature varying along the path (validate checks, docs/theory.md §5):
the exponent-factor rows are FINDINGs with H_a = 4|H_b| and pass where the theory's assumption holds
(H_a = |H_b|), so the verdict comes from the numbers, not from the check."""
import warnings

import numpy as np
import pytest

from optdyn.validate import problems as P
from optdyn.validate.checks import thm3
from optdyn.validate.records import FINDING, PASS, Settings


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ResolutionWarnings of the quick grid are expected
        yield


def test_exponent_factor_is_a_finding_only_when_the_temperature_varies(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    recs = thm3.check_varying_temperature_exponent(s)
    assert [r.verdict for r in recs] == [FINDING, FINDING]
    slopes = [r.measured for r in recs]  # M = 0.1, 0.5: the exponent drops more with more mass
    assert slopes[1] < slopes[0] < -0.1
    monkeypatch.setattr(P, "VT_PAIRS", ((1.0, 1.0),))
    flat = thm3.check_varying_temperature_exponent(s)
    assert all(r.verdict == PASS for r in flat), [(r.measured, r.interval) for r in flat]
    assert np.all(np.abs([r.measured for r in flat]) < 0.05)
