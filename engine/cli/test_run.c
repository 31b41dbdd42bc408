/*
 * test_run.c -- see test_run.h.  Two plugins compiled into mekong (found
 * by name before the search path, and only once mekong test registered
 * them): "mekong-test-rows", a source of the cases' input rows, one case
 * per batch so that each case's schema is its own, and
 * "mekong-test-capture", a sink that copies what reaches it.  Trade-off:
 * one batch per case costs a little speed (a few hundred cases a file) and
 * buys an exact mapping from rows to cases and cases with different
 * columns in one run.
 */
#include "config.h"

#include "test_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "run/run.h"

/* The run in progress: the built-in plugins find their cases here. */
static struct {
    test_case *cases;
    size_t n, next;
} feed;

static test_case *case_at_line(uint64_t line)
{
    for (size_t i = 0; i < feed.n; i++)
        if ((uint64_t)feed.cases[i].line == line)
            return &feed.cases[i];
    return NULL;
}

/* ---- the source: one case's input row per batch --------------------------- */

typedef struct rows_state {
    mk_context *ctx;
    const mk_host *host;
    const mk_schema *all; /* every case's columns: the source's schema */
} rows_state;

static const mk_option_decl no_options[] = {{NULL, 0, 0, NULL, NULL, NULL}};

static const mk_schema *case_schema(rows_state *s, const test_case *c)
{
    const cfg_node *in = c->input;
    const char **names = calloc(in->count ? in->count : 1, sizeof(char *));
    if (!names)
        return NULL;
    for (size_t i = 0; i < in->count; i++)
        names[i] = in->keys[i]->value;
    const mk_schema *schema = s->host->schema_intern(s->ctx, names, in->count);
    free(names);
    return schema;
}

static int rows_open(mk_context *ctx, const mk_host *host, void **state)
{
    rows_state *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    const char **names = NULL;
    size_t n = 0;
    for (size_t c = feed.next; c < feed.n; c++) {
        const cfg_node *in = feed.cases[c].input;
        for (size_t i = 0; i < in->count; i++) {
            size_t k;
            for (k = 0; k < n && strcmp(names[k], in->keys[i]->value) != 0; k++)
                ;
            const char **grown = k < n ? names : realloc(names, (n + 1) * sizeof(char *));
            if (!grown)
                break;
            names = grown;
            if (k == n)
                names[n++] = in->keys[i]->value;
        }
    }
    s->all = host->schema_intern(ctx, names, n);
    free(names);
    host->text_checked(ctx); /* YAML text is UTF-8 (libyaml checks it) */
    return s->all ? MK_OK : MK_NOMEM;
}

static const mk_schema *rows_schema(void *state)
{
    return ((rows_state *)state)->all;
}

static int rows_next(void *state, mk_batch *b)
{
    rows_state *s = state;
    if (feed.next >= feed.n)
        return MK_DONE;
    test_case *c = &feed.cases[feed.next++];
    b->schema = case_schema(s, c);
    size_t r;
    if (!b->schema || (r = s->host->batch_add_row(b)) == (size_t)-1)
        return MK_NOMEM;
    for (size_t i = 0; i < c->input->count; i++) {
        const cfg_node *v = c->input->items[i];
        if (!cfg_is_null(v) && s->host->batch_set(b, r, i, v->value, strlen(v->value)) != MK_OK)
            return MK_NOMEM;
    }
    b->info[r].position = (uint64_t)c->line;
    b->record[r] = feed.next;
    return MK_OK;
}

static void rows_close(void *state)
{
    free(state);
}

/* ---- the sink: rows that pass, copied -------------------------------------- */

static int capture_open(mk_context *ctx, const mk_host *host, void **state)
{
    (void)ctx;
    (void)host;
    *state = NULL;
    return MK_OK;
}

static char *copy_bytes(const char *p, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, p, len);
        c[len] = '\0';
    }
    return c;
}

