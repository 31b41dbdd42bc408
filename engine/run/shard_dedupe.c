/*
 * shard_dedupe.c -- dedupe across shards: which pipelines can, the shard
 * options the dedupe step gets in each stage, and the decide stage (see
 * shard_dedupe.h, docs/SCALE.md; the files: plugins/dedupe/dedupe_shard.h).
 *
 * First occurrence in one run's reading order wins.  One run reads the
 * shards' rows one shard after the other, so that order is (shard, the
 * row's number among the rows reaching dedupe in its shard).  The keys
 * stage writes every key into bucket hash % N with that number; deciding
 * bucket B reads bucket B of shard 0, 1, ... in turn through one key set,
 * so the first occurrence it keeps is the one a single run keeps, and
 * every later one is written to its shard's list with where the first
 * came from.  Trade-off: a key crosses the shared storage twice (32 bytes
 * a row, then 16 a duplicate), and a decide task holds only its bucket's
 * keys -- about 1/N of what one run holds.
 *
 * A schema step whose Table Schema has keys (primaryKey, uniqueKeys, a
 * unique field) decides them through the same stages and files
 * (plugins/schema/sch_shard.c): it is a "keyed step" as a dedupe step is,
 * and a pipeline may have one keyed step.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dedupe_shard.h"
#include "log.h"
#include "pipefile.h"
#include "run.h"
#include "shard.h"
#include "shard_dedupe.h"
#include "util/json.h"
#include "util/textout.h"

#define READ_RECORDS 4096

/* ---- which pipelines ---------------------------------------------------------- */

static const char *opt(const mk_step *s, const char *name)
{
    const mk_optval *ov = mk_step_option(s, name);
    return ov && ov->value ? ov->value : "";
}

/* 1 when a field of the list fields has constraints: { unique: true }. */
static int unique_field(const cfg_node *fields)
{
    for (size_t i = 0; fields && fields->kind == CFG_SEQ && i < fields->count; i++) {
        const cfg_node *f = fields->items[i];
        const cfg_node *c = f->kind == CFG_MAP ? cfg_get(f, "constraints") : NULL;
        const cfg_node *u = c && c->kind == CFG_MAP ? cfg_get(c, "unique") : NULL;
        if (u && u->kind == CFG_SCALAR && strcmp(u->value, "true") == 0)
            return 1;
    }
    return 0;
}

/* 1 when the Table Schema of schema step s has keys that must hold over
 * all rows.  A schema the engine cannot read counts as none: the step
 * then refuses to run in a shard, saying so (plugins/schema/schema.c). */
static int schema_keys(const mk_step *s)
{
    char err[512];
    cfg_node *root = cfg_load(opt(s, "schema"), NULL, err, sizeof err);
    const cfg_node *pk = root && root->kind == CFG_MAP ? cfg_get(root, "primaryKey") : NULL;
    const cfg_node *uk = root && root->kind == CFG_MAP ? cfg_get(root, "uniqueKeys") : NULL;
    int keys = (pk && (pk->kind != CFG_SCALAR || pk->value[0])) || (uk && uk->count) ||
               (root && root->kind == CFG_MAP && unique_field(cfg_get(root, "fields")));
    cfg_free(root);
    return keys;
}

/* A step that decides keys over all rows: dedupe, or schema with keys. */
static int keyed(const mk_step *s)
{
    return strcmp(s->plugin_name, "dedupe") == 0 ||
           (strcmp(s->plugin_name, "schema") == 0 && schema_keys(s));
}

static size_t count_keyed(mk_step *steps, size_t n, mk_step **found)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (keyed(&steps[i]) && c++ == 0)
            *found = &steps[i];
    return c;
}

/* The keyed step of p (NULL: none); *count: how many there are. */
static mk_step *keyed_step(const mk_pipeline *p, size_t *count)
{
    mk_step *found = NULL, *t = NULL;
    *count = 0;
    for (size_t i = 0; i < p->nsources; i++) /* each source's own steps, in order */
        *count += count_keyed(p->sources[i].chain, p->sources[i].chain_len, found ? &t : &found);
    *count += count_keyed(p->transforms, p->ntransforms, &t);
    return found ? found : t;
}

