/*
 * schema.c -- the schema transform: every row checked against a declared
 * Frictionless Table Schema (v2; v1 accepted), in C.
 *
 *   - type: schema
 *     schema: people.schema.json     # or .yaml
 *     resources: { wards: wards.csv } # foreignKeys lookups
 *     canonical: true                 # dates ISO, numbers plain, ...
 *
 * A failing row is rejected with the frictionless error name as the rule
 * (type-error, constraint-error, unique-error, primary-key, foreign-key,
 * missing-cell; mekong:cccd ... for the Vietnamese checks) and a reason
 * naming the field, the value and the constraint; a field with
 * "mekong:onError": "warn" (or on_error: warn) warns and keeps the row.
 * Per-field results (checked, missing, failed per constraint, distinct
 * values up to 20, min/max) go to the run report under fields.NAME.*.
 *
 * Trade-off: the schema is compiled once into a plan per field
 * (ts_schema.c) and the columns are matched once per input schema, so a
 * row costs the parse of each cell into a scratch buffer and nothing else
 * is allocated; keys (unique, primaryKey, uniqueKeys) are 128-bit hashes
 * of the canonical values in mkk_keysets: memory grows with distinct keys
 * (about 48 bytes each), never with row width.  foreignKeys lookups are
 * read once at open into hash sets that are only read afterwards.
 *
 * Threads: a batch is checked in two phases.  Phase 1 (check_row) parses
 * and checks the cells of up to 1024 rows, split between threads, each with
 * its own counts and pattern match data and no host call; phase 2
 * (schema_row) then decides each row's fate in row order on the main
 * thread (keys, reasons, reject/warn/pass), so the output does not depend
 * on the number of threads.  The price: the cells of a chunk are kept
 * (1024 rows * fields * 512 bytes of scratch, capped at 16 MiB).
 */
#include "config.h"

#include <csv.h>
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mekong.h"
#include "mekong_kit.h"
#include "sch_shard.h"
#include "schema_plugin.h"
#include "ts_json.h"
#include "ts_vn.h"
#include "vn_tables.h"

enum { MAX_DISTINCT = 20, MAX_THREADS = 4, MIN_PARALLEL_ROWS = 256 };

/* Per field: what the report shows. */
typedef struct field_stats {
    uint64_t checked, missing, passed;
    uint64_t failed[TS_NCHECKS];
    uint64_t distinct[MAX_DISTINCT];
    size_t ndistinct;
    int distinct_over; /* more than MAX_DISTINCT */
    int has_range;
    double min, max;
    char min_text[64], max_text[64];
} field_stats;

/* Per input schema: the column of each field. */
typedef struct plan {
    long *col;          /* per field, -1 when the rows lack it */
    long *sex_col, *birth_col;
    const mk_schema *out;
} plan;

typedef struct schema_state {
    mk_context *ctx;
    const mk_host *host;
    ts_schema *ts;
    int canonical, warn_all, report_fields;
    int this_year;
    mkk_plans *plans;
    field_stats *stats;
    mkk_keyset **unique;          /* per field with unique: a set */
    mkk_keyset *primary;
    mkk_keyset **ukeys;           /* per uniqueKeys entry */
    sch_hset *fkeys;              /* per foreignKeys entry: the referenced keys */
    sch_hset wards, provinces;    /* ward_2025, province_2025 */
    ts_cell *cells;               /* the cells of the row whose fate is being decided */
    /* the rows of a chunk, checked before their fates are decided (phase 1,
     * on threads for big batches): chunk rows * fields cells and scratch */
    ts_cell *rcells;
    char (*rscratch)[TS_SCRATCH];
    size_t chunk;                 /* rows a chunk holds */
    int nthreads;
    field_stats *wstats;          /* (nthreads - 1) * fields: the other threads' counts */
    pcre2_match_data **wmd;       /* (nthreads - 1) * fields: their pattern match data */
    mk_value *keycells;
    /* across shards (sch_shard.h): the keys stage or a shard's run; the
     * key space of each unique field (primaryKey is 0, then uniqueKeys) */
    sch_shard *shard;
    size_t *fspace, nspaces;
    uint64_t seq;                 /* rows that reached the step */
    uint64_t primary_firsts;      /* a shard's run: primary keys not repeated */
    char reason[1024];
    const char *rule;
    int reject;                   /* this row: a reject-level error seen */
} schema_state;

static const mk_option_decl options[] = {
    {"schema", MK_OPT_PATH, 1, NULL, "the Table Schema file (JSON or YAML, v2 or v1)"},
    {"resources", MK_OPT_MAP, 0, NULL,
     "CSV files of the resources foreignKeys name: { wards: wards.csv }"},
    {"canonical", MK_OPT_BOOL, 0, "false",
     "write values in canonical form (dates ISO 8601, numbers without group characters)"},
    {"on_error", MK_OPT_STRING, 0, "reject",
     "what a failed check does: reject the row, or warn and keep it (a field's "
     "mekong:onError overrides)",
     "reject|warn"},
    {"vn_reference", MK_OPT_PATH, 0, NULL,
     "folder with wards_2025.csv and provinces_2025.csv (code column) for ward_2025 / "
     "province_2025 checks (default: the tables mekong ships, as the admin step's)"},
    {"report_fields", MK_OPT_BOOL, 0, "true", "per-field results in the run report"},
    {"threads", MK_OPT_INT, 0, "0",
     "threads checking the cells of big batches (0: one per core but one, at most 4; 1: none)"},
    {"shard_index", MK_OPT_INT, 0, "-1",
     "set by mekong run --shard: this step runs in one shard of a plan (docs/SCALE.md)"},
    {"shard_keys", MK_OPT_STRING, 0, NULL,
     "across shards (set by mekong run --stage keys): write the keys of every row into bucket "
     "files in this folder and drop the row"},
    {"shard_duplicates", MK_OPT_STRING, 0, NULL,
     "across shards (set by mekong run --shard): the plan's folder, whose bucket-B/duplicates "
     "lists say which rows of this shard repeat a key"},
    {"shard_buckets", MK_OPT_INT, 0, "0", "across shards: the number of buckets (= shards)"},
    {NULL, 0, 0, NULL, NULL},
};

