/*
 * fates.c -- what becomes of every row: the host calls row_pass, row_emit,
 * row_append, row_reject(_values), row_drop, row_warn, rule_checked and
 * source_reject(_record).
 *
 * A transform may give fates only to rows of the batch it is processing
 * (ctx->call, set by flow.c for the call's duration), and each row exactly
 * one (a row passed twice is a row emitted as two).  A wrong fate is
 * recorded in the call and fails the run naming the plugin: it is a
 * plugin bug, never the data's fault.  Rejected rows go to the rejects
 * file (rejects.c) with the fields the source read; warnings and rejects
 * are counted per rule with a few samples for the report.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readahead.h"
#include "run_internal.h"
#include "util/textout.h"

/* ---- rules and samples ---------------------------------------------------- */

static mk_rule_stat *rule_stat(mk_run *run, mk_context *ctx, const char *rule)
{
    for (size_t i = 0; i < run->nrules; i++)
        if (strcmp(run->rules[i]->name, rule) == 0 &&
            strcmp(run->rules[i]->stage, ctx->step->name) == 0)
            return run->rules[i];
    mk_rule_stat **grown = realloc(run->rules, (run->nrules + 1) * sizeof(*grown));
    if (grown)
        run->rules = grown;
    mk_rule_stat *r = calloc(1, sizeof(*r));
    if (!grown || !r) {
        free(r);
        return NULL;
    }
    r->name = strdup(rule);
    r->stage = strdup(ctx->step->name);
    run->rules[run->nrules++] = r;
    return r;
}

void mk_rules_free(mk_run *run)
{
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
}

