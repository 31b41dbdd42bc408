/*
 * shard_pg.c -- PostgreSQL sources and sinks in a sharded run (see shard.h,
 * docs/SCALE.md "PostgreSQL").
 *
 * The engine does not speak to PostgreSQL itself: it drives the postgres
 * plugin through options the plugin declares (pg_shard.h).  The plan opens
 * the source with shard_plan: N and reads the cut values it reports; a
 * shard's source gets shard_from / shard_to / shard_record / shard_rows,
 * a shard's sink shard_stage (its staging table); the merge opens each
 * postgres sink with shard_merge (the staging tables in shard order),
 * which applies them in one transaction, and commits it by closing the
 * sink -- after every other output of the merge is ready, just before the
 * publish set is committed.
 *
 * An incremental source (incremental: [c1, ...]): the plan gives the
 * plugin the mark the pipeline's state holds (shard_state; none with plan
 * --full-refresh), and the plugin cuts the rows above it in the order
 * (c1, ..., shard_key) (plugins/postgres/pg_shard_inc.c).  plan.json keeps
 * the mark read, its SHA-256 and the mark one run would save (the last
 * row's); each part the tuple before it and its last tuple.  The merge
 * stages that mark, in the publish set of the outputs.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run_internal.h"
#include "shard.h"
#include "util/json.h"
#include "util/outfile.h"
#include "util/textout.h"

static int is_postgres(const mk_step *s)
{
    return strcmp(s->plugin_name, "postgres") == 0;
}

static mk_optval *option(mk_step *s, const char *name)
{
    for (size_t i = 0; i < s->opts.count; i++)
        if (strcmp(s->opts.v[i].decl->name, name) == 0)
            return &s->opts.v[i];
    mk_log(MK_LOG_ERROR,
           "%s %s (plugin postgres) has no option %s: this mekong's postgres "
           "plugin is older than the engine",
           mk_role_name(s->role), s->name, name);
    return NULL;
}

static int set_option(mk_step *s, const char *name, const char *value)
{
    mk_optval *ov = option(s, name);
    char *copy = ov ? strdup(value) : NULL;
    if (!copy)
        return -1;
    free(ov->value);
    ov->value = copy;
    ov->set = 1;
    return 0;
}

int mk_shard_pg_supported(const mk_pipeline *p, char *msg, size_t len)
{
    const mk_step *src = &p->sources[0];
    if (!is_postgres(src))
        return 1;
    const mk_optval *table = mk_step_option(src, "table"), *key = mk_step_option(src, "shard_key");
    const mk_optval *inc = mk_step_option(src, "incremental");
    if (!table || !table->value) {
        snprintf(msg, len,
                 "source %s reads a query: shards read key ranges of a table (a view "
                 "works: make the query a view and give its name as table)",
                 src->name);
        return 0;
    }
    if (!key || !key->value) {
        snprintf(msg, len,
                 "source %s (plugin postgres) needs shard_key: a unique, never NULL "
                 "column (the primary key) whose ranges the shards read; one run reads in its "
                 "order too (docs/POSTGRES.md, \"Shards\")",
                 src->name);
        return 0;
    }
    (void)inc; /* incremental: the rows above the mark (pg_shard_inc.c) */
    return 1;
}

int mk_shard_pg_incremental(const mk_pipeline *p)
{
    const mk_step *src = &p->sources[0];
    const mk_optval *inc = is_postgres(src) ? mk_step_option(src, "incremental") : NULL;
    return inc && inc->count > 0;
}

/* ---- the plan ------------------------------------------------------------- */

static long report_index(const mk_context *c, const char *key)
{
    for (size_t i = 0; i < c->report_count; i++)
        if (strcmp(c->report_keys[i], key) == 0)
            return (long)i;
    return -1;
}

static void put_str_or_null(mk_outfile *f, const char *s)
{
    if (s)
        mk_json_put_str(f, s);
    else
        mk_outfile_puts(f, "null");
}

/* Cut k's key and position (k = 0 and k = n: none, 0 and total). */
static const char *cut(const mk_context *c, int k, int n, uint64_t total, uint64_t *pos)
{
    char key[48];
    *pos = k == 0 ? 0 : total;
    if (k == 0 || k == n)
        return NULL;
    snprintf(key, sizeof key, "shard_pos_%d", k);
    long i = report_index(c, key);
    snprintf(key, sizeof key, "shard_cut_%d", k);
    long v = report_index(c, key);
    if (i < 0 || v < 0) /* an empty table: no cuts */
        return NULL;
    *pos = (uint64_t)c->report_numbers[i];
    return c->report_values[v];
}

