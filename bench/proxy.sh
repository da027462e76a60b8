#!/usr/bin/env bash
# Portcullis vs nginx (Debian package) as plain reverse proxies in front of the same backend,
# measured side by side in one run with wrk (HTTP/1.1 keep-alive).
#
#   bench/proxy.sh                    build portcullis (release) if needed, run, print a table
#
# Env (defaults): DURATION=10 (s per run) CONNS=32 THREADS=1 ROUNDS=3 WARMUP=2 (s, per target
#   and workload, not recorded) PROXY_CPU=0 (core both proxies are pinned to, one at a time)
#   OTHER_CPUS=1 (backend and wrk) ACCESS_LOG=on (both proxies write an access log file; "off"
#   disables nginx's and sends Portcullis's to /dev/null) PORTCULLIS=path/to/binary (skip the build)
#   KEEP=1 keeps the run directory.
# Workloads: "get" (GET /bench?q=1, ~100-byte answer) and "post1k" (POST of 1024 bytes).
# Besides req/s and latency, the table shows each proxy's CPU time per request (user+system
# of the process and its children from /proc, over the timed run), which stays meaningful
# when other work shares the machine; bench/proxy_instr.sh counts instructions instead.
# The backend is nginx answering a fixed 100-byte 200 and discarding bodies, so the proxies
# are the bottleneck. Each proxy gets one worker on one core (nginx: worker_processes 1;
# Portcullis: its runtime sizes itself to the one CPU taskset leaves it).
set -euo pipefail

BENCH_NAME=bench/proxy.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION=${DURATION:-10} CONNS=${CONNS:-32} THREADS=${THREADS:-1} ROUNDS=${ROUNDS:-3} WARMUP=${WARMUP:-2}
PROXY_CPU=${PROXY_CPU:-0} OTHER_CPUS=${OTHER_CPUS:-1} ACCESS_LOG=${ACCESS_LOG:-on}
PORT_BACKEND=19080 PORT_NGINX=19081 PORT_PC=19082 PORT_PC_TLS=19443 PORT_PC_ADMIN=19254

bench_need "nginx wrk curl" wrk nginx taskset python3 curl
bench_portcullis
bench_rundir proxy-bench

# ---- backend: fixed 100-byte answer, bodies read and dropped ----
backend_conf "$PORT_BACKEND" >"$RUN/backend.conf"

if [ "$ACCESS_LOG" = on ]; then NGX_LOG="access_log $RUN/logs/nginx.access.log;"; PC_LOG="$RUN/logs/portcullis.access.log"
else NGX_LOG="access_log off;"; PC_LOG=/dev/null; fi

# ---- nginx front, ingress-nginx-like proxy settings ----
proxy_front nginx "$PORT_NGINX" "$PORT_BACKEND" "$NGX_LOG" >"$RUN/nginx.conf"

# ---- Portcullis: the same route as ordinary manifests ----
write_manifests "$RUN/manifests/bench.yaml" "$PORT_BACKEND" bench.example.com

# ---- wrk script: one pre-built request, RESULT line with the numbers ----
cat >"$RUN/wrk.lua" <<'LUA'
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.headers["Host"] = "bench.example.com"
wrk.headers["User-Agent"] = "proxy-bench/1"
local size = tonumber(os.getenv("BENCH_BODY") or "0")
if size > 0 then
  wrk.body = string.rep("a", size)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
function done(s, lat, req)
  local e = s.errors
  io.write(string.format('RESULT {"rps":%.1f,"p50":%d,"p99":%d,"errors":%d,"requests":%d}\n',
    s.requests / (s.duration / 1e6), lat:percentile(50), lat:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status, s.requests))
end
LUA

