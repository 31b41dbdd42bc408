/*
 * pg_state.c -- the incremental mark as a JSON text in the host's state.
 *
 * The reader takes exactly the shape the writer makes (an object with two
 * arrays of strings, any key order, any white space, every JSON string
 * escape: the kit's JSON walker) and refuses anything else with a message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "pg_state.h"

/* ---- writing ------------------------------------------------------------ */


int pg_json_string(pg_buf *b, const char *s, size_t n)
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

int pg_state_json(pg_buf *out, const char *const *names, const pg_buf *values, size_t n)
{
    pg_buf b = {0};
    int bad = pg_buf_adds(&b, "{\"columns\": [") != 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = (i && pg_buf_adds(&b, ", ") != 0) || pg_json_string(&b, names[i], strlen(names[i]));
    bad = bad || pg_buf_adds(&b, "], \"values\": [") != 0;
    for (size_t i = 0; !bad && i < n; i++)
        bad = (i && pg_buf_adds(&b, ", ") != 0) ||
              pg_json_string(&b, values[i].data ? values[i].data : "", values[i].len);
    bad = bad || pg_buf_adds(&b, "]}") != 0;
    if (bad) {
        pg_buf_free(&b);
        return -1;
    }
    *out = b;
    return 0;
}

int pg_state_save(const mk_host *h, mk_context *ctx, const char *const *names, const pg_buf *values,
                  size_t n)
{
    pg_buf b = {0};
    int rc = pg_state_json(&b, names, values, n) != 0 ? MK_NOMEM : h->state_set(ctx, b.data);
    pg_buf_free(&b);
    if (rc != MK_OK && rc != MK_NOMEM)
        h->error(ctx, "cannot keep the incremental mark (state)");
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

/* The strings of the JSON array [p, end) appended to *items (malloc'd):
 * 0, or -1 for anything but strings. */
static int read_array(const char *p, const char *end, char ***items, size_t *n)
{
    const char *v, *ve;
    int more;
    if (*p != '[')
        return -1;
    while ((more = mkk_json_item(&p, end, &v, &ve)) == 1) {
        char **grown = realloc(*items, (*n + 1) * sizeof(**items));
        if (!grown)
            return -1;
        *items = grown;
        if (!((*items)[*n] = mkk_json_decode(v, ve)))
            return -1;
        (*n)++;
    }
    return more;
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* Parse {"columns": [...], "values": [...]} (nothing else, each once): 0,
 * or -1. */
static int parse_mark(const char *json, char ***cols, size_t *ncols, char ***vals, size_t *nvals)
{
    const char *end = json + strlen(json), *after = mkk_json_skip(json, end), *p = json;
    while (after && after < end && (*after == ' ' || *after == '\t' || *after == '\n' ||
                                    *after == '\r'))
        after++;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (after != end || *p != '{')
        return -1;
    const char *k, *v, *ve;
    int more, seen = 0;
    while ((more = mkk_json_member(&p, end, &k, &v, &ve)) == 1) {
        int bit = mkk_json_equals(k, end, "columns") ? 1 : mkk_json_equals(k, end, "values") ? 2 : 0;
        if (!bit || (seen & bit) ||
            read_array(v, ve, bit == 1 ? cols : vals, bit == 1 ? ncols : nvals) != 0)
            return -1;
        seen |= bit;
    }
    return more == 0 && seen == 3 ? 0 : -1;
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
    /* a shard plan, or a shard of one: the mark the plan read (the engine
     * gives it; a shard has no state of its own) */
    int sharded = h->opt_string(ctx, "shard_plan") || h->opt_string(ctx, "shard_rows");
    const char *json = sharded ? h->opt_string(ctx, "shard_state") : h->state_get(ctx);
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
