#!/usr/bin/env bash
# Resident memory of `portcullis serve --waf block` with 1 and with N (default 200)
# WAF-enabled Ingresses whose WAF settings all differ, so that the per-Ingress overlays are
# exercised (bench/waf-memory.sh measures N identical Ingresses, and nginx + ModSecurity):
# Ingress i has its own inbound threshold (SecAction setvar), one removed CRS rule
# (SecRuleRemoveById), one removed target and a small SecRule of its own (compiled into a
# per-snippet rule set next to the one shared CRS).
#
#   bench/waf-overlay-memory.sh
#
# Prints VmRSS (now) and VmHWM (peak, including the CRS compilation) after one benign
# request and one probe of the Ingress's own rule per Ingress.
# Needs: nginx (the origin) curl. Env (defaults): N=200 CRS4=../shared/crs PORTCULLIS=binary
# OWN_RULE=1 (0: no SecRule of its own, so only the overlays differ) WAF=1 (0: the same
# Ingresses with no WAF annotation at all, the baseline for what an Ingress costs without WAF)
set -euo pipefail

BENCH_NAME=bench/waf-overlay-memory.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${N:-200} OWN_RULE=${OWN_RULE:-1} WAF=${WAF:-1}
[ "$WAF" = 1 ] || OWN_RULE=0
CRS4=${CRS4:-$BENCH_ROOT/../shared/crs}
BACKEND_PORT=19590 PORT_FRONT=19591

bench_need "nginx curl" nginx curl
CRS4=$(cd "$CRS4" && pwd)
bench_portcullis
bench_rundir waf-overlay-memory
backend_conf "$BACKEND_PORT" >"$RUN/backend.conf"
start backend "$NGINX" -c "$RUN/backend.conf"
wait_port "$BACKEND_PORT"

# CRS rules a snippet may remove (one per Ingress, cycling).
REMOVABLE=(920350 920420 930120 932160 941100 942100 942200 949110 953100 913100)

own_rule() { # i -> the Ingress's own SecRule line (none with OWN_RULE=0)
  [ "$OWN_RULE" = 1 ] || return 0
  echo "      SecRule ARGS:probe \"@streq app$1\" \"id:$((10000 + $1)),phase:1,deny,status:406,log,msg:'app$1 own rule'\""
}

annotations() { # i -> the Ingress's WAF annotations (none with WAF=0)
  [ "$WAF" = 1 ] || { echo "  annotations: {}"; return 0; }
  cat <<YAML
  annotations:
    nginx.ingress.kubernetes.io/enable-modsecurity: "true"
    nginx.ingress.kubernetes.io/modsecurity-snippet: |
      SecRuleEngine On
      SecAction "id:900110,phase:1,pass,nolog,setvar:tx.inbound_anomaly_score_threshold=$((5 + $1 % 50))"
      SecRuleRemoveById ${REMOVABLE[$(($1 % ${#REMOVABLE[@]}))]}
      SecRuleUpdateTargetById 942100 "!ARGS:token$1"
$(own_rule "$1")
YAML
}

ingresses() { # count -> manifests on stdout
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
$(annotations "$i")
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

mem_kb() { # pid field -> KiB
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

touch_hosts() { # count
  local i code
  for ((i = 0; i < $1; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: h$i.example.com" \
      "http://$ADDR:$PORT_FRONT/search?q=books&page=2")
    [ "$code" = 200 ] || { echo "$BENCH_NAME: h$i answers $code" >&2; KEEP=1; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: h$i.example.com" \
      "http://$ADDR:$PORT_FRONT/search?probe=app$i")
    [ "$code" = 406 ] || [ "$OWN_RULE" = 0 ] || { echo "$BENCH_NAME: h$i own rule answers $code" >&2; KEEP=1; exit 1; }
  done
}

waf_us() { # mean engine time per request (phases 1-2), microseconds, from /metrics
  curl -s "http://$ADDR:19593/metrics" | awk '
    /^portcullis_waf_evaluation_seconds_sum\{phase="request"\}/ { s = $2 }
    /^portcullis_waf_evaluation_seconds_count\{phase="request"\}/ { c = $2 }
    END { if (c > 0) printf "%.0f", s / c * 1e6; else print "-" }'
}

printf '%-12s %12s %12s %10s %14s\n' "ingresses" "VmRSS MiB" "VmHWM MiB" "start s" "WAF us/req"
for count in 1 "$N"; do
  rm -rf "$RUN/manifests" && mkdir -p "$RUN/manifests"
  ingresses "$count" >"$RUN/manifests/apps.yaml"
  t0=$(date +%s.%N)
  start "pc-$count" "$PORTCULLIS" serve --manifests "$RUN/manifests" --http "$ADDR:$PORT_FRONT" \
    --https "$ADDR:19592" --admin "$ADDR:19593" --access-log /dev/null --state-dir "$RUN/state" \
    --waf block --crs "$CRS4" --security-log /dev/null
  pid=${PIDS[-1]}
  for _ in $(seq 1 600); do
    curl -s -o /dev/null -H "Host: h0.example.com" "http://$ADDR:$PORT_FRONT/" && break
    sleep 0.1
  done
  t1=$(date +%s.%N)
  touch_hosts "$count"
  printf '%-12s %12.1f %12.1f %10.1f %14s\n' "$count" \
    "$(awk -v k="$(mem_kb "$pid" VmRSS)" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$(mem_kb "$pid" VmHWM)" 'BEGIN { print k / 1024 }')" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(waf_us)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
