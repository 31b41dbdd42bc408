/*
 * pg_sink.c -- the postgres sink: rows loaded with COPY ... FROM STDIN,
 * the whole run one transaction (committed in close(state, 1), rolled
 * back otherwise).
 *
 * Each batch is one COPY inside a savepoint (a few while rows are being
 * refused: adapt_chunk), its text sent in messages of
 * up to 64 kB (so the server starts on a batch while the rest of it is
 * being formatted).  The source parses the next batch on its read-ahead thread
 * while this one streams to the server, and the server parses and inserts
 * as the bytes arrive; a batch costs two round trips (the start of COPY,
 * its result) whatever its size, and the first is hidden: the next
 * batch's COPY is started at the end of a batch (copy_ahead), so the
 * server is ready when it comes.  When the server refuses a row (a
 * constraint, a value it cannot read), the savepoint is rolled back, the
 * row is found -- from the line number in the error's CONTEXT, else by
 * bisecting the batch -- and rejected with the server's message, the
 * constraint and the SQLSTATE, and the rest of the batch is loaded again.
 * Rows are rejected while the batch is still there (a rejection names its
 * row in its batch), which is why a COPY never spans batches.
 *
 * Modes.  append: COPY into the table.  replace: DELETE the table's rows,
 * then COPY, in the same transaction: readers see the old rows until the
 * commit and are never blocked (TRUNCATE would lock them out for the whole
 * load), and the table keeps its definition, grants and indexes.  upsert:
 * each batch is copied into a temporary staging table, then INSERT ...
 * SELECT DISTINCT ON (key) ... ON CONFLICT (key) DO UPDATE sets the
 * input's columns; of two rows with one key in a batch the later wins (the
 * earlier is written and then overwritten, as a later batch's would be).
 *
 * Identifiers (table, columns, key) are always quoted by PQescapeIdentifier;
 * values go as COPY data, never as SQL.  A type name of `types` is SQL
 * text, so it must look like a type name and be one the server knows
 * (to_regtype) before it is used.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "pg_plugin.h"
#include "pg_shard.h"

enum { MODE_APPEND, MODE_REPLACE, MODE_UPSERT };
#define STAGE "pg_temp.mekong_stage"
#define STAGE_ROW "mekong_row"
#define COPY_MESSAGE (1u << 16)

typedef struct pg_sink {
    mk_context *ctx;
    const mk_host *host;
    pg_conn c;
    int mode;
    const char *table_name;  /* as written in the pipeline */
    char *target;            /* quoted */
    int exists;              /* the table was there at open */
    int started;             /* the first batch set up the load */
    int savepoint;           /* a savepoint "mekong" is open */
    int ahead;               /* the next COPY was sent, its answer not read yet */
    int in_tx;
    const mk_schema *columns; /* the input's columns (first batch) */
    mkk_colmap *map;
    pg_buf copy_sql;         /* COPY ... FROM STDIN */
    pg_buf upsert_sql;       /* upsert: staging -> target */
    pg_buf out;              /* COPY text being sent */
    pg_buf sql;              /* scratch */
    size_t *rows;            /* rows of the batch to load */
    size_t rows_cap;
    uint64_t rowno;          /* upsert: row number in the load */
    const long *colmap;      /* per output column, the batch's column (NULL: same) */
    uint64_t refused;
    char *stage_names;       /* a shard: "staging\0target\0" for messages (pg_shard.h) */
    size_t chunk;            /* rows per COPY (0: the whole batch); see adapt_chunk */
    unsigned clean;          /* COPYs without a refusal since the last change */
} pg_sink;

/* ---- small SQL helpers ------------------------------------------------ */

/* One-parameter query returning one value: its text (malloc'd) or NULL
 * for SQL NULL; *ok = 0 after host->error. */
static char *query_value(pg_sink *s, const char *sql, const char *param, const char *what, int *ok)
{
    const char *params[1] = {param};
    PGresult *res = PQexecParams(s->c.conn, sql, 1, NULL, params, NULL, NULL, 0);
    char *v = NULL;
    *ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!*ok) {
        pg_fail(&s->c, res, what);
        return NULL;
    }
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        v = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

