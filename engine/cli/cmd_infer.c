/*
 * cmd_infer.c -- `mekong infer FILE|PIPELINE`: propose a Table Schema from
 * data, so an integrator starts from something real.
 *
 * A CSV file is read through the csv source; a pipeline file runs its
 * sources and transforms (nothing is written: its sinks, rejects and report
 * are replaced).  A sink compiled into mekong ("mekong-infer") looks at
 * every value: which types every non-missing value of a column reads as
 * (through the schema plugin's own parsers, ts_types.c), missing values,
 * lengths, distinct values (the first 20 kept), uniqueness (128-bit hashes
 * in an mkk_keyset, dropped at the first repeat).  Proposed:
 *   - type: integer, number, date (ISO, or %d/%m/%Y as written in Viet Nam),
 *     datetime, time, boolean, else string; digits with a leading zero stay
 *     strings (a citizen ID or a phone number is not a number), with a
 *     pattern when they all have one length ("[0-9]{12}");
 *   - required when no value is missing, unique when no value repeats;
 *   - enum for a string column with at most 10 values over 20+ rows;
 *   - primaryKey: the first column that is required and unique.
 * The schema (JSON, v2) goes to stdout, or to -o FILE.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mekong_kit.h"
#include "table_run.h"
#include "ts_json.h"
#include "ts_schema.h"

enum { MAX_ENUM = 10, KEEP_DISTINCT = 20, ENUM_MIN_ROWS = 20 };

/* The candidate types, in the order they are preferred. */
enum { C_INTEGER, C_NUMBER, C_DATE, C_DATE_DMY, C_DATETIME, C_TIME, C_BOOLEAN, NCAND };
static const char *const cand_json =
    "{\"fields\":[{\"name\":\"i\",\"type\":\"integer\"},{\"name\":\"n\",\"type\":\"number\"},"
    "{\"name\":\"d\",\"type\":\"date\"},{\"name\":\"e\",\"type\":\"date\",\"format\":\"%d/%m/%Y\"},"
    "{\"name\":\"t\",\"type\":\"datetime\"},{\"name\":\"h\",\"type\":\"time\"},"
    "{\"name\":\"b\",\"type\":\"boolean\",\"trueValues\":[\"true\",\"True\",\"TRUE\"],"
    "\"falseValues\":[\"false\",\"False\",\"FALSE\"]}]}";

typedef struct column {
    char *name;
    uint64_t rows, missing;
    int possible[NCAND];
    int leading_zero, all_digits;
    size_t min_len, max_len;
    char *distinct[KEEP_DISTINCT];
    size_t ndistinct;
    int many;              /* more than KEEP_DISTINCT values */
    mkk_keyset *seen;      /* NULL once a value repeated */
} column;

static struct {
    ts_schema *cand;
    column *cols;
    size_t ncols;
    const mk_schema *schema;
    int failed;
} infer;

static void note_value(column *c, const char *p, size_t n)
{
    char scratch[TS_SCRATCH];
    ts_cell cell;
    for (int k = 0; k < NCAND; k++)
        if (c->possible[k] && !ts_parse(&infer.cand->fields[k], p, n, scratch, &cell))
            c->possible[k] = 0;
    int digits = n > 0;
    for (size_t i = 0; i < n && digits; i++)
        digits = p[i] >= '0' && p[i] <= '9';
    c->all_digits &= digits;
    c->leading_zero |= digits && n > 1 && p[0] == '0';
    if (c->rows - c->missing == 1 || n < c->min_len)
        c->min_len = n;
    if (n > c->max_len)
        c->max_len = n;
    if (!c->many) {
        size_t i = 0;
        while (i < c->ndistinct && !(strlen(c->distinct[i]) == n && !memcmp(c->distinct[i], p, n)))
            i++;
        if (i == c->ndistinct) {
            if (c->ndistinct == KEEP_DISTINCT || !(c->distinct[i] = strndup(p, n)))
                c->many = 1;
            else
                c->ndistinct++;
        }
    }
    if (c->seen) {
        mk_value v = {p, n};
        uint64_t h[2], first;
        mkk_key_hash(&v, 1, h);
        if (mkk_keyset_insert(c->seen, h, 0, &first) != 0) {
            mkk_keyset_free(c->seen);
            c->seen = NULL;
        }
    }
}

/* ---- the sink --------------------------------------------------------------- */

static int infer_open(mk_context *ctx, const mk_host *host, void **state)
{
    (void)ctx, (void)host;
    *state = NULL;
    return MK_OK;
}

