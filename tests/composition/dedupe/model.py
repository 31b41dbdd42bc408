"""The dedupe fixture's effect (step.yaml): the first row of each city passes,
later ones are rejected naming the first one's record (its id: the input's
records are numbered by id); a row without a city passes."""
import os

INPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "input.csv")


def apply(rows, n):
    out, rejected, first = [], [], {}
    for row in rows:
        city = row["city"]
        if city is not None and city in first:
            reason = 'duplicate: city "%s" was seen first in in record %s (%s)' % (
                city, first[city], INPUT)
            rejected.append((row, reason))
            continue
        if city is not None:
            first[city] = row["id"]
        out.append(row)
    return out, rejected, []
