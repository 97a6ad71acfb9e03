"""The README's tour must run as written."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_starts_with_the_two_commands():
    lines = [ln for ln in README.read_text().splitlines() if ln.strip()]
    block = lines[lines.index("```bash") + 1:lines.index("```bash") + 3]
    assert block[0].endswith("python -m optdyn validate")
    assert block[1].endswith("python -m pytest -q")
    ci = (README.parent / ".ci" / "run").read_text()
    assert block[1] in ci  # .ci/run runs exactly the README's test command


def test_readme_tour_runs(capsys):
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code, "README has no python example"
    exec(compile(code[0], "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    mc_err, closed_err = map(float, out[0].split())
    assert closed_err < 1e-10 and mc_err < 0.02