static int add_ident_list(pg_sink *s, pg_buf *b, const char *const *names, size_t n,
                          const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        if ((i && pg_buf_adds(b, ", ") != 0) || (prefix && pg_buf_adds(b, prefix) != 0) ||
            pg_buf_ident(b, &s->c, names[i]) != 0)
            return -1;
    }
    return 0;
}

/* ---- open --------------------------------------------------------------- */

static int pg_sink_open(mk_context *ctx, const mk_host *host, void **state)
{
    pg_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    s->mode = mkk_opt_choice(host, ctx, "mode", "append|replace|upsert");
    if (s->mode < 0)
        s->mode = MODE_APPEND;
    s->table_name = host->opt_string(ctx, "table");
    if (s->mode == MODE_UPSERT && host->opt_count(ctx, "key") == 0) {
        host->error(ctx, "mode: upsert needs key: the column(s) of the conflict key");
        return MK_ERROR;
    }
    if (s->mode != MODE_UPSERT && host->opt_count(ctx, "key") != 0)
        host->log(ctx, MK_LOG_WARN, "key is used by mode: upsert only; it is ignored here");
    if (pg_connect(&s->c, ctx, host, host->opt_string(ctx, "conninfo"), "UTF8", "mekong sink") !=
        MK_OK)
        return MK_ERROR;
    if (!(s->target = pg_quote_table(&s->c, s->table_name)))
        return MK_ERROR;
    if (pg_exec(&s->c, "BEGIN", "starting the transaction") != MK_OK)
        return MK_ERROR;
    s->in_tx = 1;
    int ok;
    char *oid = query_value(s, "SELECT to_regclass($1)::oid", s->target, "looking up the table", &ok);
    if (!ok)
        return MK_ERROR;
    s->exists = oid != NULL;
    free(oid);
    if (!s->exists && !host->opt_bool(ctx, "create")) {
        host->error(ctx,
                    "table %s does not exist in %s: create it, or set create: true to make it "
                    "from the input's columns",
                    s->table_name, s->c.server);
        return MK_ERROR;
    }
    if (host->opt_count(ctx, "shard_merge")) /* mekong merge: the shards' staging tables */
        return pg_shard_merge(&s->c, ctx, host, s->target, s->table_name, s->exists, s->mode);
    if (host->opt_string(ctx, "shard_stage")) { /* a shard loads its own staging table */
        char *stage;
        if (pg_shard_stage_open(&s->c, ctx, host, s->target, s->exists, &stage, &s->exists,
                                &s->stage_names) != MK_OK)
            return MK_ERROR;
        free(s->target);
        s->target = stage;
    }
    host->log(ctx, MK_LOG_DEBUG, "loading %s on %s", s->table_name, s->c.server);
    return MK_OK;
}

/* ---- the first batch: create, check, prepare ------------------------------- */

/* The type of column c when creating: types option, else the schema's. */
static const char *column_type(pg_sink *s, const mk_schema *sc, size_t c)
{
    size_t n = s->host->opt_count(s->ctx, "types");
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        if (s->host->opt_entry(s->ctx, "types", i, &k, &v) == MK_OK && strcmp(k, sc->names[c]) == 0)
            return v;
    }
    static const char *const by_type[] = {"text",        "bigint", "numeric", "boolean",
                                          "date",        "timestamptz", "jsonb", "bytea"};
    mk_type t = sc->types ? sc->types[c] : MK_TYPE_TEXT;
    return (size_t)t < sizeof by_type / sizeof *by_type ? by_type[t] : "text";
}

/* A type name from the pipeline is pasted into CREATE TABLE: it must be
 * made of the characters type names use and known to the server. */
