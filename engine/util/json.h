/*
 * json.h -- reading JSON text without building a tree: check that a text
 * is one JSON value, skip a value, walk the members of an object, decode a
 * string, print a value indented.  Used for the state file (run/state.c,
 * `mekong state`), where values are kept as the text a plugin gave.
 * Nesting deeper than 64 levels is refused.
 */
#ifndef MEKONG_JSON_H
#define MEKONG_JSON_H

#include <stddef.h>

/* After the white space at p. */
const char *mk_json_ws(const char *p, const char *end);
/* After the JSON value at p (leading white space skipped), or NULL. */
const char *mk_json_skip(const char *p, const char *end);
/* After the string at p (p at its '"'), or NULL. */
const char *mk_json_skip_string(const char *p, const char *end);
/* 1 when text (NUL-terminated) is exactly one JSON value. */
int mk_json_valid(const char *text);
/* The string at p decoded (malloc'd, NUL-terminated), or NULL. */
char *mk_json_string_decode(const char *p, const char *end);
/* Walk an object: *pp starts at its '{'.  1: a member (key at its '"',
 * value from value to value_end), 0: the end, -1: not JSON. */
int mk_json_object_next(const char **pp, const char *end, const char **key, const char **value,
                        const char **value_end);
/* Walk an array the same way: *pp starts at its '['. */
int mk_json_array_next(const char **pp, const char *end, const char **value,
                       const char **value_end);
/* The value from p to end indented by two spaces a level, through put. */
void mk_json_pretty(const char *p, const char *end, int indent,
                    void (*put)(void *, const char *, size_t), void *data);

#endif
