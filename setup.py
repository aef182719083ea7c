"""The package build runs scripts/generate_code.py, so the wheel carries `crm.v1`."""

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

GENERATE = Path(__file__).resolve().parent / "scripts" / "generate_code.py"


class BuildWithGeneratedCode(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        subprocess.run([sys.executable, str(GENERATE), self.build_lib], check=True)


setup(cmdclass={"build_py": BuildWithGeneratedCode})
