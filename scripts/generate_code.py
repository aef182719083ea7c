"""Generates the `crm.v1` Python code from proto/crm/v1; `make proto` and the package
build (setup.py) both run it, so the two never drift.

usage: generate_code.py OUT_DIR [--stubs] [--google-protos DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTOS = ROOT / "proto"
GOOGLE_API_PROTOS = ("annotations.proto", "http.proto")
PATH = os.environ.get("PATH", os.defpath)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where the crm/v1 package goes")
    parser.add_argument(
        "--stubs", action="store_true", help="also the .pyi stubs mypy reads (needs mypy-protobuf)"
    )
    parser.add_argument(
        "--google-protos", type=Path, help="keep the google/api imports here (buf reads them)"
    )
    args = parser.parse_args(argv)
    if args.google_protos:
        generate(args.out, args.google_protos, args.stubs)
    else:
        with tempfile.TemporaryDirectory() as imports:
            generate(args.out, Path(imports), args.stubs)
    return 0


def generate(out: Path, imports: Path, stubs: bool) -> None:
    out, imports = out.resolve(), imports.resolve()
    _copy_google_api_protos(imports)
    package = out / "crm" / "v1"
    package.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(path.relative_to(PROTOS)) for path in PROTOS.glob("crm/v1/*.proto"))
    outputs = ["--python_out", "--grpc_python_out"]
    if stubs:
        outputs += ["--mypy_out", "--mypy_grpc_out"]
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTOS}", f"-I{imports}"]
        + [f"{option}={out}" for option in outputs]
        + sources,
        check=True,
        cwd=PROTOS,
        # protoc finds the mypy plugins beside this interpreter, venv activated or not.
        env={**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), PATH])},
    )
    # Regular packages, so a stray `crm` folder on the path cannot shadow or join them.
    for folder in (out / "crm", package):
        (folder / "__init__.py").touch()


def _copy_google_api_protos(imports: Path) -> None:
    """google/api/*.proto come from the pinned googleapis-common-protos wheel."""
    import google.api.annotations_pb2 as annotations

    wheel_protos = Path(annotations.__file__).parent
    target = imports / "google" / "api"
    target.mkdir(parents=True, exist_ok=True)
    for name in GOOGLE_API_PROTOS:
        shutil.copyfile(wheel_protos / name, target / name)


if __name__ == "__main__":
    sys.exit(main())