/* A report value the plugin made as JSON (a tuple, a mark), or null. */
static void put_raw(mk_outfile *f, const mk_context *c, const char *key)
{
    long i = report_index(c, key);
    const char *v = i >= 0 ? c->report_values[i] : NULL;
    mk_outfile_puts(f, v && mk_json_valid(v) ? v : "null");
}

static uint64_t report_num(const mk_context *c, const char *key, uint64_t none)
{
    long i = report_index(c, key);
    return i >= 0 ? (uint64_t)c->report_numbers[i] : none;
}

/* The incremental plan's "mark" member: the columns, the mark read (raw
 * JSON, or null), its SHA-256, and the mark one run would save. */
static void write_mark(mk_outfile *f, const mk_step *src, const mk_context *c, const char *from,
                       const char *start, int full_refresh)
{
    const mk_optval *inc = mk_step_option(src, "incremental");
    mk_outfile_puts(f, ",\n  \"mark\": {\"columns\": [");
    for (size_t i = 0; i < inc->count; i++) {
        mk_outfile_puts(f, i ? ", " : "");
        put_str_or_null(f, inc->values[i]);
    }
    mk_outfile_puts(f, full_refresh ? "], \"full_refresh\": true" : "], \"full_refresh\": false");
    mk_outfile_puts(f, ", \"start\": ");
    put_str_or_null(f, start);
    mk_outfile_puts(f, ",\n    \"from\": ");
    mk_outfile_puts(f, from && mk_json_valid(from) ? from : "null");
    mk_outfile_puts(f, ",\n    \"next\": ");
    put_raw(f, c, "shard_next_state");
    mk_outfile_puts(f, "}");
}

/* Shard k of an incremental plan: after its cut's previous row (none at
 * the start) up to the row before the next cut (the last row at the end;
 * none: an empty shard). */
static void write_inc_part(mk_outfile *f, const mk_context *c, int k, int n, uint64_t total)
{
    char key[48], upto[48];
    snprintf(key, sizeof key, "shard_pos_%d", k);
    uint64_t lo = k == 0 ? 0 : report_num(c, key, total);
    snprintf(key, sizeof key, "shard_pos_%d", k + 1);
    uint64_t hi = k + 1 == n ? total : report_num(c, key, total);
    mk_outfile_puts(f, k ? ",\n    {\"shard\": " : "\n    {\"shard\": ");
    mk_json_put_u64(f, (uint64_t)k);
    mk_outfile_puts(f, ", \"after\": ");
    snprintf(key, sizeof key, "shard_cut_%d", k);
    if (k > 0 && lo > 0)
        put_raw(f, c, key);
    else
        mk_outfile_puts(f, "null");
    mk_outfile_puts(f, ", \"upto\": ");
    if (k + 1 == n)
        snprintf(upto, sizeof upto, "shard_last");
    else
        snprintf(upto, sizeof upto, "shard_cut_%d", k + 1);
    if (hi > 0)
        put_raw(f, c, upto);
    else
        mk_outfile_puts(f, "null");
    mk_outfile_puts(f, ", \"record\": ");
    mk_json_put_u64(f, lo);
    mk_outfile_puts(f, ", \"rows\": ");
    mk_json_put_u64(f, hi - lo);
    mk_outfile_puts(f, "}");
}

