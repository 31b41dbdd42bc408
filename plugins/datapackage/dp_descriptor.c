/*
 * dp_descriptor.c -- datapackage.json (Data Package v2) for the
 * datapackage sink, and the folder helpers it needs.
 *
 * The descriptor is written with stdio into the temporary folder, fsynced
 * and published with the data files (datapackage.c, finish_package).
 * Metadata comes from the sink's options; sources lists every input named
 * in sources: with its agency, and every source step the rows came from.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dp_plugin.h"
#include "ts_json.h"
#include "ts_schema.h"

#define PROFILE "https://datapackage.org/profiles/2.0/"

static int canonical_schema(dp_sink *s);

/* ---- metadata ---------------------------------------------------------------- */

/* A package or resource name: lower case letters, digits, '-', '_', '.'. */
static void make_name(char *out, size_t cap, const char *from)
{
    size_t k = 0;
    for (const char *p = from; *p && k + 1 < cap; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        out[k++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                       ? c
                       : '-';
    }
    out[k] = '\0';
    if (!k)
        snprintf(out, cap, "data");
}

static int valid_name(const char *n)
{
    if (!*n)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
              *p == '-'))
            return 0;
    return 1;
}

static int add_source(dp_sink *s, const char *step, const char *agency, const char *file)
{
    dp_source *n = realloc(s->sources, (s->nsources + 1) * sizeof(*n));
    if (!n)
        return -1;
    s->sources = n;
    dp_source *d = &s->sources[s->nsources];
    d->step = strdup(step);
    d->agency = agency ? strdup(agency) : NULL;
    d->file = file ? strdup(file) : NULL;
    if (!d->step || (agency && !d->agency) || (file && !d->file)) {
        free(d->step), free(d->agency), free(d->file);
        return -1;
    }
    s->nsources++;
    return 0;
}

void dp_note_source(dp_sink *s, const char *step, const char *file)
{
    for (size_t i = 0; i < s->nsources; i++) {
        dp_source *d = &s->sources[i];
        if (strcmp(d->step, step) != 0)
            continue;
        if (!d->file && file)
            d->file = strdup(file); /* the first file a named source gave */
        if (!file || !d->file || strcmp(d->file, file) == 0)
            return;
    }
    const char *agency = NULL;
    for (size_t i = 0; i < s->nsources; i++)
        if (strcmp(s->sources[i].step, step) == 0)
            agency = s->sources[i].agency;
    add_source(s, step, agency, file); /* out of memory: the source is not listed */
}

int dp_read_metadata(dp_sink *s)
{
    const mk_host *h = s->host;
    const char *name = h->opt_string(s->ctx, "name");
    s->resource = h->opt_string(s->ctx, "resource");
    if (name && !valid_name(name)) {
        h->error(s->ctx, "name '%s' is not a package name: use lower case letters, digits, "
                         "'-', '_' and '.'",
                 name);
        return MK_ERROR;
    }
    if (!valid_name(s->resource)) {
        h->error(s->ctx, "resource '%s' is not a resource name: use lower case letters, "
                         "digits, '-', '_' and '.'",
                 s->resource);
        return MK_ERROR;
    }
    const char *base = strrchr(s->final, '/');
    make_name(s->name, sizeof s->name, name ? name : base ? base + 1 : s->final);
    const char *key, *val;
    for (size_t i = 0; i < h->opt_count(s->ctx, "sources"); i++) {
        h->opt_entry(s->ctx, "sources", i, &key, &val);
        if (add_source(s, key, val, NULL) != 0)
            return MK_NOMEM;
    }
    const char *schema = h->opt_string(s->ctx, "schema");
    if (schema) {
        char err[1024];
        if (!(s->declared = ts_load(schema, err, sizeof err))) {
            h->error(s->ctx, "schema: %s", err);
            return MK_ERROR;
        }
        const cfg_node *fields = cfg_get(s->declared, "fields");
        if (s->declared->kind != CFG_MAP || !fields || fields->kind != CFG_SEQ) {
            h->error(s->ctx, "schema: %s is not a Table Schema (an object with fields)", schema);
            return MK_ERROR;
        }
        if (h->opt_bool(s->ctx, "canonical") && canonical_schema(s) != MK_OK)
            return MK_ERROR;
    }
    return MK_OK;
}

