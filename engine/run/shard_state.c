/*
 * shard_state.c -- incremental: true in sharded runs (see shard.h and
 * docs/SCALE.md): the plan reads what one run would read now, the shards
 * read it without the pipeline's state, the merge writes the state one run
 * would have written, in the publish set of the outputs it describes.
 *
 *   plan   reads the csv source's saved state (the pipeline's state file,
 *          or the step's own `state:` file) and decides file by file with
 *          the csv source's own code (plugins/csv/csv_state.c, compiled in
 *          here too): unchanged files are left out, files that grew are read
 *          from where they ended, others whole.  The plan keeps the marks
 *          of the unchanged files, the files to read in one run's order,
 *          where each goes on (with its SHA-256 state so far) and a hash of
 *          the state it started from.
 *   shard  gets its files (shard_files, shard_parts, shard_resume) or its
 *          range (shard_range, and shard_sha256 for the shard whose range
 *          ends the file: the plan hashed the file while it looked for
 *          record boundaries) and keeps its state in its own folder; the
 *          steps' `state:` files are not used (nor locked) by shards.
 *   merge  joins the marks in one run's order -- unchanged files first,
 *          then the files read, shard by shard -- checks that the
 *          pipeline's state is still the one the plan started from (or
 *          already the one this merge writes: a merge run again), and
 *          stages it; mk_state_save puts it into the publish set.
 *
 * The state thus advances with the merged outputs or not at all.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../plugins/csv/csv_state.h"
#include "log.h"
#include "run_internal.h"
#include "shard.h"
#include "util/json.h"
#include "util/path.h"
#include "util/textout.h"

struct mk_shard_inc {
    char **paths;         /* the files one run reads now, in its order */
    csv_resume *resume;   /* per path: where it goes on (offset 0: whole) */
    size_t n;
    size_t unchanged, grown;
    char *marks;          /* the unchanged files' marks: {"files": [...]} */
    char start[65];       /* SHA-256 of the saved value, or "none" */
    csv_sha256 sha;       /* ranges: the one file's hash, as the plan reads it */
    int hashing;
};

int mk_shard_incremental(const mk_step *src)
{
    const mk_optval *ov = mk_step_option(src, "incremental");
    const char *v = ov && ov->value ? ov->value : "";
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
           strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0;
}

