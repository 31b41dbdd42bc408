/*
 * vnlookup.c -- mekong.lookup_core: the C part of mekong.lookup.
 *
 * A table is a CSV file parsed once into C memory: its cells in one pool,
 * an index from each (normalized, possibly composite) key to the records
 * that have it, in file order.  Tables live in a registry shared by every
 * Lua state of the process, found by the file's content (a 128-bit hash
 * and its length) and the options, so the worker states of a lua step --
 * and every step that loads the same file the same way -- share one copy,
 * read-only, and only the first load parses.  Each state holds a handle
 * (a userdata with its own key buffers and a cache of the Lua tables it
 * made for rows and lists); the table is freed with its last handle.
 *
 * Trade-off: the registry lock is held while a table is built, so two
 * states loading the same file never parse it twice and no state sees a
 * half-built table; a build runs no Lua (a normalize function makes the
 * table private to its state instead: see lookup_build).  Lookups take no
 * lock: a built table never changes.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "mekong_kit.h"
#include "vnlib.h"
#include "vntext/vntext.h"

#define LOOKUP_HANDLE "mekong.lookup.table"
#define LOOKUP_KEYS_MAX 16
#define NO_RECORD UINT32_MAX

enum { DUP_ERROR, DUP_FIRST, DUP_LAST, DUP_ALL };

typedef struct lk_key {
    uint64_t hash;
    uint32_t off, len;            /* the encoded key in keypool */
    uint32_t first, last, count;  /* its records, chained by rec_next */
} lk_key;

typedef struct lk_table {
    struct lk_table *next; /* in the registry */
    char *id;              /* NULL: private to one state */
    int refs;
    char **names;          /* the header */
    size_t ncols;
    size_t keycols[LOOKUP_KEYS_MAX], nkeycols;
    long value_col;        /* -1: whole rows */
    int duplicates, steps, pad;
    vn_buf pool;           /* every cell's bytes */
    uint32_t *cells;       /* per record, per column: offset, length */
    uint32_t *lines;       /* per record: its first line */
    uint32_t *rec_next;
    size_t nrec, rec_cap;
    vn_buf keypool;
    lk_key *keys;
    size_t nkeys, keys_cap;
    uint32_t *slots;       /* key index + 1, 0 empty */
    size_t mask;
} lk_table;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static lk_table *registry;

static void table_free(lk_table *t)
{
    if (!t)
        return;
    for (size_t c = 0; c < t->ncols; c++)
        free(t->names[c]);
    free(t->names);
    free(t->id);
    vn_buf_free(&t->pool);
    vn_buf_free(&t->keypool);
    free(t->cells);
    free(t->lines);
    free(t->rec_next);
    free(t->keys);
    free(t->slots);
    free(t);
}

/* ---- CSV (the rules of docs/RULES.md, mekong.lookup) ------------------------ */

typedef struct csv_reader {
    const char *text, *path;
    size_t i, n;
    uint32_t line;
    char *err;
    size_t errlen;
} csv_reader;

/* One record's fields into t->pool, their offsets into *fields (grown).
 * 1 with a record, 0 at the end, -1 after an error in r->err. */
