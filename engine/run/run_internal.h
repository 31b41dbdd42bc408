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
 *   ops.h and its files   nightly operations: history, drift checks,
 *              metrics, the on_failure hook, the HTML trend (run->ops)
 *   state.c    the state file: what steps keep between successful runs
 *   publish.c  the outputs published as one set; journal; temporary files
 *   lock.c     one run at a time: pipeline and output locks
 *   hold.c     held rows: a transform decides their fate later (row_hold)
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

typedef enum { FATE_NONE = 0, FATE_PASS, FATE_REJECT, FATE_DROP, FATE_HELD } mk_fate;

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

    /* state (state.c) */
    size_t state_file;        /* index into run->state_files */
    char *state_staged;       /* the value state_set staged, or NULL */
    size_t handed_outputs;    /* sinks: outputs handed to the publish set (publish_path) */
    struct mk_holds *holds;   /* rows this step holds (hold.c), or NULL */
};

/* A state file as read at the start of the run: the saved value of each
 * step (JSON text, by step name). */
typedef struct mk_state_file {
    char *path;
    size_t n;
    char **names, **values;
    int staged;               /* a step kept here staged a value */
} mk_state_file;

/* An output in the publish set (publish.c). */
enum { MK_PLACED_EXCHANGED = 1, MK_PLACED_RENAMED = 2 };
typedef struct mk_publish_item {
    char *tmp, *final;
    char *what;            /* for messages: "sink out", "the rejects file" */
    uint64_t dev, ino;     /* of the temporary: a run finishing a journal knows it */
    int is_dir;
    int placed;            /* MK_PLACED_*: in place (the old output under tmp when exchanged) */
    const char *kind;      /* the run's own files: "rejects", "state", "report", "report-html";
                            * NULL: a sink's */
} mk_publish_item;

/* A sink's mk_host.before_publish call, still to be made. */
typedef struct mk_before_pub {
    mk_context *ctx;
    mk_before_publish_fn fn;
    void *arg;
} mk_before_pub;

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
    struct mk_pending_reject *pending; /* a source batch's rejects, to sort (rejects.c) */
    size_t npending, pending_cap, seq_rejects;
    int rejects_held;                 /* queue rejects until mk_rejects_flush */

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
    struct mk_ops *ops;       /* history, drift checks, dry-run counts (ops.h) */
    mk_state_file *state_files;    /* [0]: the pipeline's; then steps' own `state:` files */
    size_t nstate_files;
    int state_refused;             /* a state_set failed: the run must not publish */
    char *run_dir;                 /* mk_run_dir(p) */
    mk_locks *locks;               /* held from the start to the end of the run */
    mk_publish_item *pub;          /* the publish set */
    size_t npub, pub_cap;
    mk_before_pub *before_pub;     /* mk_host.before_publish calls, in order */
    size_t nbefore_pub;
    char published[2048];          /* a failed run: what was published all the same */
    char self_committed[1024];     /* sinks that committed outside the set (names) */
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

/* fates.c: give row of the call in progress its fate (MK_OK, MK_BADARG). */
int mk_fate_set(mk_context *ctx, const mk_batch *in, size_t row, mk_fate fate);

/* hold.c: held rows (mk_host.row_hold ...).  before_finish: held_pass
 * may append to out.  after_finish: after ctx's
 * finish() filled out, give the rows it made no source (released rows
 * keep theirs), *released = how many it released; MK_ERROR (the run fails)
 * when rows are still held.  free: with the context. */
