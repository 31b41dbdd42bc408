/*
 * map.c -- the map transform: column work that needs no script.
 *
 *   rename: { ho_ten: full_name }   rename columns
 *   drop:   [ghi_chu]               remove columns
 *   keep:   [full_name, dob]        keep only these (in their input order)
 *   add:    { agency: "Sở Tư pháp" } add constant columns
 *   order:  [agency, full_name]     put these first, in this order
 *
 * Applied in that order.  A column named in rename, drop, keep or order
 * that the rows do not have fails the run (strict: false ignores it), so a
 * typo cannot silently lose a column.  Values are not copied: output
 * cells point at the input bytes.  The plan (which input column feeds
 * which output column) is made once per input schema.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong.h"
#include "util/textout.h"

typedef struct plan {
    struct plan *next;
    const mk_schema *in;
    const mk_schema *out;
    long *source;       /* per output column: input column, or -1 - constant index */
} plan;

typedef struct map_state {
    mk_context *ctx;
    const mk_host *host;
    int strict;
    plan *plans;
} map_state;

static const mk_option_decl options[] = {
    {"rename", MK_OPT_MAP, 0, NULL, "rename columns: { old: new }"},
    {"drop", MK_OPT_LIST, 0, NULL, "remove these columns"},
    {"keep", MK_OPT_LIST, 0, NULL, "keep only these columns"},
    {"add", MK_OPT_MAP, 0, NULL, "add constant columns: { name: value }"},
    {"order", MK_OPT_LIST, 0, NULL, "put these columns first, in this order"},
    {"strict", MK_OPT_BOOL, 0, "true", "fail when a named column is missing"},
    {NULL, 0, 0, NULL, NULL},
};

static int map_open(mk_context *ctx, const mk_host *host, void **state)
{
    map_state *m = calloc(1, sizeof(*m));
    if (!m)
        return MK_NOMEM;
    *state = m;
    m->ctx = ctx;
    m->host = host;
    m->strict = host->opt_bool(ctx, "strict");
    /* map moves values and adds constants: its output is valid UTF-8 when
     * its input is, unless a constant is not (a ${VAR} can bring any bytes) */
    int valid = 1;
    for (size_t i = 0; i < host->opt_count(ctx, "add"); i++) {
        const char *key, *val;
        if (host->opt_entry(ctx, "add", i, &key, &val) == MK_OK && val &&
            mk_utf8_valid_prefix(val, strlen(val)) != strlen(val))
            valid = 0;
    }
    if (valid)
        host->text_checked(ctx);
    return MK_OK;
}

/* Working list of columns while a plan is made. */
typedef struct cols {
    const char **names;
    long *source;
    size_t n;
} cols;

static long find(const cols *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return (long)i;
    return -1;
}

static void remove_at(cols *c, size_t i)
{
    memmove(&c->names[i], &c->names[i + 1], (c->n - i - 1) * sizeof(char *));
    memmove(&c->source[i], &c->source[i + 1], (c->n - i - 1) * sizeof(long));
    c->n--;
}

static int missing(map_state *m, const char *option, const char *name, const mk_schema *in)
{
    if (!m->strict)
        return 0;
    char have[512];
    size_t len = 0;
    have[0] = '\0';
    for (size_t i = 0; i < in->ncols && len < sizeof have - 1; i++)
        len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "",
                                in->names[i]);
    m->host->error(m->ctx,
                   "%s names column '%s', but the rows have no such column (they have: %s); "
                   "fix the name, or set strict: false",
                   option, name, have);
    return -1;
}