static void free_plan(void *p_)
{
    plan *p = p_;
    free(p->col);
    free(p->sex_col);
    free(p->birth_col);
    free(p);
}

/* ---- open ------------------------------------------------------------------ */

static int load_schema(schema_state *s)
{
    const char *path = s->host->opt_string(s->ctx, "schema");
    char err[1024];
    cfg_node *root = ts_load(path, err, sizeof err);
    if (!root) {
        s->host->error(s->ctx, "schema: %s", err);
        return MK_ERROR;
    }
    s->ts = ts_schema_compile(root, path, err, sizeof err);
    cfg_free(root);
    if (!s->ts) {
        s->host->error(s->ctx, "schema: %s", err);
        return MK_ERROR;
    }
    return MK_OK;
}

static int load_vn_codes(schema_state *s)
{
    int need_w = 0, need_p = 0;
    for (size_t i = 0; i < s->ts->nfields; i++) {
        need_w |= s->ts->fields[i].vn == TS_VN_WARD_2025;
        need_p |= s->ts->fields[i].vn == TS_VN_PROVINCE_2025;
    }
    if (!need_w && !need_p)
        return MK_OK;
    const char *dir = s->host->opt_string(s->ctx, "vn_reference");
    if (!dir)
        dir = mk_vn_tables_dir();
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/wards_2025.csv", dir);
    if (need_w && sch_codes_load(&s->wards, path, "code", err, sizeof err) != 0) {
        s->host->error(s->ctx, "vn_reference: %s", err);
        return MK_ERROR;
    }
    snprintf(path, sizeof path, "%s/provinces_2025.csv", dir);
    if (need_p && sch_codes_load(&s->provinces, path, "code", err, sizeof err) != 0) {
        s->host->error(s->ctx, "vn_reference: %s", err);
        return MK_ERROR;
    }
    return MK_OK;
}

/* A foreign key's resource: its file from the resources option. */
static const char *resource_path(schema_state *s, const char *name)
{
    const char *key, *val;
    for (size_t i = 0; i < s->host->opt_count(s->ctx, "resources"); i++) {
        s->host->opt_entry(s->ctx, "resources", i, &key, &val);
        if (strcmp(key, name) == 0)
            return val;
    }
    return NULL;
}

static int load_foreign_keys(schema_state *s)
{
    if (!s->ts->nfkeys)
        return MK_OK;
    if (!(s->fkeys = calloc(s->ts->nfkeys, sizeof(sch_hset))))
        return MK_NOMEM;
    for (size_t i = 0; i < s->ts->nfkeys; i++) {
        const ts_fkey *fk = &s->ts->fkeys[i];
        if (!fk->resource[0])
            continue; /* this table: filled with the rows that pass */
        const char *path = resource_path(s, fk->resource);
        if (!path) {
            s->host->error(s->ctx, "foreignKeys refer to resource '%s': name its CSV file in "
                                   "resources: { %s: FILE.csv }",
                           fk->resource, fk->resource);
            return MK_ERROR;
        }
        char err[1024];
        if (sch_lookup_load(&s->fkeys[i], s->ts, fk, path, err, sizeof err) != 0) {
            s->host->error(s->ctx, "foreignKeys: %s", err);
            return MK_ERROR;
        }
    }
    return MK_OK;
}

/* The other threads' counts and match data (the main thread uses the
 * fields' own). */
static int make_workers(schema_state *s)
{
    long want = s->host->opt_int(s->ctx, "threads");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* 0: a thread per core but one -- the source's read-ahead thread has
     * that one (on 2 cores, measured: worker threads only added waiting) */
    if (want <= 0)
        want = cores > 2 ? (cores - 1 < MAX_THREADS ? cores - 1 : MAX_THREADS) : 1;
    s->nthreads = want > MAX_THREADS ? MAX_THREADS : (int)want;
    size_t nf = s->ts->nfields, extra = (size_t)(s->nthreads - 1);
    if (!extra || !nf)
        return MK_OK;
    s->wstats = calloc(extra * nf, sizeof(field_stats));
    s->wmd = calloc(extra * nf, sizeof(pcre2_match_data *));
    if (!s->wstats || !s->wmd)
        return MK_NOMEM;
    for (size_t w = 0; w < extra; w++)
        for (size_t i = 0; i < nf; i++)
            if (s->ts->fields[i].has_pattern &&
                !(s->wmd[w * nf + i] = ts_field_match_data(&s->ts->fields[i])))
                return MK_NOMEM;
    return MK_OK;
}

static int make_sets(schema_state *s)
{
    const ts_schema *ts = s->ts;
    size_t n = ts->nfields ? ts->nfields : 1;
    s->stats = calloc(n, sizeof(field_stats));
    s->unique = calloc(n, sizeof(mkk_keyset *));
    if (make_workers(s) != MK_OK)
        return MK_NOMEM;
    /* a chunk of rows: 1024 (a default batch), fewer for wide schemas (16 MiB
     * of scratch); one row without worker threads, so that the cells and
     * scratch of the row stay in the cache (measured: 6% of the run) */
    s->chunk = (16u << 20) / (n * TS_SCRATCH);
    s->chunk = s->nthreads == 1 || s->chunk < 1 ? 1 : s->chunk > 1024 ? 1024 : s->chunk;
    s->rscratch = calloc(s->chunk * n, TS_SCRATCH);
    s->rcells = calloc(s->chunk * n, sizeof(ts_cell));
    s->keycells = calloc(n, sizeof(mk_value));
    s->ukeys = calloc(ts->nunique_keys ? ts->nunique_keys : 1, sizeof(mkk_keyset *));
    if (!s->stats || !s->unique || !s->rscratch || !s->rcells || !s->keycells || !s->ukeys)
        return MK_NOMEM;
    for (size_t i = 0; i < ts->nfields; i++)
        if (ts->fields[i].unique && !(s->unique[i] = mkk_keyset_new()))
            return MK_NOMEM;
    if (ts->primary.n && !(s->primary = mkk_keyset_new()))
        return MK_NOMEM;
    for (size_t i = 0; i < ts->nunique_keys; i++)
        if (!(s->ukeys[i] = mkk_keyset_new()))
            return MK_NOMEM;
    return MK_OK;
}

