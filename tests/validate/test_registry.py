"""Checks are declared and discovered; suite ids are the theory ids; seeds come from check names; the CLI
checks its arguments before running anything; reports are written atomically; the README's results table is current;
exact models built from the Problem equal the former hand-built ones."""
import ast
import os
import pathlib

import numpy as np
import pytest

import optdyn.theory as theory
from optdyn import sim
from optdyn.validate import problems as P
from optdyn.validate import registry, suite
from optdyn.validate.cli import validate_main
from optdyn.validate.records import PASS, CheckRecord, Settings

ROOT = pathlib.Path(registry.__file__).resolve().parent
REPO = ROOT.parent


# -- discovery and declarations -----------------------------------------------------------------------
def test_every_theory_id_has_a_check_module_and_checks():
    mods = registry.discover()
    assert set(theory.ids()) <= set(mods)
    ids = registry.result_ids()
    assert ids[:len(theory.ids())] == list(theory.ids()) and {"validity", "selection"} <= set(ids)
    specs = registry.all_checks()
    for rid in theory.ids():
        assert any(s.result == rid for s in specs), rid
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for s in specs:
        assert s.kind in registry.KINDS and s.description and set(s.problems) <= set(P.PROBLEMS), s.name
        assert all(len(v) == 2 for v in s.sizes.values()), s.name
        assert set(s.covers) <= set(ids)


def test_discovery_finds_every_module_without_a_list():
    files = {p.stem for p in (ROOT / "checks").glob("*.py") if not p.stem.startswith("_")}
    assert files == {m.__name__.rsplit(".", 1)[1] for m in registry.discover().values()}


def test_no_check_module_imports_another():
    names = {p.stem for p in (ROOT / "checks").glob("*.py")}
    for path in (ROOT / "checks").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                assert not (node.level == 1 and (mod in names or any(a.name in names for a in node.names))), path
                assert "validate.checks" not in mod, path
            if isinstance(node, ast.Import):
                assert not any("validate.checks" in a.name for a in node.names), path


def test_old_modules_are_gone():
    for old in ("saddles", "minima", "thm1", "validity", "common"):
        assert not (ROOT / f"{old}.py").exists()


# -- selection ----------------------------------------------------------------------------------------
def test_only_thm3_selects_everything_about_theorem_3():
    chosen = suite.select(["thm3"])
    names = {s.name for s, _ in chosen}
    own = {s.name for s in registry.all_checks() if s.result == "thm3"}
    assert own <= names and {"validity.maps", "selection.minima-selection"} <= names
    assert all(s.result == "thm3" or "thm3" in s.covers for s, _ in chosen)
    assert all(r == ("thm3",) for _, r in chosen)
    assert suite.select(["thm3-escape"]) == chosen  # the former key still works


def test_check_selects_one_check_and_unknowns_list_the_known():
    ((spec, results),) = suite.select(names=["thm1.closed-form"])
    assert spec.name == "thm1.closed-form" and results is None
    with pytest.raises(ValueError, match="known: thm1, thm2"):
        suite.select(["thm9"])
    with pytest.raises(ValueError, match="thm1.closed-form"):
        suite.select(names=["thm1.nope"])


def test_list_prints_one_line_per_result_and_check(capsys):
    assert validate_main(["--list"]) == 0
    out = capsys.readouterr().out
    for rid in registry.result_ids():
        assert f"\n{rid}: " in "\n" + out
    for s in registry.all_checks():
        assert f"  {s.name}  (" in out


