/*
 * shard.c -- running one shard of a plan, and the merge (see shard.h and
 * docs/SCALE.md).
 *
 * A shard is the pipeline itself with a few values changed in memory: each
 * csv source reads its part (shard_files, or shard_range with shard_line
 * and shard_record), every sink, the rejects and the report write into
 * the shard's folder, the run folder (locks, journal) is the shard's own,
 * and thresholds wait for the merge.  The merge joins the parts in plan
 * order (a CSV part's header only from the first), sums the reports and
 * publishes outputs, rejects and report through one publish set.  A
 * datapackage sink is opened once more in the merge, with the joined data
 * files (merge_datapackage): the plugin writes one run's package.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"
#include "shard.h"
#include "shard_dedupe.h"
#include "util/json.h"
#include "util/textout.h"

char *mk_shard_plan_path(const char *dir)
{
    return mk_path_join(dir, "plan.json");
}

/* ---- reading JSON files ---------------------------------------------------- */

char *mk_shard_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* The value of member key of the object at [p, end), or NULL. */
static const char *member(const char *p, const char *end, const char *key, const char **vend)
{
    const char *k, *v, *ve;
    p = mk_json_ws(p, end);
    size_t klen = strlen(key);
    while (p && mk_json_object_next(&p, end, &k, &v, &ve) == 1) {
        if ((size_t)(end - k) > klen + 1 && k[klen + 1] == '"' && memcmp(k + 1, key, klen) == 0) {
            *vend = ve;
            return v;
        }
    }
    return NULL;
}

static uint64_t member_num(const char *p, const char *end, const char *key)
{
    const char *ve, *v = member(p, end, key, &ve);
    return v ? strtoull(v, NULL, 10) : 0;
}

static char *member_str(const char *p, const char *end, const char *key)
{
    const char *ve, *v = member(p, end, key, &ve);
    return v && *v == '"' ? mk_json_string_decode(v, ve) : NULL;
}

const char *mk_shard_member(const char *p, const char *end, const char *key, const char **vend)
{
    return member(p, end, key, vend);
}

uint64_t mk_shard_member_num(const char *p, const char *end, const char *key)
{
    return member_num(p, end, key);
}

char *mk_shard_member_str(const char *p, const char *end, const char *key)
{
    return member_str(p, end, key);
}

/* The n-th element of the array at [p, end). */
static const char *element(const char *p, const char *end, size_t n, const char **vend)
{
    const char *v, *ve;
    p = mk_json_ws(p, end);
    if (!p || *p != '[')
        return NULL;
    for (size_t i = 0; mk_json_array_next(&p, end, &v, &ve) == 1; i++)
        if (i == n) {
            *vend = ve;
            return v;
        }
    return NULL;
}

typedef struct shard_plan {
    char *text;
    size_t len;
    char *id, *pipeline, *mode, *file;
    int shards;
    uint64_t size;
    const char *parts, *parts_end;
    const char *sources, *sources_end; /* mode "sources": each source's own plan */
} shard_plan;

static void plan_free(shard_plan *pl)
{
    free(pl->text);
    free(pl->id);
    free(pl->pipeline);
    free(pl->mode);
    free(pl->file);
}

static int plan_read(const char *dir, const mk_pipeline *p, shard_plan *pl)
{
    memset(pl, 0, sizeof(*pl));
    char *path = mk_shard_plan_path(dir);
    pl->text = path ? mk_shard_read_file(path, &pl->len) : NULL;
    if (!pl->text) {
        mk_log(MK_LOG_ERROR, "%s: no shard plan (%s): run 'mekong plan %s --shards N --dir %s' "
               "first", p->name, path ? path : dir, p->path, dir);
        free(path);
        return -1;
    }
    const char *end = pl->text + pl->len;
    pl->id = member_str(pl->text, end, "plan");
    pl->pipeline = member_str(pl->text, end, "pipeline");
    pl->mode = member_str(pl->text, end, "mode");
    pl->file = member_str(pl->text, end, "file");
    pl->shards = (int)member_num(pl->text, end, "shards");
    pl->size = member_num(pl->text, end, "size");
    pl->parts = member(pl->text, end, "parts", &pl->parts_end);
    pl->sources = member(pl->text, end, "sources", &pl->sources_end);
    int ok = pl->id && pl->pipeline && pl->mode && (pl->parts || pl->sources) &&
             pl->shards > 0 && !strchr(pl->id, '/');
    if (!ok)
        mk_log(MK_LOG_ERROR, "%s: not a shard plan of mekong; make it again with mekong plan", path);
    else if (strcmp(pl->pipeline, p->name) != 0)
        mk_log(MK_LOG_ERROR, "%s: the plan is for pipeline %s, not %s; a folder holds one "
               "pipeline's plan", path, pl->pipeline, p->name);
    free(path);
    return ok && strcmp(pl->pipeline, p->name) == 0 ? 0 : -1;
}

/* DIR/<plan id>/shard-<k>[/name] (malloc'd). */
static char *shard_path(const char *dir, const shard_plan *pl, int k, const char *name)
{
    char sub[64];
    snprintf(sub, sizeof sub, "shard-%d", k);
    char *a = mk_path_join(dir, pl->id), *b = a ? mk_path_join(a, sub) : NULL;
    char *c = b && name ? mk_path_join(b, name) : NULL;
    free(a);
    if (name)
        free(b);
    return name ? c : b;
}

/* The name of output i of the shard ("<i>-<base name>", "rejects-<base>"). */
static char *part_name(const char *prefix, const char *final)
{
    const char *base = strrchr(final, '/');
    base = base ? base + 1 : final;
    size_t n = strlen(prefix) + strlen(base) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s-%s", prefix, base);
    return s;
}

/* ---- one shard --------------------------------------------------------------- */

static int is_datapackage(const mk_step *s)
{
    return strcmp(s->plugin_name, "datapackage") == 0;
}

static mk_optval *optval(mk_step *s, const char *name)
{
    for (size_t i = 0; i < s->opts.count; i++)
        if (strcmp(s->opts.v[i].decl->name, name) == 0)
            return &s->opts.v[i];
    return NULL;
}

static int set_scalar(mk_step *s, const char *name, const char *value)
{
    mk_optval *ov = optval(s, name);
    char *copy = strdup(value);
    if (!ov || !copy) {
        free(copy);
        mk_log(MK_LOG_ERROR, "%s %s (plugin %s) has no option %s: this mekong's csv plugin is "
               "older than the engine", mk_role_name(s->role), s->name, s->plugin_name, name);
        return -1;
    }
    free(ov->value);
    ov->value = copy;
    ov->set = 1;
    return 0;
}

