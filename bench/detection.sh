#!/usr/bin/env bash
# Detection quality: public attack and benign corpora through Portcullis's WAF (blocking, CRS v4)
# at paranoia 1 and 2, and the same requests through nginx + ModSecurity v3 with the same CRS for
# comparison. Prints attacks blocked % and benign requests passed % per corpus and placement.
#
#   bench/detection.sh [OUT_DIR]      (default: a new temp dir, printed at the end)
#
# Needs: apt-get install -y nginx libnginx-mod-http-modsecurity wfuzz sqlmap wamerican curl python3
# (the corpora come from installed packages; see bench/corpora/build.py and docs/detection.md).
# Requests go over HTTP to `portcullis serve --waf block --crs CRS4 --paranoia N`, one Ingress with
# enable-modsecurity, so they take the gateway's real path (parsing, phases 1-2, 403).
#
# Env (defaults): LEVELS="1 2" MODSEC=1 (0: Portcullis only) WORKERS=4 (concurrent connections
#   per front) CRS4=../shared/crs PORTCULLIS=path/to/binary (skip the build) CORPORA=dir (reuse
#   built corpora) KEEP=1 (keep the run directory with logs) CRS=debian3 (both WAFs on Debian's
#   CRS 3.3.4 from modsecurity-crs instead of CRS4).
set -euo pipefail

BENCH_NAME=bench/detection.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LEVELS=${LEVELS:-1 2} MODSEC=${MODSEC:-1} WORKERS=${WORKERS:-4}
CRS4=${CRS4:-$BENCH_ROOT/../shared/crs}
HOST=bench.example.com
BACKEND_PORT=19380

bench_need "nginx libnginx-mod-http-modsecurity wfuzz sqlmap wamerican curl python3" nginx python3 curl
[ -r "$CRS4/crs-setup.conf.example" ] && [ -d "$CRS4/rules" ] ||
  { echo "$BENCH_NAME: no CRS v4 tree at $CRS4 (set CRS4=DIR)" >&2; exit 2; }
CRS4=$(cd "$CRS4" && pwd)
if [ "$MODSEC" = 1 ] && [ ! -e "$MODSEC_MODULE" ]; then
  echo "$BENCH_NAME: no $MODSEC_MODULE (apt-get install -y libnginx-mod-http-modsecurity), or MODSEC=0" >&2
  exit 2
fi
bench_portcullis
bench_rundir detection
# Which CRS both WAFs load: the v4 tree, or Debian's 3.3.4 (setup in /etc, rules in /usr/share,
# joined in one folder for Portcullis).
PC_CRS=$CRS4 MS_SETUP=$CRS4/crs-setup.conf.example MS_RULES=$CRS4/rules MS_PL_VAR=blocking_paranoia_level
if [ "${CRS:-v4}" = debian3 ]; then
  mkdir -p "$RUN/crs3"
  ln -s "$CRS3_SETUP" "$RUN/crs3/crs-setup.conf"
  ln -s "$CRS3_RULES" "$RUN/crs3/rules"
  PC_CRS=$RUN/crs3 MS_SETUP=$CRS3_SETUP MS_RULES=$CRS3_RULES MS_PL_VAR=paranoia_level
fi
OUT=${1:-$(mktemp -d -t detection-out.XXXXXX)}
mkdir -p "$OUT"

if [ -z "${CORPORA:-}" ]; then
  CORPORA="$OUT/corpora"
  python3 "$BENCH_ROOT/bench/corpora/build.py" "$CORPORA"
fi

backend_conf "$BACKEND_PORT" >"$RUN/backend.conf"
start backend "$NGINX" -c "$RUN/backend.conf"
wait_port "$BACKEND_PORT"
write_manifests "$RUN/manifests/bench.yaml" "$BACKEND_PORT" "$HOST" \
  '    nginx.ingress.kubernetes.io/enable-modsecurity: "true"'

fronts=()
i=0
for level in $LEVELS; do
  port=$((19381 + i))
  start "pc-pl$level" "$PORTCULLIS" serve --state-dir "$RUN/state-pl$level" --manifests "$RUN/manifests" --http "$ADDR:$port" \
    --https "$ADDR:$((19480 + i))" --admin "$ADDR:$((19280 + i))" --access-log /dev/null \
    --waf block --crs "$PC_CRS" --paranoia "$level" --security-log "$RUN/logs/pc-pl$level.security.log"
  wait_port "$port"
  fronts+=(--front "pc-pl$level=$port=$RUN/logs/pc-pl$level.security.log")
  i=$((i + 1))
  if [ "$MODSEC" = 1 ]; then
    port=$((19381 + i))
    modsec_front "modsec-pl$level" "$port" "$MS_SETUP" "$MS_RULES" "$MS_PL_VAR" "$level" \
      >"$RUN/modsec-pl$level.conf"
    "$NGINX" -t -q -c "$RUN/modsec-pl$level.conf" || { KEEP=1; exit 1; }
    start "modsec-pl$level" "$NGINX" -c "$RUN/modsec-pl$level.conf"
    wait_port "$port"
    fronts+=(--front "modsec-pl$level=$port")
    i=$((i + 1))
  fi
done

python3 "$BENCH_ROOT/bench/detection.py" --corpora "$CORPORA" --out "$OUT" --workers "$WORKERS" \
  "${fronts[@]}" | tee "$OUT/report.txt"
cp "$CORPORA/SOURCES.txt" "$OUT/" 2>/dev/null || true
echo "results in $OUT (report.txt, summary.json, false-positives-*.jsonl, disagreements.jsonl)" >&2