static int csv_record(csv_reader *r, lk_table *t, uint32_t **fields, size_t *cap, size_t *nf,
                      uint32_t *first_line)
{
    for (;;) {
        *nf = 0;
        *first_line = r->line;
        if (r->i >= r->n)
            return 0;
        for (;;) {
            if (*nf + 1 > *cap) {
                size_t c = *cap ? *cap * 2 : 16;
                uint32_t *g = realloc(*fields, c * 2 * sizeof(uint32_t));
                if (!g)
                    return snprintf(r->err, r->errlen, "out of memory"), -1;
                *fields = g;
                *cap = c;
            }
            size_t start = t->pool.len;
            const char *s = r->text;
            if (r->i < r->n && s[r->i] == '"') {
                size_t j = r->i + 1;
                for (;;) {
                    const char *q = memchr(s + j, '"', r->n - j);
                    if (!q)
                        return snprintf(r->err, r->errlen, "%s:%u: a quoted field is not closed",
                                        r->path, r->line), -1;
                    size_t qi = (size_t)(q - s);
                    for (size_t k = j; k < qi; k++)
                        r->line += s[k] == '\n';
                    if (vn_buf_append(&t->pool, s + j, qi - j) != VN_OK)
                        return snprintf(r->err, r->errlen, "out of memory"), -1;
                    if (qi + 1 < r->n && s[qi + 1] == '"') {
                        if (vn_buf_append(&t->pool, "\"", 1) != VN_OK)
                            return snprintf(r->err, r->errlen, "out of memory"), -1;
                        j = qi + 2;
                    } else {
                        r->i = qi + 1;
                        break;
                    }
                }
            } else {
                size_t e = r->i;
                while (e < r->n && s[e] != ',' && s[e] != '\r' && s[e] != '\n' && s[e] != '"')
                    e++;
                if (e < r->n && s[e] == '"')
                    return snprintf(r->err, r->errlen,
                                    "%s:%u: a quote inside a field that does not start with one",
                                    r->path, r->line), -1;
                if (vn_buf_append(&t->pool, s + r->i, e - r->i) != VN_OK)
                    return snprintf(r->err, r->errlen, "out of memory"), -1;
                r->i = e;
            }
            (*fields)[2 * *nf] = (uint32_t)start;
            (*fields)[2 * *nf + 1] = (uint32_t)(t->pool.len - start);
            (*nf)++;
            char b = r->i < r->n ? s[r->i] : '\n';
            if (b == ',') {
                r->i++;
                if (r->i >= r->n) { /* a comma at the very end: an empty last field */
                    (*fields)[2 * *nf] = (uint32_t)t->pool.len;
                    (*fields)[2 * *nf + 1] = 0;
                    (*nf)++;
                    return 1;
                }
                continue;
            }
            if (b != '\r' && b != '\n')
                return snprintf(r->err, r->errlen,
                                "%s:%u: a quoted field must be followed by a comma or a line end",
                                r->path, r->line), -1;
            if (r->i < r->n && s[r->i] == '\r')
                r->i++;
            if (r->i < r->n && s[r->i] == '\n')
                r->i++;
            r->line++;
            break;
        }
        if (*nf == 1 && (*fields)[1] == 0)
            continue; /* a blank line */
        return 1;
    }
}

/* ---- building ------------------------------------------------------------------ */

typedef struct lk_spec {
    const char *keys[LOOKUP_KEYS_MAX];
    size_t nkeys;
    const char *value; /* NULL: whole rows */
    int duplicates, steps, pad;
} lk_spec;

static int find_column(lk_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0)
            return (int)c;
    return -1;
}

static int read_header(lk_table *t, const lk_spec *sp, const uint32_t *f, size_t nf,
                       const char *path, char *err, size_t errlen)
{
    t->names = calloc(nf, sizeof(char *));
    if (!t->names)
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t c = 0; c < nf; c++) {
        size_t off = f[2 * c], len = f[2 * c + 1];
        if (!(t->names[c] = strndup(t->pool.data + off, len)))
            return snprintf(err, errlen, "out of memory"), -1;
        t->ncols = c + 1;
    }
    t->pool.len = 0; /* the header's bytes are not cells */
    const char *missing = NULL;
    for (size_t k = 0; k < sp->nkeys && !missing; k++) {
        int c = find_column(t, sp->keys[k]);
        if (c < 0)
            missing = sp->keys[k];
        t->keycols[k] = (size_t)c;
    }
    t->nkeycols = sp->nkeys;
    t->value_col = sp->value ? find_column(t, sp->value) : -1;
    if (!missing && sp->value && t->value_col < 0)
        missing = sp->value;
    if (!missing)
        return 0;
    int n = snprintf(err, errlen, "%s:1: no column '%s' (columns: ", path, missing);
    for (size_t c = 0; c < t->ncols && n > 0 && (size_t)n < errlen; c++)
        n += snprintf(err + n, errlen - (size_t)n, "%s%s", c ? ", " : "", t->names[c]);
    if (n > 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n, ")");
    return -1;
}

