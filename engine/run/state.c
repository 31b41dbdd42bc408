/*
 * state.c -- what steps keep between successful runs (mk_host.state_get,
 * state_set): one JSON file per pipeline, <run folder>/state.json, or the
 * file a step's `state:` key names.  docs/OPERATIONS.md describes it.
 *
 *   {"format": "mekong-state 1", "pipeline": "...", "saved": "...Z",
 *    "steps": {"STEP": VALUE, ...}}
 *
 * VALUE is the JSON text the step staged, kept as it was given.  A run
 * reads every state file at its start; state_set only stages; the staged
 * values are written when every sink committed (mk_state_save), each
 * file to a temporary file that joins the publish set (publish.c): the
 * state appears with the outputs it describes, or not at all.  A step that
 * stages nothing keeps its saved value.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "run_internal.h"
#include "util/path.h"
#include "util/json.h"
#include "util/textout.h"

#define STATE_FORMAT "mekong-state 1"
#define STATE_MAX_BYTES (64u * 1024u * 1024u)

char *mk_run_dir(const mk_pipeline *p)
{
    if (p->state_dir)
        return strdup(p->state_dir);
    size_t n = strlen(p->dir) + strlen(p->name) + 16;
    char *d = malloc(n);
    if (d)
        snprintf(d, n, "%s/.mekong/%s", p->dir, p->name);
    return d;
}

static char *default_state_path(const mk_pipeline *p)
{
    char *dir = mk_run_dir(p);
    if (!dir)
        return NULL;
    char *path = mk_path_join(dir, "state.json");
    free(dir);
    return path;
}

/* ---- the steps of a run, and their files ------------------------------------ */

static int add_step_paths(const mk_step *steps, size_t count, char ***paths, size_t *n)
{
    for (size_t i = 0; i < count; i++) {
        if (steps[i].state_path && mk_path_list_add(paths, n, steps[i].state_path) != 0)
            return -1;
        if (add_step_paths(steps[i].chain, steps[i].chain_len, paths, n) != 0)
            return -1;
    }
    return 0;
}

char **mk_state_paths(const mk_pipeline *p, size_t *n)
{
    char **paths = NULL;
    *n = 0;
    char *first = default_state_path(p);
    int ok = first && mk_path_list_add(&paths, n, first) == 0 &&
             add_step_paths(p->sources, p->nsources, &paths, n) == 0 &&
             add_step_paths(p->transforms, p->ntransforms, &paths, n) == 0 &&
             add_step_paths(p->sinks, p->nsinks, &paths, n) == 0;
    free(first);
    if (!ok) {
        for (size_t i = 0; i < *n; i++)
            free(paths[i]);
        free(paths);
        return NULL;
    }
    return paths;
}

/* ---- reading a state file ----------------------------------------------------- */