static int start_columns(const mk_schema *s)
{
    infer.schema = s;
    infer.ncols = s->ncols;
    if (!(infer.cols = calloc(s->ncols ? s->ncols : 1, sizeof(column))))
        return MK_NOMEM;
    for (size_t i = 0; i < s->ncols; i++) {
        column *c = &infer.cols[i];
        if (!(c->name = strdup(s->names[i])) || !(c->seen = mkk_keyset_new()))
            return MK_NOMEM;
        for (int k = 0; k < NCAND; k++)
            c->possible[k] = 1;
        c->all_digits = 1;
    }
    return MK_OK;
}

static int infer_write(void *state, const mk_batch *b)
{
    (void)state;
    if (!infer.cols && start_columns(b->schema) != MK_OK)
        return MK_NOMEM;
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t i = 0; i < infer.ncols; i++) {
            column *c = &infer.cols[i];
            long col = b->schema == infer.schema ? (long)i : -1;
            for (size_t k = 0; col < 0 && k < b->schema->ncols; k++)
                if (strcmp(b->schema->names[k], c->name) == 0)
                    col = (long)k;
            const mk_value *v = col >= 0 ? &MK_CELL(b, r, col) : NULL;
            c->rows++;
            if (!v || !v->ptr || v->len == 0)
                c->missing++;
            else
                note_value(c, v->ptr, v->len);
        }
    }
    return MK_OK;
}

static int infer_close(void *state, int commit)
{
    (void)state, (void)commit;
    return MK_OK;
}

static const mk_option_decl no_options[] = {{NULL, 0, 0, NULL, NULL, NULL}};
static const mk_sink_ops infer_ops = {infer_open, infer_write, infer_close};
static const mk_plugin infer_plugin = {
    MK_PLUGIN_HEAD, "mekong-infer", PACKAGE_VERSION, "rows looked at by mekong infer",
    NULL, NULL, NULL, NULL, no_options, &infer_ops,
};

/* ---- the proposal ------------------------------------------------------------- */

static const char *type_of(const column *c)
{
    static const char *const names[NCAND] = {"integer", "number", "date", "date", "datetime",
                                             "time", "boolean"};
    if (c->rows == c->missing)
        return "string";
    for (int k = 0; k < NCAND; k++) {
        if (!c->possible[k])
            continue;
        if ((k == C_INTEGER || k == C_NUMBER) && c->leading_zero)
            return "string";
        return names[k];
    }
    return "string";
}

static int add(cfg_node *map, const char *key, const char *value, int quoted)
{
    cfg_node *n = cfg_new(CFG_SCALAR, value, 0, 0);
    if (n)
        n->quoted = quoted;
    return cfg_add(map, key, n);
}

static int constraints_of(const column *c, cfg_node *f, const char *type)
{
    cfg_node *cn = cfg_new(CFG_MAP, NULL, 0, 0);
    int rc = cn ? 0 : -1;
    if (!rc && c->missing == 0 && c->rows)
        rc = add(cn, "required", "true", 0);
    if (!rc && c->seen && c->rows > 1)
        rc = add(cn, "unique", "true", 0);
    if (!rc && strcmp(type, "string") == 0 && c->all_digits && c->min_len == c->max_len &&
        c->rows > c->missing) {
        char pat[32];
        snprintf(pat, sizeof pat, "[0-9]{%zu}", c->max_len);
        rc = add(cn, "pattern", pat, 1);
    }
    if (!rc && strcmp(type, "string") == 0 && !c->many && c->ndistinct <= MAX_ENUM &&
        c->rows >= ENUM_MIN_ROWS && !c->seen) {
        cfg_node *e = cfg_new(CFG_SEQ, NULL, 0, 0);
        for (size_t i = 0; e && !rc && i < c->ndistinct; i++)
            rc = add(e, NULL, c->distinct[i], 1);
        rc = rc || !e ? -1 : cfg_add(cn, "enum", e);
    }
    if (rc) {
        cfg_free(cn);
        return -1;
    }
    if (cn->count)
        return cfg_add(f, "constraints", cn);
    cfg_free(cn);
    return 0;
}