static int set_files(mk_step *s, const char *dir, const char *files, const char *end)
{
    mk_optval *ov = optval(s, "shard_files");
    if (!ov)
        return set_scalar(s, "shard_files", "");
    const char *v, *ve, *p = mk_json_ws(files, end);
    size_t n = 0;
    if (!p || *p != '[')
        return -1;
    while (mk_json_array_next(&p, end, &v, &ve) == 1) {
        char **grown = realloc(ov->values, (n + 1) * sizeof(char *));
        if (!grown)
            return -1;
        ov->values = grown;
        char *name = mk_json_string_decode(v, ve);
        ov->values[n] = name ? mk_path_join(dir, name) : NULL; /* as the glob names it */
        free(name);
        if (!ov->values[n])
            return -1;
        ov->count = ++n;
    }
    if (!n) { /* an empty shard: "-", the first file's header only */
        ov->values = malloc(sizeof(char *));
        if (!ov->values || !(ov->values[0] = strdup("-")))
            return -1;
        ov->count = 1;
    }
    ov->set = 1;
    return 0;
}

/* Source src reads its part of the plan pl (the whole plan, or with
 * several sources that source's own). */
static int point_one(mk_pipeline *p, mk_step *src, const shard_plan *pl, int k)
{
    const char *pe, *part = pl->parts ? element(pl->parts, pl->parts_end, (size_t)k, &pe) : NULL;
    if (!part || !mk_shard_inc_matches(p, pl->text, pl->len))
        return -1;
    if (strcmp(pl->mode, "keys") == 0) { /* a table's key range (shard_pg.c) */
        if (!mk_shard_pg_inc_matches(p, pl->text, pl->len))
            return -1;
        char *from = member_str(part, pe, "from"), *to = member_str(part, pe, "to");
        int rc = mk_shard_pg_point_source(src, from, to, member_num(part, pe, "record"),
                                          member_num(part, pe, "rows"));
        if (rc == 0 && mk_shard_pg_incremental(p)) /* the plan's mark and this part's tuples */
            rc = mk_shard_pg_inc_point(src, pl->text, pl->len, part, pe);
        free(from);
        free(to);
        return rc;
    }
    int inc = mk_shard_incremental(src);
    if (strcmp(pl->mode, "files") == 0) {
        const char *fe, *files = member(part, pe, "files", &fe);
        return !files || set_files(src, p->dir, files, fe) != 0 ||
                       (inc && mk_shard_inc_point(p, pl->text, pl->len, part, pe, k) != 0)
                   ? -1
                   : 0;
    }
    struct stat st;
    char *file = pl->file ? mk_path_join(p->dir, pl->file) : NULL;
    int same = file && stat(file, &st) == 0 && (uint64_t)st.st_size == pl->size;
    free(file);
    if (!same) {
        mk_log(MK_LOG_ERROR, "%s changed since the shard plan was made (%" PRIu64 " bytes then): "
               "make the plan again", pl->file ? pl->file : "the planned file", pl->size);
        return -1;
    }
    char range[64], line[32], record[32];
    snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, member_num(part, pe, "start"),
             member_num(part, pe, "end"));
    snprintf(line, sizeof line, "%" PRIu64, member_num(part, pe, "line"));
    snprintf(record, sizeof record, "%" PRIu64, member_num(part, pe, "record"));
    return set_scalar(src, "shard_range", range) || set_scalar(src, "shard_line", line) ||
                   set_scalar(src, "shard_record", record) ||
                   (inc && mk_shard_inc_point(p, pl->text, pl->len, part, pe, k) != 0)
               ? -1
               : 0;
}

/* Every source reads its part of the plan; with several sources the plan
 * has one of its own for each, in the pipeline's order (plan_sources in
 * shard_plan.c). */
static int point_source(mk_pipeline *p, const shard_plan *pl, int k)
{
    const char *se;
    int several = strcmp(pl->mode, "sources") == 0;
    size_t planned = several ? 0 : 1;
    while (several && pl->sources && element(pl->sources, pl->sources_end, planned, &se))
        planned++;
    if (planned != p->nsources) {
        mk_log(MK_LOG_ERROR, "the shard plan is for %zu source(s), the pipeline has %zu: make "
               "the plan again", planned, p->nsources);
        return -1;
    }
    if (!several)
        return point_one(p, &p->sources[0], pl, k);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->nsources; i++) {
        const char *s = element(pl->sources, pl->sources_end, i, &se);
        shard_plan one = *pl;
        char *name = s ? member_str(s, se, "source") : NULL;
        one.mode = s ? member_str(s, se, "mode") : NULL;
        one.file = s ? member_str(s, se, "file") : NULL;
        one.size = s ? member_num(s, se, "size") : 0;
        one.parts = s ? member(s, se, "parts", &one.parts_end) : NULL;
        if (!name || strcmp(name, p->sources[i].name) != 0 || !one.mode) {
            mk_log(MK_LOG_ERROR, "the shard plan's source %zu is %s, the pipeline's is %s: make "
                   "the plan again", i + 1, name ? name : "missing", p->sources[i].name);
            rc = -1;
        } else {
            rc = point_one(p, &p->sources[i], &one, k);
        }
        free(name);
        free(one.mode);
        free(one.file);
    }
    return rc;
}

static int replace(char **slot, char *value)
{
    if (!value)
        return -1;
    free(*slot);
    *slot = value;
    return 0;
}

/* Outputs, rejects, run folder into the shard's folder. */
static int point_outputs(mk_pipeline *p, const char *dir, const shard_plan *pl, int k)
{
    for (size_t i = 0; i < p->nsinks; i++) {
        if (strcmp(p->sinks[i].plugin_name, "postgres") == 0) { /* its staging table */
            if (mk_shard_pg_point_sink(&p->sinks[i], pl->id, i, k) != 0)
                return -1;
            continue;
        }
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%zu", i);
        mk_optval *ov = optval(&p->sinks[i], "path");
        char *name = ov && ov->value ? part_name(prefix, ov->value) : NULL;
        char *to = name ? shard_path(dir, pl, k, name) : NULL;
        free(name);
        if (!ov || replace(&ov->value, to) != 0)
            return -1;
        if (is_datapackage(&p->sinks[i]) && set_scalar(&p->sinks[i], "shard_part", "true") != 0)
            return -1; /* its part: data files and part.json (plugins/datapackage/dp_shard.c) */
    }
    char *name = p->rejects_path ? part_name("rejects", p->rejects_path) : NULL;
    if (name && replace(&p->rejects_path, shard_path(dir, pl, k, name)) != 0) {
        free(name);
        return -1;
    }
    free(name);
    free(p->html_report_path);
    p->html_report_path = NULL;
    /* the report too (not only --report): locks are taken beside every output */
    if (replace(&p->report_path, shard_path(dir, pl, k, "report.json")) != 0)
        return -1;
    for (size_t i = 0; i < p->nthresholds; i++)
        p->thresholds[i].max_share = 1.0; /* a share is never above 1: the merge decides */
    mk_shard_inc_own_state(p); /* the steps' state: files are the merge's to write */
    return replace(&p->state_dir, shard_path(dir, pl, k, "run"));
}

