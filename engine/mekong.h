/*
 * mekong.h -- the whole plugin API of mekong, in one header.
 *
 * A plugin is a shared object that exports one function,
 *
 *     const mk_plugin *mekong_plugin(void);
 *
 * returning a constant descriptor (MK_PLUGIN_HEAD fills in the ABI magic,
 * version and size).  The host checks the magic and ABI version before it
 * calls anything else, then reads the plugin's name, version, declared
 * options and the roles it offers: source, transform, sink.
 *
 * Data moves in batches of rows.  A batch has one schema (column names,
 * optionally types) and a grid of values.  A value is a byte string or
 * NULL (ptr == NULL); the empty string (ptr != NULL, len == 0) is not NULL.
 *
 * Where a value's bytes live, and for how long (read this before you keep
 * a pointer).  A cell of a batch points at bytes that stay unchanged until
 * the sinks have written the batch of the source that the row came from:
 *   - the batch's own arena (batch_alloc, batch_set): freed when the batch
 *     is reset;
 *   - the bytes of the input batch (a transform may pass cells through
 *     without copying, as map does), or of the source batch upstream;
 *   - memory the plugin owns and keeps unchanged until its process() is
 *     called again or the step is closed (Lua scratch, option strings).
 * So: a transform may point output cells at its input or at its own
 * storage that lives until its next process() call; a sink must copy what
 * it keeps after write() returns; nobody may keep a pointer into a batch
 * after the next batch has been asked for.  Rows made by finish() follow
 * the same rule until the run ends.
 *
 * Rows carry where they came from (mk_rowinfo: source, file part, line;
 * the record number is in mk_batch.record; mk_host.row_origin gives all of
 * it with names).  A transform decides for every input row whether it
 * passes (the row, or rows, are appended to the output batch), is rejected
 * (mk_host.row_reject, with a rule name and a reason), or is dropped on
 * purpose (mk_host.row_drop); since 1.2 it may instead hold it
 * (mk_host.row_hold) and give it one of those fates later, at the latest
 * in finish().  The host checks that every row of a batch got exactly one
 * fate and fails the run otherwise.
 *
 * Plugins call the host only through the mk_host table handed to them.
 * Threads: open/close of every role, transforms and sinks run on the main
 * thread.  A source's next_batch runs on a read-ahead thread of its own
 * (while the main thread works on the previous batch); from there it may
 * call the batch functions on its batch, source_reject(_record),
 * source_part, schema_intern(_typed), column_find, report_set/report_add,
 * log, error, status_message and stopping -- nothing else.  A plugin that
 * runs threads of its own may call only the batch functions (on batches
 * each thread owns alone), column_find, row_origin and status_message
 * from them.
 *
 * Growing without breaking (the rsyslog interface-version habit, checked
 * like PostgreSQL's magic block).  Members are only ever added at the end
 * of mk_plugin, mk_host, mk_schema and mk_batch; changing or removing one
 * bumps MK_ABI_VERSION, and the host refuses plugins of another ABI.
 *   - The host accepts a descriptor at least MK_PLUGIN_FIRST_SIZE bytes
 *     long (ABI 1 as first released) and reads a later member only when
 *     plugin->size covers it.
 *   - A plugin reads a host member added after the first release only when
 *     MK_HOST_HAS(host, member) says the host has it.  The members marked
 *     "since 1.1" or "since 1.2" below, and the schema and batch members
 *     marked so, are such members.  mekong_kit.h wraps the common cases.
 *
 * The plugin kit.  mekong_kit.h (installed beside this header; library
 * libmekongkit, pkg-config --libs mekong; docs/PLUGIN-KIT.md) has what
 * every plugin would otherwise write again: plans per schema, columns by
 * name, options with choices on any host, output files that appear only
 * when the run succeeds, CSV/JSON writers and UTF-8 checks.  This header
 * stays the whole API; the kit only calls it.
 */
#ifndef MEKONG_H
#define MEKONG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MK_ABI_MAGIC 0x4d4b4f4eu /* "MKON" */
#define MK_ABI_VERSION 1u
/* Members added to ABI 1 since its first release: 1.1, 1.2 (see below). */
#define MK_ABI_MINOR 2u

