/*
 * pg_source.c -- the postgres source: rows of a table or a query, read
 * with COPY (SELECT ...) TO STDOUT in text format.
 *
 * Why COPY and not a cursor: the server sends one CopyData message per
 * row, without a round trip per FETCH, and the text form is what mekong
 * passes on anyway (every value is its text form, decided by the session
 * settings pg_connect fixes: ISO dates, UTC, hex bytea).  Memory stays
 * bounded: libpq hands over one row at a time (its buffer, freed at once),
 * and the fields are unescaped straight into the batch arena -- one arena
 * allocation per row, none per field.  The column names and types come
 * from describing the same SELECT before it runs.
 *
 * Legacy text (`encoding`) is read as the bytes the database stores
 * (client_encoding = the server's encoding) and decoded field by field
 * with the csv source's decoders (vntext).  UTF-8 is validated and put in
 * NFC by the same decoders.  A row that does not decode is rejected with
 * its record number; the run goes on.
 *
 * Incremental reads (`incremental: [c1, c2]`) add WHERE (c1, c2) > (v1,
 * v2) ORDER BY c1, c2 and keep the last row's (c1, c2) as the new mark; it
 * is handed to the host's state only when every row was read, and the host
 * writes it only after every sink committed.  (With shard_key, ties of the
 * tuple are read in key order.)  A shard of a plan reads the plan's mark
 * and bounds and keeps no mark (pg_shard_inc.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mekong_kit.h"
#include "pg_plugin.h"
#include "pg_shard.h"
#include "pg_state.h"
#include "vntext/vntext.h"

typedef struct pg_source {
    mk_context *ctx;
    const mk_host *host;
    pg_conn c;
    pg_buf sql;              /* the SELECT */
    const mk_schema *schema;
    char **names;            /* ncols decoded column names */
    mk_type *types;
    size_t ncols;
    mk_value *fields;        /* one row's fields while it is decoded */
    vn_decoder *decoder;     /* NULL: encoding: bytes */
    vn_buf scratch;          /* a decoded field */
    int on_invalid;
    int server_utf8;         /* the server sends valid UTF-8 */
    int utf8_decoder;        /* encoding: utf-8 */
    int copying;             /* COPY TO in progress */
    int complete;            /* every row was read */
    uint64_t record;         /* rows read so far */
    uint64_t first_record;   /* a shard: the rows before its key range */
    /* incremental */
    size_t nmark;
    char **mark_names;       /* the incremental columns */
    long *mark_cols;         /* their index in the schema */
    pg_buf *mark;            /* the last row's values: the new mark */
    int have_mark;           /* mark holds a row's values */
    uint64_t mark_nulls;     /* rows with NULL in a mark column */
    pg_state_mark old;       /* the stored mark (nvalues 0: none) */
} pg_source;

/* ---- types ------------------------------------------------------------- */

/* PostgreSQL's built-in type OIDs (pg_type.dat; stable since 7.x). */
static mk_type type_of_oid(Oid oid)
{
    switch (oid) {
    case 16: return MK_TYPE_BOOLEAN;                     /* bool */
    case 20: case 21: case 23: case 26: return MK_TYPE_INTEGER; /* int8 int2 int4 oid */
    case 700: case 701: case 1700: return MK_TYPE_NUMBER; /* float4 float8 numeric */
    case 1082: return MK_TYPE_DATE;
    case 1114: case 1184: return MK_TYPE_TIMESTAMP;      /* timestamp timestamptz */
    case 114: case 3802: return MK_TYPE_JSON;            /* json jsonb */
    default: return MK_TYPE_TEXT; /* text forms: bytea as \x hex, arrays as {..} */
    }
}

/* ---- the SELECT ---------------------------------------------------------- */