static char *read_whole(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATE_MAX_BYTES)
        snprintf(err, errlen, "state file %s is not a regular file under 64 MB", path);
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        snprintf(err, errlen, "out of memory reading %s", path);
    else if ((*len = fread(buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
        snprintf(err, errlen, "cannot read %s", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

static int add_entry(mk_state_file *sf, const char *key, const char *key_end, const char *value,
                     const char *value_end)
{
    char **names = realloc(sf->names, (sf->n + 1) * sizeof(char *));
    if (names)
        sf->names = names;
    char **values = realloc(sf->values, (sf->n + 1) * sizeof(char *));
    if (values)
        sf->values = values;
    if (!names || !values)
        return -1;
    sf->names[sf->n] = mk_json_string_decode(key, key_end);
    sf->values[sf->n] = strndup(value, (size_t)(value_end - value));
    if (!sf->names[sf->n] || !sf->values[sf->n]) {
        free(sf->names[sf->n]);
        free(sf->values[sf->n]);
        return -1;
    }
    sf->n++;
    return 0;
}

/* The "steps" member of the top object. */
static int parse_state(mk_state_file *sf, const char *text, size_t len)
{
    const char *end = text + len, *p = mk_json_ws(text, end);
    const char *key, *value, *vend;
    if (p >= end || *p != '{' || !mk_json_skip(p, end) ||
        mk_json_ws(mk_json_skip(p, end), end) != end)
        return -1;
    int rc;
    while ((rc = mk_json_object_next(&p, end, &key, &value, &vend)) == 1) {
        if (vend - key < 7 || memcmp(key, "\"steps\"", 7) != 0)
            continue;
        if (*value != '{')
            return -1;
        const char *q = value, *k, *v, *ve;
        int rs;
        while ((rs = mk_json_object_next(&q, vend, &k, &v, &ve)) == 1)
            if (add_entry(sf, k, mk_json_skip_string(k, vend), v, ve) != 0)
                return -1;
        if (rs < 0)
            return -1;
    }
    return rc;
}

static int load_file(mk_run *run, mk_state_file *sf)
{
    char err[1024] = "";
    size_t len = 0;
    char *text = read_whole(sf->path, &len, err, sizeof err);
    if (!text)
        return err[0] ? mk_run_fail(run, "%s", err) : MK_OK;
    int rc = parse_state(sf, text, len);
    free(text);
    if (rc != 0)
        return mk_run_fail(run,
                           "state file %s is not a mekong state file (not valid JSON, or no "
                           "\"steps\" object): repair it, or clear it with 'mekong state --reset'",
                           sf->path);
    return MK_OK;
}

/* ---- opening: which file each step uses --------------------------------------- */

static size_t file_index(mk_run *run, const char *path)
{
    for (size_t i = 0; i < run->nstate_files; i++)
        if (strcmp(run->state_files[i].path, path) == 0)
            return i;
    return (size_t)-1;
}

static int assign_files(mk_run *run, mk_context *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c[i].state_file = c[i].step->state_path ? file_index(run, c[i].step->state_path) : 0;
        if (c[i].state_file == (size_t)-1)
            return -1;
        if (c[i].chain && assign_files(run, c[i].chain, c[i].step->chain_len) != 0)
            return -1;
    }
    return 0;
}

int mk_state_open(mk_run *run)
{
    if (run->o->no_run_folder)
        return MK_OK; /* state_get finds no file: NULL */
    size_t n;
    char **paths = mk_state_paths(run->p, &n);
    if (!paths)
        return mk_run_fail(run, "out of memory reading the state files");
    run->state_files = calloc(n, sizeof(mk_state_file));
    if (!run->state_files) {
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
        free(paths);
        return mk_run_fail(run, "out of memory reading the state files");
    }
    for (size_t i = 0; i < n; i++)
        run->state_files[i].path = paths[i];
    free(paths);
    run->nstate_files = n;
    mk_pipeline *p = run->p;
    if (assign_files(run, run->sources, p->nsources) != 0 ||
        assign_files(run, run->transforms, p->ntransforms) != 0 ||
        assign_files(run, run->sinks, p->nsinks) != 0)
        return mk_run_fail(run, "state files do not match the steps (a bug)");
    for (size_t i = 0; i < n; i++)
        if (load_file(run, &run->state_files[i]) != MK_OK)
            return MK_ERROR;
    return MK_OK;
}

/* ---- the host calls ------------------------------------------------------------- */

const char *mk_host_state_get(mk_context *ctx)
{
    mk_run *run = ctx->run;
    if (run->o->full_refresh || ctx->state_file >= run->nstate_files)
        return NULL;
    const mk_state_file *sf = &run->state_files[ctx->state_file];
    for (size_t i = 0; i < sf->n; i++)
        if (strcmp(sf->names[i], ctx->step->name) == 0)
            return sf->values[i];
    return NULL;
}

/* Another step of the same name, kept in the same file, that staged a
 * value already (default names repeat across roles: source csv#1, sink
 * csv#1). */
static const mk_context *namesake(const mk_context *c, size_t n, const mk_context *ctx)
{
    for (size_t i = 0; i < n; i++) {
        if (&c[i] != ctx && c[i].state_staged && c[i].state_file == ctx->state_file &&
            strcmp(c[i].step->name, ctx->step->name) == 0)
            return &c[i];
        const mk_context *o = c[i].chain ? namesake(c[i].chain, c[i].step->chain_len, ctx) : NULL;
        if (o)
            return o;
    }
    return NULL;
}

/* A refused value fails the run even when the step cannot say so (a
 * source stages from close(), which returns nothing): publishing without
 * the state would read the same data again next time. */
static int refuse(mk_context *ctx)
{
    mk_run_fail(ctx->run, "%s %s (plugin %s) cannot save its state: %s",
                mk_role_name(ctx->step->role), ctx->step->name, ctx->step->plugin_name, ctx->error);
    ctx->run->state_refused = 1;
    return MK_BADARG;
}

int mk_host_state_set(mk_context *ctx, const char *json)
{
    mk_run *run = ctx->run;
    if (!json || !mk_json_valid(json)) {
        mk_host_error(ctx, "state_set was given a value that is not one JSON value");
        return refuse(ctx);
    }
    if (ctx->state_file >= run->nstate_files && !run->o->no_run_folder) {
        mk_host_error(ctx, "state_set called before the state files were read");
        return refuse(ctx);
    }
    const mk_pipeline *p = run->p;
    const mk_context *other = namesake(run->sources, p->nsources, ctx);
    if (!other)
        other = namesake(run->transforms, p->ntransforms, ctx);
    if (!other)
        other = namesake(run->sinks, p->nsinks, ctx);
    if (other) {
        mk_host_error(ctx,
                      "%s '%s' and %s '%s' both keep state under one name: give one of them "
                      "another name: (or a state: file of its own)",
                      mk_role_name(other->step->role), other->step->name,
                      mk_role_name(ctx->step->role), ctx->step->name);
        return refuse(ctx);
    }
    char *copy = strdup(json);
    if (!copy) {
        mk_host_error(ctx, "out of memory");
        refuse(ctx);
        return MK_NOMEM;
    }
    free(ctx->state_staged);
    ctx->state_staged = copy;
    if (ctx->state_file < run->nstate_files)
        run->state_files[ctx->state_file].staged = 1;
    return MK_OK;
}

/* ---- writing ---------------------------------------------------------------------- */

static void put_entry(mk_outfile *f, const char *name, const char *value, int *first)
{
    mk_outfile_puts(f, *first ? "\n    " : ",\n    ");
    *first = 0;
    mk_json_write_string(f, name, strlen(name), MK_JSON_REPLACE, NULL);
    mk_outfile_puts(f, ": ");
    mk_outfile_puts(f, value);
}

/* The staged value of the step called name kept in file fi, or NULL. */
static const char *staged_in(mk_context *c, size_t n, size_t fi, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].state_staged && c[i].state_file == fi && strcmp(c[i].step->name, name) == 0)
            return c[i].state_staged;
        const char *v = c[i].chain ? staged_in(c[i].chain, c[i].step->chain_len, fi, name) : NULL;
        if (v)
            return v;
    }
    return NULL;
}