def test_run_check_by_name(tmp_path, capsys):
    assert validate_main(["--check", "thm1.closed-form", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "thm1.closed-form: pass" in out and "thm1.discrete-gap" not in out


# -- seeds --------------------------------------------------------------------------------------------
def test_seeds_are_derived_from_names():
    specs = registry.all_checks()
    seeds = [registry.stream_seed(0, s.name) for s in specs]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= x < 2**63 for x in seeds)
    s = registry.CheckSettings.of(Settings(seed=4), specs[0])
    assert s.stream() == s.stream() == registry.stream_seed(4, specs[0].name)
    assert len({s.stream(), s.stream(0), s.stream(1), s.stream("a")}) == 4
    assert registry.stream_seed(5, specs[0].name) != s.stream()
    with pytest.raises(RuntimeError):
        registry.CheckSettings.of(Settings()).stream()


def test_same_seed_same_numbers(tmp_path):
    from optdyn.validate.checks import thm1

    a = thm1.check_discrete_moments(Settings(out=str(tmp_path), seed=7))
    b = thm1.check_discrete_moments(Settings(out=str(tmp_path), seed=7))
    c = thm1.check_discrete_moments(Settings(out=str(tmp_path), seed=8))
    assert [r.measured for r in a] == [r.measured for r in b]
    assert [r.measured for r in a] != [r.measured for r in c]
    assert all(r.verdict == PASS for r in a + c)


def test_no_hand_picked_seed_offsets():
    for path in (ROOT / "checks").glob("*.py"):
        text = path.read_text()
        assert "settings.seed" not in text, path


# -- CLI argument errors: exit 2 before anything runs -------------------------------------------------
@pytest.fixture
def no_run(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the suite must not start")
    monkeypatch.setattr(suite, "run_suite", boom)


@pytest.mark.parametrize("args, message", [
    (["--only", "nope"], "unknown result id"),
    (["--check", "thm1.nope"], "unknown check name"),
    (["--backend", "nonsense"], "--backend 'nonsense'"),
    (["--seed", "-1"], "--seed"),
])
def test_cli_rejects_bad_arguments_before_running(tmp_path, capsys, no_run, args, message):
    assert validate_main(args + ["--out", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err


def test_cli_rejects_a_backend_without_its_device(tmp_path, capsys, no_run):
    """``torch:cuda`` on a machine without a CUDA device: a clean message and exit 2, no traceback."""
    from optdyn import sim

    try:
        sim.get_backend("torch:cuda")
    except (ImportError, RuntimeError):
        pass
    else:
        pytest.skip("this machine has a CUDA device")
    assert validate_main(["--backend", "torch:cuda", "--out", str(tmp_path / "r")]) == 2
    assert "--backend 'torch:cuda'" in capsys.readouterr().err


def test_cli_rejects_an_out_that_is_a_file(tmp_path, capsys, no_run):
    f = tmp_path / "file"
    f.write_text("x")
    assert validate_main(["--only", "thm1", "--out", str(f)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert validate_main(["--only", "thm1", "--out", str(f / "sub")]) == 2


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can write anywhere")
def test_cli_rejects_an_unwritable_out(tmp_path, capsys, no_run):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert validate_main(["--only", "thm1", "--out", str(ro / "report")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


def test_cli_unwritable_check_uses_access(tmp_path, monkeypatch, capsys, no_run):
    """Also as root: ``--out`` under a folder that os.access reports unwritable is rejected."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p).startswith(str(tmp_path)) else real(p, m))
    assert validate_main(["--only", "thm1", "--out", str(tmp_path / "x")]) == 2
    assert "not writable" in capsys.readouterr().err


# -- atomic writes ------------------------------------------------------------------------------------
def test_report_is_written_atomically(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    rec = CheckRecord("thm1", "x", "q", 1.0, 1.0, (0, 2), "t")
    report, js = suite.write_report([rec], s, 1.0)
    before = pathlib.Path(report).read_text(), pathlib.Path(js).read_text()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        suite.write_report([rec, rec], s, 2.0)
    assert (pathlib.Path(report).read_text(), pathlib.Path(js).read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md", "results.json"]  # no temp left


# -- the README's results table ---------------------------------------------------------------------
def test_readme_results_table_is_current_and_paths_exist():
    readme = (REPO / "README.md").read_text()
    begin, end = "<!-- results-table: generated by optdyn.validate.registry.results_table() -->\n", "<!-- /results-table -->"
    text = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert text == registry.results_table(), "regenerate the README's table with registry.results_table()"
    for rid in theory.ids():
        assert f"| `{rid}` |" in text
    for path in set(__import__("re").findall(r"`((?:theory|validate/checks)/[\w/]+\.py)`", text)):
        assert (REPO / path).exists(), path
    for mod in registry.discover().values():
        for cls in getattr(mod, "SIM_CLASSES", ()):
            assert hasattr(sim, cls), (mod.__name__, cls)


# -- exact models from the Problem equal the former hand-built ones ------------------------------------
def _old_single_grid():
    """The former validate/validity.py model (hand-built from (E, η, 1−β₁)), kept as the reference: its
    MFPT on one grid (``tests/validate/_old_exact_underdamped.py``)."""
    import importlib.util

    src = pathlib.Path(__file__).with_name("_old_exact_underdamped.py")
    spec = importlib.util.spec_from_file_location("_old_exact_underdamped", src)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def single(exponent, lr, omb, n_theta, n_r, mass=None, friction=1.0):
        return module._underdamped_mfpt(exponent, lr, omb, n_theta, n_r, mass, friction)

    return single


GRID = (120, 49)  # coarse: the comparison is of the model, not of the grid


@pytest.mark.parametrize("case", ["ema", "beta3=1", "discrete-ema", "adai", "ema-kappa", "adai-kappa"])
def test_kramers_adapter_equals_the_hand_built_model(case):
    old = _old_single_grid()  # one grid each: what is compared is the model built from the Problem
    from optdyn.theory import prop4

    omb_adai = float(prop4.inertia_at_saddle(0.1, 0.5))
    b = P.sgd_batch(0.05, 5.0, P.wells())
    k = 5.0 / 8.0
    prob, ref = {
        "ema": (lambda: P.momentum_wells(3.0, lr=0.05), lambda: old(3.0, 0.05, 0.1, *GRID)),
        "beta3=1": (lambda: P.momentum_wells(30.0, lr=0.01, beta3=1.0),
                    lambda: old(30.0, 0.01, 0.1, *GRID, mass=0.01, friction=0.1)),
        "discrete-ema": (lambda: P.momentum_wells(3.0, lr=0.1, discrete=True), lambda: old(3.0, 0.1, 0.1, *GRID)),
        "adai": (lambda: P.adai_wells(3.0, lr=0.05), lambda: old(3.0, 0.05, omb_adai, *GRID)),
        # the former κ-scaling solved unit wells at E/κ, ηκ and divided τ by κ
        "ema-kappa": (lambda: P.momentum_wells(None, lr=0.05, kappa=k, batch=b),
                      lambda: old(5.0 / k, 0.05 * k, 0.1, *GRID) / k),
        "adai-kappa": (lambda: P.adai_wells(None, lr=0.05, kappa=k, batch=b),
                       lambda: old(5.0 / k, 0.05 * k, omb_adai, *GRID) / k),
    }[case]
    r = sim.exact.adapters.kramers_mfpt(prob(), *GRID)
    np.testing.assert_allclose(r.value, ref(), rtol=1e-9)
    if case.startswith("adai"):
        assert r.info["mass_variation"] == 0.0


def test_mfpt_1d_adapter_is_problem_mfpt_1d():
    prob = P.sgd_wells(3.0)
    assert sim.exact.adapters.mfpt_1d(prob).value == sim.escape.problem_mfpt_1d(prob).value


def test_adapter_rejects_models_it_has_no_exact_model_for():
    with pytest.raises(TypeError, match="no underdamped exact model"):
        sim.exact.adapters.kramers_mfpt(P.sgd_wells(3.0))
