/*
 * ts_schema.c -- compiling a Table Schema descriptor into per-field plans,
 * and the constraints of one cell.
 *
 * Patterns are XML Schema regular expressions anchored at both ends.  They
 * are compiled once with PCRE2 (UTF mode, anchored at the start and the
 * end, JIT when the machine has it) and matched with a match limit and a
 * depth limit, so a pattern that backtracks badly fails the value with a
 * clear reason instead of hanging the run.  PCRE2 reads the XML Schema
 * syntax people write (classes, \d \s \w, {m,n}, |, \p{L}); the two
 * XML-only constructs (class subtraction, \i \c) are refused when the
 * schema is read.  Like frictionless-py, ^ and $ written in a pattern are
 * anchors (harmless: the whole value must match anyway).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_json.h"
#include "ts_schema.h"

static const char *const type_names[TS_NTYPES] = {
    "string", "integer", "number", "boolean", "date", "time", "datetime", "year",
    "yearmonth", "duration", "geopoint", "object", "array", "list", "any"};

static const char *const check_names[TS_NCHECKS] = {
    "type", "required", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "pattern", "enum", "unique", "mekong:check"};

const char *ts_type_name(ts_type t)
{
    return t < TS_NTYPES ? type_names[t] : "?";
}

const char *ts_check_name(ts_check c)
{
    return c < TS_NCHECKS ? check_names[c] : "?";
}

typedef struct compiler {
    const char *name;
    char *err;
    size_t errlen;
} compiler;

static int cfail(compiler *c, const cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfail(compiler *c, const cfg_node *at, const char *fmt, ...)
{
    int n = at && at->line ? snprintf(c->err, c->errlen, "%s:%d:%d: ", c->name, at->line,
                                      at->column)
                           : snprintf(c->err, c->errlen, "%s: ", c->name);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void strings_free(ts_strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int strings_add(ts_strings *s, const char *v)
{
    char **nv = realloc(s->v, (s->n + 1) * sizeof(char *));
    if (!nv)
        return -1;
    s->v = nv;
    if (!(s->v[s->n] = strdup(v)))
        return -1;
    s->n++;
    return 0;
}

/* A list of strings (a scalar is a 1-list) into out. */
static int read_strings(compiler *c, const cfg_node *n, const char *what, ts_strings *out)
{
    strings_free(out);
    if (n->kind == CFG_SCALAR)
        return strings_add(out, n->value) ? cfail(c, n, "out of memory") : 0;
    if (n->kind != CFG_SEQ)
        return cfail(c, n, "%s must be a list of strings", what);
    for (size_t i = 0; i < n->count; i++) {
        const cfg_node *item = n->items[i];
        if (item->kind == CFG_MAP && cfg_get(item, "value")) /* v2 {value, label} */
            item = cfg_get(item, "value");
        if (item->kind != CFG_SCALAR)
            return cfail(c, item, "%s must be a list of strings", what);
        if (strings_add(out, item->value))
            return cfail(c, item, "out of memory");
    }
    return 0;
}

static int read_bool(compiler *c, const cfg_node *n, const char *what, int *out)
{
    if (n->kind == CFG_SCALAR && strcmp(n->value, "true") == 0)
        *out = 1;
    else if (n->kind == CFG_SCALAR && strcmp(n->value, "false") == 0)
        *out = 0;
    else
        return cfail(c, n, "%s must be true or false", what);
    return 0;
}

/* ---- patterns ------------------------------------------------------------ */

/* XML Schema constructs PCRE2 reads differently: class subtraction
 * ([a-z-[aeiou]]) and the name escapes \i \c.  NULL when none. */
static const char *unsupported(const char *s)
{
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\\' && (s[i + 1] == 'i' || s[i + 1] == 'I' || s[i + 1] == 'c' ||
                              s[i + 1] == 'C'))
            return "uses \\i or \\c (XML name characters), which mekong does not support";
        if (s[i] == '\\' && s[i + 1])
            i++;
        else if (s[i] == '-' && s[i + 1] == '[')
            return "uses a class subtraction (-[...]), which mekong does not support";
    }
    return NULL;
}

