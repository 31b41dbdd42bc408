/*
 * run.c -- see run.h.  The host table (what plugins may call) is at the
 * top, the batch loop in the middle, opening/closing and the final
 * accounting at the end.
 */
#include "config.h"

#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"
#include "readahead.h"
#include "runstate.h"
#include "util/textout.h"

static volatile sig_atomic_t stop_signal;

/* Guards what a source's read-ahead thread shares with the main thread:
 * the schema registry and the names of a source's files. */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;

void mk_run_request_stop(int signal_number)
{
    stop_signal = signal_number;
}

static int host_stopping(void)
{
    return stop_signal != 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- host: logging, errors, options ------------------------------------ */

static void host_log(mk_context *ctx, mk_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mk_log(level, "%s %s: %s", mk_role_name(ctx->role), ctx->name, msg);
}

static void host_error(mk_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
}

static mk_optval *find_opt(mk_context *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->opts.count; i++)
        if (strcmp(ctx->opts.v[i].decl->name, name) == 0)
            return &ctx->opts.v[i];
    return NULL;
}

static const char *host_opt_string(mk_context *ctx, const char *name)
{
    mk_optval *ov = find_opt(ctx, name);
    return ov ? ov->value : NULL;
}

static long long host_opt_int(mk_context *ctx, const char *name)
{
    const char *s = host_opt_string(ctx, name);
    return s ? strtoll(s, NULL, 10) : 0;
}

static int host_opt_bool(mk_context *ctx, const char *name)
{
    const char *s = host_opt_string(ctx, name);
    if (!s)
        return 0;
    return strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0 ||
           strcmp(s, "1") == 0;
}

static size_t host_opt_count(mk_context *ctx, const char *name)
{
    mk_optval *ov = find_opt(ctx, name);
    return ov ? ov->count : 0;
}

static int host_opt_entry(mk_context *ctx, const char *name, size_t i, const char **key,
                          const char **value)
{
    mk_optval *ov = find_opt(ctx, name);
    if (!ov || i >= ov->count)
        return MK_ERROR;
    if (key)
        *key = ov->keys ? ov->keys[i] : NULL;
    if (value)
        *value = ov->values[i];
    return MK_OK;
}

static const char *host_step_name(mk_context *ctx)
{
    return ctx->name;
}

static const char *host_pipeline_dir(mk_context *ctx)
{
    return ctx->run->p->dir;
}

static const mk_schema *host_schema_intern(mk_context *ctx, const char *const *names, size_t n)
{
    pthread_mutex_lock(&shared_mu);
    const mk_schema *s = mk_schema_intern(ctx->run->schemas, names, n);
    pthread_mutex_unlock(&shared_mu);
    return s;
}

static mk_batch *host_batch_new(const mk_schema *schema)
{
    return mk_batch_new(schema);
}

/* ---- rules and samples ------------------------------------------------- */

static mk_rule_stat *rule_stat(mk_run *run, mk_context *ctx, const char *rule)
{
    for (size_t i = 0; i < run->nrules; i++)
        if (strcmp(run->rules[i]->name, rule) == 0 && strcmp(run->rules[i]->stage, ctx->name) == 0)
            return run->rules[i];
    mk_rule_stat **grown = realloc(run->rules, (run->nrules + 1) * sizeof(*grown));
    mk_rule_stat *r = calloc(1, sizeof(*r));
    if (!grown || !r) {
        free(r);
        if (grown)
            run->rules = grown;
        return NULL;
    }
    run->rules = grown;
    r->name = strdup(rule);
    r->stage = strdup(ctx->name);
    run->rules[run->nrules++] = r;
    return r;
}

/* "col=value, col=value" excerpt of a row for report samples. */
static char *row_excerpt(const mk_batch *b, size_t row)
{
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t c = 0; c < b->schema->ncols && len < sizeof buf - 1; c++) {
        const mk_value *v = &MK_CELL(b, row, c);
        int n = snprintf(buf + len, sizeof buf - len, "%s%s=%.*s", c ? ", " : "",
                         b->schema->names[c], v->ptr ? (int)(v->len > 80 ? 80 : v->len) : 4,
                         v->ptr ? v->ptr : "null");
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len >= sizeof buf - 1) /* cut at a character boundary */
        len = mk_utf8_valid_prefix(buf, sizeof buf - 1);
    return strndup(buf, len);
}

static const char *source_name(mk_run *run, uint32_t source)
{
    return source < run->p->nsources ? run->p->sources[source].name : "(end of run)";
}

/* "hanoi", or "hanoi/2024.csv" for a file of a multi-file source. */
static void source_label(mk_run *run, uint32_t source, uint32_t part, char *buf, size_t len)
{
    const char *name = source_name(run, source);
    snprintf(buf, len, "%s", name);
    if (source < run->p->nsources) {
        const mk_context *s = &run->p->sources[source];
        pthread_mutex_lock(&shared_mu);
        if (part < s->nparts && s->part_names[part] && s->nparts > 1)
            snprintf(buf, len, "%s/%s", name, s->part_names[part]);
        pthread_mutex_unlock(&shared_mu);
    }
}

