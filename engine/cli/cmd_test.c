/*
 * cmd_test.c -- `mekong test FILE...`: run the test cases of rule files.
 *
 * A test file (rules/citizens.test.yaml, next to rules/citizens.lua) lists
 * input rows and what must become of them (format in docs/RULES.md).  The
 * lua plugin is loaded through the normal plugin loader and driven by a
 * small host of its own here: one input row per case, the fates recorded
 * instead of written, no files touched.  Trade-off: cases run one row at a
 * time on one thread, which is what makes a failure easy to read; the
 * threaded path is covered by the end-to-end cases.
 *
 * FILE may be a test file, a rule file (its .test.yaml is used) or a
 * pipeline (the test files of its lua steps are used).  Exit status: 0 all
 * passed, 1 a case failed, 2 a file could not be used.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "commands.h"
#include "pipefile.h"
#include "plugin.h"
#include "run/run.h"
#include "util/path.h"

/* ---- a host for one rule file ------------------------------------------ */

typedef struct test_event {
    char *rule, *message;
} test_event;

typedef struct test_host {
    const char *dir;            /* folder of the test file */
    const char *script;         /* resolved rule file */
    const cfg_node *params;     /* map or NULL */
    mk_schema_registry *schemas;
    char error[2048];
    /* what became of the row of the case */
    int fate;                   /* 0 none, 1 pass, 2 reject, 3 drop */
    char *reject_rule, *reject_reason;
    test_event *warnings;
    size_t nwarnings;
} test_host;

enum { FATE_NONE, FATE_PASS, FATE_REJECT, FATE_DROP };

#define TH(ctx) ((test_host *)(void *)(ctx))

