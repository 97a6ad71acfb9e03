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
    # every printed line says what it is: "label: value ..."
    assert all(re.match(r"^[A-Za-z][\w ]+: ", ln) for ln in out), out
    m = re.match(r"covariance error vs exact: (\S+), within 4 SE = (\S+): (True|False)$", out[0])
    assert m and float(m[1]) <= float(m[2]) and m[3] == "True"
    closed_err = float(re.search(r"max error (\S+)", out[1])[1])
    assert closed_err < 1e-10
    assert out[2].startswith("first passage: 5000 of 5000 paths") and out[3].startswith("median exit time: ")