static int add_column_list(pg_source *s)
{
    const mk_host *h = s->host;
    size_t n = h->opt_count(s->ctx, "columns");
    if (n == 0)
        return pg_buf_adds(&s->sql, "*");
    for (size_t i = 0; i < n; i++) {
        const char *name;
        h->opt_entry(s->ctx, "columns", i, NULL, &name);
        if ((i && pg_buf_adds(&s->sql, ", ") != 0) || pg_buf_ident(&s->sql, &s->c, name) != 0)
            return -1;
    }
    return 0;
}

/* (c1, c2) > ('v1', 'v2'): the mark's values as literals (escaped by
 * libpq; they are the server's own text forms from the last run). */
static int add_mark_condition(pg_source *s)
{
    if (pg_buf_adds(&s->sql, "(") != 0)
        return -1;
    for (size_t i = 0; i < s->nmark; i++)
        if ((i && pg_buf_adds(&s->sql, ", ") != 0) ||
            pg_buf_ident(&s->sql, &s->c, s->mark_names[i]) != 0)
            return -1;
    if (pg_buf_adds(&s->sql, ") > (") != 0)
        return -1;
    const char *lookback = s->host->opt_string(s->ctx, "lookback");
    for (size_t i = 0; i < s->nmark; i++) {
        const char *v = s->old.values[i];
        char *lit = PQescapeLiteral(s->c.conn, v, strlen(v));
        int rc = !lit || (i && pg_buf_adds(&s->sql, ", ") != 0);
        if (!rc && i == 0 && lookback) { /* (v1)::timestamptz - (lookback)::interval */
            char *back = PQescapeLiteral(s->c.conn, lookback, strlen(lookback));
            rc = !back || pg_buf_adds(&s->sql, "(") != 0 || pg_buf_adds(&s->sql, lit) != 0 ||
                 pg_buf_adds(&s->sql, ")::timestamptz - (") != 0 || pg_buf_adds(&s->sql, back) != 0 ||
                 pg_buf_adds(&s->sql, ")::interval") != 0;
            PQfreemem(back);
        } else if (!rc) {
            rc = pg_buf_adds(&s->sql, lit) != 0;
        }
        PQfreemem(lit);
        if (rc)
            return -1;
    }
    return pg_buf_adds(&s->sql, ")");
}

/* The incremental columns and the stored mark, for pg_shard.c. */
static pg_shard_inc inc_of(const pg_source *s)
{
    pg_shard_inc inc = {(const char *const *)s->mark_names, s->nmark, &s->old};
    return inc;
}

static int build_select(pg_source *s)
{
    const mk_host *h = s->host;
    const char *table = h->opt_string(s->ctx, "table");
    const char *query = h->opt_string(s->ctx, "query");
    const char *where = h->opt_string(s->ctx, "where");
    if (!table == !query) {
        h->error(s->ctx, "give either table (a table name) or query (a SELECT), %s",
                 table ? "not both" : "neither is set");
        return MK_ERROR;
    }
    if (where && !table) {
        h->error(s->ctx, "where goes with table; with query, put the condition in the query");
        return MK_ERROR;
    }
    if (pg_buf_adds(&s->sql, "SELECT ") != 0 || add_column_list(s) != 0 ||
        pg_buf_adds(&s->sql, " FROM ") != 0)
        return MK_NOMEM;
    if (table) {
        char *q = pg_quote_table(&s->c, table);
        if (!q)
            return MK_ERROR;
        int rc = pg_buf_adds(&s->sql, q);
        free(q);
        if (rc != 0)
            return MK_NOMEM;
    } else if (pg_buf_adds(&s->sql, "(") != 0 || pg_buf_adds(&s->sql, query) != 0 ||
               pg_buf_adds(&s->sql, "\n) AS mekong_query") != 0) {
        return MK_NOMEM;
    }
    int cond = 0;
    if (where && (pg_buf_adds(&s->sql, " WHERE (") != 0 || pg_buf_adds(&s->sql, where) != 0 ||
                  pg_buf_adds(&s->sql, "\n)") != 0))
        return MK_NOMEM;
    cond = where != NULL;
    /* a shard: the mark's condition is pg_shard.c's, with the plan's mark as parameters */
    int literal = s->old.nvalues && !pg_shard_is_shard(s->ctx, h);
    if (literal && (pg_buf_adds(&s->sql, cond ? " AND " : " WHERE ") != 0 ||
                    add_mark_condition(s) != 0))
        return MK_NOMEM;
    pg_shard_inc inc = inc_of(s);
    return pg_shard_source_sql(&s->c, s->ctx, h, &s->sql, cond || literal, &inc); /* + ORDER BY */
}