static void add_sample(mk_run *run, mk_rule_stat *r, const mk_batch *b, size_t row,
                       uint32_t source, uint64_t position, int rejected, const char *message)
{
    if (!r || r->nsamples >= MK_RULE_SAMPLES)
        return;
    mk_sample *s = &r->samples[r->nsamples++];
    s->source = strdup(source_name(run, source));
    s->position = position;
    s->rejected = rejected;
    s->message = strdup(message ? message : "");
    s->values = b ? row_excerpt(b, row) : strdup("");
}

/* ---- rejects ------------------------------------------------------------ */

static int rejects_write(mk_run *run, const mk_schema *schema, const mk_value *vals, size_t nvals,
                         const mk_rowinfo *info, const char *stage, const char *rule,
                         const char *reason)
{
    static const mk_csv_style st = {',', '"', 0};
    mk_outfile *f = run->rejects;
    const mk_schema *u = run->rejects_schema;
    size_t ncols = u->ncols - 4;
    for (size_t c = 0; c < ncols; c++) {
        long k = -1;
        if (schema && schema->ncols == ncols && schema == run->source_batch->schema && c < nvals &&
            strcmp(schema->names[c], u->names[c]) == 0)
            k = (long)c;
        else if (schema)
            k = mk_schema_find(schema, u->names[c]);
        else if (c < nvals)
            k = (long)c;
        if (k >= 0 && (size_t)k < nvals)
            mk_csv_write_field(f, &st, vals[k].ptr, vals[k].len);
        mk_outfile_putc(f, ',');
    }
    char pos[32], why[4096], src[1024];
    snprintf(pos, sizeof pos, "%" PRIu64, info->position);
    snprintf(why, sizeof why, "%s: %s", rule, reason);
    source_label(run, info->source, info->part, src, sizeof src);
    mk_csv_write_field(f, &st, src, strlen(src));
    mk_outfile_putc(f, ',');
    mk_csv_write_field(f, &st, pos, strlen(pos));
    mk_outfile_putc(f, ',');
    mk_csv_write_field(f, &st, stage, strlen(stage));
    mk_outfile_putc(f, ',');
    mk_csv_write_field(f, &st, why, strlen(why));
    return mk_outfile_putc(f, '\n');
}

/* Reject row of batch b: the original fields as the source read them go
 * to the rejects file. */
static int reject_row(mk_context *ctx, const mk_batch *b, size_t row, const char *rule,
                      const char *reason)
{
    mk_run *run = ctx->run;
    const mk_rowinfo *info = &b->info[row];
    const mk_batch *orig = run->source_batch;
    int rc;
    if (info->source != MK_NO_SOURCE && orig && info->origin < orig->nrows)
        rc = rejects_write(run, orig->schema, &MK_CELL(orig, info->origin, 0), orig->schema->ncols,
                           info, ctx->name, rule, reason);
    else
        rc = rejects_write(run, b->schema, b->nrows ? &MK_CELL(b, row, 0) : NULL,
                           b->schema->ncols, info, ctx->name, rule, reason);
    mk_rule_stat *r = rule_stat(run, ctx, rule);
    if (r)
        r->rejected++;
    add_sample(run, r, b, row, info->source, info->position, 1, reason);
    ctx->rows_rejected++;
    run->rejected++;
    if (rc != 0) {
        host_error(ctx, "cannot write the rejects file: %s", strerror(run->rejects->err));
        return MK_ERROR;
    }
    return MK_OK;
}

/* Record the fate of input row `row` of the transform call in progress. */
static int set_fate(mk_context *ctx, const mk_batch *in, size_t row, mk_fate fate)
{
    mk_run *run = ctx->run;
    if (ctx->role == MK_ROLE_SINK)
        return MK_OK;
    if (run->cur_stage != ctx || run->cur_in != in || row >= in->nrows) {
        host_error(ctx, "plugin gave a fate to row %zu of a batch it is not processing", row);
        run->fate_error = 1;
        return MK_ERROR;
    }
    unsigned char *f = &run->fate[row];
    if (*f == FATE_PASS && fate == FATE_PASS)
        return MK_OK; /* emitting several rows from one */
    if (*f != FATE_NONE) {
        host_error(ctx, "row %zu was given two fates (a row is passed, rejected or dropped once)",
                   row);
        run->fate_error = 1;
        return MK_ERROR;
    }
    *f = (unsigned char)fate;
    return MK_OK;
}

static int host_row_reject(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                           const char *reason)
{
    if (set_fate(ctx, in, row, FATE_REJECT) != MK_OK)
        return MK_ERROR;
    if (ctx->role == MK_ROLE_SINK) {
        mk_run *run = ctx->run;
        if (in != run->sink_in || row >= in->nrows) {
            host_error(ctx, "sink rejected row %zu of a batch it is not writing", row);
            return MK_ERROR;
        }
        if (run->sink_rejected_row[row]) { /* an earlier sink refused it: counted once */
            ctx->rows_rejected++;
            return MK_OK;
        }
        run->sink_rejected_row[row] = 1;
        run->sink_rejected++;
    }
    return reject_row(ctx, in, row, rule ? rule : ctx->plugin_name, reason ? reason : "rejected");
}

