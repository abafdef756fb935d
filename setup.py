"""The packages: every package under interpreter/, found, plus statecharts/ shipped as interpreter.statecharts.

Everything else is in pyproject.toml. The list cannot be there: its
``[tool.setuptools.packages.find]`` only finds packages inside their parent's
directory and does not read ``package-dir``, so it would leave out
interpreter.statecharts (pypa/setuptools#5145). A new subpackage of
interpreter/ (a directory with an ``__init__.py``) is shipped with no change
here; ``.ci/wheel-check`` checks the built wheel against the source tree.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["interpreter", "interpreter.*"]), "interpreter.statecharts"])
