/*
 * pg_state.c -- the incremental mark as a JSON text in the host's state.
 *
 * Trade-off: the reader understands exactly the shape the writer makes
 * (an object with two arrays of strings, any key order, any white space,
 * every JSON string escape) and refuses anything else with a message; a
 * general JSON library would be a dependency for two arrays.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_state.h"

/* ---- writing ------------------------------------------------------------ */


static int add_json_string(pg_buf *b, const char *s, size_t n)
{
    if (pg_buf_add(b, "\"", 1) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            esc[2] = '\0';
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
        } else {
            if (pg_buf_add(b, s + i, 1) != 0)
                return -1;
            continue;
        }
        if (pg_buf_adds(b, esc) != 0)
            return -1;
    }
    return pg_buf_add(b, "\"", 1);
}

int pg_state_save(const mk_host *h, mk_context *ctx, const char *const *names, const pg_buf *values,
                  size_t n)
{
    pg_buf b = {0};
    int bad = pg_buf_adds(&b, "{\"columns\": [") != 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = (i && pg_buf_adds(&b, ", ") != 0) || add_json_string(&b, names[i], strlen(names[i]));
    bad = bad || pg_buf_adds(&b, "], \"values\": [") != 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = (i && pg_buf_adds(&b, ", ") != 0) ||
              add_json_string(&b, values[i].data ? values[i].data : "", values[i].len);
    bad = bad || pg_buf_adds(&b, "]}") != 0;
    int rc = bad ? MK_NOMEM : h->state_set(ctx, b.data);
    pg_buf_free(&b);
    if (rc != MK_OK && rc != MK_NOMEM)
        h->error(ctx, "cannot keep the incremental mark (state)");
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct reader {
    const char *p;
} reader;

static void skip_space(reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        r->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int add_utf8(pg_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return pg_buf_add(b, u, n);
}

/* A JSON string at r->p into out (malloc'd): 0, or -1. */
static int read_string(reader *r, char **out)
{
    pg_buf b = {0};
    skip_space(r);
    if (*r->p++ != '"')
        return -1;
    for (;;) {
        char c = *r->p++;
        if (c == '\0' || (unsigned char)c < 0x20)
            goto bad;
        if (c == '"')
            break;
        if (c != '\\') {
            if (pg_buf_add(&b, &c, 1) != 0)
                goto bad;
            continue;
        }
        c = *r->p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            if (pg_buf_add(&b, &to[simple - "\"\\/bfnrt"], 1) != 0)
                goto bad;
            continue;
        }
        unsigned cp, lo;
        if (c != 'u' || hex4(r->p, &cp) != 0)
            goto bad;
        r->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {
            if (r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) != 0 || lo < 0xdc00 ||
                lo > 0xdfff)
                goto bad;
            r->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            goto bad;
        }
        if (add_utf8(&b, cp) != 0)
            goto bad;
    }
    *out = b.data ? b.data : strdup("");
    return *out ? 0 : -1;
bad:
    pg_buf_free(&b);
    return -1;
}

/* An array of strings: count and values (malloc'd). */
static int read_array(reader *r, char ***items, size_t *n)
{
    skip_space(r);
    if (*r->p++ != '[')
        return -1;
    skip_space(r);
    if (*r->p == ']') {
        r->p++;
        return 0;
    }
    for (;;) {
        char **more = realloc(*items, (*n + 1) * sizeof(**items));
        if (!more)
            return -1;
        *items = more;
        if (read_string(r, &(*items)[*n]) != 0)
            return -1;
        (*n)++;
        skip_space(r);
        if (*r->p == ']') {
            r->p++;
            return 0;
        }
        if (*r->p++ != ',')
            return -1;
    }
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* Parse {"columns": [...], "values": [...]}: 0, or -1. */
static int parse_mark(const char *json, char ***cols, size_t *ncols, char ***vals, size_t *nvals)
{
    reader r = {json};
    skip_space(&r);
    if (*r.p++ != '{')
        return -1;
    for (int seen = 0; seen < 2; seen++) {
        char *key = NULL;
        if (read_string(&r, &key) != 0)
            return -1;
        skip_space(&r);
        int is_cols = strcmp(key, "columns") == 0, is_vals = strcmp(key, "values") == 0;
        free(key);
        if (*r.p++ != ':' || !(is_cols || is_vals))
            return -1;
        if (read_array(&r, is_cols ? cols : vals, is_cols ? ncols : nvals) != 0)
            return -1;
        skip_space(&r);
        if (*r.p == ',')
            r.p++;
    }
    skip_space(&r);
    if (*r.p++ != '}')
        return -1;
    skip_space(&r);
    return *r.p == '\0' ? 0 : -1;
}

int pg_state_load(const mk_host *h, mk_context *ctx, const char *const *names, size_t n,
                  pg_state_mark *m)
{
    m->nvalues = 0;
    m->values = NULL;
    if (!MK_HOST_HAS(h, state_get) || !MK_HOST_HAS(h, state_set)) {
        h->error(ctx, "incremental needs a mekong that keeps state (this one does not)");
        return MK_ERROR;
    }
    const char *json = h->state_get(ctx);
    if (!json)
        return MK_OK; /* first run, or --full-refresh */
    char **cols = NULL, **vals = NULL;
    size_t ncols = 0, nvals = 0;
    int rc = MK_OK;
    if (parse_mark(json, &cols, &ncols, &vals, &nvals) != 0 || ncols != nvals) {
        h->error(ctx, "the stored incremental mark is not one this plugin wrote (%.200s): run "
                      "once with --full-refresh to start again",
                 json);
        rc = MK_ERROR;
    } else {
        int same = ncols == n;
        for (size_t i = 0; same && i < n; i++)
            same = strcmp(cols[i], names[i]) == 0;
        if (!same) {
            h->error(ctx, "the stored incremental mark is for other columns than incremental "
                          "names now: run once with --full-refresh to read everything again");
            rc = MK_ERROR;
        }
    }
    free_list(cols, ncols);
    if (rc == MK_OK) {
        m->values = vals;
        m->nvalues = nvals;
    } else {
        free_list(vals, nvals);
    }
    return rc;
}

void pg_state_mark_free(pg_state_mark *m)
{
    free_list(m->values, m->nvalues);
    m->values = NULL;
    m->nvalues = 0;
}
