#!/usr/bin/env bash
# Portcullis's WAF vs nginx + ModSecurity v3 + OWASP CRS (Debian packages), side by side in one
# run with wrk (HTTP/1.1 keep-alive), all fronts in front of the same origin.
#
#   bench/waf.sh                      build portcullis (release) if needed, verify, time, print a table
#
# Needs (not installed by this script):
#   apt-get install -y nginx libnginx-mod-http-modsecurity modsecurity-crs wrk curl python3
# and the CRS v4 tree at CRS4 (default: ../shared/crs next to the repository).
#
# Fronts (each one worker / one runtime thread, pinned to FRONT_CPU; wrk and the origin on OTHER_CPUS):
#   modsec-crs3   nginx + ModSecurity v3 + Debian's CRS 3.3.4 (modsecurity-crs), paranoia 1, blocking
#   modsec-crs4   nginx + ModSecurity v3 + CRS v4 from CRS4, paranoia 1, blocking
#   pc-waf        portcullis serve --waf block --crs CRS4 --paranoia 1 (Ingress with enable-modsecurity)
#   pc-off        portcullis serve --waf off (same manifests)
#   pc-waf-crs3   portcullis on Debian's CRS 3.3.4 (only if it loads; skipped with a note otherwise)
# ModSecurity runs ModSecurity's recommended configuration (Debian's copy of
# modsecurity.conf-recommended) switched to blocking (SecRuleEngine On), with its audit log
# (RelevantOnly, serial) in the run directory and SecResponseBodyAccess Off, since Portcullis
# does not inspect response bodies (MODSEC_RESPONSE_BODY=on keeps the recommended On).
#
# Workloads (Host bench.example.com, browser-like User-Agent and Accept):
#   get       GET /api/v1/products?category=books&sort=price&order=asc&page=2&per_page=20
#   form      POST of a 1024-byte application/x-www-form-urlencoded checkout form
#   json      POST of a 1024-byte application/json order
#   sqli      GET /api/v1/products?id=1%27%20OR%201%3D1-- (403 from every WAF, 200 from pc-off)
# Before timing, every front must answer 200 to the benign workloads, the WAF fronts 403 to sqli,
# and Portcullis must log no security event for the benign ones and a 949110 one for sqli.
#
# Env (defaults): DURATION=10 (s per run) CONNS=32 THREADS=1 ROUNDS=3 WARMUP=2 (s, not recorded)
#   FRONT_CPU=1 OTHER_CPUS=0 PARANOIA=1 ACCESS_LOG=on (every front logs each request to a file)
#   FRONTS="modsec-crs3 modsec-crs4 pc-waf pc-off pc-waf-crs3" WORKLOADS="get form json sqli"
#   CRS4=../shared/crs PORTCULLIS=path/to/binary (skip the build) KEEP=1 (keep the run directory)
#   RESULTS=file (also copy the per-run JSON lines there)
set -euo pipefail

BENCH_NAME=bench/waf.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION=${DURATION:-10} CONNS=${CONNS:-32} THREADS=${THREADS:-1} ROUNDS=${ROUNDS:-3} WARMUP=${WARMUP:-2}
FRONT_CPU=${FRONT_CPU:-1} OTHER_CPUS=${OTHER_CPUS:-0} PARANOIA=${PARANOIA:-1} ACCESS_LOG=${ACCESS_LOG:-on}
FRONTS=${FRONTS:-modsec-crs3 modsec-crs4 pc-waf pc-off pc-waf-crs3}
WORKLOADS=${WORKLOADS:-get form json sqli}
CRS4=${CRS4:-$BENCH_ROOT/../shared/crs}

