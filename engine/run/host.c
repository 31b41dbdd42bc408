/*
 * host.c -- the host table: every call a plugin can make (mekong.h), in
 * one place.  The calls that give rows their fates are in fates.c; this
 * file has the rest: logging and errors, options, names, schemas and
 * batches, report counters, where a row came from.
 *
 * What a source's read-ahead thread shares with the main thread (the
 * schema registry, the names of a source's files) is guarded by one mutex.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "run_internal.h"
#include "util/words.h"

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- logging, errors, status messages ----------------------------------- */

static void host_log(mk_context *ctx, mk_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mk_log(level, "%s %s: %s", mk_role_name(ctx->step->role), ctx->step->name, msg);
}

void mk_host_error(mk_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
}

static const char *host_status_message(int status)
{
    switch (status) {
    case MK_OK: return "ok";
    case MK_DONE: return "no more data";
    case MK_ERROR: return "failed (see the step's message)";
    case MK_NOMEM: return "out of memory";
    case MK_STOPPED: return "interrupted (SIGINT or SIGTERM)";
    case MK_BADARG: return "a host call was given a row, batch or name it cannot use";
    default: return "unknown status";
    }
}

static int host_stopping(void)
{
    return mk_run_stop_requested();
}

/* ---- options and names -------------------------------------------------- */

static const char *host_opt_string(mk_context *ctx, const char *name)
{
    const mk_optval *ov = mk_step_option(ctx->step, name);
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
    const mk_optval *ov = mk_step_option(ctx->step, name);
    return ov ? ov->count : 0;
}

static int host_opt_entry(mk_context *ctx, const char *name, size_t i, const char **key,
                          const char **value)
{
    const mk_optval *ov = mk_step_option(ctx->step, name);
    if (!ov || i >= ov->count)
        return MK_ERROR;
    if (key)
        *key = ov->keys ? ov->keys[i] : NULL;
    if (value)
        *value = ov->values[i];
    return MK_OK;
}

/* The index of the value among "a|b|c" (pipeline.c allowed no other). */
static int host_opt_choice(mk_context *ctx, const char *name)
{
    const mk_optval *ov = mk_step_option(ctx->step, name);
    if (!ov || !ov->value || !ov->decl->choices)
        return -1;
    return mk_choice_index(ov->decl->choices, ov->value);
}

static const char *host_step_name(mk_context *ctx)
{
    return ctx->step->name;
}

static const char *host_pipeline_dir(mk_context *ctx)
{
    return ctx->run->p->dir;
}

/* ---- schemas and batches ------------------------------------------------- */

static const mk_schema *host_schema_intern_typed(mk_context *ctx, const char *const *names,
                                                 const mk_type *types, size_t n)
{
    pthread_mutex_lock(&shared_mu);
    const mk_schema *s = mk_schema_intern_typed(ctx->run->schemas, names, types, n);
    pthread_mutex_unlock(&shared_mu);
    return s;
}

static const mk_schema *host_schema_intern(mk_context *ctx, const char *const *names, size_t n)
{
    return host_schema_intern_typed(ctx, names, NULL, n);
}

static mk_batch *host_batch_new(const mk_schema *schema)
{
    return mk_batch_new(schema);
}

/* ---- where rows came from -------------------------------------------------- */

static void host_source_part(mk_context *ctx, uint32_t part, const char *name)
{
    ctx->current_part = part;
    pthread_mutex_lock(&shared_mu);
    if (part >= ctx->nparts) {
        mk_part *grown = realloc(ctx->parts, (part + 1) * sizeof(mk_part));
        if (!grown) {
            pthread_mutex_unlock(&shared_mu);
            return;
        }
        memset(&grown[ctx->nparts], 0, (part + 1 - ctx->nparts) * sizeof(mk_part));
        ctx->parts = grown;
        ctx->nparts = part + 1;
    }
    mk_part *pt = &ctx->parts[part];
    if (!pt->file || strcmp(pt->file, name) != 0) { /* names stay valid once given */
        const char *base = strrchr(name, '/');
        char *label = strdup(base ? base + 1 : name), *file = strdup(name);
        if (label && file) {
            pt->label = label;
            pt->file = file;
        } else {
            free(label);
            free(file);
        }
    }
    pthread_mutex_unlock(&shared_mu);
}

static const mk_part *find_part(mk_run *run, uint32_t source, uint32_t part)
{
    if (source >= run->p->nsources)
        return NULL;
    const mk_context *s = &run->sources[source];
    return part < s->nparts ? &s->parts[part] : NULL;
}