/* Result codes of plugin callbacks and host calls. */
typedef enum mk_status {
    MK_OK = 0,
    MK_DONE = 1,       /* source: no more batches */
    MK_ERROR = -1,     /* failed; the message was set with host->error() */
    MK_NOMEM = -2,     /* out of memory */
    MK_STOPPED = -3,   /* the run was interrupted (SIGINT/SIGTERM) */
    MK_BADARG = -4,    /* since 1.1: a host call was given a bad row, batch or name */
} mk_status;

/* ---- values, schemas, batches -------------------------------------- */

/* A field: bytes, not NUL-terminated.  ptr == NULL means NULL. */
typedef struct mk_value {
    const char *ptr;
    size_t len;
} mk_value;

#define MK_IS_NULL(v) ((v).ptr == NULL)

/* Column types (since 1.1).  Every column is text unless a source says
 * otherwise; the bytes are always the text form (an integer is "42", a
 * date "2025-07-01", a boolean "true"/"false", a timestamp ISO 8601).  A
 * sink may use the type (a database sink creating its table, a schema
 * check); a transform keeps the type of a column it passes unchanged. */
typedef enum mk_type {
    MK_TYPE_TEXT = 0,
    MK_TYPE_INTEGER,
    MK_TYPE_NUMBER,    /* decimal, exact: "12.50" */
    MK_TYPE_BOOLEAN,
    MK_TYPE_DATE,      /* YYYY-MM-DD */
    MK_TYPE_TIMESTAMP, /* YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM] */
    MK_TYPE_JSON,
    MK_TYPE_BYTES,     /* not text: binary as read */
} mk_type;

/* Column names (and types) of a batch.  Schemas are interned by the host:
 * the same names and types give the same pointer, so plugins can cache
 * per schema pointer.  They live until the end of the run. */
typedef struct mk_schema {
    size_t ncols;
    const char *const *names;
    /* since 1.1: ncols types, or NULL when every column is text */
    const mk_type *types;
} mk_schema;

/* Where a row came from. */
typedef struct mk_rowinfo {
    uint32_t source;   /* index of the source in the pipeline (host sets) */
    uint32_t origin;   /* row index in the batch the source produced (host) */
    uint64_t position; /* source position: line of the record's first line,
                          or record number for sources without lines */
    uint32_t part;     /* which file of a multi-file source (see
                          mk_host.source_part), 0 for the first */
} mk_rowinfo;

/* A file the run itself writes, as mk_host.before_publish hands it over. */
typedef struct mk_run_file {
    const char *kind;        /* "rejects", "report" (JSON) or "report-html" */
    const char *format;      /* "csv", "jsonl", "json", "html" */
    const char *path;        /* complete and readable now (a temporary beside final_path) */
    const char *final_path;  /* where it appears when the set is published */
    const mk_schema *columns; /* CSV rejects: the header's columns; else NULL */
    uint64_t rows;           /* rejects: the rows in the file; else 0 */
} mk_run_file;
typedef int (*mk_before_publish_fn)(void *arg, int commit, const mk_run_file *files, size_t n);

/* Where a row came from (mk_host.row_origin). */
typedef struct mk_origin {
    const char *source; /* the source step's name */
    const char *file;   /* the file it was read from (as named by the source), or NULL */
    uint64_t record;    /* record number in that file, 1 = first after the header; 0 unknown */
    uint64_t line;      /* line of the record's first line; 0 unknown (rows made by finish) */
} mk_origin;

typedef struct mk_arena mk_arena; /* opaque: per-batch byte storage */

/* A batch.  Only the host changes nrows, cap, vcap and the pointers
 * (batch_add_row, batch_truncate, batch_reset); plugins write cells,
 * info[r].position/part (sources) and record[r] (sources). */
