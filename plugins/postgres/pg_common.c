/*
 * pg_common.c -- what the postgres source and sink share: the connection
 * (with keepalives and fixed session settings), messages that name the
 * server without its password, identifier quoting, a byte buffer.
 *
 * Trade-off: the session settings are SET after connecting rather than
 * passed in the startup packet's `options`, so a conninfo that brings its
 * own `options` (a statement_timeout, a search_path) keeps them; the four
 * settings mekong's text forms depend on are then fixed whatever the
 * server's or the role's defaults.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_plugin.h"

/* ---- buffer ---------------------------------------------------------- */

int pg_buf_reserve(pg_buf *b, size_t more)
{
    if (b->cap - b->len > more)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= more)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int pg_buf_add(pg_buf *b, const char *s, size_t n)
{
    if (pg_buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int pg_buf_adds(pg_buf *b, const char *s)
{
    return pg_buf_add(b, s, strlen(s));
}

const char *pg_buf_str(pg_buf *b)
{
    if (pg_buf_reserve(b, 0) != 0)
        return "";
    b->data[b->len] = '\0';
    return b->data;
}

void pg_buf_free(pg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- connection -------------------------------------------------------- */

/* The server as messages name it: never the password (libpq keeps it in
 * the connection, so only the four harmless parts are printed). */
static void describe_server(pg_conn *c)
{
    const char *host = c->conn ? PQhost(c->conn) : NULL;
    const char *port = c->conn ? PQport(c->conn) : NULL;
    const char *db = c->conn ? PQdb(c->conn) : NULL;
    const char *user = c->conn ? PQuser(c->conn) : NULL;
    snprintf(c->server, sizeof c->server, "host=%s port=%s dbname=%s user=%s",
             host && *host ? host : "(default)", port && *port ? port : "(default)",
             db && *db ? db : "(default)", user && *user ? user : "(default)");
}

const char *pg_conn_message(const pg_conn *c)
{
    static const char none[] = "";
    const char *m = c->conn ? PQerrorMessage(c->conn) : none;
    return m ? m : none;
}

int pg_conn_lost(const pg_conn *c)
{
    return !c->conn || PQstatus(c->conn) != CONNECTION_OK;
}

/* The error text of libpq without its final newline, on one line. */
static void one_line(const char *in, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < n; i++)
        out[j++] = (in[i] == '\n' || in[i] == '\r') ? ' ' : in[i];
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

int pg_connect(pg_conn *c, mk_context *ctx, const mk_host *host, const char *conninfo,
               const char *client_encoding, const char *role)
{
    c->ctx = ctx;
    c->host = host;
    /* Defaults first: a later keyword wins, so the conninfo (expanded from
     * dbname, last) may override any of them. */
    const char *keys[] = {"connect_timeout", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                          "application_name", "dbname", NULL};
    const char *vals[] = {"10", "1", "30", "10", "3", "60000", role, conninfo ? conninfo : "",
                          NULL};
    c->conn = PQconnectdbParams(keys, vals, 1);
    describe_server(c);
    char msg[1024];
    if (!c->conn) {
        host->error(ctx, "cannot connect to PostgreSQL: out of memory");
        return MK_ERROR;
    }
    if (PQstatus(c->conn) != CONNECTION_OK) {
        one_line(PQerrorMessage(c->conn), msg, sizeof msg);
        host->error(ctx,
                    "cannot connect to PostgreSQL (%s): %s -- check that the server runs and "
                    "accepts this user (conninfo; password from PGPASSWORD, PGPASSFILE or "
                    "~/.pgpass)",
                    c->server, msg);
        return MK_ERROR;
    }
    if (pg_exec(c,
                "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
                "SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET extra_float_digits = 1",
                "setting the session") != MK_OK)
        return MK_ERROR;
    if (PQsetClientEncoding(c->conn, client_encoding) != 0) {
        one_line(PQerrorMessage(c->conn), msg, sizeof msg);
        host->error(ctx, "PostgreSQL (%s): cannot set client_encoding %s: %s", c->server,
                    client_encoding, msg);
        return MK_ERROR;
    }
    return MK_OK;
}

void pg_disconnect(pg_conn *c)
{
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
}

void pg_result_message(const PGresult *res, char *buf, size_t n)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char p[512], d[512];
    one_line(primary ? primary : (res ? PQresultErrorMessage(res) : "no result"), p, sizeof p);
    one_line(detail ? detail : "", d, sizeof d);
    snprintf(buf, n, "%s%s%s (SQLSTATE %s)", p, *d ? ": " : "", d, state ? state : "none");
}

int pg_fail(pg_conn *c, PGresult *res, const char *what)
{
    char msg[1200];
    if (pg_conn_lost(c) || !res) {
        one_line(pg_conn_message(c), msg, sizeof msg);
        c->host->error(c->ctx,
                       "PostgreSQL (%s): lost the connection while %s: %s -- nothing was "
                       "committed; check the server and run again",
                       c->server, what, msg);
    } else {
        pg_result_message(res, msg, sizeof msg);
        c->host->error(c->ctx, "PostgreSQL (%s): %s failed: %s", c->server, what, msg);
    }
    PQclear(res);
    return MK_ERROR;
}

int pg_exec(pg_conn *c, const char *sql, const char *what)
{
    PGresult *res = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return MK_OK;
    }
    return pg_fail(c, res, what);
}

/* ---- identifiers ------------------------------------------------------- */

int pg_buf_ident(pg_buf *b, pg_conn *c, const char *name)
{
    char *q = PQescapeIdentifier(c->conn, name, strlen(name));
    if (!q)
        return -1;
    int rc = pg_buf_adds(b, q);
    PQfreemem(q);
    return rc;
}

/* Split the next part of a table name at *p into part: a bare part ends at
 * '.', a quoted one at its closing quote ("" inside is one quote).  0, or
 * -1 for a malformed name. */
static int next_part(const char **p, pg_buf *part)
{
    const char *s = *p;
    part->len = 0;
    if (*s == '"') {
        for (s++;; s++) {
            if (*s == '\0')
                return -1;
            if (*s == '"') {
                if (s[1] != '"')
                    break;
                s++;
            }
            if (pg_buf_add(part, s, 1) != 0)
                return -1;
        }
        s++;
    } else {
        while (*s && *s != '.' && *s != '"')
            if (pg_buf_add(part, s++, 1) != 0)
                return -1;
        if (*s == '"')
            return -1;
    }
    if (part->len == 0 || (*s && *s != '.') || (*s == '.' && s[1] == '\0'))
        return -1;
    *p = *s ? s + 1 : s;
    pg_buf_str(part);
    return 0;
}

char *pg_quote_table(pg_conn *c, const char *table)
{
    pg_buf out = {0}, part = {0};
    const char *p = table;
    int nparts = 0, bad = 0;
    while (*p && !bad) {
        if (next_part(&p, &part) != 0 || ++nparts > 2 ||
            (nparts > 1 && pg_buf_add(&out, ".", 1) != 0) || pg_buf_ident(&out, c, part.data) != 0)
            bad = 1;
    }
    pg_buf_free(&part);
    if (bad || nparts == 0) {
        pg_buf_free(&out);
        c->host->error(c->ctx,
                       "table: '%s' is not a table name: write table or schema.table; a part "
                       "holding a dot or a quote goes in double quotes (\"my.table\", "
                       "\"say \"\"hi\"\"\")",
                       table);
        return NULL;
    }
    return out.data;
}