/* The key spaces (primaryKey, uniqueKeys, unique fields) and the shard
 * options of dedupe across shards' stages. */
static int open_shard(schema_state *s)
{
    const ts_schema *ts = s->ts;
    if (!(s->fspace = calloc(ts->nfields ? ts->nfields : 1, sizeof(size_t))))
        return MK_NOMEM;
    s->nspaces = (ts->primary.n ? 1 : 0) + ts->nunique_keys;
    for (size_t i = 0; i < ts->nfields; i++)
        if (ts->fields[i].unique)
            s->fspace[i] = s->nspaces++;
    return sch_shard_open(s->host, s->ctx, s->nspaces, &s->shard);
}

/* In a shard, keys that must not repeat over all rows (unique, primaryKey,
 * uniqueKeys) are checked only with the stages' lists (s->shard): one
 * shard alone sees only its rows, so a key repeated in two shards would
 * pass.  A foreign key to this table needs every earlier row: refused. */
static int refuse_keys_in_shard(schema_state *s)
{
    const ts_schema *ts = s->ts;
    if (s->host->opt_int(s->ctx, "shard_index") < 0)
        return MK_OK;
    for (size_t i = 0; i < ts->nfkeys; i++)
        if (!ts->fkeys[i].resource[0]) {
            s->host->error(s->ctx, "the schema has a foreign key to this table itself (foreignKeys "
                           "with reference resource \"\"), which needs every earlier row, and one "
                           "shard sees only its own: run this pipeline as one run, or write the "
                           "referenced keys to a CSV file and name it in resources");
            return MK_ERROR;
        }
    if (s->shard)
        return MK_OK; /* the keys are decided by the stages */
    const char *what = ts->primary.n ? "primaryKey" : ts->nunique_keys ? "uniqueKeys" : NULL;
    for (size_t i = 0; !what && i < ts->nfields; i++)
        what = ts->fields[i].unique ? ts->fields[i].name : NULL;
    if (!what)
        return MK_OK;
    s->host->error(s->ctx, "the schema has %s%s, which must hold over all rows, and one shard "
                   "sees only its own: its keys need the keys and decide stages, which this plan "
                   "does not have (another step decides keys too, or the engine could not read "
                   "the schema when planning): make the plan again, or run this pipeline as one "
                   "run (docs/SCALE.md)",
                   what, ts->primary.n || ts->nunique_keys ? "" : " (a unique field)");
    return MK_ERROR;
}

static int schema_open(mk_context *ctx, const mk_host *host, void **state)
{
    schema_state *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    s->canonical = host->opt_bool(ctx, "canonical");
    s->report_fields = host->opt_bool(ctx, "report_fields");
    s->warn_all = mkk_opt_choice(host, ctx, "on_error", "reject|warn") == 1;
    time_t now = time(NULL);
    struct tm tm;
    s->this_year = gmtime_r(&now, &tm) ? tm.tm_year + 1900 : 9999;
    if (!(s->plans = mkk_plans_new(free_plan)))
        return MK_NOMEM;
    int rc = load_schema(s);
    if (rc == MK_OK)
        rc = open_shard(s);
    if (rc == MK_OK)
        rc = refuse_keys_in_shard(s);
    if (rc == MK_OK)
        rc = make_sets(s);
    if (rc == MK_OK)
        rc = load_vn_codes(s);
    if (rc == MK_OK)
        rc = load_foreign_keys(s);
    /* values pass unchanged, or as canonical ASCII text made from them */
    if (rc == MK_OK)
        host->text_checked(ctx);
    return rc;
}

/* ---- plans per input schema ------------------------------------------------ */

static mk_type out_type(ts_type t)
{
    switch (t) {
    case TS_INTEGER: case TS_YEAR: return MK_TYPE_INTEGER;
    case TS_NUMBER: return MK_TYPE_NUMBER;
    case TS_BOOLEAN: return MK_TYPE_BOOLEAN;
    case TS_DATE: return MK_TYPE_DATE;
    case TS_OBJECT: case TS_ARRAY: return MK_TYPE_JSON;
    default: return MK_TYPE_TEXT;
    }
}

/* fieldsMatch between the schema's fields and the row's columns. */
static int check_match(schema_state *s, const mk_schema *in, const long *col)
{
    const ts_schema *ts = s->ts;
    size_t have = 0;
    for (size_t i = 0; i < ts->nfields; i++)
        have += col[i] >= 0;
    int lacks = have < ts->nfields, extra = in->ncols > have;
    int order_ok = 1;
    for (size_t i = 0; i < ts->nfields && i < in->ncols; i++)
        order_ok &= col[i] == (long)i;
    const char *bad = NULL;
    switch (ts->match) {
    case TS_MATCH_EXACT:
        if (lacks || extra || !order_ok)
            bad = "exact: the rows must have the schema's fields, in its order, and no other";
        break;
    case TS_MATCH_EQUAL:
        if (lacks || extra)
            bad = "equal: the rows must have the schema's fields (any order) and no other";
        break;
    case TS_MATCH_SUBSET: /* every row column is a field; fields may be absent */
        if (extra)
            bad = "subset: every column of the rows must be a field of the schema";
        break;
    case TS_MATCH_SUPERSET:
        if (lacks)
            bad = "superset: the rows must have every field of the schema";
        break;
    case TS_MATCH_PARTIAL:
        if (!have)
            bad = "partial: the rows must have at least one field of the schema";
        break;
    }
    if (!bad)
        return MK_OK;
    char list[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < ts->nfields && len < sizeof list - 64; i++)
        if (col[i] < 0)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", len ? ", " : "",
                                    ts->fields[i].name);
    s->host->error(s->ctx, "fieldsMatch %s%s%s (set fieldsMatch in the schema, or fix the "
                           "columns with map)",
                   bad, len ? "; missing: " : "", list);
    return MK_ERROR;
}

