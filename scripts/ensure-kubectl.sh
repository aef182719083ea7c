#!/bin/sh
# The manifest tests render deploy/kubernetes with `kubectl kustomize` (offline; no
# cluster is needed). Debian's own kubectl is too old for the base's kustomize fields,
# so say how to get a recent one rather than install it.
set -eu
kubectl="${CRM_TEST_KUBECTL:-kubectl}"
if command -v "$kubectl" >/dev/null && "$kubectl" kustomize --help >/dev/null 2>&1; then
    exit 0
fi
echo "error: no kubectl with kustomize (1.27 or later) as '$kubectl'; install it as" \
    "https://kubernetes.io/docs/tasks/tools/ says, or set CRM_TEST_KUBECTL" >&2
exit 1
