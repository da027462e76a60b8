#!/usr/bin/env python3
"""Developer tool (not run by tests): ask libmodsecurity what `t:NAME` does to bytes.

Reads `name<TAB>input-hex` lines from the file given as argument and prints
`name<TAB>input-hex<TAB>output-hex` lines, the shape of transformations_modsec.tsv, which
`cargo test -p waf --test transformations_conformance` checks (WAF_TRANSFORM_TSV=FILE to
check another file). Needs the PyPI package `libmodsecurity` (3.0.15.post2), e.g. the venv
that shared/anchors/modsec_oracle.py sets up:

    ~/.cache/portcullis-oracle/msc-venv-3.0.15.post2/bin/python transformations_modsec.py in.txt

One rule per name: ARGS:<name> "@rx ^([0-9a-f]*)$" with t:none,t:hexDecode,t:NAME,t:hexEncode
and capture, so arbitrary bytes go in and come out as hex (in the rule message).
"""
import re
import sys

import libmodsecurity as msc


def main(path):
    lines = [l for l in open(path).read().splitlines() if l and not l.startswith("#")]
    names = sorted({l.split("\t")[0] for l in lines})
    ms = msc.ModSecurity()
    ms.set_log_callback(lambda _m: None)
    rules = ["SecRuleEngine On"]
    for i, n in enumerate(names):
        rules.append(
            'SecRule ARGS:%s "@rx ^([0-9a-f]*)$" "id:%d,phase:1,pass,log,capture,'
            't:none,t:hexDecode,t:%s,t:hexEncode,msg:\'%s=[%%{TX.1}]\'"' % (n, 1000 + i, n, n))
    rs = msc.RulesSet()
    if rs.load("\n".join(rules)) < 0:
        sys.exit(rs.get_parser_error())
    for line in lines:
        name, hexin = line.split("\t")[:2]
        t = msc.Transaction(ms, rs)
        t.process_connection("127.0.0.1", 1, "127.0.0.1", 2)
        t.process_uri("/?%s=%s" % (name, hexin), "GET", "1.1")
        t.add_request_header("Host", "x")
        t.process_request_headers()
        out = None
        for r in t.get_rule_messages():
            m = re.search(r"=\[([0-9a-f]*)\]", r.message)
            if m:
                out = m.group(1)
        t.process_logging()
        print("%s\t%s\t%s" % (name, hexin, out if out is not None else "NOMATCH"))


if __name__ == "__main__":
    main(sys.argv[1])
