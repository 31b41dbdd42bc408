"""The map fixture's effect (step.yaml): rename, keep, add, order, in that order."""


def apply(rows, n):
    keep = ["id", "name", "city", "note", "flag", "tag_%d" % n]
    order = ["id", "tag", "tag_%d" % n]
    out = []
    for row in rows:
        r = {("tag_%d" % n if k == "tag" else k): v for k, v in row.items()}  # rename
        r = {k: v for k, v in r.items() if k in keep}                         # keep (input order)
        r["tag"] = "m%d" % n                                                  # add
        r = {**{k: r[k] for k in order}, **{k: v for k, v in r.items() if k not in order}}
        out.append(r)
    return out, [], []
