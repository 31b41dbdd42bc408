/*
 * kit_plans.c -- mkk_plans, the per-schema plan cache of the plugin kit.
 *
 * Trade-off: a plain array searched from the start, with the last hit
 * answered first.  A run sees few schemas (one per source shape), and a
 * plugin asks once per batch, nearly always for the schema it asked for
 * last: a hash table would cost more than it saves.
 */
#include "config.h"

#include <stdlib.h>

#include "mekong_kit.h"

typedef struct entry {
    const mk_schema *schema;
    void *plan;
} entry;

struct mkk_plans {
    entry *e;
    size_t n, cap;
    size_t last; /* index of the last hit (or put) */
    void (*free_plan)(void *plan);
};

mkk_plans *mkk_plans_new(void (*free_plan)(void *plan))
{
    mkk_plans *ps = calloc(1, sizeof(*ps));
    if (ps)
        ps->free_plan = free_plan ? free_plan : free;
    return ps;
}

void *mkk_plans_get(mkk_plans *ps, const mk_schema *s)
{
    if (ps->last < ps->n && ps->e[ps->last].schema == s)
        return ps->e[ps->last].plan;
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->e[i].schema == s) {
            ps->last = i;
            return ps->e[i].plan;
        }
    }
    return NULL;
}

int mkk_plans_put(mkk_plans *ps, const mk_schema *s, void *plan)
{
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->e[i].schema == s) {
            if (ps->e[i].plan != plan)
                ps->free_plan(ps->e[i].plan);
            ps->e[i].plan = plan;
            ps->last = i;
            return MK_OK;
        }
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 4;
        entry *e = realloc(ps->e, cap * sizeof(*e));
        if (!e) {
            ps->free_plan(plan);
            return MK_NOMEM;
        }
        ps->e = e;
        ps->cap = cap;
    }
    ps->e[ps->n].schema = s;
    ps->e[ps->n].plan = plan;
    ps->last = ps->n++;
    return MK_OK;
}

void mkk_plans_free(mkk_plans *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++)
        ps->free_plan(ps->e[i].plan);
    free(ps->e);
    free(ps);
}
