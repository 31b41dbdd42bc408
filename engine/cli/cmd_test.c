/*
 * cmd_test.c -- `mekong test FILE...`: run the test cases of rule files.
 *
 * A test file (rules/citizens.test.yaml, next to rules/citizens.lua) lists
 * input rows and what must become of them (format in docs/RULES.md).  The
 * rule runs in the lua plugin, loaded as in a pipeline, inside a
 * pipeline made in memory (test_run.c): one input row per case, the fates
 * watched instead of written, no files touched.  Trade-off: cases run one
 * row at a time on one thread, which is what makes a failure easy to read;
 * the threaded path is covered by the end-to-end cases.
 *
 * FILE may be a test file, a rule file (its .test.yaml is used) or a
 * pipeline (the test files of its lua steps are used).  Exit status: 0 all
 * passed, 1 a case failed, 2 a file could not be used.
 *
 * This file reads the test file and compares what became of each case
 * with what the case expects.
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
#include "test_run.h"
#include "util/path.h"
#include "util/words.h"

/* ---- one case ----------------------------------------------------------- */

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
    case TEST_PASS: return "pass";
    case TEST_REJECT: return "reject";
    case TEST_DROP: return "drop";
    default: return "no fate";
    }
}

static void describe_actual(const test_case *t)
{
    if (t->fate == TEST_REJECT)
        printf("  + reject: %s (%s)\n", t->reject_rule, t->reject_reason);
    else
        printf("  + %s\n", fate_name(t->fate));
}

static long row_column(const test_row *row, const char *name)
{
    for (size_t c = 0; c < row->ncols; c++)
        if (strcmp(row->names[c], name) == 0)
            return (long)c;
    return -1;
}