/* How many bytes of v to show in a sample: at most 80, never half a letter. */
static int excerpt_len(const mk_value *v)
{
    size_t n = v->len > 80 ? 80 : v->len;
    while (n > 0 && n < v->len && ((unsigned char)v->ptr[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

/* "col=value, col=value" excerpt of a row for report samples. */
static char *row_excerpt(const mk_schema *schema, const mk_value *vals)
{
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t c = 0; vals && c < schema->ncols && len < sizeof buf - 1; c++) {
        const mk_value *v = &vals[c];
        int n = snprintf(buf + len, sizeof buf - len, "%s%s=%.*s", c ? ", " : "",
                         schema->names[c], v->ptr ? excerpt_len(v) : 4,
                         v->ptr ? v->ptr : "null");
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len >= sizeof buf - 1) /* cut at a character boundary */
        len = mk_utf8_valid_prefix(buf, sizeof buf - 1);
    return strndup(buf, len);
}

static void add_sample(mk_run *run, mk_rule_stat *r, const mk_schema *schema,
                       const mk_value *vals, const mk_rowinfo *info, int rejected,
                       const char *message)
{
    if (!r || r->nsamples >= MK_RULE_SAMPLES)
        return;
    mk_sample *s = &r->samples[r->nsamples++];
    s->source = strdup(info->source < run->p->nsources ? run->p->sources[info->source].name
                                                       : "(end of run)");
    s->position = info->position;
    s->rejected = rejected;
    s->message = strdup(message ? message : "");
    s->values = schema ? row_excerpt(schema, vals) : strdup("");
}

static void tell(mk_context *ctx, mk_event_kind kind, const mk_rowinfo *info, const char *rule,
                 const char *message)
{
    const mk_run_options *o = ctx->run->o;
    if (!o || !o->on_event)
        return;
    mk_event e = {kind, info, ctx->step->name, rule, message};
    o->on_event(o->event_data, &e);
}

/* ---- fates of a transform's rows ---------------------------------------- */

static int wrong_call(mk_context *ctx, size_t row, const char *what)
{
    mk_host_error(ctx, "plugin gave a fate to row %zu of a batch it is not %s", row, what);
    if (ctx->call)
        ctx->call->bad = 1;
    return MK_BADARG;
}

/* Record the fate of input row `row` of the call in progress. */
static int set_fate(mk_context *ctx, const mk_batch *in, size_t row, mk_fate fate)
{
    mk_call *call = ctx->call;
    if (ctx->step->role == MK_ROLE_SINK)
        return call && call->in == in && row < in->nrows ? MK_OK : wrong_call(ctx, row, "writing");
    if (!call || call->in != in || row >= in->nrows)
        return wrong_call(ctx, row, "processing");
    unsigned char *f = &call->fate[row];
    if (*f == FATE_PASS && fate == FATE_PASS)
        return MK_OK; /* emitting several rows from one */
    if (*f != FATE_NONE) {
        mk_host_error(ctx,
                      "row %zu was given two fates (a row is passed, rejected or dropped once)",
                      row);
        call->bad = 1;
        return MK_BADARG;
    }
    *f = (unsigned char)fate;
    return MK_OK;
}

int mk_fate_set(mk_context *ctx, const mk_batch *in, size_t row, mk_fate fate)
{
    return set_fate(ctx, in, row, fate);
}

/* Append a row to out that comes from row of in: info and record copied. */
static int append_from(const mk_batch *in, size_t row, mk_batch *out, size_t *out_row)
{
    size_t r = mk_batch_add_row(out);
    if (r == (size_t)-1)
        return MK_NOMEM;
    out->info[r] = in->info[row];
    out->record[r] = in->record ? in->record[row] : 0;
    *out_row = r;
    return MK_OK;
}

int mk_host_row_append(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out,
                       size_t *out_row)
{
    int rc = set_fate(ctx, in, row, FATE_PASS);
    return rc != MK_OK ? rc : append_from(in, row, out, out_row);
}

size_t mk_host_row_emit(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out)
{
    size_t r;
    return mk_host_row_append(ctx, in, row, out, &r) == MK_OK ? r : (size_t)-1;
}

int mk_host_row_pass(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out)
{
    size_t r;
    int rc = mk_host_row_append(ctx, in, row, out, &r);
    if (rc != MK_OK)
        return rc == MK_BADARG ? MK_ERROR : rc;
    size_t n = in->schema->ncols;
    if (out->schema == in->schema) {
        memcpy(&MK_CELL(out, r, 0), &MK_CELL(in, row, 0), n * sizeof(mk_value));
        return MK_OK;
    }
    for (size_t c = 0; c < out->schema->ncols; c++) {
        long k = mk_schema_find(in->schema, out->schema->names[c]);
        if (k >= 0)
            MK_CELL(out, r, c) = MK_CELL(in, row, (size_t)k);
    }
    return MK_OK;
}

/* The rejected row: the fields the source read (when the source batch is
 * still there), and the values it had when it was rejected. */
static int reject_row(mk_context *ctx, const mk_batch *in, size_t row, const mk_schema *now_schema,
                      const mk_value *now, const char *rule, const char *reason)
{
    mk_run *run = ctx->run;
    const mk_rowinfo *info = &in->info[row];
    const mk_batch *orig = ctx->call ? ctx->call->source_batch : NULL;
    mk_reject rj = {NULL, NULL, 0, now_schema, now, info->source, info->part, info->position,
                    in->record ? in->record[row] : 0, ctx->step->name, rule, reason};
    if (info->source != MK_NO_SOURCE && orig && orig != in && info->origin < orig->nrows) {
        rj.schema = orig->schema;
        rj.fields = &MK_CELL(orig, info->origin, 0);
        rj.nfields = orig->schema->ncols;
    } else { /* the row as the source made it (or finish() did) */
        rj.schema = in->schema;
        rj.fields = in->nrows ? &MK_CELL(in, row, 0) : NULL;
        rj.nfields = in->schema->ncols;
        if (now == rj.fields) { /* nothing changed it: fields say it all */
            rj.now = NULL;
            rj.now_schema = NULL;
        }
    }
    int rc = mk_rejects_write(run, &rj);
    mk_rule_stat *r = rule_stat(run, ctx, rule);
    if (r)
        r->rejected++;
    add_sample(run, r, now_schema, now, info, 1, reason);
    tell(ctx, MK_EVENT_REJECT, info, rule, reason);
    ctx->rows_rejected++;
    run->rejected++;
    if (rc != 0) {
        mk_host_error(ctx, "cannot write the rejects file %s", run->p->rejects_path);
        return MK_ERROR;
    }
    return MK_OK;
}

/* A sink's refusal: a row refused by several sinks is one rejected row. */
static int sink_refused_before(mk_context *ctx, size_t row)
{
    mk_call *call = ctx->call;
    if (call->sink_rejected[row]) {
        ctx->rows_rejected++;
        return 1;
    }
    call->sink_rejected[row] = 1;
    ctx->run->sink_rejected++;
    return 0;
}

int mk_host_row_reject_values(mk_context *ctx, const mk_batch *in, size_t row,
                              const mk_schema *schema, const mk_value *values, const char *rule,
                              const char *reason)
{
    int rc = set_fate(ctx, in, row, FATE_REJECT);
    if (rc != MK_OK)
        return rc == MK_BADARG ? MK_ERROR : rc;
    if (ctx->step->role == MK_ROLE_SINK && sink_refused_before(ctx, row))
        return MK_OK;
    if (!schema || !values) {
        schema = in->schema;
        values = &MK_CELL(in, row, 0);
    }
    return reject_row(ctx, in, row, schema, values, rule ? rule : ctx->step->plugin_name,
                      reason ? reason : "rejected");
}

int mk_host_row_reject(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                       const char *reason)
{
    return mk_host_row_reject_values(ctx, in, row, NULL, NULL, rule, reason);
}

int mk_host_row_drop(mk_context *ctx, const mk_batch *in, size_t row)
{
    int rc = set_fate(ctx, in, row, FATE_DROP);
    if (rc != MK_OK)
        return rc == MK_BADARG ? MK_ERROR : rc;
    ctx->rows_dropped++;
    ctx->run->dropped++;
    tell(ctx, MK_EVENT_DROP, &in->info[row], NULL, NULL);
    return MK_OK;
}

int mk_host_row_warn(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                     const char *message)
{
    mk_run *run = ctx->run;
    if (row >= in->nrows)
        return wrong_call(ctx, row, "processing");
    rule = rule ? rule : ctx->step->plugin_name;
    mk_rule_stat *r = rule_stat(run, ctx, rule);
    if (!r)
        return MK_NOMEM;
    r->warned++;
    run->warned++;
    add_sample(run, r, in->schema, &MK_CELL(in, row, 0), &in->info[row], 0, message);
    tell(ctx, MK_EVENT_WARN, &in->info[row], rule, message);
    return MK_OK;
}

void mk_host_rule_checked(mk_context *ctx, const char *rule, uint64_t rows)
{
    mk_rule_stat *r = rule_stat(ctx->run, ctx, rule);
    if (r)
        r->checked += rows;
}

/* ---- records a source cannot make rows of ---------------------------------- */

/* The reason keeps the fields the header has no column for (a long one is
 * cut between letters). */
static const char *with_extra_fields(const mk_value *fields, size_t nfields, size_t ncols,
                                     const char *reason, char *buf, size_t len)
{
    if (nfields <= ncols || ncols == 0)
        return reason;
    size_t at = (size_t)snprintf(buf, len, "%s; fields beyond the header:", reason);
    for (size_t i = ncols; i < nfields && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, " [%.*s]", fields[i].ptr ? (int)fields[i].len : 0,
                               fields[i].ptr ? fields[i].ptr : "");
    if (at >= len)
        buf[mk_utf8_whole(buf, len - 1)] = '\0';
    return buf;
}

int mk_source_reject_now(mk_context *ctx, const mk_value *fields, size_t nfields,
                         uint64_t line, uint64_t record, uint32_t part, const char *rule,
                         const char *reason)
{
    mk_run *run = ctx->run;
    const mk_schema *schema = ctx->step->plugin.desc->source->schema(ctx->state);
    size_t ncols = schema ? schema->ncols : 0;
    char why[4096];
    reason = with_extra_fields(fields, nfields, ncols, reason, why, sizeof why);
    uint32_t source = (uint32_t)ctx->step->index;
    mk_rowinfo info = {source, 0, line, part};
    mk_reject rj = {schema, fields, nfields < ncols ? nfields : ncols, NULL, NULL, source, part,
                    line, record, ctx->step->name, rule, reason};
    int rc = mk_rejects_write(run, &rj);
    mk_rule_stat *r = rule_stat(run, ctx, rule);
    if (r) {
        r->rejected++;
        add_sample(run, r, NULL, NULL, &info, 1, reason);
    }
    tell(ctx, MK_EVENT_REJECT, &info, rule, reason);
    ctx->rows_rejected++;
    run->rejected++;
    run->read++;
    return rc == 0 ? MK_OK : MK_ERROR;
}

/* While a source reads on its read-ahead thread, its rejects wait with
 * their batch (see readahead.h). */
int mk_host_source_reject_record(mk_context *ctx, const mk_value *fields, size_t nfields,
                                 uint64_t line, uint64_t record, const char *rule,
                                 const char *reason)
{
    if (ctx->readahead)
        return mk_readahead_defer(ctx->readahead, fields, nfields, line, record,
                                  ctx->current_part, rule, reason);
    return mk_source_reject_now(ctx, fields, nfields, line, record, ctx->current_part, rule,
                                reason);
}

int mk_host_source_reject(mk_context *ctx, const mk_value *fields, size_t nfields,
                          uint64_t position, const char *rule, const char *reason)
{
    return mk_host_source_reject_record(ctx, fields, nfields, position, 0, rule, reason);
}
