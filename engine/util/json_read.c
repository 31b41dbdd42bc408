/*
 * json_read.c -- see json_read.h.  Recursive descent over the text, one
 * malloc per node; the files it reads are reports of a few kilobytes.
 */
#include "config.h"

#include "json_read.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct reader {
    const char *p, *end;
} reader;

static void skip_space(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return -1;
    r->p += n;
    return 0;
}

static int hex4(reader *r, unsigned *out)
{
    if (r->end - r->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->p[i];
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
    r->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \uXXXX, with a surrogate pair joined; a lone surrogate becomes U+FFFD. */
static int unicode_escape(reader *r, unsigned *cp)
{
    if (hex4(r, cp) != 0)
        return -1;
    if (*cp >= 0xd800 && *cp < 0xdc00) {
        unsigned lo;
        if (r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
            r->p += 2;
            if (hex4(r, &lo) != 0)
                return -1;
            *cp = lo >= 0xdc00 && lo < 0xe000 ? 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00)
                                              : 0xfffd;
        } else {
            *cp = 0xfffd;
        }
    } else if (*cp >= 0xdc00 && *cp < 0xe000) {
        *cp = 0xfffd;
    }
    return 0;
}

/* A string after its opening quote; malloc'd, NULL on error.  The output
 * is never longer than the input (an escape is at least as long as the
 * bytes it stands for). */
static char *read_string(reader *r)
{
    const char *start = r->p;
    char *out = malloc((size_t)(r->end - start) + 1), *o = out;
    if (!out)
        return NULL;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p++;
        if (c < 0x20)
            goto bad;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (r->p >= r->end)
            goto bad;
        char e = *r->p++;
        unsigned cp;
        switch (e) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u':
            if (unicode_escape(r, &cp) != 0)
                goto bad;
            o += put_utf8(o, cp);
            break;
        default:
            goto bad;
        }
    }
    if (r->p >= r->end)
        goto bad;
    r->p++; /* the closing quote */
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

static int read_number(reader *r, double *out)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    size_t digits = 0;
    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' || *r->p == 'e' ||
                             *r->p == 'E' || *r->p == '+' || *r->p == '-')) {
        r->p++;
        digits++;
    }
    if (!digits || r->p - s > 60)
        return -1;
    char buf[64];
    memcpy(buf, s, (size_t)(r->p - s));
    buf[r->p - s] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0' ? 0 : -1;
}

static mk_jnode *read_value(reader *r, int depth);

static int add_item(mk_jnode *n, char *key, mk_jnode *item)
{
    mk_jnode **items = realloc(n->items, (n->count + 1) * sizeof(*items));
    if (!items)
        return -1;
    n->items = items;
    if (n->kind == MK_J_OBJECT) {
        char **keys = realloc(n->keys, (n->count + 1) * sizeof(*keys));
        if (!keys)
            return -1;
        n->keys = keys;
        keys[n->count] = key;
    }
    items[n->count++] = item;
    return 0;
}

/* The members of an object or the items of an array, after its bracket. */
static int read_members(reader *r, mk_jnode *n, int depth)
{
    char close = n->kind == MK_J_OBJECT ? '}' : ']';
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        skip_space(r);
        if (n->kind == MK_J_OBJECT) {
            if (r->p >= r->end || *r->p != '"')
                return -1;
            r->p++;
            if (!(key = read_string(r)))
                return -1;
            skip_space(r);
            if (r->p >= r->end || *r->p != ':') {
                free(key);
                return -1;
            }
            r->p++;
        }
        mk_jnode *item = read_value(r, depth + 1);
        if (!item || add_item(n, key, item) != 0) {
            free(key);
            mk_json_free(item);
            return -1;
        }
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        return -1;
    }
}

static mk_jnode *read_value(reader *r, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    skip_space(r);
    if (r->p >= r->end)
        return NULL;
    mk_jnode *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    int rc = 0;
    char c = *r->p;
    if (c == '{' || c == '[') {
        r->p++;
        n->kind = c == '{' ? MK_J_OBJECT : MK_J_ARRAY;
        rc = read_members(r, n, depth);
    } else if (c == '"') {
        r->p++;
        n->kind = MK_J_STRING;
        rc = (n->string = read_string(r)) ? 0 : -1;
    } else if (c == 't' || c == 'f') {
        n->kind = MK_J_BOOL;
        n->number = c == 't';
        rc = literal(r, c == 't' ? "true" : "false");
    } else if (c == 'n') {
        rc = literal(r, "null");
    } else {
        n->kind = MK_J_NUMBER;
        rc = read_number(r, &n->number);
    }
    if (rc != 0) {
        mk_json_free(n);
        return NULL;
    }
    return n;
}

mk_jnode *mk_json_parse(const char *text, size_t len)
{
    reader r = {text, text + len};
    mk_jnode *n = read_value(&r, 0);
    skip_space(&r);
    if (n && r.p != r.end) {
        mk_json_free(n);
        return NULL;
    }
    return n;
}

void mk_json_free(mk_jnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        if (n->keys)
            free(n->keys[i]);
        mk_json_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->string);
    free(n);
}

const mk_jnode *mk_json_get(const mk_jnode *n, const char *key)
{
    if (!n || n->kind != MK_J_OBJECT)
        return NULL;
    for (size_t i = 0; i < n->count; i++)
        if (strcmp(n->keys[i], key) == 0)
            return n->items[i];
    return NULL;
}

const mk_jnode *mk_json_find(const mk_jnode *array, const char *key, const char *value)
{
    if (!array || array->kind != MK_J_ARRAY)
        return NULL;
    for (size_t i = 0; i < array->count; i++) {
        const char *s = mk_json_string(mk_json_get(array->items[i], key));
        if (s && strcmp(s, value) == 0)
            return array->items[i];
    }
    return NULL;
}

double mk_json_number(const mk_jnode *n, double dflt)
{
    return n && n->kind == MK_J_NUMBER ? n->number : dflt;
}

const char *mk_json_string(const mk_jnode *n)
{
    return n && n->kind == MK_J_STRING ? n->string : NULL;
}
