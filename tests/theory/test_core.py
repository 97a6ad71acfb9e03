import warnings

import numpy as np
import pytest

from optdyn import theory
from optdyn.theory.core import TheoryEntry, ValidityWarning, lambdify_cached, register, warn_if_large


def test_registry_get_and_duplicates():
    e = theory.get("thm1")
    assert isinstance(e, TheoryEntry)
    assert e in theory.entries()
    assert "thm1" in theory.ids()
    with pytest.raises(KeyError, match="no theory entry"):
        theory.get("nope")
    dup = TheoryEntry(id="thm1", title="x", statement="y")
    with pytest.raises(ValueError, match="already registered"):
        register(dup)
    assert register(e) is e  # re-registering the same object is harmless


def test_entries_are_complete():
    for e in theory.entries():
        assert e.title and e.statement and e.validity and e.source and e.constants
        assert e.assumptions and e.formulas and e.functions
        assert "arXiv" in e.source
        for f in e.functions.values():
            assert callable(f) and f.__doc__
        with pytest.raises(TypeError):
            e.formulas["new"] = 1  # read-only mapping


def test_entry_is_frozen():
    e = theory.get("thm1")
    with pytest.raises(AttributeError):
        e.id = "other"


def test_warn_if_large():
    with pytest.warns(ValidityWarning, match="eps"):
        assert warn_if_large("eps", [0.01, 0.5], 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_large("eps", [0.01, np.inf], 0.1)


def test_lambdify_cached_is_cached():
    import sympy as sp

    x = sp.Symbol("x")
    f1 = lambdify_cached(x**2, (x,))
    assert f1 is lambdify_cached(x**2, [x])
    assert f1(3.0) == 9.0


def test_theory_never_imports_sim():
    import subprocess
    import sys

    code = "import sys, optdyn.theory; assert 'optdyn.sim' not in sys.modules, 'theory imported sim'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_escape_times_warn_at_high_temperature():
    from optdyn.theory import ddt, prop2, prop4, thm3

    for call in (lambda: ddt.sgd_escape_time(1.0, -1.0, 0.1, 1.0, 1.0),
                 lambda: ddt.white_escape_time([1.0], [-1.0], 0.1, 1.0),
                 lambda: thm3.escape_time(1.0, -1.0, 0.1, 1.0, 1.0, 0.9),
                 lambda: prop2.escape_time_alr(1.0, -1.0, 0.1, 1.0, 1.0),
                 lambda: prop4.escape_time(1.0, -1.0, 0.1, 1.0, 1.0, 0.1)):
        with pytest.warns(ValidityWarning, match="1/E"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ddt.sgd_escape_time(1.0, -1.0, 1.0, 0.1, 1.0)


def test_small_parameters_accept_the_functions_keywords():
    kw = dict(H_ae=1.0, H_be=-2.0, delta_L=1.0, lr=0.1, batch_size=2.0)
    for eid in ("ddt-sgd", "prop2", "prop4"):
        for f in theory.get(eid).small_parameters.values():
            assert np.all(np.isfinite(f(**kw)))
    kw2 = dict(eigenvalues=[-1.0, 0.5], lr=0.1, batch_size=2.0, beta1=0.9, beta3=1.0, t=[1.0])
    for f in theory.get("thm2").small_parameters.values():
        assert np.all(np.isfinite(f(**kw2)))