void dp_free_metadata(dp_sink *s)
{
    for (size_t i = 0; i < s->nsources; i++) {
        free(s->sources[i].step);
        free(s->sources[i].agency);
        free(s->sources[i].file);
    }
    free(s->sources);
    cfg_free(s->declared);
}

/* ---- the declared schema ---------------------------------------------------- */

static const char *field_name(const cfg_node *field)
{
    const cfg_node *n = field->kind == CFG_MAP ? cfg_get(field, "name") : NULL;
    return n && n->kind == CFG_SCALAR ? n->value : "";
}

int dp_check_declared(dp_sink *s)
{
    if (!s->declared)
        return MK_OK;
    const cfg_node *fields = cfg_get(s->declared, "fields");
    int same = fields->count == s->columns->ncols;
    for (size_t i = 0; same && i < fields->count; i++)
        same = strcmp(field_name(fields->items[i]), s->columns->names[i]) == 0;
    if (same)
        return MK_OK;
    char have[512] = "", want[512] = "";
    size_t a = 0, b = 0;
    for (size_t i = 0; i < s->columns->ncols && a < sizeof have - 64; i++)
        a += (size_t)snprintf(have + a, sizeof have - a, "%s%s", i ? ", " : "",
                              s->columns->names[i]);
    for (size_t i = 0; i < fields->count && b < sizeof want - 64; i++)
        b += (size_t)snprintf(want + b, sizeof want - b, "%s%s", i ? ", " : "",
                              field_name(fields->items[i]));
    s->host->error(s->ctx, "the rows' columns (%s) are not the schema's fields (%s), in that "
                           "order: a package must describe its data; fix the schema or the "
                           "columns (map: keep/order)",
                   have, want);
    return MK_ERROR;
}

int dp_header_from_declared(dp_sink *s)
{
    const cfg_node *fields = s->declared ? cfg_get(s->declared, "fields") : NULL;
    int rc = 0;
    for (size_t i = 0; fields && i < fields->count; i++) {
        const char *n = field_name(fields->items[i]);
        rc |= (i ? dp_put(&s->csv, ",", 1) : 0) | dp_put(&s->csv, n, strlen(n));
    }
    return fields && fields->count ? rc | dp_put(&s->csv, "\n", 1) : rc;
}

/* ---- the canonical form of a declared schema ------------------------------ */

/* Remove key from map n (nothing when it has none). */
static void cfg_remove(cfg_node *n, const char *key)
{
    for (size_t i = 0; n->kind == CFG_MAP && i < n->count; i++) {
        if (strcmp(n->keys[i]->value, key) != 0)
            continue;
        cfg_free(n->keys[i]);
        cfg_free(n->items[i]);
        memmove(&n->keys[i], &n->keys[i + 1], (n->count - i - 1) * sizeof(cfg_node *));
        memmove(&n->items[i], &n->items[i + 1], (n->count - i - 1) * sizeof(cfg_node *));
        n->count--;
        return;
    }
}

/* A constraint value as its canonical text (the data's form after the
 * schema step's canonical: true). */
static int canon_value(const ts_field *f, cfg_node *v)
{
    char scratch[TS_SCRATCH];
    ts_cell c;
    if (v->kind != CFG_SCALAR || !ts_parse(f, v->value, strlen(v->value), scratch, &c))
        return 0;
    char *text = strndup(c.canon, c.canon_len);
    if (!text)
        return -1;
    free(v->value);
    v->value = text;
    v->quoted = !(f->type == TS_INTEGER || f->type == TS_NUMBER || f->type == TS_YEAR) ||
                !ts_is_json_number(text);
    return 0;
}

