/*
 * upper.c -- an example mekong plugin, built out of tree against the
 * installed <mekong.h> (see README.md beside this file).
 *
 * The `upper` transform upper-cases the ASCII letters a-z in the columns
 * it is given and leaves every other byte as it is (Vietnamese letters
 * such as "ệ" are not touched: case rules for them are a Lua rule's job):
 *
 *     transforms:
 *       - plugin: upper
 *         columns: [email, national_id]
 *
 * Every row passes.  A named column that the rows do not have fails the
 * run, so a typo cannot go unnoticed.  Values are copied into the output
 * batch's arena only when they hold a lower-case letter; the other cells
 * point at the input bytes.
 *
 * Trade-off: the columns are found with the plugin kit (<mekong_kit.h>,
 * linked with pkg-config --libs mekong), which caches them per schema;
 * the plugin then depends on libmekongkit being installed beside mekong.
 */
#include <stdlib.h>

#include <mekong.h>
#include <mekong_kit.h>

/* Only mekong_plugin is exported (the Makefile builds with
 * -fvisibility=hidden). */
#define UPPER_EXPORT __attribute__((visibility("default")))

typedef struct upper_state {
    mk_context *ctx;
    const mk_host *host;
    mkk_colmap *columns;     /* the named columns, per input schema */
    const mk_schema *schema; /* the schema `targets` was made for */
    unsigned char *targets;  /* per column: 1 when it is upper-cased */
} upper_state;

/* Designated initializers: a member added to mk_option_decl later keeps
 * this table valid. */
static const mk_option_decl upper_options[] = {
    {.name = "columns", .type = MK_OPT_LIST, .required = 1,
     .help = "columns whose ASCII letters are upper-cased"},
    {.name = NULL},
};

static int upper_open(mk_context *ctx, const mk_host *host, void **state)
{
    upper_state *u = calloc(1, sizeof(*u));
    if (!u)
        return MK_NOMEM;
    *state = u;
    u->ctx = ctx;
    u->host = host;
    size_t n = host->opt_count(ctx, "columns");
    const char **names = calloc(n ? n : 1, sizeof(char *));
    if (!names)
        return MK_NOMEM;
    for (size_t i = 0; i < n; i++)
        host->opt_entry(ctx, "columns", i, NULL, &names[i]);
    u->columns = mkk_colmap_new(host, names, n);
    free(names);
    return u->columns ? MK_OK : MK_NOMEM;
}

/* Which columns of this schema to change; schemas are interned, so the
 * answer is kept until another schema comes. */
static int plan_columns(upper_state *u, const mk_schema *schema)
{
    const long *found = mkk_colmap_get(u->columns, schema); /* -1: not in schema */
    unsigned char *t = calloc(schema->ncols ? schema->ncols : 1, 1);
    if (!found || !t) {
        free(t);
        return MK_NOMEM;
    }
    for (size_t i = 0; i < mkk_colmap_size(u->columns); i++) {
        if (found[i] < 0) {
            const char *name;
            u->host->opt_entry(u->ctx, "columns", i, NULL, &name);
            u->host->error(u->ctx, "column '%s' is not in the rows (they have %zu columns, "
                                   "the first is '%s'): check the name",
                           name, schema->ncols, schema->ncols ? schema->names[0] : "");
            free(t);
            return MK_ERROR;
        }
        t[found[i]] = 1;
    }
    free(u->targets);
    u->targets = t;
    u->schema = schema;
    return MK_OK;
}

static int has_lower(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            return 1;
    return 0;
}

static int upper_process(void *state, const mk_batch *in, mk_batch *out)
{
    upper_state *u = state;
    const mk_host *h = u->host;
    if (in->schema != u->schema) {
        int rc = plan_columns(u, in->schema);
        if (rc != MK_OK)
            return rc;
    }
    for (size_t r = 0; r < in->nrows; r++) {
        int rc = h->row_pass(u->ctx, in, r, out);
        if (rc != MK_OK)
            return rc;
        size_t o = out->nrows - 1; /* the row just passed; out has in's schema */
        for (size_t c = 0; c < in->schema->ncols; c++) {
            mk_value *v = &MK_CELL(out, o, c);
            if (!u->targets[c] || MK_IS_NULL(*v) || !has_lower(v->ptr, v->len))
                continue;
            char *copy = h->batch_alloc(out, v->len ? v->len : 1);
            if (!copy)
                return MK_NOMEM;
            for (size_t i = 0; i < v->len; i++) {
                char ch = v->ptr[i];
                copy[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
            }
            v->ptr = copy;
        }
    }
    return MK_OK;
}

static void upper_close(void *state)
{
    upper_state *u = state;
    if (!u)
        return;
    free(u->targets);
    mkk_colmap_free(u->columns);
    free(u);
}

static const mk_transform_ops upper_ops = {
    .open = upper_open,
    .process = upper_process,
    .finish = NULL,
    .close = upper_close,
};

static const mk_plugin upper_plugin = {
    MK_PLUGIN_HEAD,
    .name = "upper",
    .version = "1.0.0",
    .summary = "upper-case the ASCII letters of named columns (example out-of-tree plugin)",
    .transform_options = upper_options,
    .transform = &upper_ops,
};

UPPER_EXPORT const mk_plugin *mekong_plugin(void);

UPPER_EXPORT const mk_plugin *mekong_plugin(void)
{
    return &upper_plugin;
}