static int capture_row(test_case *c, const mk_batch *b, size_t r)
{
    test_row *grown = realloc(c->rows, (c->nrows + 1) * sizeof(test_row));
    if (!grown)
        return MK_NOMEM;
    c->rows = grown;
    test_row *row = &c->rows[c->nrows++];
    size_t n = b->schema->ncols;
    row->ncols = n;
    row->names = calloc(n ? n : 1, sizeof(char *));
    row->values = calloc(n ? n : 1, sizeof(char *));
    row->lens = calloc(n ? n : 1, sizeof(size_t));
    if (!row->names || !row->values || !row->lens)
        return MK_NOMEM;
    for (size_t k = 0; k < n; k++) {
        mk_value v = MK_CELL(b, r, k);
        row->names[k] = strdup(b->schema->names[k]);
        row->values[k] = v.ptr ? copy_bytes(v.ptr, v.len) : NULL;
        row->lens[k] = v.len;
        if (!row->names[k] || (v.ptr && !row->values[k]))
            return MK_NOMEM;
    }
    return MK_OK;
}

static int capture_write(void *state, const mk_batch *b)
{
    (void)state;
    for (size_t r = 0; r < b->nrows; r++) {
        test_case *c = case_at_line(b->info[r].position);
        if (!c || b->info[r].source != 0)
            continue; /* made by finish(): no case's */
        if (c->fate == TEST_NO_FATE)
            c->fate = TEST_PASS;
        if (capture_row(c, b, r) != MK_OK)
            return MK_NOMEM;
    }
    return MK_OK;
}

static int capture_close(void *state, int commit)
{
    (void)state;
    (void)commit;
    return MK_OK;
}

static const mk_source_ops rows_ops = {rows_open, rows_schema, rows_next, rows_close};
static const mk_sink_ops capture_ops = {capture_open, capture_write, capture_close};

static const mk_plugin rows_plugin = {
    MK_PLUGIN_HEAD, "mekong-test-rows", PACKAGE_VERSION, "mekong test: the cases' input rows",
    no_options, &rows_ops, NULL, NULL, NULL, NULL,
};

static const mk_plugin capture_plugin = {
    MK_PLUGIN_HEAD, "mekong-test-capture", PACKAGE_VERSION, "mekong test: rows that pass",
    NULL, NULL, NULL, NULL, no_options, &capture_ops,
};

/* ---- watching fates ------------------------------------------------------------ */

static void on_event(void *data, const mk_event *e)
{
    (void)data;
    test_case *c = case_at_line(e->info->position);
    if (!c)
        return;
    if (e->kind == MK_EVENT_WARN) {
        test_warning *w = realloc(c->warnings, (c->nwarnings + 1) * sizeof(*w));
        if (!w)
            return;
        c->warnings = w;
        w[c->nwarnings].rule = strdup(e->rule ? e->rule : "");
        w[c->nwarnings++].message = strdup(e->message ? e->message : "");
        return;
    }
    if (c->fate != TEST_NO_FATE)
        return;
    c->fate = e->kind == MK_EVENT_REJECT ? TEST_REJECT : TEST_DROP;
    if (e->kind == MK_EVENT_REJECT) {
        c->reject_rule = strdup(e->rule ? e->rule : "");
        c->reject_reason = strdup(e->message ? e->message : "");
    }
}

/* ---- the pipeline ---------------------------------------------------------------- */

static int add_scalar(cfg_node *map, const char *key, const char *value, int line)
{
    return cfg_add(map, key, cfg_new(CFG_SCALAR, value, line, 1));
}

static cfg_node *one_step(const char *plugin, int line)
{
    cfg_node *list = cfg_new(CFG_SEQ, NULL, line, 1);
    cfg_node *step = cfg_new(CFG_MAP, NULL, line, 1);
    if (!list || !step || cfg_add(list, NULL, step) != 0 ||
        add_scalar(step, "plugin", plugin, line) != 0) {
        cfg_free(list);
        return NULL;
    }
    return list;
}

/* The rule's step: script, params and read from the test file; one thread, and
 * on_error: reject, so a case can expect a Lua error as a reject. */
