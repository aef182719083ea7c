#!/bin/sh
# Debian ships python3 without ensurepip; install python3-venv when we may.
set -eu
python="${1:-python3}"
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
if "$python" -m venv "$probe/venv" >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$minor-venv" python3-venv
    exit 0
fi
echo "error: '$python -m venv' does not work; install your distribution's python3-venv package" >&2
exit 1
