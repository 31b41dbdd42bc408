/*
 * ts_json.c -- a small JSON reader and writer for descriptors (Table
 * Schema, Data Package), into and out of the engine's cfg_node trees.
 *
 * Trade-off: descriptors are small (kilobytes) and read once at open, so
 * the parser is a plain recursive descent that builds a tree with line and
 * column per node, with a nesting limit instead of an explicit stack; it
 * is not meant for data.  Strings are checked as UTF-8 and \u escapes
 * (surrogate pairs included) become UTF-8.  A NUL (\u0000) is refused: the
 * tree holds C strings.
 */
#include "config.h"

#include "ts_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64 };

typedef struct jparser {
    const char *s, *end, *line_start;
    const char *name;
    int line;
    char *err;
    size_t errlen;
    int failed;
} jparser;

static void jfail(jparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jfail(jparser *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    int n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->name, p->line,
                     (int)(p->s - p->line_start) + 1);
    if (n < 0 || (size_t)n >= p->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_blanks(jparser *p)
{
    while (p->s < p->end) {
        char c = *p->s;
        if (c == '\n') {
            p->line++;
            p->line_start = p->s + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        p->s++;
    }
}

static cfg_node *parse_value(jparser *p, int depth);

/* Append code point cp as UTF-8 to buf (room for 4 bytes). */
static size_t put_utf8(char *buf, unsigned long cp)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static long hex4(jparser *p)
{
    if (p->end - p->s < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    p->s += 4;
    return v;
}

/* One escape after the backslash, into out; bytes written or 0. */
static size_t parse_escape(jparser *p, char *out)
{
    if (p->s >= p->end) {
        jfail(p, "a string ends with a backslash");
        return 0;
    }
    char c = *p->s++;
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *k = strchr(from, c);
    if (c && k) {
        *out = to[k - from];
        return 1;
    }
    if (c != 'u') {
        jfail(p, "unknown escape \\%c in a string", c);
        return 0;
    }
    long cp = hex4(p);
    if (cp >= 0xD800 && cp <= 0xDBFF && p->end - p->s >= 6 && p->s[0] == '\\' && p->s[1] == 'u') {
        p->s += 2;
        long lo = hex4(p);
        if (lo < 0xDC00 || lo > 0xDFFF) {
            jfail(p, "a high surrogate \\u escape without its low half");
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
        jfail(p, "a lone surrogate \\u escape");
        return 0;
    }
    if (cp <= 0) {
        jfail(p, cp == 0 ? "\\u0000 (NUL) is not allowed in a descriptor" : "bad \\u escape");
        return 0;
    }
    return put_utf8(out, (unsigned long)cp);
}

/* A string at p->s (after its opening quote): a malloc'd C string. */
static char *parse_string_text(jparser *p)
{
    size_t cap = 64, len = 0;
    char *buf = malloc(cap);
    while (buf && !p->failed) {
        if (p->s >= p->end) {
            jfail(p, "a string is not closed");
            break;
        }
        if (cap - len < 8) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
        unsigned char c = (unsigned char)*p->s;
        if (c == '"') {
            p->s++;
            buf[len] = '\0';
            return buf;
        }
        if (c < 0x20) {
            jfail(p, "a control character (byte 0x%02x) in a string: escape it", c);
            break;
        }
        if (c == '\\') {
            p->s++;
            size_t n = parse_escape(p, buf + len);
            if (!n)
                break;
            len += n;
            continue;
        }
        buf[len++] = (char)c;
        p->s++;
    }
    if (!buf)
        jfail(p, "out of memory");
    free(buf);
    return NULL;
}

int ts_is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* A number, true, false or null: an unquoted scalar. */
static cfg_node *parse_bare(jparser *p, int line, int col)
{
    const char *start = p->s;
    while (p->s < p->end && strchr("+-.0123456789eEtruefalsn", *p->s))
        p->s++;
    size_t n = (size_t)(p->s - start);
    char word[64];
    if (n == 0 || n >= sizeof word) {
        jfail(p, "expected a value (string, number, object, array, true, false or null)");
        return NULL;
    }
    memcpy(word, start, n);
    word[n] = '\0';
    if (strcmp(word, "true") && strcmp(word, "false") && strcmp(word, "null") &&
        !ts_is_json_number(word)) {
        p->s = start;
        jfail(p, "'%s' is not a JSON value", word);
        return NULL;
    }
    return cfg_new(CFG_SCALAR, word, line, col);
}

static cfg_node *parse_object(jparser *p, int depth, cfg_node *obj)
{
    skip_blanks(p);
    if (p->s < p->end && *p->s == '}') {
        p->s++;
        return obj;
    }
    for (;;) {
        skip_blanks(p);
        if (p->s >= p->end || *p->s != '"') {
            jfail(p, "expected a key in quotes");
            break;
        }
        p->s++;
        char *key = parse_string_text(p);
        if (!key)
            break;
        if (cfg_get(obj, key)) {
            jfail(p, "the key '%s' appears twice", key);
            free(key);
            break;
        }
        skip_blanks(p);
        if (p->s >= p->end || *p->s != ':') {
            jfail(p, "expected ':' after the key '%s'", key);
            free(key);
            break;
        }
        p->s++;
        cfg_node *v = parse_value(p, depth + 1);
        int rc = v ? cfg_add(obj, key, v) : -1;
        free(key);
        if (rc != 0)
            break;
        skip_blanks(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == '}') {
            p->s++;
            return obj;
        }
        jfail(p, "expected ',' or '}' in an object");
        break;
    }
    jfail(p, "out of memory");
    cfg_free(obj);
    return NULL;
}

static cfg_node *parse_array(jparser *p, int depth, cfg_node *arr)
{
    skip_blanks(p);
    if (p->s < p->end && *p->s == ']') {
        p->s++;
        return arr;
    }
    for (;;) {
        cfg_node *v = parse_value(p, depth + 1);
        if (!v || cfg_add(arr, NULL, v) != 0)
            break;
        skip_blanks(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == ']') {
            p->s++;
            return arr;
        }
        jfail(p, "expected ',' or ']' in an array");
        break;
    }
    jfail(p, "out of memory");
    cfg_free(arr);
    return NULL;
}

static cfg_node *parse_value(jparser *p, int depth)
{
    skip_blanks(p);
    int line = p->line, col = (int)(p->s - p->line_start) + 1;
    if (depth > MAX_DEPTH) {
        jfail(p, "nested more than %d levels deep", MAX_DEPTH);
        return NULL;
    }
    if (p->s >= p->end) {
        jfail(p, "the text ends where a value was expected");
        return NULL;
    }
    char c = *p->s;
    if (c == '{' || c == '[') {
        p->s++;
        cfg_node *n = cfg_new(c == '{' ? CFG_MAP : CFG_SEQ, "", line, col);
        if (!n) {
            jfail(p, "out of memory");
            return NULL;
        }
        return c == '{' ? parse_object(p, depth, n) : parse_array(p, depth, n);
    }
    if (c == '"') {
        p->s++;
        char *text = parse_string_text(p);
        if (!text)
            return NULL;
        cfg_node *n = cfg_new(CFG_SCALAR, text, line, col);
        free(text);
        if (n)
            n->quoted = 1;
        else
            jfail(p, "out of memory");
        return n;
    }
    return parse_bare(p, line, col);
}

cfg_node *ts_json_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    jparser p = {text, text + len, text, name, 1, err, errlen, 0};
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: holds a NUL byte: not a JSON text", name);
        return NULL;
    }
    cfg_node *root = parse_value(&p, 0);
    if (root) {
        skip_blanks(&p);
        if (p.s < p.end) {
            jfail(&p, "text after the end of the JSON value");
            cfg_free(root);
            root = NULL;
        }
    }
    return root;
}

/* The whole file, NUL-terminated; NULL with err set. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) {
        snprintf(err, errlen, "%s: cannot read (%s)", path, buf ? "read error" : "too large");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

cfg_node *ts_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_all(path, &len, err, errlen);
    if (!text)
        return NULL;
    const char *p = text;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    cfg_node *root;
    if (*p == '{' || *p == '[')
        root = ts_json_parse(p, len - (size_t)(p - text), path, err, errlen);
    else
        root = cfg_load(path, NULL, err, errlen);
    free(text);
    return root;
}

void ts_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(fp, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", fp);
        else if (*c == '\t')
            fputs("\\t", fp);
        else if (*c < 0x20)
            fprintf(fp, "\\u%04x", *c);
        else
            fputc(*c, fp);
    }
    fputc('"', fp);
}

static int scalar_is_bare(const cfg_node *n)
{
    if (n->quoted)
        return 0;
    return ts_is_json_number(n->value) || strcmp(n->value, "true") == 0 ||
           strcmp(n->value, "false") == 0 || strcmp(n->value, "null") == 0;
}

static void newline(FILE *fp, int indent, int level)
{
    if (indent < 0)
        return;
    fputc('\n', fp);
    for (int i = 0; i < indent * level; i++)
        fputc(' ', fp);
}

static void write_node(FILE *fp, const cfg_node *n, int indent, int level)
{
    if (n->kind == CFG_SCALAR) {
        if (cfg_is_null(n))
            fputs("null", fp);
        else if (scalar_is_bare(n))
            fputs(n->value, fp);
        else
            ts_json_string(fp, n->value);
        return;
    }
    int map = n->kind == CFG_MAP;
    fputc(map ? '{' : '[', fp);
    for (size_t i = 0; i < n->count; i++) {
        if (i)
            fputc(',', fp);
        newline(fp, indent, level + 1);
        if (map) {
            ts_json_string(fp, n->keys[i]->value);
            fputs(indent < 0 ? ":" : ": ", fp);
        }
        write_node(fp, n->items[i], indent, level + 1);
    }
    if (n->count)
        newline(fp, indent, level);
    fputc(map ? '}' : ']', fp);
}

int ts_json_write(FILE *fp, const cfg_node *n, int indent)
{
    write_node(fp, n, indent, 0);
    return ferror(fp) ? -1 : 0;
}
