/*
 * datapackage.c -- the datapackage sink: an exchange-ready Frictionless
 * Data Package (v2) folder.
 *
 *   - plugin: datapackage
 *     path: out/ho_tich_2025          # the folder
 *     name: ho-tich-2025
 *     title: "Đăng ký hộ tịch 2025"
 *     licenses: [CC-BY-4.0]
 *     sources: { hanoi: "Sở Tư pháp Hà Nội" }
 *     contributors: { "Nhóm dữ liệu": author }
 *     schema: people.schema.json       # else inferred from the column types
 *     jsonl: true                      # the rows as JSON Lines too
 *
 * The folder holds datapackage.json and the data files (data.csv, and
 * data.jsonl); each resource has path, format, mediatype, encoding, bytes,
 * hash (sha256, nettle), stats.rows, schema and dialect.  The run's own
 * files follow as further resources (rejects: false / report: false leave
 * them out): once every sink closed and the rejects file and the reports
 * are complete, the host calls back (mk_host.before_publish); the sink
 * copies them into its temporary folder (beside the final one, named by
 * mkk_temp_name, so that the engine removes those of dead runs) as
 * further files (rejects.csv or rejects.jsonl with a schema
 * of its columns, report.json, report.html), writes datapackage.json and
 * hands the folder to the run's publish set (mk_host.publish_path), which
 * puts it in place together with every other output: readers see the whole
 * set or none of it, and a failed run leaves the previous package.
 *
 * Trade-off: the data files are written through the sink's own buffer,
 * which also feeds the sha256 and the byte count, so nothing is read back
 * at the end; the run's own files are copied (read once, hashed while
 * copying) so that the package is self-contained: Data Package paths stay
 * inside the package's folder.  With a host older than 1.2 the package
 * has no run files and is renamed into place in close (dp_publish_folder).
 * In shards a shard writes only its data files and part.json, and the
 * merge's package is made from the joined files (dp_shard.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dp_plugin.h"
#include "mekong.h"
#include "mekong_kit.h"
#include "ts_json.h"

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "the package folder (appears whole when the run succeeds)"},
    {"name", MK_OPT_STRING, 0, NULL, "package name: lower case, digits, '-', '_', '.' "
                                     "(default: the folder's name)"},
    {"title", MK_OPT_STRING, 0, NULL, "package title"},
    {"description", MK_OPT_STRING, 0, NULL, "package description"},
    {"version", MK_OPT_STRING, 0, NULL, "package version (semantic: 1.0.0)"},
    {"licenses", MK_OPT_LIST, 0, NULL, "license names (SPDX: CC-BY-4.0, ODC-PDDL-1.0)"},
    {"sources", MK_OPT_MAP, 0, NULL, "every input and its agency: { source step: agency }"},
    {"contributors", MK_OPT_MAP, 0, NULL, "{ name: role } (author, publisher, maintainer...)"},
    {"resource", MK_OPT_STRING, 0, "data", "the data resource's name (and file name)"},
    {"schema", MK_OPT_PATH, 0, NULL,
     "the Table Schema of the rows (JSON or YAML); default: inferred from the column types"},
    {"jsonl", MK_OPT_BOOL, 0, "false", "also write the rows as JSON Lines (a second resource)"},
    {"canonical", MK_OPT_BOOL, 0, "false",
     "the rows come from schema with canonical: true: describe the declared schema in "
     "canonical form (no type options or date patterns, constraint values canonical)"},
    {"rejects", MK_OPT_BOOL, 0, "true",
     "the run's rejects file as a further resource of the package (a copy inside the folder)"},
    {"report", MK_OPT_BOOL, 0, "true",
     "the run's report (JSON, and HTML when html_report: is set) as further resources"},
    /* set by mekong run --shard and mekong merge (dp_shard.c, docs/SCALE.md) */
    {"shard_part", MK_OPT_BOOL, 0, "false",
     "a shard's part: the folder holds the data files and part.json (rows, columns, sources), "
     "no datapackage.json and no copies of the run's files"},
    {"shard_joined", MK_OPT_LIST, 0, NULL,
     "the merge: the shards' data parts joined in plan order (the CSV file, then the JSON Lines "
     "file when jsonl: true), moved into the package and hashed instead of rows written"},
    {"shard_parts", MK_OPT_LIST, 0, NULL,
     "with shard_joined: every shard's part folder, in plan order (their part.json files)"},
    {NULL, 0, 0, NULL, NULL},
};

