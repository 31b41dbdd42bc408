/*
 * pg_shard_inc.c -- an incremental postgres source (`incremental: [c1,
 * c2]`) in a sharded run (see pg_shard.h, docs/POSTGRES.md "Shards",
 * docs/SCALE.md "Incremental sources").
 *
 * Order.  Rows are ordered and cut by the tuple T = (c1, c2, ..., key),
 * key being shard_key unless it is among the incremental columns already:
 * T is unique (shard_key is), so a cut may fall between rows whose
 * incremental columns are equal and every row's record number is still
 * fixed.  One run with shard_key reads ORDER BY T too (pg_shard.c).
 *
 * Plan.  It reads what one run would read now: the rows of the table
 * (and where) whose (c1, c2) is above the stored mark -- the mark the
 * engine read from the pipeline's state and gave as shard_state, the
 * first value lowered by lookback as one run does.  It counts them, checks
 * the key and that no mark column is NULL (NULL has no place in a tuple
 * order), and finds T at the last row before each cut (cuts at whole
 * batches, as pg_shard.c) and at the last row.
 *
 * Shard.  Shard k reads one run's rows restricted to after_k < T <=
 * upto_k, ORDER BY T.  The last shard's upto is the plan's last row, so
 * the union is exactly what was planned: rows committed after the plan
 * above it are left to the next plan, as if they had come after one run,
 * and the mark the merge writes is that last row's (c1, c2).  A row
 * committed inside a range after the plan changes the range's count, which
 * the shard checks (pg_shard_source_check).  A shard with no rows gets no
 * upto and reads nothing.
 *
 * Values.  The mark, the bounds and lookback reach the server as bound
 * parameters of set_config() and are read back with current_setting()
 * cast to the column's type (format_type from the catalogue), as
 * pg_shard.c does for key ranges; no value is SQL text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "pg_shard.h"
#include "pg_state.h"

const char **pg_shard_inc_tuple(const pg_shard_inc *inc, const char *key, size_t *n)
{
    const char **cols = calloc(inc->n + 1, sizeof(*cols));
    if (!cols)
        return NULL;
    int has_key = key == NULL;
    for (size_t i = 0; i < inc->n; i++) {
        cols[i] = inc->names[i];
        has_key |= strcmp(inc->names[i], key ? key : "") == 0;
    }
    *n = inc->n;
    if (!has_key)
        cols[(*n)++] = key;
    return cols;
}

/* ---- settings and SQL ------------------------------------------------------- */

/* SELECT set_config('mekong.inc_<what>_<i>', $i+1, false) for values[0..n). */
static int set_values(pg_conn *c, const char *what, const char *const *values, size_t n)
{
    pg_buf b = {0};
    char name[96];
    int bad = pg_buf_adds(&b, "SELECT 1") != 0;
    for (size_t i = 0; !bad && i < n; i++) {
        snprintf(name, sizeof name, ", set_config('mekong.inc_%s_%zu', $%zu, false)", what, i,
                 i + 1);
        bad = pg_buf_adds(&b, name) != 0;
    }
    if (bad) {
        pg_buf_free(&b);
        c->host->error(c->ctx, "out of memory");
        return MK_ERROR;
    }
    PGresult *res = pg_shard_exec_params(c, b.data, (int)n, values);
    pg_buf_free(&b);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(c, res, "sending the incremental mark and bounds");
    PQclear(res);
    return MK_OK;
}

/* The stored mark and lookback as settings (nothing without a mark). */
static int set_mark(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc)
{
    const char *lookback = h->opt_string(ctx, "lookback");
    if (!inc->old->nvalues)
        return MK_OK;
    int rc = set_values(c, "mark", (const char *const *)inc->old->values, inc->old->nvalues);
    return rc == MK_OK && lookback ? set_values(c, "lookback", &lookback, 1) : rc;
}

/* CAST(current_setting('mekong.inc_<what>_<i>') AS type) */
static int add_value(pg_buf *b, const char *what, size_t i, const char *type)
{
    char name[96];
    snprintf(name, sizeof name, "CAST(current_setting('mekong.inc_%s_%zu') AS ", what, i);
    return pg_buf_adds(b, name) != 0 || pg_buf_adds(b, type) != 0 || pg_buf_adds(b, ")") != 0;
}