int mk_shard_index(const char *which, int *k)
{
    char *end;
    if (strcmp(which, "auto") != 0) {
        long v = strtol(which, &end, 10);
        *k = (int)v;
        return *which && !*end && v >= 0 && v < 1000000 ? 0 : -1;
    }
    const char *job = getenv("JOB_COMPLETION_INDEX");
    const char *task = getenv("SLURM_ARRAY_TASK_ID"), *min = getenv("SLURM_ARRAY_TASK_MIN");
    if (job && *job) {
        *k = (int)strtol(job, &end, 10);
        return *end ? -1 : 0;
    }
    if (task && *task) {
        *k = (int)(strtol(task, &end, 10) - (min && *min ? strtol(min, NULL, 10) : 0));
        return *end ? -1 : 0;
    }
    mk_log(MK_LOG_ERROR, "--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) "
           "nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard I");
    return -2;
}

/* Steps whose checks span rows (schema: unique keys) learn that they run in
 * shard k, and refuse what one shard cannot check. */
static int mark_steps(mk_pipeline *p, int k)
{
    char num[32];
    snprintf(num, sizeof num, "%d", k);
    for (size_t i = 0; i <= p->nsources; i++) {
        mk_step *steps = i < p->nsources ? p->sources[i].chain : p->transforms;
        size_t n = i < p->nsources ? p->sources[i].chain_len : p->ntransforms;
        for (size_t j = 0; j < n; j++)
            if (strcmp(steps[j].plugin_name, "schema") == 0 && optval(&steps[j], "shard_index") &&
                set_scalar(&steps[j], "shard_index", num) != 0)
                return -1;
    }
    return 0;
}

int mk_shard_prepare(mk_pipeline *p, const char *dir, const char *which, const char *stage,
                     char **report)
{
    char msg[2048];
    int k;
    *report = NULL;
    if (!mk_shard_supported(p, msg, sizeof msg)) {
        mk_log(MK_LOG_ERROR, "%s: cannot run as shards: %s", p->path, msg);
        return MK_EXIT_USAGE;
    }
    int how = mk_shard_index(which, &k);
    if (how == -1)
        mk_log(MK_LOG_ERROR, "--shard wants a shard number (0, 1, ...) or auto, not '%s'", which);
    if (how)
        return MK_EXIT_USAGE;
    shard_plan pl;
    if (plan_read(dir, p, &pl) != 0) {
        plan_free(&pl);
        return MK_EXIT_USAGE;
    }
    int rc = MK_EXIT_OK;
    if (k >= pl.shards) {
        mk_log(MK_LOG_ERROR, "shard %d does not exist: the plan has %d shards (0 to %d)", k,
               pl.shards, pl.shards - 1);
        rc = MK_EXIT_USAGE;
    } else if (point_source(p, &pl, k) != 0 || point_outputs(p, dir, &pl, k) != 0 ||
               mark_steps(p, k) != 0 || !(*report = strdup(p->report_path))) {
        mk_log(MK_LOG_ERROR, "%s: cannot prepare shard %d of plan %s", p->name, k, pl.id);
        rc = MK_EXIT_FAILED;
    } else if ((rc = mk_shard_dedupe_prepare(p, dir, pl.id, k, pl.shards, stage, report))) {
        /* said why (a bucket not decided yet) */
    } else {
        mk_log(MK_LOG_INFO, "%s: shard %d of %d (plan %s)", p->name, k, pl.shards, pl.id);
    }
    plan_free(&pl);
    return rc;
}

/* ---- the merge: the shards' reports summed ------------------------------ */

static mk_context *merge_contexts(mk_run *run, const mk_step *steps, size_t n)
{
    mk_context *c = calloc(n ? n : 1, sizeof(*c));
    for (size_t i = 0; c && i < n; i++) {
        c[i].run = run;
        c[i].step = &steps[i];
        if (steps[i].chain_len && !(c[i].chain = merge_contexts(run, steps[i].chain,
                                                                 steps[i].chain_len)))
            return NULL;
    }
    return c;
}

static void merge_contexts_free(mk_context *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        merge_contexts_free(c[i].chain, c[i].step->chain_len);
        mk_context_free(&c[i]);
    }
    free(c);
}

/* A step's own report key: numbers add up over the shards, a text is the
 * first shard's. */
static int add_extra(mk_context *c, const char *k, const char *ke, const char *v, const char *ve)
{
    char *key = mk_json_string_decode(k, ke);
    if (!key)
        return -1;
    for (size_t i = 0; i < c->report_count; i++) {
        if (strcmp(c->report_keys[i], key) == 0) {
            if (c->report_is_number[i] && *v != '"')
                c->report_numbers[i] += strtoll(v, NULL, 10);
            free(key);
            return 0;
        }
    }
    size_t n = c->report_count + 1;
    char **keys = realloc(c->report_keys, n * sizeof(char *));
    char **vals = keys ? realloc(c->report_values, n * sizeof(char *)) : NULL;
    int64_t *nums = vals ? realloc(c->report_numbers, n * sizeof(int64_t)) : NULL;
    unsigned char *isn = nums ? realloc(c->report_is_number, n) : NULL;
    if (keys)
        c->report_keys = keys;
    if (vals)
        c->report_values = vals;
    if (nums)
        c->report_numbers = nums;
    if (!isn) {
        free(key);
        return -1;
    }
    c->report_is_number = isn;
    int text = *v == '"';
    keys[n - 1] = key;
    vals[n - 1] = text ? mk_json_string_decode(v, ve) : NULL;
    nums[n - 1] = text ? 0 : strtoll(v, NULL, 10);
    isn[n - 1] = (unsigned char)!text;
    c->report_count = n;
    return 0;
}

static int is_known(const char *k, const char *const *known)
{
    for (size_t i = 0; known[i]; i++) {
        size_t n = strlen(known[i]);
        if (k[n + 1] == '"' && memcmp(k + 1, known[i], n) == 0)
            return 1;
    }
    return 0;
}

static const char *const step_keys[] = {"name", "plugin", "rows_read", "rows_written",
                                        "rows_rejected", "in", "out", "rejected", "dropped", NULL};