/* ---- data files: buffered, counted and hashed ------------------------ */

enum { OUT_BUF = 256 * 1024 };

static int out_flush(dp_out *o)
{
    if (!o->len || o->failed)
        return o->failed ? -1 : 0;
    if (!o->unhashed)
        sha256_update(&o->sha, o->len, (const uint8_t *)o->buf);
    o->bytes += o->len;
    size_t off = 0;
    while (off < o->len) {
        ssize_t w = write(o->fd, o->buf + off, o->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            o->failed = errno;
            return -1;
        }
        off += (size_t)w;
    }
    o->len = 0;
    return 0;
}

int dp_put(dp_out *o, const char *p, size_t n)
{
    while (n) {
        if (o->len == OUT_BUF && out_flush(o) != 0)
            return -1;
        size_t k = OUT_BUF - o->len < n ? OUT_BUF - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
    return 0;
}

int dp_out_open(dp_out *o, const char *dir, const char *file)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, file);
    snprintf(o->file, sizeof o->file, "%s", file);
    o->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    o->buf = malloc(OUT_BUF);
    sha256_init(&o->sha);
    return o->fd >= 0 && o->buf ? 0 : -1;
}

/* Flush, fsync and close; the hex sha256 into o->hex.  0 or -1. */
int dp_out_close(dp_out *o)
{
    int rc = out_flush(o);
    if (o->fd >= 0 && fsync(o->fd) != 0 && !o->failed)
        o->failed = errno, rc = -1;
    if (o->fd >= 0 && close(o->fd) != 0 && !o->failed)
        o->failed = errno, rc = -1;
    o->fd = -1;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&o->sha, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        sprintf(o->hex + 2 * i, "%02x", d[i]);
    free(o->buf);
    o->buf = NULL;
    return rc;
}

/* ---- rows ------------------------------------------------------------- */

/* One CSV field, RFC 4180: NULL as nothing, "" as "", quoted when it holds
 * the delimiter, a quote, CR or LF. */
static int csv_field(dp_out *o, const mk_value *v)
{
    if (!v->ptr)
        return 0;
    int quote = v->len == 0;
    for (size_t i = 0; i < v->len && !quote; i++)
        quote = v->ptr[i] == ',' || v->ptr[i] == '"' || v->ptr[i] == '\r' || v->ptr[i] == '\n';
    if (!quote)
        return dp_put(o, v->ptr, v->len);
    int rc = dp_put(o, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < v->len; i++)
        if (v->ptr[i] == '"') {
            rc |= dp_put(o, v->ptr + start, i + 1 - start) | dp_put(o, "\"", 1);
            start = i + 1;
        }
    return rc | dp_put(o, v->ptr + start, v->len - start) | dp_put(o, "\"", 1);
}

static int json_string(dp_out *o, const char *p, size_t n)
{
    int rc = dp_put(o, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[8];
        int k = c == '"' ? snprintf(esc, sizeof esc, "\\\"")
                : c == '\\' ? snprintf(esc, sizeof esc, "\\\\")
                : c == '\n' ? snprintf(esc, sizeof esc, "\\n")
                            : snprintf(esc, sizeof esc, "\\u%04x", c);
        rc |= dp_put(o, p + start, i - start) | dp_put(o, esc, (size_t)k);
        start = i + 1;
    }
    return rc | dp_put(o, p + start, n - start) | dp_put(o, "\"", 1);
}

static int write_header(dp_sink *s)
{
    int rc = 0;
    for (size_t c = 0; c < s->columns->ncols; c++) {
        mk_value v = {s->columns->names[c], strlen(s->columns->names[c])};
        rc |= (c ? dp_put(&s->csv, ",", 1) : 0) | csv_field(&s->csv, &v);
    }
    return rc | dp_put(&s->csv, "\n", 1);
}