int mk_shard_dedupe_supported(const mk_pipeline *p, char *msg, size_t len)
{
    size_t n;
    const mk_step *s = keyed_step(p, &n);
    if (n > 1) {
        snprintf(msg, len,
                 "the pipeline has %zu steps that decide keys over all rows (dedupe steps, "
                 "schema steps whose schema has primaryKey, uniqueKeys or a unique field); "
                 "across shards only one is supported: run this pipeline as one run, or keep one "
                 "such step",
                 n);
        return 0;
    }
    if (s && strcmp(s->plugin_name, "dedupe") == 0 && strcmp(opt(s, "keep"), "last") == 0) {
        snprintf(msg, len,
                 "dedupe step %s has keep: last, which cannot run across shards (a row "
                 "is rejected when a later occurrence arrives, possibly in another shard): use "
                 "keep: first (sort the input newest first), or run this pipeline as one run",
                 s->name);
        return 0;
    }
    return 1;
}

/* ---- the shard options ------------------------------------------------------- */

static int set_option(mk_step *s, const char *name, char *value)
{
    for (size_t i = 0; value && i < s->opts.count; i++) {
        mk_optval *ov = &s->opts.v[i];
        if (strcmp(ov->decl->name, name) == 0) {
            free(ov->value);
            ov->value = value;
            ov->set = 1;
            return 0;
        }
    }
    mk_log(MK_LOG_ERROR,
           "%s step %s has no option %s: this mekong's %s plugin is older than the engine",
           s->plugin_name, s->name, name, s->plugin_name);
    free(value);
    return -1;
}

static char *number(long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    return strdup(b);
}

/* DIR/<plan>[/name] (malloc'd). */
static char *plan_path(const char *dir, const char *plan, const char *name)
{
    char *a = mk_path_join(dir, plan), *b = a && name ? mk_path_join(a, name) : a;
    if (b != a)
        free(a);
    return b;
}

/* path with "keys/" before its last part: shard-I/x -> shard-I/keys/x. */
static int into_keys(char **path)
{
    if (!*path)
        return 0;
    char *dir = mk_dir_of(*path), *sub = dir ? mk_path_join(dir, "keys") : NULL;
    const char *base = strrchr(*path, '/');
    char *moved = sub ? mk_path_join(sub, base ? base + 1 : *path) : NULL;
    free(dir);
    free(sub);
    if (!moved)
        return -1;
    free(*path);
    *path = moved;
    return 0;
}

static int prepare_keys(mk_pipeline *p, mk_step *s, const char *dir, const char *plan, int k, int n,
                        char **report)
{
    int moved = 0;
    for (size_t i = 0; i < p->nsinks; i++)
        for (size_t j = 0; j < p->sinks[i].opts.count; j++)
            if (strcmp(p->sinks[i].opts.v[j].decl->name, "path") == 0)
                moved |= into_keys(&p->sinks[i].opts.v[j].value);
    moved |= into_keys(&p->rejects_path) | into_keys(&p->report_path) | into_keys(&p->state_dir);
    free(*report);
    *report = moved ? NULL : strdup(p->report_path);
    if (!*report) {
        mk_log(MK_LOG_ERROR, "out of memory preparing the keys stage of shard %d", k);
        return MK_EXIT_FAILED;
    }
    char sub[64];
    snprintf(sub, sizeof sub, "shard-%d/keys", k);
    if (set_option(s, "shard_keys", plan_path(dir, plan, sub)) ||
        set_option(s, "shard_index", number(k)) || set_option(s, "shard_buckets", number(n)))
        return MK_EXIT_FAILED;
    mk_log(MK_LOG_INFO, "%s: keys stage of shard %d: the keys of %s step %s into %d buckets",
           p->name, k, s->plugin_name, s->name, n);
    return MK_EXIT_OK;
}

/* The buckets not decided yet, named in msg; their number. */
static int undecided(const char *dir, const char *plan, int n, char *msg, size_t len)
{
    int missing = 0;
    size_t used = 0;
    msg[0] = '\0';
    for (int b = 0; b < n; b++) {
        char name[64];
        snprintf(name, sizeof name, "bucket-%d/duplicates", b);
        char *path = plan_path(dir, plan, name);
        struct stat st;
        if (!path || stat(path, &st) != 0) {
            if (missing < 10)
                used += (size_t)snprintf(msg + used, used < len ? len - used : 0, "%s%d",
                                         missing ? ", " : "", b);
            missing++;
        }
        free(path);
    }
    if (missing > 10 && used < len)
        snprintf(msg + used, len - used, " and %d more", missing - 10);
    return missing;
}