int mk_host_row_hold(mk_context *ctx, const mk_batch *in, size_t row, uint64_t *held);
int mk_host_held_pass(mk_context *ctx, uint64_t held, mk_batch *out);
int mk_host_held_reject(mk_context *ctx, uint64_t held, const char *rule, const char *reason);
int mk_host_held_drop(mk_context *ctx, uint64_t held);
size_t mk_host_held_bytes(mk_context *ctx);
void mk_holds_before_finish(mk_context *ctx, mk_batch *out);
int mk_holds_after_finish(mk_context *ctx, mk_batch *out, uint64_t *released);
void mk_holds_free(mk_context *ctx);

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
/* While a source batch flows (flow.c), its rejects are queued, then
 * written in input order (source, file, record, line; the order they came
 * in for equal positions) as far as the batch's last row goes: a record
 * the source rejected after it waits for the rows before it.  So the
 * rejects file is in input order and does not depend on where batches (or
 * shards) begin.  Hold: start queueing; flush: write what is queued up to
 * b's last row (all: everything) and stop.  MK_OK, or an error after
 * mk_run_fail. */
void mk_rejects_hold(mk_run *run);
int mk_rejects_flush(mk_run *run, const mk_batch *b, int all);
int mk_rejects_close(mk_run *run, int commit);

/* flow.c */
int mk_flow_read_source(mk_run *run, mk_context *src);
int mk_flow_finish_all(mk_run *run);
int mk_flow_announce_columns(mk_run *run);

/* run.c */
int mk_run_fail(mk_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mk_run_step_failed(mk_run *run, mk_context *ctx, const char *what, int rc);
int mk_run_stop_requested(void);

/* state.c: read the state files (MK_OK, or the run fails naming the
 * file); the host calls; write what was staged (after the sinks
 * committed); free. */
int mk_state_open(mk_run *run);
const char *mk_host_state_get(mk_context *ctx);
int mk_host_state_set(mk_context *ctx, const char *json);
int mk_state_save(mk_run *run);
void mk_state_free(mk_run *run);

/* publish.c: the publish set.  add: a complete temporary file or folder
 * (copied names); outfile: finish f and add it (a direct file is only
 * flushed); commit: put the set in place as a whole (MK_OK, or the run
 * fails with the set as it was before, or, when even that fails, with
 * run->published saying what is new); discard: remove the temporaries;
 * recover: finish the journal a dead run left; sweep: remove temporary
 * files of dead processes beside the pipeline's outputs. */
int mk_publish_add(mk_run *run, const char *tmp, const char *final, const char *what,
                   char *err, size_t errlen);
int mk_publish_outfile(mk_run *run, mk_outfile *f, const char *what, char *err, size_t errlen);
int mk_publish_commit(mk_run *run);
void mk_publish_discard(mk_run *run);
int mk_publish_recover(mk_run *run);
void mk_publish_sweep(mk_run *run);
/* The files a pipeline writes that the engine knows of: the sinks' path
 * options, rejects, reports, state files (malloc'd, like mk_state_paths). */
char **mk_output_paths(const mk_pipeline *p, size_t *n);
/* kind: the item added since the set had before items is one of the run's
 * own files (nothing when none was added: a direct file). */
void mk_publish_kind(mk_run *run, size_t before, const char *kind);
/* The sinks' before_publish calls (host.c), each made once: with the run's
 * own files when commit, else to let go.  MK_OK, or the first failure
 * (the run failed, naming the step; the other calls are made with 0). */
int mk_before_publish_calls(mk_run *run, int commit);

/* report.c, report_html.c: 0 or -1.  into_set: the report joins the
 * publish set (a run that publishes), else it is put in place at once (a
 * failed run's report); end: finish f either way (kind: as in
 * mk_publish_kind). */
int mk_report_write(mk_run *run, const char *json_path, const char *html_path, int into_set);
int mk_report_html(mk_run *run, const char *path, int into_set);
int mk_report_end(mk_run *run, mk_outfile *f, int into_set, const char *what,
                  const char *kind);
/* HTML text escaped, and formatted output (up to 1 KiB), for the page's sections. */
void mk_html_text(mk_outfile *f, const char *s);
void mk_html_printf(mk_outfile *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Per-field tables of the steps that report fields.NAME.* (report_fields.c). */
void mk_report_html_fields(mk_outfile *f, const mk_run *run);

#endif