static void write_parts(mk_outfile *f, const mk_step *src, const mk_context *c, int n)
{
    long t = report_index(c, "shard_total");
    uint64_t total = t >= 0 ? (uint64_t)c->report_numbers[t] : 0;
    mk_outfile_puts(f, ",\n  \"table\": ");
    put_str_or_null(f, mk_step_option(src, "table")->value);
    mk_outfile_puts(f, ",\n  \"key\": ");
    put_str_or_null(f, mk_step_option(src, "shard_key")->value);
    mk_outfile_puts(f, ",\n  \"records\": ");
    mk_json_put_u64(f, total);
    const mk_optval *iv = mk_step_option(src, "incremental");
    int inc = iv && iv->count;
    mk_outfile_puts(f, ",\n  \"parts\": [");
    for (int k = 0; k < n && inc; k++)
        write_inc_part(f, c, k, n, total);
    for (int k = 0; k < n && !inc; k++) {
        uint64_t lo, hi;
        const char *from = cut(c, k, n, total, &lo), *to = cut(c, k + 1, n, total, &hi);
        mk_outfile_puts(f, k ? ",\n    {\"shard\": " : "\n    {\"shard\": ");
        mk_json_put_u64(f, (uint64_t)k);
        mk_outfile_puts(f, ", \"from\": ");
        put_str_or_null(f, from);
        mk_outfile_puts(f, ", \"to\": ");
        put_str_or_null(f, to);
        mk_outfile_puts(f, ", \"record\": ");
        mk_json_put_u64(f, lo);
        mk_outfile_puts(f, ", \"rows\": ");
        mk_json_put_u64(f, hi - lo);
        mk_outfile_puts(f, "}");
    }
    mk_outfile_puts(f, "\n  ]\n}\n");
}

/* Open the source with shard_plan: n; its report holds the cuts. */
static int find_cuts(mk_pipeline *p, int n, mk_context *c)
{
    mk_step *src = &p->sources[0];
    char num[32];
    snprintf(num, sizeof num, "%d/%zu", n, p->batch_rows); /* cuts at whole batches */
    if (set_option(src, "shard_plan", num) != 0)
        return -1;
    c->step = src;
    int rc = src->plugin.desc->source->open(c, &mk_host_table, &c->state);
    if (rc != MK_OK)
        mk_log(MK_LOG_ERROR, "%s: cannot plan shards: source %s: %s", p->path, src->name,
               c->error[0] ? c->error : "failed");
    if (src->plugin.desc->source->close)
        src->plugin.desc->source->close(c->state);
    return rc == MK_OK ? 0 : -1;
}

/* Incremental: the mark the pipeline's state holds, given to the plugin
 * as shard_state (not with --full-refresh); *from: the mark given. */
static int give_mark(mk_pipeline *p, int full_refresh, char start[65], char **saved,
                     const char **from)
{
    char msg[1200];
    int failed = 0;
    *from = NULL;
    *saved = mk_shard_saved_state(p, start, msg, sizeof msg, &failed);
    if (failed) {
        mk_log(MK_LOG_ERROR, "%s: cannot plan shards: source %s: %s", p->path,
               p->sources[0].name, msg);
        return -1;
    }
    if (!*saved || full_refresh)
        return 0;
    *from = *saved;
    return set_option(&p->sources[0], "shard_state", *saved);
}

int mk_shard_pg_plan(mk_pipeline *p, int n, const char *dir, int full_refresh)
{
    mk_run run;
    memset(&run, 0, sizeof run);
    run.p = p;
    mk_context c;
    memset(&c, 0, sizeof c);
    c.run = &run;
    char msg[1200], start[65] = "none";
    char *plan = mk_shard_plan_path(dir), *saved = NULL;
    const char *from = NULL;
    int inc = mk_shard_pg_incremental(p);
    int rc = plan && (!inc || give_mark(p, full_refresh, start, &saved, &from) == 0) &&
                     find_cuts(p, n, &c) == 0
                 ? MK_EXIT_OK
                 : MK_EXIT_FAILED;
    mk_outfile *f = rc == MK_EXIT_OK ? mk_outfile_open(plan, msg, sizeof msg) : NULL;
    if (rc == MK_EXIT_OK && !f) {
        mk_log(MK_LOG_ERROR, "cannot write the shard plan: %s", msg);
        rc = MK_EXIT_FAILED;
    }
    if (f) {
        mk_shard_plan_head(f, p, n, "keys");
        if (inc)
            write_mark(f, &p->sources[0], &c, from, start, full_refresh);
        write_parts(f, &p->sources[0], &c, n);
        if (mk_outfile_commit(f, msg, sizeof msg) != 0) {
            mk_log(MK_LOG_ERROR, "cannot write the shard plan: %s", msg);
            rc = MK_EXIT_FAILED;
        } else {
            mk_log(MK_LOG_INFO, "%s: plan for %d shard(s) of table %s written to %s", p->name, n,
                   mk_step_option(&p->sources[0], "table")->value, plan);
        }
    }
    mk_context_free(&c);
    free(plan);
    free(saved);
    return rc;
}