/* ---- reading a state file ---------------------------------------------------- */

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)))
        *len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* The value step saved in state file path (malloc'd), NULL when none;
 * -1 in *bad when the file is not a state file. */
static char *saved_value(const char *path, const char *step, int *bad)
{
    size_t len = 0;
    *bad = 0;
    char *text = read_text(path, &len), *value = NULL;
    if (!text) {
        *bad = errno != ENOENT;
        return NULL;
    }
    const char *end = text + len, *p = mk_json_ws(text, end), *k, *v, *ve;
    int rc = p && *p == '{' ? 1 : -1;
    while (rc == 1 && (rc = mk_json_object_next(&p, end, &k, &v, &ve)) == 1) {
        if (ve - k < 7 || memcmp(k, "\"steps\"", 7) != 0 || *v != '{')
            continue;
        const char *q = v, *sk, *sv, *sve;
        while (!value && mk_json_object_next(&q, ve, &sk, &sv, &sve) == 1) {
            char *name = mk_json_string_decode(sk, mk_json_skip_string(sk, ve));
            if (name && strcmp(name, step) == 0)
                value = strndup(sv, (size_t)(sve - sv));
            free(name);
        }
    }
    *bad = rc < 0;
    free(text);
    return value;
}

/* The file the step's state is kept in (malloc'd), as a run reads it. */
static char *state_file_of(const mk_pipeline *p, const mk_step *s)
{
    if (s->state_path)
        return strdup(s->state_path);
    char *dir = mk_run_dir(p), *path = dir ? mk_path_join(dir, "state.json") : NULL;
    free(dir);
    return path;
}

static void hash_text(const char *value, char out[65])
{
    csv_sha256 s;
    if (!value) {
        snprintf(out, 65, "none");
        return;
    }
    csv_sha256_init(&s);
    csv_sha256_update(&s, value, strlen(value));
    csv_sha256_hex(&s, out);
}

char *mk_shard_saved_state(const mk_pipeline *p, char start[65], char *msg, size_t len,
                           int *failed)
{
    const mk_step *src = &p->sources[0];
    char *file = state_file_of(p, src);
    int bad = 0;
    char *value = file ? saved_value(file, src->name, &bad) : NULL;
    *failed = !file || bad;
    if (!file)
        snprintf(msg, len, "out of memory");
    else if (bad)
        snprintf(msg, len, "state file %s cannot be read or is not a mekong state file: repair "
                 "it, or clear it with 'mekong state --reset'", file);
    hash_text(value, start);
    free(file);
    if (*failed) {
        free(value);
        return NULL;
    }
    return value;
}

void mk_shard_state_hash(const char *value, char out[65])
{
    hash_text(value, out);
}

/* ---- the plan ------------------------------------------------------------------ */

void mk_shard_inc_free(mk_shard_inc *inc)
{
    if (!inc)
        return;
    free(inc->paths);
    free(inc->resume);
    free(inc->marks);
    free(inc);
}

/* Decide, file by file of g, as the csv source does at the start of a run. */
static int decide(mk_shard_inc *inc, csv_increment *ci, const mk_pipeline *p, const glob_t *g,
                  char *msg, size_t len)
{
    char why[1024];
    for (size_t i = 0; i < g->gl_pathc; i++) {
        char *file = g->gl_pathv[i];
        char *key = csv_state_key(p->dir, file);
        int read_it;
        csv_resume *r = &inc->resume[inc->n];
        if (!key || csv_inc_decide(ci, key, file, &read_it, r, why, sizeof why) != 0) {
            free(key);
            snprintf(msg, len, "out of memory");
            return -1;
        }
        free(key);
        if (why[0])
            mk_log(MK_LOG_WARN, "%s", why);
        if (read_it)
            inc->paths[inc->n++] = file;
        else
            inc->unchanged++;
        inc->grown += read_it && r->offset;
    }
    return 0;
}

mk_shard_inc *mk_shard_inc_choose(const mk_pipeline *p, const glob_t *g, char *msg, size_t len)
{
    const mk_step *src = &p->sources[0];
    mk_shard_inc *inc = calloc(1, sizeof(*inc));
    char *file = state_file_of(p, src);
    int bad = 0;
    char *value = file ? saved_value(file, src->name, &bad) : NULL;
    csv_increment ci;
    memset(&ci, 0, sizeof ci);
    int rc = -1;
    if (!inc || !file || !(inc->paths = calloc(g->gl_pathc + 1, sizeof(char *))) ||
        !(inc->resume = calloc(g->gl_pathc + 1, sizeof(csv_resume))))
        snprintf(msg, len, "out of memory");
    else if (bad)
        snprintf(msg, len, "state file %s cannot be read or is not a mekong state file: repair "
                 "it, or clear it with 'mekong state --reset'", file);
    else if (csv_inc_load(&ci, value, msg, len) == 0 && decide(inc, &ci, p, g, msg, len) == 0)
        rc = (inc->marks = csv_inc_json(&ci)) ? 0 : (snprintf(msg, len, "out of memory"), -1);
    if (inc)
        hash_text(value, inc->start);
    if (rc == 0)
        mk_log(MK_LOG_INFO, "%s: incremental: %zu file(s) to read (%zu grown), %zu unchanged",
               p->name, inc->n, inc->grown, inc->unchanged);
    csv_inc_free(&ci);
    free(value);
    free(file);
    if (rc != 0) {
        mk_shard_inc_free(inc);
        return NULL;
    }
    return inc;
}

char *const *mk_shard_inc_paths(const mk_shard_inc *inc, size_t *n)
{
    *n = inc->n;
    return inc->paths;
}

uint64_t mk_shard_inc_start(mk_shard_inc *inc, size_t i, uint64_t *line, uint64_t *records)
{
    const csv_resume *r = &inc->resume[i];
    *line = r->offset ? r->line : 1;
    *records = r->offset ? r->record : 0;
    inc->sha = r->sha; /* the hash of the bytes before the offset */
    if (!r->offset)
        csv_sha256_init(&inc->sha);
    inc->hashing = 1;
    return r->offset;
}

void mk_shard_inc_hash(mk_shard_inc *inc, const void *p, size_t n)
{
    if (inc && inc->hashing)
        csv_sha256_update(&inc->sha, p, n);
}

void mk_shard_inc_put(mk_outfile *f, const mk_pipeline *p, const mk_shard_inc *inc)
{
    mk_outfile_puts(f, ",\n  \"incremental\": {\"start\": ");
    mk_json_put_str(f, inc->start);
    mk_outfile_puts(f, ", \"unchanged\": ");
    mk_json_put_u64(f, inc->unchanged);
    mk_outfile_puts(f, ", \"grown\": ");
    mk_json_put_u64(f, inc->grown);
    mk_outfile_puts(f, ",\n    \"read\": [");
    for (size_t i = 0; i < inc->n; i++) {
        mk_outfile_puts(f, i ? ", " : "");
        mk_shard_put_file(f, p, inc->paths[i]);
    }
    mk_outfile_puts(f, "],\n    \"marks\": ");
    mk_outfile_puts(f, inc->marks);
    mk_outfile_puts(f, "}");
}

void mk_shard_inc_put_resume(mk_outfile *f, const mk_shard_inc *inc, size_t first, size_t end)
{
    mk_outfile_puts(f, ", \"resume\": [");
    for (size_t i = first; i < end; i++) {
        const csv_resume *r = &inc->resume[i];
        mk_outfile_puts(f, i > first ? ", \"" : "\"");
        if (r->offset) {
            char hash[CSV_SHA256_TEXT], head[96];
            csv_sha256_save(&r->sha, hash);
            snprintf(head, sizeof head, "%" PRIu64 " %" PRIu64 " %" PRIu64 " ", r->offset,
                     r->line, r->record);
            mk_outfile_puts(f, head);
            mk_outfile_puts(f, hash);
        } else {
            mk_outfile_puts(f, "-");
        }
        mk_outfile_puts(f, "\"");
    }
    mk_outfile_puts(f, "]");
}

void mk_shard_inc_put_ranges(mk_outfile *f, mk_shard_inc *inc, int mark_shard)
{
    char hex[65];
    csv_sha256_hex(&inc->sha, hex);
    mk_outfile_puts(f, ",\n  \"sha256\": ");
    mk_json_put_str(f, hex);
    mk_outfile_puts(f, ", \"mark_shard\": ");
    mk_json_put_u64(f, (uint64_t)mark_shard);
}

/* ---- a shard --------------------------------------------------------------------- */

static mk_optval *option(mk_step *s, const char *name)
{
    for (size_t i = 0; i < s->opts.count; i++)
        if (strcmp(s->opts.v[i].decl->name, name) == 0)
            return &s->opts.v[i];
    return NULL;
}

/* List option name of s := the strings of JSON array [a, ae) (joined to
 * dir when dir is given). */
static int set_list(mk_step *s, const char *name, const char *a, const char *ae, const char *dir)
{
    mk_optval *ov = option(s, name);
    const char *v, *ve, *p = a ? mk_json_ws(a, ae) : NULL;
    if (!ov || !p || *p != '[') {
        mk_log(MK_LOG_ERROR, "source %s: cannot set %s (a csv plugin older than the engine, or "
               "not a plan of this mekong)", s->name, name);
        return -1;
    }
    while (mk_json_array_next(&p, ae, &v, &ve) == 1) {
        char **grown = realloc(ov->values, (ov->count + 1) * sizeof(char *));
        char *text = grown ? mk_json_string_decode(v, ve) : NULL;
        if (grown)
            ov->values = grown;
        char *value = text && dir ? mk_path_join(dir, text) : text;
        if (value != text)
            free(text);
        if (!value)
            return -1;
        ov->values[ov->count++] = value;
    }
    ov->set = 1;
    return 0;
}

static int set_scalar(mk_step *s, const char *name, const char *value)
{
    mk_optval *ov = option(s, name);
    char *copy = value ? strdup(value) : NULL;
    if (!ov || !copy) {
        free(copy);
        return -1;
    }
    free(ov->value);
    ov->value = copy;
    ov->set = 1;
    return 0;
}

int mk_shard_inc_matches(const mk_pipeline *p, const char *plan, size_t len)
{
    const char *ie;
    int planned = mk_shard_member(plan, plan + len, "incremental", &ie) != NULL;
    if (planned == mk_shard_incremental(&p->sources[0]))
        return 1;
    mk_log(MK_LOG_ERROR, "%s: the shard plan was made %s incremental: true, the pipeline %s it "
           "now: make the plan again", p->name, planned ? "with" : "without",
           planned ? "does not have" : "has");
    return 0;
}

int mk_shard_inc_point(mk_pipeline *p, const char *plan, size_t len, const char *part,
                       const char *part_end, int k)
{
    mk_step *src = &p->sources[0];
    const char *end = plan + len, *ie, *inc = mk_shard_member(plan, end, "incremental", &ie);
    const char *re, *read = inc ? mk_shard_member(inc, ie, "read", &re) : NULL;
    const char *me, *mode = mk_shard_member(plan, end, "mode", &me);
    if (!read || !mode) {
        mk_log(MK_LOG_ERROR, "the shard plan has no incremental part: make it again with this "
               "mekong (mekong plan)");
        return -1;
    }
    if (set_list(src, "shard_parts", read, re, p->dir) != 0)
        return -1;
    if (strncmp(mode, "\"files\"", 7) == 0) {
        const char *xe, *x = mk_shard_member(part, part_end, "resume", &xe);
        return set_list(src, "shard_resume", x, xe, NULL);
    }
    /* a range of the one file read: the file too, and its hash to the shard that ends it */
    if (set_list(src, "shard_files", read, re, p->dir) != 0)
        return -1;
    if ((int)mk_shard_member_num(plan, end, "mark_shard") != k)
        return 0;
    const char *he, *h = mk_shard_member(plan, end, "sha256", &he);
    char *hash = h ? mk_json_string_decode(h, he) : NULL;
    int rc = set_scalar(src, "shard_sha256", hash);
    free(hash);
    return rc;
}

static void forget_state_paths(mk_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].state_path);
        steps[i].state_path = NULL;
        forget_state_paths(steps[i].chain, steps[i].chain_len);
    }
}

