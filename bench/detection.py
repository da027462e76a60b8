#!/usr/bin/env python3
"""Send the corpora of bench/corpora/build.py through running WAF fronts over HTTP and count
verdicts. Used by bench/detection.sh (which starts the fronts); usable on its own:

    bench/detection.py --corpora DIR --out DIR --front NAME=PORT[=SECURITY_LOG] ...

Each corpus line becomes one or more requests (Host bench.example.com, browser-like headers):
  {"v": x}     GET /search?q=x&lang=en, POST /submit form q=x&lang=en, POST /api/items JSON {"q": x, "lang": "en"}
  {"v_enc": e} the same with e (percent-encoded already) pasted as it is, decoded for JSON
  {"qs": s}    GET /packages?s
  {"form": b}  POST /packages (application/x-www-form-urlencoded)
  {"json": b}  POST /api/packages (application/json)
A 403 counts as blocked, a 2xx as passed, anything else (400, 413, connection error) as other.
Writes OUT/verdicts-FRONT.jsonl (one line per request), OUT/summary.json, prints a table of
attacks blocked % and benign passed % per corpus and placement, and the requests on which two
fronts at the same paranoia level disagree (OUT/disagreements.jsonl).
"""

import argparse
import concurrent.futures
import glob
import http.client
import json
import os
import threading
import time
import urllib.parse

HOST = "bench.example.com"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ACCEPT = "text/html,application/json;q=0.9,*/*;q=0.8"


def requests_for(row):
    """(placement, method, path, content_type, body) for one corpus line."""
    if "v" in row:
        v = row["v"]
        q = urllib.parse.urlencode([("q", v), ("lang", "en")])
        yield "query", "GET", f"/search?{q}", None, None
        yield "form", "POST", "/submit", "application/x-www-form-urlencoded", q.encode()
        yield "json", "POST", "/api/items", "application/json", json.dumps({"q": v, "lang": "en"}).encode()
    elif "v_enc" in row:
        enc = urllib.parse.quote(row["v_enc"], safe="%")
        q = f"q={enc}&lang=en"
        yield "query", "GET", f"/search?{q}", None, None
        yield "form", "POST", "/submit", "application/x-www-form-urlencoded", q.encode()
        v = urllib.parse.unquote(row["v_enc"], errors="replace")
        yield "json", "POST", "/api/items", "application/json", json.dumps({"q": v, "lang": "en"}).encode()
    elif "qs" in row:
        yield "query", "GET", f"/packages?{row['qs']}", None, None
    elif "form" in row:
        yield "form", "POST", "/packages", "application/x-www-form-urlencoded", row["form"].encode()
    elif "json" in row:
        yield "json", "POST", "/api/packages", "application/json", row["json"].encode()


def load_corpora(directory):
    cases = []  # (kind, corpus, index, placement, method, path, ctype, body, shown)
    for kind in ("attack", "benign"):
        for path in sorted(glob.glob(f"{directory}/{kind}/*.jsonl")):
            corpus = os.path.basename(path)[:-len(".jsonl")]
            for i, line in enumerate(open(path, encoding="utf-8")):
                row = json.loads(line)
                shown = next(iter(row.values()))
                for placement, method, p, ctype, body in requests_for(row):
                    cases.append((kind, corpus, i, placement, method, p, ctype, body, shown))
    return cases


class Client:
    """One keep-alive connection per thread and port, reopened after errors or close."""

    def __init__(self, port):
        self.port = port
        self.local = threading.local()

    def send(self, method, path, ctype, body, rid):
        headers = {"Host": HOST, "User-Agent": UA, "Accept": ACCEPT, "X-Request-ID": rid}
        if body is not None:
            headers["Content-Type"] = ctype
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.local.conn = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.local.conn = None
                return resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    return 0
        return 0


def run_front(name, port, cases, out, workers):
    client = Client(port)
    results = [None] * len(cases)

    def one(i):
        c = cases[i]
        results[i] = client.send(c[4], c[5], c[6], c[7], f"det-{name}-{i}")

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(len(cases))))
    took = time.monotonic() - start
    with open(f"{out}/verdicts-{name}.jsonl", "w", encoding="utf-8") as f:
        for i, (c, status) in enumerate(zip(cases, results)):
            f.write(json.dumps({"i": i, "kind": c[0], "corpus": c[1], "line": c[2],
                                "placement": c[3], "status": status}) + "\n")
    return results, took


def rules_by_request(security_log):
    """request_id -> [rule ids] from a Portcullis security log (JSON lines)."""
    found = {}
    if not security_log or not os.path.exists(security_log):
        return found
    for line in open(security_log, encoding="utf-8", errors="replace"):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("kind") == "security" and "request_id" in ev:
            found[ev["request_id"]] = [r.get("id") for r in ev.get("rules", [])]
    return found