/* Compare one expected row (a map) with output row `which`. */
static void compare_row(case_result *cr, const cfg_node *want, const test_row *row, size_t which)
{
    for (size_t i = 0; i < want->count; i++) {
        const char *col = want->keys[i]->value;
        const cfg_node *v = want->items[i];
        long c = row_column(row, col);
        const char *wptr = cfg_is_null(v) ? NULL : v->value;
        size_t wlen = wptr ? strlen(wptr) : 0;
        if (c < 0) {
            failure(cr);
            printf("  row %zu, column %s: the output has no such column\n", which + 1, col);
            continue;
        }
        const char *got = row->values[c];
        size_t glen = row->lens[c];
        int same = (!wptr && !got) || (wptr && got && glen == wlen && memcmp(got, wptr, wlen) == 0);
        if (same)
            continue;
        failure(cr);
        printf("  row %zu, column %s:\n  - ", which + 1, col);
        print_value(stdout, wptr, wlen);
        printf("\n  + ");
        print_value(stdout, got, glen);
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

/* The input of a case: a map of scalars, or an error printed. */
static const cfg_node *case_input(const cfg_node *tc, const char *file)
{
    const cfg_node *input = cfg_get(tc, "input");
    if (!input || input->kind != CFG_MAP) {
        printf("ERROR %s:%d: a case needs input: { column: value, ... }\n", file, tc->line);
        return NULL;
    }
    for (size_t i = 0; i < input->count; i++) {
        if (input->items[i]->kind != CFG_SCALAR) {
            printf("ERROR %s:%d: input column %s must be a string\n", file,
                   input->items[i]->line, input->keys[i]->value);
            return NULL;
        }
    }
    return input;
}

static void check_fate(case_result *cr, const cfg_node *tc, const test_case *t)
{
    const cfg_node *want_reject = cfg_get(tc, "reject");
    const cfg_node *want_drop = cfg_get(tc, "drop");
    const cfg_node *want_output = cfg_get(tc, "output");
    const cfg_node *want_rows = cfg_get(tc, "rows");
    const cfg_node *want_message = cfg_get(tc, "message");
    if (want_reject) {
        if (t->fate != TEST_REJECT || strcmp(t->reject_rule, want_reject->value) != 0) {
            failure(cr);
            printf("  - reject: %s\n", want_reject->value);
            describe_actual(t);
        } else if (want_message && !strstr(t->reject_reason, want_message->value)) {
            failure(cr);
            printf("  - reject message containing \"%s\"\n  + \"%s\"\n", want_message->value,
                   t->reject_reason);
        }
    } else if (want_drop && strcmp(want_drop->value, "true") == 0) {
        if (t->fate != TEST_DROP) {
            failure(cr);
            printf("  - drop\n");
            describe_actual(t);
        }
    } else if (t->fate != TEST_PASS) {
        failure(cr);
        printf("  - pass\n");
        describe_actual(t);
    } else if (want_rows && want_rows->kind == CFG_SEQ) {
        if (t->nrows != want_rows->count) {
            failure(cr);
            printf("  - %zu output rows\n  + %zu output rows\n", want_rows->count, t->nrows);
        }
        for (size_t i = 0; i < want_rows->count && i < t->nrows; i++)
            if (want_rows->items[i]->kind == CFG_MAP)
                compare_row(cr, want_rows->items[i], &t->rows[i], i);
    } else if (want_output && want_output->kind == CFG_MAP) {
        if (t->nrows != 1) {
            failure(cr);
            printf("  - 1 output row\n  + %zu output rows\n", t->nrows);
        } else {
            compare_row(cr, want_output, &t->rows[0], 0);
        }
    }
}

/* Warnings: exactly the rules listed under warn: (none when absent). */
static void check_warnings(case_result *cr, const cfg_node *want_warn, const test_case *t)
{
    for (size_t i = 0; i < t->nwarnings; i++) {
        if (!list_has(want_warn, t->warnings[i].rule)) {
            failure(cr);
            printf("  + warning %s: %s (not expected)\n", t->warnings[i].rule,
                   t->warnings[i].message);
        }
    }
    if (!want_warn)
        return;
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

static void judge_case(case_result *cr, const cfg_node *tc, const test_case *t)
{
    if (t->failure) {
        failure(cr);
        printf("  the rule failed: %s\n", t->failure);
        return;
    }
    check_fate(cr, tc, t);
    check_warnings(cr, cfg_get(tc, "warn"), t);
}

/* ---- one test file ------------------------------------------------------ */

/* The rule file of a test file: script:, or X.test.yaml -> X.lua. */
static int script_of(const cfg_node *root, const char *path, const char *dir, char *buf,
                     size_t len)
{
    const cfg_node *sn = cfg_get(root, "script");
    size_t dl = strlen(dir);
    if (sn && sn->kind == CFG_SCALAR) {
        snprintf(buf, len, "%s", sn->value); /* relative to dir, as pipelines' paths */
    } else if (mk_ends_with(path, ".test.yaml")) {
        const char *base = strncmp(path, dir, dl) == 0 && path[dl] == '/' ? path + dl + 1 : path;
        snprintf(buf, len, "%.*s.lua", (int)(strlen(base) - 10), base);
    } else {
        fprintf(stderr, "mekong test: %s: which rule file? add script: FILE.lua\n", path);
        return -1;
    }
    return 0;
}

/* Judge every case and print the file's line; adds to the counts. */
static void judge_file(const char *path, const cfg_node *tests, const test_case *cases,
                       const unsigned char *usable, int *passed, int *failed)
{
    int file_passed = 0, file_failed = 0;
    for (size_t i = 0; i < tests->count; i++) {
        const cfg_node *tc = tests->items[i];
        const cfg_node *name = cfg_get(tc, "name");
        char label[64];
        snprintf(label, sizeof label, "case %zu", i + 1);
        case_result cr = {0, path, tc->line, name && name->kind == CFG_SCALAR ? name->value : label};
        if (usable[i])
            judge_case(&cr, tc, &cases[i]);
        else
            cr.failed = 1;
        if (cr.failed)
            file_failed++;
        else
            file_passed++;
    }
    printf("%s: %d passed, %d failed\n", path, file_passed, file_failed);
    *passed += file_passed;
    *failed += file_failed;
}

/* Run the cases of test file path.  0, or -1 when the file cannot be used. */
static int run_cases(const mk_plugin_path *sp, const test_file_run *t, const cfg_node *tests,
                     int *passed, int *failed)
{
    size_t n = tests->count;
    test_case *cases = calloc(n ? n : 1, sizeof(*cases)), *runnable = calloc(n ? n : 1, sizeof(*cases));
    unsigned char *usable = calloc(n ? n : 1, 1);
    size_t *where = calloc(n ? n : 1, sizeof(size_t));
    int rc = -1;
    if (!cases || !runnable || !usable || !where)
        goto out;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cfg_node *tc = tests->items[i];
        if (tc->kind != CFG_MAP) {
            printf("ERROR %s:%d: a case is a map (input:, output:, ...)\n", t->path, tc->line);
            continue;
        }
        const cfg_node *input = case_input(tc, t->path);
        if (!input)
            continue;
        usable[i] = 1;
        where[m] = i;
        runnable[m].input = input;
        runnable[m++].line = tc->line;
    }
    if (mk_test_run_cases(sp, t, runnable, m) != 0)
        goto out;
    for (size_t k = 0; k < m; k++)
        cases[where[k]] = runnable[k];
    judge_file(t->path, tests, cases, usable, passed, failed);
    rc = 0;
out:
    for (size_t i = 0; cases && i < n; i++)
        mk_test_case_clear(&cases[i]);
    free(cases);
    free(runnable);
    free(usable);
    free(where);
    return rc;
}

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
    const cfg_node *tests = cfg_get(root, "tests");
    if (root->kind != CFG_MAP || !tests || tests->kind != CFG_SEQ) {
        fprintf(stderr, "mekong test: %s: a test file is a map with tests: [ ... ] (see "
                        "docs/RULES.md)\n", path);
    } else if (script_of(root, path, dir, script, sizeof script) == 0) {
        const cfg_node *params = cfg_get(root, "params");
        const cfg_node *read = cfg_get(root, "read");
        test_file_run t = {path, dir, script, params && params->kind == CFG_MAP ? params : NULL,
                           read && read->kind != CFG_MAP ? read : NULL};
        rc = run_cases(sp, &t, tests, passed, failed);
        if (rc != 0)
            fprintf(stderr, "mekong test: %s: cannot run the rule %s (see above)\n", path, script);
    }
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
            script->kind != CFG_SCALAR || !mk_ends_with(script->value, ".lua"))
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
    if (mk_ends_with(arg, ".test.yaml"))
        return run_test_file(sp, arg, passed, failed);
    if (mk_ends_with(arg, ".lua")) {
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