/* The key of the given cells encoded into out: per key cell, its
 * normalized length (4 bytes) and bytes; a one-column key is its
 * normalized bytes alone. */
static int encode_key(const lk_table *t, const char *const *cell, const size_t *len,
                      vn_buf *tmp, vn_buf *out)
{
    out->len = 0;
    if (t->nkeycols == 1)
        return vn_match_key(cell[0], len[0], t->steps, t->pad, tmp, out);
    for (size_t k = 0; k < t->nkeycols; k++) {
        size_t at = out->len;
        uint32_t zero = 0;
        if (vn_buf_append(out, (const char *)&zero, 4) != VN_OK)
            return VN_ENOMEM;
        int rc = vn_match_key(cell[k], len[k], t->steps, t->pad, tmp, out);
        if (rc != VN_OK)
            return rc;
        uint32_t n = (uint32_t)(out->len - at - 4);
        memcpy(out->data + at, &n, 4);
    }
    return VN_OK;
}

static uint64_t key_hash(const char *p, size_t len)
{
    mk_value v = {p, len};
    uint64_t h[2];
    mkk_key_hash(&v, 1, h);
    return h[0];
}

/* The key equal to p[0..len) (hash h), or the empty slot for it. */
static uint32_t *key_slot(const lk_table *t, const char *p, size_t len, uint64_t h)
{
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t *s = &t->slots[i];
        if (*s == 0)
            return s;
        const lk_key *k = &t->keys[*s - 1];
        if (k->hash == h && k->len == len && memcmp(t->keypool.data + k->off, p, len) == 0)
            return s;
    }
}

static int grow_slots(lk_table *t)
{
    size_t n = t->slots ? (t->mask + 1) * 2 : 64;
    uint32_t *s = calloc(n, sizeof(uint32_t));
    if (!s)
        return -1;
    free(t->slots);
    t->slots = s;
    t->mask = n - 1;
    for (size_t k = 0; k < t->nkeys; k++)
        *key_slot(t, t->keypool.data + t->keys[k].off, t->keys[k].len, t->keys[k].hash) =
            (uint32_t)(k + 1);
    return 0;
}

