/*
 * words.c -- see words.h.  Names are short (columns, options), so one row
 * of the distance table on the stack is enough and nothing is allocated.
 */
#include "config.h"

#include "words.h"

#include <stdint.h>
#include <stdlib.h>

#include <string.h>

int mk_choice_index(const char *choices, const char *value)
{
    size_t vlen = strlen(value);
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vlen && memcmp(p, value, len) == 0)
            return i;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

size_t mk_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *mk_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = mk_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    size_t limit = strlen(word) <= 4 ? 1 : strlen(word) / 3 + 1;
    return best_d <= limit ? best : NULL;
}

int mk_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- name sets ------------------------------------------------------------- */

struct mk_nameset {
    const char **slot; /* open addressing, linear probing; NULL: free */
    size_t cap, n;     /* cap a power of two, at most half full */
};

static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

mk_nameset *mk_nameset_new(void)
{
    mk_nameset *s = calloc(1, sizeof *s);
    if (s && !(s->slot = calloc(s->cap = 64, sizeof *s->slot))) {
        free(s);
        return NULL;
    }
    return s;
}

void mk_nameset_free(mk_nameset *s)
{
    if (s)
        free(s->slot);
    free(s);
}

static size_t nameset_find(const mk_nameset *s, const char *name)
{
    size_t i = name_hash(name) & (s->cap - 1);
    while (s->slot[i] && strcmp(s->slot[i], name) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

int mk_nameset_add(mk_nameset *s, const char *name)
{
    if (2 * (s->n + 1) > s->cap) {
        mk_nameset bigger = {calloc(s->cap * 2, sizeof *s->slot), s->cap * 2, 0};
        if (!bigger.slot)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                bigger.slot[nameset_find(&bigger, s->slot[i])] = s->slot[i];
        free(s->slot);
        s->slot = bigger.slot;
        s->cap = bigger.cap;
    }
    size_t i = nameset_find(s, name);
    if (s->slot[i])
        return 0;
    s->slot[i] = name;
    s->n++;
    return 1;
}
