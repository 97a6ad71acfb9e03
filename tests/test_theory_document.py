"""The project's theory document: every section the code cites exists, and nothing cites a
document outside the repository."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "theory.md"
SOURCES = [p for part in ("sim", "theory", "validate", "benchmarks", "notebooks")
           for p in (ROOT / part).rglob("*.py")] + [ROOT / "__init__.py", ROOT / "README.md"]


def _sections() -> set[str]:
    heads = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", DOC.read_text(), re.M)
    return set(heads)


def test_every_cited_section_exists():
    known = _sections()
    assert {"0", "1.1", "1.2", "1.3", "5", "7"} <= known
    cited = {}
    for path in SOURCES:
        for m in re.finditer(r"docs/theory\.md (?:§|sections? )(\d+(?:\.\d+)?)", path.read_text()):
            cited.setdefault(m.group(1).rstrip("."), []).append(path.relative_to(ROOT).as_posix())
    assert cited, "no citation found: has the citation style changed?"
    missing = {sec: where for sec, where in cited.items() if sec not in known}
    assert not missing, missing


def test_nothing_cites_a_specification_outside_the_repository():
    offenders = [p.relative_to(ROOT).as_posix() for p in SOURCES
                 if re.search(r"THEORY\.md|shared/", p.read_text())]
    assert not offenders, offenders