int mk_shard_dedupe_prepare(mk_pipeline *p, const char *dir, const char *plan, int k, int n,
                            const char *stage, char **report)
{
    size_t count;
    mk_step *s = keyed_step(p, &count);
    if (stage && strcmp(stage, "keys") != 0) {
        mk_log(MK_LOG_ERROR, "--stage is keys or decide, not '%s'", stage);
        return MK_EXIT_USAGE;
    }
    if (stage && !s) {
        mk_log(MK_LOG_ERROR,
               "%s has no dedupe step (nor a schema step with keys): --stage keys and "
               "decide are for keys decided across shards; run the shards without --stage",
               p->path);
        return MK_EXIT_USAGE;
    }
    if (!s)
        return MK_EXIT_OK;
    if (stage)
        return prepare_keys(p, s, dir, plan, k, n, report);
    char msg[512];
    int missing = undecided(dir, plan, n, msg, sizeof msg);
    if (missing) {
        mk_log(MK_LOG_ERROR,
               "%s: shard %d refused: %s step %s needs the decide stage of "
               "every bucket first, and %d of %d bucket(s) are not decided (%s): run 'mekong run "
               "%s --stage decide --shard B --dir %s' for them, after every shard's keys stage",
               p->name, k, s->plugin_name, s->name, missing, n, msg, p->path, dir);
        return MK_EXIT_FAILED;
    }
    return set_option(s, "shard_duplicates", plan_path(dir, plan, NULL)) ||
                   set_option(s, "shard_index", number(k)) ||
                   set_option(s, "shard_buckets", number(n))
               ? MK_EXIT_FAILED
               : MK_EXIT_OK;
}

/* ---- the decide stage: is every keys stage done? ------------------------------- */

/* 1 when the report at path says "status": "ok". */
static int report_ok(const char *path)
{
    size_t n = 0;
    char *text = mk_shard_read_file(path, &n);
    char *status = text ? mk_shard_member_str(text, text + n, "status") : NULL;
    int ok = status && strcmp(status, "ok") == 0;
    free(status);
    free(text);
    return ok;
}

/* The shards whose keys stage has not finished, named in msg; their number. */
static int keys_unfinished(const char *dir, const char *plan, int n, char *msg, size_t len)
{
    int missing = 0;
    size_t used = 0;
    msg[0] = '\0';
    for (int j = 0; j < n; j++) {
        char name[96];
        snprintf(name, sizeof name, "shard-%d/keys/report.json", j);
        char *report = plan_path(dir, plan, name);
        snprintf(name, sizeof name, "shard-%d/keys/run/publish.journal", j);
        char *journal = plan_path(dir, plan, name);
        struct stat st;
        const char *why = !report || !journal       ? "out of memory"
                          : stat(journal, &st) == 0 ? "died while publishing"
                          : stat(report, &st) != 0  ? "not run, or still running"
                          : !report_ok(report)      ? "failed"
                                                    : NULL;
        if (why && missing < 10)
            used += (size_t)snprintf(msg + used, used < len ? len - used : 0, "%sshard %d (%s)",
                                     missing ? ", " : "", j, why);
        missing += why != NULL;
        free(report);
        free(journal);
    }
    if (missing > 10 && used < len)
        snprintf(msg + used, len - used, " and %d more", missing - 10);
    return missing;
}

/* ---- the decide stage: the origins of all shards as one table ------------------ */

typedef struct origin_table {
    char **source, **file; /* file NULL: none */
    size_t n, cap;
    uint32_t **map; /* per shard: its table's index -> this table's */
    size_t *nmap;   /* per shard: its table's size */
    uint64_t *rows; /* per shard: rows that reached dedupe */
} origin_table;

