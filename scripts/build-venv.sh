#!/bin/sh
# A virtualenv that runs `crm` and `crm-gateway` with no PYTHONPATH: the pinned runtime
# requirements, then the package with its generated crm.v1 code. The Dockerfile runs it.
# usage: scripts/build-venv.sh VENV_DIR   (PYTHON names the interpreter, default python3)
set -eu
venv="${1:?usage: scripts/build-venv.sh VENV_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
source="$(mktemp -d)"
trap 'rm -rf "$source"' EXIT
# pip builds in the folder it is given; a copy keeps build/ out of the tree, and with it
# any module deleted since an earlier build.
(cd "$root" && tar -cf - --exclude=__pycache__ \
    pyproject.toml setup.py MANIFEST.in proto services scripts/generate_code.py) |
    tar -xf - -C "$source"
"${PYTHON:-python3}" -m venv "$venv"
pip="$venv/bin/python -m pip --disable-pip-version-check --quiet"
$pip install --requirement "$root/requirements.txt"
$pip install --no-deps "$source"