static int check_type(pg_sink *s, const char *column, const char *type)
{
    int plain = *type != '\0' && strstr(type, "--") == NULL;
    for (const char *p = type; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("_ ,()[].", *p) != NULL;
    int ok = 1;
    char *known = plain ? query_value(s, "SELECT to_regtype($1)::text", type, "checking a type", &ok)
                        : NULL;
    if (!ok)
        return MK_ERROR;
    if (!known) {
        s->host->error(s->ctx, "types: '%s' (column %s) is not a type this server knows", type,
                       column);
        return MK_ERROR;
    }
    free(known);
    return MK_OK;
}

static int create_table(pg_sink *s, const mk_schema *sc)
{
    size_t n = s->host->opt_count(s->ctx, "types");
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        s->host->opt_entry(s->ctx, "types", i, &k, &v);
        if (mkk_column_find(s->host, sc, k) < 0) {
            s->host->error(s->ctx, "types: the input has no column '%s'", k);
            return MK_ERROR;
        }
    }
    pg_buf *b = &s->sql;
    b->len = 0;
    if (pg_buf_adds(b, "CREATE TABLE ") != 0 || pg_buf_adds(b, s->target) != 0 ||
        pg_buf_adds(b, " (") != 0)
        return MK_NOMEM;
    for (size_t c = 0; c < sc->ncols; c++) {
        const char *type = column_type(s, sc, c);
        if (check_type(s, sc->names[c], type) != MK_OK)
            return MK_ERROR;
        if ((c && pg_buf_adds(b, ", ") != 0) || pg_buf_ident(b, &s->c, sc->names[c]) != 0 ||
            pg_buf_adds(b, " ") != 0 || pg_buf_adds(b, type) != 0)
            return MK_NOMEM;
    }
    if (s->mode == MODE_UPSERT) { /* ON CONFLICT needs a unique key */
        size_t nk = s->host->opt_count(s->ctx, "key");
        if (pg_buf_adds(b, ", PRIMARY KEY (") != 0)
            return MK_NOMEM;
        for (size_t i = 0; i < nk; i++) {
            const char *k;
            s->host->opt_entry(s->ctx, "key", i, NULL, &k);
            if ((i && pg_buf_adds(b, ", ") != 0) || pg_buf_ident(b, &s->c, k) != 0)
                return MK_NOMEM;
        }
        if (pg_buf_adds(b, ")") != 0)
            return MK_NOMEM;
    }
    if (pg_buf_adds(b, ")") != 0)
        return MK_NOMEM;
    s->host->log(s->ctx, MK_LOG_INFO, "creating table %s", s->table_name);
    return pg_exec(&s->c, pg_buf_str(b), "creating the table");
}

/* Every input column must be a column of the table (else its values would
 * be lost); the table's other columns take their defaults. */