/* ---- decoding ------------------------------------------------------------- */

static int set_decoder(pg_source *s, const char *name)
{
    char err[512];
    s->decoder = vn_decoder_new(name, s->on_invalid, err, sizeof err);
    if (!s->decoder) {
        s->host->error(s->ctx, "encoding: %s; or bytes (no decoding at all)", err);
        return MK_ERROR;
    }
    if (vn_encoding_is_stream(name)) {
        s->host->error(s->ctx, "encoding: %s is not a database encoding", name);
        return MK_ERROR;
    }
    s->host->report_set(s->ctx, "encoding", vn_decoder_name(s->decoder));
    s->utf8_decoder = strcmp(vn_decoder_name(s->decoder), "utf-8") == 0;
    s->host->text_checked(s->ctx); /* every value decoded or checked */
    return MK_OK;
}

/* encoding: auto -- decide from the text of the first rows (up to 1 MB). */
static int detect_encoding(pg_source *s, const char **name)
{
    pg_buf sql = {0}, sample = {0};
    int rc = MK_NOMEM;
    if (pg_buf_adds(&sql, "COPY (") != 0 || pg_buf_adds(&sql, s->sql.data) != 0 ||
        pg_buf_adds(&sql, " LIMIT 20000) TO STDOUT") != 0)
        goto out;
    PGresult *res = PQexec(s->c.conn, sql.data);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        rc = pg_fail(&s->c, res, "reading a sample for encoding: auto");
        goto out;
    }
    PQclear(res);
    char *line;
    int n;
    while ((n = PQgetCopyData(s->c.conn, &line, 0)) > 0) {
        if (sample.len < (1u << 20) && pg_buf_add(&sample, line, (size_t)n) != 0) {
            PQfreemem(line);
            goto out;
        }
        PQfreemem(line);
    }
    while ((res = PQgetResult(s->c.conn)))
        PQclear(res);
    vn_detection det;
    if (vn_detect(sample.data ? sample.data : "", sample.len, &det) != VN_OK) {
        s->host->error(s->ctx, "encoding: auto: %s", det.message);
        rc = MK_ERROR;
        goto out;
    }
    s->host->report_set(s->ctx, "encoding_detected", det.encoding);
    s->host->report_set(s->ctx, "encoding_detection", det.message);
    *name = strcmp(det.encoding, "ascii") == 0 ? "utf-8" : det.encoding;
    rc = MK_OK;
out:
    pg_buf_free(&sql);
    pg_buf_free(&sample);
    return rc;
}

/* ---- columns ----------------------------------------------------------------- */

/* A column name as decoded text (names are stored like the data). */
static char *decode_name(pg_source *s, const char *raw)
{
    const char *out = raw;
    size_t len = strlen(raw);
    vn_error e;
    if (s->decoder && vn_decode_field(s->decoder, raw, len, &out, &len, &s->scratch, &e) != VN_OK) {
        s->host->error(s->ctx, "column name '%s' does not decode: %s", raw, e.message);
        return NULL;
    }
    char *name = malloc(len + 1);
    if (name) {
        memcpy(name, out, len);
        name[len] = '\0';
    }
    return name;
}

static int find_mark_columns(pg_source *s)
{
    for (size_t i = 0; i < s->nmark; i++) {
        s->mark_cols[i] = mkk_column_find(s->host, s->schema, s->mark_names[i]);
        if (s->mark_cols[i] < 0) {
            s->host->error(s->ctx, "incremental: column '%s' is not among the columns read",
                           s->mark_names[i]);
            return MK_ERROR;
        }
    }
    return MK_OK;
}

