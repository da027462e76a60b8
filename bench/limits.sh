#!/usr/bin/env bash
# Added latency of rate limiting: the same Portcullis process serves three hosts in front of
# the same origin: one plain, one with the per-replica `limit-rps` + `limit-connections`, one
# with `global-rate-limit` counted in a local redis-server (`--redis`). Limits are set high
# enough never to reject, so every request pays the full check (table lookup and GCRA update;
# one EVALSHA round trip to Redis). wrk alternates between them; one table in one run.
#
#   bench/limits.sh                   build portcullis (release) if needed, run, print a table
#
# Env (defaults): DURATION=10 (s per run) CONNS=32 THREADS=1 ROUNDS=3 WARMUP=2
#   PROXY_CPU=0 OTHER_CPUS=1 PORTCULLIS=path/to/binary (skip the build) KEEP=1 keeps the run dir.
# All wrk connections come from 127.0.0.1: one limiter key, the most contended case.
set -euo pipefail

BENCH_NAME=bench/limits.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION=${DURATION:-10} CONNS=${CONNS:-32} THREADS=${THREADS:-1} ROUNDS=${ROUNDS:-3} WARMUP=${WARMUP:-2}
PROXY_CPU=${PROXY_CPU:-0} OTHER_CPUS=${OTHER_CPUS:-1}
PORT_BACKEND=19180 PORT_PC=19182 PORT_PC_TLS=19543 PORT_PC_ADMIN=19354 PORT_REDIS=19379

bench_need "nginx wrk curl redis-server" wrk nginx taskset python3 curl redis-server
bench_portcullis
bench_rundir limits-bench

backend_conf "$PORT_BACKEND" >"$RUN/backend.conf"
write_manifests "$RUN/manifests/plain.yaml" "$PORT_BACKEND" plain.example.com
cat >"$RUN/manifests/limited.yaml" <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: limited
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "1000000"
    nginx.ingress.kubernetes.io/limit-connections: "100000"
spec:
  ingressClassName: nginx
  rules:
    - host: limited.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: backend, port: {number: 80}}}
YAML

cat >"$RUN/manifests/global.yaml" <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: global
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/global-rate-limit: "100000000"
    nginx.ingress.kubernetes.io/global-rate-limit-window: "1m"
spec:
  ingressClassName: nginx
  rules:
    - host: global.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: backend, port: {number: 80}}}
YAML

cat >"$RUN/wrk.lua" <<'LUA'
wrk.method = "GET"
wrk.path = "/bench?q=1"
wrk.headers["Host"] = os.getenv("BENCH_HOST")
wrk.headers["User-Agent"] = "limits-bench/1"
function done(s, lat, req)
  local e = s.errors
  io.write(string.format('RESULT {"rps":%.1f,"p50":%d,"p99":%d,"mean":%.1f,"errors":%d}\n',
    s.requests / (s.duration / 1e6), lat:percentile(50), lat:percentile(99), lat.mean,
    e.connect + e.read + e.write + e.timeout + e.status))
end
LUA

start backend taskset -c "$OTHER_CPUS" "$NGINX" -c "$RUN/backend.conf"
start redis taskset -c "$OTHER_CPUS" redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save "" --appendonly no
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT_REDIS") 2>/dev/null && break; sleep 0.1; done
start portcullis taskset -c "$PROXY_CPU" "$PORTCULLIS" serve --state-dir "$RUN/state" --manifests "$RUN/manifests" \
  --http "$ADDR:$PORT_PC" --https "$ADDR:$PORT_PC_TLS" --admin "$ADDR:$PORT_PC_ADMIN" --access-log /dev/null --waf off \
  --redis "redis://127.0.0.1:$PORT_REDIS/"
wait_port "$PORT_BACKEND"; wait_port "$PORT_PC" plain.example.com
for h in plain limited global; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $h.example.com" "http://$ADDR:$PORT_PC/bench")
  [ "$code" = 200 ] || { echo "$BENCH_NAME: $h answers $code, expected 200" >&2; KEEP=1; exit 1; }
done

run_wrk() { # host duration
  BENCH_HOST=$1 taskset -c "$OTHER_CPUS" wrk -t"$THREADS" -c"$CONNS" -d"$2s" --timeout 10s --latency \
    -s "$RUN/wrk.lua" "http://$ADDR:$PORT_PC" 2>&1 | sed -n 's/^RESULT //p'
}

echo "wrk -t$THREADS -c$CONNS -d${DURATION}s x $ROUNDS rounds; portcullis on cpu $PROXY_CPU, backend+wrk on cpu $OTHER_CPUS" >&2
: >"$RUN/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  for target in plain limited global; do
    run_wrk "$target.example.com" "$WARMUP" >/dev/null
    res=$(run_wrk "$target.example.com" "$DURATION")
    [ -n "$res" ] || { echo "no result for $target" >&2; continue; }
    echo "{\"round\":$round,\"target\":\"$target\",\"r\":$res}" >>"$RUN/results.jsonl"
    echo "  round $round $target: $res" >&2
  done
done

python3 - "$RUN/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(t, k):
    v = [r["r"][k] for r in rows if r["target"] == t]
    return statistics.median(v) if v else float("nan")
print(f"{'route':<22} {'req/s':>9} {'mean us':>8} {'p50 us':>8} {'p99 us':>8} {'errors':>7}")
for t, label in (("plain", "no limits"), ("limited", "limit-rps+connections"), ("global", "global-rate-limit")):
    print(f"{label:<22} {med(t,'rps'):>9.0f} {med(t,'mean'):>8.0f} {med(t,'p50'):>8.0f} {med(t,'p99'):>8.0f} {med(t,'errors'):>7.0f}")
for t, label in (("limited", "local"), ("global", "global (Redis)")):
    print(f"{label}: added mean latency {med(t,'mean') - med('plain','mean'):.0f} us, "
          f"p50 {med(t,'p50') - med('plain','p50'):.0f} us; req/s x{med(t,'rps') / med('plain','rps'):.3f}")
PY
