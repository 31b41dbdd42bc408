/*
 * map.c -- the map transform: column work that needs no script.
 *
 *   rename: { ho_ten: full_name }   rename columns
 *   drop:   [ghi_chu]               remove columns
 *   keep:   [full_name, dob]        keep only these (in their input order)
 *   add:    { agency: "Sở Tư pháp" } add constant columns
 *   order:  [agency, full_name]     put these first, in this order
 *   provenance: { file: source_file, record: source_row }
 *                                   add where each row came from: source,
 *                                   file, record (number in its file, the
 *                                   header not counted), line (its first)
 *
 * Applied in that order (provenance columns come after add, so order can
 * place them).  A column named in rename, drop, keep or order
 * that the rows do not have fails the run (strict: false ignores it), so a
 * typo cannot silently lose a column.  Values are not copied: output
 * cells point at the input bytes.
 *
 * Trade-off: the plan (which input column feeds which output column) is
 * made once per input schema and kept to the end (mkk_plans), so the
 * option lists are walked per schema, never per row.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong.h"
#include "mekong_kit.h"

typedef struct plan {
    const mk_schema *out;
    long *source;       /* per output column: input column, or -1 - constant index */
} plan;

/* What a provenance column holds. */
enum { PROV_SOURCE, PROV_FILE, PROV_RECORD, PROV_LINE };
static const char *const provenance_keys[] = {"source", "file", "record", "line"};
#define N_PROVENANCE 4

typedef struct map_state {
    mk_context *ctx;
    const mk_host *host;
    int strict;
    size_t nadd;
    size_t nprov;
    int prov_kind[N_PROVENANCE]; /* per provenance entry, in option order */
    mk_value *constants;         /* add: values, read once */
    mkk_plans *plans; /* per input schema: plan */
} map_state;

static void free_plan(void *plan_)
{
    plan *p = plan_;
    free(p->source);
    free(p);
}

/* provenance: { record: source_row, ... }: the keys must be known. */
static int read_provenance(map_state *m)
{
    const mk_host *h = m->host;
    size_t n = h->opt_count(m->ctx, "provenance");
    if (n && !MK_HOST_HAS(h, row_origin)) {
        h->error(m->ctx, "provenance needs a newer mekong (its host has no row_origin)");
        return MK_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key;
        h->opt_entry(m->ctx, "provenance", i, &key, NULL);
        int kind = -1;
        for (int k = 0; k < N_PROVENANCE; k++)
            if (strcmp(key, provenance_keys[k]) == 0)
                kind = k;
        if (kind < 0 || i >= N_PROVENANCE) {
            h->error(m->ctx,
                     "provenance has '%s'; it can add source, file, record and line, each once: "
                     "provenance: { record: source_row }",
                     key);
            return MK_ERROR;
        }
        m->prov_kind[i] = kind;
    }
    m->nprov = n;
    return MK_OK;
}

