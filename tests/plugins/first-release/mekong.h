/*
 * mekong.h -- the whole plugin API of mekong, in one header.
 *
 * A plugin is a shared object that exports one function,
 *
 *     const mk_plugin *mekong_plugin(void);
 *
 * returning a constant descriptor (MK_PLUGIN_DESCRIPTOR fills in the ABI
 * magic and version).  The host checks the magic and ABI version before it
 * calls anything else, then reads the plugin's name, version, declared
 * options and the roles it offers: source, transform, sink.
 *
 * Data moves in batches of rows.  A batch has one schema (column names) and
 * a grid of values; the bytes of every value live in the batch's arena, so
 * a plugin never mallocs per field.  A value is a byte string or NULL
 * (ptr == NULL); the empty string (ptr != NULL, len == 0) is not NULL.
 *
 * Rows carry where they came from (source index and position, usually the
 * line number of the record's first line).  A transform decides for every
 * input row whether it passes (the row, or rows, are appended to the output
 * batch), is rejected (mk_host.row_reject, with a rule name and a reason),
 * or is dropped on purpose (mk_host.row_drop).  The host checks that every
 * row of a batch got exactly one fate and fails the run otherwise.
 *
 * Plugins call the host only through the mk_host table handed to them.
 * Threads: open/close of every role, transforms and sinks run on the main
 * thread.  A source's next_batch runs on a read-ahead thread of its own
 * (while the main thread works on the previous batch); from there it may
 * call the batch functions on its batch, source_reject, source_part,
 * schema_intern, report_set/report_add, log, error and stopping -- nothing
 * else.  A plugin that runs threads of its own may call only the batch
 * functions from them, on batches each thread owns alone.
 *
 * The descriptor can grow without breaking old plugins: new members are
 * added at the end and the host reads them only when plugin->size says they
 * are there (the rsyslog interface-version habit).  Changing or removing a
 * member bumps MK_ABI_VERSION, and the host refuses plugins of another ABI.
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

/* Result codes of plugin callbacks and host calls. */
typedef enum mk_status {
    MK_OK = 0,
    MK_DONE = 1,       /* source: no more batches */
    MK_ERROR = -1,     /* failed; the message was set with host->error() */
    MK_NOMEM = -2,     /* out of memory */
    MK_STOPPED = -3,   /* the run was interrupted (SIGINT/SIGTERM) */
} mk_status;

/* ---- values, schemas, batches -------------------------------------- */

/* A field: bytes, not NUL-terminated.  ptr == NULL means NULL. */
typedef struct mk_value {
    const char *ptr;
    size_t len;
} mk_value;

#define MK_IS_NULL(v) ((v).ptr == NULL)

/* Column names of a batch.  Schemas are interned by the host: the same
 * names give the same pointer, so plugins can cache per schema pointer.
 * They live until the end of the run. */
typedef struct mk_schema {
    size_t ncols;
    const char *const *names;
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

typedef struct mk_arena mk_arena; /* opaque: per-batch byte storage */

typedef struct mk_batch {
    const mk_schema *schema;
    size_t nrows;      /* rows in use */
    size_t cap;        /* rows that fit before the host must grow the batch */
    size_t vcap;       /* value slots allocated (host bookkeeping) */
    mk_value *values;  /* nrows * schema->ncols, row-major */
    mk_rowinfo *info;  /* nrows */
    mk_arena *arena;   /* owns the bytes of the values */
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
    const char *choices;       /* MK_OPT_STRING: allowed values "a|b|c", or NULL */
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
    /* Name of this step ("hanoi", "transform 2 (map)", ...) and the folder
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
     * it more than once to make several rows of one. */
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
} mk_host;

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
    /* End of the run: may append rows to out (their info is zero).  */
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
} mk_plugin;

#define MK_PLUGIN_HEAD MK_ABI_MAGIC, MK_ABI_VERSION, sizeof(mk_plugin)

/* The one exported symbol of a plugin. */
#define MK_PLUGIN_ENTRY "mekong_plugin"
typedef const mk_plugin *(*mk_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* MEKONG_H */