static int compile_pattern(compiler *c, const cfg_node *n, ts_field *f)
{
    const char *why = unsupported(n->value);
    if (why)
        return cfail(c, n, "field '%s': pattern '%s' %s", f->name, n->value, why);
    int code;
    PCRE2_SIZE at;
    f->pattern = pcre2_compile((PCRE2_SPTR)n->value, PCRE2_ZERO_TERMINATED,
                               PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &code, &at, NULL);
    if (!f->pattern) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(code, msg, sizeof msg);
        return cfail(c, n, "field '%s': pattern '%s' is not a valid regular expression at "
                           "offset %zu: %s",
                     f->name, n->value, (size_t)at, (const char *)msg);
    }
    pcre2_jit_compile(f->pattern, PCRE2_JIT_COMPLETE); /* without JIT (no support): interpreted */
    f->pattern_match = pcre2_match_data_create_from_pattern(f->pattern, NULL);
    f->pattern_ctx = pcre2_match_context_create(NULL);
    if (!f->pattern_match || !f->pattern_ctx)
        return cfail(c, n, "out of memory");
    pcre2_set_match_limit(f->pattern_ctx, TS_MATCH_LIMIT);
    pcre2_set_depth_limit(f->pattern_ctx, TS_DEPTH_LIMIT);
    f->has_pattern = 1;
    if (!(f->pattern_text = strdup(n->value)))
        return cfail(c, n, "out of memory");
    return 0;
}

/* ---- fields --------------------------------------------------------------- */

static int read_format(compiler *c, const cfg_node *n, ts_field *f)
{
    const char *v = n->value;
    if (strcmp(v, "default") == 0)
        return 0;
    if (strncmp(v, "fmt:", 4) == 0) /* v1's "fmt:%d/%m/%Y" */
        v += 4;
    int temporal = f->type == TS_DATE || f->type == TS_TIME || f->type == TS_DATETIME;
    if (temporal && strcmp(v, "any") == 0) {
        f->format = TS_FMT_ANY;
        if (f->type != TS_DATE)
            f->format = TS_FMT_DEFAULT; /* time/datetime any: ISO forms (docs/SCHEMA.md) */
        return 0;
    }
    if (temporal && strchr(v, '%')) {
        f->format = TS_FMT_PATTERN;
        return (f->date_pattern = strdup(v)) ? 0 : cfail(c, n, "out of memory");
    }
    static const struct { ts_type type; const char *name; ts_format fmt; } known[] = {
        {TS_STRING, "email", TS_FMT_EMAIL}, {TS_STRING, "uri", TS_FMT_URI},
        {TS_STRING, "uuid", TS_FMT_UUID}, {TS_STRING, "binary", TS_FMT_BINARY},
        {TS_GEOPOINT, "array", TS_FMT_GEO_ARRAY}, {TS_GEOPOINT, "object", TS_FMT_GEO_OBJECT},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        if (known[i].type == f->type && strcmp(known[i].name, v) == 0) {
            f->format = known[i].fmt;
            return 0;
        }
    }
    return cfail(c, n, "field '%s': format '%s' is not a format of type %s (docs/SCHEMA.md "
                       "lists them)",
                 f->name, n->value, ts_type_name(f->type));
}

static int read_char_option(compiler *c, const cfg_node *n, const char *what, char *out)
{
    if (n->kind != CFG_SCALAR || strlen(n->value) != 1)
        return cfail(c, n, "%s must be one character (one byte)", what);
    *out = n->value[0];
    return 0;
}

