"""The packages, and their bytecode: a start that compiles nothing.

The packages: every package under interpreter/, found, plus statecharts/ shipped as
interpreter.statecharts. The list cannot be in pyproject.toml: its
``[tool.setuptools.packages.find]`` only finds packages inside their parent's
directory and does not read ``package-dir``, so it would leave out
interpreter.statecharts (pypa/setuptools#5145). A new subpackage of
interpreter/ (a directory with an ``__init__.py``) is shipped with no change
here; ``.ci/wheel-check`` checks the built wheel against the source tree.

The bytecode: compiling perfchart's modules costs about as much as a dry run
of ten permutations does after them, and a Python that may not write bytecode
(``PYTHONDONTWRITEBYTECODE``, a read-only site-packages, an installer that does
not compile, as uv by default) pays it on every start. So the wheel ships each
module's bytecode for the Python that built it, checked against the source's
hash (not its time stamp, which an installer does not keep), and an editable
install compiles the source tree in place once. Everything else is in
pyproject.toml.
"""

import compileall
import py_compile
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class build_py_with_bytecode(build_py):  # noqa: N801 (setuptools' command names are lower case)
    """build_py, then the bytecode of what it built (or, editable, of the source tree)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            # Time stamps here: an edited module is compiled again, and rewritten where Python may.
            folders = [HERE / "interpreter", HERE / "statecharts"]
            mode = py_compile.PycInvalidationMode.TIMESTAMP
        else:
            folders = [Path(self.build_lib) / "interpreter"]
            mode = py_compile.PycInvalidationMode.CHECKED_HASH
        for folder in folders:
            if not compileall.compile_dir(str(folder), quiet=1, invalidation_mode=mode):
                raise SystemExit(f"could not compile {folder}")


setup(
    packages=[*find_packages(include=["interpreter", "interpreter.*"]), "interpreter.statecharts"],
    cmdclass={"build_py": build_py_with_bytecode},
)