static cfg_node *rule_step(const test_file_run *t)
{
    cfg_node *list = one_step("lua", 1);
    if (!list)
        return NULL;
    cfg_node *step = list->items[0];
    int rc = add_scalar(step, "script", t->script, 1) | add_scalar(step, "threads", "1", 1) |
             add_scalar(step, "on_error", "reject", 1);
    if (rc == 0 && t->params)
        rc = cfg_add(step, "params", cfg_copy(t->params));
    if (rc == 0 && t->read)
        rc = cfg_add(step, "read", cfg_copy(t->read));
    if (rc != 0) {
        cfg_free(list);
        return NULL;
    }
    return list;
}

static cfg_node *test_pipeline_tree(const test_file_run *t)
{
    cfg_node *root = cfg_new(CFG_MAP, NULL, 1, 1);
    if (!root)
        return NULL;
    int rc = add_scalar(root, "name", "mekong-test", 1) |
             add_scalar(root, "rejects", "/dev/null", 1) |
             add_scalar(root, "batch_rows", "1", 1) |
             cfg_add(root, "sources", one_step("mekong-test-rows", 1)) |
             cfg_add(root, "transforms", rule_step(t)) |
             cfg_add(root, "sinks", one_step("mekong-test-capture", 1));
    if (rc != 0) {
        cfg_free(root);
        return NULL;
    }
    return root;
}

static int build(const mk_plugin_path *sp, const test_file_run *t, mk_pipeline *p)
{
    if (mk_plugin_register_builtin(&rows_plugin) != 0 ||
        mk_plugin_register_builtin(&capture_plugin) != 0)
        return -1;
    cfg_node *root = test_pipeline_tree(t);
    if (!root)
        return -1;
    int rc = mk_pipeline_build(root, t->path, t->dir, sp, p);
    cfg_free(root);
    free(p->report_path); /* no report, no files */
    p->report_path = NULL;
    if (rc == 0 && p->sources[0].name) { /* the source is the test file, for origin() */
        free(p->sources[0].name);
        p->sources[0].name = strdup(t->path);
    }
    return rc;
}

/* Run cases [feed.next, n); -1 when the run failed (message in failure). */
static int run_from(mk_pipeline *p, char *failure, size_t len)
{
    mk_run_options o = {0};
    o.silent = 1;
    o.no_run_folder = 1;
    o.on_event = on_event;
    o.failure = failure;
    o.failure_len = len;
    failure[0] = '\0';
    return mk_run_pipeline(p, &o) == 0 ? 0 : -1;
}

int mk_test_run_cases(const mk_plugin_path *sp, const test_file_run *t, test_case *cases,
                      size_t n)
{
    mk_pipeline p;
    if (build(sp, t, &p) != 0) {
        mk_pipeline_free(&p);
        return -1;
    }
    feed.cases = cases;
    feed.n = n;
    size_t start = 0;
    char failure[2048];
    while (start < n) {
        feed.next = start;
        if (run_from(&p, failure, sizeof failure) == 0)
            break;
        if (feed.next == start) { /* failed before any case: setup, not a case */
            fprintf(stderr, "mekong test: %s: %s\n", t->path, failure);
            mk_pipeline_free(&p);
            return -1;
        }
        size_t k = start; /* the first case that got no fate stopped the run */
        while (k < n && cases[k].fate != TEST_NO_FATE)
            k++;
        if (k == n)
            k = n - 1;
        cases[k].failure = strdup(failure[0] ? failure : "the run failed");
        start = k + 1;
    }
    feed.cases = NULL;
    mk_pipeline_free(&p);
    return 0;
}

void mk_test_case_clear(test_case *c)
{
    free(c->reject_rule);
    free(c->reject_reason);
    for (size_t i = 0; i < c->nwarnings; i++) {
        free(c->warnings[i].rule);
        free(c->warnings[i].message);
    }
    free(c->warnings);
    for (size_t i = 0; i < c->nrows; i++) {
        for (size_t k = 0; k < c->rows[i].ncols; k++) {
            free(c->rows[i].names[k]);
            free(c->rows[i].values[k]);
        }
        free(c->rows[i].names);
        free(c->rows[i].values);
        free(c->rows[i].lens);
    }
    free(c->rows);
    free(c->failure);
    memset(c, 0, sizeof(*c));
}