static const mk_option_decl options[] = {
    {"rename", MK_OPT_MAP, 0, NULL, "rename columns: { old: new }"},
    {"drop", MK_OPT_LIST, 0, NULL, "remove these columns"},
    {"keep", MK_OPT_LIST, 0, NULL, "keep only these columns"},
    {"add", MK_OPT_MAP, 0, NULL, "add constant columns: { name: value }"},
    {"order", MK_OPT_LIST, 0, NULL, "put these columns first, in this order"},
    {"provenance", MK_OPT_MAP, 0, NULL,
     "add where rows came from: { source|file|record|line: column name }"},
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
    m->nadd = host->opt_count(ctx, "add");
    if (!(m->plans = mkk_plans_new(free_plan)))
        return MK_NOMEM;
    if (read_provenance(m) != MK_OK)
        return MK_ERROR;
    /* map moves values and adds constants: its output is valid UTF-8 when
     * its input is, unless a constant is not (a ${VAR} can bring any bytes) */
    if (!(m->constants = calloc(m->nadd ? m->nadd : 1, sizeof(mk_value))))
        return MK_NOMEM;
    int valid = 1;
    for (size_t i = 0; i < m->nadd; i++) {
        const char *val = NULL;
        host->opt_entry(ctx, "add", i, NULL, &val);
        m->constants[i].ptr = val; /* option strings live until the end of the run */
        m->constants[i].len = val ? strlen(val) : 0;
        if (val && mkk_utf8_valid_prefix(val, m->constants[i].len) != m->constants[i].len)
            valid = 0;
    }
    for (size_t i = 0; i < m->nprov; i++)
        if (m->prov_kind[i] == PROV_FILE)
            valid = 0; /* a file name may be bytes of any encoding */
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

/* Each step of a plan works on the column list c of input schema in and
 * returns 0, or -1 after setting the error. */

static int apply_rename(map_state *m, cols *c, const mk_schema *in)
{
    const char *key, *val;
    for (size_t i = 0; i < m->host->opt_count(m->ctx, "rename"); i++) {
        m->host->opt_entry(m->ctx, "rename", i, &key, &val);
        long k = find(c, key);
        if (k >= 0)
            c->names[k] = val;
        else if (missing(m, "rename", key, in))
            return -1;
    }
    return 0;
}

static int apply_drop(map_state *m, cols *c, const mk_schema *in)
{
    const char *val;
    for (size_t i = 0; i < m->host->opt_count(m->ctx, "drop"); i++) {
        m->host->opt_entry(m->ctx, "drop", i, NULL, &val);
        long k = find(c, val);
        if (k >= 0)
            remove_at(c, (size_t)k);
        else if (missing(m, "drop", val, in))
            return -1;
    }
    return 0;
}

static int kept(map_state *m, const char *name)
{
    const char *val;
    for (size_t k = 0; k < m->host->opt_count(m->ctx, "keep"); k++) {
        m->host->opt_entry(m->ctx, "keep", k, NULL, &val);
        if (strcmp(val, name) == 0)
            return 1;
    }
    return 0;
}

static int apply_keep(map_state *m, cols *c, const mk_schema *in)
{
    const char *val;
    size_t nkeep = m->host->opt_count(m->ctx, "keep");
    if (!nkeep)
        return 0;
    for (size_t i = 0; i < nkeep; i++) {
        m->host->opt_entry(m->ctx, "keep", i, NULL, &val);
        if (find(c, val) < 0 && missing(m, "keep", val, in))
            return -1;
    }
    for (size_t i = c->n; i-- > 0;)
        if (!kept(m, c->names[i]))
            remove_at(c, i);
    return 0;
}

/* Constants (-1 - i), then provenance (-1 - nadd - i); a name the rows
 * have already is replaced. */
static void apply_add(map_state *m, cols *c)
{
    const char *key, *val;
    for (size_t i = 0; i < m->nadd + m->nprov; i++) {
        if (i < m->nadd)
            m->host->opt_entry(m->ctx, "add", i, &key, &val);
        else
            m->host->opt_entry(m->ctx, "provenance", i - m->nadd, NULL, &key);
        long k = find(c, key);
        if (k < 0)
            k = (long)c->n++;
        c->names[k] = key;
        c->source[k] = -1 - (long)i;
    }
}

static int apply_order(map_state *m, cols *c, const mk_schema *in)
{
    const char *val;
    size_t at = 0;
    for (size_t i = 0; i < m->host->opt_count(m->ctx, "order"); i++) {
        m->host->opt_entry(m->ctx, "order", i, NULL, &val);
        long k = find(c, val);
        if (k < 0) {
            if (missing(m, "order", val, in))
                return -1;
            continue;
        }
        const char *name = c->names[k];
        long src = c->source[k];
        memmove(&c->names[at + 1], &c->names[at], ((size_t)k - at) * sizeof(char *));
        memmove(&c->source[at + 1], &c->source[at], ((size_t)k - at) * sizeof(long));
        c->names[at] = name;
        c->source[at++] = src;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No two output columns of one name: found by sorting a copy of the names,
 * not by comparing every pair (a row of 100,000 columns). */
static int check_unique(map_state *m, const cols *c)
{
    const char **sorted = malloc((c->n ? c->n : 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, c->names, c->n * sizeof *sorted);
    qsort(sorted, c->n, sizeof *sorted, by_name);
    const char *twice = NULL;
    for (size_t i = 1; i < c->n && !twice; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            twice = sorted[i];
    if (twice)
        m->host->error(m->ctx,
                       "two output columns would be named '%s': check rename, add and "
                       "provenance",
                       twice);
    free(sorted);
    return twice ? -1 : 0;
}

/* The output schema: input columns keep their types, record and line
 * numbers are integers, constants and names text. */
static const mk_schema *plan_schema(map_state *m, const mk_schema *in, const cols *c)
{
    mk_type *made = calloc(c->n ? c->n : 1, sizeof(mk_type));
    if (!made)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        size_t k = (size_t)(-1 - c->source[i]);
        if (c->source[i] < 0 && k >= m->nadd &&
            (m->prov_kind[k - m->nadd] == PROV_RECORD || m->prov_kind[k - m->nadd] == PROV_LINE))
            made[i] = MK_TYPE_INTEGER;
    }
    const mk_schema *s = mkk_schema_derive(m->host, m->ctx, in, c->names, c->source, made, c->n);
    free(made);
    return s;
}

static plan *make_plan(map_state *m, const mk_schema *in)
{
    size_t cap = in->ncols + m->nadd + m->nprov + 1;
    cols c = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(long)), 0};
    plan *p = calloc(1, sizeof(*p));
    if (!c.names || !c.source || !p)
        goto fail;
    for (size_t i = 0; i < in->ncols; i++) {
        c.names[i] = in->names[i];
        c.source[i] = (long)i;
    }
    c.n = in->ncols;
    if (apply_rename(m, &c, in) || apply_drop(m, &c, in) || apply_keep(m, &c, in))
        goto fail;
    apply_add(m, &c);
    if (apply_order(m, &c, in) || check_unique(m, &c))
        goto fail;
    p->out = plan_schema(m, in, &c);
    p->source = c.source;
    free(c.names);
    if (!p->out) {
        free_plan(p);
        return NULL;
    }
    return mkk_plans_put(m->plans, in, p) == MK_OK ? p : NULL;
fail:
    free(c.names);
    free(c.source);
    free(p);
    return NULL;
}

/* The provenance value kind of a row whose origin is o, into out's arena
 * when it is a number. */
static int provenance_value(map_state *m, int kind, const mk_origin *o, mk_batch *out,
                            mk_value *dst)
{
    const char *text = kind == PROV_SOURCE ? o->source : kind == PROV_FILE ? o->file : NULL;
    dst->ptr = text; /* host strings live until the end of the run */
    dst->len = text ? strlen(text) : 0;
    uint64_t n = kind == PROV_RECORD ? o->record : kind == PROV_LINE ? o->line : 0;
    if (text || !n)
        return MK_OK; /* a name, or unknown: NULL */
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)n);
    char *p = m->host->batch_alloc(out, (size_t)len);
    if (!p)
        return MK_NOMEM;
    memcpy(p, buf, (size_t)len);
    dst->ptr = p;
    dst->len = (size_t)len;
    return MK_OK;
}

