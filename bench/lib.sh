# shellcheck shell=bash
# Helpers shared by the bench/*.sh scripts (sourced, not run). Each script sets BENCH_NAME
# (used in messages) before sourcing, and ADDR (loopback address) before calling these.
#
#   bench_need "apt hint" tool...   exit 2 naming the missing tools and the packages to install
#   bench_portcullis                sets PORTCULLIS (builds `portcullis` release unless set)
#   bench_rundir prefix             sets RUN (temp dir with tmp/ logs/ manifests/), cleanup trap
#   nginx_conf name port body       an nginx main config (one worker, run-dir paths) on stdout
#   backend_conf port               the fixed 100-byte-200 origin's nginx config on stdout
#   proxy_front name port backend-port extra   nginx as an ingress-nginx-like reverse proxy on stdout
#   write_manifests file port host [annotation-yaml]   Service + Endpoints + Ingress to the origin
#   start name cmd...               runs cmd in the background, output in $RUN/logs/name.out
#   wait_port port                  waits until something answers HTTP on the port (10 s)
#   proc_ticks pid...               summed user+system CPU clock ticks of the pids and children
#   modsec_front name port setup rules var level   nginx + ModSecurity v3 + CRS config on stdout
#                                   (proxies to BACKEND_PORT; rules file written to $RUN)

ADDR=${ADDR:-127.0.0.1}
BENCH_NAME=${BENCH_NAME:-bench}
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_need() { # apt-hint tool...
  local hint=$1 missing="" tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
  done
  if [ -n "$missing" ]; then
    echo "$BENCH_NAME: missing:$missing -- install with: apt-get install -y $hint" >&2
    exit 2
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

bench_portcullis() {
  if [ -z "${PORTCULLIS:-}" ]; then
    echo "building portcullis (release)..." >&2
    (cd "$BENCH_ROOT" && cargo build --release -q -p portcullis)
    PORTCULLIS="${CARGO_TARGET_DIR:-$BENCH_ROOT/target}/release/portcullis"
  fi
  [ -x "$PORTCULLIS" ] || { echo "$BENCH_NAME: no portcullis binary at $PORTCULLIS" >&2; exit 2; }
}

PIDS=()
bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "run dir kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
bench_rundir() { # prefix
  RUN=$(mktemp -d -t "$1.XXXXXX")
  chmod 755 "$RUN"
  trap bench_cleanup EXIT
  mkdir -p "$RUN"/{tmp,logs,manifests}
}

nginx_conf() { # name port body
  cat <<CONF
daemon off;
user root;
worker_processes 1;
pid $RUN/$1.pid;
error_log $RUN/logs/$1.error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $RUN/tmp/$1-body;
  proxy_temp_path $RUN/tmp/$1-proxy;
  fastcgi_temp_path $RUN/tmp/$1-fcgi;
  uwsgi_temp_path $RUN/tmp/$1-uwsgi;
  scgi_temp_path $RUN/tmp/$1-scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
$3
}
CONF
}

# The origin: nginx answering a fixed 100-byte 200 to any request (`return` reads and drops
# request bodies, keeping the connection alive).
backend_conf() { # port
  local body100
  body100=$(printf 'x%.0s' $(seq 1 99))
  nginx_conf backend "$1" "
  access_log off;
  server {
    listen $ADDR:$1;
    location / { default_type text/plain; return 200 '$body100
'; }
  }"
}

proxy_front() { # name front-port backend-port extra-http-directives
  # nginx as a reverse proxy with ingress-nginx's proxy settings (keep-alive upstream, the
  # X-Forwarded-*/X-Request-ID headers Portcullis sets, no buffering): the incumbent of
  # proxy.sh and proxy_instr.sh, and with ModSecurity directives added, of waf.sh.
  nginx_conf "$1" "$2" "
  $4
  client_max_body_size 1m;
  client_body_buffer_size 8k;
  upstream backend {
    server $ADDR:$3;
    keepalive 320;
    keepalive_requests 10000;
    keepalive_timeout 60s;
  }
  server {
    listen $ADDR:$2;
    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host \$host;
      proxy_set_header X-Request-ID \$request_id;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Port \$server_port;
      proxy_buffering off;
      proxy_pass http://backend;
    }
  }"
}

