"""The schema fixture's effect: a city holding a comma breaks the pattern."""


def apply(rows, n):
    out, rejected = [], []
    for row in rows:
        city = row.get("city")
        if city and "," in city:
            rejected.append((row, "constraint-error: field 'city' value '%s' does not match the "
                                  "pattern [^,]+ (pattern)" % city))
        else:
            out.append(row)
    return out, rejected, []
