/*
 * pg_plugin.h -- the parts of the postgres plugin: the source
 * (pg_source.c), the sink (pg_sink.c) and what both use (pg_common.c):
 * connecting with the session settings, naming the server without its
 * password, quoting the `table` option's identifiers, and a growable
 * buffer for SQL and COPY text.
 */
#ifndef MEKONG_PG_PLUGIN_H
#define MEKONG_PG_PLUGIN_H

#include <stddef.h>

#include <libpq-fe.h>

#include "mekong.h"

/* A growable byte buffer (SQL statements, COPY text).  Grows by doubling
 * and is reused, so a steady stream of rows allocates nothing. */
typedef struct pg_buf {
    char *data;
    size_t len, cap;
} pg_buf;

/* 0, or -1 when out of memory (the buffer is unchanged). */
int pg_buf_reserve(pg_buf *b, size_t more);
int pg_buf_add(pg_buf *b, const char *s, size_t n);
int pg_buf_adds(pg_buf *b, const char *s);
/* The buffer as a C string (NUL after len, not counted). */
const char *pg_buf_str(pg_buf *b);
void pg_buf_free(pg_buf *b);

/* A connection and what messages say about it. */
typedef struct pg_conn {
    PGconn *conn;
    char server[512]; /* "host=... port=... dbname=... user=..." without the password */
    mk_context *ctx;
    const mk_host *host;
} pg_conn;

/* Connect with conninfo (a key=value string or a postgresql:// URI) with
 * keepalives on and a connect timeout (both overridable in conninfo),
 * then set the session: DateStyle ISO, IntervalStyle postgres, TimeZone
 * UTC, bytea_output hex, extra_float_digits 1, and client_encoding.  MK_OK, or MK_ERROR
 * after host->error saying what failed and what to do. */
int pg_connect(pg_conn *c, mk_context *ctx, const mk_host *host, const char *conninfo,
               const char *client_encoding, const char *role);
void pg_disconnect(pg_conn *c);

/* The server's last error, one line ("" if none). */
const char *pg_conn_message(const pg_conn *c);
/* Nonzero when the connection is gone (server down, killed, network). */
int pg_conn_lost(const pg_conn *c);

/* Run sql (no rows expected): MK_OK, or MK_ERROR after host->error with
 * `what`, the server and the server's message. */
int pg_exec(pg_conn *c, const char *sql, const char *what);
/* Report res's error (or the lost connection) as pg_exec does, clear res,
 * and return MK_ERROR. */
int pg_fail(pg_conn *c, PGresult *res, const char *what);

/* The `table` option as quoted SQL: "a.b" is schema a, table b; a part in
 * double quotes may hold dots and ("") quotes.  Each part is quoted with
 * PQescapeIdentifier.  Returns a malloc'd string, or NULL after
 * host->error (a bad name, or out of memory). */
char *pg_quote_table(pg_conn *c, const char *table);
/* One identifier quoted with PQescapeIdentifier, appended to b: 0 or -1. */
int pg_buf_ident(pg_buf *b, pg_conn *c, const char *name);

/* A PGresult's error: "message (SQLSTATE xxxxx)" with the detail when
 * the server gave one, into buf. */
void pg_result_message(const PGresult *res, char *buf, size_t n);

extern const mk_source_ops pg_source_ops;
extern const mk_sink_ops pg_sink_ops;

#endif
