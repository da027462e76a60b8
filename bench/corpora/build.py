#!/usr/bin/env python3
"""Assemble the detection-quality corpora from packages installed on this machine.

    bench/corpora/build.py OUT_DIR

Writes OUT_DIR/attack/*.jsonl and OUT_DIR/benign/*.jsonl plus OUT_DIR/SOURCES.txt (package,
version and path of every source). Each line of a corpus is one JSON object:

    {"v": "..."}     a value: sent as a query parameter, a form field and a JSON string
    {"v_enc": "..."} the same for a value kept percent-encoded (its bytes are not UTF-8)
    {"qs": "..."}    a whole (already encoded) query string, sent as GET /path?qs
    {"form": "..."}  a whole application/x-www-form-urlencoded body
    {"json": "..."}  a whole application/json body

Sources (Debian packages unless noted; see docs/detection.md):
  attack: wfuzz wordlists (Injections/SQL.txt, XSS.txt, Traversal.txt, All_attack.txt),
          sqlmap's test payloads (data/xml/payloads/*.xml, placeholders filled in),
          the XSS strings libinjection's Rust port asserts as XSS (crate libinjectionrs, if present
          in ~/.cargo/registry)
  benign: English words (wamerican), package descriptions, package search queries and
          package submission forms built from the dpkg database, dpkg records as JSON, the
          package.json documents shipped with npm (if installed)
Everything is deterministic: the same packages give the same corpora.
"""

import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

WFUZZ = "/usr/share/wfuzz/wordlist/Injections"
SQLMAP = "/usr/share/sqlmap/data/xml/payloads"
WORDS = "/usr/share/dict/american-english"
DPKG_STATUS = "/var/lib/dpkg/status"
NPM_MODULES = "/usr/lib/node_modules/npm"
CARGO_REGISTRY = os.path.expanduser("~/.cargo/registry/src")

sources = []


def pkg_version(name):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name],
                             capture_output=True, text=True, check=False)
        return out.stdout.strip() or "not installed"
    except OSError:
        return "unknown"