static void host_text_checked(mk_context *ctx)
{
    ctx->text_checked = 1;
}

static int host_batch_text_checked(mk_context *ctx, const mk_batch *b)
{
    return ctx->role == MK_ROLE_SINK && b == ctx->run->sink_in && ctx->run->sink_in_checked;
}

static int host_row_drop(mk_context *ctx, const mk_batch *in, size_t row)
{
    if (set_fate(ctx, in, row, FATE_DROP) != MK_OK)
        return MK_ERROR;
    ctx->rows_dropped++;
    ctx->run->dropped++;
    return MK_OK;
}

static int host_row_warn(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                         const char *message)
{
    mk_run *run = ctx->run;
    mk_rule_stat *r = rule_stat(run, ctx, rule ? rule : ctx->plugin_name);
    if (!r)
        return MK_NOMEM;
    r->warned++;
    run->warned++;
    add_sample(run, r, in, row, in->info[row].source, in->info[row].position, 0, message);
    return MK_OK;
}

static void host_rule_checked(mk_context *ctx, const char *rule, uint64_t rows)
{
    mk_rule_stat *r = rule_stat(ctx->run, ctx, rule);
    if (r)
        r->checked += rows;
}

static int host_row_pass(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out)
{
    if (set_fate(ctx, in, row, FATE_PASS) != MK_OK)
        return MK_ERROR;
    size_t r = mk_batch_add_row(out);
    if (r == (size_t)-1)
        return MK_NOMEM;
    out->info[r] = in->info[row];
    size_t n = in->schema->ncols;
    if (out->schema == in->schema) {
        memcpy(&MK_CELL(out, r, 0), &MK_CELL(in, row, 0), n * sizeof(mk_value));
    } else {
        for (size_t c = 0; c < out->schema->ncols; c++) {
            long k = mk_schema_find(in->schema, out->schema->names[c]);
            if (k >= 0)
                MK_CELL(out, r, c) = MK_CELL(in, row, (size_t)k);
        }
    }
    return MK_OK;
}

static size_t host_row_emit(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out)
{
    if (set_fate(ctx, in, row, FATE_PASS) != MK_OK)
        return (size_t)-1;
    size_t r = mk_batch_add_row(out);
    if (r != (size_t)-1)
        out->info[r] = in->info[row];
    return r;
}

/* A source's record that cannot be a row goes to the rejects file now (on
 * the main thread). */
static int source_reject_now(mk_context *ctx, const mk_value *fields, size_t nfields,
                             uint64_t position, uint32_t part, const char *rule,
                             const char *reason)
{
    mk_run *run = ctx->run;
    const mk_schema *schema = ctx->plugin.desc->source->schema(ctx->state);
    char why[4096];
    size_t ncols = schema ? schema->ncols : 0;
    if (nfields > ncols && ncols > 0) {
        /* keep the fields the header has no column for in the reason */
        size_t len = (size_t)snprintf(why, sizeof why, "%s; fields beyond the header:", reason);
        for (size_t i = ncols; i < nfields && len < sizeof why; i++)
            len += (size_t)snprintf(why + len, sizeof why - len, " [%.*s]",
                                    fields[i].ptr ? (int)fields[i].len : 0,
                                    fields[i].ptr ? fields[i].ptr : "");
        reason = why;
    }
    uint32_t source = (uint32_t)ctx->index;
    mk_rowinfo info = {source, 0, position, part};
    int rc = rejects_write(run, NULL, fields, nfields < ncols ? nfields : ncols, &info, ctx->name,
                           rule, reason);
    mk_rule_stat *r = rule_stat(run, ctx, rule);
    if (r) {
        r->rejected++;
        add_sample(run, r, NULL, 0, source, position, 1, reason);
    }
    ctx->rows_rejected++;
    run->rejected++;
    run->read++;
    return rc == 0 ? MK_OK : MK_ERROR;
}

/* While a source reads on its read-ahead thread, its rejects wait with
 * their batch (see readahead.h). */
static int host_source_reject(mk_context *ctx, const mk_value *fields, size_t nfields,
                              uint64_t position, const char *rule, const char *reason)
{
    if (ctx->readahead)
        return mk_readahead_defer(ctx->readahead, fields, nfields, position, ctx->current_part,
                                  rule, reason);
    return source_reject_now(ctx, fields, nfields, position, ctx->current_part, rule, reason);
}