static int write_row(dp_sink *s, const mk_batch *b, size_t r, const long *col)
{
    int rc = 0;
    static const mk_value null = {NULL, 0};
    for (size_t c = 0; c < s->columns->ncols; c++) {
        const mk_value *v = col[c] >= 0 ? &MK_CELL(b, r, col[c]) : &null;
        rc |= (c ? dp_put(&s->csv, ",", 1) : 0) | csv_field(&s->csv, v);
    }
    rc |= dp_put(&s->csv, "\n", 1);
    if (!s->jsonl_on)
        return rc;
    for (size_t c = 0; c < s->columns->ncols; c++) {
        const mk_value *v = col[c] >= 0 ? &MK_CELL(b, r, col[c]) : &null;
        rc |= dp_put(&s->jsonl, c ? "," : "{", 1) |
              json_string(&s->jsonl, s->columns->names[c], strlen(s->columns->names[c])) |
              dp_put(&s->jsonl, ":", 1) |
              (v->ptr ? json_string(&s->jsonl, v->ptr, v->len) : dp_put(&s->jsonl, "null", 4));
    }
    return rc | dp_put(&s->jsonl, s->columns->ncols ? "}\n" : "{}\n", s->columns->ncols ? 2 : 3);
}

/* Where each row came from: the source step (and its file) of every batch
 * are noted, one host call per change of source or part. */
static void note_sources(dp_sink *s, const mk_batch *b)
{
    if (!MK_HOST_HAS(s->host, row_origin))
        return;
    for (size_t r = 0; r < b->nrows; r++) {
        const mk_rowinfo *in = &b->info[r];
        if (r && in->source == b->info[r - 1].source && in->part == b->info[r - 1].part)
            continue;
        mk_origin o;
        if (s->host->row_origin(s->ctx, b, r, &o) == MK_OK && o.source)
            dp_note_source(s, o.source, o.file);
    }
}

static int dp_write(void *state, const mk_batch *b)
{
    dp_sink *s = state;
    if (!s->columns) {
        s->columns = b->schema;
        const char *const *names = (const char *const *)b->schema->names;
        if (!(s->map = mkk_colmap_new(s->host, names, b->schema->ncols)))
            return MK_NOMEM;
        if (dp_check_declared(s) != MK_OK)
            return MK_ERROR;
        if (write_header(s) != 0)
            return dp_write_failed(s, &s->csv);
    }
    const long *col = mkk_colmap_get(s->map, b->schema);
    if (!col)
        return MK_NOMEM;
    long extra = mkk_colmap_unwanted(s->map, b->schema);
    if (extra >= 0) {
        s->host->error(s->ctx, "a batch has the column '%s', which the package's resource does "
                               "not (its columns come from the first batch)",
                       b->schema->names[extra]);
        return MK_ERROR;
    }
    note_sources(s, b);
    int checked = s->host->batch_text_checked(s->ctx, b);
    for (size_t r = 0; r < b->nrows; r++) {
        if (!checked) {
            int rej = mkk_utf8_reject_row(s->host, s->ctx, b, r, "datapackage.invalid_utf8");
            if (rej < 0)
                return rej;
            if (rej)
                continue;
        }
        if (write_row(s, b, r, col) != 0)
            return dp_write_failed(s, s->csv.failed ? &s->csv : &s->jsonl);
        s->rows++;
    }
    return MK_OK;
}

int dp_write_failed(dp_sink *s, const dp_out *o)
{
    s->host->error(s->ctx, "cannot write %s: %s", o->path, strerror(o->failed ? o->failed : EIO));
    return MK_ERROR;
}

/* ---- open and close ---------------------------------------------------------- */

