"""The Fokker–Planck package layout: every public name of its modules is reachable as ``fp.<name>``."""
import pytest

from optdyn.sim.exact import fokker_planck as fp
from optdyn.sim.exact import mfpt


@pytest.mark.parametrize("module", [fp.grid, fp.overdamped, fp.kramers])
def test_every_public_name_is_reexported(module):
    for name in module.__all__:
        assert getattr(fp, name) is getattr(module, name)
        assert name in fp.__all__


def test_check_convention_is_the_one_parser():
    assert mfpt.check_convention is fp.check_convention
    assert fp.check_convention("ito") is True and fp.check_convention("ddt") is False
    with pytest.raises(ValueError, match="convention"):
        fp.check_convention("stratonovich")
