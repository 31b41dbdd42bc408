"""The dedupe_last fixture's effect (step.yaml): the last row of each city
passes; an earlier one is rejected naming the next row of its city by record
(the input's records are numbered by id); the rows that pass keep the order
they came in, and a row without a city passes."""
import os

INPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "input.csv")


def apply(rows, n):
    out, rejected = [], []
    for i, row in enumerate(rows):
        city = row["city"]
        later = [r for r in rows[i + 1:] if city is not None and r["city"] == city]
        if later:
            reason = 'duplicate: city "%s" has a later occurrence in in record %s (%s) (keep: last)' % (
                city, later[0]["id"], INPUT)
            rejected.append((row, reason))
        else:
            out.append(row)
    return out, rejected, []