static cfg_node *proposal(void)
{
    cfg_node *root = cfg_new(CFG_MAP, NULL, 0, 0), *fields = cfg_new(CFG_SEQ, NULL, 0, 0);
    int rc = !root || !fields ||
             add(root, "$schema", "https://datapackage.org/profiles/2.0/tableschema.json", 1);
    const char *key = NULL;
    for (size_t i = 0; !rc && i < infer.ncols; i++) {
        const column *c = &infer.cols[i];
        const char *type = type_of(c);
        cfg_node *f = cfg_new(CFG_MAP, NULL, 0, 0);
        rc = !f || add(f, "name", c->name, 1) || add(f, "type", type, 1) ||
             (c->possible[C_DATE_DMY] && !c->possible[C_DATE] && strcmp(type, "date") == 0 &&
              add(f, "format", "%d/%m/%Y", 1)) ||
             constraints_of(c, f, type) || cfg_add(fields, NULL, f);
        if (!key && c->seen && c->missing == 0 && c->rows)
            key = c->name;
    }
    if (!rc) {
        rc = cfg_add(root, "fields", fields);
        fields = NULL;
    }
    if (!rc && key)
        rc = add(root, "primaryKey", key, 1);
    cfg_node *mv = rc ? NULL : cfg_new(CFG_SEQ, NULL, 0, 0);
    if (!rc)
        rc = !mv || add(mv, NULL, "", 1) || cfg_add(root, "missingValues", mv);
    cfg_free(fields);
    if (rc) {
        cfg_free(root);
        return NULL;
    }
    return root;
}

static void free_columns(void)
{
    for (size_t i = 0; infer.cols && i < infer.ncols; i++) {
        free(infer.cols[i].name);
        for (size_t k = 0; k < infer.cols[i].ndistinct; k++)
            free(infer.cols[i].distinct[k]);
        mkk_keyset_free(infer.cols[i].seen);
    }
    free(infer.cols);
    ts_schema_free(infer.cand);
    memset(&infer, 0, sizeof infer);
}

static int is_pipeline(const char *path)
{
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* The tree to run: the pipeline retargeted, or a csv source on the file. */
static cfg_node *tree_for(const char *path, char *err, size_t errlen)
{
    if (!is_pipeline(path)) {
        char *abs = realpath(path, NULL); /* the run resolves paths from the file's folder */
        if (!abs) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            return NULL;
        }
        cfg_node *root = mk_table_tree(abs, NULL, NULL, "mekong-infer");
        free(abs);
        if (!root)
            snprintf(err, errlen, "out of memory");
        return root;
    }
    cfg_node *root = cfg_load(path, NULL, err, errlen);
    if (root && mk_table_retarget(root, "mekong-infer") != 0) {
        cfg_free(root);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return root;
}

static int write_proposal(const char *out)
{
    cfg_node *schema = proposal();
    FILE *fp = out ? fopen(out, "w") : stdout;
    if (!schema || !fp) {
        fprintf(stderr, "mekong infer: cannot write %s\n", out ? out : "the schema");
        cfg_free(schema);
        if (fp && fp != stdout)
            fclose(fp);
        return MK_EXIT_FAILED;
    }
    ts_json_write(fp, schema, 2);
    fputc('\n', fp);
    int bad = fp == stdout ? fflush(fp) != 0 : fclose(fp) != 0;
    cfg_free(schema);
    return bad ? MK_EXIT_FAILED : MK_EXIT_OK;
}

int mk_cmd_infer(int argc, char **argv)
{
    const char *out = NULL, *in = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (!in && argv[i][0] != '-')
            in = argv[i];
        else
            in = NULL, i = argc;
    }
    if (!in) {
        fprintf(stderr, "usage: mekong infer FILE.csv|PIPELINE.yaml [-o SCHEMA.json]\n");
        return MK_EXIT_USAGE;
    }
    char err[1024];
    cfg_node *cand = ts_json_parse(cand_json, strlen(cand_json), "infer", err, sizeof err);
    infer.cand = cand ? ts_schema_compile(cand, "infer", err, sizeof err) : NULL;
    cfg_free(cand);
    if (!infer.cand)
        return MK_EXIT_FAILED;
    cfg_node *root = tree_for(in, err, sizeof err);
    mk_plugin_path sp;
    if (!root || mk_plugin_register_builtin(&infer_plugin) != 0 ||
        mk_plugin_path_init(&sp, NULL, 0) != 0) {
        fprintf(stderr, "mekong infer: %s\n", root ? "out of memory" : err);
        cfg_free(root);
        free_columns();
        return MK_EXIT_USAGE;
    }
    char failure[1024] = "";
    mk_run_options o = {0};
    o.silent = 1;
    o.failure = failure;
    o.failure_len = sizeof failure;
    int rc = mk_table_run(root, in, &sp, &o);
    cfg_free(root);
    mk_plugin_path_free(&sp);
    if (rc != MK_EXIT_OK)
        fprintf(stderr, "mekong infer: reading %s failed: %s\n", in,
                failure[0] ? failure : "see the messages above");
    else if (!infer.cols)
        fprintf(stderr, "mekong infer: %s has no columns\n", in), rc = MK_EXIT_FAILED;
    else
        rc = write_proposal(out);
    free_columns();
    return rc;
}