static char *read_text(FILE *f, int *none)
{
    unsigned char len[4];
    if (fread(len, 1, 4, f) != 4)
        return NULL;
    uint32_t n = ds_get32(len);
    *none = n == DS_NO_TEXT;
    char *s = *none ? strdup("") : n < (1u << 20) ? malloc((size_t)n + 1) : NULL;
    if (s && !*none && fread(s, 1, n, f) != n) {
        free(s);
        return NULL;
    }
    if (s && !*none)
        s[n] = '\0';
    return s;
}

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The index of (source, file) in t, added when new (DS_ORIGIN_UNKNOWN when full). */
static uint32_t global_origin(origin_table *t, char *source, char *file)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->source[i], source) == 0 && same_text(t->file[i], file)) {
            free(source);
            free(file);
            return (uint32_t)i;
        }
    if (t->n >= DS_ORIGIN_UNKNOWN || (t->n == t->cap && !(t->cap = t->cap * 2 + 16))) {
        free(source);
        free(file);
        return DS_ORIGIN_UNKNOWN;
    }
    char **s = realloc(t->source, t->cap * sizeof(char *));
    char **f = s ? realloc(t->file, t->cap * sizeof(char *)) : NULL;
    if (s)
        t->source = s;
    if (f)
        t->file = f;
    if (!s || !f) {
        free(source);
        free(file);
        return DS_ORIGIN_UNKNOWN;
    }
    t->source[t->n] = source;
    t->file[t->n] = file;
    return (uint32_t)t->n++;
}

/* Shard j's origins file into t. */
static int read_origins(origin_table *t, const char *path, int j, int n, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[32], end[8];
    int ok = f && fread(head, 1, 32, f) == 32 && memcmp(head, DS_ORIGINS_MAGIC, 8) == 0 &&
             ds_get32(head + 8) == (uint32_t)j && ds_get32(head + 12) == (uint32_t)n &&
             ds_get64(head + 24) <= DS_ORIGIN_UNKNOWN;
    size_t count = ok ? (size_t)ds_get64(head + 24) : 0;
    t->rows[j] = ok ? ds_get64(head + 16) : 0;
    t->map[j] = calloc(count ? count : 1, sizeof(uint32_t));
    t->nmap[j] = count;
    for (size_t i = 0; ok && t->map[j] && i < count; i++) {
        int none_s, none_f;
        char *source = read_text(f, &none_s), *file = source ? read_text(f, &none_f) : NULL;
        if (!file) {
            free(source);
            ok = 0;
            break;
        }
        if (none_f) {
            free(file);
            file = NULL;
        }
        t->map[j][i] = global_origin(t, source, file);
    }
    ok = ok && t->map[j] && fread(end, 1, 8, f) == 8 && memcmp(end, DS_ORIGINS_END, 8) == 0;
    if (!ok)
        snprintf(err, len, "%s: %s", path,
                 !f ? strerror(errno)
                    : "not an origins file of this "
                      "plan's keys stage, or cut short: run that shard's keys stage again");
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

static void origins_free(origin_table *t, int n)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->source[i]);
        free(t->file[i]);
    }
    for (int j = 0; t->map && j < n; j++)
        free(t->map[j]);
    free(t->source);
    free(t->file);
    free(t->map);
    free(t->nmap);
    free(t->rows);
}

/* ---- the decide stage: one bucket ---------------------------------------------- */

typedef struct decide {
    int bucket, n;
    mk_outfile *out;
    uint64_t pos; /* bytes written to out */
    mkk_keyset *seen;
    size_t limit; /* memory_mb */
    origin_table t;
    uint64_t *offset, *count; /* per shard: its list in out */
    uint64_t keys, duplicates;
} decide;

static void put(decide *d, const void *p, size_t n)
{
    mk_outfile_write(d->out, p, n);
    d->pos += n;
}

static void put64(decide *d, uint64_t v)
{
    unsigned char b[8];
    ds_put64(b, v);
    put(d, b, 8);
}

