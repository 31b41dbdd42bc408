"""The lua fixture's effect (lua_{N}.lua)."""


def apply(rows, n):
    out, rejected, dropped = [], [], []
    for row in rows:
        if row["flag"] == "drop":
            dropped.append(row)
        elif row["flag"] == "bad":
            rejected.append((row, "flag.bad: row %s is marked bad" % row["id"]))
        else:
            out.append({**row, "lua_%d" % n: str(len(row["name"]))})
    return out, rejected, dropped