/* "'A', 'B'" for a message: the key cells of record r as written. */
static void key_text(const lk_table *t, size_t r, char *buf, size_t len)
{
    size_t used = 0;
    for (size_t k = 0; k < t->nkeycols && used < len; k++) {
        const uint32_t *c = &t->cells[2 * (r * t->ncols + t->keycols[k])];
        int n = snprintf(buf + used, len - used, "%s'%.*s'", k ? ", " : "", (int)(c[1] > 200 ? 200 : c[1]),
                         t->pool.data + c[0]);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* Index record r under its key (in kb). */
static int index_record(lk_table *t, size_t r, const vn_buf *kb, const char *path, char *err,
                        size_t errlen)
{
    if ((t->nkeys + 1) * 4 > (t->mask + 1) * 3 && grow_slots(t) != 0)
        return snprintf(err, errlen, "out of memory"), -1;
    uint64_t h = key_hash(kb->data, kb->len);
    uint32_t *slot = key_slot(t, kb->data, kb->len, h);
    t->rec_next[r] = NO_RECORD;
    if (*slot == 0) {
        if (t->nkeys == t->keys_cap) {
            size_t c = t->keys_cap ? t->keys_cap * 2 : 256;
            lk_key *g = realloc(t->keys, c * sizeof(*g));
            if (!g)
                return snprintf(err, errlen, "out of memory"), -1;
            t->keys = g;
            t->keys_cap = c;
        }
        uint32_t off = (uint32_t)t->keypool.len;
        if (vn_buf_append(&t->keypool, kb->data, kb->len) != VN_OK)
            return snprintf(err, errlen, "out of memory"), -1;
        t->keys[t->nkeys] = (lk_key){h, off, (uint32_t)kb->len, (uint32_t)r, (uint32_t)r, 1};
        *slot = (uint32_t)++t->nkeys;
        return 0;
    }
    lk_key *k = &t->keys[*slot - 1];
    if (t->duplicates == DUP_ERROR) {
        char key[512];
        key_text(t, r, key, sizeof key);
        snprintf(err, errlen,
                 "%s:%u: key %s again (opts.duplicates: first, last or all to allow it)", path,
                 t->lines[r], key);
        return -1;
    }
    if (t->duplicates == DUP_FIRST)
        return 0;
    if (t->duplicates == DUP_LAST) {
        k->first = k->last = (uint32_t)r;
        k->count = 1;
        return 0;
    }
    t->rec_next[k->last] = (uint32_t)r;
    k->last = (uint32_t)r;
    k->count++;
    return 0;
}

static int add_record(lk_table *t, const uint32_t *f, size_t nf, uint32_t line, const char *path,
                      char *err, size_t errlen)
{
    if (nf != t->ncols)
        return snprintf(err, errlen, "%s:%u: %zu fields, the header has %zu", path, line, nf,
                        t->ncols), -1;
    if (t->nrec == t->rec_cap) {
        size_t c = t->rec_cap ? t->rec_cap * 2 : 256;
        uint32_t *cells = realloc(t->cells, c * t->ncols * 2 * sizeof(uint32_t));
        if (cells)
            t->cells = cells;
        uint32_t *lines = realloc(t->lines, c * sizeof(uint32_t));
        if (lines)
            t->lines = lines;
        uint32_t *next = realloc(t->rec_next, c * sizeof(uint32_t));
        if (next)
            t->rec_next = next;
        if (!cells || !lines || !next || c >= NO_RECORD)
            return snprintf(err, errlen, "out of memory"), -1;
        t->rec_cap = c;
    }
    memcpy(&t->cells[t->nrec * t->ncols * 2], f, t->ncols * 2 * sizeof(uint32_t));
    t->lines[t->nrec++] = line;
    return 0;
}

/* The key cells of record r; fn_L/fn: a Lua normalize function (fn_L NULL:
 * none), which may fail (-1 with err). */
static int record_key(lk_table *t, size_t r, lua_State *fn_L, int fn, vn_buf *tmp, vn_buf *kb,
                      const char *path, char *err, size_t errlen)
{
    const char *cell[LOOKUP_KEYS_MAX];
    size_t len[LOOKUP_KEYS_MAX];
    int pushed = 0;
    if (fn_L && !lua_checkstack(fn_L, 2 * LOOKUP_KEYS_MAX + 4))
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t k = 0; k < t->nkeycols; k++) {
        const uint32_t *c = &t->cells[2 * (r * t->ncols + t->keycols[k])];
        cell[k] = t->pool.data + c[0];
        len[k] = c[1];
        if (!fn_L)
            continue;
        lua_pushvalue(fn_L, fn);
        lua_pushlstring(fn_L, cell[k], len[k]);
        int st = lua_pcall(fn_L, 1, 1, 0);
        pushed++;
        if (st != LUA_OK || lua_type(fn_L, -1) != LUA_TSTRING) {
            if (st != LUA_OK)
                snprintf(err, errlen, "%s:%u: opts.normalize failed: %s", path, t->lines[r],
                         lua_isstring(fn_L, -1) ? lua_tostring(fn_L, -1) : "an error");
            else
                snprintf(err, errlen, "%s:%u: opts.normalize gave no string for '%.*s'", path,
                         t->lines[r], (int)len[k], cell[k]);
            lua_pop(fn_L, pushed);
            return -1;
        }
        cell[k] = lua_tolstring(fn_L, -1, &len[k]);
    }
    int rc = encode_key(t, cell, len, tmp, kb);
    if (fn_L)
        lua_pop(fn_L, pushed);
    if (rc == VN_EINVALID) {
        char key[512];
        key_text(t, r, key, sizeof key);
        return snprintf(err, errlen, "%s:%u: key %s is not UTF-8, so it cannot be normalized",
                        path, t->lines[r], key), -1;
    }
    if (rc != VN_OK)
        return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

/* Parse text and index it; NULL with err set. */
static lk_table *table_build(const char *text, size_t n, const char *path, const lk_spec *sp,
                             lua_State *fn_L, int fn, char *err, size_t errlen)
{
    lk_table *t = calloc(1, sizeof(*t));
    if (!t)
        return snprintf(err, errlen, "out of memory"), NULL;
    t->duplicates = sp->duplicates;
    t->steps = sp->steps;
    t->pad = sp->pad;
    vn_buf_init(&t->pool);
    vn_buf_init(&t->keypool);
    size_t bom = n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    csv_reader rd = {text, path, bom, n, 1, err, errlen};
    uint32_t *f = NULL, line;
    size_t cap = 0, nf;
    int got = csv_record(&rd, t, &f, &cap, &nf, &line);
    int ok = got > 0;
    if (got == 0)
        snprintf(err, errlen, "%s: empty file (a header line is needed)", path);
    if (ok)
        ok = read_header(t, sp, f, nf, path, err, errlen) == 0;
    while (ok && (got = csv_record(&rd, t, &f, &cap, &nf, &line)) > 0)
        ok = add_record(t, f, nf, line, path, err, errlen) == 0;
    ok = ok && got == 0 && grow_slots(t) == 0;
    vn_buf tmp, kb;
    vn_buf_init(&tmp);
    vn_buf_init(&kb);
    for (size_t r = 0; ok && r < t->nrec; r++)
        ok = record_key(t, r, fn_L, fn, &tmp, &kb, path, err, errlen) == 0 &&
             index_record(t, r, &kb, path, err, errlen) == 0;
    vn_buf_free(&tmp);
    vn_buf_free(&kb);
    free(f);
    if (ok && (t->pool.len > UINT32_MAX || t->keypool.len > UINT32_MAX))
        ok = 0, snprintf(err, errlen, "%s: more than 4 GB of cells", path);
    if (!ok) {
        table_free(t);
        return NULL;
    }
    return t;
}

/* ---- handles ---------------------------------------------------------------------- */

#define HANDLE_MAGIC 0x6c6b7570u /* "lkup": a handle, for the metamethods' fast check */

typedef struct lk_handle {
    uint32_t magic;
    lk_table *t;
    vn_buf key, tmp;
} lk_handle;

static void release(lk_table *t)
{
    if (!t)
        return;
    if (!t->id) {
        table_free(t);
        return;
    }
    pthread_mutex_lock(&registry_lock);
    int last = --t->refs == 0;
    if (last)
        for (lk_table **p = &registry; *p; p = &(*p)->next)
            if (*p == t) {
                *p = t->next;
                break;
            }
    pthread_mutex_unlock(&registry_lock);
    if (last)
        table_free(t);
}

static int handle_gc(lua_State *L)
{
    lk_handle *h = luaL_checkudata(L, 1, LOOKUP_HANDLE);
    release(h->t);
    h->t = NULL;
    vn_buf_free(&h->key);
    vn_buf_free(&h->tmp);
    return 0;
}

static lk_handle *push_handle(lua_State *L, lk_table *t)
{
    lk_handle *h = lua_newuserdatauv(L, sizeof(*h), 1);
    h->magic = HANDLE_MAGIC;
    h->t = t;
    vn_buf_init(&h->key);
    vn_buf_init(&h->tmp);
    lua_newtable(L); /* rows and lists made for this state, by record / key */
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LOOKUP_HANDLE);
    return h;
}

/* The record r as a table column -> value (made once per state). */
static void push_row(lua_State *L, int hidx, const lk_table *t, size_t r)
{
    lua_getiuservalue(L, hidx, 1);
    if (lua_rawgeti(L, -1, (lua_Integer)r + 1) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, (int)t->ncols);
    for (size_t c = 0; c < t->ncols; c++) {
        const uint32_t *cell = &t->cells[2 * (r * t->ncols + c)];
        lua_pushlstring(L, t->pool.data + cell[0], cell[1]);
        lua_setfield(L, -2, t->names[c]);
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)r + 1);
    lua_remove(L, -2);
}