void mk_shard_inc_own_state(mk_pipeline *p)
{
    forget_state_paths(p->sources, p->nsources);
    forget_state_paths(p->transforms, p->ntransforms);
    forget_state_paths(p->sinks, p->nsinks);
}

/* ---- the merge ------------------------------------------------------------------ */

/* Marks of the saved value text onto all. */
static int add_marks(csv_increment *all, const char *text, char *err, size_t len)
{
    csv_increment one;
    if (csv_inc_load(&one, text, err, len) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < one.nsaved; i++)
        rc = csv_inc_loaded(all, &one.saved[i]);
    csv_inc_free(&one);
    if (rc)
        snprintf(err, len, "out of memory");
    return rc;
}

/* The value one run would have staged: the plan's marks, then each shard's. */
static char *joined_value(const mk_pipeline *p, const char *dir, const char *id, int shards,
                          const char *marks, char *err, size_t len)
{
    csv_increment all;
    memset(&all, 0, sizeof all);
    int rc = add_marks(&all, marks, err, len);
    for (int k = 0; rc == 0 && k < shards; k++) {
        char sub[64];
        snprintf(sub, sizeof sub, "shard-%d/run/state.json", k);
        char *base = mk_path_join(dir, id), *path = base ? mk_path_join(base, sub) : NULL;
        int bad = 0;
        char *value = path ? saved_value(path, p->sources[0].name, &bad) : NULL;
        if (!value) {
            snprintf(err, len, "shard %d kept no state (%s): run it again", k, path ? path : sub);
            rc = -1;
        } else {
            rc = add_marks(&all, value, err, len);
        }
        free(value);
        free(path);
        free(base);
    }
    char *json = rc == 0 ? csv_inc_json(&all) : NULL;
    if (rc == 0 && !json)
        snprintf(err, len, "out of memory");
    csv_inc_free(&all);
    return json;
}

