"""Build script: the repository's folders ``sim/``, ``theory/``, ``validate/`` and ``benchmarks/``
install as the subpackages of one import package, ``optdyn`` (the repository root holds
``optdyn/__init__.py``'s source as ``__init__.py``).  Everything else is in ``setup.cfg``."""
from setuptools import find_packages, setup

PARTS = ("sim", "theory", "validate", "benchmarks")
SUBPACKAGES = find_packages(include=[f"{p}" for p in PARTS] + [f"{p}.*" for p in PARTS])

setup(
    package_data={"optdyn": ["LICENSE", "docs/*.md"]},
    packages=["optdyn"] + [f"optdyn.{p}" for p in SUBPACKAGES],
    package_dir={"optdyn": "."},
)