static void th_log(mk_context *ctx, mk_log_level level, const char *fmt, ...)
{
    (void)ctx;
    if (level > MK_LOG_WARN)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void th_error(mk_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(TH(ctx)->error, sizeof TH(ctx)->error, fmt, ap);
    va_end(ap);
}

static const char *th_opt_string(mk_context *ctx, const char *name)
{
    if (strcmp(name, "script") == 0)
        return TH(ctx)->script;
    if (strcmp(name, "threads") == 0)
        return "1";
    if (strcmp(name, "on_error") == 0)
        return "reject";
    if (strcmp(name, "instruction_budget") == 0)
        return "1000000";
    if (strcmp(name, "memory_mb") == 0)
        return "256";
    if (strcmp(name, "row") == 0)
        return "proxy";
    return NULL;
}

static long long th_opt_int(mk_context *ctx, const char *name)
{
    const char *s = th_opt_string(ctx, name);
    return s ? strtoll(s, NULL, 10) : 0;
}

static int th_opt_bool(mk_context *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 0;
}

static size_t th_opt_count(mk_context *ctx, const char *name)
{
    const cfg_node *p = TH(ctx)->params;
    return strcmp(name, "params") == 0 && p ? p->count : 0;
}

static int th_opt_entry(mk_context *ctx, const char *name, size_t i, const char **key,
                        const char **value)
{
    const cfg_node *p = TH(ctx)->params;
    if (strcmp(name, "params") != 0 || !p || i >= p->count || p->items[i]->kind != CFG_SCALAR)
        return MK_ERROR;
    if (key)
        *key = p->keys[i]->value;
    if (value)
        *value = p->items[i]->value;
    return MK_OK;
}

static const char *th_step_name(mk_context *ctx)
{
    (void)ctx;
    return "test";
}

static const char *th_pipeline_dir(mk_context *ctx)
{
    return TH(ctx)->dir;
}

static const mk_schema *th_schema_intern(mk_context *ctx, const char *const *names, size_t n)
{
    return mk_schema_intern(TH(ctx)->schemas, names, n);
}

static mk_batch *th_batch_new(const mk_schema *schema)
{
    return mk_batch_new(schema);
}

static int set_fate(test_host *t, int fate)
{
    if (t->fate == FATE_PASS && fate == FATE_PASS)
        return MK_OK;
    if (t->fate != FATE_NONE) {
        snprintf(t->error, sizeof t->error, "the row was given two fates (a plugin bug)");
        return MK_ERROR;
    }
    t->fate = fate;
    return MK_OK;
}

static int th_row_reject(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                         const char *reason)
{
    (void)in;
    (void)row;
    test_host *t = TH(ctx);
    if (set_fate(t, FATE_REJECT) != MK_OK)
        return MK_ERROR;
    t->reject_rule = strdup(rule ? rule : "");
    t->reject_reason = strdup(reason ? reason : "");
    return MK_OK;
}

static int th_row_drop(mk_context *ctx, const mk_batch *in, size_t row)
{
    (void)in;
    (void)row;
    return set_fate(TH(ctx), FATE_DROP);
}

static int th_row_warn(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                       const char *message)
{
    (void)in;
    (void)row;
    test_host *t = TH(ctx);
    test_event *grown = realloc(t->warnings, (t->nwarnings + 1) * sizeof(*grown));
    if (!grown)
        return MK_NOMEM;
    t->warnings = grown;
    grown[t->nwarnings].rule = strdup(rule ? rule : "");
    grown[t->nwarnings].message = strdup(message ? message : "");
    t->nwarnings++;
    return MK_OK;
}

static void th_rule_checked(mk_context *ctx, const char *rule, uint64_t rows)
{
    (void)ctx;
    (void)rule;
    (void)rows;
}

static int th_row_pass(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out)
{
    if (set_fate(TH(ctx), FATE_PASS) != MK_OK)
        return MK_ERROR;
    size_t r = mk_batch_add_row(out);
    if (r == (size_t)-1)
        return MK_NOMEM;
    for (size_t c = 0; c < out->schema->ncols; c++) {
        long k = mk_schema_find(in->schema, out->schema->names[c]);
        if (k >= 0)
            MK_CELL(out, r, c) = MK_CELL(in, row, (size_t)k);
    }
    return MK_OK;
}

static size_t th_row_emit(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out)
{
    if (set_fate(TH(ctx), FATE_PASS) != MK_OK)
        return (size_t)-1;
    size_t r = mk_batch_add_row(out);
    if (r != (size_t)-1)
        out->info[r] = in->info[row];
    return r;
}

static int th_source_reject(mk_context *ctx, const mk_value *fields, size_t nfields,
                            uint64_t position, const char *rule, const char *reason)
{
    (void)ctx, (void)fields, (void)nfields, (void)position, (void)rule, (void)reason;
    return MK_ERROR;
}

static void th_source_part(mk_context *ctx, uint32_t part, const char *name)
{
    (void)ctx, (void)part, (void)name;
}

static void th_report_set(mk_context *ctx, const char *key, const char *value)
{
    (void)ctx, (void)key, (void)value;
}

static void th_report_add(mk_context *ctx, const char *key, int64_t delta)
{
    (void)ctx, (void)key, (void)delta;
}

static int th_stopping(void)
{
    return 0;
}

/* mekong test has no sinks: a promise of valid text changes nothing. */
static void th_text_checked(mk_context *ctx)
{
    (void)ctx;
}

static int th_batch_text_checked(mk_context *ctx, const mk_batch *b)
{
    (void)ctx;
    (void)b;
    return 0;
}

static const mk_host test_host_table = {
    .size = sizeof(mk_host),
    .log = th_log,
    .error = th_error,
    .opt_string = th_opt_string,
    .opt_int = th_opt_int,
    .opt_bool = th_opt_bool,
    .opt_count = th_opt_count,
    .opt_entry = th_opt_entry,
    .step_name = th_step_name,
    .pipeline_dir = th_pipeline_dir,
    .schema_intern = th_schema_intern,
    .batch_add_row = mk_batch_add_row,
    .batch_alloc = mk_batch_alloc,
    .batch_set = mk_batch_set,
    .batch_new = th_batch_new,
    .batch_reset = mk_batch_reset,
    .batch_free = mk_batch_free,
    .row_reject = th_row_reject,
    .row_drop = th_row_drop,
    .row_warn = th_row_warn,
    .rule_checked = th_rule_checked,
    .row_pass = th_row_pass,
    .row_emit = th_row_emit,
    .source_reject = th_source_reject,
    .source_part = th_source_part,
    .report_set = th_report_set,
    .report_add = th_report_add,
    .stopping = th_stopping,
    .text_checked = th_text_checked,
    .batch_text_checked = th_batch_text_checked,
};

static void clear_outcome(test_host *t)
{
    t->fate = FATE_NONE;
    t->error[0] = '\0';
    free(t->reject_rule);
    free(t->reject_reason);
    t->reject_rule = t->reject_reason = NULL;
    for (size_t i = 0; i < t->nwarnings; i++) {
        free(t->warnings[i].rule);
        free(t->warnings[i].message);
    }
    free(t->warnings);
    t->warnings = NULL;
    t->nwarnings = 0;
}

/* ---- one case ----------------------------------------------------------- */

/* A YAML scalar as a cell: unquoted ~ or null is NULL. */
static int is_null(const cfg_node *n)
{
    return n->kind == CFG_SCALAR && !n->quoted &&
           (strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 || !n->value[0]);
}

static void print_value(FILE *f, const char *ptr, size_t len)
{
    if (!ptr) {
        fputs("NULL", f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)ptr[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

typedef struct case_result {
    int failed;
    const char *file;
    int line;
    const char *name;
} case_result;

static void failure(case_result *cr)
{
    if (!cr->failed)
        printf("FAIL %s:%d: %s\n", cr->file, cr->line, cr->name);
    cr->failed = 1;
}

static const char *fate_name(int fate)
{
    switch (fate) {
    case FATE_PASS: return "pass";
    case FATE_REJECT: return "reject";
    case FATE_DROP: return "drop";
    default: return "no fate";
    }
}

static void describe_actual(const test_host *t)
{
    if (t->fate == FATE_REJECT)
        printf("  + reject: %s (%s)\n", t->reject_rule, t->reject_reason);
    else
        printf("  + %s\n", fate_name(t->fate));
}

/* Compare one expected row (a map) with output row r. */
static void compare_row(case_result *cr, const cfg_node *want, const mk_batch *out, size_t r,
                        size_t which)
{
    for (size_t i = 0; i < want->count; i++) {
        const char *col = want->keys[i]->value;
        const cfg_node *v = want->items[i];
        long c = mk_schema_find(out->schema, col);
        const char *wptr = is_null(v) ? NULL : v->value;
        size_t wlen = wptr ? strlen(wptr) : 0;
        if (c < 0) {
            failure(cr);
            printf("  row %zu, column %s: the output has no such column\n", which + 1, col);
            continue;
        }
        mk_value got = MK_CELL(out, r, (size_t)c);
        int same = (!wptr && !got.ptr) ||
                   (wptr && got.ptr && got.len == wlen && memcmp(got.ptr, wptr, wlen) == 0);
        if (same)
            continue;
        failure(cr);
        printf("  row %zu, column %s:\n  - ", which + 1, col);
        print_value(stdout, wptr, wlen);
        printf("\n  + ");
        print_value(stdout, got.ptr, got.len);
        putchar('\n');
    }
}

static int list_has(const cfg_node *n, const char *s)
{
    if (!n)
        return 0;
    if (n->kind == CFG_SCALAR)
        return strcmp(n->value, s) == 0;
    for (size_t i = 0; i < n->count; i++)
        if (n->items[i]->kind == CFG_SCALAR && strcmp(n->items[i]->value, s) == 0)
            return 1;
    return 0;
}

static int run_case(test_host *t, const mk_transform_ops *ops, void *state, const cfg_node *tc,
                    case_result *cr)
{
    const cfg_node *input = cfg_get(tc, "input");
    if (!input || input->kind != CFG_MAP) {
        printf("ERROR %s:%d: a case needs input: { column: value, ... }\n", cr->file, cr->line);
        return -1;
    }
    const char **names = calloc(input->count ? input->count : 1, sizeof(char *));
    if (!names)
        return -1;
    for (size_t i = 0; i < input->count; i++)
        names[i] = input->keys[i]->value;
    const mk_schema *schema = mk_schema_intern(t->schemas, names, input->count);
    free(names);
    mk_batch *in = mk_batch_new(schema);
    mk_batch *out = mk_batch_new(schema);
    if (!in || !out || mk_batch_add_row(in) == (size_t)-1) {
        mk_batch_free(in);
        mk_batch_free(out);
        return -1;
    }
    in->info[0].position = (uint64_t)cr->line;
    for (size_t i = 0; i < input->count; i++) {
        const cfg_node *v = input->items[i];
        if (v->kind != CFG_SCALAR) {
            printf("ERROR %s:%d: input column %s must be a string\n", cr->file, v->line,
                   input->keys[i]->value);
            mk_batch_free(in);
            mk_batch_free(out);
            return -1;
        }
        if (!is_null(v))
            mk_batch_set(in, 0, i, v->value, strlen(v->value));
    }
    clear_outcome(t);
    int rc = ops->process(state, in, out);
    const cfg_node *want_reject = cfg_get(tc, "reject");
    const cfg_node *want_drop = cfg_get(tc, "drop");
    const cfg_node *want_output = cfg_get(tc, "output");
    const cfg_node *want_rows = cfg_get(tc, "rows");
    const cfg_node *want_warn = cfg_get(tc, "warn");
    const cfg_node *want_message = cfg_get(tc, "message");
    if (rc != MK_OK) {
        failure(cr);
        printf("  the rule failed: %s\n", t->error[0] ? t->error : "no message");
        goto done;
    }
    if (want_reject) {
        if (t->fate != FATE_REJECT || strcmp(t->reject_rule, want_reject->value) != 0) {
            failure(cr);
            printf("  - reject: %s\n", want_reject->value);
            describe_actual(t);
        } else if (want_message && !strstr(t->reject_reason, want_message->value)) {
            failure(cr);
            printf("  - reject message containing \"%s\"\n  + \"%s\"\n", want_message->value,
                   t->reject_reason);
        }
    } else if (want_drop && strcmp(want_drop->value, "true") == 0) {
        if (t->fate != FATE_DROP) {
            failure(cr);
            printf("  - drop\n");
            describe_actual(t);
        }
    } else if (t->fate != FATE_PASS) {
        failure(cr);
        printf("  - pass\n");
        describe_actual(t);
    } else if (want_rows && want_rows->kind == CFG_SEQ) {
        if (out->nrows != want_rows->count) {
            failure(cr);
            printf("  - %zu output rows\n  + %zu output rows\n", want_rows->count, out->nrows);
        }
        for (size_t i = 0; i < want_rows->count && i < out->nrows; i++)
            if (want_rows->items[i]->kind == CFG_MAP)
                compare_row(cr, want_rows->items[i], out, i, i);
    } else if (want_output && want_output->kind == CFG_MAP) {
        if (out->nrows != 1) {
            failure(cr);
            printf("  - 1 output row\n  + %zu output rows\n", out->nrows);
        } else {
            compare_row(cr, want_output, out, 0, 0);
        }
    }
    /* warnings: exactly the rules listed under warn: (none when absent) */
    for (size_t i = 0; i < t->nwarnings; i++) {
        if (!list_has(want_warn, t->warnings[i].rule)) {
            failure(cr);
            printf("  + warning %s: %s (not expected)\n", t->warnings[i].rule,
                   t->warnings[i].message);
        }
    }
    if (want_warn) {
        size_t n = want_warn->kind == CFG_SCALAR ? 1 : want_warn->count;
        for (size_t i = 0; i < n; i++) {
            const cfg_node *w = want_warn->kind == CFG_SCALAR ? want_warn : want_warn->items[i];
            int seen = 0;
            for (size_t k = 0; k < t->nwarnings && !seen; k++)
                seen = strcmp(t->warnings[k].rule, w->value) == 0;
            if (!seen) {
                failure(cr);
                printf("  - warning %s\n  + no %s warning\n", w->value, w->value);
            }
        }
    }
done:
    mk_batch_free(in);
    mk_batch_free(out);
    return 0;
}

/* ---- one test file ------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Run the cases of test file path; adds to *passed and *failed.  0, or -1
 * when the file cannot be used. */
static int run_test_file(const mk_plugin_path *sp, const char *path, int *passed, int *failed)
{
    char err[1024];
    cfg_node *root = cfg_load(path, NULL, err, sizeof err);
    if (!root) {
        fprintf(stderr, "mekong test: %s\n", err);
        return -1;
    }
    int rc = -1;
    char *dir = mk_dir_of(path);
    char script[4096];
    const cfg_node *sn = cfg_get(root, "script");
    const cfg_node *tests = cfg_get(root, "tests");
    if (root->kind != CFG_MAP || !tests || tests->kind != CFG_SEQ) {
        fprintf(stderr, "mekong test: %s: a test file is a map with tests: [ ... ] (see "
                        "docs/RULES.md)\n", path);
        goto out;
    }
    if (sn && sn->kind == CFG_SCALAR) {
        if (sn->value[0] == '/')
            snprintf(script, sizeof script, "%s", sn->value);
        else
            snprintf(script, sizeof script, "%s/%s", dir, sn->value);
    } else if (ends_with(path, ".test.yaml")) {
        snprintf(script, sizeof script, "%.*s.lua", (int)(strlen(path) - 10), path);
    } else {
        fprintf(stderr, "mekong test: %s: which rule file? add script: FILE.lua\n", path);
        goto out;
    }
    mk_loaded_plugin lp;
    if (mk_plugin_load(sp, "lua", &lp, err, sizeof err) != 0) {
        fprintf(stderr, "mekong test: %s\n", err);
        goto out;
    }
    const mk_transform_ops *ops = lp.desc->transform;
    test_host t;
    memset(&t, 0, sizeof t);
    t.dir = dir;
    t.script = script;
    t.params = cfg_get(root, "params");
    if (t.params && t.params->kind != CFG_MAP)
        t.params = NULL;
    t.schemas = mk_schema_registry_new();
    void *state = NULL;
    mk_context *ctx = (mk_context *)(void *)&t;
    if (!t.schemas || ops->open(ctx, &test_host_table, &state) != MK_OK) {
        fprintf(stderr, "mekong test: %s: %s\n", script, t.error[0] ? t.error : "cannot open");
    } else {
        int file_passed = 0, file_failed = 0;
        rc = 0;
        for (size_t i = 0; i < tests->count; i++) {
            const cfg_node *tc = tests->items[i];
            const cfg_node *name = cfg_get(tc, "name");
            char label[64];
            snprintf(label, sizeof label, "case %zu", i + 1);
            case_result cr = {0, path, tc->line,
                              name && name->kind == CFG_SCALAR ? name->value : label};
            if (tc->kind != CFG_MAP || run_case(&t, ops, state, tc, &cr) != 0) {
                if (tc->kind != CFG_MAP)
                    printf("ERROR %s:%d: a case is a map (input:, output:, ...)\n", path,
                           tc->line);
                cr.failed = 1;
            }
            if (cr.failed)
                file_failed++;
            else
                file_passed++;
        }
        printf("%s: %d passed, %d failed\n", path, file_passed, file_failed);
        *passed += file_passed;
        *failed += file_failed;
    }
    clear_outcome(&t);
    ops->close(state);
    mk_schema_registry_free(t.schemas);
    mk_plugin_unload(&lp);
out:
    free(dir);
    cfg_free(root);
    return rc;
}

/* The test files of a pipeline's lua steps (script: X.lua -> X.test.yaml). */
static int collect_steps(const cfg_node *steps, const char *dir, char ***files, size_t *n)
{
    if (!steps || steps->kind != CFG_SEQ)
        return 0;
    for (size_t i = 0; i < steps->count; i++) {
        const cfg_node *st = steps->items[i];
        const cfg_node *plugin = cfg_get(st, "plugin");
        const cfg_node *script = cfg_get(st, "script");
        collect_steps(cfg_get(st, "transforms"), dir, files, n);
        if (!plugin || plugin->kind != CFG_SCALAR || strcmp(plugin->value, "lua") != 0 || !script ||
            script->kind != CFG_SCALAR || !ends_with(script->value, ".lua"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%.*s.test.yaml", dir, (int)(strlen(script->value) - 4),
                 script->value);
        char **grown = realloc(*files, (*n + 1) * sizeof(char *));
        if (!grown)
            return -1;
        *files = grown;
        (*files)[(*n)++] = strdup(path);
    }
    return 0;
}

static int test_one_argument(const mk_plugin_path *sp, const char *arg, int *passed,
                             int *failed)
{
    char path[4096];
    if (ends_with(arg, ".test.yaml"))
        return run_test_file(sp, arg, passed, failed);
    if (ends_with(arg, ".lua")) {
        snprintf(path, sizeof path, "%.*s.test.yaml", (int)(strlen(arg) - 4), arg);
        FILE *f = fopen(path, "r");
        if (!f) {
            fprintf(stderr, "mekong test: %s has no test file (looked for %s)\n", arg, path);
            return -1;
        }
        fclose(f);
        return run_test_file(sp, path, passed, failed);
    }
    char err[1024];
    cfg_node *root = cfg_load(arg, NULL, err, sizeof err);
    if (!root) {
        fprintf(stderr, "mekong test: %s\n", err);
        return -1;
    }
    char *dir = mk_dir_of(arg);
    char **files = NULL;
    size_t n = 0;
    collect_steps(cfg_get(root, "sources"), dir, &files, &n);
    collect_steps(cfg_get(root, "transforms"), dir, &files, &n);
    int rc = 0;
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(files[i], "r");
        if (f) {
            fclose(f);
            found++;
            if (run_test_file(sp, files[i], passed, failed) != 0)
                rc = -1;
        } else {
            printf("%s: no test file for this rule file\n", files[i]);
        }
        free(files[i]);
    }
    if (found == 0) {
        fprintf(stderr, "mekong test: %s: no lua step with a test file (X.lua -> X.test.yaml)\n",
                arg);
        rc = -1;
    }
    free(files);
    free(dir);
    cfg_free(root);
    return rc;
}

int mk_cmd_test(int argc, char **argv)
{
    char **plugin_dirs = NULL;
    size_t ndirs = 0;
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc) {
            char **grown = realloc(plugin_dirs, (ndirs + 1) * sizeof(char *));
            if (!grown)
                break;
            plugin_dirs = grown;
            plugin_dirs[ndirs++] = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "mekong test: unknown option '%s'; see 'mekong help test'\n", argv[i]);
            free(plugin_dirs);
            return MK_EXIT_USAGE;
        } else {
            nfiles++;
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "mekong test: which file? usage: mekong test FILE... (a .test.yaml, a "
                        "rule file or a pipeline)\n");
        free(plugin_dirs);
        return MK_EXIT_USAGE;
    }
    mk_plugin_path sp;
    if (mk_plugin_path_init(&sp, plugin_dirs, ndirs) != 0) {
        free(plugin_dirs);
        return MK_EXIT_FAILED;
    }
    int passed = 0, failed = 0, unusable = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--plugin-dir") == 0) {
            i++;
            continue;
        }
        if (test_one_argument(&sp, argv[i], &passed, &failed) != 0)
            unusable = 1;
    }
    if (nfiles > 1 || unusable)
        printf("total: %d passed, %d failed\n", passed, failed);
    mk_plugin_path_free(&sp);
    free(plugin_dirs);
    if (failed)
        return MK_EXIT_FAILED;
    return unusable ? MK_EXIT_USAGE : MK_EXIT_OK;
}