typedef struct mk_batch {
    const mk_schema *schema;
    size_t nrows;      /* rows in use */
    size_t cap;        /* rows that fit before the host must grow the batch */
    size_t vcap;       /* value slots allocated (host bookkeeping) */
    mk_value *values;  /* nrows * schema->ncols, row-major */
    mk_rowinfo *info;  /* nrows */
    mk_arena *arena;   /* owns the bytes of the batch_alloc/batch_set values */
    /* since 1.1 (present when MK_HOST_HAS(host, row_origin)): per row, the
     * record number in its file (1 = the first record after any header; a
     * record spanning lines counts once); 0 when unknown.  A source sets
     * it; the host copies it with the row. */
    uint64_t *record;
} mk_batch;

/* Value of row r, column c. */
#define MK_CELL(b, r, c) ((b)->values[(size_t)(r) * (b)->schema->ncols + (c)])

/* ---- options --------------------------------------------------------- */

typedef enum mk_option_type {
    MK_OPT_STRING = 1, /* any scalar */
    MK_OPT_INT,        /* decimal integer */
    MK_OPT_BOOL,       /* true/false/yes/no/on/off */
    MK_OPT_CHAR,       /* exactly one byte, or \t */
    MK_OPT_PATH,       /* string resolved relative to the pipeline file */
    MK_OPT_MAP,        /* mapping of string to string */
    MK_OPT_LIST,       /* sequence of strings (a scalar is a 1-list) */
} mk_option_type;

typedef struct mk_option_decl {
    const char *name;
    mk_option_type type;
    int required;
    const char *default_value; /* NULL: no default */
    const char *help;          /* one line */
    /* MK_OPT_STRING: allowed values "a|b|c", or NULL.  The host refuses any
     * other value when it loads the pipeline; opt_choice gives the index.
     * MK_OPT_INT (since 1.2): a range "MIN..MAX", "MIN.." or "..MAX", or
     * NULL; the host (and so `mekong check`) refuses a value outside it.
     * Hosts before 1.2 read a range as choices and refuse every value: a
     * plugin that declares one sets min_host_size to 1.2's. */
    const char *choices;
} mk_option_decl;

/* The option values of one pipeline step, already checked by the host
 * against the declared options.  Read them with the mk_host accessors. */
typedef struct mk_options mk_options;

/* ---- the host table ---------------------------------------------------- */

typedef struct mk_context mk_context; /* opaque: one pipeline step */

typedef enum mk_log_level { MK_LOG_ERROR, MK_LOG_WARN, MK_LOG_INFO, MK_LOG_DEBUG } mk_log_level;