/* The block of records rec[0, m) of shard j through the key set. */
static int decide_block(decide *d, int j, const unsigned char *rec, size_t m, char *err, size_t len)
{
    uint64_t h[READ_RECORDS][2];
    for (size_t i = 0; i < m; i++) {
        h[i][0] = ds_get64(rec + i * DS_KEY_RECORD);
        h[i][1] = ds_get64(rec + i * DS_KEY_RECORD + 8);
        mkk_keyset_prefetch(d->seen, h[i]);
    }
    for (size_t i = 0; i < m; i++) {
        uint64_t seq = ds_get64(rec + i * DS_KEY_RECORD + 16);
        uint64_t payload = ds_get64(rec + i * DS_KEY_RECORD + 24), first;
        size_t o = (size_t)(payload >> DS_ORIGIN_SHIFT);
        uint64_t g = o < d->t.nmap[j] ? d->t.map[j][o] : DS_ORIGIN_UNKNOWN;
        if (seq >= d->t.rows[j]) {
            snprintf(err, len,
                     "shard %d's bucket %d names row %" PRIu64 " of %" PRIu64 ": its "
                     "keys files are not of one attempt; run its keys stage again",
                     j, d->bucket, seq, d->t.rows[j]);
            return -1;
        }
        int seen = mkk_keyset_insert(d->seen, h[i],
                                     g << DS_ORIGIN_SHIFT | (payload & ((1ull << 49) - 1)), &first);
        if (seen < 0) {
            snprintf(err, len, "out of memory holding %zu keys", mkk_keyset_count(d->seen));
            return -1;
        }
        if (seen) {
            put64(d, seq);
            put64(d, first);
            d->count[j]++;
        }
    }
    if (mkk_keyset_bytes(d->seen) > d->limit) {
        snprintf(err, len,
                 "bucket %d holds more than memory_mb (%zu MB) of keys (%zu keys): "
                 "raise memory_mb, or plan more shards (a bucket holds about 1/N of the keys)",
                 d->bucket, d->limit >> 20, mkk_keyset_count(d->seen));
        return -1;
    }
    return 0;
}

/* Shard j's file of this bucket: header, records, trailer. */
static int decide_shard(decide *d, const char *path, int j, unsigned char *buf, char *err,
                        size_t len)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[DS_KEYS_HEADER], want[DS_KEYS_HEADER], tail[16];
    ds_keys_header(want, (uint32_t)j, (uint32_t)d->bucket, (uint32_t)d->n);
    struct stat st;
    int ok = f && fstat(fileno(f), &st) == 0 && st.st_size >= DS_KEYS_HEADER + 16 &&
             (st.st_size - DS_KEYS_HEADER - 16) % DS_KEY_RECORD == 0 &&
             fread(head, 1, sizeof head, f) == sizeof head;
    if (ok && memcmp(head, want, 24) == 0 && memcmp(head + 24, want + 24, 16) != 0) {
        snprintf(err, len,
                 "%s was written by a mekong whose key hashes differ from this one's "
                 "(another version or byte order): run every stage with one mekong",
                 path);
        fclose(f);
        return -1;
    }
    ok = ok && memcmp(head, want, sizeof head) == 0;
    uint64_t left = ok ? (uint64_t)(st.st_size - DS_KEYS_HEADER - 16) / DS_KEY_RECORD : 0;
    uint64_t total = left;
    d->offset[j] = d->pos;
    while (ok && left) {
        size_t m = left < READ_RECORDS ? (size_t)left : READ_RECORDS;
        if (fread(buf, DS_KEY_RECORD, m, f) != m)
            ok = 0;
        else if (decide_block(d, j, buf, m, err, len) != 0) {
            fclose(f);
            return -1;
        }
        left -= m;
    }
    ok = ok && fread(tail, 1, 16, f) == 16 && memcmp(tail, DS_KEYS_END, 8) == 0 &&
         ds_get64(tail + 8) == total;
    d->keys += total;
    if (!ok)
        snprintf(err, len, "%s: %s", path,
                 !f ? strerror(errno)
                    : "not a keys file of this "
                      "plan's bucket, or cut short: run that shard's keys stage again");
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

static void put_text(decide *d, const char *s)
{
    unsigned char len[4];
    ds_put32(len, s ? (uint32_t)strlen(s) : DS_NO_TEXT);
    put(d, len, 4);
    if (s)
        put(d, s, strlen(s));
}

static void put_footer(decide *d)
{
    uint64_t at = d->pos;
    for (int j = 0; j < d->n; j++) {
        put64(d, d->offset[j]);
        put64(d, d->count[j]);
        put64(d, d->t.rows[j]);
    }
    put64(d, d->t.n);
    for (size_t i = 0; i < d->t.n; i++) {
        put_text(d, d->t.source[i]);
        put_text(d, d->t.file[i]);
    }
    put64(d, at);
    put(d, DS_DUPS_END, DS_MAGIC_LEN);
}

/* Read every shard's origins, then bucket b of every shard in shard
 * order; write the duplicates file.  0, or -1 with err set. */