/* (cols) op (values of what), " AND " or " WHERE " first. */
static int add_compare(pg_buf *b, pg_conn *c, int cond, const char **cols, char **types, size_t n,
                       const char *op, const char *what, int lookback)
{
    int bad = pg_buf_adds(b, cond ? " AND (" : " WHERE (") != 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = (i && pg_buf_adds(b, ", ") != 0) || pg_buf_ident(b, c, cols[i]) != 0;
    bad = bad || pg_buf_adds(b, ") ") != 0 || pg_buf_adds(b, op) != 0 || pg_buf_adds(b, " (") != 0;
    for (size_t i = 0; !bad && i < n; i++) {
        bad = i && pg_buf_adds(b, ", ") != 0;
        if (!bad && i == 0 && lookback) /* as one run: (v1)::timestamptz - (lookback)::interval */
            bad = pg_buf_adds(b, "(") != 0 || add_value(b, what, 0, "timestamptz") ||
                  pg_buf_adds(b, " - ") != 0 || add_value(b, "lookback", 0, "interval") ||
                  pg_buf_adds(b, ")") != 0;
        else if (!bad)
            bad = add_value(b, what, i, types[i]);
    }
    return bad || pg_buf_adds(b, ")") != 0;
}

static void free_types(char **types, size_t n)
{
    for (size_t i = 0; types && i < n; i++)
        free(types[i]);
    free(types);
}

/* The types of cols, or NULL after host->error. */
static char **column_types(pg_conn *c, mk_context *ctx, const mk_host *h, const char **cols,
                           size_t n)
{
    char **types = calloc(n + 1, sizeof(*types));
    if (!types)
        h->error(ctx, "out of memory");
    for (size_t i = 0; types && i < n; i++)
        if (!(types[i] = pg_shard_column_type(c, ctx, h, cols[i]))) {
            free_types(types, i);
            return NULL;
        }
    return types;
}

/* One run's mark condition (nothing without a mark). */
static int add_mark(pg_buf *b, pg_conn *c, mk_context *ctx, const mk_host *h, int cond,
                    const pg_shard_inc *inc, const char **cols, char **types)
{
    if (!inc->old->nvalues)
        return 0;
    return add_compare(b, c, cond, cols, types, inc->n, ">", "mark",
                       h->opt_string(ctx, "lookback") != NULL);
}

/* ---- a shard ------------------------------------------------------------------ */

/* List option name's values (borrowed), *n of them; NULL when none. */
static const char **list_values(mk_context *ctx, const mk_host *h, const char *name, size_t *n)
{
    *n = h->opt_count(ctx, name);
    const char **v = *n ? calloc(*n, sizeof(*v)) : NULL;
    for (size_t i = 0; v && i < *n; i++)
        h->opt_entry(ctx, name, i, NULL, &v[i]);
    return v;
}

/* The bounds' tuples have T's length (or none). */
static int bounds_fit(mk_context *ctx, const mk_host *h, size_t ntuple, size_t nafter, size_t nupto)
{
    if ((nafter == 0 || nafter == ntuple) && (nupto == 0 || nupto == ntuple))
        return 1;
    h->error(ctx, "shard_after/shard_upto hold %zu/%zu values for a tuple of %zu columns: the "
                  "plan was made for other incremental columns or shard_key; make it again",
             nafter, nupto, ntuple);
    return 0;
}

int pg_shard_inc_setup(pg_conn *c, mk_context *ctx, const mk_host *h, const pg_shard_inc *inc)
{
    size_t nt = 0, na, nu;
    const char **cols = pg_shard_inc_tuple(inc, h->opt_string(ctx, "shard_key"), &nt);
    const char **after = list_values(ctx, h, "shard_after", &na);
    const char **upto = list_values(ctx, h, "shard_upto", &nu);
    int rc = !cols || (na && !after) || (nu && !upto) ? MK_NOMEM : MK_OK;
    if (rc == MK_OK && !bounds_fit(ctx, h, nt, na, nu))
        rc = MK_ERROR;
    if (rc == MK_OK)
        rc = set_mark(c, ctx, h, inc);
    if (rc == MK_OK && na)
        rc = set_values(c, "after", after, na);
    if (rc == MK_OK && nu)
        rc = set_values(c, "upto", upto, nu);
    free(cols);
    free(after);
    free(upto);
    return rc;
}