start backend taskset -c "$OTHER_CPUS" "$NGINX" -c "$RUN/backend.conf"
start nginx taskset -c "$PROXY_CPU" "$NGINX" -c "$RUN/nginx.conf"
start portcullis taskset -c "$PROXY_CPU" "$PORTCULLIS" serve --state-dir "$RUN/state" --manifests "$RUN/manifests" \
  --http "$ADDR:$PORT_PC" --https "$ADDR:$PORT_PC_TLS" --admin "$ADDR:$PORT_PC_ADMIN" --access-log "$PC_LOG"
PID_NGINX=${PIDS[1]} PID_PC=${PIDS[2]}
TICK_US=$((1000000 / $(getconf CLK_TCK)))
wait_port "$PORT_BACKEND"; wait_port "$PORT_NGINX"; wait_port "$PORT_PC"
for p in "$PORT_NGINX" "$PORT_PC"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' "http://$ADDR:$p/bench")
  [ "$code" = 200 ] || { echo "bench/proxy.sh: port $p answers $code, expected 200" >&2; KEEP=1; exit 1; }
done

run_wrk() { # port workload duration
  local method=GET body=0
  [ "$2" = post1k ] && { method=POST; body=1024; }
  BENCH_METHOD=$method BENCH_PATH="/bench?q=1" BENCH_BODY=$body \
    taskset -c "$OTHER_CPUS" wrk -t"$THREADS" -c"$CONNS" -d"$3s" --timeout 10s --latency \
    -s "$RUN/wrk.lua" "http://$ADDR:$1" 2>&1 | sed -n 's/^RESULT //p'
}

echo "wrk -t$THREADS -c$CONNS -d${DURATION}s x $ROUNDS rounds; proxies on cpu $PROXY_CPU, backend+wrk on cpu $OTHER_CPUS; access log $ACCESS_LOG" >&2
: >"$RUN/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  for wl in get post1k; do
    for target in nginx portcullis; do
      port=$PORT_NGINX pid=$PID_NGINX
      [ "$target" = portcullis ] && port=$PORT_PC pid=$PID_PC
      run_wrk "$port" "$wl" "$WARMUP" >/dev/null
      t0=$(proc_ticks "$pid")
      res=$(run_wrk "$port" "$wl" "$DURATION")
      t1=$(proc_ticks "$pid")
      [ -n "$res" ] || { echo "no result for $target/$wl" >&2; continue; }
      # CPU time of the proxy (all threads / workers) per request: robust on a busy machine.
      res="${res%\}},\"cpu_ticks\":$((t1 - t0)),\"tick_us\":$TICK_US}"
      echo "{\"round\":$round,\"target\":\"$target\",\"workload\":\"$wl\",\"r\":$res}" >>"$RUN/results.jsonl"
      echo "  round $round $wl $target: $res" >&2
    done
  done
done

python3 - "$RUN/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(t, w, k):
    v = [r["r"][k] for r in rows if r["target"] == t and r["workload"] == w]
    return statistics.median(v) if v else float("nan")
for r in rows:
    x = r["r"]
    x["cpu_us"] = x["cpu_ticks"] * x["tick_us"] / max(x["requests"], 1)
print(f"{'workload':<8} {'proxy':<11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU us/req':>10}")
for w in ("get", "post1k"):
    for t in ("nginx", "portcullis"):
        print(f"{w:<8} {t:<11} {med(t,w,'rps'):>9.0f} {med(t,w,'p50')/1000:>8.2f} {med(t,w,'p99')/1000:>8.2f} {med(t,w,'errors'):>7.0f} {med(t,w,'cpu_us'):>10.1f}")
    rps = med("portcullis", w, "rps") / med("nginx", w, "rps")
    p99 = med("portcullis", w, "p99") / med("nginx", w, "p99")
    cpu = med("portcullis", w, "cpu_us") / med("nginx", w, "cpu_us")
    print(f"{w:<8} ratio portcullis/nginx: req/s x{rps:.2f}, p99 x{p99:.2f}, CPU/req x{cpu:.2f} (p99, CPU: below 1 is better)")
PY