/* The value of record r (made once per state: a string made again for
 * every lookup would cost an allocation each time). */
static void push_value(lua_State *L, int hidx, const lk_table *t, size_t r)
{
    if (t->value_col < 0) {
        push_row(L, hidx, t, r);
        return;
    }
    lua_getiuservalue(L, hidx, 1);
    if (lua_rawgeti(L, -1, (lua_Integer)r + 1) == LUA_TSTRING) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    const uint32_t *cell = &t->cells[2 * (r * t->ncols + (size_t)t->value_col)];
    lua_pushlstring(L, t->pool.data + cell[0], cell[1]);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)r + 1);
    lua_remove(L, -2);
}

/* What key k maps to: its value, or (duplicates all) the list of them. */
static void push_match(lua_State *L, int hidx, const lk_table *t, size_t k)
{
    const lk_key *key = &t->keys[k];
    if (t->duplicates != DUP_ALL) {
        push_value(L, hidx, t, key->first);
        return;
    }
    lua_getiuservalue(L, hidx, 1);
    if (lua_rawgeti(L, -1, -(lua_Integer)k - 1) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, (int)key->count, 0);
    lua_Integer i = 1;
    for (uint32_t r = key->first; r != NO_RECORD; r = t->rec_next[r]) {
        push_value(L, hidx, t, r);
        lua_rawseti(L, -2, i++);
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, -(lua_Integer)k - 1);
    lua_remove(L, -2);
}

