/*
 * json.c -- see json.h.
 */
#include "config.h"

#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

const char *mk_json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return -1;
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

const char *mk_json_skip_string(const char *p, const char *end)
{
    if (p >= end || *p != '"')
        return NULL;
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c != '\\')
            continue;
        if (++p >= end)
            return NULL;
        unsigned u;
        if (*p == 'u') {
            if (hex4(p + 1, end, &u) != 0)
                return NULL;
            p += 4;
        } else if (!strchr("\"\\/bfnrt", *p)) {
            return NULL;
        }
    }
    return NULL;
}

static const char *skip_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p == digits)
        return NULL;
    if (p < end && *p == '.') {
        digits = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits)
            return NULL;
    }
    return p;
}

static const char *skip_value(const char *p, const char *end, int depth);

/* An object or array at p; close is '}' or ']'. */
static const char *skip_container(const char *p, const char *end, int depth, char close)
{
    p = mk_json_ws(p + 1, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (close == '}') {
            if (!(p = mk_json_skip_string(p, end)))
                return NULL;
            p = mk_json_ws(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p++;
        }
        if (!(p = skip_value(p, end, depth + 1)))
            return NULL;
        p = mk_json_ws(p, end);
        if (p < end && *p == close)
            return p + 1;
        if (p >= end || *p != ',')
            return NULL;
        p = mk_json_ws(p + 1, end);
    }
}

static const char *skip_value(const char *p, const char *end, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return NULL;
    p = mk_json_ws(p, end);
    if (p >= end)
        return NULL;
    switch (*p) {
    case '{':
        return skip_container(p, end, depth, '}');
    case '[':
        return skip_container(p, end, depth, ']');
    case '"':
        return mk_json_skip_string(p, end);
    case 't':
        return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return skip_number(p, end);
    }
}

const char *mk_json_skip(const char *p, const char *end)
{
    return skip_value(p, end, 0);
}

int mk_json_valid(const char *text)
{
    const char *end = text + strlen(text);
    const char *p = mk_json_skip(text, end);
    return p && mk_json_ws(p, end) == end;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The code point of the \u escape at p (after the backslash), pairing
 * surrogates; *used: bytes consumed. */
static unsigned unicode_escape(const char *p, const char *end, size_t *used)
{
    unsigned u = 0, lo = 0;
    hex4(p + 1, end, &u);
    *used = 5;
    if (u >= 0xd800 && u < 0xdc00 && end - p >= 11 && p[5] == '\\' && p[6] == 'u' &&
        hex4(p + 7, end, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
        *used = 11;
        return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
    }
    return u >= 0xd800 && u < 0xe000 ? 0xfffd : u;
}

char *mk_json_string_decode(const char *p, const char *end)
{
    const char *stop = mk_json_skip_string(p, end);
    if (!stop)
        return NULL;
    char *out = malloc((size_t)(stop - p) + 1), *o = out;
    if (!out)
        return NULL;
    for (p++; p < stop - 1; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        p++;
        switch (*p) {
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
        case 'u': {
            size_t used;
            unsigned cp = unicode_escape(p, end, &used);
            o += put_utf8(o, cp ? cp : 0xfffd); /* no NUL inside a C string */
            p += used - 1;
            break;
        }
        default:
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

int mk_json_object_next(const char **pp, const char *end, const char **key, const char **value,
                        const char **value_end)
{
    const char *p = mk_json_ws(*pp, end);
    if (p < end && (*p == ',' || *p == '{'))
        p = mk_json_ws(p + 1, end);
    if (p < end && *p == '}')
        return 0;
    *key = p;
    if (!(p = mk_json_skip_string(p, end)))
        return -1;
    p = mk_json_ws(p, end);
    if (p >= end || *p != ':')
        return -1;
    *value = mk_json_ws(p + 1, end);
    if (!(p = mk_json_skip(*value, end)))
        return -1;
    *value_end = p;
    *pp = p;
    return 1;
}

int mk_json_array_next(const char **pp, const char *end, const char **value, const char **value_end)
{
    const char *p = mk_json_ws(*pp, end);
    if (p < end && (*p == ',' || *p == '['))
        p = mk_json_ws(p + 1, end);
    if (p < end && *p == ']')
        return 0;
    *value = p;
    if (!(p = mk_json_skip(p, end)))
        return -1;
    *value_end = p;
    *pp = p;
    return 1;
}

void mk_json_pretty(const char *p, const char *end, int indent,
                    void (*put)(void *, const char *, size_t), void *data)
{
    static const char spaces[] = "                                                                ";
    int level = indent;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *q = mk_json_skip_string(p, end);
            if (!q)
                q = end;
            put(data, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p++;
            continue;
        }
        const char *next = mk_json_ws(p + 1, end);
        int empty = (c == '{' || c == '[') && next < end && (*next == '}' || *next == ']');
        if (empty) {
            put(data, p, 1);
            put(data, next, 1);
            p = next + 1;
            continue;
        }
        if (c == '}' || c == ']') {
            level--;
            put(data, "\n", 1);
            put(data, spaces, (size_t)(level > 0 ? (level * 2 < 64 ? level * 2 : 64) : 0));
        }
        put(data, p, 1);
        if (c == ':')
            put(data, " ", 1);
        if (c == '{' || c == '[' || c == ',') {
            if (c != ',')
                level++;
            put(data, "\n", 1);
            put(data, spaces, (size_t)(level > 0 ? (level * 2 < 64 ? level * 2 : 64) : 0));
        }
        p++;
    }
}