static int read_type_options(compiler *c, const cfg_node *fn, ts_field *f)
{
    const cfg_node *n;
    f->decimal_char = '.';
    f->bare_number = 1;
    if ((n = cfg_get(fn, "decimalChar")) && read_char_option(c, n, "decimalChar", &f->decimal_char))
        return -1;
    if ((n = cfg_get(fn, "groupChar")) && read_char_option(c, n, "groupChar", &f->group_char))
        return -1;
    if ((n = cfg_get(fn, "bareNumber")) && read_bool(c, n, "bareNumber", &f->bare_number))
        return -1;
    static const char *const t[] = {"true", "True", "TRUE", "1"};
    static const char *const fa[] = {"false", "False", "FALSE", "0"};
    if ((n = cfg_get(fn, "trueValues"))) {
        if (read_strings(c, n, "trueValues", &f->true_values))
            return -1;
    } else {
        for (size_t i = 0; i < 4; i++)
            if (strings_add(&f->true_values, t[i]))
                return cfail(c, fn, "out of memory");
    }
    if ((n = cfg_get(fn, "falseValues"))) {
        if (read_strings(c, n, "falseValues", &f->false_values))
            return -1;
    } else {
        for (size_t i = 0; i < 4; i++)
            if (strings_add(&f->false_values, fa[i]))
                return cfail(c, fn, "out of memory");
    }
    return 0;
}

/* A bound (minimum, ...) read as a value of the field's type; dates in a
 * patterned field may also be given in ISO form. */
static int read_bound(compiler *c, const cfg_node *n, ts_field *f, int k, const char *what)
{
    char scratch[TS_SCRATCH];
    ts_cell cell;
    int ok = n->kind == CFG_SCALAR && ts_parse(f, n->value, strlen(n->value), scratch, &cell);
    if (!ok && n->kind == CFG_SCALAR && f->format != TS_FMT_DEFAULT) {
        ts_field iso = *f;
        iso.format = TS_FMT_DEFAULT;
        ok = ts_parse(&iso, n->value, strlen(n->value), scratch, &cell);
    }
    if (!ok || !cell.has_number)
        return cfail(c, n, "field '%s': %s '%s' is not a value of type %s", f->name, what,
                     n->kind == CFG_SCALAR ? n->value : "(not a scalar)", ts_type_name(f->type));
    f->has_bound[k] = 1;
    f->bound[k] = cell.number;
    return (f->bound_text[k] = strdup(n->value)) ? 0 : cfail(c, n, "out of memory");
}

static int read_length(compiler *c, const cfg_node *n, const char *what, long *out)
{
    char *end;
    long v = n->kind == CFG_SCALAR ? strtol(n->value, &end, 10) : -1;
    if (n->kind != CFG_SCALAR || *end || v < 0 || !n->value[0])
        return cfail(c, n, "%s must be a whole number, 0 or more", what);
    *out = v;
    return 0;
}

static int read_enum(compiler *c, const cfg_node *n, ts_field *f)
{
    if (n->kind != CFG_SEQ)
        return cfail(c, n, "field '%s': enum must be a list", f->name);
    for (size_t i = 0; i < n->count; i++) {
        const cfg_node *v = n->items[i];
        char scratch[TS_SCRATCH];
        ts_cell cell;
        if (v->kind != CFG_SCALAR || !ts_parse(f, v->value, strlen(v->value), scratch, &cell))
            return cfail(c, v, "field '%s': enum value '%s' is not a value of type %s", f->name,
                         v->kind == CFG_SCALAR ? v->value : "(not a scalar)",
                         ts_type_name(f->type));
        char *copy = strndup(cell.canon, cell.canon_len);
        if (!copy || strings_add(&f->enum_canon, copy)) {
            free(copy);
            return cfail(c, v, "out of memory");
        }
        free(copy);
    }
    return 0;
}