static int canon_constraints(const ts_field *f, cfg_node *cn)
{
    static const char *const bounds[] = {"minimum", "maximum", "exclusiveMinimum",
                                         "exclusiveMaximum"};
    for (size_t i = 0; cn && cn->kind == CFG_MAP && i < cn->count; i++) {
        const char *k = cn->keys[i]->value;
        cfg_node *v = cn->items[i];
        for (size_t b = 0; b < 4; b++)
            if (strcmp(k, bounds[b]) == 0 && canon_value(f, v) != 0)
                return -1;
        for (size_t e = 0; strcmp(k, "enum") == 0 && v->kind == CFG_SEQ && e < v->count; e++)
            if (canon_value(f, v->items[e]) != 0)
                return -1;
    }
    return 0;
}

/* The declared schema as the rows are after schema's canonical: true:
 * type options and date patterns gone, constraint values in canonical
 * form, missing values [""] (a missing value became NULL). */
static int canonical_schema(dp_sink *s)
{
    char err[1024];
    ts_schema *ts = ts_schema_compile(s->declared, "schema", err, sizeof err);
    if (!ts) {
        s->host->error(s->ctx, "schema: %s", err);
        return MK_ERROR;
    }
    cfg_node *fields = cfg_get(s->declared, "fields");
    static const char *const drop[] = {"decimalChar", "groupChar", "bareNumber", "trueValues",
                                       "falseValues", "missingValues"};
    int rc = MK_OK;
    for (size_t i = 0; i < fields->count && i < ts->nfields && rc == MK_OK; i++) {
        cfg_node *f = fields->items[i];
        const ts_field *tf = &ts->fields[i];
        if (canon_constraints(tf, cfg_get(f, "constraints")) != 0)
            rc = MK_NOMEM;
        for (size_t k = 0; k < sizeof drop / sizeof *drop; k++)
            cfg_remove(f, drop[k]);
        if (tf->type == TS_DATE || tf->type == TS_TIME || tf->type == TS_DATETIME)
            cfg_remove(f, "format");
    }
    ts_schema_free(ts);
    cfg_remove(s->declared, "missingValues");
    cfg_node *mv = cfg_new(CFG_SEQ, "", 0, 0), *empty = cfg_new(CFG_SCALAR, "", 0, 0);
    if (empty)
        empty->quoted = 1;
    if (rc != MK_OK || !mv || !empty || cfg_add(mv, NULL, empty) != 0 ||
        cfg_add(s->declared, "missingValues", mv) != 0) {
        s->host->error(s->ctx, "out of memory");
        return MK_NOMEM;
    }
    return MK_OK;
}

/* ---- writing ---------------------------------------------------------------- */

static const char *type_of(const mk_schema *s, size_t c)
{
    static const char *const names[] = {"string", "integer", "number", "boolean", "date",
                                        "datetime", "any", "string"};
    mk_type t = s->types ? s->types[c] : MK_TYPE_TEXT;
    return (size_t)t < sizeof names / sizeof *names ? names[t] : "string";
}

static void write_schema(FILE *fp, const dp_sink *s)
{
    if (s->declared) {
        ts_json_write(fp, s->declared, -1);
        return;
    }
    fputs("{\"$schema\":\"" PROFILE "tableschema.json\",\"fields\":[", fp);
    for (size_t c = 0; s->columns && c < s->columns->ncols; c++) {
        fputs(c ? ",{\"name\":" : "{\"name\":", fp);
        ts_json_string(fp, s->columns->names[c]);
        fprintf(fp, ",\"type\":\"%s\"}", type_of(s->columns, c));
    }
    fputs("],\"missingValues\":[\"\"]}", fp);
}