def verdict(status):
    if status == 403:
        return "blocked"
    if 200 <= status < 300:
        return "passed"
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--front", action="append", required=True,
                    help="NAME=PORT[=SECURITY_LOG]; NAME ends in -plN for the paranoia level")
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cases = load_corpora(args.corpora)
    fronts = [f.split("=", 2) for f in args.front]

    all_results = {}
    summary = {"requests_per_front": len(cases), "fronts": {}}
    for spec in fronts:
        name, port = spec[0], int(spec[1])
        results, took = run_front(name, port, cases, args.out, args.workers)
        all_results[name] = results
        rules = rules_by_request(spec[2] if len(spec) > 2 else None)
        counts = {}
        for c, status in zip(cases, results):
            key = f"{c[0]}/{c[1]}/{c[3]}"
            d = counts.setdefault(key, {"total": 0, "blocked": 0, "passed": 0, "other": 0})
            d["total"] += 1
            d[verdict(status)] += 1
        fps = []
        for i, (c, status) in enumerate(zip(cases, results)):
            if c[0] == "benign" and verdict(status) != "passed":
                fps.append({"corpus": c[1], "placement": c[3], "line": c[2], "status": status,
                            "rules": rules.get(f"det-{name}-{i}"), "value": str(c[8])[:300]})
        with open(f"{args.out}/false-positives-{name}.jsonl", "w", encoding="utf-8") as f:
            for fp in fps:
                f.write(json.dumps(fp) + "\n")
        summary["fronts"][name] = {"seconds": round(took, 1), "counts": counts}
        print(f"{name}: {len(cases)} requests in {took:.1f} s", flush=True)

    with open(f"{args.out}/summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print_table(summary, [f[0] for f in fronts])
    disagreements(cases, all_results, [f[0] for f in fronts], args.out)


def print_table(summary, names):
    keys = sorted({k for n in names for k in summary["fronts"][n]["counts"]},
                  key=lambda k: (k.split("/")[0] != "attack", k))
    print()
    print("attack corpora: % blocked (403); benign corpora: % passed (2xx); 'other' = neither")
    header = f"{'corpus / placement':<34} {'n':>5}" + "".join(f" {n:>14}" for n in names)
    print(header)

    def cell(d, kind):
        good = d["blocked"] if kind == "attack" else d["passed"]
        pct = 100.0 * good / d["total"] if d["total"] else float("nan")
        other = f"+{d['other']}o" if d["other"] else ""
        return f"{pct:6.1f}%{other}"

    totals = {n: {} for n in names}
    for k in keys:
        kind, corpus, placement = k.split("/")
        total = summary["fronts"][names[0]]["counts"].get(k, {}).get("total", 0)
        row = f"{kind[0]}:{corpus + '/' + placement:<32} {total:>5}"
        for n in names:
            d = summary["fronts"][n]["counts"].get(k)
            row += f" {cell(d, kind) if d else '-':>14}"
            if d:
                t = totals[n].setdefault(kind, {"total": 0, "blocked": 0, "passed": 0, "other": 0})
                for f in t:
                    t[f] += d[f]
        print(row)
    for kind in ("attack", "benign"):
        row = f"{'ALL ' + kind:<34} {totals[names[0]].get(kind, {}).get('total', 0):>5}"
        for n in names:
            d = totals[n].get(kind)
            row += f" {cell(d, kind) if d else '-':>14}"
        print(row)


def disagreements(cases, results, names, out):
    """Pairs of fronts at the same paranoia level (suffix -plN) that answer differently."""
    by_level = {}
    for n in names:
        level = n.rsplit("-", 1)[-1]
        by_level.setdefault(level, []).append(n)
    with open(f"{out}/disagreements.jsonl", "w", encoding="utf-8") as f:
        for level, group in sorted(by_level.items()):
            for a_i, a in enumerate(group):
                for b in group[a_i + 1:]:
                    diff = [i for i in range(len(cases))
                            if verdict(results[a][i]) != verdict(results[b][i])]
                    kinds = {}
                    for i in diff:
                        c = cases[i]
                        key = f"{c[0]}: {a} {verdict(results[a][i])}, {b} {verdict(results[b][i])}"
                        kinds[key] = kinds.get(key, 0) + 1
                        f.write(json.dumps({"a": a, "b": b, "kind": c[0], "corpus": c[1],
                                            "placement": c[3], "line": c[2],
                                            "a_status": results[a][i], "b_status": results[b][i],
                                            "value": str(c[8])[:300]}) + "\n")
                    print(f"\n{a} vs {b}: {len(diff)} of {len(cases)} requests answered differently")
                    for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
                        print(f"  {v:>5}  {k}")


if __name__ == "__main__":
    main()