/* Describe the SELECT: the schema with its types. */
static int describe(pg_source *s)
{
    PGresult *res = PQprepare(s->c.conn, "", s->sql.data, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(&s->c, res, "preparing the SELECT");
    PQclear(res);
    res = PQdescribePrepared(s->c.conn, "");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(&s->c, res, "describing the SELECT");
    s->ncols = (size_t)PQnfields(res);
    s->names = calloc(s->ncols + 1, sizeof(*s->names));
    s->types = calloc(s->ncols + 1, sizeof(*s->types));
    s->fields = calloc(s->ncols + 1, sizeof(*s->fields));
    int rc = s->names && s->types && s->fields ? MK_OK : MK_NOMEM;
    for (size_t i = 0; rc == MK_OK && i < s->ncols; i++) {
        s->types[i] = type_of_oid(PQftype(res, (int)i));
        if (!(s->names[i] = decode_name(s, PQfname(res, (int)i))))
            rc = MK_ERROR;
        for (size_t j = 0; rc == MK_OK && j < i; j++)
            if (strcmp(s->names[i], s->names[j]) == 0) {
                s->host->error(s->ctx, "column '%s' comes twice: name the columns apart (AS)",
                               s->names[i]);
                rc = MK_ERROR;
            }
    }
    PQclear(res);
    if (rc != MK_OK)
        return rc;
    if (MK_HOST_HAS(s->host, schema_intern_typed))
        s->schema = s->host->schema_intern_typed(s->ctx, (const char *const *)s->names, s->types,
                                                 s->ncols);
    else
        s->schema = s->host->schema_intern(s->ctx, (const char *const *)s->names, s->ncols);
    if (!s->schema)
        return MK_NOMEM;
    return find_mark_columns(s);
}

static int start_copy(pg_source *s)
{
    pg_buf sql = {0};
    if (pg_buf_adds(&sql, "COPY (") != 0 || pg_buf_adds(&sql, s->sql.data) != 0 ||
        pg_buf_adds(&sql, ") TO STDOUT") != 0) {
        pg_buf_free(&sql);
        return MK_NOMEM;
    }
    PGresult *res = PQexec(s->c.conn, sql.data);
    int rc = MK_OK;
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        rc = pg_fail(&s->c, res, "starting COPY TO");
    else
        PQclear(res);
    pg_buf_free(&sql);
    s->copying = rc == MK_OK;
    return rc;
}

/* ---- open ------------------------------------------------------------------- */

/* What the server sends.  utf-8: UTF8 (converted by the server from its
 * encoding), except from SQL_ASCII, which checks nothing: its bytes as they
 * are, validated by the decoder, so a bad row is one rejected row rather
 * than a COPY the server aborts.  A legacy encoding or bytes: the bytes as
 * stored (client_encoding = the server's); a UTF8 database holding legacy
 * bytes got them as LATIN1 characters, one per byte, so they are read back
 * as LATIN1. */
static int choose_client_encoding(pg_source *s, int utf8, int bytes)
{
    const char *server = PQparameterStatus(s->c.conn, "server_encoding");
    const char *client = "UTF8";
    if (!server)
        server = "UTF8";
    if (strcmp(server, "SQL_ASCII") == 0)
        client = "SQL_ASCII";
    else if (!utf8 && strcmp(server, "UTF8") != 0)
        client = server;
    else if (!utf8 && !bytes)
        client = "LATIN1";
    /* UTF8 from a UTF8 server is valid: only NFC is left to check */
    s->server_utf8 = strcmp(client, "UTF8") == 0;
    if (strcmp(client, "UTF8") != 0 && PQsetClientEncoding(s->c.conn, client) != 0) {
        s->host->error(s->ctx, "PostgreSQL (%s): cannot set client_encoding %s", s->c.server,
                       client);
        return MK_ERROR;
    }
    return MK_OK;
}

static int read_options(pg_source *s)
{
    const mk_host *h = s->host;
    s->on_invalid = mkk_opt_choice(h, s->ctx, "on_invalid", "reject|replace") == 1 ? VN_REPLACE
                                                                                : VN_REJECT;
    s->nmark = h->opt_count(s->ctx, "incremental");
    if (!s->nmark && h->opt_string(s->ctx, "lookback")) {
        h->error(s->ctx, "lookback goes with incremental (it widens the mark's window)");
        return MK_ERROR;
    }
    if (!s->nmark)
        return MK_OK;
    s->mark_names = calloc(s->nmark, sizeof(*s->mark_names));
    s->mark_cols = calloc(s->nmark, sizeof(*s->mark_cols));
    s->mark = calloc(s->nmark, sizeof(*s->mark));
    if (!s->mark_names || !s->mark_cols || !s->mark)
        return MK_NOMEM;
    for (size_t i = 0; i < s->nmark; i++) {
        const char *name;
        h->opt_entry(s->ctx, "incremental", i, NULL, &name);
        if (!(s->mark_names[i] = strdup(name)))
            return MK_NOMEM;
    }
    return pg_state_load(h, s->ctx, (const char *const *)s->mark_names, s->nmark, &s->old);
}

static int pg_source_open(mk_context *ctx, const mk_host *host, void **state)
{
    pg_source *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    vn_buf_init(&s->scratch);
    int rc = read_options(s);
    if (rc != MK_OK)
        return rc;
    const char *enc = host->opt_string(ctx, "encoding");
    int utf8 = strcasecmp(enc, "utf-8") == 0 || strcasecmp(enc, "utf8") == 0;
    int bytes = strcmp(enc, "bytes") == 0;
    if (pg_connect(&s->c, ctx, host, host->opt_string(ctx, "conninfo"), "UTF8", "mekong source") !=
        MK_OK)
        return MK_ERROR;
    pg_shard_inc inc = inc_of(s);
    if (host->opt_string(ctx, "shard_plan")) /* mekong plan: the cuts, no rows */
        return pg_shard_plan(&s->c, ctx, host, &inc);
    if ((rc = pg_shard_source_setup(&s->c, ctx, host, &inc)) != MK_OK) /* while still UTF8 */
        return rc;
    s->record = s->first_record = pg_shard_first_record(ctx, host);
    if ((rc = choose_client_encoding(s, utf8, bytes)) != MK_OK)
        return rc;
    if ((rc = build_select(s)) != MK_OK)
        return rc;
    if (strcasecmp(enc, "auto") == 0 && (rc = detect_encoding(s, &enc)) != MK_OK)
        return rc;
    if (!bytes && (rc = set_decoder(s, enc)) != MK_OK)
        return rc;
    host->log(ctx, MK_LOG_DEBUG, "reading from %s", s->c.server);
    if ((rc = describe(s)) != MK_OK)
        return rc;
    return start_copy(s);
}

static const mk_schema *pg_source_schema(void *state)
{
    return ((pg_source *)state)->schema;
}

/* ---- rows ------------------------------------------------------------------ */

/* Unescape a COPY text field in place (the result is never longer);
 * returns its length.  The server escapes backslash and \b \f \n \r \t
 * \v; octal and other forms are read too. */
static size_t unescape(char *f, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = f[i];
        if (ch != '\\' || i + 1 == n) {
            f[o++] = ch;
            continue;
        }
        ch = f[++i];
        switch (ch) {
        case 'b': f[o++] = '\b'; break;
        case 'f': f[o++] = '\f'; break;
        case 'n': f[o++] = '\n'; break;
        case 'r': f[o++] = '\r'; break;
        case 't': f[o++] = '\t'; break;
        case 'v': f[o++] = '\v'; break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
            int v = ch - '0';
            for (int k = 0; k < 2 && i + 1 < n && f[i + 1] >= '0' && f[i + 1] <= '7'; k++)
                v = v * 8 + (f[++i] - '0');
            f[o++] = (char)v;
            break;
        }
        default: f[o++] = ch; break;
        }
    }
    return o;
}