void mk_source_label(mk_run *run, uint32_t source, uint32_t part, char *buf, size_t len)
{
    const char *name = source < run->p->nsources ? run->p->sources[source].name : "(end of run)";
    snprintf(buf, len, "%s", name);
    pthread_mutex_lock(&shared_mu);
    const mk_part *pt = find_part(run, source, part);
    if (pt && pt->label && run->sources[source].nparts > 1)
        snprintf(buf, len, "%s/%s", name, pt->label);
    pthread_mutex_unlock(&shared_mu);
}

/* A file's path as the pipeline's user knows it: relative to the pipeline
 * folder when it is inside it. */
const char *mk_source_file(mk_run *run, uint32_t source, uint32_t part)
{
    pthread_mutex_lock(&shared_mu);
    const mk_part *pt = find_part(run, source, part);
    const char *file = pt ? pt->file : NULL;
    pthread_mutex_unlock(&shared_mu);
    size_t dl = strlen(run->p->dir);
    if (file && strncmp(file, run->p->dir, dl) == 0 && file[dl] == '/')
        return file + dl + 1;
    return file;
}

static int host_row_origin(mk_context *ctx, const mk_batch *b, size_t row, mk_origin *out)
{
    memset(out, 0, sizeof(*out));
    if (!b || row >= b->nrows)
        return MK_BADARG;
    mk_run *run = ctx->run;
    const mk_rowinfo *info = &b->info[row];
    if (info->source >= run->p->nsources)
        return MK_OK; /* made by finish(): from no source */
    out->source = run->p->sources[info->source].name;
    out->file = mk_source_file(run, info->source, info->part);
    out->record = b->record ? b->record[row] : 0;
    out->line = info->position;
    return MK_OK;
}

/* ---- report counters ------------------------------------------------------ */

static int report_slot(mk_context *ctx, const char *key, int is_number)
{
    for (size_t i = 0; i < ctx->report_count; i++)
        if (strcmp(ctx->report_keys[i], key) == 0)
            return (int)i;
    size_t n = ctx->report_count + 1;
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
    char *name = strdup(key);
    if (!k || !v || !num || !isn || !name) {
        free(name);
        return -1;
    }
    size_t i = ctx->report_count;
    ctx->report_keys[i] = name;
    ctx->report_values[i] = NULL;
    ctx->report_numbers[i] = 0;
    ctx->report_is_number[i] = (unsigned char)is_number;
    ctx->report_count = n;
    return (int)i;
}

static void host_report_set(mk_context *ctx, const char *key, const char *value)
{
    int i = report_slot(ctx, key, 0);
    if (i < 0)
        return;
    free(ctx->report_values[i]);
    ctx->report_values[i] = strdup(value);
    ctx->report_is_number[i] = 0;
}

static void host_report_add(mk_context *ctx, const char *key, int64_t delta)
{
    int i = report_slot(ctx, key, 1);
    if (i >= 0)
        ctx->report_numbers[i] += delta;
}

/* ---- valid text ---------------------------------------------------------- */

static void host_text_checked(mk_context *ctx)
{
    ctx->text_checked = 1;
}

static int host_batch_text_checked(mk_context *ctx, const mk_batch *b)
{
    return ctx->step->role == MK_ROLE_SINK && ctx->call && b == ctx->call->in &&
           ctx->call->text_checked;
}

/* ---- publishing ------------------------------------------------------------- */

static int host_publish_path(mk_context *ctx, const char *tmp_path, const char *final_path)
{
    char what[512], err[1400];
    snprintf(what, sizeof what, "%s %s", mk_role_name(ctx->step->role), ctx->step->name);
    if (!tmp_path || !final_path) {
        mk_host_error(ctx, "publish_path was given no path");
        return MK_BADARG;
    }
    int rc = mk_publish_add(ctx->run, tmp_path, final_path, what, err, sizeof err);
    if (rc != MK_OK)
        mk_host_error(ctx, "%s", err);
    else
        ctx->handed_outputs++;
    return rc;
}

static int host_before_publish(mk_context *ctx, mk_before_publish_fn fn, void *arg)
{
    mk_run *run = ctx->run;
    if (!fn) {
        mk_host_error(ctx, "before_publish was given no function");
        return MK_BADARG;
    }
    mk_before_pub *grown = realloc(run->before_pub, (run->nbefore_pub + 1) * sizeof(*grown));
    if (!grown)
        return MK_NOMEM;
    run->before_pub = grown;
    run->before_pub[run->nbefore_pub++] = (mk_before_pub){ctx, fn, arg};
    ctx->handed_outputs++;
    return MK_OK;
}