/* The plan's count of key into the source's report (shards count 0, or
 * their own files). */
static void set_count(mk_context *c, const char *key, int64_t v)
{
    for (size_t i = 0; i < c->report_count; i++)
        if (strcmp(c->report_keys[i], key) == 0 && c->report_is_number[i])
            c->report_numbers[i] = v;
}

int mk_shard_inc_merge(mk_run *run, const char *dir, const char *id, int shards,
                       const char *plan, size_t len)
{
    const mk_pipeline *p = run->p;
    if (!mk_shard_incremental(&p->sources[0]))
        return MK_OK;
    const char *end = plan + len, *ie, *inc = mk_shard_member(plan, end, "incremental", &ie);
    const char *me, *marks = inc ? mk_shard_member(inc, ie, "marks", &me) : NULL;
    char *start = inc ? mk_shard_member_str(inc, ie, "start") : NULL;
    char *marks_text = marks ? strndup(marks, (size_t)(me - marks)) : NULL;
    char err[1024] = "out of memory", now[65];
    char *value = marks_text && start ? joined_value(p, dir, id, shards, marks_text, err,
                                                     sizeof err)
                                      : NULL;
    int rc = MK_ERROR;
    if (!inc)
        mk_run_fail(run, "the shard plan has no incremental part: make it again");
    else if (!value)
        mk_run_fail(run, "cannot join the shards' state: %s", err);
    else if (mk_state_open(run) == MK_OK) {
        const char *saved = mk_host_state_get(&run->sources[0]);
        hash_text(saved, now);
        if (strcmp(now, start) != 0 && !(saved && strcmp(saved, value) == 0))
            mk_run_fail(run, "the state of source %s changed since the plan was made (a run or "
                        "the merge of another plan advanced it): make the plan again, and run "
                        "its shards", p->sources[0].name);
        else
            rc = mk_host_state_set(&run->sources[0], value);
    }
    if (rc == MK_OK) {
        set_count(&run->sources[0], "files_unchanged",
                  (int64_t)mk_shard_member_num(inc, ie, "unchanged"));
        set_count(&run->sources[0], "files_grown", (int64_t)mk_shard_member_num(inc, ie, "grown"));
        const char *re, *read = mk_shard_member(inc, ie, "read", &re), *v, *ve;
        const char *q = read ? mk_json_ws(read, re) : NULL;
        int64_t n = 0;
        if (q && *q == '[')
            while (mk_json_array_next(&q, re, &v, &ve) == 1)
                n++;
        set_count(&run->sources[0], "files_read", n);
    }
    free(value);
    free(marks_text);
    free(start);
    return rc;
}