static int check_columns(pg_sink *s, const mk_schema *sc)
{
    const char *params[1] = {s->target};
    PGresult *res = PQexecParams(s->c.conn,
                                 "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass "
                                 "AND attnum > 0 AND NOT attisdropped",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(&s->c, res, "reading the table's columns");
    int rc = MK_OK;
    for (size_t c = 0; rc == MK_OK && c < sc->ncols; c++) {
        int found = 0;
        for (int r = 0; !found && r < PQntuples(res); r++)
            found = strcmp(PQgetvalue(res, r, 0), sc->names[c]) == 0;
        if (!found) {
            s->host->error(s->ctx,
                           "table %s has no column '%s' that the input has: add the column to "
                           "the table, or drop or rename it with a map transform",
                           s->table_name, sc->names[c]);
            rc = MK_ERROR;
        }
        if (s->mode == MODE_UPSERT && strcmp(sc->names[c], STAGE_ROW) == 0) {
            s->host->error(s->ctx, "mode: upsert: the column name %s is used by mekong's staging "
                                   "table: rename it with a map transform", STAGE_ROW);
            rc = MK_ERROR;
        }
    }
    PQclear(res);
    return rc;
}

/* upsert: the staging table and the INSERT ... ON CONFLICT from it. */
static int prepare_upsert(pg_sink *s, const mk_schema *sc)
{
    const char *const *names = sc->names;
    size_t nk = s->host->opt_count(s->ctx, "key");
    const char **keys = calloc(nk, sizeof(*keys));
    if (!keys)
        return MK_NOMEM;
    int rc = MK_OK;
    for (size_t i = 0; i < nk; i++) {
        s->host->opt_entry(s->ctx, "key", i, NULL, &keys[i]);
        if (rc == MK_OK && mkk_column_find(s->host, sc, keys[i]) < 0) {
            s->host->error(s->ctx, "key: the input has no column '%s'", keys[i]);
            rc = MK_ERROR;
        }
    }
    pg_buf *b = &s->sql, *u = &s->upsert_sql;
    b->len = 0;
    if (rc == MK_OK &&
        (pg_buf_adds(b, "CREATE TEMP TABLE mekong_stage ON COMMIT DROP AS SELECT ") != 0 ||
         add_ident_list(s, b, names, sc->ncols, NULL) != 0 || pg_buf_adds(b, " FROM ") != 0 ||
         pg_buf_adds(b, s->target) != 0 ||
         pg_buf_adds(b, " WITH NO DATA; ALTER TABLE " STAGE " ADD COLUMN " STAGE_ROW " bigint") != 0))
        rc = MK_NOMEM;
    if (rc == MK_OK)
        rc = pg_exec(&s->c, pg_buf_str(b), "creating the staging table");
    if (rc == MK_OK &&
        (pg_buf_adds(u, "INSERT INTO ") != 0 || pg_buf_adds(u, s->target) != 0 ||
         pg_buf_adds(u, " (") != 0 || add_ident_list(s, u, names, sc->ncols, NULL) != 0 ||
         pg_buf_adds(u, ") SELECT DISTINCT ON (") != 0 || add_ident_list(s, u, keys, nk, NULL) ||
         pg_buf_adds(u, ") ") != 0 || add_ident_list(s, u, names, sc->ncols, NULL) != 0 ||
         pg_buf_adds(u, " FROM " STAGE " ORDER BY ") != 0 || add_ident_list(s, u, keys, nk, NULL) ||
         pg_buf_adds(u, ", " STAGE_ROW " DESC ON CONFLICT (") != 0 ||
         add_ident_list(s, u, keys, nk, NULL) != 0 || pg_buf_adds(u, ") DO ") != 0))
        rc = MK_NOMEM;
    size_t nset = 0;
    for (size_t c = 0; rc == MK_OK && c < sc->ncols; c++) {
        int is_key = 0;
        for (size_t i = 0; i < nk; i++)
            is_key |= strcmp(keys[i], names[c]) == 0;
        if (is_key)
            continue;
        if (pg_buf_adds(u, nset++ ? ", " : "UPDATE SET ") != 0 ||
            pg_buf_ident(u, &s->c, names[c]) != 0 || pg_buf_adds(u, " = EXCLUDED.") != 0 ||
            pg_buf_ident(u, &s->c, names[c]) != 0)
            rc = MK_NOMEM;
    }
    if (rc == MK_OK && nset == 0 && pg_buf_adds(u, "NOTHING") != 0)
        rc = MK_NOMEM;
    free(keys);
    return rc;
}

static int start_load(pg_sink *s, const mk_schema *sc)
{
    s->started = 1;
    s->columns = sc;
    if (!(s->map = mkk_colmap_new(s->host, sc->names, sc->ncols)))
        return MK_NOMEM;
    int rc = MK_OK;
    if (!s->exists)
        rc = create_table(s, sc);
    if (rc == MK_OK)
        rc = check_columns(s, sc);
    if (rc == MK_OK && s->stage_names)
        rc = pg_shard_stage_columns(&s->c, s->ctx, s->host, sc);
    if (rc == MK_OK && s->mode == MODE_REPLACE) {
        pg_buf *b = &s->sql;
        b->len = 0;
        if (pg_buf_adds(b, "DELETE FROM ") != 0 || pg_buf_adds(b, s->target) != 0)
            return MK_NOMEM;
        rc = pg_exec(&s->c, pg_buf_str(b), "removing the table's rows (mode: replace)");
    }
    if (rc == MK_OK && s->mode == MODE_UPSERT)
        rc = prepare_upsert(s, sc);
    if (rc != MK_OK)
        return rc;
    pg_buf *b = &s->copy_sql;
    if (pg_buf_adds(b, "COPY ") != 0 ||
        pg_buf_adds(b, s->mode == MODE_UPSERT ? STAGE : s->target) != 0 ||
        pg_buf_adds(b, " (") != 0 || add_ident_list(s, b, sc->names, sc->ncols, NULL) != 0 ||
        (s->mode == MODE_UPSERT && pg_buf_adds(b, ", " STAGE_ROW) != 0) ||
        pg_buf_adds(b, ") FROM STDIN") != 0)
        return MK_NOMEM;
    return MK_OK;
}

/* ---- COPY text --------------------------------------------------------------- */

/* One value in COPY text format: \N for NULL; backslash, tab, LF, CR escaped. */
static int add_value(pg_buf *o, const mk_value *v)
{
    if (!v->ptr)
        return pg_buf_add(o, "\\N", 2);
    static const unsigned char special[256] = {['\\'] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};
    size_t plain = 0;
    while (plain < v->len && !special[(unsigned char)v->ptr[plain]])
        plain++;
    if (plain == v->len) /* the common case: nothing to escape */
        return pg_buf_add(o, v->ptr, v->len);
    if (pg_buf_reserve(o, 2 * v->len + 2) != 0)
        return -1;
    char *d = o->data + o->len;
    memcpy(d, v->ptr, plain);
    d += plain;
    for (size_t i = plain; i < v->len; i++) {
        char ch = v->ptr[i];
        switch (ch) {
        case '\\': *d++ = '\\'; *d++ = '\\'; break;
        case '\t': *d++ = '\\'; *d++ = 't'; break;
        case '\n': *d++ = '\\'; *d++ = 'n'; break;
        case '\r': *d++ = '\\'; *d++ = 'r'; break;
        default: *d++ = ch; break;
        }
    }
    o->len = (size_t)(d - o->data);
    return 0;
}

static int add_row(pg_sink *s, const mk_batch *b, size_t r)
{
    pg_buf *o = &s->out;
    for (size_t i = 0; i < s->columns->ncols; i++) {
        if (i && pg_buf_add(o, "\t", 1) != 0)
            return -1;
        long c = s->colmap ? s->colmap[i] : (long)i;
        mk_value null = {NULL, 0};
        if (add_value(o, c >= 0 ? &MK_CELL(b, r, (size_t)c) : &null) != 0)
            return -1;
    }
    if (s->mode == MODE_UPSERT) {
        char num[32];
        int n = snprintf(num, sizeof num, "\t%llu", (unsigned long long)++s->rowno);
        if (pg_buf_add(o, num, (size_t)n) != 0)
            return -1;
    }
    return pg_buf_add(o, "\n", 1);
}

/* ---- loading with savepoints ------------------------------------------------- */

enum { LOAD_OK = 0, LOAD_REFUSED = 1, LOAD_FAILED = -1 };

/* The end of a COPY or statement: LOAD_OK, LOAD_REFUSED (*refused = res:
 * a row the server refused; refused NULL: no row can be at fault), or
 * LOAD_FAILED (host->error called). */
static int load_result(pg_sink *s, PGresult *res, PGresult **refused, const char *what)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK) {
        PQclear(res);
        return LOAD_OK;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (refused && !pg_conn_lost(&s->c) && state &&
        (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) {
        *refused = res;
        return LOAD_REFUSED;
    }
    char msg[1200];
    if (pg_conn_lost(&s->c) || !res)
        snprintf(msg, sizeof msg, "lost the connection: %s", pg_conn_message(&s->c));
    else
        pg_result_message(res, msg, sizeof msg);
    PQclear(res);
    s->host->error(s->ctx,
                   "PostgreSQL (%s), table %s: %s failed: %s -- nothing was committed, the table "
                   "is as it was; fix the cause and run again",
                   s->c.server, s->table_name, what, msg);
    return LOAD_FAILED;
}

static void drain(pg_sink *s)
{
    PGresult *res;
    while ((res = PQgetResult(s->c.conn)))
        PQclear(res);
}

/* Send the start of a COPY in a fresh savepoint: LOAD_OK or LOAD_FAILED. */
static int send_begin(pg_sink *s)
{
    pg_buf *q = &s->sql;
    q->len = 0;
    if ((s->savepoint && pg_buf_adds(q, "RELEASE SAVEPOINT mekong; ") != 0) ||
        pg_buf_adds(q, "SAVEPOINT mekong; ") != 0 ||
        (s->mode == MODE_UPSERT && pg_buf_adds(q, "TRUNCATE " STAGE "; ") != 0) ||
        pg_buf_add(q, s->copy_sql.data, s->copy_sql.len) != 0)
        return LOAD_FAILED;
    s->savepoint = 0;
    if (!PQsendQuery(s->c.conn, pg_buf_str(q)))
        return load_result(s, NULL, NULL, "starting COPY");
    return LOAD_OK;
}

/* The server's answer to send_begin: LOAD_OK once it waits for rows. */
static int await_copy(pg_sink *s)
{
    PGresult *res;
    while ((res = PQgetResult(s->c.conn))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN) {
            PQclear(res);
            s->savepoint = 1;
            return LOAD_OK;
        }
        if (st != PGRES_COMMAND_OK) {
            load_result(s, res, NULL, "starting COPY");
            drain(s);
            return LOAD_FAILED;
        }
        PQclear(res);
    }
    return load_result(s, NULL, NULL, "starting COPY");
}