static long find_aux(schema_state *s, const mk_schema *in, const char *name, const char *what,
                     const ts_field *f)
{
    if (!name)
        return -1;
    long c = mkk_column_find(s->host, in, name);
    if (c < 0)
        s->host->error(s->ctx, "field '%s': %s names column '%s', which the rows do not have",
                       f->name, what, name);
    return c < 0 ? -2 : c;
}

static plan *make_plan(schema_state *s, const mk_schema *in)
{
    const ts_schema *ts = s->ts;
    size_t n = ts->nfields ? ts->nfields : 1;
    plan *p = calloc(1, sizeof(*p));
    if (!p || !(p->col = calloc(n, sizeof(long))) || !(p->sex_col = calloc(n, sizeof(long))) ||
        !(p->birth_col = calloc(n, sizeof(long)))) {
        if (p)
            free_plan(p);
        return NULL;
    }
    for (size_t i = 0; i < ts->nfields; i++)
        p->col[i] = mkk_column_find(s->host, in, ts->fields[i].name);
    for (size_t i = 0; i < ts->nfields; i++) {
        p->sex_col[i] = find_aux(s, in, ts->fields[i].vn_sex_field, "mekong:sexField",
                                 &ts->fields[i]);
        p->birth_col[i] = find_aux(s, in, ts->fields[i].vn_birth_field, "mekong:birthDateField",
                                   &ts->fields[i]);
        if (p->sex_col[i] == -2 || p->birth_col[i] == -2) {
            free_plan(p);
            return NULL;
        }
    }
    if (check_match(s, in, p->col) != MK_OK) {
        free_plan(p);
        return NULL;
    }
    p->out = in;
    if (s->canonical) { /* declared types become column types */
        const char **names = calloc(in->ncols + 1, sizeof(char *));
        long *src = calloc(in->ncols + 1, sizeof(long));
        mk_type *made = calloc(in->ncols + 1, sizeof(mk_type));
        for (size_t c = 0; names && src && made && c < in->ncols; c++) {
            names[c] = in->names[c];
            src[c] = (long)c;
            for (size_t i = 0; i < ts->nfields; i++)
                if (p->col[i] == (long)c) {
                    src[c] = -1;
                    made[c] = out_type(ts->fields[i].type);
                }
        }
        p->out = names && src && made
                     ? mkk_schema_derive(s->host, s->ctx, in, names, src, made, in->ncols)
                     : NULL;
        free(names);
        free(src);
        free(made);
        if (!p->out) {
            free_plan(p);
            return NULL;
        }
    }
    return mkk_plans_put(s->plans, in, p) == MK_OK ? p : NULL;
}

/* ---- one row ----------------------------------------------------------------- */

/* Printable value for a reason: at most 60 bytes, then "...". */
static int shown(size_t len)
{
    return len > 60 ? 60 : (int)len;
}

/* Add an error to the row's reason; the first reject-level one names the rule. */
static void add_error(schema_state *s, const ts_field *f, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_error(schema_state *s, const ts_field *f, const char *rule, const char *fmt, ...)
{
    int warn = f ? (f->warn || s->warn_all) : s->warn_all;
    size_t len = strlen(s->reason);
    if (len + 8 >= sizeof s->reason)
        return;
    if (len)
        len += (size_t)snprintf(s->reason + len, sizeof s->reason - len, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason + len, sizeof s->reason - len, fmt, ap);
    va_end(ap);
    if (!warn && !s->reject) {
        s->reject = 1;
        s->rule = rule;
    } else if (!s->rule) {
        s->rule = rule;
    }
}

static const char *vn_rule(ts_vn v)
{
    static const char *const names[] = {"", "mekong:cccd", "mekong:mst", "mekong:phone",
                                        "mekong:mobile", "mekong:ward_2025",
                                        "mekong:province_2025"};
    return names[v];
}

static const char *vn_check(const schema_state *s, const ts_field *f, size_t fi, const plan *p,
                            const mk_value *row, const char *v, size_t n, char *buf, size_t cap)
{
    int mobile = 0;
    const char *why;
    switch (f->vn) {
    case TS_VN_CCCD: {
        const mk_value *sex = p->sex_col[fi] >= 0 ? &row[p->sex_col[fi]] : NULL;
        const mk_value *birth = p->birth_col[fi] >= 0 ? &row[p->birth_col[fi]] : NULL;
        if (sex && !sex->ptr)
            sex = NULL;
        if (birth && !birth->ptr)
            birth = NULL;
        return ts_vn_cccd(v, n, sex ? sex->ptr : NULL, sex ? sex->len : 0,
                          birth ? birth->ptr : NULL, birth ? birth->len : 0, s->this_year, buf,
                          cap);
    }
    case TS_VN_MST: return ts_vn_mst(v, n, buf, cap);
    case TS_VN_PHONE: return ts_vn_phone(v, n, &mobile, buf, cap);
    case TS_VN_MOBILE:
        why = ts_vn_phone(v, n, &mobile, buf, cap);
        return why ? why : mobile ? NULL : "a landline number, not a mobile number";
    case TS_VN_WARD_2025:
        return sch_hset_has_text(&s->wards, v, n) ? NULL : "not a ward code of 2025 (wards_2025.csv)";
    case TS_VN_PROVINCE_2025:
        return sch_hset_has_text(&s->provinces, v, n) ? NULL
                                                  : "not a province code of 2025 (provinces_2025.csv)";
    default: return NULL;
    }
}

static void count_value(field_stats *st, const ts_cell *c)
{
    if (!st->distinct_over) {
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < c->canon_len; i++)
            h = (h ^ (unsigned char)c->canon[i]) * 1099511628211ull;
        size_t i = 0;
        while (i < st->ndistinct && st->distinct[i] != h)
            i++;
        if (i == st->ndistinct) {
            if (st->ndistinct == MAX_DISTINCT)
                st->distinct_over = 1;
            else
                st->distinct[st->ndistinct++] = h;
        }
    }
    if (!c->has_number || c->number != c->number) /* NaN has no order */
        return;
    if (!st->has_range || c->number < st->min) {
        st->min = c->number;
        snprintf(st->min_text, sizeof st->min_text, "%.*s", (int)c->canon_len, c->canon);
    }
    if (!st->has_range || c->number > st->max) {
        st->max = c->number;
        snprintf(st->max_text, sizeof st->max_text, "%.*s", (int)c->canon_len, c->canon);
    }
    st->has_range = 1;
}