static void host_source_part(mk_context *ctx, uint32_t part, const char *name)
{
    ctx->current_part = part;
    pthread_mutex_lock(&shared_mu);
    if (part >= ctx->nparts) {
        char **grown = realloc(ctx->part_names, (part + 1) * sizeof(char *));
        if (!grown) {
            pthread_mutex_unlock(&shared_mu);
            return;
        }
        for (size_t i = ctx->nparts; i <= part; i++)
            grown[i] = NULL;
        ctx->part_names = grown;
        ctx->nparts = part + 1;
    }
    free(ctx->part_names[part]);
    const char *base = strrchr(name, '/');
    ctx->part_names[part] = strdup(base ? base + 1 : name);
    pthread_mutex_unlock(&shared_mu);
}

static void report_entry(mk_context *ctx, const char *key, const char *value, int64_t delta,
                         int is_number)
{
    size_t i;
    for (i = 0; i < ctx->report_count; i++)
        if (strcmp(ctx->report_keys[i], key) == 0)
            break;
    if (i == ctx->report_count) {
        size_t n = i + 1;
        char **k = realloc(ctx->report_keys, n * sizeof(char *));
        if (k)
            ctx->report_keys = k;
        char **v = realloc(ctx->report_values, n * sizeof(char *));
        if (v)
            ctx->report_values = v;
        int64_t *num = realloc(ctx->report_numbers, n * sizeof(int64_t));
        if (num)
            ctx->report_numbers = num;
        unsigned char *isn = realloc(ctx->report_is_number, n);
        if (isn)
            ctx->report_is_number = isn;
        if (!k || !v || !num || !isn)
            return;
        ctx->report_keys[i] = strdup(key);
        ctx->report_values[i] = NULL;
        ctx->report_numbers[i] = 0;
        ctx->report_is_number[i] = (unsigned char)is_number;
        ctx->report_count = n;
    }
    if (is_number) {
        ctx->report_numbers[i] += delta;
    } else {
        free(ctx->report_values[i]);
        ctx->report_values[i] = strdup(value);
        ctx->report_is_number[i] = 0;
    }
}

static void host_report_set(mk_context *ctx, const char *key, const char *value)
{
    report_entry(ctx, key, value, 0, 0);
}

static void host_report_add(mk_context *ctx, const char *key, int64_t delta)
{
    report_entry(ctx, key, NULL, delta, 1);
}

const mk_host mk_host_table = {
    .size = sizeof(mk_host),
    .log = host_log,
    .error = host_error,
    .opt_string = host_opt_string,
    .opt_int = host_opt_int,
    .opt_bool = host_opt_bool,
    .opt_count = host_opt_count,
    .opt_entry = host_opt_entry,
    .step_name = host_step_name,
    .pipeline_dir = host_pipeline_dir,
    .schema_intern = host_schema_intern,
    .batch_add_row = mk_batch_add_row,
    .batch_alloc = mk_batch_alloc,
    .batch_set = mk_batch_set,
    .batch_new = host_batch_new,
    .batch_reset = mk_batch_reset,
    .batch_free = mk_batch_free,
    .row_reject = host_row_reject,
    .row_drop = host_row_drop,
    .row_warn = host_row_warn,
    .rule_checked = host_rule_checked,
    .row_pass = host_row_pass,
    .row_emit = host_row_emit,
    .source_reject = host_source_reject,
    .source_part = host_source_part,
    .report_set = host_report_set,
    .report_add = host_report_add,
    .stopping = host_stopping,
    .text_checked = host_text_checked,
    .batch_text_checked = host_batch_text_checked,
};

/* ---- the batch loop ------------------------------------------------------ */