/* One step's entry [v, ve) of a shard report into its context. */
static int sum_step(mk_context *c, const char *v, const char *ve)
{
    const char *k, *x, *xe, *p = v;
    uint64_t read = member_num(v, ve, "rows_read");
    c->rows_rejected += member_num(v, ve, "rows_rejected") + member_num(v, ve, "rejected");
    if (c->step->role == MK_ROLE_SOURCE)
        c->rows_out += read - member_num(v, ve, "rows_rejected");
    c->rows_written += member_num(v, ve, "rows_written");
    c->rows_in += member_num(v, ve, "in");
    if (c->step->role == MK_ROLE_TRANSFORM)
        c->rows_out += member_num(v, ve, "out");
    c->rows_dropped += member_num(v, ve, "dropped");
    while (mk_json_object_next(&p, ve, &k, &x, &xe) == 1)
        if (!is_known(k, step_keys) && add_extra(c, k, x, x, xe) != 0)
            return -1;
    return 0;
}

/* The array member key of report [r, re): its i-th entry into ctx[i]. */
static int sum_steps(mk_context **ctx, size_t n, const char *r, const char *re, const char *key)
{
    const char *ae, *a = member(r, re, key, &ae);
    for (size_t i = 0; a && i < n; i++) {
        const char *ve, *v = element(a, ae, i, &ve);
        if (v && sum_step(ctx[i], v, ve) != 0)
            return -1;
    }
    return 0;
}

static mk_rule_stat *rule_of(mk_run *run, const char *name, const char *stage)
{
    for (size_t i = 0; i < run->nrules; i++)
        if (strcmp(run->rules[i]->name, name) == 0 && strcmp(run->rules[i]->stage, stage) == 0)
            return run->rules[i];
    mk_rule_stat **grown = realloc(run->rules, (run->nrules + 1) * sizeof(*grown));
    mk_rule_stat *r = grown ? calloc(1, sizeof(*r)) : NULL;
    if (grown)
        run->rules = grown;
    if (!r || !(r->name = strdup(name)) || !(r->stage = strdup(stage))) {
        if (r)
            free(r->name);
        free(r);
        return NULL;
    }
    run->rules[run->nrules++] = r;
    return r;
}

/* A rule's samples: the first MK_RULE_SAMPLES in plan order, as one run keeps. */
static void add_samples(mk_rule_stat *r, const char *a, const char *ae)
{
    const char *v, *ve, *p = mk_json_ws(a, ae);
    if (!p || *p != '[')
        return;
    while (r->nsamples < MK_RULE_SAMPLES && mk_json_array_next(&p, ae, &v, &ve) == 1) {
        mk_sample *s = &r->samples[r->nsamples++];
        char *kind = member_str(v, ve, "kind");
        s->source = member_str(v, ve, "source");
        s->position = member_num(v, ve, "position");
        s->rejected = kind && strcmp(kind, "reject") == 0;
        s->message = member_str(v, ve, "message");
        s->values = member_str(v, ve, "values");
        free(kind);
    }
}

static int sum_rules(mk_run *run, const char *r, const char *re)
{
    const char *v, *ve, *ae, *a = member(r, re, "rules", &ae);
    const char *p = a ? mk_json_ws(a, ae) : NULL;
    if (!p || *p != '[')
        return a ? -1 : 0;
    while (mk_json_array_next(&p, ae, &v, &ve) == 1) {
        char *name = member_str(v, ve, "rule"), *stage = member_str(v, ve, "stage");
        mk_rule_stat *rs = name && stage ? rule_of(run, name, stage) : NULL;
        free(name);
        free(stage);
        if (!rs)
            return -1;
        rs->checked += member_num(v, ve, "checked");
        rs->rejected += member_num(v, ve, "rejected");
        rs->warned += member_num(v, ve, "warned");
        const char *se, *s = member(v, ve, "samples", &se);
        if (s)
            add_samples(rs, s, se);
    }
    return 0;
}

/* The contexts in report order: sources, stages (sources' chains, then
 * transforms), sinks. */
static mk_context **stage_list(mk_run *run, size_t *n)
{
    const mk_pipeline *p = run->p;
    size_t cap = p->ntransforms + 1;
    for (size_t i = 0; i < p->nsources; i++)
        cap += p->sources[i].chain_len;
    mk_context **l = calloc(cap, sizeof(*l));
    *n = 0;
    for (size_t i = 0; l && i < p->nsources; i++)
        for (size_t k = 0; k < p->sources[i].chain_len; k++)
            l[(*n)++] = &run->sources[i].chain[k];
    for (size_t i = 0; l && i < p->ntransforms; i++)
        l[(*n)++] = &run->transforms[i];
    return l;
}

/* Shard report [r, re) into the merged run. */
/* The null_share counts of a shard's checks (the figures drift checks use:
 * a source's rows and a rule's counts are summed with the steps). */
static int sum_checks(mk_run *run, const char *r, const char *re)
{
    const mk_ops_config *c = run->p->ops;
    if (!c || !c->nchecks)
        return 0;
    mk_ops *ops = mk_ops_of(run);
    if (!ops || (!ops->nulls && !(ops->nulls = calloc(c->nchecks, sizeof(uint64_t)))))
        return -1;
    const char *ae, *a = member(r, re, "checks", &ae), *v, *ve;
    const char *p = a ? mk_json_ws(a, ae) : NULL;
    if (!p || *p != '[')
        return -1;
    int rows_taken = 0;
    for (size_t i = 0; mk_json_array_next(&p, ae, &v, &ve) == 1 && i < c->nchecks; i++) {
        if (c->checks[i].kind != MK_CHECK_NULL_SHARE)
            continue;
        ops->nulls[i] += member_num(v, ve, "cells");
        if (!rows_taken++) /* the rows reaching the sinks: one count for every check */
            ops->null_rows += member_num(v, ve, "rows");
    }
    return 0;
}

static int sum_report(mk_run *run, const char *r, const char *re, double *elapsed)
{
    const char *te, *t = member(r, re, "totals", &te);
    if (!t)
        return -1;
    run->read += member_num(t, te, "read");
    run->added += member_num(t, te, "added");
    run->written += member_num(t, te, "written");
    run->rejected += member_num(t, te, "rejected");
    run->dropped += member_num(t, te, "dropped");
    run->warned += member_num(t, te, "warnings");
    const char *ee, *e = member(r, re, "elapsed_seconds", &ee);
    *elapsed += e ? strtod(e, NULL) : 0.0;
    size_t np = run->p->nsources, nk = run->p->nsinks, ns;
    mk_context **src = calloc(np + nk + 1, sizeof(*src)), **stages = stage_list(run, &ns);
    for (size_t i = 0; src && i < np; i++)
        src[i] = &run->sources[i];
    for (size_t i = 0; src && i < nk; i++)
        src[np + i] = &run->sinks[i];
    int rc = !src || !stages || sum_steps(src, np, r, re, "sources") ||
                     sum_steps(src + np, nk, r, re, "sinks") ||
                     sum_steps(stages, ns, r, re, "stages") || sum_rules(run, r, re) ||
                     sum_checks(run, r, re)
                 ? -1
                 : 0;
    free(src);
    free(stages);
    return rc;
}