static int decide_run(decide *d, const char *dir, const char *plan, char *err, size_t len)
{
    for (int j = 0; j < d->n; j++) {
        char name[96];
        snprintf(name, sizeof name, "shard-%d/keys/origins.keys", j);
        char *path = plan_path(dir, plan, name);
        int rc = path ? read_origins(&d->t, path, j, d->n, err, len) : -1;
        free(path);
        if (rc)
            return -1;
    }
    unsigned char head[16], *buf = malloc((size_t)READ_RECORDS * DS_KEY_RECORD);
    memcpy(head, DS_DUPS_MAGIC, DS_MAGIC_LEN);
    ds_put32(head + 8, (uint32_t)d->bucket);
    ds_put32(head + 12, (uint32_t)d->n);
    put(d, head, sizeof head);
    int rc = buf ? 0 : -1;
    for (int j = 0; rc == 0 && j < d->n; j++) {
        char name[96];
        snprintf(name, sizeof name, "shard-%d/keys/bucket-%d.keys", j, d->bucket);
        char *path = plan_path(dir, plan, name);
        rc = path ? decide_shard(d, path, j, buf, err, len) : -1;
        free(path);
    }
    free(buf);
    if (rc == 0)
        put_footer(d);
    if (rc == 0 && d->out->err)
        snprintf(err, len, "cannot write %s: %s", d->out->final_path, strerror(d->out->err));
    return rc == 0 && !d->out->err ? 0 : -1;
}

static int decide_bucket(const mk_pipeline *p, const mk_step *s, const char *dir, const char *plan,
                         int b, int n)
{
    char err[2048] = "out of memory", name[64];
    decide d = {.bucket = b, .n = n};
    long long mb = strtoll(opt(s, "memory_mb"), NULL, 10);
    d.limit = (size_t)(mb > 0 ? mb : 8192) << 20;
    d.seen = mkk_keyset_new();
    d.offset = calloc((size_t)n, sizeof(uint64_t));
    d.count = calloc((size_t)n, sizeof(uint64_t));
    d.t.map = calloc((size_t)n, sizeof(uint32_t *));
    d.t.nmap = calloc((size_t)n, sizeof(size_t));
    d.t.rows = calloc((size_t)n, sizeof(uint64_t));
    snprintf(name, sizeof name, "bucket-%d/duplicates", b);
    char *path = plan_path(dir, plan, name);
    if (path && d.seen && d.offset && d.count && d.t.map && d.t.nmap && d.t.rows)
        d.out = mk_outfile_open(path, err, sizeof err);
    int rc = MK_EXIT_FAILED;
    if (d.out && decide_run(&d, dir, plan, err, sizeof err) != 0)
        mk_outfile_abort(d.out);
    else if (d.out && mk_outfile_commit(d.out, err, sizeof err) == 0) /* frees d.out */
        rc = MK_EXIT_OK;
    if (rc == MK_EXIT_OK)
        mk_log(MK_LOG_INFO,
               "%s: bucket %d of %d decided: %" PRIu64 " keys from %d shards, %zu "
               "distinct, %" PRIu64 " duplicates (%zu bytes of keys held)",
               p->name, b, n, d.keys, n, mkk_keyset_count(d.seen),
               d.keys - mkk_keyset_count(d.seen), mkk_keyset_bytes(d.seen));
    else
        mk_log(MK_LOG_ERROR, "%s: bucket %d not decided: %s; nothing was published", p->name, b,
               err);
    origins_free(&d.t, n);
    mkk_keyset_free(d.seen);
    free(d.offset);
    free(d.count);
    free(path);
    return rc;
}