static const char *error_rule(ts_check c)
{
    return c == TS_C_TYPE ? "type-error" : "constraint-error";
}

/* Phase 1, any thread: the cells of one row -- types, constraints,
 * Vietnamese checks -- into cells, counted in stats.  No host call, no
 * allocation; md: the thread's pattern match data per field (NULL: the
 * fields' own, for the main thread). */
static void check_row(const schema_state *s, const plan *p, const mk_value *row, ts_cell *cells,
                      char (*scratch)[TS_SCRATCH], field_stats *stats, pcre2_match_data **md)
{
    const ts_schema *ts = s->ts;
    for (size_t i = 0; i < ts->nfields; i++) {
        const ts_field *f = &ts->fields[i];
        ts_cell *c = &cells[i];
        field_stats *st = &stats[i];
        st->checked++;
        if (p->col[i] < 0) { /* fieldsMatch let the column be absent */
            c->missing = 1, c->canon = NULL, c->canon_len = 0, c->failed = TS_NCHECKS;
            st->missing++;
            if (f->required)
                c->failed = TS_C_REQUIRED, st->failed[TS_C_REQUIRED]++;
            continue;
        }
        const mk_value *v = &row[p->col[i]];
        ts_cell_check_md(f, v->ptr, v->len, scratch[i], md ? md[i] : NULL, c);
        st->missing += c->missing;
        if (c->failed != TS_NCHECKS) {
            st->failed[c->failed]++;
            continue;
        }
        if (c->missing)
            continue;
        if (f->vn) {
            char buf[200];
            const char *why = vn_check(s, f, i, p, row, v->ptr, v->len, buf, sizeof buf);
            if (why) {
                st->failed[TS_C_VN]++;
                c->failed = TS_C_VN;
                snprintf(c->detail, sizeof c->detail, "%s", why);
                continue;
            }
        }
        count_value(st, c);
    }
    for (size_t i = 0; i < ts->nfields; i++)
        stats[i].passed += cells[i].failed == TS_NCHECKS;
}

/* Phase 2, main thread: the failures of the row's cells into its reason. */
static void report_row(schema_state *s, const plan *p, const mk_value *row)
{
    const ts_schema *ts = s->ts;
    for (size_t i = 0; i < ts->nfields; i++) {
        const ts_field *f = &ts->fields[i];
        const ts_cell *c = &s->cells[i];
        if (c->failed == TS_NCHECKS)
            continue;
        if (p->col[i] < 0) {
            add_error(s, f, "missing-cell", "field '%s' is required, and the rows have no "
                                            "such column", f->name);
            continue;
        }
        const mk_value *v = &row[p->col[i]];
        if (c->failed == TS_C_VN)
            add_error(s, f, vn_rule(f->vn), "field '%s' value '%.*s' fails mekong:check %s: %s",
                      f->name, shown(v->len), v->ptr, vn_rule(f->vn) + 7, c->detail);
        else
            add_error(s, f, error_rule(c->failed), "field '%s' value '%.*s' %s (%s)", f->name,
                      shown(v->len), v->ptr ? v->ptr : "", c->detail, ts_check_name(c->failed));
    }
}

static uint64_t position_of(const mk_batch *in, size_t r)
{
    return in->info[r].position;
}

/* Hash the canonical values of key k; 0 when a value is missing. */
static int key_hash(schema_state *s, const ts_key *k, uint64_t h[2])
{
    for (size_t i = 0; i < k->n; i++) {
        const ts_cell *c = &s->cells[k->fields[i]];
        if (c->missing || c->failed != TS_NCHECKS)
            return 0;
        s->keycells[i].ptr = c->canon;
        s->keycells[i].len = c->canon_len;
    }
    mkk_key_hash(s->keycells, k->n, h);
    return 1;
}

static void key_names(const ts_schema *ts, const ts_key *k, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k->n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
                                ts->fields[k->fields[i]].name);
}

/* Whether key h of space k was seen before, at line *first (1), or is new
 * (0), from the step's own key set or, in a shard, from the decided lists.
 * -1: out of memory. */
static int seen(schema_state *s, mkk_keyset *set, size_t k, const uint64_t h[2], uint64_t pos,
                uint64_t *first)
{
    if (!s->shard)
        return mkk_keyset_insert(set, h, pos, first);
    int dup = sch_shard_dup(s->shard, k, first);
    s->primary_firsts += !dup && k == 0 && s->ts->primary.n; /* space 0: primaryKey */
    return dup;
}