/* An output cell that is not an input column: a constant (read once at
 * open) or provenance. */
static int made_value(map_state *m, long s, const mk_origin *o, mk_batch *out, mk_value *dst)
{
    size_t i = (size_t)(-1 - s);
    if (i >= m->nadd)
        return provenance_value(m, m->prov_kind[i - m->nadd], o, out, dst);
    *dst = m->constants[i];
    return MK_OK;
}

static int emit_row(map_state *m, const mk_batch *in, size_t r, mk_batch *out, size_t *o)
{
    const mk_host *h = m->host;
    if (MK_HOST_HAS(h, row_append))
        return h->row_append(m->ctx, in, r, out, o);
    *o = h->row_emit(m->ctx, in, r, out);
    return *o == (size_t)-1 ? MK_NOMEM : MK_OK;
}

static int map_process(void *state, const mk_batch *in, mk_batch *out)
{
    map_state *m = state;
    plan *p = mkk_plans_get(m->plans, in->schema);
    if (!p && !(p = make_plan(m, in->schema)))
        return MK_ERROR;
    out->schema = p->out;
    size_t ncols = p->out->ncols;
    for (size_t r = 0; r < in->nrows; r++) {
        size_t o;
        int rc = emit_row(m, in, r, out, &o);
        if (rc != MK_OK)
            return rc;
        mk_origin origin = {NULL, NULL, 0, 0}; /* one host call a row, only when used */
        if (m->nprov && m->host->row_origin(m->ctx, in, r, &origin) != MK_OK)
            memset(&origin, 0, sizeof origin);
        mk_value *dst = &MK_CELL(out, o, 0);
        const mk_value *src = &MK_CELL(in, r, 0);
        for (size_t c = 0; c < ncols; c++) {
            long s = p->source[c];
            if (s >= 0)
                dst[c] = src[s];
            else if ((rc = made_value(m, s, &origin, out, &dst[c])) != MK_OK)
                return rc;
        }
    }
    return MK_OK;
}

static void map_close(void *state)
{
    map_state *m = state;
    if (!m)
        return;
    mkk_plans_free(m->plans);
    free(m->constants);
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
