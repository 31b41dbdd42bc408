/*
 * json_read.c -- see json_read.h.  A tree over json.c's scanner (which
 * checks the text, skips values and decodes strings), one malloc per
 * node; the files it reads are reports of a few kilobytes.
 */
#include "config.h"

#include "json_read.h"

#include "json.h"

#include <stdlib.h>
#include <string.h>

/* The text was checked whole by mk_json_skip (json.c: strict JSON, nesting
 * limited) before a node is made, so the builder below trusts its syntax.
 * Each node finds its end with mk_json_skip again: time grows with size
 * times depth, which for reports of a few levels is nothing. */

static mk_jnode *build_value(const char **pp, const char *end);

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

/* The members or items of a container, *pp after its bracket. */
static int build_members(const char **pp, const char *end, mk_jnode *n)
{
    char close = n->kind == MK_J_OBJECT ? '}' : ']';
    const char *p = mk_json_ws(*pp, end);
    while (*p != close) {
        char *key = NULL;
        if (n->kind == MK_J_OBJECT) {
            if (!(key = mk_json_string_decode(p, end)))
                return -1;
            p = mk_json_ws(mk_json_skip_string(p, end), end) + 1; /* the ':' */
        }
        mk_jnode *item = build_value(&p, end);
        if (!item || add_item(n, key, item) != 0) {
            free(key);
            mk_json_free(item);
            return -1;
        }
        p = mk_json_ws(p, end);
        if (*p == ',')
            p = mk_json_ws(p + 1, end);
    }
    *pp = p + 1;
    return 0;
}

static mk_jnode *build_value(const char **pp, const char *end)
{
    const char *p = mk_json_ws(*pp, end), *after = mk_json_skip(p, end);
    mk_jnode *n = after ? calloc(1, sizeof(*n)) : NULL;
    if (!n)
        return NULL;
    int rc = 0;
    if (*p == '{' || *p == '[') {
        n->kind = *p == '{' ? MK_J_OBJECT : MK_J_ARRAY;
        p++;
        rc = build_members(&p, end, n);
    } else if (*p == '"') {
        n->kind = MK_J_STRING;
        rc = (n->string = mk_json_string_decode(p, end)) ? 0 : -1;
    } else if (*p == 't' || *p == 'f') {
        n->kind = MK_J_BOOL;
        n->number = *p == 't';
    } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
        char buf[64];
        size_t len = (size_t)(after - p);
        n->kind = MK_J_NUMBER;
        if (len >= sizeof buf)
            rc = -1;
        else {
            memcpy(buf, p, len);
            buf[len] = '\0';
            n->number = strtod(buf, NULL);
        }
    } /* else null */
    *pp = after;
    if (rc != 0) {
        mk_json_free(n);
        return NULL;
    }
    return n;
}

mk_jnode *mk_json_parse(const char *text, size_t len)
{
    const char *end = text + len, *p = mk_json_skip(text, end);
    if (!p || mk_json_ws(p, end) != end)
        return NULL; /* not exactly one JSON value */
    p = text;
    return build_value(&p, end);
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