/* The keys stage: the row's keys, as check_keys would compare them. */
static int write_keys(schema_state *s, const mk_batch *in, size_t r, uint64_t seq)
{
    const ts_schema *ts = s->ts;
    uint64_t h[2], pos = position_of(in, r);
    int rc = MK_OK;
    size_t k = 0;
    if (ts->primary.n && key_hash(s, &ts->primary, h))
        rc = sch_shard_add(s->shard, k, h, seq, pos);
    k += ts->primary.n ? 1 : 0;
    for (size_t i = 0; rc == MK_OK && i < ts->nunique_keys; i++, k++)
        if (key_hash(s, &ts->unique_keys[i], h))
            rc = sch_shard_add(s->shard, k, h, seq, pos);
    for (size_t i = 0; rc == MK_OK && i < ts->nfields; i++) {
        const ts_cell *c = &s->cells[i];
        if (!ts->fields[i].unique || c->missing || c->failed != TS_NCHECKS)
            continue;
        mk_value v = {c->canon, c->canon_len};
        mkk_key_hash(&v, 1, h);
        rc = sch_shard_add(s->shard, s->fspace[i], h, seq, pos);
    }
    return rc;
}

/* unique fields, primaryKey, uniqueKeys, foreignKeys.  -1: out of memory. */
static int check_keys(schema_state *s, const mk_batch *in, size_t r)
{
    const ts_schema *ts = s->ts;
    uint64_t h[2], first, pos = position_of(in, r);
    char names[256];
    if (ts->primary.n) {
        key_names(ts, &ts->primary, names, sizeof names);
        if (!key_hash(s, &ts->primary, h)) {
            if (!s->reason[0])
                add_error(s, NULL, "primary-key", "primary key (%s) has a missing value", names);
        } else {
            int rc = seen(s, s->primary, 0, h, pos, &first);
            if (rc < 0)
                return -1;
            if (rc == 1)
                add_error(s, NULL, "primary-key",
                          "primary key (%s) repeats the row at line %" PRIu64, names, first);
        }
    }
    for (size_t i = 0; i < ts->nunique_keys; i++) {
        if (!key_hash(s, &ts->unique_keys[i], h))
            continue; /* a key with a missing value is not compared (frictionless-py) */
        int rc = seen(s, s->ukeys[i], (ts->primary.n ? 1 : 0) + i, h, pos, &first);
        if (rc < 0)
            return -1;
        key_names(ts, &ts->unique_keys[i], names, sizeof names);
        if (rc == 1)
            add_error(s, NULL, "unique-error", "unique key (%s) repeats the row at line %" PRIu64,
                      names, first);
    }
    for (size_t i = 0; i < ts->nfields; i++) {
        const ts_cell *c = &s->cells[i];
        if (!s->unique[i] || c->missing || c->failed != TS_NCHECKS)
            continue;
        mk_value v = {c->canon, c->canon_len};
        mkk_key_hash(&v, 1, h);
        int rc = seen(s, s->unique[i], s->fspace[i], h, pos, &first);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            s->stats[i].failed[TS_C_UNIQUE]++;
            s->stats[i].passed--; /* counted with the cell's own checks */
            add_error(s, &ts->fields[i], "unique-error",
                      "field '%s' value '%.*s' is not unique: the row at line %" PRIu64
                      " has it (unique)",
                      ts->fields[i].name, shown(c->canon_len), c->canon, first);
        }
    }
    for (size_t i = 0; i < ts->nfkeys; i++) {
        if (!ts->fkeys[i].resource[0] || !key_hash(s, &ts->fkeys[i].local, h))
            continue;
        key_names(ts, &ts->fkeys[i].local, names, sizeof names);
        if (!sch_hset_has(&s->fkeys[i], h))
            add_error(s, NULL, "foreign-key", "foreign key (%s) has no match in resource '%s'",
                      names, ts->fkeys[i].resource);
    }
    return 0;
}

/* Self-referencing foreign keys: the referenced values of rows that pass. */
static void self_refs(schema_state *s)
{
    const ts_schema *ts = s->ts;
    uint64_t h[2];
    for (size_t i = 0; i < ts->nfkeys; i++) {
        const ts_fkey *fk = &ts->fkeys[i];
        if (fk->resource[0])
            continue;
        char names[256];
        key_names(ts, &fk->local, names, sizeof names);
        if (key_hash(s, &fk->local, h) && !sch_hset_has(&s->fkeys[i], h))
            add_error(s, NULL, "foreign-key",
                      "foreign key (%s) has no match in an earlier row of this table", names);
    }
}

static int record_self_refs(schema_state *s)
{
    const ts_schema *ts = s->ts;
    for (size_t i = 0; i < ts->nfkeys; i++) {
        const ts_fkey *fk = &ts->fkeys[i];
        if (fk->resource[0])
            continue;
        ts_key ref = {0, NULL};
        size_t idx[32];
        for (size_t k = 0; k < fk->ref_fields.n && k < 32; k++) {
            long f = ts_schema_field(ts, fk->ref_fields.v[k]);
            if (f < 0)
                return 0;
            idx[ref.n++] = (size_t)f;
        }
        ref.fields = idx;
        uint64_t h[2];
        if (key_hash(s, &ref, h) && sch_hset_add(&s->fkeys[i], h) < 0)
            return -1;
    }
    return 0;
}

/* The canonical values of the fields into the row just appended to out. */
static int write_canonical(schema_state *s, const plan *p, mk_batch *out, size_t o)
{
    for (size_t i = 0; i < s->ts->nfields; i++) {
        const ts_cell *c = &s->cells[i];
        if (p->col[i] < 0)
            continue;
        mk_value *dst = &MK_CELL(out, o, p->col[i]);
        if (c->missing) {
            dst->ptr = NULL, dst->len = 0;
        } else if (c->canon != dst->ptr) {
            if (s->host->batch_set(out, o, (size_t)p->col[i], c->canon, c->canon_len) != MK_OK)
                return MK_NOMEM;
        }
    }
    return MK_OK;
}