/* The run's own files in the publish set, for the before_publish calls. */
static size_t own_files(const mk_run *run, mk_run_file *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < run->npub && n < cap; i++) {
        const mk_publish_item *it = &run->pub[i];
        if (!it->kind || strcmp(it->kind, "state") == 0)
            continue;
        int rejects = strcmp(it->kind, "rejects") == 0;
        out[n++] = (mk_run_file){
            it->kind,
            rejects ? (run->p->rejects_jsonl ? "jsonl" : "csv")
                    : strcmp(it->kind, "report") == 0 ? "json" : "html",
            it->tmp, it->final,
            rejects && !run->p->rejects_jsonl ? run->rejects_schema : NULL,
            rejects ? run->rejected : 0};
    }
    return n;
}

static void reverse_items(mk_publish_item *a, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        mk_publish_item t = a[i];
        a[i] = a[n - 1 - i];
        a[n - 1 - i] = t;
    }
}

/* What sinks handed in before_publish (items from..npub) goes before the
 * run's own files, as the sinks' outputs do: the state is put in place
 * after every output it belongs to (publish.c puts items in order). */
static void move_before_own_files(mk_run *run, size_t from)
{
    size_t own = 0;
    while (own < from && !run->pub[own].kind)
        own++;
    reverse_items(run->pub + own, from - own);
    reverse_items(run->pub + from, run->npub - from);
    reverse_items(run->pub + own, run->npub - own);
}

int mk_before_publish_calls(mk_run *run, int commit)
{
    mk_run_file files[8];
    size_t n = commit ? own_files(run, files, sizeof files / sizeof *files) : 0;
    size_t from = run->npub;
    int rc = MK_OK;
    for (size_t i = 0; i < run->nbefore_pub; i++) {
        mk_before_pub *b = &run->before_pub[i];
        b->ctx->error[0] = '\0';
        int r = b->fn(b->arg, commit && rc == MK_OK, commit && rc == MK_OK ? files : NULL,
                      commit && rc == MK_OK ? n : 0);
        if (commit && rc == MK_OK && r != MK_OK) {
            mk_run_step_failed(run, b->ctx, "before publishing", r);
            rc = MK_ERROR;
        }
    }
    if (rc == MK_OK && commit)
        move_before_own_files(run, from);
    free(run->before_pub);
    run->before_pub = NULL;
    run->nbefore_pub = 0;
    return rc;
}

void mk_context_free(mk_context *c)
{
    for (size_t i = 0; i < c->nparts; i++) {
        free(c->parts[i].label);
        free(c->parts[i].file);
    }
    free(c->parts);
    for (size_t i = 0; i < c->report_count; i++) {
        free(c->report_keys[i]);
        free(c->report_values[i]);
    }
    free(c->report_keys);
    free(c->report_values);
    free(c->report_numbers);
    free(c->report_is_number);
    free(c->state_staged);
    mk_holds_free(c);
}

const mk_host mk_host_table = {
    .size = sizeof(mk_host),
    .log = host_log,
    .error = mk_host_error,
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
    .row_reject = mk_host_row_reject,
    .row_drop = mk_host_row_drop,
    .row_warn = mk_host_row_warn,
    .rule_checked = mk_host_rule_checked,
    .row_pass = mk_host_row_pass,
    .row_emit = mk_host_row_emit,
    .source_reject = mk_host_source_reject,
    .source_part = host_source_part,
    .report_set = host_report_set,
    .report_add = host_report_add,
    .stopping = host_stopping,
    .text_checked = host_text_checked,
    .batch_text_checked = host_batch_text_checked,
    /* since 1.1 */
    .status_message = host_status_message,
    .column_find = mk_schema_find,
    .opt_choice = host_opt_choice,
    .batch_truncate = mk_batch_truncate,
    .row_append = mk_host_row_append,
    .row_reject_values = mk_host_row_reject_values,
    .schema_intern_typed = host_schema_intern_typed,
    .source_reject_record = mk_host_source_reject_record,
    .row_origin = host_row_origin,
    /* since 1.2 */
    .state_get = mk_host_state_get,
    .state_set = mk_host_state_set,
    .publish_path = host_publish_path,
    .row_hold = mk_host_row_hold,
    .held_pass = mk_host_held_pass,
    .held_reject = mk_host_held_reject,
    .held_drop = mk_host_held_drop,
    .held_bytes = mk_host_held_bytes,
    .before_publish = host_before_publish,
};
