/*
 * pg_shard.c -- the postgres plugin in a sharded run (see pg_shard.h,
 * docs/POSTGRES.md "Shards", docs/SCALE.md).
 *
 * Source.  A table is split by ranges of one unique, not-NULL column
 * (shard_key).  The plan counts the rows and finds the key at positions
 * k * rows / N in key order (one window pass); shard k reads key >= its
 * lower cut and < its upper cut, ORDER BY key, numbering rows from the
 * count before its cut -- exactly the numbers one run that reads ORDER BY
 * key gives (an incremental source is cut by its mark columns and the
 * key instead: pg_shard_inc.c).  The cut values reach the server as bound
 * parameters of set_config() and are read back with current_setting()
 * inside the COPY's SELECT (COPY itself takes no parameters), so no value
 * from the data is ever SQL text.  Trade-off: a shard checks only that its range still
 * holds the planned number of rows, not that the values are the same.
 *
 * Sink.  A shard loads into its own table PG_SHARD_SCHEMA.<name>, made
 * like the target (constraints, indexes: the rows one run's load would
 * refuse are refused here, and become the shard's rejects) and cut down to
 * the input's columns.  The merge applies the staging tables in shard
 * order in one transaction, drops them and writes a row of the ledger
 * PG_SHARD_SCHEMA.merged, so a second merge of the same plan finds the
 * row and changes nothing.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "pg_shard.h"

/* ---- small helpers ------------------------------------------------------ */

static PGresult *exec_params(pg_conn *c, const char *sql, int n, const char *const *params)
{
    return PQexecParams(c->conn, sql, n, NULL, params, NULL, NULL, 0);
}

PGresult *pg_shard_exec_params(pg_conn *c, const char *sql, int n, const char *const *params)
{
    return exec_params(c, sql, n, params);
}

int pg_shard_is_shard(mk_context *ctx, const mk_host *h)
{
    return h->opt_string(ctx, "shard_rows") != NULL;
}

/* PG_SHARD_SCHEMA.name, quoted (malloc'd), or NULL after host->error. */
static char *stage_table(pg_conn *c, const char *name)
{
    pg_buf b = {0};
    if (pg_buf_adds(&b, PG_SHARD_SCHEMA ".") != 0 || pg_buf_ident(&b, c, name) != 0) {
        pg_buf_free(&b);
        c->host->error(c->ctx, "out of memory");
        return NULL;
    }
    return b.data;
}

/* The schema and the ledger, each in its own short transaction on a
 * connection of its own, so that shards starting together do not wait for
 * each other's loads (a shard that loses the race to create them goes on). */
static int ensure_schema(pg_conn *c, mk_context *ctx, const mk_host *h)
{
    static const char *const steps[] = {
        "SET client_min_messages = warning", /* no notice that they exist */
        /* shards starting together make them one after another (concurrent
         * IF NOT EXISTS can still collide in the catalogue); let go at the end */
        "SELECT pg_advisory_lock(hashtext('mekong_shard setup'))",
        "CREATE SCHEMA IF NOT EXISTS " PG_SHARD_SCHEMA,
        "CREATE TABLE IF NOT EXISTS " PG_SHARD_SCHEMA ".merged (id text PRIMARY KEY, "
        "target text NOT NULL, rows bigint NOT NULL, merged_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE IF NOT EXISTS " PG_SHARD_SCHEMA ".columns (stage text, position int, "
        "name text NOT NULL, PRIMARY KEY (stage, position))",
    };
    pg_conn setup = {0};
    if (pg_connect(&setup, ctx, h, h->opt_string(ctx, "conninfo"), "UTF8", "mekong shard setup") !=
        MK_OK)
        return MK_ERROR;
    int rc = MK_OK;
    for (size_t i = 0; rc == MK_OK && i < sizeof steps / sizeof *steps; i++) {
        PGresult *res = PQexec(setup.conn, steps[i]);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int raced = state && (strcmp(state, "23505") == 0 || strcmp(state, "42P06") == 0 ||
                              strcmp(state, "42P07") == 0 || strcmp(state, "42710") == 0);
        if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK ||
            raced)
            PQclear(res);
        else
            rc = pg_fail(&setup, res, "creating schema " PG_SHARD_SCHEMA " for the staging tables");
    }
    pg_disconnect(&setup);
    (void)c;
    return rc;
}