/* ---- the merge: joining the parts ------------------------------------------- */

/* Append the file at path to f; skip_header: leave out its first record. */
static int append_part(mk_outfile *f, const char *path, int skip_header, char *err, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, len, "cannot read the part %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = mk_outfile_flush(f) != 0 || mk_join_copy(fd, f->fd, skip_header) != 0 ? -1 : 0;
    if (rc)
        snprintf(err, len, "cannot copy the part %s: %s", path, strerror(f->err ? f->err : errno));
    close(fd);
    return rc;
}

/* One output of the pipeline (final) into the publish set: the file the
 * shards joined (joined, when not NULL: renamed into place, or copied when
 * it lies on another file system), else joined here from the parts named
 * name in every shard's folder. */
static int join_parts(mk_run *run, const char *dir, const shard_plan *pl, const char *name,
                      const char *final, int csv_header, int xml, const char *joined,
                      const char *what)
{
    char err[1200];
    mk_outfile *f = mk_outfile_open(final, err, sizeof err);
    if (!f)
        return mk_run_fail(run, "%s: %s", what, err);
    int adopted = joined ? mk_outfile_adopt(f, joined, err, sizeof err) : 1;
    if (adopted == 1 && joined && append_part(f, joined, 0, err, sizeof err) == 0)
        adopted = 0;
    if (adopted < 0) {
        mk_outfile_abort(f);
        return mk_run_fail(run, "%s: %s", what, err);
    }
    mk_xml_join xj;
    mk_xml_join_init(&xj);
    for (int k = 0; adopted && k <= pl->shards; k++) {
        char *part = k < pl->shards ? shard_path(dir, pl, k, name) : NULL;
        int rc = k == pl->shards ? (xml ? mk_xml_join_end(&xj, f, err, sizeof err) : 0)
                 : !part         ? (snprintf(err, sizeof err, "out of memory"), -1)
                 : xml           ? mk_xml_join_part(&xj, f, part, err, sizeof err)
                                 : append_part(f, part, csv_header && k > 0, err, sizeof err);
        free(part);
        if (rc != 0) {
            mk_xml_join_free(&xj);
            mk_outfile_abort(f);
            return mk_run_fail(run, "%s: %s", what, err);
        }
    }
    mk_xml_join_free(&xj);
    if (mk_publish_outfile(run, f, what, err, sizeof err) != MK_OK)
        return mk_run_fail(run, "%s", err);
    return MK_OK;
}

/* Whether sink s writes a CSV header. */
static int csv_header(const mk_step *s)
{
    const mk_optval *h = mk_step_option(s, "header");
    return strcmp(s->plugin_name, "csv") == 0 && h && h->value &&
           strcasecmp(h->value, "false") != 0 && strcasecmp(h->value, "no") != 0 &&
           strcasecmp(h->value, "off") != 0 && strcmp(h->value, "0") != 0;
}

/* Whether the shards join sink s's parts as they finish (parts that are
 * joined by appending them). */
static int joined_as_finished(const mk_step *s)
{
    return strcmp(s->plugin_name, "csv") == 0 || strcmp(s->plugin_name, "jsonl") == 0 ||
           is_datapackage(s);
}

static int value_true(const mk_optval *ov)
{
    const char *v = ov && ov->value ? ov->value : "";
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
           strcmp(v, "1") == 0;
}

/* A datapackage sink's data files in its part folder (folder, taken):
 * "<folder>/<resource>.csv", with a header, and with jsonl: true
 * "<folder>/<resource>.jsonl", appended to o. */
static int dp_outs(const mk_step *s, char *folder, mk_join_out *o, size_t *n)
{
    const mk_optval *r = mk_step_option(s, "resource");
    const char *res = r && r->value ? r->value : "data";
    int jsonl = value_true(mk_step_option(s, "jsonl"));
    for (int k = 0; folder && k <= jsonl; k++) {
        size_t len = strlen(folder) + strlen(res) + 8;
        char *name = malloc(len);
        if (!name)
            break;
        snprintf(name, len, "%s/%s.%s", folder, res, k ? "jsonl" : "csv");
        o[*n].skip_header = !k;
        o[(*n)++].name = name;
        if (k == jsonl) {
            free(folder);
            return 0;
        }
    }
    free(folder);
    return -1;
}

static void join_outs_free(mk_join_out *o, size_t n)
{
    for (size_t i = 0; o && i < n; i++)
        free(o[i].name);
    free(o);
}

/* The name in a shard's folder of output final: "<prefix>-<base name>"; in
 * a shard's own pipeline (in_shard), final already is that. */
static char *out_name(const char *prefix, const char *final, int in_shard)
{
    const char *base = strrchr(final, '/');
    return in_shard ? strdup(base ? base + 1 : final) : part_name(prefix, final);
}

/* The outputs the shards join (joined_as_finished sinks, then the rejects),
 * named as in a shard's folder; NULL when out of memory. */
static mk_join_out *join_outs(const mk_pipeline *p, int in_shard, size_t *n)
{
    mk_join_out *o = calloc(2 * p->nsinks + 1, sizeof(*o)); /* a package: 2 files */
    *n = 0;
    for (size_t i = 0; o && i < p->nsinks; i++) {
        const mk_step *s = &p->sinks[i];
        const mk_optval *path = mk_step_option(s, "path");
        if (!joined_as_finished(s) || !path || !path->value)
            continue;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%zu", i);
        if (is_datapackage(s)) {
            if (dp_outs(s, out_name(prefix, path->value, in_shard), o, n) != 0)
                goto nomem;
            continue;
        }
        o[*n].skip_header = csv_header(s);
        if (!(o[(*n)++].name = out_name(prefix, path->value, in_shard)))
            goto nomem;
    }
    if (o && p->rejects_path) {
        o[*n].skip_header = !p->rejects_jsonl;
        if (!(o[(*n)++].name = out_name("rejects", p->rejects_path, in_shard)))
            goto nomem;
    }
    return o;
nomem:
    join_outs_free(o, *n);
    return NULL;
}

/* ---- the merge: a datapackage sink (plugins/datapackage/dp_shard.c) -------- */

/* The CSV rejects file's columns, read back from its header: what a run's
 * rejects_schema is (the package describes the file with them). */