static int fail(mk_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(mk_run *run, const char *fmt, ...)
{
    if (run->failure[0])
        return MK_ERROR; /* keep the first cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->failure, sizeof run->failure, fmt, ap);
    va_end(ap);
    return MK_ERROR;
}

static int step_failed(mk_run *run, mk_context *ctx, const char *what, int rc)
{
    if (rc == MK_NOMEM && !ctx->error[0])
        snprintf(ctx->error, sizeof ctx->error, "out of memory");
    if (rc == MK_STOPPED)
        return fail(run, "interrupted");
    return fail(run, "%s %s (plugin %s) failed in %s: %s", mk_role_name(ctx->role), ctx->name,
                ctx->plugin_name, what, ctx->error[0] ? ctx->error : "no message given");
}

static void show_progress(mk_run *run, int final)
{
    if (!run->show_progress)
        return;
    double t = now_seconds();
    double start = (double)run->started.tv_sec + (double)run->started.tv_nsec / 1e9;
    if (!final && t - run->last_progress < 0.5)
        return;
    run->last_progress = t;
    double el = t - start;
    if (final) {
        fputs("\r\033[K", stderr);
        mk_log_progress_shown(0);
        return;
    }
    fprintf(stderr, "\r\033[K%" PRIu64 " rows read, %" PRIu64 " written, %.0f rows/s", run->read,
            run->written, el > 0 ? (double)run->read / el : 0.0);
    mk_log_progress_shown(1);
}

static mk_batch *stage_batch(mk_run *run, size_t depth)
{
    if (depth >= run->stage_out_count) {
        size_t n = depth + 1;
        mk_batch **grown = realloc(run->stage_out, n * sizeof(*grown));
        if (!grown)
            return NULL;
        run->stage_out = grown;
        for (size_t i = run->stage_out_count; i < n; i++)
            run->stage_out[i] = NULL;
        run->stage_out_count = n;
    }
    if (!run->stage_out[depth])
        run->stage_out[depth] = mk_batch_new(NULL);
    return run->stage_out[depth];
}

/* One transform over one batch, with fate checks and counters. */
static int transform_batch(mk_run *run, mk_context *t, const mk_batch *in, mk_batch *out)
{
    if (in->nrows > run->fate_cap) {
        unsigned char *f = realloc(run->fate, in->nrows);
        if (!f)
            return fail(run, "out of memory");
        run->fate = f;
        run->fate_cap = in->nrows;
    }
    memset(run->fate, 0, in->nrows);
    mk_batch_reset(out, in->schema);
    run->cur_stage = t;
    run->cur_in = in;
    run->fate_error = 0;
    int rc = t->plugin.desc->transform->process(t->state, in, out);
    run->cur_stage = NULL;
    run->cur_in = NULL;
    if (rc != MK_OK || run->fate_error)
        return step_failed(run, t, "process", rc == MK_OK ? MK_ERROR : rc);
    uint64_t passed = 0;
    for (size_t i = 0; i < in->nrows; i++) {
        if (run->fate[i] == FATE_NONE)
            return fail(run,
                        "transform %s (plugin %s) left row %zu of a batch without a fate: each "
                        "row must be passed, rejected or dropped (a plugin bug)",
                        t->name, t->plugin_name, i);
        passed += run->fate[i] == FATE_PASS;
    }
    t->rows_in += in->nrows;
    t->rows_passed += passed;
    t->rows_out += out->nrows;
    run->added += out->nrows - passed;
    return MK_OK;
}

/* Write a batch to every sink.  An empty batch reaches them only when no
 * row did (see announce_columns). */
static int sinks_write(mk_run *run, const mk_batch *b, int checked)
{
    if (b->nrows == 0 && run->reached_sinks > 0)
        return MK_OK;
    run->reached_sinks += b->nrows;
    if (b->nrows > run->sink_rejected_cap) {
        unsigned char *m = realloc(run->sink_rejected_row, b->nrows);
        if (!m)
            return fail(run, "out of memory");
        run->sink_rejected_row = m;
        run->sink_rejected_cap = b->nrows;
    }
    if (b->nrows)
        memset(run->sink_rejected_row, 0, b->nrows);
    run->sink_in = b;
    run->sink_in_checked = checked;
    for (size_t i = 0; i < run->p->nsinks; i++) {
        mk_context *s = &run->p->sinks[i];
        uint64_t before = s->rows_rejected;
        int rc = s->plugin.desc->sink->write(s->state, b);
        if (rc != MK_OK)
            return step_failed(run, s, "write", rc);
        s->rows_written += b->nrows - (s->rows_rejected - before);
    }
    return MK_OK;
}

/* Run batch b through stages[from..n) and then the sinks. */
static int flow(mk_run *run, mk_context **stages, size_t n, size_t from, mk_batch *b,
                int checked)
{
    const mk_batch *cur = b;
    for (size_t i = from; i < n; i++) {
        mk_batch *out = stage_batch(run, i);
        if (!out)
            return fail(run, "out of memory");
        if (transform_batch(run, stages[i], cur, out) != MK_OK)
            return MK_ERROR;
        cur = out;
        checked = checked && stages[i]->text_checked;
    }
    return sinks_write(run, cur, checked);
}

/* The stages a row of source s passes: its own chain, then the pipeline's. */
static mk_context **stages_of(mk_run *run, mk_context *src, size_t *n)
{
    mk_pipeline *p = run->p;
    *n = src->chain_len + p->ntransforms;
    mk_context **st = calloc(*n ? *n : 1, sizeof(*st));
    if (!st)
        return NULL;
    for (size_t i = 0; i < src->chain_len; i++)
        st[i] = &src->chain[i];
    for (size_t i = 0; i < p->ntransforms; i++)
        st[src->chain_len + i] = &p->transforms[i];
    return st;
}

static int read_source(mk_run *run, mk_context *src)
{
    size_t nstages;
    mk_context **stages = stages_of(run, src, &nstages);
    if (!stages)
        return fail(run, "out of memory");
    const mk_schema *schema = src->plugin.desc->source->schema(src->state);
    mk_readahead *ra = mk_readahead_start(src, src->plugin.desc->source, src->state, schema,
                                          run->p->batch_rows);
    if (!ra) {
        free(stages);
        return fail(run, "cannot start reading %s: out of memory or threads", src->name);
    }
    src->readahead = ra;
    int rc = MK_OK;
    for (;;) {
        mk_readahead_batch *rb = mk_readahead_next(ra);
        mk_batch *b = rb->batch;
        run->source_batch = b;
        for (size_t i = 0; i < rb->nrejects && rc == MK_OK; i++) {
            mk_deferred_reject *d = &rb->rejects[i];
            if (source_reject_now(src, d->fields, d->nfields, d->position, d->part, d->rule,
                                  d->reason) != MK_OK)
                rc = fail(run, "cannot write the rejects file");
        }
        int r = rb->status;
        if (rc == MK_OK && r != MK_OK && r != MK_DONE)
            rc = step_failed(run, src, "reading", r);
        if (rc != MK_OK)
            break;
        for (size_t i = 0; i < b->nrows; i++)
            b->info[i].source = (uint32_t)src->index;
        src->rows_out += b->nrows;
        run->read += b->nrows;
        if (flow(run, stages, nstages, 0, b, src->text_checked) != MK_OK) {
            rc = MK_ERROR;
            break;
        }
        run->written = run->reached_sinks - run->sink_rejected;
        show_progress(run, 0);
        mk_readahead_release(ra);
        if (stop_signal) {
            rc = fail(run, "interrupted by %s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
            break;
        }
        if (r == MK_DONE)
            break;
    }
    mk_readahead_stop(ra);
    src->readahead = NULL;
    run->source_batch = run->own_source_batch;
    free(stages);
    return rc;
}

/* When no row reached the sinks, send them one empty batch with the
 * columns the first source's rows would have had, so a header-only input
 * still gives a file with a header. */
static int announce_columns(mk_run *run)
{
    mk_pipeline *p = run->p;
    if (run->reached_sinks > 0 || p->nsources == 0)
        return MK_OK;
    mk_context *src = &p->sources[0];
    size_t n;
    mk_context **stages = stages_of(run, src, &n);
    if (!stages)
        return fail(run, "out of memory");
    mk_batch_reset(run->source_batch, src->plugin.desc->source->schema(src->state));
    int rc = flow(run, stages, n, 0, run->source_batch, 0);
    free(stages);
    return rc;
}

/* End of input: each of the first `nfinish` stages may emit rows, which go
 * through the stages after it and then the sinks. */
static int finish_stages(mk_run *run, mk_context **stages, size_t n, size_t nfinish)
{
    for (size_t i = 0; i < nfinish; i++) {
        mk_context *t = stages[i];
        if (!t->plugin.desc->transform->finish)
            continue;
        /* a batch beyond the per-depth ones that flow() uses */
        mk_batch *out = stage_batch(run, n + 1);
        if (!out)
            return fail(run, "out of memory");
        mk_batch_reset(out, NULL);
        run->source_batch->nrows = 0; /* rows made at the end have no source row */
        int rc = t->plugin.desc->transform->finish(t->state, out);
        if (rc != MK_OK)
            return step_failed(run, t, "finish", rc);
        for (size_t r = 0; r < out->nrows; r++) {
            out->info[r].source = MK_NO_SOURCE;
            out->info[r].origin = 0;
            out->info[r].position = 0;
        }
        t->rows_out += out->nrows;
        run->added += out->nrows;
        /* nothing emitted: the stages after it would see a batch without
         * columns (and map would find none of the columns it names) */
        if (out->nrows == 0)
            continue;
        if (flow(run, stages, n, i + 1, out, t->text_checked) != MK_OK)
            return MK_ERROR;
    }
    return MK_OK;
}

static int finish_all(mk_run *run)
{
    mk_pipeline *p = run->p;
    int rc = MK_OK;
    /* each source's own chain first; its rows continue through the
     * pipeline's transforms */
    for (size_t s = 0; s < p->nsources && rc == MK_OK; s++) {
        mk_context *src = &p->sources[s];
        if (src->chain_len == 0)
            continue;
        size_t n;
        mk_context **st = stages_of(run, src, &n);
        if (!st)
            return fail(run, "out of memory");
        rc = finish_stages(run, st, n, src->chain_len);
        free(st);
    }
    if (rc != MK_OK || p->nsources == 0)
        return rc;
    /* the pipeline's transforms: the tail of any source's stage list */
    size_t n;
    mk_context **st = stages_of(run, &p->sources[0], &n);
    if (!st)
        return fail(run, "out of memory");
    size_t skip = p->sources[0].chain_len;
    rc = finish_stages(run, st + skip, n - skip, n - skip);
    free(st);
    return rc;
}

/* ---- opening and closing ------------------------------------------------ */

static int open_step(mk_run *run, mk_context *ctx)
{
    ctx->run = run;
    ctx->error[0] = '\0';
    const mk_plugin *d = ctx->plugin.desc;
    int rc;
    switch (ctx->role) {
    case MK_ROLE_SOURCE: rc = d->source->open(ctx, &mk_host_table, &ctx->state); break;
    case MK_ROLE_TRANSFORM: rc = d->transform->open(ctx, &mk_host_table, &ctx->state); break;
    default: rc = d->sink->open(ctx, &mk_host_table, &ctx->state); break;
    }
    ctx->opened = 1;
    if (rc != MK_OK)
        return step_failed(run, ctx, "open", rc);
    return MK_OK;
}

/* The rejects file's columns: every source's columns, in order of first
 * appearance, then _source, _line, _stage, _reason. */
static int open_rejects(mk_run *run)
{
    mk_pipeline *p = run->p;
    const char **names = NULL;
    size_t n = 0;
    for (size_t s = 0; s < p->nsources; s++) {
        const mk_schema *sc = p->sources[s].plugin.desc->source->schema(p->sources[s].state);
        for (size_t c = 0; sc && c < sc->ncols; c++) {
            size_t k;
            for (k = 0; k < n; k++)
                if (strcmp(names[k], sc->names[c]) == 0)
                    break;
            if (k < n)
                continue;
            const char **grown = realloc(names, (n + 5) * sizeof(char *));
            if (!grown) {
                free(names);
                return fail(run, "out of memory");
            }
            names = grown;
            names[n++] = sc->names[c];
        }
    }
    const char **grown = realloc(names, (n + 4) * sizeof(char *));
    if (!grown) {
        free(names);
        return fail(run, "out of memory");
    }
    names = grown;
    names[n++] = "_source";
    names[n++] = "_line";
    names[n++] = "_stage";
    names[n++] = "_reason";
    run->rejects_schema = mk_schema_intern(run->schemas, names, n);
    free(names);
    char err[1024];
    run->rejects = mk_outfile_open(p->rejects_path, err, sizeof err);
    if (!run->rejects)
        return fail(run, "rejects: %s", err);
    static const mk_csv_style st = {',', '"', 0};
    for (size_t c = 0; c < run->rejects_schema->ncols; c++) {
        if (c)
            mk_outfile_putc(run->rejects, ',');
        const char *name = run->rejects_schema->names[c];
        mk_csv_write_field(run->rejects, &st, name, strlen(name));
    }
    mk_outfile_putc(run->rejects, '\n');
    return MK_OK;
}

static void close_transform(mk_context *t)
{
    if (t->opened && t->plugin.desc && t->plugin.desc->transform->close)
        t->plugin.desc->transform->close(t->state);
    t->opened = 0;
}

static int close_everything(mk_run *run, int commit)
{
    mk_pipeline *p = run->p;
    int rc = MK_OK;
    for (size_t i = 0; i < p->nsources; i++) {
        mk_context *s = &p->sources[i];
        for (size_t k = 0; k < s->chain_len; k++)
            close_transform(&s->chain[k]);
        if (s->opened && s->plugin.desc->source->close)
            s->plugin.desc->source->close(s->state);
        s->opened = 0;
    }
    for (size_t i = 0; i < p->ntransforms; i++)
        close_transform(&p->transforms[i]);
    for (size_t i = 0; i < p->nsinks; i++) {
        mk_context *s = &p->sinks[i];
        if (!s->opened)
            continue;
        s->opened = 0;
        s->error[0] = '\0';
        if (s->plugin.desc->sink->close(s->state, commit) != MK_OK && commit) {
            step_failed(run, s, "close", MK_ERROR);
            commit = 0; /* one sink failed to publish: the rest must not */
            rc = MK_ERROR;
        }
    }
    if (run->rejects) {
        char err[1024];
        if (commit) {
            if (mk_outfile_commit(run->rejects, err, sizeof err) != 0)
                rc = fail(run, "rejects: %s", err);
        } else {
            mk_outfile_abort(run->rejects);
        }
        run->rejects = NULL;
    }
    return rc;
}

static int open_everything(mk_run *run)
{
    mk_pipeline *p = run->p;
    for (size_t i = 0; i < p->nsources; i++) {
        if (open_step(run, &p->sources[i]) != MK_OK)
            return MK_ERROR;
        for (size_t k = 0; k < p->sources[i].chain_len; k++)
            if (open_step(run, &p->sources[i].chain[k]) != MK_OK)
                return MK_ERROR;
    }
    for (size_t i = 0; i < p->ntransforms; i++)
        if (open_step(run, &p->transforms[i]) != MK_OK)
            return MK_ERROR;
    if (open_rejects(run) != MK_OK)
        return MK_ERROR;
    for (size_t i = 0; i < p->nsinks; i++)
        if (open_step(run, &p->sinks[i]) != MK_OK)
            return MK_ERROR;
    return MK_OK;
}

/* ---- accounting and thresholds ----------------------------------------- */

static void add_threshold_failure(mk_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_threshold_failure(mk_run *run, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **grown = realloc(run->threshold_failures, (run->nthreshold_failures + 1) * sizeof(char *));
    if (!grown)
        return;
    run->threshold_failures = grown;
    run->threshold_failures[run->nthreshold_failures++] = strdup(msg);
}

static void check_thresholds(mk_run *run)
{
    mk_pipeline *p = run->p;
    for (size_t i = 0; i < p->nthresholds; i++) {
        mk_threshold *t = &p->thresholds[i];
        if (!t->rule) {
            double share = run->read ? (double)run->rejected / (double)run->read : 0.0;
            if (share > t->max_share)
                add_threshold_failure(run, "%.2f%% of rows were rejected; the limit is %.2f%%",
                                      share * 100, t->max_share * 100);
            continue;
        }
        uint64_t rejected = 0, checked = 0;
        for (size_t r = 0; r < run->nrules; r++) {
            if (strcmp(run->rules[r]->name, t->rule) != 0)
                continue;
            rejected += run->rules[r]->rejected;
            checked += run->rules[r]->checked;
        }
        if (!checked)
            checked = run->read;
        double share = checked ? (double)rejected / (double)checked : 0.0;
        if (share > t->max_share)
            add_threshold_failure(run, "rule %s rejected %.2f%% of the rows it checked; the limit is %.2f%%",
                                  t->rule, share * 100, t->max_share * 100);
    }
}

static int accounts_balance(mk_run *run)
{
    mk_pipeline *p = run->p;
    run->written = run->reached_sinks - run->sink_rejected;
    if (run->read + run->added != run->written + run->rejected + run->dropped)
        return 0;
    for (size_t i = 0; i < p->nsinks; i++)
        if (p->sinks[i].rows_written + p->sinks[i].rows_rejected != run->reached_sinks)
            return 0;
    return 1;
}

static void free_run(mk_run *run)
{
    mk_batch_free(run->own_source_batch);
    for (size_t i = 0; i < run->stage_out_count; i++)
        mk_batch_free(run->stage_out[i]);
    free(run->stage_out);
    free(run->fate);
    free(run->sink_rejected_row);
    for (size_t i = 0; i < run->nrules; i++) {
        mk_rule_stat *r = run->rules[i];
        for (size_t k = 0; k < r->nsamples; k++) {
            free(r->samples[k].source);
            free(r->samples[k].message);
            free(r->samples[k].values);
        }
        free(r->name);
        free(r->stage);
        free(r);
    }
    free(run->rules);
    for (size_t i = 0; i < run->nthreshold_failures; i++)
        free(run->threshold_failures[i]);
    free(run->threshold_failures);
    mk_schema_registry_free(run->schemas);
}

int mk_run_pipeline(mk_pipeline *p, const mk_run_options *o)
{
    mk_run run;
    memset(&run, 0, sizeof run);
    run.p = p;
    run.show_progress = o->progress;
    run.schemas = mk_schema_registry_new();
    run.source_batch = run.own_source_batch = mk_batch_new(NULL);
    clock_gettime(CLOCK_MONOTONIC, &run.started);
    run.started_wall = time(NULL);
    if (!run.schemas || !run.source_batch) {
        mk_log(MK_LOG_ERROR, "out of memory");
        free_run(&run);
        return MK_EXIT_FAILED;
    }

    int ok = open_everything(&run) == MK_OK;
    for (size_t i = 0; ok && i < p->nsources; i++)
        ok = read_source(&run, &p->sources[i]) == MK_OK;
    if (ok)
        ok = finish_all(&run) == MK_OK;
    if (ok)
        ok = announce_columns(&run) == MK_OK;
    show_progress(&run, 1);

    run.balanced = accounts_balance(&run);
    if (ok && !run.balanced)
        ok = fail(&run, "row accounts do not add up (a plugin bug): see the report") == MK_OK;
    if (ok)
        check_thresholds(&run);
    int threshold_failed = run.nthreshold_failures > 0;
    int commit = ok && (!threshold_failed || p->publish_on_threshold);
    if (close_everything(&run, commit) != MK_OK)
        ok = 0;
    run.balanced = accounts_balance(&run);

    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    run.elapsed = (double)(end.tv_sec - run.started.tv_sec) +
                  (double)(end.tv_nsec - run.started.tv_nsec) / 1e9;
    run.status = !ok ? "failed" : threshold_failed ? "threshold" : "ok";

    const char *report = o->report_path ? o->report_path : p->report_path;
    if (report && mk_report_write(&run, report, p->html_report_path) != 0 && ok) {
        ok = 0;
        run.status = "failed";
    }

    int code;
    if (!ok) {
        mk_log(MK_LOG_ERROR, "run failed: %s; nothing was published%s%s",
               run.failure[0] ? run.failure : "see the messages above",
               report ? ", report: " : "", report ? report : "");
        code = MK_EXIT_FAILED;
    } else {
        for (size_t i = 0; i < run.nthreshold_failures; i++)
            mk_log(MK_LOG_ERROR, "quality threshold crossed: %s", run.threshold_failures[i]);
        mk_log(threshold_failed ? MK_LOG_ERROR : MK_LOG_INFO,
               "%s: %" PRIu64 " rows read, %" PRIu64 " written, %" PRIu64 " rejected, %" PRIu64
               " dropped in %.2f s (%.0f rows/s)%s",
               p->name, run.read, run.written, run.rejected, run.dropped, run.elapsed,
               run.elapsed > 0 ? (double)run.read / run.elapsed : 0.0,
               threshold_failed ? (commit ? "; published anyway (publish_on_failure)"
                                          : "; outputs not published")
                                : "");
        code = threshold_failed ? MK_EXIT_THRESHOLD : MK_EXIT_OK;
    }
    free_run(&run);
    return code;
}