typedef struct mk_host {
    uint32_t size; /* sizeof(mk_host) of the host: newer members after this */

    /* Logging and errors.  error() sets the message that ends the run when
     * the callback then returns MK_ERROR. */
    void (*log)(mk_context *ctx, mk_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    void (*error)(mk_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

    /* Options of this step (NULL/default when absent). */
    const char *(*opt_string)(mk_context *ctx, const char *name);
    long long (*opt_int)(mk_context *ctx, const char *name);
    int (*opt_bool)(mk_context *ctx, const char *name);
    /* Map and list options: count and entries (key is NULL for lists). */
    size_t (*opt_count)(mk_context *ctx, const char *name);
    int (*opt_entry)(mk_context *ctx, const char *name, size_t i, const char **key,
                     const char **value);
    /* Name of this step ("hanoi", "map#1", "lua#2", ...) and the folder
     * of the pipeline file (for resolving paths). */
    const char *(*step_name)(mk_context *ctx);
    const char *(*pipeline_dir)(mk_context *ctx);

    /* Schemas and batches. */
    const mk_schema *(*schema_intern)(mk_context *ctx, const char *const *names, size_t ncols);
    /* Make room for one more row and return its index; the row's values are
     * NULL and its info is zero.  Returns (size_t)-1 when out of memory. */
    size_t (*batch_add_row)(mk_batch *b);
    /* Copy bytes into the batch arena; returns NULL when out of memory. */
    char *(*batch_alloc)(mk_batch *b, size_t len);
    /* Set a cell to a copy of bytes (ptr NULL: NULL).  MK_OK or MK_NOMEM. */
    int (*batch_set)(mk_batch *b, size_t row, size_t col, const char *ptr, size_t len);
    /* Scratch batches for plugins that work on threads. */
    mk_batch *(*batch_new)(const mk_schema *schema);
    void (*batch_reset)(mk_batch *b, const mk_schema *schema);
    void (*batch_free)(mk_batch *b);

    /* Fates of a transform's input rows (row indexes into the input batch).
     * rule: short name of the check ("cccd", "csv.ragged_row"), reason: for
     * people.  Sources reject unreadable records with source_reject. */
    int (*row_reject)(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                      const char *reason);
    int (*row_drop)(mk_context *ctx, const mk_batch *in, size_t row);
    /* A kept row with a warning (counted per rule, sampled in the report). */
    int (*row_warn)(mk_context *ctx, const mk_batch *in, size_t row, const char *rule,
                    const char *message);
    /* How many rows a rule looked at (for the share in the quality report). */
    void (*rule_checked)(mk_context *ctx, const char *rule, uint64_t rows);
    /* Append a row of in to out, keeping its info: the usual "row passes".
     * When out has another schema, columns are copied by name. */
    int (*row_pass)(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out);
    /* Append a row of NULLs to out that comes from row of in (its info is
     * copied, row counts as passed); returns its index or (size_t)-1.  Call
     * it more than once to make several rows of one.  Prefer row_append,
     * which tells a bad call from out-of-memory. */
    size_t (*row_emit)(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out);

    /* A source's record that cannot become a row: its fields as read (may be
     * fewer or more than the schema has), position, rule and reason. */
    int (*source_reject)(mk_context *ctx, const mk_value *fields, size_t nfields,
                         uint64_t position, const char *rule, const char *reason);

    /* Name a part of a multi-file source (a file of a glob): rejected
     * rows then say "source/file" in _source.  The name is copied. */
    void (*source_part)(mk_context *ctx, uint32_t part, const char *name);

    /* Counters that show in the run report under this step ("encoding":
     * "tcvn3", "replacements": 12).  The string is copied. */
    void (*report_set)(mk_context *ctx, const char *key, const char *value);
    void (*report_add)(mk_context *ctx, const char *key, int64_t delta);

    /* Nonzero once SIGINT/SIGTERM asked the run to stop. */
    int (*stopping)(void);

    /* Valid UTF-8, promised once and checked once.  A source or transform
     * calls text_checked from open() to promise that every value it outputs
     * is valid UTF-8 (a transform: whenever its input values were).  A sink
     * asks batch_text_checked whether every value of the batch it is writing
     * is known to be valid -- true only when its source and every transform
     * on the way promised -- and may then skip its own check.  Sinks that
     * write text must check whatever is not known to be valid. */
    void (*text_checked)(mk_context *ctx);
    int (*batch_text_checked)(mk_context *ctx, const mk_batch *b);

    /* ---- since 1.1: check MK_HOST_HAS(host, member) before use ---- */

    /* A message for people for any mk_status ("out of memory", ...). */
    const char *(*status_message)(int status);
    /* Index of the column called name, or -1.  Any thread. */
    long (*column_find)(const mk_schema *s, const char *name);
    /* The value of a string option with declared choices, as its index in
     * "a|b|c" (the host checked it when the pipeline was loaded); -1 when
     * the option has no value or no choices. */
    int (*opt_choice)(mk_context *ctx, const char *name);
    /* Forget the rows from nrows on (nrows <= b->nrows); their arena bytes
     * stay until the next reset. */
    void (*batch_truncate)(mk_batch *b, size_t nrows);
    /* row_emit with a status: MK_OK and the new row's index in *out_row,
     * MK_NOMEM, or MK_BADARG when row is not one of the call's input rows
     * (the run then fails naming the plugin). */
    int (*row_append)(mk_context *ctx, const mk_batch *in, size_t row, mk_batch *out,
                      size_t *out_row);
    /* row_reject, keeping the values the row had at the moment of the
     * rejection (a rule may have computed columns first): values holds
     * schema->ncols cells; the JSON Lines rejects file shows them. */
    int (*row_reject_values)(mk_context *ctx, const mk_batch *in, size_t row,
                             const mk_schema *schema, const mk_value *values, const char *rule,
                             const char *reason);
    /* Intern a schema with column types (types NULL: all text). */
    const mk_schema *(*schema_intern_typed)(mk_context *ctx, const char *const *names,
                                            const mk_type *types, size_t ncols);
    /* source_reject with the record number as well as the first line. */
    int (*source_reject_record)(mk_context *ctx, const mk_value *fields, size_t nfields,
                                uint64_t line, uint64_t record, const char *rule,
                                const char *reason);
    /* Where row of b came from, with names: MK_OK, or MK_BADARG.  Any
     * thread; the strings live until the end of the run. */
    int (*row_origin)(mk_context *ctx, const mk_batch *b, size_t row, mk_origin *out);

    /* ---- since 1.2: check MK_HOST_HAS(host, member) before use ---- */

    /* Incremental state of this step, kept in the pipeline's state file (or in the file the
     * step's own `state:` option names).  state_get: the JSON text the last successful run saved
     * for this step, or NULL (none yet, or --full-refresh).  state_set: stage a new value (a JSON
     * text, copied); the host writes it only after every sink committed, as part of the published
     * set.  Main thread only.  state_set: MK_OK, MK_BADARG (not one JSON value), MK_NOMEM. */
    const char *(*state_get)(mk_context *ctx);
    int (*state_set)(mk_context *ctx, const char *json);
    /* Publish a file or folder together with the run's other outputs.  tmp_path is complete
     * (written, fsynced, closed) and lies beside final_path (same file system); from this call on
     * the host owns it: once every sink closed it is put in place with all the other outputs as
     * one set (see docs/OPERATIONS.md), or removed when the run does not publish.  Call it from a
     * sink's close(state, 1); mkk_file_close does it for mkk_file outputs.  MK_OK, MK_BADARG (not
     * a file or folder there; the message is set), MK_NOMEM.  Main thread only. */
    int (*publish_path)(mk_context *ctx, const char *tmp_path, const char *final_path);
    /* Held rows: a transform that can tell a row's fate only after later rows (dedupe keep:
     * last) holds it.  row_hold gives row of in (of the process() call in progress) the fate
     * "held": the host copies its values, where it came from (info, record) and the fields its
     * source read (for the rejects file) into memory of its own, and *held names it (0, 1, 2...
     * in the order rows were held).  Each held row is then released exactly once: rejected
     * (held_reject: rule, reason, as row_reject) or dropped (held_drop) from process() or
     * finish(), or passed (held_pass: appended to the out batch of finish(), only from there,
     * with its own info and record, so provenance columns and report samples still name its
     * source; its cells are copied into out, by name when out has another schema; an empty out
     * takes the row's schema).  A row still held when finish() returns fails the run naming
     * the plugin.  held_bytes: the memory this step's held rows take now (about 64 bytes, 16 a
     * column and the values' bytes, twice when an earlier step changed the row; see
     * docs/PLUGINS.md, dedupe): a plugin that holds rows bounds it.  Main thread only.  MK_OK,
     * MK_NOMEM, MK_BADARG (not a row of the call, not a held row, held_pass outside finish():
     * the run fails). */
    int (*row_hold)(mk_context *ctx, const mk_batch *in, size_t row, uint64_t *held);
    int (*held_pass)(mk_context *ctx, uint64_t held, mk_batch *out);
    int (*held_reject)(mk_context *ctx, uint64_t held, const char *rule, const char *reason);
    int (*held_drop)(mk_context *ctx, uint64_t held);
    size_t (*held_bytes)(mk_context *ctx);
    /* Be called once more, after every sink closed and the run's own files (the rejects file, the
     * reports) are complete, just before the publish set is put in place: fn(arg, 1, files, n)
     * may read those files and hand further paths to publish_path (its MK_OK lets the set be
     * published; anything else fails the run, which then publishes nothing).  When the run does
     * not publish, fn(arg, 0, NULL, 0).  fn is called exactly once either way and frees what arg
     * holds.  Call it from a sink's close(state, 1) (a sink that asks for it counts as handing
     * its outputs to the set).  MK_OK, or MK_NOMEM (fn is then not called).  Main thread only. */
    int (*before_publish)(mk_context *ctx, mk_before_publish_fn fn, void *arg);
} mk_host;


/* The host table of ABI 1 as first released ends with batch_text_checked. */
#define MK_HOST_FIRST_SIZE \
    (offsetof(mk_host, batch_text_checked) + sizeof(((mk_host *)0)->batch_text_checked))

/* Nonzero when the host table h has member m (a member since 1.1 or 1.2). */
#define MK_HOST_HAS(h, m) \
    ((h)->size >= offsetof(mk_host, m) + sizeof(((mk_host *)0)->m) && (h)->m != NULL)

/* ---- roles ---------------------------------------------------------------- */

/* Every role has open/close.  open() gets the context (kept by the plugin
 * if it needs it later) and sets *state; close() frees it.  close() is
 * called even after a failed open() or run, with whatever *state was set.
 * commit is nonzero when the run succeeded and outputs may be published. */

typedef struct mk_source_ops {
    int (*open)(mk_context *ctx, const mk_host *host, void **state);
    /* The schema of the rows to come, known after open(). */
    const mk_schema *(*schema)(void *state);
    /* Fill b (already reset to the source's schema) with up to b->cap rows;
     * set info.position of every row.  MK_OK with rows, MK_DONE at the end
     * (b may still hold rows), MK_ERROR. */
    int (*next_batch)(void *state, mk_batch *b);
    void (*close)(void *state);
} mk_source_ops;

typedef struct mk_transform_ops {
    int (*open)(mk_context *ctx, const mk_host *host, void **state);
    /* Give every row of in a fate; passing rows go to out (reset, with the
     * schema of the first input batch until the transform sets another). */
    int (*process)(void *state, const mk_batch *in, mk_batch *out);
    /* End of the run: may append rows to out (their info is zero; held
     * rows passed with held_pass keep theirs).  */
    int (*finish)(void *state, mk_batch *out);
    void (*close)(void *state);
} mk_transform_ops;

typedef struct mk_sink_ops {
    int (*open)(mk_context *ctx, const mk_host *host, void **state);
    int (*write)(void *state, const mk_batch *b);
    /* Flush and publish (commit != 0) or throw away (commit == 0). */
    int (*close)(void *state, int commit);
} mk_sink_ops;

/* ---- the descriptor --------------------------------------------------- */

typedef struct mk_plugin {
    uint32_t magic;       /* MK_ABI_MAGIC */
    uint32_t abi_version; /* MK_ABI_VERSION */
    uint32_t size;        /* sizeof(mk_plugin) when built */
    const char *name;     /* as used in pipeline files: "csv" */
    const char *version;  /* the plugin's own version */
    const char *summary;  /* one line */
    const mk_option_decl *source_options; /* terminated by {NULL} */
    const mk_source_ops *source;          /* NULL: not a source */
    const mk_option_decl *transform_options;
    const mk_transform_ops *transform;
    const mk_option_decl *sink_options;
    const mk_sink_ops *sink;
    /* ---- since 1.1: read by the host only when size covers them ---- */
    /* The smallest host table this plugin works with (sizeof(mk_host) of
     * the oldest mekong it supports); 0: the first release.  A host with a
     * smaller table refuses the plugin and says so. */
    uint32_t min_host_size;
} mk_plugin;

#define MK_PLUGIN_HEAD MK_ABI_MAGIC, MK_ABI_VERSION, sizeof(mk_plugin)

/* A descriptor of ABI 1 as first released ends with the sink member. */
#define MK_PLUGIN_FIRST_SIZE (offsetof(mk_plugin, sink) + sizeof(((mk_plugin *)0)->sink))

/* Nonzero when descriptor d has member m. */
#define MK_PLUGIN_HAS(d, m) ((d)->size >= offsetof(mk_plugin, m) + sizeof(((mk_plugin *)0)->m))

/* The one exported symbol of a plugin. */
#define MK_PLUGIN_ENTRY "mekong_plugin"
typedef const mk_plugin *(*mk_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* MEKONG_H */