static int dp_open(mk_context *ctx, const mk_host *host, void **state)
{
    dp_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    s->csv.fd = s->jsonl.fd = -1;
    s->jsonl_on = host->opt_bool(ctx, "jsonl");
    s->with_rejects = host->opt_bool(ctx, "rejects");
    s->with_report = host->opt_bool(ctx, "report");
    s->final = host->opt_string(ctx, "path");
    if (dp_read_metadata(s) != MK_OK)
        return MK_ERROR;
    if ((s->with_rejects && strcmp(s->resource, "rejects") == 0) ||
        (s->with_report && (strcmp(s->resource, "report") == 0 ||
                            strcmp(s->resource, "report-html") == 0))) {
        host->error(ctx, "resource: '%s' is the name of the run's own %s resource: choose "
                         "another name, or set %s: false",
                    s->resource, s->resource[2] == 'j' ? "rejects" : "report",
                    s->resource[2] == 'j' ? "rejects" : "report");
        return MK_ERROR;
    }
    /* .NAME.tmp-PID-START-XXXXXX: the engine removes those of dead runs */
    char *t = mkk_temp_name(s->final);
    if (!t)
        return MK_NOMEM;
    snprintf(s->tmp, sizeof s->tmp, "%s", t);
    free(t);
    if (dp_make_parents(s->final) != 0 || !mkdtemp(s->tmp)) {
        host->error(ctx, "cannot create a folder beside %s: %s", s->final, strerror(errno));
        s->tmp[0] = '\0';
        return MK_ERROR;
    }
    mode_t mask = umask(0);
    umask(mask);
    chmod(s->tmp, 0755 & ~mask); /* mkdtemp's 0700 would travel with the package */
    s->shard_part = host->opt_bool(ctx, "shard_part");
    s->csv.unhashed = s->jsonl.unhashed = s->shard_part; /* part.json has no hashes */
    if (host->opt_count(ctx, "shard_joined"))
        return dp_shard_adopt(s); /* the merge: the data files are the shards' */
    char file[300];
    snprintf(file, sizeof file, "%s.csv", s->resource);
    if (dp_out_open(&s->csv, s->tmp, file) != 0) {
        host->error(ctx, "cannot create %s: %s", s->csv.path, strerror(errno));
        return MK_ERROR;
    }
    snprintf(file, sizeof file, "%s.jsonl", s->resource);
    if (s->jsonl_on && dp_out_open(&s->jsonl, s->tmp, file) != 0) {
        host->error(ctx, "cannot create %s: %s", s->jsonl.path, strerror(errno));
        return MK_ERROR;
    }
    return MK_OK;
}

/* Make the package visible: the temporary folder becomes the final one in
 * one rename (an earlier package is swapped out atomically, then removed).
 * The one publishing step of the sink: a publish set can call it later. */
int dp_publish_folder(const char *tmp, const char *final, char *err, size_t errlen)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return dp_sync_parent(final);
    if (errno != EEXIST) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
        return -1;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0) {
        snprintf(err, errlen, "cannot swap %s and %s: %s", tmp, final, strerror(errno));
        return -1;
    }
    dp_remove_tree(tmp); /* now the previous package */
    return dp_sync_parent(final);
}

/* ---- the run's own files and the end --------------------------------------- */

/* Copy the file at path into the package folder as file, counting and
 * hashing on the way (the original stays where the run publishes it). */
int dp_copy_in(dp_sink *s, dp_out *o, const char *path, const char *file)
{
    if (dp_out_open(o, s->tmp, file) != 0) {
        s->host->error(s->ctx, "cannot create %s: %s", o->path, strerror(errno));
        return MK_ERROR;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s->host->error(s->ctx, "cannot read %s: %s", path, strerror(errno));
        return MK_ERROR;
    }
    ssize_t n;
    while ((n = read(fd, o->buf, OUT_BUF)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s->host->error(s->ctx, "cannot read %s: %s", path, strerror(errno));
            close(fd);
            return MK_ERROR;
        }
        o->len = (size_t)n;
        if (out_flush(o) != 0)
            break;
    }
    close(fd);
    return dp_out_close(o) == 0 ? MK_OK : dp_write_failed(s, o);
}