static int rejects_columns(mk_run *run, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL, **names = NULL;
    size_t cap = 0, n = 0;
    ssize_t len = f ? getline(&line, &cap, f) : -1;
    if (f)
        fclose(f);
    if (!run->schemas)
        run->schemas = mk_schema_registry_new();
    int rc = len > 0 && run->schemas ? 0 : -1;
    for (ssize_t i = 0; rc == 0 && i < len && line[i] != '\n' && line[i] != '\r';) {
        char **grown = realloc(names, (n + 1) * sizeof(char *));
        char *name = malloc((size_t)len + 1);
        size_t k = 0;
        if (grown)
            names = grown;
        if (!grown || !name) {
            free(name);
            rc = -1;
            break;
        }
        int quoted = line[i] == '"';
        for (i += quoted; i < len; i++) { /* RFC 4180: "" is a quote in a quoted field */
            if (quoted && line[i] == '"' && i + 1 < len && line[i + 1] == '"')
                name[k++] = line[i++];
            else if (quoted && line[i] == '"')
                quoted = 0;
            else if (!quoted && (line[i] == ',' || line[i] == '\n' || line[i] == '\r'))
                break;
            else
                name[k++] = line[i];
        }
        name[k] = '\0';
        names[n++] = name;
        i += i < len && line[i] == ',';
    }
    if (rc == 0)
        run->rejects_schema = mk_schema_intern(run->schemas, (const char *const *)names, n);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(line);
    return rc == 0 && run->rejects_schema ? 0 : -1;
}

/* The engine-set list option name of s: values (copied). */
static int set_list(mk_step *s, const char *name, char *const *values, size_t n)
{
    mk_optval *ov = optval(s, name);
    char **v = ov ? calloc(n ? n : 1, sizeof(char *)) : NULL;
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = strdup(values[i]))) {
            while (i)
                free(v[--i]);
            free(v);
            v = NULL;
        }
    if (!v) {
        mk_log(MK_LOG_ERROR, "sink %s (plugin %s) has no option %s, or out of memory: this "
               "mekong's %s plugin is older than the engine", s->name, s->plugin_name, name,
               s->plugin_name);
        return -1;
    }
    for (size_t i = 0; i < ov->count; i++)
        free(ov->values[i]);
    free(ov->values);
    ov->values = v;
    ov->count = n;
    ov->set = 1;
    return 0;
}

/* Output out joined here from the parts into a file in the plan folder
 * (*path, malloc'd): the shards could not join it (the join failed). */
static int join_here(mk_run *run, const char *dir, const shard_plan *pl, const mk_join_out *out,
                     size_t o, char **path)
{
    char name[64], err[1200];
    snprintf(name, sizeof name, "merge-%zu", o);
    char *plan_dir = mk_path_join(dir, pl->id);
    *path = plan_dir ? mk_path_join(plan_dir, name) : NULL;
    free(plan_dir);
    int fd = *path ? open(*path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    int rc = fd >= 0 ? 0 : -1;
    for (int k = 0; rc == 0 && k < pl->shards; k++) {
        char *part = shard_path(dir, pl, k, out->name);
        int in = part ? open(part, O_RDONLY | O_CLOEXEC) : -1;
        rc = in < 0 || mk_join_copy(in, fd, out->skip_header && k > 0) != 0 ? -1 : 0;
        if (rc)
            snprintf(err, sizeof err, "cannot join %s: %s", part ? part : out->name,
                     strerror(errno));
        if (in >= 0)
            close(in);
        free(part);
    }
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc)
        return mk_run_fail(run, "%s", fd < 0 ? "cannot create a file in the plan folder" : err);
    return MK_OK;
}

/* Sink i's package: its data files joined (by the shards, else here),
 * handed to the plugin (shard_joined, shard_parts), which finishes the
 * package as one run's through before_publish.  *o: the sink's first
 * joined output, advanced past its files. */
static int merge_datapackage(mk_run *run, const char *dir, const shard_plan *pl, mk_join *j,
                             size_t i, size_t *o)
{
    mk_step *s = &run->p->sinks[i];
    mk_context *c = &run->sinks[i];
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%zu", i);
    const mk_optval *path = mk_step_option(s, "path");
    char *folder = part_name(prefix, path->value);
    mk_join_out outs[2];
    size_t n = 0;
    char *joined[2] = {NULL, NULL}, *mine[2] = {NULL, NULL};
    char **parts = calloc((size_t)pl->shards, sizeof(char *));
    int rc = folder && parts && dp_outs(s, strdup(folder), outs, &n) == 0 ? MK_OK : MK_NOMEM;
    for (size_t f = 0; f < n; f++) {
        joined[f] = j ? mk_join_path(j, (*o)++) : NULL;
        if (rc == MK_OK && !joined[f] &&
            (rc = join_here(run, dir, pl, &outs[f], 2 * i + f, &mine[f])) == MK_OK)
            joined[f] = strdup(mine[f]);
        if (!joined[f] && rc == MK_OK)
            rc = MK_NOMEM;
    }
    for (int k = 0; rc == MK_OK && k < pl->shards; k++)
        if (!(parts[k] = shard_path(dir, pl, k, folder)))
            rc = MK_NOMEM;
    if (rc == MK_OK && (set_list(s, "shard_joined", joined, n) != 0 ||
                        set_list(s, "shard_parts", parts, (size_t)pl->shards) != 0))
        rc = MK_ERROR;
    if (rc == MK_OK) {
        c->error[0] = '\0';
        int opened = s->plugin.desc->sink->open(c, &mk_host_table, &c->state);
        int closed = s->plugin.desc->sink->close(c->state, opened == MK_OK);
        c->state = NULL;
        if (opened != MK_OK || closed != MK_OK)
            rc = mk_run_fail(run, "sink %s: %s", s->name,
                             c->error[0] ? c->error : "cannot finish the package");
    } else if (rc == MK_NOMEM) {
        mk_run_fail(run, "sink %s: out of memory", s->name);
    }
    for (size_t f = 0; f < n; f++) {
        if (mine[f])
            unlink(mine[f]); /* moved into the package, or copied from here */
        free(mine[f]);
        free(joined[f]);
        free(outs[f].name);
    }
    for (int k = 0; parts && k < pl->shards; k++)
        free(parts[k]);
    free(parts);
    free(folder);
    return rc == MK_OK ? MK_OK : MK_ERROR;
}