int pg_shard_inc_sql(pg_conn *c, mk_context *ctx, const mk_host *h, pg_buf *sql, int cond,
                     const pg_shard_inc *inc)
{
    size_t nt = 0;
    const char **cols = pg_shard_inc_tuple(inc, h->opt_string(ctx, "shard_key"), &nt);
    char **types = cols ? column_types(c, ctx, h, cols, nt) : NULL;
    if (!types) {
        free(cols);
        return cols ? MK_ERROR : MK_NOMEM;
    }
    size_t na = h->opt_count(ctx, "shard_after"), nu = h->opt_count(ctx, "shard_upto");
    int bad = add_mark(sql, c, ctx, h, cond, inc, cols, types);
    cond |= inc->old->nvalues > 0;
    if (!bad && !nu) /* an empty shard */
        bad = pg_buf_adds(sql, cond ? " AND false" : " WHERE false") != 0;
    if (!bad && na)
        bad = add_compare(sql, c, cond, cols, types, nt, ">", "after", 0);
    if (!bad && nu)
        bad = add_compare(sql, c, cond || na, cols, types, nt, "<=", "upto", 0);
    free_types(types, nt);
    free(cols);
    return bad ? MK_NOMEM : MK_OK;
}

/* ---- the plan ------------------------------------------------------------------ */

/* Refuse rows to read with NULL in a mark column. */
static int check_nulls(pg_conn *c, mk_context *ctx, const mk_host *h, const char *from, int cond,
                       const pg_shard_inc *inc, long long total)
{
    pg_buf b = {0};
    int bad = pg_buf_adds(&b, "SELECT count(*)") != 0 || pg_buf_adds(&b, from) != 0 ||
              pg_buf_adds(&b, cond ? " AND (" : " WHERE (") != 0;
    for (size_t i = 0; !bad && i < inc->n; i++)
        bad = (i && pg_buf_adds(&b, " OR ") != 0) || pg_buf_ident(&b, c, inc->names[i]) != 0 ||
              pg_buf_adds(&b, " IS NULL") != 0;
    if (bad || pg_buf_adds(&b, ")") != 0) {
        pg_buf_free(&b);
        return MK_NOMEM;
    }
    PGresult *res = PQexec(c->conn, b.data);
    pg_buf_free(&b);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(c, res, "counting the rows with NULL in an incremental column");
    long long nulls = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (!nulls)
        return MK_OK;
    h->error(ctx,
             "an incremental column is NULL in %lld of the %lld rows to read from %s: shards "
             "cut the rows in the order of the incremental columns, where NULL has no place; "
             "make those columns NOT NULL (or fill them), or run this pipeline as one run",
             nulls, total, h->opt_string(ctx, "table"));
    return MK_ERROR;
}

/* The tuple of row r (columns 1..n) as a JSON array into b. */
static int tuple_json(pg_buf *b, const PGresult *res, int r, size_t n)
{
    int bad = pg_buf_adds(b, "[") != 0;
    for (size_t i = 0; !bad && i < n; i++) {
        const char *v = PQgetvalue(res, r, (int)i + 1);
        bad = (i && pg_buf_adds(b, ", ") != 0) || pg_json_string(b, v, strlen(v)) != 0;
    }
    return bad || pg_buf_adds(b, "]") != 0;
}

/* The mark one run would keep: the last row's incremental columns. */
static int report_next(mk_context *ctx, const mk_host *h, const PGresult *res, int r,
                       const pg_shard_inc *inc)
{
    pg_buf *values = calloc(inc->n + 1, sizeof(*values)), out = {0};
    int bad = !values;
    for (size_t i = 0; !bad && i < inc->n; i++)
        bad = pg_buf_adds(&values[i], PQgetvalue(res, r, (int)i + 1)) != 0;
    bad = bad || pg_state_json(&out, inc->names, values, inc->n) != 0;
    if (!bad)
        h->report_set(ctx, "shard_next_state", out.data);
    for (size_t i = 0; values && i < inc->n; i++)
        pg_buf_free(&values[i]);
    free(values);
    pg_buf_free(&out);
    return bad ? MK_NOMEM : MK_OK;
}

/* Report shard_pos_<k>, shard_cut_<k> (T of the row before the cut, when
 * there is one), shard_last (T of the last row) and shard_next_state. */
static int report_cuts(mk_context *ctx, const mk_host *h, const PGresult *res, int n,
                       long long total, long long batch, size_t nt, const pg_shard_inc *inc)
{
    char key[48];
    pg_buf b = {0};
    int row = 0, rc = MK_OK;
    for (int k = 1; rc == MK_OK && k <= n; k++) {
        long long p = k < n ? pg_shard_cut_position(k, n, total, batch) : total;
        if (k < n) {
            snprintf(key, sizeof key, "shard_pos_%d", k);
            h->report_add(ctx, key, p);
        }
        while (row < PQntuples(res) && strtoll(PQgetvalue(res, row, 0), NULL, 10) < p - 1)
            row++;
        if (p == 0 || row >= PQntuples(res))
            continue; /* no row before the cut: the range starts at the mark */
        b.len = 0;
        if (tuple_json(&b, res, row, nt) != 0)
            rc = MK_NOMEM;
        if (k < n)
            snprintf(key, sizeof key, "shard_cut_%d", k);
        else
            snprintf(key, sizeof key, "shard_last");
        if (rc == MK_OK)
            h->report_set(ctx, key, b.data);
        if (rc == MK_OK && k == n)
            rc = report_next(ctx, h, res, row, inc);
    }
    pg_buf_free(&b);
    return rc;
}