def write(path, rows):
    seen = set()
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            key = json.dumps(row, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            f.write(key + "\n")
            n += 1
    return n


def lines(path):
    with open(path, "rb") as f:
        for raw in f:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                yield text


# ---------------------------------------------------------------- attacks
def wfuzz(out):
    if not os.path.isdir(WFUZZ):
        print(f"skip wfuzz: {WFUZZ} missing (apt-get install wfuzz)", file=sys.stderr)
        return
    ver = pkg_version("wfuzz")
    for fname, corpus in (("SQL.txt", "wfuzz-sql"), ("XSS.txt", "wfuzz-xss"),
                          ("Traversal.txt", "wfuzz-traversal"), ("All_attack.txt", "wfuzz-all")):
        # wfuzz pastes these into URLs as they are, so "%20" is an encoded space: the value an
        # application sees is the percent-decoded line.
        # Lines whose decoded bytes are not UTF-8 (overlong encodings such as %c0%ae) stay
        # encoded ("v_enc") and are sent as they are.
        n = write(f"{out}/attack/{corpus}.jsonl", (wfuzz_value(t) for t in lines(f"{WFUZZ}/{fname}")))
        sources.append(f"attack/{corpus}: {n} values from Debian wfuzz {ver}, {WFUZZ}/{fname} "
                       "(percent-decoded once)")


def wfuzz_value(line):
    try:
        return {"v": urllib.parse.unquote_to_bytes(line).decode("utf-8")}
    except UnicodeDecodeError:
        return {"v_enc": line}


def sqlmap_fill(text):
    """sqlmap's placeholders with fixed values (what one sqlmap request would carry)."""
    nums = {"RANDNUM": "4821", "RANDNUM1": "7302", "RANDNUM2": "1157", "RANDNUM3": "9046",
            "RANDNUM4": "3318", "RANDNUM5": "6620"}
    text = re.sub(r"\[(RANDNUM\d?)\]", lambda m: nums[m.group(1)], text)
    return (text.replace("[SLEEPTIME]", "5").replace("[DELIMITER_START]", "qvkpq")
            .replace("[DELIMITER_STOP]", "qzjxq").replace("[RANDSTR]", "XkTr")
            .replace("[ORIGVALUE]", "1").replace("[GENERIC_SQL_COMMENT]", "-- -"))


def sqlmap(out):
    if not os.path.isdir(SQLMAP):
        print(f"skip sqlmap: {SQLMAP} missing (apt-get install sqlmap)", file=sys.stderr)
        return
    payloads = []
    for path in sorted(glob.glob(f"{SQLMAP}/*.xml")):
        for test in ET.parse(path).getroot().iter("test"):
            req = test.find("request")
            if req is None:
                continue
            comment = (req.findtext("comment") or "").strip()
            body = (req.findtext("payload") or "").strip()
            if not body and req.find("columns") is not None:
                # UNION tests carry no payload text: sqlmap builds "UNION ALL SELECT c1,..,cn".
                char = (req.findtext("char") or "NULL").strip()
                if char.startswith("["):
                    char = "NULL"
                body = "UNION ALL SELECT " + ",".join([char] * 3)
                comment = comment or "-- -"
            if not body:
                continue
            body = sqlmap_fill(f"{body} {comment}".strip())
            # Two boundaries sqlmap tries first: a numeric parameter and a quoted string one.
            payloads.append(f"1 {body}")
            payloads.append(f"1' {body}" if comment else f"1' {body} AND 'XkTr'='XkTr")
    n = write(f"{out}/attack/sqlmap.jsonl", ({"v": p} for p in payloads))
    sources.append(f"attack/sqlmap: {n} values from Debian sqlmap {pkg_version('sqlmap')}, "
                   f"{SQLMAP}/*.xml (<request><payload>, placeholders filled, numeric and quoted boundary)")


def libinjection(out):
    tests = sorted(glob.glob(f"{CARGO_REGISTRY}/*/libinjectionrs-*/src/xss/tests.rs"))
    if not tests:
        print("skip libinjectionrs: crate source not in ~/.cargo/registry", file=sys.stderr)
        return
    path = tests[-1]
    text = open(path, encoding="utf-8").read()
    found = []
    for m in re.finditer(r'detect\(b"((?:[^"\\]|\\.)*)"\),\s*XssResult::Xss\)', text):
        found.append(m.group(1).encode().decode("unicode_escape"))
    n = write(f"{out}/attack/libinjection-xss.jsonl", ({"v": t} for t in found))
    crate = path.split("/")[-4]
    sources.append(f"attack/libinjection-xss: {n} values from crates.io {crate}, src/xss/tests.rs "
                   "(byte strings its tests assert as XSS; the crate ships no vector files)")


# ---------------------------------------------------------------- benign
def dpkg_records():
    recs, cur, key = [], {}, None
    for line in open(DPKG_STATUS, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not line:
            if cur:
                recs.append(cur)
            cur, key = {}, None
        elif line[0] in " \t" and key:
            cur[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, val = line.partition(":")
            cur[key] = val.strip()
    if cur:
        recs.append(cur)
    return sorted(recs, key=lambda r: r.get("Package", ""))


def words(out):
    if not os.path.exists(WORDS):
        print(f"skip words: {WORDS} missing (apt-get install wamerican)", file=sys.stderr)
        return
    all_words = list(lines(WORDS))
    step = max(1, len(all_words) // 2000)
    n = write(f"{out}/benign/words.jsonl", ({"v": w} for w in all_words[::step]))
    sources.append(f"benign/words: {n} values, every {step}th word of Debian wamerican "
                   f"{pkg_version('wamerican')}, {WORDS}")


def dpkg(out):
    recs = dpkg_records()
    tag = f"the dpkg database ({DPKG_STATUS}, {len(recs)} installed packages)"
    descr = [r["Description"].split("\n")[0] for r in recs if r.get("Description")]
    n = write(f"{out}/benign/descriptions.jsonl", ({"v": d} for d in descr))
    sources.append(f"benign/descriptions: {n} values, package short descriptions from {tag}")

    queries = []
    for i, r in enumerate(recs):
        q = [("q", r.get("Package", "")), ("version", r.get("Version", "")),
             ("arch", r.get("Architecture", "")), ("section", r.get("Section", "")),
             ("page", str(i % 7 + 1)), ("sort", "name")]
        if r.get("Homepage"):
            q.append(("homepage", r["Homepage"]))
        queries.append(urllib.parse.urlencode(q))
    n = write(f"{out}/benign/package-queries.jsonl", ({"qs": q} for q in queries))
    sources.append(f"benign/package-queries: {n} query strings (name, version, arch, section, page, "
                   f"sort, homepage URL) from {tag}")

    forms, docs = [], []
    for r in recs:
        fields = [("name", r.get("Package", "")), ("version", r.get("Version", "")),
                  ("maintainer", r.get("Maintainer", "")), ("section", r.get("Section", "")),
                  ("homepage", r.get("Homepage", "")), ("description", r.get("Description", ""))]
        forms.append(urllib.parse.urlencode(fields))
        doc = {k.lower().replace("-", "_"): v for k, v in r.items()
               if k in ("Package", "Version", "Architecture", "Maintainer", "Section", "Priority",
                        "Homepage", "Description", "Depends", "Installed-Size", "Source")}
        if "installed_size" in doc and doc["installed_size"].isdigit():
            doc["installed_size"] = int(doc["installed_size"])
        if "depends" in doc:
            doc["depends"] = [d.strip() for d in doc["depends"].split(",")]
        docs.append(json.dumps(doc))
    n = write(f"{out}/benign/package-forms.jsonl", ({"form": f} for f in forms))
    sources.append(f"benign/package-forms: {n} urlencoded forms (name, version, maintainer, section, "
                   f"homepage, full multi-line description) from {tag}")
    n = write(f"{out}/benign/package-json.jsonl", ({"json": d} for d in docs))
    sources.append(f"benign/package-json: {n} JSON documents (one dpkg record each, depends as an "
                   f"array) from {tag}")


def npm_package_json(out):
    paths = sorted(p for p in glob.glob(f"{NPM_MODULES}/**/package.json", recursive=True)
                   if "/test" not in p and os.path.getsize(p) <= 16384)
    if not paths:
        print(f"skip npm package.json: {NPM_MODULES} missing", file=sys.stderr)
        return
    docs = []
    for p in paths:
        try:
            text = open(p, encoding="utf-8").read()
            json.loads(text)
            docs.append(text)
        except (OSError, ValueError):
            continue
    n = write(f"{out}/benign/npm-package-json.jsonl", ({"json": d} for d in docs))
    try:
        ver = json.load(open(f"{NPM_MODULES}/package.json"))["version"]
    except (OSError, ValueError, KeyError):
        ver = "unknown"
    sources.append(f"benign/npm-package-json: {n} JSON documents, the package.json files (<= 16 KiB) "
                   f"under {NPM_MODULES} (npm {ver}, Debian package {pkg_owner(NPM_MODULES)})")


def pkg_owner(path):
    out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
    return out.stdout.split(":")[0].strip() or "unknown"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: build.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(f"{out}/attack", exist_ok=True)
    os.makedirs(f"{out}/benign", exist_ok=True)
    wfuzz(out)
    sqlmap(out)
    libinjection(out)
    words(out)
    dpkg(out)
    npm_package_json(out)
    with open(f"{out}/SOURCES.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(sources) + "\n")
    print("\n".join(sources), file=sys.stderr)


if __name__ == "__main__":
    main()