static int read_constraints(compiler *c, const cfg_node *cn, ts_field *f)
{
    if (cn->kind != CFG_MAP)
        return cfail(c, cn, "field '%s': constraints must be an object", f->name);
    static const char *const bounds[] = {"minimum", "maximum", "exclusiveMinimum",
                                         "exclusiveMaximum"};
    for (size_t i = 0; i < cn->count; i++) {
        const char *k = cn->keys[i]->value;
        const cfg_node *v = cn->items[i];
        int rc = 0, b = -1;
        for (int j = 0; j < 4; j++)
            if (strcmp(k, bounds[j]) == 0)
                b = j;
        if (strcmp(k, "required") == 0)
            rc = read_bool(c, v, "required", &f->required);
        else if (strcmp(k, "unique") == 0)
            rc = read_bool(c, v, "unique", &f->unique);
        else if (strcmp(k, "minLength") == 0)
            rc = read_length(c, v, "minLength", &f->min_length);
        else if (strcmp(k, "maxLength") == 0)
            rc = read_length(c, v, "maxLength", &f->max_length);
        else if (b >= 0)
            rc = read_bound(c, v, f, b, k);
        else if (strcmp(k, "pattern") == 0)
            rc = v->kind == CFG_SCALAR ? compile_pattern(c, v, f)
                                       : cfail(c, v, "pattern must be a string");
        else if (strcmp(k, "enum") == 0)
            rc = read_enum(c, v, f);
        else if (strcmp(k, "jsonSchema") != 0)
            rc = cfail(c, cn->keys[i], "field '%s': unknown constraint '%s' (required, unique, "
                                       "minLength, maxLength, minimum, maximum, "
                                       "exclusiveMinimum, exclusiveMaximum, pattern, enum)",
                       f->name, k);
        if (rc)
            return -1;
    }
    return 0;
}

static int read_vn(compiler *c, const cfg_node *fn, ts_field *f)
{
    const cfg_node *n = cfg_get(fn, "mekong:check");
    static const char *const names[] = {"", "cccd", "mst", "phone", "mobile", "ward_2025",
                                        "province_2025"};
    if (n) {
        for (int i = 1; i < 7; i++)
            if (strcmp(n->value, names[i]) == 0)
                f->vn = (ts_vn)i;
        if (f->vn == TS_VN_NONE)
            return cfail(c, n, "field '%s': mekong:check '%s' is not one of cccd, mst, phone, "
                               "mobile, ward_2025, province_2025",
                         f->name, n->value);
    }
    if ((n = cfg_get(fn, "mekong:sexField")) && !(f->vn_sex_field = strdup(n->value)))
        return cfail(c, n, "out of memory");
    if ((n = cfg_get(fn, "mekong:birthDateField")) && !(f->vn_birth_field = strdup(n->value)))
        return cfail(c, n, "out of memory");
    if ((n = cfg_get(fn, "mekong:onError"))) {
        if (strcmp(n->value, "warn") && strcmp(n->value, "reject"))
            return cfail(c, n, "field '%s': mekong:onError must be reject or warn", f->name);
        f->warn = strcmp(n->value, "warn") == 0;
    }
    return 0;
}

static int read_type(compiler *c, const cfg_node *fn, ts_field *f)
{
    const cfg_node *n = cfg_get(fn, "type");
    f->type = TS_STRING;
    if (!n)
        return 0;
    for (int t = 0; t < TS_NTYPES; t++)
        if (strcmp(n->value, type_names[t]) == 0) {
            f->type = (ts_type)t;
            return 0;
        }
    return cfail(c, n, "field '%s': type '%s' is not a Table Schema type (string, integer, "
                       "number, boolean, date, time, datetime, year, yearmonth, duration, "
                       "geopoint, object, array, list, any)",
                 f->name, n->value);
}

static int read_field(compiler *c, const cfg_node *fn, ts_field *f, const ts_strings *missing)
{
    f->min_length = f->max_length = -1;
    const cfg_node *n = cfg_get(fn, "name");
    if (fn->kind != CFG_MAP || !n || n->kind != CFG_SCALAR || !n->value[0])
        return cfail(c, fn, "every field needs a name: { \"name\": \"ho_ten\", ... }");
    if (!(f->name = strdup(n->value)) || read_type(c, fn, f) || read_type_options(c, fn, f))
        return -1;
    if ((n = cfg_get(fn, "format")) && read_format(c, n, f))
        return -1;
    if ((n = cfg_get(fn, "missingValues"))) {
        if (read_strings(c, n, "missingValues", &f->missing))
            return -1;
    } else {
        for (size_t i = 0; i < missing->n; i++)
            if (strings_add(&f->missing, missing->v[i]))
                return cfail(c, fn, "out of memory");
    }
    if ((n = cfg_get(fn, "constraints")) && read_constraints(c, n, f))
        return -1;
    return read_vn(c, fn, f);
}