/* Look up the key made of the n values from index first; pushes the match
 * or nil. */
static int lookup(lua_State *L, lk_handle *h, int hidx, int first, int n)
{
    const lk_table *t = h->t;
    const char *cell[LOOKUP_KEYS_MAX];
    size_t len[LOOKUP_KEYS_MAX];
    for (int k = 0; k < n; k++) {
        if (lua_type(L, first + k) != LUA_TSTRING) {
            lua_pushnil(L); /* nil (a NULL column) or not a string: no match */
            return 1;
        }
        cell[k] = lua_tolstring(L, first + k, &len[k]);
    }
    if (n == 1 && t->steps == 0 && t->pad == 0) { /* the key as it is: no copy */
        uint32_t s = *key_slot(t, cell[0], len[0], key_hash(cell[0], len[0]));
        if (s == 0)
            lua_pushnil(L);
        else
            push_match(L, hidx, t, s - 1);
        return 1;
    }
    int rc = encode_key(t, cell, len, &h->tmp, &h->key);
    if (rc == VN_ENOMEM)
        return luaL_error(L, "lookup: out of memory");
    if (rc != VN_OK) { /* not UTF-8: equal to no key of the table */
        lua_pushnil(L);
        return 1;
    }
    uint32_t s = *key_slot(t, h->key.data, h->key.len, key_hash(h->key.data, h->key.len));
    if (s == 0)
        lua_pushnil(L);
    else
        push_match(L, hidx, t, s - 1);
    return 1;
}

static lk_handle *check_handle(lua_State *L)
{
    lk_handle *h = luaL_checkudata(L, 1, LOOKUP_HANDLE);
    if (!h->t)
        luaL_error(L, "lookup: the table was freed");
    return h;
}

/* t:get(k1, k2, ...): one value per key column. */
static int handle_get(lua_State *L)
{
    lk_handle *h = check_handle(L);
    int n = lua_gettop(L) - 1;
    if ((size_t)n != h->t->nkeycols)
        return luaL_error(L, "lookup: get needs %d key value%s (the key is %d column%s), got %d",
                          (int)h->t->nkeycols, h->t->nkeycols == 1 ? "" : "s",
                          (int)h->t->nkeycols, h->t->nkeycols == 1 ? "" : "s", n);
    return lookup(L, h, 1, 2, n);
}

/* t:size(): how many keys. */
static int handle_size(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_handle(L)->t->nkeys);
    return 1;
}

/* t[k]: get with one key; the methods by their names.  The hot path of
 * every lookup: the handle is checked by its magic number, not by its
 * metatable's name (a registry lookup per call). */