static plan *make_plan(map_state *m, const mk_schema *in)
{
    const mk_host *h = m->host;
    mk_context *ctx = m->ctx;
    size_t nadd = h->opt_count(ctx, "add");
    size_t cap = in->ncols + nadd + 1;
    cols c = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(long)), 0};
    plan *p = calloc(1, sizeof(*p));
    if (!c.names || !c.source || !p)
        goto fail;
    for (size_t i = 0; i < in->ncols; i++) {
        c.names[i] = in->names[i];
        c.source[i] = (long)i;
    }
    c.n = in->ncols;
    const char *key, *val;

    for (size_t i = 0; i < h->opt_count(ctx, "rename"); i++) {
        h->opt_entry(ctx, "rename", i, &key, &val);
        long k = find(&c, key);
        if (k < 0) {
            if (missing(m, "rename", key, in))
                goto fail;
            continue;
        }
        c.names[k] = val;
    }
    for (size_t i = 0; i < h->opt_count(ctx, "drop"); i++) {
        h->opt_entry(ctx, "drop", i, NULL, &val);
        long k = find(&c, val);
        if (k < 0) {
            if (missing(m, "drop", val, in))
                goto fail;
            continue;
        }
        remove_at(&c, (size_t)k);
    }
    size_t nkeep = h->opt_count(ctx, "keep");
    if (nkeep) {
        for (size_t i = 0; i < nkeep; i++) {
            h->opt_entry(ctx, "keep", i, NULL, &val);
            if (find(&c, val) < 0 && missing(m, "keep", val, in))
                goto fail;
        }
        for (size_t i = c.n; i-- > 0;) {
            int kept = 0;
            for (size_t k = 0; k < nkeep && !kept; k++) {
                h->opt_entry(ctx, "keep", k, NULL, &val);
                kept = strcmp(val, c.names[i]) == 0;
            }
            if (!kept)
                remove_at(&c, i);
        }
    }
    for (size_t i = 0; i < nadd; i++) {
        h->opt_entry(ctx, "add", i, &key, &val);
        long k = find(&c, key);
        if (k >= 0) {
            c.source[k] = -1 - (long)i; /* a constant replaces the column */
            continue;
        }
        c.names[c.n] = key;
        c.source[c.n++] = -1 - (long)i;
    }
    size_t norder = h->opt_count(ctx, "order");
    for (size_t i = 0, at = 0; i < norder; i++) {
        h->opt_entry(ctx, "order", i, NULL, &val);
        long k = find(&c, val);
        if (k < 0) {
            if (missing(m, "order", val, in))
                goto fail;
            continue;
        }
        const char *name = c.names[k];
        long src = c.source[k];
        memmove(&c.names[at + 1], &c.names[at], ((size_t)k - at) * sizeof(char *));
        memmove(&c.source[at + 1], &c.source[at], ((size_t)k - at) * sizeof(long));
        c.names[at] = name;
        c.source[at] = src;
        at++;
    }
    for (size_t i = 0; i < c.n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(c.names[i], c.names[k]) == 0) {
                h->error(ctx, "two output columns would be named '%s': check rename and add",
                         c.names[i]);
                goto fail;
            }
        }
    }
    p->in = in;
    p->out = h->schema_intern(ctx, c.names, c.n);
    p->source = c.source;
    free(c.names);
    if (!p->out) {
        free(p->source);
        free(p);
        return NULL;
    }
    p->next = m->plans;
    m->plans = p;
    return p;
fail:
    free(c.names);
    free(c.source);
    free(p);
    return NULL;
}

static int map_process(void *state, const mk_batch *in, mk_batch *out)
{
    map_state *m = state;
    plan *p = m->plans;
    while (p && p->in != in->schema)
        p = p->next;
    if (!p && !(p = make_plan(m, in->schema)))
        return MK_ERROR;
    out->schema = p->out;
    const mk_host *h = m->host;
    size_t ncols = p->out->ncols;
    for (size_t r = 0; r < in->nrows; r++) {
        size_t o = h->row_emit(m->ctx, in, r, out);
        if (o == (size_t)-1)
            return MK_NOMEM;
        mk_value *dst = &MK_CELL(out, o, 0);
        const mk_value *src = &MK_CELL(in, r, 0);
        for (size_t c = 0; c < ncols; c++) {
            long s = p->source[c];
            if (s >= 0) {
                dst[c] = src[s];
            } else {
                const char *val;
                h->opt_entry(m->ctx, "add", (size_t)(-1 - s), NULL, &val);
                dst[c].ptr = val;
                dst[c].len = strlen(val);
            }
        }
    }
    return MK_OK;
}

static void map_close(void *state)
{
    map_state *m = state;
    if (!m)
        return;
    plan *p = m->plans;
    while (p) {
        plan *next = p->next;
        free(p->source);
        free(p);
        p = next;
    }
    free(m);
}

static const mk_transform_ops map_ops = {map_open, map_process, NULL, map_close};

static const mk_plugin map_plugin = {
    MK_PLUGIN_HEAD, "map", PACKAGE_VERSION,
    "rename, drop, keep, reorder and add constant columns without a script",
    NULL, NULL, options, &map_ops, NULL, NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &map_plugin;
}