HOST=bench.example.com
UA="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ACCEPT="text/html,application/json;q=0.9,*/*;q=0.8"
PORT_BACKEND=19180 BACKEND_PORT=19180


PKGS="nginx libnginx-mod-http-modsecurity modsecurity-crs wrk curl python3"
bench_need "$PKGS" wrk nginx taskset python3 curl
for f in "$MODSEC_MODULE" "$MODSEC_RECOMMENDED" "$MODSEC_UNICODE" "$CRS3_SETUP" "$CRS3_RULES"; do
  [ -e "$f" ] || { echo "$BENCH_NAME: missing $f -- install with: apt-get install -y $PKGS" >&2; exit 2; }
done
[ -r "$CRS4/crs-setup.conf.example" ] && [ -d "$CRS4/rules" ] ||
  { echo "$BENCH_NAME: no CRS v4 tree at $CRS4 (set CRS4=DIR)" >&2; exit 2; }
CRS4=$(cd "$CRS4" && pwd)
bench_portcullis
bench_rundir waf-bench
mkdir -p "$RUN/bodies" "$RUN/crs3"

front_port() {
  case $1 in
    modsec-crs3) echo 19181 ;; modsec-crs4) echo 19182 ;; pc-waf) echo 19183 ;;
    pc-off) echo 19184 ;; pc-waf-crs3) echo 19185 ;; *) echo "unknown front $1" >&2; return 1 ;;
  esac
}

# ---- request bodies: exactly 1024 bytes each, ordinary checkout data ----
python3 - "$RUN/bodies" <<'PY'
import json, sys, urllib.parse
out = sys.argv[1]
words = ("please ring the bell twice and leave the parcel with the neighbour at number "
         "twelve if nobody answers the door thank you very much for the quick delivery").split()
def form(note):
    return urllib.parse.urlencode([
        ("customer_name", "Jane Doe"), ("email", "jane.doe@example.com"), ("phone", "+1 555 0100"),
        ("address_line1", "42 Market Street"), ("address_line2", "Apartment 7"), ("city", "Springfield"),
        ("state", "IL"), ("postal_code", "62704"), ("country", "US"), ("shipping", "standard"),
        ("gift_wrap", "false"), ("newsletter", "true"), ("coupon", "SPRING24"),
        ("item_1_sku", "BK-1001"), ("item_1_qty", "2"), ("item_2_sku", "BK-2044"), ("item_2_qty", "1"),
        ("payment_method", "card"), ("card_holder", "Jane Doe"), ("notes", note)]).encode()
def js(note):
    doc = {"customer": {"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "+1 555 0100"},
           "shipping": {"line1": "42 Market Street", "line2": "Apartment 7", "city": "Springfield",
                        "state": "IL", "postal_code": "62704", "country": "US", "method": "standard"},
           "items": [{"sku": "BK-1001", "qty": 2, "price": 12.5}, {"sku": "BK-2044", "qty": 1, "price": 30}],
           "gift_wrap": False, "newsletter": True, "coupon": "SPRING24", "notes": note}
    return json.dumps(doc).encode()
for name, build in (("form-1k.txt", form), ("json-1k.json", js)):
    # The longest word-padded note that stays under 1024 bytes, then single letters to 1024.
    n = 0
    while len(build(" ".join((words * 10)[:n + 1]))) <= 1024:
        n += 1
    note = " ".join((words * 10)[:n])
    while len(build(note)) < 1024:
        note += "s"
    body = build(note)
    assert len(body) == 1024, (name, len(body))
    open(f"{out}/{name}", "wb").write(body)
PY

workload() { # name -> METHOD|PATH|BODY_FILE|CONTENT_TYPE
  case $1 in
    get) echo "GET|/api/v1/products?category=books&sort=price&order=asc&page=2&per_page=20||" ;;
    form) echo "POST|/api/v1/orders|$RUN/bodies/form-1k.txt|application/x-www-form-urlencoded" ;;
    json) echo "POST|/api/v1/orders|$RUN/bodies/json-1k.json|application/json" ;;
    sqli) echo "GET|/api/v1/products?id=1%27%20OR%201%3D1--||" ;;
    *) echo "unknown workload $1" >&2; return 1 ;;
  esac
}

# ---- origin ----
backend_conf "$PORT_BACKEND" >"$RUN/backend.conf"

# ---- Portcullis fronts: one Ingress with the ingress-nginx annotation ----
write_manifests "$RUN/manifests/bench.yaml" "$PORT_BACKEND" "$HOST" \
  '    nginx.ingress.kubernetes.io/enable-modsecurity: "true"'
# Debian's CRS 3.3.4 as one folder (setup from /etc, rules from /usr/share).
ln -s "$CRS3_SETUP" "$RUN/crs3/crs-setup.conf"
ln -s "$CRS3_RULES" "$RUN/crs3/rules"

declare -A FRONT_PID FRONT_ADMIN
n=0
started=""
start_front() { # name
  local name=$1 port i
  port=$(front_port "$name")
  i=$((n++))
  case $name in
    modsec-crs3 | modsec-crs4)
      if [ "$name" = modsec-crs3 ]; then
        modsec_front "$name" "$port" "$CRS3_SETUP" "$CRS3_RULES" paranoia_level "$PARANOIA" >"$RUN/$name.conf"
      else
        modsec_front "$name" "$port" "$CRS4/crs-setup.conf.example" "$CRS4/rules" blocking_paranoia_level \
          "$PARANOIA" >"$RUN/$name.conf"
      fi
      "$NGINX" -t -q -c "$RUN/$name.conf" >"$RUN/logs/$name.configtest" 2>&1 ||
        { cat "$RUN/logs/$name.configtest" >&2; KEEP=1; exit 1; }
      start "$name" taskset -c "$FRONT_CPU" "$NGINX" -c "$RUN/$name.conf"
      ;;
    pc-*)
      local waf=(--waf block --crs "$CRS4" --paranoia "$PARANOIA" --security-log "$RUN/logs/$name.security.log")
      [ "$name" = pc-off ] && waf=(--waf off)
      [ "$name" = pc-waf-crs3 ] && waf=(--waf block --crs "$RUN/crs3" --paranoia "$PARANOIA" --security-log "$RUN/logs/$name.security.log")
      local alog=/dev/null
      [ "$ACCESS_LOG" = on ] && alog="$RUN/logs/$name.access.log"
      start "$name" taskset -c "$FRONT_CPU" "$PORTCULLIS" serve --state-dir "$RUN/state-$name" --manifests "$RUN/manifests" \
        --http "$ADDR:$port" --https "$ADDR:$((19450 + i))" --admin "$ADDR:$((19260 + i))" \
        --access-log "$alog" "${waf[@]}"
      ;;
  esac
  FRONT_PID[$name]=${PIDS[-1]}
  case $name in pc-*) FRONT_ADMIN[$name]=$((19260 + i)) ;; esac
}

start backend taskset -c "$OTHER_CPUS" "$NGINX" -c "$RUN/backend.conf"
wait_port "$PORT_BACKEND"
for f in $FRONTS; do start_front "$f"; done
for f in $FRONTS; do
  port=$(front_port "$f")
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -H "Host: $HOST" "http://$ADDR:$port/" && break
    kill -0 "${FRONT_PID[$f]}" 2>/dev/null || break
    sleep 0.1
  done
  if curl -s -o /dev/null -H "Host: $HOST" "http://$ADDR:$port/"; then
    started="$started $f"
  elif [ "$f" = pc-waf-crs3 ]; then
    echo "note: portcullis does not start on Debian's CRS 3.3.4 (front skipped): $(grep -m1 '^portcullis:' "$RUN/logs/$f.out" | cut -c1-300)" >&2
  else
    echo "$BENCH_NAME: $f does not answer on port $port; logs in $RUN/logs" >&2
    tail -5 "$RUN/logs/$f.out" >&2 || true
    KEEP=1; exit 1
  fi
done
FRONTS=${started# }

# ---- verification before timing ----
request() { # port workload -> "code size"
  local m p b c args=()
  IFS='|' read -r m p b c < <(workload "$2")
  [ -n "$b" ] && args+=(--data-binary "@$b" -H "Content-Type: $c")
  curl -s -o /dev/null --max-time 10 -w '%{http_code} %{size_download}' -X "$m" \
    -H "Host: $HOST" -H "User-Agent: $UA" -H "Accept: $ACCEPT" "${args[@]}" "http://$ADDR:$1$p"
}
fail=0
for f in $FRONTS; do
  port=$(front_port "$f")
  seclog="$RUN/logs/$f.security.log"
  for wl in get form json; do
    r=$(request "$port" "$wl")
    [ "$r" = "200 100" ] || { echo "verify: $f $wl -> $r (want 200 with the 100-byte body)" >&2; fail=1; }
  done
  if [ -e "$seclog" ] && [ -s "$seclog" ]; then
    echo "verify: $f logged security events for benign requests:" >&2; cut -c1-400 "$seclog" >&2; fail=1
  fi
  want=403
  [ "$f" = pc-off ] && want=200
  r=$(request "$port" sqli)
  [ "${r%% *}" = "$want" ] || { echo "verify: $f sqli -> $r (want $want)" >&2; fail=1; }
  if [ -e "$seclog" ]; then
    sleep 0.2
    grep -q '"id":949110' "$seclog" || { echo "verify: $f logged no 949110 event for sqli" >&2; fail=1; }
  fi
  [ "$fail" = 0 ] && echo "verify: $f ok (get/form/json 200, sqli $want)" >&2
done
[ "$fail" = 0 ] || { KEEP=1; echo "$BENCH_NAME: verification failed; nothing timed" >&2; exit 1; }

# ---- wrk ----
cat >"$RUN/wrk.lua" <<'LUA'
local function env(k) local v = os.getenv(k); if v == "" then return nil end; return v end
wrk.method = env("WL_METHOD") or "GET"
wrk.path = env("WL_PATH") or "/"
wrk.headers["Host"] = env("WL_HOST")
wrk.headers["User-Agent"] = env("WL_UA")
wrk.headers["Accept"] = env("WL_ACCEPT")
local body = env("WL_BODY")
if body then
  local f = assert(io.open(body, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = env("WL_CTYPE")
end
function done(s, lat, req)
  local e = s.errors
  io.write(string.format('RESULT {"rps":%.1f,"p50":%d,"p99":%d,"errors":%d,"non2xx":%d,"requests":%d}\n',
    s.requests / (s.duration / 1e6), lat:percentile(50), lat:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, s.requests))
end
LUA
run_wrk() { # port workload duration
  local m p b c
  IFS='|' read -r m p b c < <(workload "$2")
  WL_METHOD=$m WL_PATH=$p WL_BODY=$b WL_CTYPE=$c WL_HOST=$HOST WL_UA=$UA WL_ACCEPT=$ACCEPT \
    taskset -c "$OTHER_CPUS" wrk -t"$THREADS" -c"$CONNS" -d"$3s" --timeout 10s --latency \
    -s "$RUN/wrk.lua" "http://$ADDR:$1" 2>&1 | sed -n 's/^RESULT //p'
}

HZ=$(getconf CLK_TCK)
# Portcullis's own WAF engine time (portcullis_waf_evaluation_seconds_sum on its admin port).
engine_seconds() { # front -> seconds so far (0 for fronts without it)
  local admin=${FRONT_ADMIN[$1]:-}
  [ -n "$admin" ] || { echo 0; return; }
  curl -s --max-time 5 "http://$ADDR:$admin/metrics" |
    awk '/^portcullis_waf_evaluation_seconds_sum\{phase="request"\}/ { s += $2 } END { print s + 0 }'
}
echo "wrk -t$THREADS -c$CONNS -d${DURATION}s x $ROUNDS rounds; fronts on cpu $FRONT_CPU, origin+wrk on cpu $OTHER_CPUS; paranoia $PARANOIA; access log $ACCESS_LOG" >&2
: >"$RUN/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  for wl in $WORKLOADS; do
    for f in $FRONTS; do
      port=$(front_port "$f")
      run_wrk "$port" "$wl" "$WARMUP" >/dev/null
      e0=$(engine_seconds "$f")
      t0=$(proc_ticks "${FRONT_PID[$f]}")
      res=$(run_wrk "$port" "$wl" "$DURATION")
      t1=$(proc_ticks "${FRONT_PID[$f]}")
      e1=$(engine_seconds "$f")
      [ -n "$res" ] || { echo "no result for $f/$wl" >&2; continue; }
      line="{\"round\":$round,\"front\":\"$f\",\"workload\":\"$wl\",\"cpu_s\":$(((t1 - t0) * 1000 / HZ))e-3,\"engine_s\":$(awk -v a="$e0" -v b="$e1" 'BEGIN { print b - a }'),\"r\":$res}"
      echo "$line" >>"$RUN/results.jsonl"
      echo "  round $round $wl $f: $res" >&2
    done
  done
done
[ -n "${RESULTS:-}" ] && cp "$RUN/results.jsonl" "$RESULTS"

python3 "$(dirname "${BASH_SOURCE[0]}")/waf_summary.py" "$RUN/results.jsonl"