/* ---- keys ----------------------------------------------------------------- */

long ts_schema_field(const ts_schema *s, const char *name)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (long)i;
    return -1;
}

static int read_key(compiler *c, const ts_schema *s, const cfg_node *n, const char *what,
                    ts_key *k)
{
    ts_strings names = {0};
    if (read_strings(c, n, what, &names))
        return -1;
    k->fields = calloc(names.n ? names.n : 1, sizeof(size_t));
    int rc = k->fields ? 0 : cfail(c, n, "out of memory");
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        long f = ts_schema_field(s, names.v[i]);
        if (f < 0)
            rc = cfail(c, n, "%s names field '%s', which the schema does not have", what,
                       names.v[i]);
        else
            k->fields[k->n++] = (size_t)f;
    }
    if (rc == 0 && names.n == 0)
        rc = cfail(c, n, "%s names no field", what);
    strings_free(&names);
    return rc;
}

static int read_foreign_keys(compiler *c, ts_schema *s, const cfg_node *n)
{
    if (n->kind != CFG_SEQ)
        return cfail(c, n, "foreignKeys must be a list");
    if (!(s->fkeys = calloc(n->count ? n->count : 1, sizeof(ts_fkey))))
        return cfail(c, n, "out of memory");
    for (size_t i = 0; i < n->count; i++) {
        const cfg_node *fk = n->items[i], *fields = cfg_get(fk, "fields"),
                       *ref = cfg_get(fk, "reference");
        ts_fkey *k = &s->fkeys[s->nfkeys++];
        const cfg_node *rres = ref ? cfg_get(ref, "resource") : NULL;
        const cfg_node *rfields = ref ? cfg_get(ref, "fields") : NULL;
        if (!fields || !ref || !rfields)
            return cfail(c, fk, "a foreign key needs fields and reference: { resource, fields }");
        if (read_key(c, s, fields, "foreignKeys.fields", &k->local) ||
            read_strings(c, rfields, "foreignKeys.reference.fields", &k->ref_fields))
            return -1;
        if (!(k->resource = strdup(rres ? rres->value : "")))
            return cfail(c, fk, "out of memory");
        if (k->ref_fields.n != k->local.n)
            return cfail(c, fk, "a foreign key has %zu fields but its reference %zu", k->local.n,
                         k->ref_fields.n);
    }
    return 0;
}

static int read_match(compiler *c, ts_schema *s, const cfg_node *n)
{
    static const char *const names[] = {"exact", "equal", "subset", "superset", "partial"};
    for (int i = 0; i < 5; i++)
        if (strcmp(n->value, names[i]) == 0) {
            s->match = (ts_match)i;
            return 0;
        }
    return cfail(c, n, "fieldsMatch '%s' is not one of exact, equal, subset, superset, partial",
                 n->value);
}

static int read_keys(compiler *c, ts_schema *s, const cfg_node *root)
{
    const cfg_node *n;
    if ((n = cfg_get(root, "primaryKey")) && read_key(c, s, n, "primaryKey", &s->primary))
        return -1;
    if ((n = cfg_get(root, "uniqueKeys"))) {
        if (n->kind != CFG_SEQ)
            return cfail(c, n, "uniqueKeys must be a list of lists of field names");
        if (!(s->unique_keys = calloc(n->count ? n->count : 1, sizeof(ts_key))))
            return cfail(c, n, "out of memory");
        for (size_t i = 0; i < n->count; i++)
            if (read_key(c, s, n->items[i], "uniqueKeys", &s->unique_keys[s->nunique_keys++]))
                return -1;
    }
    if ((n = cfg_get(root, "foreignKeys")) && read_foreign_keys(c, s, n))
        return -1;
    if ((n = cfg_get(root, "fieldsMatch")) && read_match(c, s, n))
        return -1;
    return 0;
}