/* Start a COPY: the one sent ahead at the end of the last batch, else a
 * new one.  LOAD_OK or LOAD_FAILED. */
static int begin_copy(pg_sink *s)
{
    if (s->ahead) {
        s->ahead = 0;
        return await_copy(s);
    }
    int rc = send_begin(s);
    return rc == LOAD_OK ? await_copy(s) : rc;
}

/* At the end of a batch, start the next batch's COPY without waiting for
 * the answer: the server gets ready while mekong makes the next batch,
 * which saves a round trip per batch.  close() ends a COPY that no batch
 * used (an empty COPY).  MK_OK or MK_ERROR. */
static int copy_ahead(pg_sink *s)
{
    if (send_begin(s) != LOAD_OK)
        return MK_ERROR;
    s->ahead = 1;
    return MK_OK;
}

/* close(): end the COPY sent ahead, empty (commit) or cancelled (else). */
static int end_ahead(pg_sink *s, int commit)
{
    s->ahead = 0;
    if (!commit) { /* the run failed already: no more messages */
        PGresult *res;
        while ((res = PQgetResult(s->c.conn))) {
            if (PQresultStatus(res) == PGRES_COPY_IN)
                PQputCopyEnd(s->c.conn, "the run failed");
            PQclear(res);
        }
        return MK_OK;
    }
    if (await_copy(s) != LOAD_OK)
        return MK_ERROR;
    if (PQputCopyEnd(s->c.conn, NULL) != 1)
        return load_result(s, NULL, NULL, "ending COPY") == LOAD_OK ? MK_OK : MK_ERROR;
    int rc = load_result(s, PQgetResult(s->c.conn), NULL, "ending COPY");
    drain(s);
    return rc == LOAD_OK ? MK_OK : MK_ERROR;
}

