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
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run_internal.h"
#include "shard.h"
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
    if (inc && inc->count) {
        snprintf(msg, len, "source %s has incremental, which shards do not support yet", src->name);
        return 0;
    }
    return 1;
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
        mk_json_write_string(f, s, strlen(s), MK_JSON_REPLACE, NULL);
    else
        mk_outfile_puts(f, "null");
}

static void put_num(mk_outfile *f, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, v);
    mk_outfile_puts(f, b);
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

static void write_parts(mk_outfile *f, const mk_step *src, const mk_context *c, int n)
{
    long t = report_index(c, "shard_total");
    uint64_t total = t >= 0 ? (uint64_t)c->report_numbers[t] : 0;
    mk_outfile_puts(f, ",\n  \"table\": ");
    put_str_or_null(f, mk_step_option(src, "table")->value);
    mk_outfile_puts(f, ",\n  \"key\": ");
    put_str_or_null(f, mk_step_option(src, "shard_key")->value);
    mk_outfile_puts(f, ",\n  \"records\": ");
    put_num(f, total);
    mk_outfile_puts(f, ",\n  \"parts\": [");
    for (int k = 0; k < n; k++) {
        uint64_t lo, hi;
        const char *from = cut(c, k, n, total, &lo), *to = cut(c, k + 1, n, total, &hi);
        mk_outfile_puts(f, k ? ",\n    {\"shard\": " : "\n    {\"shard\": ");
        put_num(f, (uint64_t)k);
        mk_outfile_puts(f, ", \"from\": ");
        put_str_or_null(f, from);
        mk_outfile_puts(f, ", \"to\": ");
        put_str_or_null(f, to);
        mk_outfile_puts(f, ", \"record\": ");
        put_num(f, lo);
        mk_outfile_puts(f, ", \"rows\": ");
        put_num(f, hi - lo);
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

int mk_shard_pg_plan(mk_pipeline *p, int n, const char *dir)
{
    mk_run run;
    memset(&run, 0, sizeof run);
    run.p = p;
    mk_context c;
    memset(&c, 0, sizeof c);
    c.run = &run;
    char msg[1200];
    char *plan = mk_shard_plan_path(dir);
    int rc = plan && find_cuts(p, n, &c) == 0 ? MK_EXIT_OK : MK_EXIT_FAILED;
    mk_outfile *f = rc == MK_EXIT_OK ? mk_outfile_open(plan, msg, sizeof msg) : NULL;
    if (rc == MK_EXIT_OK && !f) {
        mk_log(MK_LOG_ERROR, "cannot write the shard plan: %s", msg);
        rc = MK_EXIT_FAILED;
    }
    if (f) {
        mk_shard_plan_head(f, p, n, "keys");
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
    return rc;
}

/* ---- a shard -------------------------------------------------------------- */

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