ts_schema *ts_schema_compile(const cfg_node *root, const char *name, char *err, size_t errlen)
{
    compiler c = {name, err, errlen};
    ts_schema *s = calloc(1, sizeof(*s));
    ts_strings missing = {0};
    const cfg_node *fields = root->kind == CFG_MAP ? cfg_get(root, "fields") : NULL;
    if (!s) {
        cfail(&c, root, "out of memory");
        return NULL;
    }
    if (!fields || fields->kind != CFG_SEQ) {
        cfail(&c, root, "a Table Schema is an object with a list of fields: "
                        "{ \"fields\": [ { \"name\": \"id\", \"type\": \"integer\" } ] }");
        goto fail;
    }
    const cfg_node *profile = cfg_get(root, "$schema");
    s->v1 = !profile || !strstr(profile->value, "/2.");
    const cfg_node *mv = cfg_get(root, "missingValues");
    if (mv ? read_strings(&c, mv, "missingValues", &missing) : strings_add(&missing, ""))
        goto fail;
    if (!(s->fields = calloc(fields->count ? fields->count : 1, sizeof(ts_field)))) {
        cfail(&c, root, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < fields->count; i++) {
        if (read_field(&c, fields->items[i], &s->fields[s->nfields++], &missing))
            goto fail;
        if (ts_schema_field(s, s->fields[i].name) != (long)i) {
            cfail(&c, fields->items[i], "two fields are named '%s'", s->fields[i].name);
            goto fail;
        }
    }
    if (read_keys(&c, s, root))
        goto fail;
    strings_free(&missing);
    return s;
fail:
    strings_free(&missing);
    ts_schema_free(s);
    return NULL;
}

static void key_free(ts_key *k)
{
    free(k->fields);
}

void ts_schema_free(ts_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfields; i++) {
        ts_field *f = &s->fields[i];
        free(f->name);
        free(f->date_pattern);
        strings_free(&f->true_values);
        strings_free(&f->false_values);
        strings_free(&f->missing);
        strings_free(&f->enum_canon);
        for (int k = 0; k < 4; k++)
            free(f->bound_text[k]);
        pcre2_code_free(f->pattern);
        pcre2_match_data_free(f->pattern_match);
        pcre2_match_context_free(f->pattern_ctx);
        free(f->pattern_text);
        free(f->vn_sex_field);
        free(f->vn_birth_field);
    }
    free(s->fields);
    key_free(&s->primary);
    for (size_t i = 0; i < s->nunique_keys; i++)
        key_free(&s->unique_keys[i]);
    free(s->unique_keys);
    for (size_t i = 0; i < s->nfkeys; i++) {
        key_free(&s->fkeys[i].local);
        free(s->fkeys[i].resource);
        strings_free(&s->fkeys[i].ref_fields);
    }
    free(s->fkeys);
    free(s);
}

/* ---- one cell ------------------------------------------------------------- */

static size_t utf8_chars(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xC0) != 0x80;
    return k;
}

static int is_missing(const ts_field *f, const char *p, size_t n)
{
    if (!p)
        return 1;
    for (size_t i = 0; i < f->missing.n; i++) {
        const char *m = f->missing.v[i]; /* first bytes first: no strlen per cell */
        if (n == 0 ? m[0] == '\0' : m[0] == p[0] && strncmp(m, p, n) == 0 && m[n] == '\0')
            return 1;
    }
    return 0;
}

/* 1 match, 0 no match, -1 the match limit was hit (counted as no match). */
pcre2_match_data *ts_field_match_data(const ts_field *f)
{
    return f->has_pattern ? pcre2_match_data_create_from_pattern(f->pattern, NULL) : NULL;
}