static void write_resource(FILE *fp, const dp_sink *s, const dp_out *o, int jsonl)
{
    fputs("\n  {\"name\":", fp);
    char name[320];
    snprintf(name, sizeof name, "%s%s", s->resource, jsonl ? "-jsonl" : "");
    ts_json_string(fp, name);
    /* "profile" too: v1 readers (frictionless-py 4, datapackage-js) look for it */
    fputs(",\"type\":\"table\",\"profile\":\"tabular-data-resource\",\"path\":", fp);
    ts_json_string(fp, o->file);
    fprintf(fp, ",\"format\":\"%s\",\"mediatype\":\"%s\",\"encoding\":\"utf-8\"",
            jsonl ? "jsonl" : "csv", jsonl ? "application/x-ndjson" : "text/csv");
    fprintf(fp, ",\"bytes\":%" PRIu64 ",\"hash\":\"sha256:%s\"", o->bytes, o->hex);
    fprintf(fp, ",\"stats\":{\"rows\":%" PRIu64 "}", s->rows);
    if (!jsonl)
        fputs(",\"dialect\":{\"$schema\":\"" PROFILE "tabledialect.json\",\"header\":true,"
              "\"delimiter\":\",\",\"quoteChar\":\"\\\"\",\"doubleQuote\":true,"
              "\"lineTerminator\":\"\\n\"}",
              fp);
    fputs(",\"schema\":", fp);
    write_schema(fp, s);
    fputc('}', fp);
}

/* The schema of the rejects file's columns: the sources' columns as read
 * (text), then the underscore columns rejects.c writes. */
static void write_rejects_schema(FILE *fp, const dp_runfile *rf)
{
    static const char *const jsonl[][2] = {
        {"_source", "string"}, {"_file", "string"},   {"_record", "integer"},
        {"_line", "integer"},  {"_stage", "string"},  {"_rule", "string"},
        {"_reason", "string"}, {"fields", "object"},  {"values", "object"}};
    fputs(",\"schema\":{\"$schema\":\"" PROFILE "tableschema.json\",\"fields\":[", fp);
    size_t n = rf->columns ? rf->columns->ncols : sizeof jsonl / sizeof *jsonl;
    for (size_t c = 0; c < n; c++) {
        const char *name = rf->columns ? rf->columns->names[c] : jsonl[c][0];
        const char *type = !rf->columns ? jsonl[c][1]
                           : strcmp(name, "_record") == 0 || strcmp(name, "_line") == 0
                               ? "integer"
                               : "string";
        fputs(c ? ",{\"name\":" : "{\"name\":", fp);
        ts_json_string(fp, name);
        fprintf(fp, ",\"type\":\"%s\"}", type);
    }
    fputs("],\"missingValues\":[\"\"]}", fp);
}

/* A resource for one of the run's own files (datapackage.c, add_run_files). */
static void write_runfile(FILE *fp, const dp_runfile *rf)
{
    int rejects = strcmp(rf->kind, "rejects") == 0;
    fputs(",\n  {\"name\":", fp);
    ts_json_string(fp, rf->kind);
    fputs(rejects ? ",\"type\":\"table\",\"profile\":\"tabular-data-resource\""
                  : ",\"profile\":\"data-resource\"",
          fp);
    fputs(",\"path\":", fp);
    ts_json_string(fp, rf->out.file);
    fprintf(fp, ",\"format\":\"%s\",\"mediatype\":\"%s\",\"encoding\":\"utf-8\"",
            strcmp(rf->kind, "report-html") == 0 ? "html" : rf->format, rf->mediatype);
    fprintf(fp, ",\"bytes\":%" PRIu64 ",\"hash\":\"sha256:%s\"", rf->out.bytes, rf->out.hex);
    fprintf(fp, ",\"description\":\"%s\"",
            rejects ? "the rows this run rejected: where each came from, the step and why"
                    : "the mekong run report of the run that wrote this package");
    if (rejects) {
        fprintf(fp, ",\"stats\":{\"rows\":%" PRIu64 "}", rf->rows);
        if (rf->columns)
            fputs(",\"dialect\":{\"$schema\":\"" PROFILE "tabledialect.json\",\"header\":true,"
                  "\"delimiter\":\",\",\"quoteChar\":\"\\\"\",\"doubleQuote\":true,"
                  "\"lineTerminator\":\"\\n\"}",
                  fp);
        write_rejects_schema(fp, rf);
    }
    fputc('}', fp);
}