int mk_shard_decide(mk_pipeline *p, const char *dir, const char *which)
{
    char msg[2048];
    size_t count;
    const mk_step *s = keyed_step(p, &count);
    if (!mk_shard_supported(p, msg, sizeof msg)) {
        mk_log(MK_LOG_ERROR, "%s: cannot run as shards: %s", p->path, msg);
        return MK_EXIT_USAGE;
    }
    if (!s) {
        mk_log(MK_LOG_ERROR,
               "%s has no dedupe step (nor a schema step with keys): --stage decide is for "
               "keys decided across shards; run the shards without --stage",
               p->path);
        return MK_EXIT_USAGE;
    }
    int b, n, how = mk_shard_index(which, &b);
    if (how == -1)
        mk_log(MK_LOG_ERROR, "--shard wants a bucket number (0, 1, ...) or auto, not '%s'", which);
    char *plan = NULL;
    if (how || mk_shard_plan_info(dir, p, &plan, &n) != 0)
        return MK_EXIT_USAGE;
    int rc = MK_EXIT_USAGE;
    if (b >= n) {
        mk_log(MK_LOG_ERROR,
               "bucket %d does not exist: the plan has %d shards, so buckets 0 to "
               "%d",
               b, n, n - 1);
    } else if (keys_unfinished(dir, plan, n, msg, sizeof msg)) {
        mk_log(MK_LOG_ERROR,
               "%s: bucket %d refused: not every shard's keys stage finished: %s; "
               "run 'mekong run %s --stage keys --shard I --dir %s' for them first; nothing was "
               "published",
               p->name, b, msg, p->path, dir);
        rc = MK_EXIT_FAILED;
    } else {
        rc = decide_bucket(p, s, dir, plan, b, n);
    }
    free(plan);
    return rc;
}

/* ---- mekong plan: the stages ------------------------------------------------------ */

/* A word of a command line, quoted for sh when it needs it. */
static void quoted(char *buf, size_t len, const char *w)
{
    if (!w[strcspn(w, " \t'\"$`\\*?[]()<>|&;~#")] && *w) {
        snprintf(buf, len, "%s", w);
        return;
    }
    size_t used = 0;
    buf[used++] = '\'';
    for (const char *c = w; *c && used + 5 < len; c++) {
        if (*c == '\'')
            used += (size_t)snprintf(buf + used, len - used, "'\\''");
        else
            buf[used++] = *c;
    }
    buf[used++] = '\'';
    buf[used] = '\0';
}

/* Stage i of the plan for p: its name, tasks and command (in buf). */
static const char *stage_of(const mk_pipeline *p, int i, int n, const char *dir, char *buf,
                            size_t len, int *tasks)
{
    static const char *const names[] = {"keys", "decide", "shards", "merge"};
    static const char *const forms[] = {"mekong run %s --stage keys --shard I --dir %s",
                                        "mekong run %s --stage decide --shard I --dir %s",
                                        "mekong run %s --shard I --dir %s",
                                        "mekong merge %s --dir %s"};
    char pq[1024], dq[1024];
    quoted(pq, sizeof pq, p->path);
    quoted(dq, sizeof dq, dir);
    snprintf(buf, len, forms[i], pq, dq);
    *tasks = i == 3 ? 1 : n;
    return names[i];
}

void mk_shard_stages_json(mk_outfile *f, const mk_pipeline *p, int n, const char *dir)
{
    size_t count;
    int first = keyed_step(p, &count) ? 0 : 2, tasks;
    mk_outfile_puts(f, ",\n  \"stages\": [");
    for (int i = first; i < 4; i++) {
        char cmd[2200], num[32];
        const char *name = stage_of(p, i, n, dir, cmd, sizeof cmd, &tasks);
        snprintf(num, sizeof num, "%d", tasks);
        mk_outfile_puts(f, i > first ? ",\n    {\"stage\": " : "\n    {\"stage\": ");
        mk_json_write_string(f, name, strlen(name), MK_JSON_REPLACE, NULL);
        mk_outfile_puts(f, ", \"tasks\": ");
        mk_outfile_puts(f, num);
        mk_outfile_puts(f, ", \"command\": ");
        mk_json_write_string(f, cmd, strlen(cmd), MK_JSON_REPLACE, NULL);
        mk_outfile_puts(f, "}");
    }
    mk_outfile_puts(f, "\n  ]");
}

void mk_shard_stages_log(const mk_pipeline *p, int n, const char *dir)
{
    size_t count;
    int first = keyed_step(p, &count) ? 0 : 2, tasks;
    for (int i = first; i < 4; i++) {
        char cmd[2200];
        const char *name = stage_of(p, i, n, dir, cmd, sizeof cmd, &tasks);
        char each[64] = "";
        if (tasks > 1)
            snprintf(each, sizeof each, ", I = 0 .. %d", n - 1);
        mk_log(MK_LOG_INFO, "%s: stage %d of %d, %s: %s (%d task%s%s%s)", p->name, i - first + 1,
               4 - first, name, cmd, tasks, tasks > 1 ? "s" : "", each,
               i > first ? ", once the stage before finished" : "");
    }
}
