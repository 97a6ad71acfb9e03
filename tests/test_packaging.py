"""Packaging: one top-level import package (``optdyn``), the ``optdyn`` command, no collision with
other distributions' generic top-level names, no import of the repository folders as top-level
packages."""
import ast
import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARTS = ("sim", "theory", "validate", "benchmarks")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(ROOT)], check=True, capture_output=True, text=True,
                       cwd=build)
    except subprocess.CalledProcessError as exc:  # a packaging error must fail loudly
        raise AssertionError(f"building the wheel failed:\n{exc.stdout}\n{exc.stderr}") from exc
    (whl,) = out.glob("optdyn-*.whl")
    return zipfile.ZipFile(whl)


def test_wheel_installs_exactly_one_top_level_package(wheel):
    names = wheel.namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"optdyn"}
    top_level = [n for n in names if n.endswith("top_level.txt")]
    if top_level:
        assert wheel.read(top_level[0]).decode().split() == ["optdyn"]


def test_wheel_holds_every_subpackage_the_theory_document_and_the_license(wheel):
    names = set(wheel.namelist())
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in PARTS:
            assert f"optdyn/{rel}" in names, f"{rel} is missing from the wheel"
    assert "optdyn/__init__.py" in names and "optdyn/__main__.py" in names
    assert "optdyn/docs/theory.md" in names
    assert "optdyn/LICENSE" in names
    assert not any(n.startswith("optdyn/tests/") or n == "optdyn/setup.py" for n in names)


def test_no_module_imports_a_repository_folder_as_a_top_level_package():
    """Inside the package everything is ``optdyn.<part>`` or relative: ``import sim`` would load a
    second copy of the module tree when run from the repository root, and nothing when installed."""
    bad = []
    for path in list(ROOT.glob("*.py")) + [p for part in PARTS + ("tests", "notebooks")
                                          for p in (ROOT / part).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in mods if m.split(".")[0] in PARTS]
    assert not bad, bad


def test_a_foreign_top_level_validate_package_does_not_shadow_optdyn(tmp_path):
    """configobj ships a top-level ``validate`` module; with optdyn's parts under ``optdyn.`` both
    import side by side."""
    (tmp_path / "validate.py").write_text("FOREIGN = True\n")
    code = ("import validate, optdyn.validate as ov, optdyn.validate.cli as cli; "
            "assert validate.FOREIGN and hasattr(ov, 'run_suite') and cli.main(['--version']) == 0")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def test_the_optdyn_command_reports_its_version():
    out = subprocess.run([sys.executable, "-m", "optdyn", "--version"], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    import optdyn

    assert out.stdout.strip() == f"optdyn {optdyn.__version__}"
    assert "numba" not in subprocess.run(
        [sys.executable, "-c", "import sys, optdyn; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split()