static int pass_row(schema_state *s, const plan *p, const mk_batch *in, size_t r, mk_batch *out)
{
    const mk_host *h = s->host;
    if (!s->canonical)
        return h->row_pass(s->ctx, in, r, out);
    size_t o;
    int rc = MK_HOST_HAS(h, row_append) ? h->row_append(s->ctx, in, r, out, &o)
                                        : ((o = h->row_emit(s->ctx, in, r, out)) == (size_t)-1
                                               ? MK_NOMEM
                                               : MK_OK);
    if (rc != MK_OK)
        return rc;
    const mk_value *src = &MK_CELL(in, r, 0);
    for (size_t c = 0; c < in->schema->ncols; c++)
        MK_CELL(out, o, c) = src[c];
    return write_canonical(s, p, out, o);
}

/* The fate of row r, whose cells phase 1 checked into s->cells. */
static int schema_row(schema_state *s, const plan *p, const mk_batch *in, size_t r, mk_batch *out)
{
    s->reason[0] = '\0';
    s->rule = NULL;
    s->reject = 0;
    uint64_t seq = s->seq++;
    report_row(s, p, &MK_CELL(in, r, 0));
    if (s->shard && sch_shard_is_keys(s->shard)) { /* the keys stage: no further */
        int rc = s->reject ? MK_OK : write_keys(s, in, r, seq);
        return rc == MK_OK ? s->host->row_drop(s->ctx, in, r) : rc;
    }
    if (s->shard && sch_shard_row(s->shard, seq) != MK_OK)
        return MK_ERROR;
    /* keys only for rows that are kept so far: "first occurrence" is the
     * first row kept, as a Lua rule or SQL filtering first would see it */
    if (!s->reject) {
        if (check_keys(s, in, r) != 0)
            return MK_NOMEM;
        self_refs(s);
    }
    if (s->shard && sch_shard_row_end(s->shard) != MK_OK)
        return MK_ERROR;
    if (s->reject)
        return s->host->row_reject(s->ctx, in, r, s->rule, s->reason);
    if (s->rule) {
        int rc = s->host->row_warn(s->ctx, in, r, s->rule, s->reason);
        if (rc != MK_OK)
            return rc;
    }
    if (record_self_refs(s) != 0)
        return MK_NOMEM;
    return pass_row(s, p, in, r, out);
}

/* One thread's share of a chunk. */
typedef struct job {
    const schema_state *s;
    const plan *p;
    const mk_batch *in;
    size_t chunk_from, from, to;
    field_stats *stats;
    pcre2_match_data **md;
} job;

