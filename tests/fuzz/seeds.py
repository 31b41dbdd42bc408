#!/usr/bin/env python3
"""tests/fuzz/seeds.py -- (re)make the seed corpora in tests/fuzz/corpus/
from the test cases: every small CSV input a case reads (prefixed with the
two option bytes of fuzz_csv.c that match the case's encoding and
delimiter), every pipeline file, and the legacy-encoded inputs for the
decoders.  Seeds are named seed-CASE[-FILE]; inputs added after a crash
are named crash-WHAT and are kept by this script."""
import os
import re
import sys

root = os.path.dirname(os.path.abspath(__file__))
cases = os.path.join(root, "..", "cases")
corpus = os.path.join(root, "corpus")
ENCODINGS = ["utf-8", "utf-16", "utf-16le", "utf-16be", "cp1258", "viscii", "tcvn3", "vni",
             "vps", "tcvn5712-1", "latin1", "cp1252", "auto", "bytes"]
DELIMITERS = {",": 0, ";": 1, "tab": 2, "\\t": 2, "|": 3}
LIMIT = 4096


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def option(yaml, key):
    m = re.search(r"^\s+%s:\s*['\"]?([^'\"\n#]*?)['\"]?\s*(#.*)?$" % key, yaml, re.M)
    return m.group(1).strip() if m else None


def main():
    for d in os.listdir(corpus) if os.path.isdir(corpus) else []:
        for f in os.listdir(os.path.join(corpus, d)):
            if f.startswith("seed-"):
                os.remove(os.path.join(corpus, d, f))
    for case in sorted(os.listdir(cases)):
        pfile = os.path.join(cases, case, "pipeline.yaml")
        if not os.path.isfile(pfile):
            continue
        with open(pfile, "rb") as f:
            raw = f.read()
        if len(raw) <= LIMIT:
            put("fuzz_pipeline", "seed-" + case, raw)
        yaml = raw.decode("utf-8", "replace")
        enc = (option(yaml, "encoding") or "utf-8").lower()
        delim = option(yaml, "delimiter") or ","
        header = option(yaml, "header") or "true"
        bits = DELIMITERS.get(delim, 0) | (8 if header == "false" else 0)
        if (option(yaml, "on_invalid") or "") == "replace":
            bits |= 16
        index = ENCODINGS.index(enc) if enc in ENCODINGS else 0
        for path in re.findall(r"^\s+path:\s*(\S+\.csv)\s*$", yaml, re.M):
            full = os.path.join(cases, case, path)
            if "*" in path or not os.path.isfile(full) or os.path.getsize(full) > LIMIT:
                continue
            with open(full, "rb") as f:
                data = f.read()
            name = "seed-%s-%s" % (case, os.path.basename(path))
            put("fuzz_csv", name, bytes([index, bits]) + data)
            if enc not in ("utf-8", "auto", "bytes") or case.startswith("encoding-"):
                put("fuzz_vntext", name, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
