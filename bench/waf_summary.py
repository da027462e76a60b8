#!/usr/bin/env python3
"""Summarise bench/waf.sh results (one JSON line per timed wrk run): medians per front and
workload (req/s, latency, the front's CPU per request, Portcullis's WAF engine time per request), Portcullis / nginx+ModSecurity ratios, WAF-on vs WAF-off loss, and the targets."""
import json
import statistics
import sys

BENIGN = ("get", "form", "json")
FRONT_ORDER = ("modsec-crs3", "modsec-crs4", "pc-waf-crs3", "pc-waf", "pc-off")
WORKLOAD_ORDER = ("get", "form", "json", "sqli")


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    fronts = [f for f in FRONT_ORDER if any(r["front"] == f for r in rows)]
    workloads = [w for w in WORKLOAD_ORDER if any(r["workload"] == w for r in rows)]

    def med(front, wl, key):
        vals = []
        for r in rows:
            if r["front"] != front or r["workload"] != wl:
                continue
            if key in ("cpu_us", "engine_us"):
                n = r["r"]["requests"]
                sec = r["cpu_s"] if key == "cpu_us" else r.get("engine_s", 0)
                vals.append(sec * 1e6 / n if n and sec else float("nan"))
            else:
                vals.append(r["r"][key])
        return statistics.median(vals) if vals else float("nan")

    print(f"{'workload':<8} {'front':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'cpu us/req':>10} {'engine us':>10} {'non-2xx':>8} {'errors':>7}")
    for wl in workloads:
        for f in fronts:
            print(f"{wl:<8} {f:<12} {med(f, wl, 'rps'):>9.0f} {med(f, wl, 'p50') / 1000:>8.2f} "
                  f"{med(f, wl, 'p99') / 1000:>8.2f} {med(f, wl, 'cpu_us'):>10.0f} "
                  f"{med(f, wl, 'engine_us'):>10.0f} "
                  f"{med(f, wl, 'non2xx'):>8.0f} {med(f, wl, 'errors'):>7.0f}")
    print()
    pairs = [("pc-waf", "modsec-crs4", "CRS 4.28"), ("pc-waf-crs3", "modsec-crs3", "CRS 3.3.4")]
    if "pc-waf-crs3" not in fronts:
        # What Debian users run today (CRS 3.3.4 on ModSecurity) against Portcullis on CRS 4.28.
        pairs.append(("pc-waf", "modsec-crs3", "Portcullis on CRS 4.28, ModSecurity on 3.3.4"))
    verdicts = []
    for wl in workloads:
        for pc, ms, crs in pairs:
            if pc in fronts and ms in fronts:
                rps = med(pc, wl, "rps") / med(ms, wl, "rps")
                p99 = med(pc, wl, "p99") / med(ms, wl, "p99")
                print(f"{wl:<8} portcullis/nginx+modsecurity ({crs}): req/s x{rps:.1f}, "
                      f"p99 x{p99:.2f} (below 1 is better)")
                if wl in BENIGN:
                    verdicts.append((f"{wl} {crs} >= 5x", rps >= 5, f"x{rps:.1f}"))
        if "pc-waf" in fronts and "pc-off" in fronts and wl in BENIGN:
            loss = 100 * (1 - med("pc-waf", wl, "rps") / med("pc-off", wl, "rps"))
            print(f"{wl:<8} portcullis WAF on vs off: {loss:.1f}% fewer req/s "
                  f"(p99 {med('pc-waf', wl, 'p99') / 1000:.2f} vs {med('pc-off', wl, 'p99') / 1000:.2f} ms)")
            verdicts.append((f"{wl} loss < 25%", loss < 25, f"{loss:.1f}%"))
    if verdicts:
        print()
        print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'} ({v})" for name, ok, v in verdicts))


if __name__ == "__main__":
    main(sys.argv[1])