static int handle_index(lua_State *L)
{
    lk_handle *h = lua_touserdata(L, 1);
    if (!h || lua_rawlen(L, 1) != sizeof(*h) || h->magic != HANDLE_MAGIC)
        h = check_handle(L);
    if (!h->t)
        return luaL_error(L, "lookup: the table was freed");
    size_t len;
    const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
    if (name && ((len == 3 && memcmp(name, "get", 3) == 0) ||
                 (len == 4 && memcmp(name, "size", 4) == 0))) {
        lua_pushcfunction(L, name[0] == 'g' ? handle_get : handle_size);
        return 1;
    }
    if (h->t->nkeycols != 1)
        return luaL_error(L, "lookup: the key of this table is %d columns; use t:get(...) with "
                             "one value per column", (int)h->t->nkeycols);
    return lookup(L, h, 1, 2, 1);
}

static int handle_newindex(lua_State *L)
{
    return luaL_error(L, "lookup: tables are read-only (shared by every worker)");
}

/* pairs(t): each key, as written in the file (a list for a composite key),
 * and what it maps to, in file order. */
static int handle_next(lua_State *L)
{
    lk_handle *h = check_handle(L);
    const lk_table *t = h->t;
    lua_Integer k = lua_tointeger(L, lua_upvalueindex(1));
    if ((size_t)k >= t->nkeys)
        return 0;
    lua_pushinteger(L, k + 1);
    lua_replace(L, lua_upvalueindex(1));
    size_t r = t->keys[k].first;
    if (t->nkeycols == 1) {
        const uint32_t *c = &t->cells[2 * (r * t->ncols + t->keycols[0])];
        lua_pushlstring(L, t->pool.data + c[0], c[1]);
    } else {
        lua_createtable(L, (int)t->nkeycols, 0);
        for (size_t i = 0; i < t->nkeycols; i++) {
            const uint32_t *c = &t->cells[2 * (r * t->ncols + t->keycols[i])];
            lua_pushlstring(L, t->pool.data + c[0], c[1]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    push_match(L, 1, t, (size_t)k);
    return 2;
}

static int handle_pairs(lua_State *L)
{
    check_handle(L);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, handle_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* ---- build(text, path, spec [, normalize]) -------------------------------------------- */

static void read_spec(lua_State *L, int idx, lk_spec *sp)
{
    memset(sp, 0, sizeof(*sp));
    lua_getfield(L, idx, "keys");
    sp->nkeys = (size_t)luaL_len(L, -1);
    if (sp->nkeys == 0 || sp->nkeys > LOOKUP_KEYS_MAX)
        luaL_error(L, "lookup.load: opts.key names 1 to %d columns", LOOKUP_KEYS_MAX);
    for (size_t k = 0; k < sp->nkeys; k++) {
        lua_rawgeti(L, -1, (lua_Integer)k + 1);
        sp->keys[k] = lua_tostring(L, -1); /* kept alive by the spec table */
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "value");
    sp->value = lua_tostring(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, idx, "duplicates");
    sp->duplicates = (int)lua_tointeger(L, -1);
    lua_getfield(L, idx, "steps");
    sp->steps = (int)lua_tointeger(L, -1);
    lua_getfield(L, idx, "pad");
    sp->pad = (int)lua_tointeger(L, -1);
    lua_pop(L, 3);
}

/* The registry's name for text read with spec: the options and the
 * content's hash and length. */
static char *table_id(const char *text, size_t n, const lk_spec *sp)
{
    uint64_t h[2];
    mk_value v = {text, n};
    mkk_key_hash(&v, 1, h);
    size_t len = 128 + (sp->value ? strlen(sp->value) : 0);
    for (size_t k = 0; k < sp->nkeys; k++)
        len += strlen(sp->keys[k]) + 1;
    char *id = malloc(len);
    if (!id)
        return NULL;
    int at = snprintf(id, len, "%016llx%016llx:%zu:%d:%d:%d:%s:", (unsigned long long)h[0],
                      (unsigned long long)h[1], n, sp->duplicates, sp->steps, sp->pad,
                      sp->value ? sp->value : "");
    for (size_t k = 0; k < sp->nkeys; k++)
        at += snprintf(id + at, len - (size_t)at, "%s%c", sp->keys[k], '\x1f');
    return id;
}

/* A shared table for text and spec: the registry's, or built now. */
static lk_table *shared_table(const char *text, size_t n, const char *path, const lk_spec *sp,
                              char *err, size_t errlen)
{
    char *id = table_id(text, n, sp);
    if (!id)
        return snprintf(err, errlen, "out of memory"), NULL;
    pthread_mutex_lock(&registry_lock);
    lk_table *t = registry;
    while (t && strcmp(t->id, id) != 0)
        t = t->next;
    if (t) {
        t->refs++;
        free(id);
    } else if ((t = table_build(text, n, path, sp, NULL, 0, err, errlen))) {
        t->id = id;
        t->refs = 1;
        t->next = registry;
        registry = t;
    } else {
        free(id);
    }
    pthread_mutex_unlock(&registry_lock);
    return t;
}

static int core_build(lua_State *L)
{
    size_t n;
    const char *text = luaL_checklstring(L, 1, &n);
    const char *path = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    int fn = lua_isfunction(L, 4) ? 4 : 0;
    lk_spec sp;
    read_spec(L, 3, &sp);
    char err[1024];
    lk_table *t = fn ? table_build(text, n, path, &sp, L, fn, err, sizeof err)
                     : shared_table(text, n, path, &sp, err, sizeof err);
    if (!t)
        return luaL_error(L, "%s", err);
    push_handle(L, t);
    return 1;
}

/* loading(path | nil): which table this state is loading, so that an
 * instruction budget that runs out meanwhile can say so (the lua plugin's
 * hook reads LOOKUP_LOADING from the registry). */
static int core_loading(lua_State *L)
{
    lua_settop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, VNLIB_LOOKUP_LOADING);
    return 0;
}

/* How many tables the registry holds (for tests). */
static int core_shared(lua_State *L)
{
    lua_Integer n = 0;
    pthread_mutex_lock(&registry_lock);
    for (lk_table *t = registry; t; t = t->next)
        n++;
    pthread_mutex_unlock(&registry_lock);
    lua_pushinteger(L, n);
    return 1;
}

/* normalize_key(s, steps, pad): a key as a table with those steps keeps it. */
static int core_normalize_key(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int steps = (int)luaL_checkinteger(L, 2);
    int pad = (int)luaL_optinteger(L, 3, 0);
    vn_buf tmp, out;
    vn_buf_init(&tmp);
    vn_buf_init(&out);
    int rc = vn_match_key(s, len, steps, pad, &tmp, &out);
    if (rc == VN_OK)
        lua_pushlstring(L, out.data ? out.data : "", out.len);
    else
        lua_pushnil(L);
    vn_buf_free(&tmp);
    vn_buf_free(&out);
    return 1;
}

int luaopen_mekong_lookup_core(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"__gc", handle_gc},       {"__index", handle_index}, {"__newindex", handle_newindex},
        {"__pairs", handle_pairs}, {NULL, NULL},
    };
    if (luaL_newmetatable(L, LOOKUP_HANDLE))
        luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
    static const luaL_Reg functions[] = {
        {"build", core_build},
        {"shared", core_shared},
        {"loading", core_loading},
        {"normalize_key", core_normalize_key},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    lua_pushinteger(L, VN_KEY_TRIM);
    lua_setfield(L, -2, "TRIM");
    lua_pushinteger(L, VN_KEY_NFC);
    lua_setfield(L, -2, "NFC");
    lua_pushinteger(L, VN_KEY_LOWER);
    lua_setfield(L, -2, "LOWER");
    lua_pushinteger(L, VN_KEY_TONE);
    lua_setfield(L, -2, "TONE");
    lua_pushinteger(L, VN_KEY_FOLD);
    lua_setfield(L, -2, "FOLD");
    return 1;
}