static void write_option(FILE *fp, dp_sink *s, const char *key)
{
    const char *v = s->host->opt_string(s->ctx, key);
    if (!v)
        return;
    fprintf(fp, ",\n \"%s\":", key);
    ts_json_string(fp, v);
}

static void write_lists(FILE *fp, dp_sink *s)
{
    const mk_host *h = s->host;
    const char *key, *val;
    size_t n = h->opt_count(s->ctx, "licenses");
    if (n) {
        fputs(",\n \"licenses\":[", fp);
        for (size_t i = 0; i < n; i++) {
            h->opt_entry(s->ctx, "licenses", i, NULL, &val);
            fputs(i ? ",{\"name\":" : "{\"name\":", fp);
            ts_json_string(fp, val);
            fputc('}', fp);
        }
        fputc(']', fp);
    }
    if ((n = h->opt_count(s->ctx, "contributors"))) {
        fputs(",\n \"contributors\":[", fp);
        for (size_t i = 0; i < n; i++) {
            h->opt_entry(s->ctx, "contributors", i, &key, &val);
            fputs(i ? ",{\"title\":" : "{\"title\":", fp);
            ts_json_string(fp, key);
            fputs(",\"roles\":[", fp);
            ts_json_string(fp, val);
            fputs("]}", fp);
        }
        fputc(']', fp);
    }
    if (s->nsources) {
        fputs(",\n \"sources\":[", fp);
        for (size_t i = 0; i < s->nsources; i++) {
            const dp_source *d = &s->sources[i];
            fputs(i ? ",\n  {\"title\":" : "\n  {\"title\":", fp);
            ts_json_string(fp, d->agency ? d->agency : d->step);
            fputs(",\"mekong:step\":", fp);
            ts_json_string(fp, d->step);
            if (d->file) {
                fputs(",\"path\":", fp);
                ts_json_string(fp, d->file);
            }
            fputc('}', fp);
        }
        fputc(']', fp);
    }
}

int dp_write_descriptor(dp_sink *s)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/datapackage.json", s->tmp);
    FILE *fp = fopen(path, "wx");
    if (!fp) {
        s->host->error(s->ctx, "cannot create %s: %s", path, strerror(errno));
        return MK_ERROR;
    }
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    /* v1 readers: a package with a report (not a table) is a plain data package */
    int tabular = 1;
    for (size_t i = 0; i < s->nrunfiles; i++)
        tabular &= strcmp(s->runfiles[i].kind, "rejects") == 0;
    fprintf(fp, "{\"$schema\":\"" PROFILE "datapackage.json\",\n \"profile\":\"%s\",\n \"name\":",
            tabular ? "tabular-data-package" : "data-package");
    ts_json_string(fp, s->name);
    write_option(fp, s, "title");
    write_option(fp, s, "description");
    write_option(fp, s, "version");
    fprintf(fp, ",\n \"created\":\"%s\"", created);
    write_lists(fp, s);
    fputs(",\n \"resources\":[", fp);
    write_resource(fp, s, &s->csv, 0);
    if (s->jsonl_on) {
        fputc(',', fp);
        write_resource(fp, s, &s->jsonl, 1);
    }
    for (size_t i = 0; i < s->nrunfiles; i++)
        write_runfile(fp, &s->runfiles[i]);
    fputs("]}\n", fp);
    int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
    int err = errno;
    if (fclose(fp) != 0)
        bad = 1;
    if (bad) {
        s->host->error(s->ctx, "cannot write %s: %s", path, strerror(err));
        return MK_ERROR;
    }
    return MK_OK;
}

/* ---- folders ------------------------------------------------------------------ */

int dp_make_parents(const char *path)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

int dp_sync_parent(const char *path)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? (buf[0] ? buf : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* the rename is done; a folder we cannot open cannot be synced */
    fsync(fd);
    close(fd);
    return 0;
}

/* Remove a package folder the sink made: its files, then the folder (no
 * deeper levels: the sink makes none). */
void dp_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char file[4500];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(file, sizeof file, "%s/%s", path, e->d_name);
                unlink(file);
            }
        closedir(d);
    }
    rmdir(path);
}