/* The rejects file and the reports the options ask for, as resources. */
static int add_run_files(dp_sink *s, const mk_run_file *files, size_t n)
{
    for (size_t i = 0; i < n && s->nrunfiles < sizeof s->runfiles / sizeof *s->runfiles; i++) {
        const mk_run_file *f = &files[i];
        int rejects = strcmp(f->kind, "rejects") == 0;
        if (!(rejects ? s->with_rejects : s->with_report))
            continue;
        dp_runfile *rf = &s->runfiles[s->nrunfiles++];
        rf->out.fd = -1;
        rf->kind = f->kind;
        rf->format = f->format;
        rf->columns = f->columns;
        rf->rows = f->rows;
        rf->mediatype = strcmp(f->format, "csv") == 0     ? "text/csv"
                        : strcmp(f->format, "jsonl") == 0 ? "application/x-ndjson"
                        : strcmp(f->format, "json") == 0  ? "application/json"
                                                          : "text/html";
        char file[64];
        snprintf(file, sizeof file, "%s.%s", rejects ? "rejects" : "report",
                 strcmp(f->kind, "report-html") == 0 ? "html" : f->format);
        if (dp_copy_in(s, &rf->out, f->path, file) != MK_OK)
            return MK_ERROR;
    }
    return MK_OK;
}

/* datapackage.json (a shard's part: part.json), then the folder into the
 * run's publish set (or, with a host older than 1.2, renamed into place at
 * once). */
static int finish_package(dp_sink *s)
{
    int rc = s->shard_part ? dp_shard_write_part(s) : dp_write_descriptor(s);
    if (rc != MK_OK)
        return rc;
    if (MK_HOST_HAS(s->host, publish_path)) {
        rc = s->host->publish_path(s->ctx, s->tmp, s->final);
        if (rc == MK_OK)
            s->tmp[0] = '\0'; /* the host's now */
        return rc;
    }
    char err[1024];
    if (dp_publish_folder(s->tmp, s->final, err, sizeof err) != 0) {
        s->host->error(s->ctx, "%s", err);
        return MK_ERROR;
    }
    s->tmp[0] = '\0';
    return MK_OK;
}

static void dp_free(dp_sink *s)
{
    if (s->tmp[0])
        dp_remove_tree(s->tmp);
    for (size_t i = 0; i < s->nrunfiles; i++)
        free(s->runfiles[i].out.buf);
    mkk_colmap_free(s->map);
    dp_free_metadata(s);
    dp_shard_free(s);
    free(s->csv.buf);
    free(s->jsonl.buf);
    free(s);
}

/* mk_host.before_publish: the rejects and reports are complete now. */
static int dp_before_publish(void *arg, int commit, const mk_run_file *files, size_t n)
{
    dp_sink *s = arg;
    int rc = commit ? add_run_files(s, files, n) : MK_OK;
    if (commit && rc == MK_OK)
        rc = finish_package(s);
    dp_free(s);
    return rc;
}

static int dp_close(void *state, int commit)
{
    dp_sink *s = state;
    if (!s)
        return MK_OK;
    int rc = MK_OK;
    if (commit && !s->columns && s->csv.fd >= 0 && dp_header_from_declared(s) != 0)
        rc = dp_write_failed(s, &s->csv);
    if (s->csv.fd >= 0 && dp_out_close(&s->csv) != 0 && commit && rc == MK_OK)
        rc = dp_write_failed(s, &s->csv);
    if (s->jsonl.fd >= 0 && dp_out_close(&s->jsonl) != 0 && commit && rc == MK_OK)
        rc = dp_write_failed(s, &s->jsonl);
    if (commit && rc == MK_OK && s->csv.path[0]) {
        if (!s->adopted) /* the merge: the shards' reports carry them */
            s->host->report_add(s->ctx, "rows", (int64_t)s->rows);
        if (s->shard_part || !MK_HOST_HAS(s->host, before_publish))
            rc = finish_package(s);
        else if ((rc = s->host->before_publish(s->ctx, dp_before_publish, s)) == MK_OK)
            return MK_OK; /* finished there, with the rejects and reports */
    }
    dp_free(s);
    return rc;
}

static const mk_sink_ops dp_ops = {dp_open, dp_write, dp_close};

static const mk_plugin dp_plugin = {
    MK_PLUGIN_HEAD, "datapackage", PACKAGE_VERSION,
    "write a Frictionless Data Package (v2) folder: data, datapackage.json, hashes",
    NULL, NULL, NULL, NULL, sink_options, &dp_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &dp_plugin;
}
