/*
 * kit_columns.c -- columns by name: mkk_column_find and mkk_colmap.
 *
 * Trade-off: a column map is worked out once per input schema (through
 * mkk_plans) with a loop over the names, quadratic in the columns; the
 * per-row cost is then one array read per wanted column.  Schemas have
 * tens of columns, so the loop costs nothing next to one batch.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"

struct mkk_colmap {
    const mk_host *host;
    char **names; /* copies of the wanted names */
    size_t n;
    mkk_plans *plans; /* per schema: a colmap_plan */
};

typedef struct colmap_plan {
    long unwanted; /* first column of the schema not wanted, or -1 */
    long index[];  /* per wanted name */
} colmap_plan;

long mkk_column_find(const mk_host *h, const mk_schema *s, const char *name)
{
    if (h && MK_HOST_HAS(h, column_find))
        return h->column_find(s, name);
    for (size_t c = 0; c < s->ncols; c++)
        if (strcmp(s->names[c], name) == 0)
            return (long)c;
    return -1;
}

mkk_colmap *mkk_colmap_new(const mk_host *h, const char *const *names, size_t n)
{
    mkk_colmap *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->host = h;
    m->names = calloc(n ? n : 1, sizeof(char *));
    m->plans = mkk_plans_new(NULL);
    if (!m->names || !m->plans) {
        mkk_colmap_free(m);
        return NULL;
    }
    for (m->n = 0; m->n < n; m->n++) {
        if (!(m->names[m->n] = strdup(names[m->n]))) {
            mkk_colmap_free(m);
            return NULL;
        }
    }
    return m;
}

/* The plan of schema s: made on first sight, then cached. */
static colmap_plan *plan_of(mkk_colmap *m, const mk_schema *s)
{
    colmap_plan *p = mkk_plans_get(m->plans, s);
    if (p)
        return p;
    p = malloc(sizeof(*p) + (m->n ? m->n : 1) * sizeof(long));
    if (!p)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        p->index[i] = mkk_column_find(m->host, s, m->names[i]);
    p->unwanted = -1;
    for (size_t c = 0; c < s->ncols && p->unwanted < 0; c++) {
        size_t i = 0;
        while (i < m->n && strcmp(s->names[c], m->names[i]) != 0)
            i++;
        if (i == m->n)
            p->unwanted = (long)c;
    }
    return mkk_plans_put(m->plans, s, p) == MK_OK ? p : NULL;
}

const long *mkk_colmap_get(mkk_colmap *m, const mk_schema *s)
{
    colmap_plan *p = plan_of(m, s);
    return p ? p->index : NULL;
}

long mkk_colmap_unwanted(mkk_colmap *m, const mk_schema *s)
{
    colmap_plan *p = plan_of(m, s);
    return p ? p->unwanted : -2;
}

size_t mkk_colmap_size(const mkk_colmap *m)
{
    return m->n;
}

void mkk_colmap_free(mkk_colmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->names && i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    mkk_plans_free(m->plans);
    free(m);
}

/* ---- schemas made from another ------------------------------------------- */

/* One allocation per call: this runs once per input schema. */
const mk_schema *mkk_schema_derive(const mk_host *h, mk_context *ctx, const mk_schema *in,
                                   const char *const *names, const long *source,
                                   const mk_type *made, size_t n)
{
    int typed = in->types != NULL;
    for (size_t c = 0; made && !typed && c < n; c++)
        typed = source[c] < 0 && made[c] != MK_TYPE_TEXT;
    if (!typed || !MK_HOST_HAS(h, schema_intern_typed))
        return h->schema_intern(ctx, names, n);
    mk_type *types = malloc((n ? n : 1) * sizeof(mk_type));
    if (!types)
        return NULL;
    for (size_t c = 0; c < n; c++) {
        if (source[c] >= 0)
            types[c] = in->types ? in->types[source[c]] : MK_TYPE_TEXT;
        else
            types[c] = made ? made[c] : MK_TYPE_TEXT;
    }
    const mk_schema *s = h->schema_intern_typed(ctx, names, types, n);
    free(types);
    return s;
}
