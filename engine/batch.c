/*
 * batch.c -- see batch.h.
 */
#include "config.h"

#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"

static const mk_schema empty_schema = {0, NULL, NULL};

mk_batch *mk_batch_new(const mk_schema *schema)
{
    mk_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->arena = mk_arena_new();
    if (!b->arena) {
        free(b);
        return NULL;
    }
    b->schema = schema ? schema : &empty_schema;
    return b;
}

void mk_batch_free(mk_batch *b)
{
    if (!b)
        return;
    mk_arena_free(b->arena);
    free(b->values);
    free(b->info);
    free(b->record);
    free(b);
}

void mk_batch_reset(mk_batch *b, const mk_schema *schema)
{
    b->nrows = 0;
    if (schema)
        b->schema = schema;
    mk_arena_reset(b->arena);
}

/* Row storage (info and record numbers) for cap rows. */
static int resize_rows(mk_batch *b, size_t cap)
{
    mk_rowinfo *info = realloc(b->info, (cap ? cap : 1) * sizeof(*info));
    if (!info)
        return -1;
    b->info = info;
    uint64_t *record = realloc(b->record, (cap ? cap : 1) * sizeof(*record));
    if (!record)
        return -1;
    b->record = record;
    b->cap = cap;
    return 0;
}

/* Make room for one more row: rows (info) and value slots for the current
 * schema width.  Capacity doubles, so appends are amortized O(1). */
static int make_room(mk_batch *b)
{
    size_t ncols = b->schema->ncols;
    size_t rows = b->nrows + 1;
    if (rows > b->cap && resize_rows(b, b->cap ? b->cap * 2 : 64) != 0)
        return -1;
    size_t slots = b->cap * ncols;
    if (slots > b->vcap) {
        mk_value *v = realloc(b->values, slots * sizeof(*v));
        if (!v)
            return -1;
        b->values = v;
        b->vcap = slots;
    }
    return 0;
}

int mk_batch_reserve(mk_batch *b, size_t rows)
{
    if (rows != b->cap) {
        if (resize_rows(b, rows) != 0)
            return -1;
        if (b->nrows > rows)
            b->nrows = rows;
    }
    size_t slots = rows * b->schema->ncols;
    if (slots > b->vcap) {
        mk_value *v = realloc(b->values, slots * sizeof(*v));
        if (!v)
            return -1;
        b->values = v;
        b->vcap = slots;
    }
    return 0;
}

size_t mk_batch_add_row(mk_batch *b)
{
    if (make_room(b) != 0)
        return (size_t)-1;
    size_t r = b->nrows++;
    size_t ncols = b->schema->ncols;
    memset(&b->values[r * ncols], 0, ncols * sizeof(mk_value));
    memset(&b->info[r], 0, sizeof(mk_rowinfo));
    b->record[r] = 0;
    return r;
}

void mk_batch_truncate(mk_batch *b, size_t nrows)
{
    if (nrows < b->nrows)
        b->nrows = nrows;
}

char *mk_batch_alloc(mk_batch *b, size_t len)
{
    return mk_arena_alloc(b->arena, len);
}

int mk_batch_set(mk_batch *b, size_t row, size_t col, const char *ptr, size_t len)
{
    mk_value *v = &MK_CELL(b, row, col);
    if (!ptr) {
        v->ptr = NULL;
        v->len = 0;
        return MK_OK;
    }
    char *p = mk_arena_dup(b->arena, ptr, len);
    if (!p)
        return MK_NOMEM;
    v->ptr = p;
    v->len = len;
    return MK_OK;
}

/* ---- schema registry ---------------------------------------------------- */

typedef struct interned {
    struct interned *next;
    mk_schema schema;
    char **names;
    mk_type *types; /* NULL: all text */
} interned;

struct mk_schema_registry {
    interned *list;
};

mk_schema_registry *mk_schema_registry_new(void)
{
    return calloc(1, sizeof(mk_schema_registry));
}

void mk_schema_registry_free(mk_schema_registry *r)
{
    if (!r)
        return;
    interned *i = r->list;
    while (i) {
        interned *next = i->next;
        for (size_t c = 0; c < i->schema.ncols; c++)
            free(i->names[c]);
        free(i->names);
        free(i->types);
        free(i);
        i = next;
    }
    free(r);
}

/* Types NULL and all-text types are the same schema. */
static int all_text(const mk_type *types, size_t ncols)
{
    for (size_t c = 0; types && c < ncols; c++)
        if (types[c] != MK_TYPE_TEXT)
            return 0;
    return 1;
}

static int same_schema(const mk_schema *s, const char *const *names, const mk_type *types,
                       size_t ncols)
{
    if (s->ncols != ncols)
        return 0;
    for (size_t c = 0; c < ncols; c++)
        if (strcmp(s->names[c], names[c]) != 0)
            return 0;
    if (!s->types || !types)
        return !s->types && !types;
    return memcmp(s->types, types, ncols * sizeof(mk_type)) == 0;
}

static void interned_free(interned *i, size_t ncols)
{
    for (size_t k = 0; k < ncols; k++)
        free(i->names[k]);
    free(i->names);
    free(i->types);
    free(i);
}

/* Schemas are few (one per source file layout and transform), so a list
 * is enough; plugins look them up once per batch at most. */
const mk_schema *mk_schema_intern_typed(mk_schema_registry *r, const char *const *names,
                                        const mk_type *types, size_t ncols)
{
    if (all_text(types, ncols))
        types = NULL;
    for (interned *i = r->list; i; i = i->next)
        if (same_schema(&i->schema, names, types, ncols))
            return &i->schema;
    interned *i = calloc(1, sizeof(*i));
    if (!i)
        return NULL;
    i->names = calloc(ncols ? ncols : 1, sizeof(char *));
    if (types)
        i->types = malloc(ncols * sizeof(mk_type));
    if (!i->names || (types && !i->types)) {
        interned_free(i, 0);
        return NULL;
    }
    for (size_t c = 0; c < ncols; c++) {
        i->names[c] = strdup(names[c]);
        if (!i->names[c]) {
            interned_free(i, c);
            return NULL;
        }
    }
    if (types)
        memcpy(i->types, types, ncols * sizeof(mk_type));
    i->schema.ncols = ncols;
    i->schema.names = (const char *const *)i->names;
    i->schema.types = i->types;
    i->next = r->list;
    r->list = i;
    return &i->schema;
}

const mk_schema *mk_schema_intern(mk_schema_registry *r, const char *const *names, size_t ncols)
{
    return mk_schema_intern_typed(r, names, NULL, ncols);
}

long mk_schema_find(const mk_schema *s, const char *name)
{
    for (size_t c = 0; c < s->ncols; c++)
        if (strcmp(s->names[c], name) == 0)
            return (long)c;
    return -1;
}