static const char *staged_value(mk_run *run, size_t fi, const char *name)
{
    const char *v = staged_in(run->sources, run->p->nsources, fi, name);
    if (!v)
        v = staged_in(run->transforms, run->p->ntransforms, fi, name);
    if (!v)
        v = staged_in(run->sinks, run->p->nsinks, fi, name);
    return v;
}

/* Staged values of steps kept in file fi that the file did not have. */
static void put_new(mk_outfile *f, mk_run *run, mk_context *c, size_t n, size_t fi, int *first)
{
    const mk_state_file *sf = &run->state_files[fi];
    for (size_t i = 0; i < n; i++) {
        if (c[i].state_staged && c[i].state_file == fi) {
            size_t k;
            for (k = 0; k < sf->n && strcmp(sf->names[k], c[i].step->name) != 0; k++)
                ;
            if (k == sf->n)
                put_entry(f, c[i].step->name, c[i].state_staged, first);
        }
        if (c[i].chain)
            put_new(f, run, c[i].chain, c[i].step->chain_len, fi, first);
    }
}

static void write_state(mk_outfile *f, mk_run *run, size_t fi)
{
    const mk_state_file *sf = &run->state_files[fi];
    char when[32];
    struct tm tm;
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    mk_outfile_puts(f, "{\n  \"format\": \"" STATE_FORMAT "\",\n  \"pipeline\": ");
    mk_json_write_string(f, run->p->name, strlen(run->p->name), MK_JSON_REPLACE, NULL);
    mk_outfile_puts(f, ",\n  \"saved\": \"");
    mk_outfile_puts(f, when);
    mk_outfile_puts(f, "\",\n  \"steps\": {");
    int first = 1;
    for (size_t i = 0; i < sf->n; i++) {
        const char *v = staged_value(run, fi, sf->names[i]);
        put_entry(f, sf->names[i], v ? v : sf->values[i], &first);
    }
    put_new(f, run, run->sources, run->p->nsources, fi, &first);
    put_new(f, run, run->transforms, run->p->ntransforms, fi, &first);
    put_new(f, run, run->sinks, run->p->nsinks, fi, &first);
    mk_outfile_puts(f, first ? "}\n}\n" : "\n  }\n}\n");
}

int mk_state_save(mk_run *run)
{
    if (run->state_refused)
        return MK_ERROR; /* the cause is the run's failure already */
    if (run->o->no_run_folder)
        return MK_OK;
    for (size_t i = 0; i < run->nstate_files; i++) {
        mk_state_file *sf = &run->state_files[i];
        if (!sf->staged)
            continue;
        char err[1024];
        mk_outfile *f = mk_outfile_open(sf->path, err, sizeof err);
        if (!f)
            return mk_run_fail(run, "cannot save the state: %s", err);
        write_state(f, run, i);
        size_t before = run->npub;
        if (mk_publish_outfile(run, f, "the state file", err, sizeof err) != MK_OK)
            return mk_run_fail(run, "cannot save the state: %s", err);
        mk_publish_kind(run, before, "state");
    }
    return MK_OK;
}

void mk_state_free(mk_run *run)
{
    for (size_t i = 0; i < run->nstate_files; i++) {
        mk_state_file *sf = &run->state_files[i];
        for (size_t k = 0; k < sf->n; k++) {
            free(sf->names[k]);
            free(sf->values[k]);
        }
        free(sf->names);
        free(sf->values);
        free(sf->path);
    }
    free(run->state_files);
    run->state_files = NULL;
    run->nstate_files = 0;
}