/* Split a COPY line (copied to the arena, so fields point into it) into
 * s->fields.  Fields end at tabs (a tab in a value is escaped); only a
 * field holding a backslash is rewritten.  0, or -1 when the field count
 * is wrong. */
static int split_line(pg_source *s, char *line, size_t n)
{
    size_t f = 0;
    char *p = line, *end = line + n;
    for (;;) {
        char *tab = memchr(p, '\t', (size_t)(end - p));
        char *stop = tab ? tab : end;
        size_t len = (size_t)(stop - p);
        if (f == s->ncols)
            return -1;
        if (len == 2 && p[0] == '\\' && p[1] == 'N') {
            s->fields[f].ptr = NULL;
            s->fields[f].len = 0;
        } else {
            s->fields[f].ptr = p;
            s->fields[f].len = memchr(p, '\\', len) ? unescape(p, len) : len;
        }
        f++;
        if (!tab)
            break;
        p = tab + 1;
    }
    return f == s->ncols ? 0 : -1;
}

/* Decode the fields in place (a changed one is copied to the arena).
 * 1: decoded, 0: rejected (source_reject called), <0: status. */
static int decode_fields(pg_source *s, mk_batch *b)
{
    for (size_t c = 0; s->decoder && c < s->ncols; c++) {
        mk_value *v = &s->fields[c];
        if (!v->ptr)
            continue;
        const char *out;
        size_t len;
        vn_error e;
        int rc = vn_decode_field(s->decoder, v->ptr, v->len, &out, &len, &s->scratch, &e);
        if (rc == VN_ENOMEM)
            return MK_NOMEM;
        if (rc != VN_OK) {
            char reason[400];
            snprintf(reason, sizeof reason, "column %s: %s", s->names[c], e.message);
            rc = s->host->source_reject(s->ctx, s->fields, s->ncols, s->record,
                                        "postgres.invalid_text", reason);
            return rc == MK_OK ? 0 : rc;
        }
        if (e.replacements)
            s->host->report_add(s->ctx, "replacements", (int64_t)e.replacements);
        if (out != v->ptr) {
            char *copy = s->host->batch_alloc(b, len ? len : 1);
            if (!copy)
                return MK_NOMEM;
            memcpy(copy, out, len);
            v->ptr = copy;
        }
        v->len = len;
    }
    return 1;
}