write_manifests() { # file backend-port host [ingress annotations as YAML lines, 4-space indented]
  local annotations=""
  [ -n "${4:-}" ] && annotations="  annotations:
$4"
  cat >"$1" <<YAML
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: $2}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: backend, namespace: default}
subsets:
  - addresses: [{ip: 127.0.0.1}]
    ports: [{name: http, port: $2}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
  namespace: default
$annotations
spec:
  ingressClassName: nginx
  rules:
    - host: $3
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: backend, port: {number: 80}}}
YAML
}

start() { # name cmd...
  local name=$1
  shift
  "$@" >"$RUN/logs/$name.out" 2>&1 &
  PIDS+=($!)
}

wait_port() { # port [host]
  local _
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null -H "Host: ${2:-bench.example.com}" "http://$ADDR:$1/"; then return 0; fi
    sleep 0.1
  done
  echo "$BENCH_NAME: nothing answers on port $1; logs in $RUN/logs" >&2
  KEEP=1
  exit 1
}

proc_ticks() { # pid... -> utime+stime clock ticks of these processes and their children
  local t=0 p v
  for p in "$@" $(for q in "$@"; do ps -o pid= --ppid "$q" 2>/dev/null; done); do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# ---- nginx + ModSecurity v3 (Debian's nginx, libnginx-mod-http-modsecurity, modsecurity-crs) ----
MODSEC_MODULE=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so
MODSEC_RECOMMENDED=/usr/share/nginx/docs/modsecurity/modsecurity.conf
MODSEC_UNICODE=/usr/share/nginx/docs/modsecurity/unicode.mapping
CRS3_SETUP=/etc/modsecurity/crs/crs-setup.conf
CRS3_RULES=/usr/share/modsecurity-crs/rules
MODSEC_RESPONSE_BODY=${MODSEC_RESPONSE_BODY:-off}

# ModSecurity's recommended configuration (Debian's copy of modsecurity.conf-recommended) in
# blocking mode, audit log in the run dir, then the CRS setup, the paranoia level and the rules.
modsec_rules() { # name crs-setup rules-dir paranoia-variable paranoia
  local rb=Off f
  [ "$MODSEC_RESPONSE_BODY" = on ] && rb=On
  echo "# ModSecurity's recommended configuration ($MODSEC_RECOMMENDED), these directives replaced:"
  grep -Ev '^[[:space:]]*Sec(RuleEngine|ResponseBodyAccess|TmpDir|DataDir|AuditLog|UnicodeMapFile)\b' \
    "$MODSEC_RECOMMENDED"
  cat <<CONF
SecRuleEngine On
SecResponseBodyAccess $rb
SecTmpDir $RUN/tmp/
SecDataDir $RUN/tmp/
SecAuditLog $RUN/logs/$1.audit.log
SecUnicodeMapFile $MODSEC_UNICODE 20127
# OWASP CRS: setup, paranoia level, rules in file order
Include $2
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.$4=$5"
CONF
  for f in $(cd "$3" && LC_ALL=C ls -1 ./*.conf); do echo "Include $3/${f#./}"; done
}

# An nginx reverse proxy to the origin on BACKEND_PORT with ModSecurity on (one worker).
modsec_front() { # name port crs-setup rules-dir paranoia-variable paranoia
  local log="access_log off;"
  modsec_rules "$1" "$3" "$4" "$5" "$6" >"$RUN/$1.rules.conf"
  [ "${ACCESS_LOG:-off}" = on ] && log="access_log $RUN/logs/$1.access.log;"
  echo "load_module $MODSEC_MODULE;"
  proxy_front "$1" "$2" "$BACKEND_PORT" "$log
  modsecurity on;
  modsecurity_rules_file $RUN/$1.rules.conf;"
}