/* SELECT pos, T FROM (... row_number() OVER (ORDER BY T) - 1 AS pos ...)
 * at the rows before each cut and the last row. */
static int find_cuts(pg_conn *c, mk_context *ctx, const mk_host *h, const char *from, int n,
                     long long total, long long batch, const char **cols, size_t nt,
                     const pg_shard_inc *inc)
{
    pg_buf b = {0}, pos = {0}, list = {0};
    char num[64];
    int bad = pg_buf_adds(&pos, "{") != 0;
    for (int k = 1; !bad && k <= n; k++) {
        long long p = k < n ? pg_shard_cut_position(k, n, total, batch) : total;
        snprintf(num, sizeof num, "%s%lld", pos.len > 1 ? "," : "", p - 1);
        bad = p > 0 && pg_buf_adds(&pos, num) != 0;
    }
    for (size_t i = 0; !bad && i < nt; i++)
        bad = (i && pg_buf_adds(&list, ", ") != 0) || pg_buf_ident(&list, c, cols[i]) != 0;
    bad = bad || pg_buf_adds(&pos, "}") != 0 || pg_buf_adds(&b, "SELECT mekong_pos, ") != 0 ||
          pg_buf_adds(&b, list.data) != 0 || pg_buf_adds(&b, " FROM (SELECT ") != 0 ||
          pg_buf_adds(&b, list.data) != 0 || pg_buf_adds(&b, ", row_number() OVER (ORDER BY ") != 0 ||
          pg_buf_adds(&b, list.data) != 0 || pg_buf_adds(&b, ") - 1 AS mekong_pos") != 0 ||
          pg_buf_adds(&b, from) != 0 ||
          pg_buf_adds(&b, ") AS mekong_cuts WHERE mekong_pos = ANY ($1::bigint[]) ORDER BY 1") != 0;
    PGresult *res = NULL;
    if (!bad) {
        const char *params[1] = {pos.data};
        res = pg_shard_exec_params(c, b.data, 1, params);
    }
    pg_buf_free(&b);
    pg_buf_free(&pos);
    pg_buf_free(&list);
    if (bad)
        return MK_NOMEM;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(c, res, "finding the shards' ranges of the incremental order");
    int rc = report_cuts(ctx, h, res, n, total, batch, nt, inc);
    PQclear(res);
    return rc;
}

int pg_shard_inc_plan(pg_conn *c, mk_context *ctx, const mk_host *h, int n, long long batch,
                      const pg_shard_inc *inc)
{
    size_t nt = 0;
    const char **cols = pg_shard_inc_tuple(inc, h->opt_string(ctx, "shard_key"), &nt);
    char **types = cols ? column_types(c, ctx, h, cols, nt) : NULL;
    pg_buf from = {0};
    long long total = 0;
    int rc = !cols ? MK_NOMEM : !types ? MK_ERROR : set_mark(c, ctx, h, inc);
    if (rc == MK_OK)
        rc = pg_shard_from(c, ctx, h, &from);
    int cond = h->opt_string(ctx, "where") != NULL;
    if (rc == MK_OK && add_mark(&from, c, ctx, h, cond, inc, cols, types))
        rc = MK_NOMEM;
    cond |= inc->old->nvalues > 0;
    if (rc == MK_OK)
        rc = pg_shard_check_key(c, ctx, h, from.data, &total);
    if (rc == MK_OK)
        rc = check_nulls(c, ctx, h, from.data, cond, inc, total);
    if (rc == MK_OK) {
        h->report_add(ctx, "shard_total", total);
        h->log(ctx, MK_LOG_INFO, "incremental: %lld row(s) above the %s", total,
               inc->old->nvalues ? "stored mark" : "start (no mark, or --full-refresh)");
        rc = total ? find_cuts(c, ctx, h, from.data, n, total, batch, cols, nt, inc) : MK_OK;
    }
    pg_buf_free(&from);
    free_types(types, nt);
    free(cols);
    return rc;
}
