#!/usr/bin/env bash
# `make run`: the CRM service and its HTTP gateway on one laptop; Ctrl-C stops both.
set -euo pipefail
py=.venv/bin/python
# A fresh signing key per run, so the printed tokens never outlive it.
export CRM_GATEWAY_JWT_SECRET="${CRM_GATEWAY_JWT_SECRET:-$($py -c 'import secrets; print(secrets.token_urlsafe(32))')}"
crm_address="${CRM_LISTEN_ADDRESS:-127.0.0.1:50051}"
export CRM_GATEWAY_CRM_ADDRESS="${CRM_GATEWAY_CRM_ADDRESS:-$crm_address}"

$py -m services.crm serve &
crm=$!
gateway=""
stop() {
    trap - INT TERM EXIT
    kill -TERM $crm $gateway 2>/dev/null || true
    wait
}
trap stop INT TERM EXIT

$py - "$crm_address" <<'PY'
import sys, time, grpc
channel = grpc.insecure_channel(sys.argv[1])
grpc.channel_ready_future(channel).result(timeout=60)
PY
# CRM_DEMO_DATA: "empty" (default) loads fictional customers into an empty database,
# "always" loads any that are missing, "off" never. Without them the service still runs.
load_demo_data() {
    $py -m services.crm demo-data --address "$crm_address" "$@" ||
        echo "demo data could not be loaded; carrying on without it" >&2
}
case "${CRM_DEMO_DATA:-empty}" in
    empty) load_demo_data --if-empty ;;
    always) load_demo_data ;;
    off) ;;
    *) echo "CRM_DEMO_DATA must be empty, always or off" >&2; exit 2 ;;
esac
$py -m services.gateway &
gateway=$!

port="${CRM_GATEWAY_PORT:-8080}"
# Print the addresses only once they answer, so the first click works.
$py - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(600):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/openapi.json", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(f"the gateway did not answer on port {sys.argv[1]}")
PY
console=$($py -m services.gateway.dev_tokens --console "http://127.0.0.1:$port")
cat <<INFO

  Agent console      $console
  CRM gRPC service   $crm_address (reflection on; see README for grpcurl)
  HTTP/JSON gateway  http://127.0.0.1:$port/v1/...  (API docs: http://127.0.0.1:$port/docs)
  Metrics            http://${CRM_METRICS_ADDRESS:-127.0.0.1:9464}/metrics (CRM), http://${CRM_GATEWAY_METRICS_ADDRESS:-127.0.0.1:9465}/metrics (gateway)
  Development tokens (Authorization: Bearer TOKEN), valid until this run ends:
INFO
$py -m services.gateway.dev_tokens | sed 's/^/    /'
cat <<INFO

  Try: curl -H "Authorization: Bearer <agent token>" "http://127.0.0.1:$port/v1/customers:search?name=ada"
  Ctrl-C stops both.
INFO
wait