static int join_outputs(mk_run *run, const char *dir, const shard_plan *pl, mk_join *j)
{
    mk_pipeline *p = run->p;
    size_t o = 0;
    for (size_t i = 0; i < p->nsinks; i++) {
        const mk_step *s = &p->sinks[i];
        if (strcmp(s->plugin_name, "postgres") == 0) /* mk_shard_pg_merge */
            continue;
        if (is_datapackage(s)) {
            if (merge_datapackage(run, dir, pl, j, i, &o) != MK_OK)
                return MK_ERROR;
            continue;
        }
        const mk_optval *path = mk_step_option(s, "path");
        char prefix[32], what[300];
        snprintf(prefix, sizeof prefix, "%zu", i);
        snprintf(what, sizeof what, "sink %s", s->name);
        char *name = part_name(prefix, path->value);
        char *joined = j && joined_as_finished(s) ? mk_join_path(j, o++) : NULL;
        int xml = strcmp(s->plugin_name, "xml") == 0;
        int rc = name ? join_parts(run, dir, pl, name, path->value, csv_header(s), xml, joined,
                                   what)
                      : MK_NOMEM;
        free(joined);
        free(name);
        if (rc != MK_OK)
            return MK_ERROR;
    }
    if (!p->rejects_path)
        return MK_OK;
    char *name = part_name("rejects", p->rejects_path);
    char *joined = j ? mk_join_path(j, o) : NULL;
    size_t before = run->npub;
    int rc = name ? join_parts(run, dir, pl, name, p->rejects_path, !p->rejects_jsonl, 0, joined,
                               "the rejects file")
                  : MK_NOMEM;
    free(joined);
    free(name);
    mk_publish_kind(run, before, "rejects"); /* for before_publish, as in one run */
    if (rc == MK_OK && !p->rejects_jsonl && run->npub > before &&
        rejects_columns(run, run->pub[run->npub - 1].tmp) != 0)
        return mk_run_fail(run, "the rejects file: cannot read its header back");
    return rc;
}

/* ---- the merge: one run's outputs ---------------------------------------------- */

static void merge_thresholds(mk_run *run)
{
    for (size_t i = 0; i < run->p->nthresholds; i++) {
        const mk_threshold *t = &run->p->thresholds[i];
        uint64_t rejected = t->rule ? 0 : run->rejected, checked = t->rule ? 0 : run->read;
        for (size_t r = 0; t->rule && r < run->nrules; r++)
            if (strcmp(run->rules[r]->name, t->rule) == 0) {
                rejected += run->rules[r]->rejected;
                checked += run->rules[r]->checked;
            }
        if (!checked)
            checked = run->read;
        double share = checked ? (double)rejected / (double)checked : 0.0;
        if (share <= t->max_share)
            continue;
        char msg[1024]; /* the words of run.c's check_thresholds */
        if (t->rule)
            snprintf(msg, sizeof msg, "rule %s rejected %.2f%% of the rows it checked; the limit "
                     "is %.2f%%", t->rule, share * 100, t->max_share * 100);
        else
            snprintf(msg, sizeof msg, "%.2f%% of rows were rejected; the limit is %.2f%%",
                     share * 100, t->max_share * 100);
        char **grown = realloc(run->threshold_failures,
                               (run->nthreshold_failures + 1) * sizeof(char *));
        if (grown) {
            run->threshold_failures = grown;
            run->threshold_failures[run->nthreshold_failures++] = strdup(msg);
        }
    }
}

/* Why shard k has not finished ("not run, or still running", ...), or NULL
 * with its report in *text (malloc'd, *n bytes) when it has. */
static const char *shard_unfinished(const char *dir, const shard_plan *pl, int k, char **text,
                                    size_t *n)
{
    char *path = shard_path(dir, pl, k, "report.json");
    *n = 0;
    *text = path ? mk_shard_read_file(path, n) : NULL;
    free(path);
    char *status = *text ? member_str(*text, *text + *n, "status") : NULL;
    char *journal = shard_path(dir, pl, k, "run/publish.journal");
    struct stat st;
    int dying = journal && stat(journal, &st) == 0; /* killed while publishing */
    free(journal);
    const char *why = dying ? "died while publishing its parts: run it again"
                      : !*text ? "not run, or still running"
                      : !status || strcmp(status, "ok") != 0 ? "failed: run it again"
                                                              : NULL;
    free(status);
    if (why) {
        free(*text);
        *text = NULL;
    }
    return why;
}

/* Every shard's report, summed into run; 0, or -1 with the shards that
 * have not finished named in msg. */
static int read_reports(mk_run *run, const char *dir, const shard_plan *pl, char *msg,
                        size_t len)
{
    size_t used = 0;
    int missing = 0;
    double elapsed = 0;
    msg[0] = '\0';
    for (int k = 0; k < pl->shards; k++) {
        char *text;
        size_t n;
        const char *why = shard_unfinished(dir, pl, k, &text, &n);
        if (!why && sum_report(run, text, text + n, &elapsed) != 0)
            why = "unreadable report";
        if (why) {
            used += (size_t)snprintf(msg + used, used < len ? len - used : 0, "%sshard %d (%s)",
                                     missing ? ", " : "", k, why);
            missing++;
        }
        free(text);
    }
    run->elapsed = elapsed; /* the shards' time added up */
    return missing ? -1 : 0;
}

/* ---- joining the parts as the shards finish (shard_join.c) ------------------- */

typedef struct join_ctx {
    const char *dir;
    const shard_plan *pl;
} join_ctx;

static int shard_done(void *ctx, int k)
{
    const join_ctx *c = ctx;
    char *text;
    size_t n;
    const char *why = shard_unfinished(c->dir, c->pl, k, &text, &n);
    free(text);
    return !why;
}

/* The join of plan pl, locked (wait: until no one else holds it), with the
 * finished shards appended (*joined: how many are in); NULL when busy or
 * impossible.  in_shard: p is a shard's pipeline. */
static mk_join *join_now(const mk_pipeline *p, int in_shard, const char *dir,
                         const shard_plan *pl, mk_join_out **outs, size_t *nout, int wait,
                         int *joined)
{
    char *plan_dir = mk_path_join(dir, pl->id);
    *outs = join_outs(p, in_shard, nout);
    mk_join *j = plan_dir && *outs ? mk_join_open(plan_dir, pl->shards, *outs, *nout, wait) : NULL;
    free(plan_dir);
    join_ctx c = {dir, pl};
    if (j && (*joined = mk_join_advance(j, shard_done, &c)) < 0) {
        mk_join_close(j);
        j = NULL;
    }
    if (!j) {
        join_outs_free(*outs, *nout);
        *outs = NULL;
    }
    return j;
}

void mk_shard_join_parts(const mk_pipeline *p, const char *dir, const char *which)
{
    shard_plan pl;
    int k;
    memset(&pl, 0, sizeof pl);
    if (mk_shard_index(which, &k) != 0 || plan_read(dir, p, &pl) != 0) {
        plan_free(&pl);
        return;
    }
    join_ctx c = {dir, &pl};
    for (;;) {
        mk_join_out *outs;
        size_t nout;
        int joined;
        mk_join *j = join_now(p, 1, dir, &pl, &outs, &nout, 0, &joined);
        if (!j)
            break; /* busy: the holder looks again after it lets go */
        mk_join_close(j);
        join_outs_free(outs, nout);
        /* a shard that finished while the lock was held may have left it
         * to the holder: look once more */
        if (joined >= pl.shards || !shard_done(&c, joined))
            break;
    }
    plan_free(&pl);
}