/* One row of COPY text into b. */
static int add_row(pg_source *s, mk_batch *b, const char *line, size_t n)
{
    if (n && line[n - 1] == '\n')
        n--;
    s->record++;
    char *copy = s->host->batch_alloc(b, n ? n : 1);
    if (!copy)
        return MK_NOMEM;
    memcpy(copy, line, n);
    if (split_line(s, copy, n) != 0) {
        s->host->error(s->ctx, "row %llu: the server sent a row with another number of fields "
                               "than %zu columns",
                       (unsigned long long)s->record, s->ncols);
        return MK_ERROR;
    }
    /* valid UTF-8 that passes NFC's quick check as a whole line (tabs
     * and escapes are ASCII) needs no decoding field by field */
    int plain = s->server_utf8 && s->utf8_decoder && vn_is_nfc_quick(line, n);
    int rc = plain ? 1 : decode_fields(s, b);
    if (rc <= 0)
        return rc;
    size_t r = s->host->batch_add_row(b);
    if (r == (size_t)-1)
        return MK_NOMEM;
    memcpy(&MK_CELL(b, r, 0), s->fields, s->ncols * sizeof(mk_value));
    b->info[r].position = s->record;
    if (b->record)
        b->record[r] = s->record;
    return MK_OK;
}

/* The new mark: the last row of the batch whose mark columns are set. */
static int keep_mark(pg_source *s, const mk_batch *b)
{
    for (size_t r = b->nrows; r-- > 0;) {
        int null = 0;
        for (size_t i = 0; i < s->nmark; i++)
            null |= MK_IS_NULL(MK_CELL(b, r, (size_t)s->mark_cols[i]));
        if (null) {
            s->mark_nulls++;
            continue;
        }
        for (size_t i = 0; i < s->nmark; i++) {
            const mk_value *v = &MK_CELL(b, r, (size_t)s->mark_cols[i]);
            s->mark[i].len = 0;
            if (pg_buf_add(&s->mark[i], v->ptr, v->len) != 0)
                return MK_NOMEM;
        }
        s->have_mark = 1;
        return MK_OK;
    }
    return MK_OK;
}