static void run_job(const job *j)
{
    size_t nf = j->s->ts->nfields;
    for (size_t r = j->from; r < j->to; r++) {
        size_t k = (r - j->chunk_from) * nf;
        check_row(j->s, j->p, &MK_CELL(j->in, r, 0), &j->s->rcells[k], &j->s->rscratch[k],
                  j->stats, j->md);
    }
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

/* Phase 1 for rows [from, to): split between the threads when the chunk is
 * big enough to pay for them (a thread that cannot start: its share is
 * done here). */
static void check_chunk(schema_state *s, const plan *p, const mk_batch *in, size_t from, size_t to)
{
    size_t n = to - from, nf = s->ts->nfields;
    size_t nt = n >= MIN_PARALLEL_ROWS ? (size_t)s->nthreads : 1;
    job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (size_t t = 0; t < nt; t++) {
        jobs[t] = (job){s, p, in, from, from + n * t / nt, from + n * (t + 1) / nt,
                        t ? &s->wstats[(t - 1) * nf] : s->stats, t ? &s->wmd[(t - 1) * nf] : NULL};
        if (t)
            started[t] = pthread_create(&tid[t], NULL, job_thread, &jobs[t]) == 0;
    }
    run_job(&jobs[0]);
    for (size_t t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            run_job(&jobs[t]);
    }
}

/* The other threads' counts into the main ones (at the end of the run). */
static void merge_stats(schema_state *s)
{
    size_t nf = s->ts->nfields;
    for (int w = 0; w + 1 < s->nthreads && s->wstats; w++) {
        for (size_t i = 0; i < nf; i++) {
            field_stats *d = &s->stats[i], *o = &s->wstats[(size_t)w * nf + i];
            d->checked += o->checked, d->missing += o->missing, d->passed += o->passed;
            for (int c = 0; c < TS_NCHECKS; c++)
                d->failed[c] += o->failed[c];
            for (size_t k = 0; k < o->ndistinct && !d->distinct_over; k++) {
                size_t j = 0;
                while (j < d->ndistinct && d->distinct[j] != o->distinct[k])
                    j++;
                if (j == d->ndistinct && d->ndistinct == MAX_DISTINCT)
                    d->distinct_over = 1;
                else if (j == d->ndistinct)
                    d->distinct[d->ndistinct++] = o->distinct[k];
            }
            d->distinct_over |= o->distinct_over;
            if (o->has_range && (!d->has_range || o->min < d->min))
                d->min = o->min, memcpy(d->min_text, o->min_text, sizeof d->min_text);
            if (o->has_range && (!d->has_range || o->max > d->max))
                d->max = o->max, memcpy(d->max_text, o->max_text, sizeof d->max_text);
            d->has_range |= o->has_range;
            memset(o, 0, sizeof *o);
        }
    }
}

/* How many rows each rule looked at (the share in the quality report). */
static void report_checked(schema_state *s, uint64_t rows)
{
    const mk_host *h = s->host;
    const ts_schema *ts = s->ts;
    int unique = ts->nunique_keys > 0;
    for (size_t i = 0; i < ts->nfields; i++) {
        unique |= ts->fields[i].unique;
        if (ts->fields[i].vn)
            h->rule_checked(s->ctx, vn_rule(ts->fields[i].vn), rows);
    }
    h->rule_checked(s->ctx, "type-error", rows);
    h->rule_checked(s->ctx, "constraint-error", rows);
    if (ts->primary.n)
        h->rule_checked(s->ctx, "primary-key", rows);
    if (unique)
        h->rule_checked(s->ctx, "unique-error", rows);
    if (ts->nfkeys)
        h->rule_checked(s->ctx, "foreign-key", rows);
}

static int schema_process(void *state, const mk_batch *in, mk_batch *out)
{
    schema_state *s = state;
    plan *p = mkk_plans_get(s->plans, in->schema);
    if (!p && !(p = make_plan(s, in->schema)))
        return MK_ERROR;
    out->schema = p->out;
    size_t nf = s->ts->nfields;
    for (size_t from = 0; from < in->nrows; from += s->chunk) {
        size_t to = from + s->chunk < in->nrows ? from + s->chunk : in->nrows;
        check_chunk(s, p, in, from, to);
        for (size_t r = from; r < to; r++) {
            s->cells = &s->rcells[(r - from) * nf];
            int rc = schema_row(s, p, in, r, out);
            if (rc != MK_OK)
                return rc;
        }
    }
    report_checked(s, in->nrows);
    return MK_OK;
}

/* ---- the report ---------------------------------------------------------------- */

static void report_field(schema_state *s, size_t i)
{
    const mk_host *h = s->host;
    const ts_field *f = &s->ts->fields[i];
    const field_stats *st = &s->stats[i];
    char key[512], val[96];
#define FKEY(what) (snprintf(key, sizeof key, "fields.%s.%s", f->name, what), key)
    h->report_set(s->ctx, FKEY("type"), ts_type_name(f->type));
    h->report_add(s->ctx, FKEY("checked"), (int64_t)st->checked);
    h->report_add(s->ctx, FKEY("passed"), (int64_t)st->passed);
    h->report_add(s->ctx, FKEY("missing"), (int64_t)st->missing);
    snprintf(val, sizeof val, "%.4f", st->checked ? (double)st->missing / (double)st->checked : 0);
    h->report_set(s->ctx, FKEY("null_share"), val);
    uint64_t failed = 0;
    for (int c = 0; c < TS_NCHECKS; c++) {
        failed += st->failed[c];
        if (st->failed[c]) {
            char what[64];
            snprintf(what, sizeof what, "failed.%s", ts_check_name((ts_check)c));
            h->report_add(s->ctx, FKEY(what), (int64_t)st->failed[c]);
        }
    }
    h->report_add(s->ctx, FKEY("failed"), (int64_t)failed);
    if (st->distinct_over)
        h->report_set(s->ctx, FKEY("distinct"), "more than 20");
    else
        h->report_add(s->ctx, FKEY("distinct"), (int64_t)st->ndistinct);
    if (st->has_range) {
        h->report_set(s->ctx, FKEY("min"), st->min_text);
        h->report_set(s->ctx, FKEY("max"), st->max_text);
    }
#undef FKEY
}

static int schema_finish(void *state, mk_batch *out)
{
    schema_state *s = state;
    (void)out;
    merge_stats(s);
    if (s->shard && sch_shard_finish(s->shard, s->seq) != MK_OK)
        return MK_ERROR;
    if (s->shard && sch_shard_is_keys(s->shard))
        return MK_OK; /* the keys stage's report: what it wrote */
    size_t bytes = s->shard     ? sch_shard_bytes(s->shard)
                   : s->primary ? mkk_keyset_bytes(s->primary)
                                : 0;
    for (size_t i = 0; i < s->ts->nfields; i++)
        bytes += s->unique[i] ? mkk_keyset_bytes(s->unique[i]) : 0;
    for (size_t i = 0; i < s->ts->nunique_keys; i++)
        bytes += mkk_keyset_bytes(s->ukeys[i]);
    if (s->primary)
        s->host->report_add(s->ctx, "primary_keys", (int64_t)(s->shard ? s->primary_firsts
                                                              : mkk_keyset_count(s->primary)));
    if (bytes)
        s->host->report_add(s->ctx, "key_memory_bytes", (int64_t)bytes);
    if (s->report_fields)
        for (size_t i = 0; i < s->ts->nfields; i++)
            report_field(s, i);
    return MK_OK;
}

static void free_sets(mkk_keyset **sets, size_t n)
{
    for (size_t i = 0; sets && i < n; i++)
        mkk_keyset_free(sets[i]);
    free(sets);
}

static void schema_close(void *state)
{
    schema_state *s = state;
    if (!s)
        return;
    size_t nf = s->ts ? s->ts->nfields : 0;
    free_sets(s->unique, nf);
    free_sets(s->ukeys, s->ts ? s->ts->nunique_keys : 0);
    for (size_t i = 0; s->fkeys && i < s->ts->nfkeys; i++)
        sch_hset_free(&s->fkeys[i]);
    free(s->fkeys);
    mkk_keyset_free(s->primary);
    sch_hset_free(&s->wards);
    sch_hset_free(&s->provinces);
    mkk_plans_free(s->plans);
    ts_schema_free(s->ts);
    free(s->stats);
    free(s->rscratch);
    free(s->rcells);
    free(s->wstats);
    for (size_t i = 0; s->wmd && i < (size_t)(s->nthreads - 1) * nf; i++)
        pcre2_match_data_free(s->wmd[i]);
    free(s->wmd);
    free(s->keycells);
    sch_shard_close(s->shard);
    free(s->fspace);
    free(s);
}

static const mk_transform_ops schema_ops = {schema_open, schema_process, schema_finish,
                                            schema_close};

static const mk_plugin schema_plugin = {
    MK_PLUGIN_HEAD, "schema", PACKAGE_VERSION,
    "check rows against a Frictionless Table Schema (types, formats, constraints, keys)",
    NULL, NULL, options, &schema_ops, NULL, NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &schema_plugin;
}