static int send_out(pg_sink *s)
{
    if (s->out.len && PQputCopyData(s->c.conn, s->out.data, (int)s->out.len) != 1)
        return -1;
    s->out.len = 0;
    return 0;
}

/* Load rows[0..n) of b in one savepoint. */
static int try_load(pg_sink *s, const mk_batch *b, const size_t *rows, size_t n, PGresult **refused)
{
    int rc = begin_copy(s);
    if (rc != LOAD_OK)
        return rc;
    s->out.len = 0;
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        if (add_row(s, b, rows[i]) != 0)
            bad = 1;
        else if (s->out.len >= COPY_MESSAGE && send_out(s) != 0)
            break;
    }
    if (bad) {
        PQputCopyEnd(s->c.conn, "out of memory");
        drain(s);
        s->host->error(s->ctx, "out of memory");
        return LOAD_FAILED;
    }
    /* a failed send: the server may have refused a row and ended the COPY
     * already; its result below says what happened */
    if (send_out(s) == 0)
        PQputCopyEnd(s->c.conn, NULL);
    PGresult *res = PQgetResult(s->c.conn);
    rc = load_result(s, res, refused, "COPY");
    drain(s);
    if (rc == LOAD_OK && s->mode == MODE_UPSERT)
        rc = load_result(s, PQexec(s->c.conn, s->upsert_sql.data), refused, "upsert");
    if (rc == LOAD_REFUSED && pg_exec(&s->c, "ROLLBACK TO SAVEPOINT mekong",
                                      "rolling back a refused batch") != MK_OK) {
        PQclear(*refused);
        return LOAD_FAILED;
    }
    return rc;
}

