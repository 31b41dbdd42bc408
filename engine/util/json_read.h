/*
 * json_read.h -- a small JSON reader for the engine's own files (the run
 * reports kept in the history).  The whole text becomes a tree; it is
 * checked first by json.c (strict JSON, nesting limited to 64), so a
 * damaged or hostile file gives NULL, never a crash.  Not for rows: sources that read JSON
 * stream it themselves.
 */
#ifndef MEKONG_JSON_READ_H
#define MEKONG_JSON_READ_H

#include <stddef.h>

typedef enum mk_jkind {
    MK_J_NULL,
    MK_J_BOOL,
    MK_J_NUMBER,
    MK_J_STRING,
    MK_J_ARRAY,
    MK_J_OBJECT
} mk_jkind;

typedef struct mk_jnode {
    mk_jkind kind;
    double number;           /* numbers; booleans as 0/1 */
    char *string;            /* strings (UTF-8; \u0000 and lone surrogates as U+FFFD) */
    size_t count;            /* array items or object members */
    char **keys;             /* objects */
    struct mk_jnode **items; /* array items, object values */
} mk_jnode;

/* The tree of text[0..len), or NULL when it is not one JSON value (or
 * nests deeper than 64, or memory ran out). */
mk_jnode *mk_json_parse(const char *text, size_t len);
void mk_json_free(mk_jnode *n);

/* Member key of an object (NULL when n is not an object or lacks it). */
const mk_jnode *mk_json_get(const mk_jnode *n, const char *key);
/* The element of an array of objects whose member key is the string value. */
const mk_jnode *mk_json_find(const mk_jnode *array, const char *key, const char *value);
/* A number's value, or dflt when n is not a number. */
double mk_json_number(const mk_jnode *n, double dflt);
/* A string's text, or NULL. */
const char *mk_json_string(const mk_jnode *n);

#endif