/* ---- source: the plan ----------------------------------------------------- */

/* " FROM table [WHERE (where)]" into b. */
static int add_from(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *b)
{
    const char *where = h->opt_string(ctx, "where");
    char *q = pg_quote_table(c, h->opt_string(ctx, "table"));
    if (!q)
        return MK_ERROR;
    int rc = pg_buf_adds(b, " FROM ") != 0 || pg_buf_adds(b, q) != 0 ||
             (where && (pg_buf_adds(b, " WHERE (") != 0 || pg_buf_adds(b, where) != 0 ||
                        pg_buf_adds(b, "\n)") != 0));
    free(q);
    return rc ? MK_NOMEM : MK_OK;
}

int pg_shard_from(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *b)
{
    return add_from(c, ctx, h, b);
}

/* 1 when the catalog promises the key unique and NOT NULL (a one-column
 * unique index without a predicate, on a NOT NULL column), else 0 (a view,
 * or no such index: the data is checked). */
static int key_declared_unique(pg_conn *c, mk_context *ctx, const mk_host *h)
{
    char *q = pg_quote_table(c, h->opt_string(ctx, "table"));
    if (!q)
        return 0;
    const char *params[2] = {q, h->opt_string(ctx, "shard_key")};
    PGresult *res = exec_params(c,
                                "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON "
                                "a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE "
                                "i.indrelid = $1::regclass AND i.indisunique AND i.indnkeyatts = 1 "
                                "AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2 "
                                "AND a.attnotnull)",
                                2, params);
    free(q);
    int yes = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

/* Rows, rows with a key, distinct keys: the key must be unique and set
 * (counted only when no unique index on a NOT NULL column says so). */
static int check_key(pg_conn *c, mk_context *ctx, const mk_host *h, const char *from,
                     long long *total)
{
    const char *key = h->opt_string(ctx, "shard_key");
    int declared = key_declared_unique(c, ctx, h);
    pg_buf b = {0};
    int bad = declared ? pg_buf_adds(&b, "SELECT count(*), count(*), count(*)") != 0
                       : pg_buf_adds(&b, "SELECT count(*), count(") != 0 ||
                             pg_buf_ident(&b, c, key) != 0 ||
                             pg_buf_adds(&b, "), count(DISTINCT ") != 0 ||
                             pg_buf_ident(&b, c, key) != 0 || pg_buf_adds(&b, ")") != 0;
    if (bad || pg_buf_adds(&b, from) != 0) {
        pg_buf_free(&b);
        return MK_NOMEM;
    }
    PGresult *res = PQexec(c->conn, b.data);
    pg_buf_free(&b);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(c, res, "counting the rows by shard_key");
    long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    long long set = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    long long distinct = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    *total = n;
    const char *table = h->opt_string(ctx, "table");
    if (set != n) {
        h->error(ctx,
                 "shard_key %s is NULL in %lld of the %lld rows of %s: a key range cannot "
                 "hold NULL; give a key column that is never NULL (the primary key)",
                 key, n - set, n, table);
        return MK_ERROR;
    }
    if (distinct != n) {
        h->error(ctx,
                 "shard_key %s is not unique in %s (%lld rows, %lld distinct values): rows "
                 "with one key have no fixed order, so their record numbers would differ from "
                 "one run's; give a unique key (the primary key)",
                 key, table, n, distinct);
        return MK_ERROR;
    }
    return MK_OK;
}

int pg_shard_check_key(pg_conn *c, mk_context *ctx, const mk_host *h, const char *from,
                       long long *total)
{
    return check_key(c, ctx, h, from, total);
}

/* Cut k of n: about k/n of the rows, at a multiple of the batch size b,
 * so that a shard's batches are the very batches of one run (the rows a
 * sink refuses are rejected batch by batch, after the batch's earlier
 * steps: the rejects file's order depends on where batches end). */
static long long cut_position(int k, int n, long long total, long long b)
{
    long long p = (long long)((__int128)k * total / n), r = (p + b / 2) / b * b;
    /* never at the end: a cut is the key of the row there, and past the
     * last row there is none (the shard after it would have no lower
     * bound) -- round down instead; the last shard runs to the end anyway */
    return r < total ? r : p / b * b;
}

long long pg_shard_cut_position(int k, int n, long long total, long long batch)
{
    return cut_position(k, n, total, batch);
}

/* The keys at the cut positions, reported as shard_cut_<k>, shard_pos_<k>. */
static int find_cuts(pg_conn *c, mk_context *ctx, const mk_host *h, const char *from, int n,
                     long long total, long long batch)
{
    pg_buf b = {0}, pos = {0};
    char num[64];
    int rc = pg_buf_adds(&pos, "{") != 0;
    for (int k = 1; !rc && k < n; k++) {
        snprintf(num, sizeof num, "%s%lld", k > 1 ? "," : "", cut_position(k, n, total, batch));
        rc = pg_buf_adds(&pos, num) != 0;
    }
    rc = rc || pg_buf_adds(&pos, "}") != 0 ||
         pg_buf_adds(&b, "SELECT mekong_pos, mekong_key FROM (SELECT ") != 0 ||
         pg_buf_ident(&b, c, h->opt_string(ctx, "shard_key")) != 0 ||
         pg_buf_adds(&b, " AS mekong_key, row_number() OVER (ORDER BY ") != 0 ||
         pg_buf_ident(&b, c, h->opt_string(ctx, "shard_key")) != 0 ||
         pg_buf_adds(&b, ") - 1 AS mekong_pos") != 0 || pg_buf_adds(&b, from) != 0 ||
         pg_buf_adds(&b, ") AS mekong_cuts WHERE mekong_pos = ANY ($1::bigint[]) ORDER BY 1") != 0;
    if (rc) {
        pg_buf_free(&b);
        pg_buf_free(&pos);
        return MK_NOMEM;
    }
    const char *params[1] = {pos.data};
    PGresult *res = exec_params(c, b.data, 1, params);
    pg_buf_free(&b);
    pg_buf_free(&pos);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(c, res, "finding the shards' key ranges");
    int row = 0;
    for (int k = 1; k < n; k++) {
        long long p = cut_position(k, n, total, batch);
        while (row < PQntuples(res) && strtoll(PQgetvalue(res, row, 0), NULL, 10) < p)
            row++;
        if (row >= PQntuples(res))
            break; /* no rows at all: no cuts */
        snprintf(num, sizeof num, "shard_cut_%d", k);
        h->report_set(ctx, num, PQgetvalue(res, row, 1));
        snprintf(num, sizeof num, "shard_pos_%d", k);
        h->report_add(ctx, num, p);
    }
    PQclear(res);
    return MK_OK;
}

int pg_shard_plan(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc)
{
    /* "N/B": N shards, batches of B rows */
    const char *plan = h->opt_string(ctx, "shard_plan"), *slash = strchr(plan, '/');
    int n = atoi(plan);
    long long batch = slash ? strtoll(slash + 1, NULL, 10) : 1;
    if (n < 1 || batch < 1) {
        h->error(ctx, "shard_plan: '%s' is not N/B (shards/batch rows)", plan);
        return MK_ERROR;
    }
    if (!h->opt_string(ctx, "table")) {
        h->error(ctx, "shards split a table by key ranges, not a query: give table (a view "
                      "works: make the query a view and give its name)");
        return MK_ERROR;
    }
    if (!h->opt_string(ctx, "shard_key")) {
        h->error(ctx, "shards need shard_key: the unique, never NULL column (the primary key) "
                      "whose ranges the shards read; one run then reads in its order too");
        return MK_ERROR;
    }
    if (inc->n) /* the rows above the mark, in the incremental order */
        return pg_shard_inc_plan(c, ctx, h, n, batch, inc);
    pg_buf from = {0};
    long long total = 0;
    int rc = add_from(c, ctx, h, &from);
    if (rc == MK_OK)
        rc = check_key(c, ctx, h, from.data, &total);
    if (rc == MK_OK) {
        h->report_add(ctx, "shard_total", total);
        rc = n > 1 ? find_cuts(c, ctx, h, from.data, n, total, batch) : MK_OK;
    }
    pg_buf_free(&from);
    return rc;
}

/* ---- source: a shard's range ------------------------------------------------ */

int pg_shard_source_setup(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc)
{
    if (inc->n && pg_shard_is_shard(ctx, h))
        return pg_shard_inc_setup(c, ctx, h, inc);
    const char *from = h->opt_string(ctx, "shard_from"), *to = h->opt_string(ctx, "shard_to");
    if (!from && !to)
        return MK_OK;
    const char *params[2] = {from ? from : "", to ? to : ""};
    PGresult *res = exec_params(c,
                                "SELECT set_config('mekong.shard_from', $1, false), "
                                "set_config('mekong.shard_to', $2, false)",
                                2, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(c, res, "setting the shard's key range");
    PQclear(res);
    return MK_OK;
}

/* A column's type as the server names it (format_type), malloc'd. */
char *pg_shard_column_type(pg_conn *c, mk_context *ctx, const mk_host *h, const char *column)
{
    char *q = pg_quote_table(c, h->opt_string(ctx, "table"));
    if (!q)
        return NULL;
    const char *params[2] = {q, column};
    PGresult *res = exec_params(c,
                                "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE "
                                "attrelid = $1::regclass AND attname = $2 AND attnum > 0 AND "
                                "NOT attisdropped",
                                2, params);
    free(q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail(c, res, "looking up a column's type");
        return NULL;
    }
    char *type = PQntuples(res) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    if (!PQntuples(res))
        h->error(ctx, "table %s has no column '%s' (shard_key, incremental)",
                 h->opt_string(ctx, "table"), params[1]);
    PQclear(res);
    return type;
}

static int add_bound(pg_buf *b, pg_conn *c, const char *key, const char *op, const char *setting,
                     const char *type)
{
    return pg_buf_ident(b, c, key) != 0 || pg_buf_adds(b, op) != 0 ||
           pg_buf_adds(b, " CAST(current_setting('") != 0 || pg_buf_adds(b, setting) != 0 ||
           pg_buf_adds(b, "') AS ") != 0 || pg_buf_adds(b, type) != 0 || pg_buf_adds(b, ")") != 0;
}

/* " ORDER BY": the incremental columns, then key unless among them; or key. */
static int add_order(pg_buf *sql, pg_conn *c, const char *key, const pg_shard_inc *inc)
{
    size_t n = 1;
    const char *only[1] = {key};
    const char **cols = inc->n ? pg_shard_inc_tuple(inc, key, &n) : only;
    int bad = !cols || (n && pg_buf_adds(sql, " ORDER BY ") != 0);
    for (size_t i = 0; !bad && i < n; i++)
        bad = (i && pg_buf_adds(sql, ", ") != 0) || pg_buf_ident(sql, c, cols[i]) != 0;
    if (cols != only)
        free(cols);
    return bad ? MK_NOMEM : MK_OK;
}

int pg_shard_source_sql(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *sql, int cond,
                        const pg_shard_inc *inc)
{
    const char *key = h->opt_string(ctx, "shard_key");
    const char *from = h->opt_string(ctx, "shard_from"), *to = h->opt_string(ctx, "shard_to");
    if (!key)
        return inc->n ? add_order(sql, c, NULL, inc) : MK_OK;
    if (!h->opt_string(ctx, "table")) {
        h->error(ctx, "shard_key goes with table; a query is not read in key ranges");
        return MK_ERROR;
    }
    if (inc->n && pg_shard_is_shard(ctx, h)) {
        int rc = pg_shard_inc_sql(c, ctx, h, sql, cond, inc);
        return rc == MK_OK ? add_order(sql, c, key, inc) : rc;
    }
    if (from || to) {
        char *type = pg_shard_column_type(c, ctx, h, key);
        if (!type)
            return MK_ERROR;
        int bad = pg_buf_adds(sql, cond ? " AND " : " WHERE ") != 0 ||
                  (from && add_bound(sql, c, key, " >=", "mekong.shard_from", type)) ||
                  (from && to && pg_buf_adds(sql, " AND ") != 0) ||
                  (to && add_bound(sql, c, key, " <", "mekong.shard_to", type));
        free(type);
        if (bad)
            return MK_NOMEM;
    }
    return add_order(sql, c, key, inc);
}

uint64_t pg_shard_first_record(mk_context *ctx, const mk_host *h)
{
    const char *v = h->opt_string(ctx, "shard_record");
    return v ? strtoull(v, NULL, 10) : 0;
}

int pg_shard_source_check(mk_context *ctx, const mk_host *h, uint64_t read)
{
    const char *v = h->opt_string(ctx, "shard_rows");
    if (!v || strtoull(v, NULL, 10) == read)
        return MK_OK;
    h->error(ctx,
             "table %s changed since the shard plan was made: this shard's key range held "
             "%s rows then and %" PRIu64 " now; the table must not change between mekong plan "
             "and the last shard: make the plan again (mekong plan) and run every shard",
             h->opt_string(ctx, "table"), v, read);
    return MK_ERROR;
}

/* ---- sink: a shard's staging table ------------------------------------------ */

/* "stage\0target\0": the bare names, as the server's messages give them. */
static char *bare_names(pg_conn *c, const char *stage, const char *target)
{
    const char *params[1] = {target};
    PGresult *res =
        exec_params(c, "SELECT (parse_ident($1))[cardinality(parse_ident($1))]", 1, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail(c, res, "reading the table's name");
        return NULL;
    }
    const char *t = PQgetvalue(res, 0, 0);
    size_t ls = strlen(stage), lt = strlen(t);
    char *names = malloc(ls + lt + 3);
    if (names) {
        memcpy(names, stage, ls + 1);
        memcpy(names + ls + 1, t, lt + 1);
        names[ls + lt + 2] = '\0';
    } else {
        c->host->error(c->ctx, "out of memory");
    }
    PQclear(res);
    return names;
}

void pg_shard_unstage(char *buf, size_t n, const char *names)
{
    const char *from = names, *to = names + strlen(names) + 1;
    size_t lf = strlen(from), lt = strlen(to);
    char *p = lf ? strstr(buf, from) : NULL;
    while (p) {
        size_t tail = strlen(p + lf);
        size_t at = (size_t)(p - buf);
        if (at + lt + tail + 1 > n) /* no room: leave the rest as it is */
            return;
        memmove(p + lt, p + lf, tail + 1);
        memcpy(p, to, lt);
        p = strstr(p + lt, from);
    }
}

int pg_shard_stage_open(pg_conn *c, mk_context *ctx, const mk_host *h, const char *target,
                        int target_exists, char **stage, int *created, char **names)
{
    *stage = NULL;
    *created = 0;
    if (ensure_schema(c, ctx, h) != MK_OK ||
        !(*names = bare_names(c, h->opt_string(ctx, "shard_stage"), target)))
        return MK_ERROR;
    char *q = stage_table(c, h->opt_string(ctx, "shard_stage"));
    if (!q)
        return MK_ERROR;
    pg_buf b = {0};
    int rc =
        pg_buf_adds(&b, "SET LOCAL client_min_messages = warning; DROP TABLE IF EXISTS ") != 0 ||
                pg_buf_adds(&b, q) != 0 ||
                (target_exists &&
                 (pg_buf_adds(&b, "; CREATE TABLE ") != 0 || pg_buf_adds(&b, q) != 0 ||
                  pg_buf_adds(&b, " (LIKE ") != 0 || pg_buf_adds(&b, target) != 0 ||
                  pg_buf_adds(&b, " INCLUDING ALL)") != 0))
            ? MK_NOMEM
            : pg_exec(c, b.data, "making the shard's staging table");
    pg_buf_free(&b);
    if (rc != MK_OK) {
        free(q);
        return rc;
    }
    h->log(ctx, MK_LOG_DEBUG, "loading the staging table %s", q);
    *stage = q;
    *created = target_exists;
    return MK_OK;
}

int pg_shard_stage_columns(pg_conn *c, mk_context *ctx, const mk_host *h, const mk_schema *sc)
{
    const char *stage = h->opt_string(ctx, "shard_stage");
    const char *params[3] = {stage, NULL, NULL};
    PGresult *res =
        exec_params(c, "DELETE FROM " PG_SHARD_SCHEMA ".columns WHERE stage = $1", 1, params);
    for (size_t i = 0; PQresultStatus(res) == PGRES_COMMAND_OK && i < sc->ncols; i++) {
        char pos[32];
        snprintf(pos, sizeof pos, "%zu", i);
        params[1] = pos;
        params[2] = sc->names[i];
        PQclear(res);
        res = exec_params(c,
                          "INSERT INTO " PG_SHARD_SCHEMA ".columns (stage, position, name) "
                          "VALUES ($1, $2::int, $3)",
                          3, params);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(c, res, "noting the input's columns for the merge");
    PQclear(res);
    return MK_OK;
}

/* The input's columns of a staging table (bare name), in order; NULL
 * after host->error. */
static PGresult *stage_columns(pg_conn *c, const char *name)
{
    const char *params[1] = {name};
    PGresult *res = exec_params(c,
                                "SELECT name FROM " PG_SHARD_SCHEMA ".columns WHERE stage = $1 "
                                "ORDER BY position",
                                1, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail(c, res, "reading a staging table's columns");
        return NULL;
    }
    return res;
}

/* ---- sink: the merge -------------------------------------------------------- */

/* One merge step's failure: the server's words and what state is left. */
static int merge_failed(pg_conn *c, PGresult *res, const char *table_name, const char *what)
{
    char msg[1200];
    if (pg_conn_lost(c) || !res)
        snprintf(msg, sizeof msg, "lost the connection: %s", pg_conn_message(c));
    else
        pg_result_message(res, msg, sizeof msg);
    PQclear(res);
    c->host->error(c->ctx,
                   "PostgreSQL (%s), table %s: merge: %s failed: %s -- nothing was committed: the "
                   "table is as it was and the staging tables are kept; fix the cause and run "
                   "mekong merge again",
                   c->server, table_name, what, msg);
    return MK_ERROR;
}

/* 1 when the ledger holds id (a merge committed it before), 0, -1. */
static int already_merged(pg_conn *c, mk_context *ctx, const mk_host *h, const char *id,
                          const char *table_name)
{
    const char *params[1] = {id};
    PGresult *res = exec_params(c, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return merge_failed(c, res, table_name, "waiting for another merge of this plan"), -1;
    PQclear(res);
    res = exec_params(c, "SELECT rows, merged_at FROM " PG_SHARD_SCHEMA ".merged WHERE id = $1", 1,
                      params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return merge_failed(c, res, table_name, "reading the merge ledger"), -1;
    int found = PQntuples(res) > 0;
    if (found)
        h->log(ctx, MK_LOG_INFO,
               "table %s: this plan's shards were merged into it already (%s "
               "rows, at %s; " PG_SHARD_SCHEMA ".merged): left as it is",
               table_name, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    PQclear(res);
    return found;
}

/* INSERT INTO target (cols) SELECT cols FROM stage [ON CONFLICT ...].  The
 * rows go in the order the shard loaded them: a staging table only ever
 * had rows inserted (and the aborted ones of refused batches, which a scan
 * skips), so a sequential scan from its first block returns them in load
 * order -- merge_stages turns synchronize_seqscans off so the scan starts
 * there; an ORDER BY ctid would cost a sort for the same order. */
static int insert_sql(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *b, const char *target,
                      const char *stage, const PGresult *cols, int upsert)
{
    int n = PQntuples(cols), bad = 0;
    bad |= pg_buf_adds(b, "INSERT INTO ") != 0 || pg_buf_adds(b, target) != 0 ||
           pg_buf_adds(b, " (") != 0;
    for (int i = 0; !bad && i < n; i++)
        bad |= (i && pg_buf_adds(b, ", ") != 0) || pg_buf_ident(b, c, PQgetvalue(cols, i, 0)) != 0;
    bad |= pg_buf_adds(b, ") SELECT ") != 0;
    for (int i = 0; !bad && i < n; i++)
        bad |= (i && pg_buf_adds(b, ", ") != 0) || pg_buf_ident(b, c, PQgetvalue(cols, i, 0)) != 0;
    bad |= pg_buf_adds(b, " FROM ") != 0 || pg_buf_adds(b, stage) != 0;
    if (bad || !upsert)
        return bad ? MK_NOMEM : MK_OK;
    size_t nk = h->opt_count(ctx, "key"), nset = 0;
    bad |= pg_buf_adds(b, " ON CONFLICT (") != 0;
    for (size_t i = 0; !bad && i < nk; i++) {
        const char *k;
        h->opt_entry(ctx, "key", i, NULL, &k);
        bad |= (i && pg_buf_adds(b, ", ") != 0) || pg_buf_ident(b, c, k) != 0;
    }
    bad |= pg_buf_adds(b, ") DO ") != 0;
    for (int i = 0; !bad && i < n; i++) {
        const char *col = PQgetvalue(cols, i, 0);
        int is_key = 0;
        for (size_t j = 0; j < nk; j++) {
            const char *k;
            h->opt_entry(ctx, "key", j, NULL, &k);
            is_key |= strcmp(k, col) == 0;
        }
        if (!is_key)
            bad |= pg_buf_adds(b, nset++ ? ", " : "UPDATE SET ") != 0 ||
                   pg_buf_ident(b, c, col) != 0 || pg_buf_adds(b, " = EXCLUDED.") != 0 ||
                   pg_buf_ident(b, c, col) != 0;
    }
    bad |= !nset && pg_buf_adds(b, "NOTHING") != 0;
    return bad ? MK_NOMEM : MK_OK;
}

/* Apply staging table k (quoted stage) to target, then drop it; *rows +=
 * its rows.  A shard that had no rows noted no columns: nothing to apply. */
static int apply_stage(pg_conn *c, mk_context *ctx, const mk_host *h, const char *target,
                       const char *table_name, const char *stage, int k, int mode, long long *rows)
{
    const char *name;
    h->opt_entry(ctx, "shard_merge", (size_t)k, NULL, &name);
    PGresult *cols = stage_columns(c, name);
    if (!cols)
        return MK_ERROR;
    pg_buf b = {0};
    int rc = PQntuples(cols) ? insert_sql(c, ctx, h, &b, target, stage, cols, mode == 2) : MK_OK;
    int any = PQntuples(cols) > 0;
    PQclear(cols);
    if (rc == MK_OK && any) {
        PGresult *res = PQexec(c->conn, b.data);
        char what[300];
        snprintf(what, sizeof what, "applying shard %d's staging table %s", k, stage);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = merge_failed(c, res, table_name, what);
        } else {
            *rows += strtoll(PQcmdTuples(res), NULL, 10);
            PQclear(res);
        }
    }
    b.len = 0;
    if (rc == MK_OK && (pg_buf_adds(&b, "DROP TABLE ") != 0 || pg_buf_adds(&b, stage) != 0))
        rc = MK_NOMEM;
    if (rc == MK_OK)
        rc = pg_exec(c, b.data, "dropping a merged staging table");
    pg_buf_free(&b);
    if (rc == MK_OK) {
        const char *params[1] = {name};
        PGresult *res =
            exec_params(c, "DELETE FROM " PG_SHARD_SCHEMA ".columns WHERE stage = $1", 1, params);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return pg_fail(c, res, "forgetting a merged staging table's columns");
        PQclear(res);
    }
    return rc;
}

/* 1 when the table exists, 0, -1. */
static int table_exists(pg_conn *c, const char *table)
{
    const char *params[1] = {table};
    PGresult *res = exec_params(c, "SELECT to_regclass($1) IS NOT NULL", 1, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail(c, res, "looking up a staging table");
        return -1;
    }
    int yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

/* The staging tables that exist, quoted, in shard order (stages[k] NULL:
 * none); a missing one is an error when the target exists. */
static int find_stages(pg_conn *c, mk_context *ctx, const mk_host *h, const char *table_name,
                       int target_exists, char **stages, size_t n, size_t *found)
{
    *found = 0;
    for (size_t k = 0; k < n; k++) {
        const char *name;
        h->opt_entry(ctx, "shard_merge", k, NULL, &name);
        if (!(stages[k] = stage_table(c, name)))
            return MK_ERROR;
        int yes = table_exists(c, stages[k]);
        if (yes < 0)
            return MK_ERROR;
        if (!yes && target_exists) {
            h->error(ctx,
                     "table %s: merge: shard %zu's staging table %s is missing (dropped by "
                     "hand, or the shard never loaded it): run shard %zu again, then merge",
                     table_name, k, stages[k], k);
            return MK_ERROR;
        }
        if (!yes) {
            free(stages[k]);
            stages[k] = NULL;
        }
        *found += yes;
    }
    return MK_OK;
}

/* Target missing (create: true): made like the first staging table. */
static int create_target(pg_conn *c, const char *target, char **stages, size_t n)
{
    size_t first = 0;
    while (first < n && !stages[first])
        first++;
    pg_buf b = {0};
    int rc = pg_buf_adds(&b, "CREATE TABLE ") != 0 || pg_buf_adds(&b, target) != 0 ||
                     pg_buf_adds(&b, " (LIKE ") != 0 || pg_buf_adds(&b, stages[first]) != 0 ||
                     pg_buf_adds(&b, " INCLUDING ALL)") != 0
                 ? MK_NOMEM
                 : pg_exec(c, b.data, "creating the table");
    pg_buf_free(&b);
    return rc;
}

static int note_merged(pg_conn *c, const char *id, const char *table_name, long long rows)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", rows);
    const char *params[3] = {id, table_name, num};
    PGresult *res = exec_params(c,
                                "INSERT INTO " PG_SHARD_SCHEMA ".merged (id, target, rows) "
                                "VALUES ($1, $2, $3::bigint)",
                                3, params);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return merge_failed(c, res, table_name, "writing the merge ledger");
    PQclear(res);
    return MK_OK;
}

static int merge_stages(pg_conn *c, mk_context *ctx, const mk_host *h, const char *target,
                        const char *table_name, int target_exists, int mode, char **stages,
                        size_t n)
{
    size_t found = 0;
    int rc = pg_exec(c, "SET LOCAL synchronize_seqscans = off", "setting up the merge");
    if (rc == MK_OK)
        rc = find_stages(c, ctx, h, table_name, target_exists, stages, n, &found);
    if (rc == MK_OK && !target_exists && found)
        rc = create_target(c, target, stages, n);
    if (rc == MK_OK && mode == 1 && (target_exists || found)) {
        pg_buf b = {0};
        rc = pg_buf_adds(&b, "DELETE FROM ") != 0 || pg_buf_adds(&b, target) != 0
                 ? MK_NOMEM
                 : pg_exec(c, b.data, "removing the table's rows (mode: replace)");
        pg_buf_free(&b);
    }
    long long rows = 0;
    for (size_t k = 0; rc == MK_OK && k < n; k++)
        if (stages[k])
            rc = apply_stage(c, ctx, h, target, table_name, stages[k], (int)k, mode, &rows);
    if (rc == MK_OK)
        rc = note_merged(c, h->opt_string(ctx, "shard_merge_id"), table_name, rows);
    if (rc == MK_OK)
        h->log(ctx, MK_LOG_INFO,
               "table %s: %zu staging table(s) merged, %lld rows; committed "
               "with the merge",
               table_name, found, rows);
    return rc;
}

int pg_shard_merge(pg_conn *c, mk_context *ctx, const mk_host *h, const char *target,
                   const char *table_name, int target_exists, int mode)
{
    const char *id = h->opt_string(ctx, "shard_merge_id");
    size_t n = h->opt_count(ctx, "shard_merge");
    if (!id) {
        h->error(ctx, "shard_merge without shard_merge_id: this mekong's engine is older than "
                      "its postgres plugin");
        return MK_ERROR;
    }
    if (ensure_schema(c, ctx, h) != MK_OK)
        return MK_ERROR;
    int done = already_merged(c, ctx, h, id, table_name);
    if (done != 0)
        return done > 0 ? MK_OK : MK_ERROR;
    char **stages = calloc(n ? n : 1, sizeof(*stages));
    if (!stages)
        return MK_NOMEM;
    int rc = merge_stages(c, ctx, h, target, table_name, target_exists, mode, stages, n);
    for (size_t k = 0; k < n; k++)
        free(stages[k]);
    free(stages);
    return rc;
}