/* The end of COPY: its result says whether every row came. */
static int finish_copy(pg_source *s)
{
    s->copying = 0;
    PGresult *res = PQgetResult(s->c.conn);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    char msg[1200];
    if (!ok)
        pg_result_message(res, msg, sizeof msg);
    PQclear(res);
    while ((res = PQgetResult(s->c.conn)))
        PQclear(res);
    if (ok && pg_shard_source_check(s->ctx, s->host, s->record - s->first_record) != MK_OK)
        return MK_ERROR;
    if (ok) {
        s->complete = 1;
        return MK_DONE;
    }
    if (pg_conn_lost(&s->c))
        snprintf(msg, sizeof msg, "%s", pg_conn_message(&s->c));
    s->host->error(s->ctx,
                   "PostgreSQL (%s): reading stopped after %llu rows: %s -- the run fails and "
                   "no mark is kept; check the server and run again",
                   s->c.server, (unsigned long long)s->record, msg);
    return MK_ERROR;
}

static int pg_source_next_batch(void *state, mk_batch *b)
{
    pg_source *s = state;
    if (!s->copying)
        return s->complete ? MK_DONE : MK_ERROR;
    int rc = MK_OK;
    while (rc == MK_OK && b->nrows < b->cap) {
        char *line = NULL;
        int n = PQgetCopyData(s->c.conn, &line, 0);
        if (n < 0) {
            rc = finish_copy(s);
            break;
        }
        rc = add_row(s, b, line, (size_t)n);
        PQfreemem(line);
        if (s->record % b->cap == 0) /* batches end where one run's do, in a shard too */
            break;
    }
    if ((rc == MK_OK || rc == MK_DONE) && s->nmark && keep_mark(s, b) != MK_OK)
        return MK_NOMEM;
    if (rc == MK_OK && s->host->stopping())
        return MK_STOPPED;
    return rc;
}

static void pg_source_close(void *state)
{
    pg_source *s = state;
    if (!s)
        return;
    if (s->complete && s->nmark) {
        if (s->mark_nulls)
            s->host->report_add(s->ctx, "incremental_null_rows", (int64_t)s->mark_nulls);
        /* a shard keeps no mark: the merge stages the plan's */
        if (s->have_mark && !pg_shard_is_shard(s->ctx, s->host))
            pg_state_save(s->host, s->ctx, (const char *const *)s->mark_names, s->mark, s->nmark);
    }
    pg_disconnect(&s->c); /* a COPY still running ends with the connection */
    for (size_t i = 0; s->names && i < s->ncols; i++)
        free(s->names[i]);
    for (size_t i = 0; i < s->nmark; i++) {
        if (s->mark_names)
            free(s->mark_names[i]);
        if (s->mark)
            pg_buf_free(&s->mark[i]);
    }
    free(s->mark_names);
    free(s->mark_cols);
    free(s->mark);
    pg_state_mark_free(&s->old);
    free(s->names);
    free(s->types);
    free(s->fields);
    pg_buf_free(&s->sql);
    vn_decoder_free(s->decoder);
    vn_buf_free(&s->scratch);
    free(s);
}

const mk_source_ops pg_source_ops = {
    pg_source_open,
    pg_source_schema,
    pg_source_next_batch,
    pg_source_close,
};
