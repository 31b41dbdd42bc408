/*
 * kit_json.c -- reading JSON text for plugins (a saved state): the
 * engine's reader (engine/util/json.c) under the kit's names.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "util/json.h"

const char *mkk_json_skip(const char *p, const char *end)
{
    return mk_json_skip(p, end);
}

int mkk_json_member(const char **pp, const char *end, const char **key, const char **value,
                    const char **value_end)
{
    return mk_json_object_next(pp, end, key, value, value_end);
}

int mkk_json_item(const char **pp, const char *end, const char **value, const char **value_end)
{
    return mk_json_array_next(pp, end, value, value_end);
}

char *mkk_json_decode(const char *p, const char *end)
{
    return mk_json_string_decode(p, end);
}

int mkk_json_equals(const char *p, const char *end, const char *s)
{
    char *d = mk_json_string_decode(p, end);
    int same = d && strcmp(d, s) == 0;
    free(d);
    return same;
}
