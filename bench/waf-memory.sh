#!/usr/bin/env bash
# Resident memory (proportional set size, PSS) of the WAF with 1 and with N (default 200)
# WAF-enabled Ingresses.
#
#   bench/waf-memory.sh
#
# Portcullis: `serve --waf block --crs CRS4` with 1, then N Ingresses (each its own host, all
# annotated enable-modsecurity: "true"); one request to every host, then the process's PSS.
# With MODSEC=1 also nginx + ModSecurity v3 with the same CRS, configured the way ingress-nginx
# renders WAF-enabled Ingresses (one server per host, `modsecurity on` and
# `modsecurity_rules_file` in each location): PSS of the master and its worker, summed.
# That start parses the CRS once per location: for N=200 it takes minutes and several GiB.
#
# Needs: nginx curl python3 (and libnginx-mod-http-modsecurity for MODSEC=1).
# Env (defaults): N=200 MODSEC=0 CRS4=../shared/crs PORTCULLIS=path/to/binary KEEP=1
set -euo pipefail

BENCH_NAME=bench/waf-memory.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${N:-200} MODSEC=${MODSEC:-0}
CRS4=${CRS4:-$BENCH_ROOT/../shared/crs}
BACKEND_PORT=19580 PORT_FRONT=19581

bench_need "nginx curl python3" nginx curl python3
CRS4=$(cd "$CRS4" && pwd)
bench_portcullis
bench_rundir waf-memory
backend_conf "$BACKEND_PORT" >"$RUN/backend.conf"
start backend "$NGINX" -c "$RUN/backend.conf"
wait_port "$BACKEND_PORT"

# Proportional set size: pages shared by nginx's master and worker count once, not twice.
pss_kb() { # pid... -> summed Pss (KiB) of the pids and their children
  local t=0 p v
  for p in "$@" $(for q in "$@"; do ps -o pid= --ppid "$q" 2>/dev/null; done); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

ingresses() { # count -> manifests on stdout (one Service + Endpoints, count Ingresses)
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: $BACKEND_PORT}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: backend, namespace: default}
subsets:
  - addresses: [{ip: 127.0.0.1}]
    ports: [{name: http, port: $BACKEND_PORT}]
YAML
  local i
  for ((i = 0; i < $1; i++)); do
    cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app$i
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/enable-modsecurity: "true"
spec:
  ingressClassName: nginx
  rules:
    - host: h$i.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: backend, port: {number: 80}}}
YAML
  done
}

touch_hosts() { # port count
  local i code
  for ((i = 0; i < $2; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: h$i.example.com" \
      "http://$ADDR:$1/search?q=books&page=2")
    [ "$code" = 200 ] || { echo "$BENCH_NAME: h$i answers $code" >&2; KEEP=1; exit 1; }
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: h0.example.com" \
    "http://$ADDR:$1/search?id=1%27%20OR%201%3D1--")
  [ "$code" = 403 ] || { echo "$BENCH_NAME: the WAF is not on (sqli answers $code)" >&2; KEEP=1; exit 1; }
}

printf '%-34s %12s %10s\n' "front" "ingresses" "PSS MiB"
for count in 1 "$N"; do
  rm -rf "$RUN/manifests" && mkdir -p "$RUN/manifests"
  ingresses "$count" >"$RUN/manifests/apps.yaml"
  start "pc-$count" "$PORTCULLIS" serve --state-dir "$RUN/state-$count" --manifests "$RUN/manifests" --http "$ADDR:$PORT_FRONT" \
    --https "$ADDR:19582" --admin "$ADDR:19583" --access-log /dev/null \
    --waf block --crs "$CRS4" --security-log /dev/null
  pid=${PIDS[-1]}
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -H "Host: h0.example.com" "http://$ADDR:$PORT_FRONT/" && break
    sleep 0.1
  done
  touch_hosts "$PORT_FRONT" "$count"
  printf '%-34s %12s %10.1f\n' "portcullis --waf block (CRS v4)" "$count" \
    "$(awk -v k="$(pss_kb "$pid")" 'BEGIN { print k / 1024 }')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

if [ "$MODSEC" = 1 ]; then
  for count in 1 "$N"; do
    servers=""
    for ((i = 0; i < count; i++)); do
      servers="$servers
  server {
    listen $ADDR:$PORT_FRONT;
    server_name h$i.example.com;
    location / {
      modsecurity on;
      modsecurity_rules_file $RUN/modsec.rules.conf;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_pass http://backend;
    }
  }"
    done
    modsec_rules modsec "$CRS4/crs-setup.conf.example" "$CRS4/rules" blocking_paranoia_level 1 \
      >"$RUN/modsec.rules.conf"
    {
      echo "load_module $MODSEC_MODULE;"
      nginx_conf "modsec-$count" "$PORT_FRONT" "
  access_log off;
  server_names_hash_bucket_size 128;
  upstream backend { server $ADDR:$BACKEND_PORT; keepalive 32; }
$servers"
    } >"$RUN/modsec-$count.conf"
    start "modsec-$count" "$NGINX" -c "$RUN/modsec-$count.conf"
    pid=${PIDS[-1]}
    for _ in $(seq 1 6000); do
      curl -s -o /dev/null -H "Host: h0.example.com" "http://$ADDR:$PORT_FRONT/" && break
      sleep 0.1
    done
    touch_hosts "$PORT_FRONT" "$count"
    printf '%-34s %12s %10.1f\n' "nginx + ModSecurity (CRS v4)" "$count" \
      "$(awk -v k="$(pss_kb "$pid")" 'BEGIN { print k / 1024 }')"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
fi
