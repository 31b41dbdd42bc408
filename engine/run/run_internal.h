/*
 * run_internal.h -- the state of one run, shared by the files of engine/run/.
 * Not part of the plugin API.
 *
 *   host.c     the host table: what plugins may call (logging, options,
 *              schemas, batches, counters, where a row came from)
 *   fates.c    row fates: pass, emit, reject, drop, warn; rule counts and
 *              report samples
 *   rejects.c  the rejects file (CSV or JSON Lines)
 *   flow.c     the batch loop: sources, transforms, sinks, finish
 *   run.c      opening, closing, accounts, thresholds, the summary
 *   report.c, report_html.c   the run report
 *
 * A step's configuration (mk_step, pipeline.h) is frozen; everything a run
 * does with it lives in its mk_context here, which is what plugins get as
 * their opaque handle.  The transform call in progress is an explicit
 * value (mk_call) that flow.c hands to the step for the call's duration.
 */
#ifndef MEKONG_RUN_INTERNAL_H
#define MEKONG_RUN_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "batch.h"
#include "pipeline.h"
#include "run.h"
#include "util/outfile.h"

#define MK_RULE_SAMPLES 20
#define MK_NO_SOURCE UINT32_MAX

typedef struct mk_sample {
    char *source;
    uint64_t position;
    int rejected;   /* 1 reject, 0 warning */
    char *message;
    char *values;   /* "col=value, ..." excerpt */
} mk_sample;

typedef struct mk_rule_stat {
    char *name;
    char *stage;
    uint64_t checked, rejected, warned;
    size_t nsamples;
    mk_sample samples[MK_RULE_SAMPLES];
} mk_rule_stat;

typedef enum { FATE_NONE = 0, FATE_PASS, FATE_REJECT, FATE_DROP } mk_fate;

/* One process() (or sink write()) call in progress: which batch the step
 * may give fates to, and what it gave them. */
typedef struct mk_call {
    const mk_batch *in;
    const mk_batch *source_batch; /* the batch of the source the rows came from */
    unsigned char *fate;          /* per row of in (transforms) */
    unsigned char *sink_rejected; /* per row of in: an earlier sink refused it (sinks) */
    int text_checked;             /* sinks: every value of in is known valid UTF-8 */
    int bad;                      /* a fate was given wrongly: the run fails */
} mk_call;

/* A file of a source (mk_host.source_part). */
typedef struct mk_part {
    char *label; /* base name, for _source ("hanoi/2024.csv") */
    char *file;  /* as the source named it, for _file and row_origin */
} mk_part;

/* What a run does with one step: the plugins' opaque handle. */
struct mk_context {
    struct mk_run *run;
    const mk_step *step;
    void *state;
    int opened;
    char error[2048];         /* set by host->error */
    mk_call *call;            /* the call in progress, or NULL */

    /* sources: files by part number, the read-ahead */
    mk_part *parts;
    size_t nparts;
    uint32_t current_part;
    struct mk_readahead *readahead;
    struct mk_context *chain; /* the source's own transforms */

    /* counters for the report */
    uint64_t rows_in, rows_out, rows_rejected, rows_dropped, rows_passed;
    uint64_t rows_written;    /* sinks */
    int text_checked;         /* promised valid UTF-8 output (mk_host.text_checked) */
    char **report_keys, **report_values;
    size_t report_count;
    int64_t *report_numbers;
    unsigned char *report_is_number;
};

typedef struct mk_run {
    mk_pipeline *p;
    const mk_run_options *o;
    mk_schema_registry *schemas;
    mk_context *sources, *transforms, *sinks; /* as many as p has */
    mk_batch *empty_source_batch;  /* for rows that no source made */
    mk_batch **stage_out;          /* one output batch per transform depth */
    size_t stage_out_count;
    unsigned char *fate, *sink_rejected_row;
    size_t fate_cap, sink_rejected_cap;

    mk_outfile *rejects;
    const mk_schema *rejects_schema;  /* union of the sources' columns */

    mk_rule_stat **rules;
    size_t nrules;

    uint64_t read, added, reached_sinks, written, rejected, dropped, warned;
    uint64_t sink_rejected;
    struct timespec started;
    time_t started_wall;
    double elapsed;
    const char *status;       /* "ok", "failed", "threshold" */
    char failure[2048];       /* why the run failed */
    int balanced;
    int show_progress;
    double last_progress;
    char **threshold_failures;
    size_t nthreshold_failures;
} mk_run;

/* host.c */
extern const mk_host mk_host_table;
void mk_host_error(mk_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "hanoi", or "hanoi/2024.csv" for a file of a multi-file source. */
void mk_source_label(mk_run *run, uint32_t source, uint32_t part, char *buf, size_t len);
/* The file of a source's part (NULL when it named none). */
const char *mk_source_file(mk_run *run, uint32_t source, uint32_t part);
void mk_context_free(mk_context *ctx);

/* fates.c: the host calls that give rows their fates */
int mk_host_row_reject(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                       const char *reason);
int mk_host_row_reject_values(mk_context *ctx, const mk_batch *in, size_t row,
                              const mk_schema *schema, const mk_value *values, const char *rule,
                              const char *reason);
int mk_host_row_drop(mk_context *ctx, const mk_batch *in, size_t row);
int mk_host_row_warn(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                     const char *message);
void mk_host_rule_checked(mk_context *ctx, const char *rule, uint64_t rows);
int mk_host_row_pass(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out);
size_t mk_host_row_emit(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out);
int mk_host_row_append(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out,
                       size_t *out_row);
int mk_host_source_reject(mk_context *ctx, const mk_value *fields, size_t nfields,
                          uint64_t position, const char *rule, const char *reason);
int mk_host_source_reject_record(mk_context *ctx, const mk_value *fields, size_t nfields,
                                 uint64_t line, uint64_t record, const char *rule,
                                 const char *reason);
/* A source's record rejected now, on the main thread. */
int mk_source_reject_now(mk_context *ctx, const mk_value *fields, size_t nfields,
                         uint64_t line, uint64_t record, uint32_t part, const char *rule,
                         const char *reason);
void mk_rules_free(mk_run *run);

/* rejects.c */
int mk_rejects_open(mk_run *run);
/* One rejected row: the fields as the source read them (schema NULL:
 * positional, as read), and for rows rejected after a transform the values
 * at the moment of rejection (NULL when none). */
typedef struct mk_reject {
    const mk_schema *schema;
    const mk_value *fields;
    size_t nfields;
    const mk_schema *now_schema;
    const mk_value *now;
    uint32_t source, part;
    uint64_t line, record;
    const char *stage, *rule, *reason;
} mk_reject;
int mk_rejects_write(mk_run *run, const mk_reject *r);
int mk_rejects_close(mk_run *run, int commit);

/* flow.c */
int mk_flow_read_source(mk_run *run, mk_context *src);
int mk_flow_finish_all(mk_run *run);
int mk_flow_announce_columns(mk_run *run);

/* run.c */
int mk_run_fail(mk_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mk_run_step_failed(mk_run *run, mk_context *ctx, const char *what, int rc);
int mk_run_stop_requested(void);

/* report.c, report_html.c: 0 or -1 */
int mk_report_write(mk_run *run, const char *json_path, const char *html_path);
int mk_report_html(mk_run *run, const char *path);
/* Per-field tables of the steps that report fields.NAME.* (report_fields.c). */
void mk_report_html_fields(mk_outfile *f, const mk_run *run);

#endif