/* ---- a shard -------------------------------------------------------------- */

/* List option name := the strings of the JSON array [a, ae) (null: none). */
static int set_list(mk_step *s, const char *name, const char *a, const char *ae)
{
    mk_optval *ov = option(s, name);
    const char *v, *ve, *q = a ? mk_json_ws(a, ae) : NULL;
    if (!ov)
        return -1;
    for (size_t j = 0; j < ov->count; j++)
        free(ov->values[j]);
    ov->count = 0;
    if (!q || *q != '[')
        return q && strncmp(q, "null", 4) == 0 ? 0 : -1;
    while (mk_json_array_next(&q, ae, &v, &ve) == 1) {
        char **grown = realloc(ov->values, (ov->count + 1) * sizeof(char *));
        if (!grown)
            return -1;
        ov->values = grown;
        if (!(ov->values[ov->count] = mk_json_string_decode(v, ve)))
            return -1;
        ov->count++;
    }
    ov->set = 1;
    return 0;
}

int mk_shard_pg_inc_matches(const mk_pipeline *p, const char *plan, size_t len)
{
    const char *me, *mark = mk_shard_member(plan, plan + len, "mark", &me);
    int inc = mk_shard_pg_incremental(p), same = !mark == !inc;
    const char *ce, *cols = mark ? mk_shard_member(mark, me, "columns", &ce) : NULL;
    if (same && inc) { /* the same columns, in the same order */
        const mk_optval *ov = mk_step_option(&p->sources[0], "incremental");
        const char *q = cols ? mk_json_ws(cols, ce) : NULL, *v, *ve;
        size_t i = 0;
        same = q && *q == '[';
        while (same && mk_json_array_next(&q, ce, &v, &ve) == 1) {
            char *name = mk_json_string_decode(v, ve);
            same = name && i < ov->count && strcmp(name, ov->values[i++]) == 0;
            free(name);
        }
        same = same && i == ov->count;
    }
    if (!same)
        mk_log(MK_LOG_ERROR, "%s: the shard plan was made for %s incremental columns than source "
               "%s has now: make the plan again", p->name, mark ? "other" : "no",
               p->sources[0].name);
    return same;
}

int mk_shard_pg_inc_point(mk_step *src, const char *plan, size_t len, const char *part,
                          const char *part_end)
{
    const char *me, *mark = mk_shard_member(plan, plan + len, "mark", &me);
    const char *fe, *from = mark ? mk_shard_member(mark, me, "from", &fe) : NULL;
    const char *ae, *after = mk_shard_member(part, part_end, "after", &ae);
    const char *ue, *upto = mk_shard_member(part, part_end, "upto", &ue);
    if (!from || !after || !upto) {
        mk_log(MK_LOG_ERROR, "the shard plan has no incremental mark or bounds: make it again "
               "with this mekong (mekong plan)");
        return -1;
    }
    char *state = *from == '{' ? strndup(from, (size_t)(fe - from)) : NULL;
    int rc = (*from == '{' && (!state || set_option(src, "shard_state", state) != 0)) ||
                     set_list(src, "shard_after", after, ae) != 0 ||
                     set_list(src, "shard_upto", upto, ue) != 0
                 ? -1
                 : 0;
    free(state);
    return rc;
}

int mk_shard_pg_point_source(mk_step *src, const char *from, const char *to, uint64_t record,
                             uint64_t rows)
{
    char r[32], n[32];
    snprintf(r, sizeof r, "%" PRIu64, record);
    snprintf(n, sizeof n, "%" PRIu64, rows);
    return (from && set_option(src, "shard_from", from) != 0) ||
                   (to && set_option(src, "shard_to", to) != 0) ||
                   set_option(src, "shard_record", r) != 0 || set_option(src, "shard_rows", n) != 0
               ? -1
               : 0;
}

/* The staging table of sink i in shard k (in the plugin's schema). */
static void stage_name(char *buf, size_t len, const char *plan, size_t i, int k)
{
    snprintf(buf, len, "plan_%s_sink%zu_shard%d", plan, i, k);
}

/* Staging names must stay apart within PostgreSQL's 63 bytes: the ids
 * mekong plan makes (19 hex digits), nothing longer or stranger. */