/* The line of a COPY in an error's CONTEXT ("COPY t, line N[, column c]:
 * ...", possibly after a trigger's lines), or 0. */
static size_t copy_line_of(const char *context)
{
    const char *p = context ? strstr(context, "COPY ") : NULL;
    p = p ? strstr(p, ", line ") : NULL;
    if (!p)
        return 0;
    return (size_t)strtoull(p + 7, NULL, 10);
}

/* The refused row's line in a COPY, or 0. */
static size_t refused_line(const PGresult *res)
{
    return copy_line_of(PQresultErrorField(res, PG_DIAG_CONTEXT));
}

static int reject(pg_sink *s, const mk_batch *b, size_t row, const PGresult *res)
{
    char msg[1200], reason[1600], name[256];
    pg_result_message(res, msg, sizeof msg);
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    if (s->stage_names) { /* a shard: in the words one run's load would get */
        pg_shard_unstage(msg, sizeof msg, s->stage_names);
        if (constraint) {
            snprintf(name, sizeof name, "%s", constraint);
            pg_shard_unstage(name, sizeof name, s->stage_names);
            constraint = name;
        }
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (constraint)
        snprintf(reason, sizeof reason, "PostgreSQL refused the row: %s [constraint %s]", msg,
                 constraint);
    else
        snprintf(reason, sizeof reason, "PostgreSQL refused the row: %s", msg);
    s->refused++;
    return s->host->row_reject(s->ctx, b, row,
                               state && strncmp(state, "23", 2) == 0 ? "postgres.constraint"
                                                                     : "postgres.invalid_value",
                               reason);
}

/* Load rows[0..n): refused rows are rejected, the rest loaded.  MK_OK or
 * MK_ERROR.  A refusal with a line number names its row; one without is
 * narrowed down by halves (a row alone is the culprit). */
static int load_rows(pg_sink *s, const mk_batch *b, size_t *rows, size_t n)
{
    while (n > 0) {
        PGresult *refused = NULL;
        uint64_t rowno = s->rowno;
        int rc = try_load(s, b, rows, n, &refused);
        if (rc == LOAD_OK)
            return MK_OK;
        if (rc == LOAD_FAILED)
            return MK_ERROR;
        s->rowno = rowno;
        size_t line = refused_line(refused);
        if (line >= 1 && line <= n) {
            rc = reject(s, b, rows[line - 1], refused);
            PQclear(refused);
            if (rc != MK_OK)
                return MK_ERROR;
            memmove(&rows[line - 1], &rows[line], (n - line) * sizeof(*rows));
            n--;
            continue;
        }
        if (n == 1) {
            rc = reject(s, b, rows[0], refused);
            PQclear(refused);
            return rc == MK_OK ? MK_OK : MK_ERROR;
        }
        PQclear(refused);
        size_t half = n / 2;
        if (load_rows(s, b, rows, half) != MK_OK)
            return MK_ERROR;
        rows += half;
        n -= half;
    }
    return MK_OK;
}

/* The rows of one COPY.  A refused row costs a second COPY of its unit
 * (the savepoint takes the rows before it back too), so while the server
 * refuses rows the unit shrinks, and it grows back after clean units:
 * with one refusal in 10,000 rows it settles near 2,500 rows, a tenth of
 * a unit lost per refusal, against a round trip per unit. */
static void adapt_chunk(pg_sink *s, size_t rows, int refused)
{
    if (refused) {
        s->chunk = rows / 2 > 128 ? rows / 2 : 128;
        s->clean = 0;
    } else if (s->chunk && ++s->clean >= 4) {
        s->chunk = s->chunk >= (1u << 20) ? 0 : s->chunk * 2; /* 0: a whole batch */
        s->clean = 0;
    }
}

/* ---- write / close ------------------------------------------------------------ */

static int map_batch(pg_sink *s, const mk_schema *sc)
{
    s->colmap = NULL;
    if (sc == s->columns)
        return MK_OK;
    long extra = mkk_colmap_unwanted(s->map, sc);
    if (extra >= 0) {
        s->host->error(s->ctx,
                       "rows with a column '%s' reached this sink, which loads the columns of "
                       "the first rows: align the sources with a map transform",
                       sc->names[extra]);
        return MK_ERROR;
    }
    s->colmap = extra == -1 ? mkk_colmap_get(s->map, sc) : NULL;
    return s->colmap ? MK_OK : MK_NOMEM;
}

static int pg_sink_write(void *state, const mk_batch *b)
{
    pg_sink *s = state;
    int rc;
    if (!s->started && (rc = start_load(s, b->schema)) != MK_OK)
        return rc;
    if ((rc = map_batch(s, b->schema)) != MK_OK)
        return rc;
    if (b->nrows == 0)
        return MK_OK;
    if (s->rows_cap < b->nrows) {
        free(s->rows);
        s->rows_cap = 0;
        if (!(s->rows = malloc(b->nrows * sizeof(*s->rows))))
            return MK_NOMEM;
        s->rows_cap = b->nrows;
    }
    size_t n = 0;
    int checked = s->host->batch_text_checked(s->ctx, b);
    for (size_t r = 0; r < b->nrows; r++) {
        if (!checked) {
            int rej = mkk_utf8_reject_row(s->host, s->ctx, b, r, "postgres.invalid_utf8");
            if (rej < 0)
                return MK_ERROR;
            if (rej)
                continue;
        }
        s->rows[n++] = r;
    }
    if (s->host->stopping())
        return MK_STOPPED;
    uint64_t before = s->refused;
    for (size_t done = 0; done < n && rc == MK_OK; ) {
        size_t c = s->chunk && s->chunk < n - done ? s->chunk : n - done;
        uint64_t was = s->refused;
        rc = load_rows(s, b, s->rows + done, c);
        adapt_chunk(s, c, s->refused != was);
        done += c;
    }
    if (s->refused != before)
        s->host->report_add(s->ctx, "refused_by_server", (int64_t)(s->refused - before));
    return rc == MK_OK ? copy_ahead(s) : rc;
}

static int pg_sink_close(void *state, int commit)
{
    pg_sink *s = state;
    if (!s)
        return MK_OK;
    int rc = MK_OK;
    if (s->ahead && !pg_conn_lost(&s->c) && end_ahead(s, commit) != MK_OK)
        rc = MK_ERROR;
    if (rc == MK_OK && s->in_tx && commit) {
        rc = pg_exec(&s->c, "COMMIT", "committing the load (nothing was committed)");
    } else if (s->in_tx && !pg_conn_lost(&s->c)) {
        PGresult *res = PQexec(s->c.conn, "ROLLBACK");
        PQclear(res);
    }
    pg_disconnect(&s->c);
    free(s->target);
    free(s->stage_names);
    mkk_colmap_free(s->map);
    pg_buf_free(&s->copy_sql);
    pg_buf_free(&s->upsert_sql);
    pg_buf_free(&s->out);
    pg_buf_free(&s->sql);
    free(s->rows);
    free(s);
    return rc;
}

const mk_sink_ops pg_sink_ops = {
    pg_sink_open,
    pg_sink_write,
    pg_sink_close,
};