static int pattern_matches(const ts_field *f, const char *p, size_t n, pcre2_match_data *md)
{
    int rc = pcre2_match(f->pattern, (PCRE2_SPTR)p, n, 0, 0, md ? md : f->pattern_match,
                         f->pattern_ctx);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ? -1 : 0;
}

static int fail(ts_cell *out, ts_check c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ts_cell *out, ts_check c, const char *fmt, ...)
{
    out->failed = c;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
    return 1;
}

static int check_bounds(const ts_field *f, ts_cell *out)
{
    static const ts_check which[4] = {TS_C_MINIMUM, TS_C_MAXIMUM, TS_C_XMINIMUM, TS_C_XMAXIMUM};
    static const char *const says[4] = {"is below the minimum", "is above the maximum",
                                        "is not above the exclusive minimum",
                                        "is not below the exclusive maximum"};
    if (!out->has_number)
        return 0;
    double v = out->number;
    for (int k = 0; k < 4; k++) {
        if (!f->has_bound[k])
            continue;
        double b = f->bound[k];
        int bad = k == 0 ? v < b : k == 1 ? v > b : k == 2 ? v <= b : v >= b;
        if (bad)
            return fail(out, which[k], "%s %s", says[k], f->bound_text[k]);
    }
    return 0;
}

void ts_cell_check(const ts_field *f, const char *p, size_t n, char *scratch, ts_cell *out)
{
    ts_cell_check_md(f, p, n, scratch, NULL, out);
}

void ts_cell_check_md(const ts_field *f, const char *p, size_t n, char *scratch,
                      pcre2_match_data *md, ts_cell *out)
{
    out->failed = TS_NCHECKS;
    out->detail[0] = '\0';
    out->missing = is_missing(f, p, n);
    if (out->missing) {
        out->has_number = 0;
        out->canon = NULL;
        out->canon_len = 0;
        if (f->required)
            fail(out, TS_C_REQUIRED, "is missing, and the field is required");
        return;
    }
    if (!ts_parse(f, p, n, scratch, out)) {
        static const char *const formats[] = {"", "any", "", "email", "uri", "uuid", "binary",
                                              "array", "object"};
        const char *fmt = f->format == TS_FMT_PATTERN ? f->date_pattern : formats[f->format];
        fail(out, TS_C_TYPE, "is not of type %s%s%s", ts_type_name(f->type),
             fmt[0] ? " in format " : "", fmt);
        return;
    }
    if (f->min_length >= 0 || f->max_length >= 0) {
        size_t chars = utf8_chars(p, n);
        if (f->min_length >= 0 && chars < (size_t)f->min_length &&
            fail(out, TS_C_MINLENGTH, "has %zu characters, below minLength %ld", chars,
                 f->min_length))
            return;
        if (f->max_length >= 0 && chars > (size_t)f->max_length &&
            fail(out, TS_C_MAXLENGTH, "has %zu characters, above maxLength %ld", chars,
                 f->max_length))
            return;
    }
    if (check_bounds(f, out))
        return;
    if (f->has_pattern) {
        int m = pattern_matches(f, p, n, md);
        if (m <= 0 && fail(out, TS_C_PATTERN, "%s the pattern %s",
                           m < 0 ? "takes too long to match (match limit) against"
                                 : "does not match",
                           f->pattern_text))
            return;
    }
    if (f->enum_canon.n) {
        for (size_t i = 0; i < f->enum_canon.n; i++) {
            const char *e = f->enum_canon.v[i]; /* first byte first: no strlen per cell */
            if ((out->canon_len ? e[0] == out->canon[0] : e[0] == '\0') &&
                strncmp(e, out->canon, out->canon_len) == 0 && e[out->canon_len] == '\0')
                return;
        }
        fail(out, TS_C_ENUM, "is not one of the enum's %zu values", f->enum_canon.n);
    }
}