static void merge_free(mk_run *run)
{
    const mk_pipeline *p = run->p;
    mk_rules_free(run);
    for (size_t i = 0; i < run->nthreshold_failures; i++)
        free(run->threshold_failures[i]);
    free(run->threshold_failures);
    merge_contexts_free(run->sources, p->nsources);
    merge_contexts_free(run->transforms, p->ntransforms);
    merge_contexts_free(run->sinks, p->nsinks);
    mk_ops_free(run);
    mk_state_free(run);
    mk_publish_discard(run);
    mk_locks_release(run->locks);
    free(run->run_dir);
    if (run->schemas)
        mk_schema_registry_free(run->schemas);
}

/* Publish the joined outputs, the rejects and the report as one set. */
static int merge_publish(mk_run *run, const char *dir, const shard_plan *pl, const char *report)
{
    mk_join_out *outs = NULL;
    size_t nout = 0;
    int joined;
    mk_join *j = join_now(run->p, 0, dir, pl, &outs, &nout, 1, &joined);
    int ok = mk_publish_recover(run) == MK_OK &&
             mk_shard_inc_merge(run, dir, pl->id, pl->shards, pl->text, pl->len) == MK_OK &&
             mk_shard_pg_inc_merge(run, pl->text, pl->len) == MK_OK &&
             join_outputs(run, dir, pl, j) == MK_OK && mk_state_save(run) == MK_OK &&
             (!report || mk_report_write(run, report, run->p->html_report_path, 1) == 0) &&
             mk_before_publish_calls(run, 1) == MK_OK && /* packages take the run's files */
             mk_shard_pg_merge(run, pl->id, pl->shards) == MK_OK && /* last: the target's commit */
             mk_publish_commit(run) == MK_OK;
    if (!ok)
        mk_before_publish_calls(run, 0); /* those not called yet */
    if (j)
        mk_join_forget(j); /* taken by the publish set, or to be joined again */
    mk_join_close(j);
    join_outs_free(outs, nout);
    return ok;
}

static void merge_log(mk_run *run, const shard_plan *pl, int ok, int commit, int crossed)
{
    const mk_pipeline *p = run->p;
    for (size_t i = 0; i < run->nthreshold_failures; i++)
        mk_log(MK_LOG_ERROR, "quality threshold crossed: %s", run->threshold_failures[i]);
    if (!ok && commit)
        mk_log(MK_LOG_ERROR, "%s: merge failed: %s; %s", p->name,
               run->failure[0] ? run->failure : "see the messages above",
               run->published[0] ? run->published : "nothing was published");
    else
        mk_log(crossed ? MK_LOG_ERROR : MK_LOG_INFO,
               "%s: %d shards merged: %" PRIu64 " rows read, %" PRIu64 " written, %" PRIu64
               " rejected, %" PRIu64 " dropped%s", p->name, pl->shards, run->read, run->written,
               run->rejected, run->dropped, crossed && !commit ? "; outputs not published" : "");
}

static int merge_locked(mk_run *run, const char *dir, const shard_plan *pl, const char *report)
{
    mk_pipeline *p = run->p;
    char msg[4096];
    if (read_reports(run, dir, pl, msg, sizeof msg) != 0) {
        mk_log(MK_LOG_ERROR, "%s: merge refused, not every shard of plan %s finished: %s; "
               "nothing was published", p->name, pl->id, msg);
        return MK_EXIT_FAILED;
    }
    run->reached_sinks = run->written;
    run->balanced = run->read + run->added == run->written + run->rejected + run->dropped;
    merge_thresholds(run);
    if (run->balanced)
        mk_drift_check(run); /* on the totals, against the pipeline's history */
    int threshold = run->nthreshold_failures > 0, drift = mk_drift_failed(run);
    int commit = run->balanced && !drift && (!threshold || p->publish_on_threshold);
    run->status = !run->balanced ? "failed" : threshold ? "threshold" : drift ? "drift" : "ok";
    if (!run->balanced)
        mk_run_fail(run, "the shards' row accounts do not add up: see their reports");
    int ok = commit && merge_publish(run, dir, pl, report);
    if (!ok) {
        mk_publish_discard(run);
        if (commit)
            run->status = "failed";
        if (report)
            mk_report_write(run, report, p->html_report_path, 0);
    }
    merge_log(run, pl, ok, commit, threshold || drift);
    int code = (!ok && commit) || !run->balanced ? MK_EXIT_FAILED
               : threshold || drift              ? MK_EXIT_THRESHOLD
                                                 : MK_EXIT_OK;
    mk_ops_after_run(run, report, code); /* history, metrics, on_failure: as one run */
    return code;
}

int mk_shard_merge(mk_pipeline *p, const char *dir, const char *report)
{
    char msg[2048];
    if (!mk_shard_supported(p, msg, sizeof msg)) {
        mk_log(MK_LOG_ERROR, "%s: cannot merge shards: %s", p->path, msg);
        return MK_EXIT_USAGE;
    }
    shard_plan pl;
    if (plan_read(dir, p, &pl) != 0 || !mk_shard_inc_matches(p, pl.text, pl.len) ||
        !mk_shard_pg_inc_matches(p, pl.text, pl.len)) {
        plan_free(&pl);
        return MK_EXIT_USAGE;
    }
    static const mk_run_options none;
    mk_run run;
    memset(&run, 0, sizeof run);
    run.p = p;
    run.o = &none;
    run.started_wall = time(NULL);
    run.run_dir = mk_run_dir(p);
    run.sources = merge_contexts(&run, p->sources, p->nsources);
    run.transforms = merge_contexts(&run, p->transforms, p->ntransforms);
    run.sinks = merge_contexts(&run, p->sinks, p->nsinks);
    int rc = MK_EXIT_FAILED;
    if (!run.run_dir || !run.sources || !run.transforms || !run.sinks) {
        mk_log(MK_LOG_ERROR, "out of memory");
    } else {
        int held = mk_locks_take(p, p->lock_wait, run.started_wall, &run.locks, msg, sizeof msg);
        if (held)
            mk_log(MK_LOG_ERROR, "%s: not merged: %s", p->name, msg);
        else
            rc = merge_locked(&run, dir, &pl, report ? report : p->report_path);
        if (held > 0)
            rc = MK_EXIT_LOCKED;
    }
    merge_free(&run);
    plan_free(&pl);
    return rc;
}

int mk_shard_plan_info(const char *dir, const mk_pipeline *p, char **id, int *shards)
{
    shard_plan pl;
    int rc = plan_read(dir, p, &pl);
    *id = rc == 0 ? pl.id : NULL;
    *shards = pl.shards;
    if (rc == 0)
        pl.id = NULL;
    plan_free(&pl);
    return rc;
}