static int plan_id_ok(const char *plan)
{
    size_t n = strspn(plan, "0123456789abcdef");
    if (n && n <= 24 && !plan[n])
        return 1;
    mk_log(MK_LOG_ERROR,
           "the shard plan's id '%s' is not one mekong plan makes: make the plan again", plan);
    return 0;
}

int mk_shard_pg_point_sink(mk_step *sink, const char *plan, size_t i, int k)
{
    char name[128];
    if (!plan_id_ok(plan))
        return -1;
    stage_name(name, sizeof name, plan, i, k);
    return set_option(sink, "shard_stage", name);
}

/* ---- the merge -------------------------------------------------------------- */

int mk_shard_pg_inc_merge(mk_run *run, const char *plan, size_t len)
{
    const mk_pipeline *p = run->p;
    if (!mk_shard_pg_incremental(p))
        return MK_OK;
    const char *me, *mark = mk_shard_member(plan, plan + len, "mark", &me);
    const char *ne, *next = mark ? mk_shard_member(mark, me, "next", &ne) : NULL;
    char *start = mark ? mk_shard_member_str(mark, me, "start") : NULL;
    char *value = next && *next == '{' ? strndup(next, (size_t)(ne - next)) : NULL, now[65];
    int rc = MK_ERROR;
    if (!start || !next || (*next == '{' && !value))
        mk_run_fail(run, "the shard plan has no incremental mark: make it again");
    else if (mk_state_open(run) == MK_OK) {
        const char *saved = mk_host_state_get(&run->sources[0]);
        mk_shard_state_hash(saved, now);
        if (strcmp(now, start) != 0 && !(saved && value && strcmp(saved, value) == 0))
            mk_run_fail(run, "the mark of source %s changed since the plan was made (a run or "
                        "the merge of another plan advanced it): make the plan again, and run "
                        "its shards", p->sources[0].name);
        else /* no row read: the mark stays, as after one run that read none */
            rc = value ? mk_host_state_set(&run->sources[0], value) : MK_OK;
    }
    free(value);
    free(start);
    return rc;
}

static int set_merge_options(mk_step *s, const char *plan, size_t i, int shards)
{
    mk_optval *ov = option(s, "shard_merge");
    char id[128];
    if (!plan_id_ok(plan))
        return -1;
    snprintf(id, sizeof id, "%s/sink%zu", plan, i);
    if (!ov || set_option(s, "shard_merge_id", id) != 0)
        return -1;
    char **names = calloc((size_t)shards, sizeof(char *));
    for (int k = 0; names && k < shards; k++) {
        char name[128];
        stage_name(name, sizeof name, plan, i, k);
        if (!(names[k] = strdup(name))) {
            for (int j = 0; j < k; j++)
                free(names[j]);
            free(names);
            names = NULL;
        }
    }
    if (!names)
        return -1;
    for (size_t j = 0; j < ov->count; j++)
        free(ov->values[j]);
    free(ov->values);
    ov->values = names;
    ov->count = (size_t)shards;
    ov->set = 1;
    return 0;
}

int mk_shard_pg_merge(mk_run *run, const char *plan, int shards)
{
    mk_pipeline *p = run->p;
    int ok = 1;
    for (size_t i = 0; i < p->nsinks; i++) { /* each applies its staging tables, uncommitted */
        mk_context *c = &run->sinks[i];
        if (!is_postgres(c->step) || !ok)
            continue;
        mk_step *s = &p->sinks[i];
        if (set_merge_options(s, plan, i, shards) != 0) {
            ok = 0;
            mk_run_fail(run, "sink %s: out of memory", s->name);
            break;
        }
        c->error[0] = '\0';
        int rc = s->plugin.desc->sink->open(c, &mk_host_table, &c->state);
        c->opened = 1;
        if (rc != MK_OK) {
            ok = 0;
            mk_run_fail(run, "sink %s: %s", s->name, c->error[0] ? c->error : "merge failed");
        }
    }
    for (size_t i = 0; i < p->nsinks; i++) { /* then commit them all, or roll them all back */
        mk_context *c = &run->sinks[i];
        if (!c->opened)
            continue;
        c->opened = 0;
        if (c->step->plugin.desc->sink->close(c->state, ok) != MK_OK && ok) {
            ok = 0;
            mk_run_fail(run, "sink %s: %s", c->step->name,
                        c->error[0] ? c->error : "commit failed");
        }
    }
    return ok ? MK_OK : MK_ERROR;
}
