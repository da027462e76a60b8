#!/usr/bin/env bash
# CPU instructions per proxied request, counted by callgrind: deterministic, so it can be
# measured on a busy machine where req/s cannot (see bench/README.md, "proxy_instr.sh").
#
#   bench/proxy_instr.sh              build portcullis (release) if needed, print a table
#
# Env (defaults): DURATION=15 (s of wrk per workload, under valgrind) CONNS=8 WARMUP=3
#   TARGETS="portcullis" (add "nginx" to count nginx's worker the same way) PROXY_CPU=0
#   (the proxy is pinned there, so Portcullis runs one runtime worker as in proxy.sh)
#   OTHER_CPUS=1 (backend and wrk)
#   ACCESS_LOG=on PORTCULLIS=path/to/binary KEEP=1 (keep the run dir and callgrind files)
# Instrumentation is switched on for the warm-up, counters are zeroed after it and dumped
# after the measured run (callgrind_control -i/-z/-d): start-up, config loading and the
# warm-up are not counted. Requests are those wrk
# completed; instructions are the sum over all threads of the process (for Portcullis:
# runtime worker, access-log writer, anything else that ran).
set -euo pipefail

BENCH_NAME=bench/proxy_instr.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION=${DURATION:-15} CONNS=${CONNS:-8} WARMUP=${WARMUP:-3} ACCESS_LOG=${ACCESS_LOG:-on}
TARGETS=${TARGETS:-portcullis} PROXY_CPU=${PROXY_CPU:-0} OTHER_CPUS=${OTHER_CPUS:-1}
PORT_BACKEND=19180 PORT_NGINX=19181 PORT_PC=19182 PORT_PC_TLS=19543 PORT_PC_ADMIN=19354

bench_need "nginx wrk curl valgrind" wrk nginx curl valgrind callgrind_control
bench_portcullis
bench_rundir proxy-instr

backend_conf "$PORT_BACKEND" >"$RUN/backend.conf"
if [ "$ACCESS_LOG" = on ]; then NGX_LOG="access_log $RUN/logs/nginx.access.log;"; PC_LOG="$RUN/logs/portcullis.access.log"
else NGX_LOG="access_log off;"; PC_LOG=/dev/null; fi
# nginx without a master process, so that the one process callgrind watches is the worker.
proxy_front nginx "$PORT_NGINX" "$PORT_BACKEND" "$NGX_LOG" |
  sed 's/^daemon off;/daemon off;\nmaster_process off;/' >"$RUN/nginx.conf"
write_manifests "$RUN/manifests/bench.yaml" "$PORT_BACKEND" bench.example.com

cat >"$RUN/wrk.lua" <<'LUA'
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = "/bench?q=1"
wrk.headers["Host"] = "bench.example.com"
wrk.headers["User-Agent"] = "proxy-bench/1"
local size = tonumber(os.getenv("BENCH_BODY") or "0")
if size > 0 then
  wrk.body = string.rep("a", size)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
function done(s, lat, req)
  io.write(string.format("RESULT %d %d\n", s.requests,
    s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout + s.errors.status))
end
LUA

start backend taskset -c "$OTHER_CPUS" "$NGINX" -c "$RUN/backend.conf"
wait_port "$PORT_BACKEND"

# Waits up to 60 s (valgrind start-up is slow).
wait_slow() { local _; for _ in $(seq 1 600); do
  curl -s -o /dev/null -H "Host: bench.example.com" "http://$ADDR:$1/" && return 0; sleep 0.1; done
  echo "$BENCH_NAME: nothing answers on port $1; logs in $RUN/logs" >&2; KEEP=1; exit 1; }

run_wrk() { # port workload duration -> "requests errors"
  local method=GET body=0
  [ "$2" = post1k ] && { method=POST; body=1024; }
  BENCH_METHOD=$method BENCH_BODY=$body taskset -c "$OTHER_CPUS" wrk -t1 -c"$CONNS" -d"$3s" --timeout 30s \
    -s "$RUN/wrk.lua" "http://$ADDR:$1" 2>&1 | sed -n 's/^RESULT //p'
}

# Sum of "summary:" / "totals:" lines (Ir) over the callgrind files of one dump.
sum_ir() { awk '/^totals:/ { s += $2 } END { print s + 0 }' "$@"; }

# Waits until the process (all threads) used less than 2 clock ticks in a second: start-up
# work on side threads (e.g. regex precompilation) must not be counted as request cost.
wait_idle() { local a b _; for _ in $(seq 1 300); do
  a=$(proc_ticks "$1"); sleep 1; b=$(proc_ticks "$1"); [ $((b - a)) -lt 2 ] && return 0; done; }

printf '%-8s %-11s %9s %7s %14s %12s\n' workload proxy requests errors instructions instr/req
for target in $TARGETS; do
  out="$RUN/cg.$target"
  case $target in
    portcullis) port=$PORT_PC
      start "$target" taskset -c "$PROXY_CPU" valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes \
        --callgrind-out-file="$out.%p" "$PORTCULLIS" serve --state-dir "$RUN/state" \
        --manifests "$RUN/manifests" --http "$ADDR:$PORT_PC" --https "$ADDR:$PORT_PC_TLS" \
        --admin "$ADDR:$PORT_PC_ADMIN" --access-log "$PC_LOG" ;;
    nginx) port=$PORT_NGINX
      start "$target" taskset -c "$PROXY_CPU" valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$out.%p" "$NGINX" -c "$RUN/nginx.conf" ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  pid=${PIDS[-1]}
  wait_slow "$port"
  wait_idle "$pid"
  for wl in get post1k; do
    callgrind_control -i on "$pid" >/dev/null
    run_wrk "$port" "$wl" "$WARMUP" >/dev/null
    callgrind_control -z "$pid" >/dev/null
    read -r reqs errs < <(run_wrk "$port" "$wl" "$DURATION")
    callgrind_control -d "$wl" "$pid" >/dev/null
    callgrind_control -i off "$pid" >/dev/null
    sleep 1
    files=$(ls "$out".* 2>/dev/null | grep -v '\.dump$' | xargs grep -l "^desc: Trigger: .*$wl" 2>/dev/null || true)
    [ -n "$files" ] || { echo "no callgrind dump for $target/$wl" >&2; KEEP=1; exit 1; }
    ir=$(sum_ir $files)
    printf '%-8s %-11s %9d %7d %14d %12d\n' "$wl" "$target" "$reqs" "$errs" "$ir" $((ir / (reqs > 0 ? reqs : 1)))
    for f in $files; do echo "    thread ${f##*-}: $(sum_ir "$f")" >&2; done
    mkdir -p "$RUN/dumps/$target-$wl"; mv $files "$RUN/dumps/$target-$wl/"
  done
done
echo "callgrind files: $RUN/dumps (KEEP=1 to keep them; callgrind_annotate FILE)" >&2
