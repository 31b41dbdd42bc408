/*
 * dp_shard.c -- the datapackage sink in shards (docs/SCALE.md, "Data
 * packages from shards").
 *
 * A shard's sink (shard_part: true, set by mekong run --shard) writes its
 * rows as one run would, into a part folder in the shard's folder, with
 * part.json instead of datapackage.json: the rows it wrote, the columns of
 * its first batch (names and types) and the sources its rows came from in
 * the order it noted them.  No copies of the shard's rejects or report go
 * in.  The engine joins the parts' data files in plan order (one CSV
 * header) as the shards finish, as it does for csv and jsonl sinks.
 *
 * The merge opens the sink with shard_joined (the joined files) and
 * shard_parts (every shard's part folder, in plan order), and closes it at
 * once: the joined files are moved into the package folder and hashed
 * (one read pass: a SHA-256 cannot be put together from the parts'), the
 * parts' part.json give the rows, the columns (the first part that had
 * any, as the first batch of one run) and the sources (noted again in plan
 * order, which is the order one run notes them in), and the package is
 * finished through before_publish as one run's, with the merge's rejects
 * and report copied in.  Trade-off: the hash pass reads every data byte
 * once more in the merge; the rows are written once, by the shards.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_plugin.h"
#include "ts_json.h"

#define HASH_BLOCK (1u << 20)

/* ---- a shard: part.json ------------------------------------------------------ */

static void write_part_columns(FILE *fp, const mk_schema *c)
{
    fputs(",\n \"columns\":[", fp);
    for (size_t i = 0; i < c->ncols; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", fp);
        ts_json_string(fp, c->names[i]);
        fprintf(fp, ",\"type\":%d}", c->types ? (int)c->types[i] : (int)MK_TYPE_TEXT);
    }
    fputc(']', fp);
}

int dp_shard_write_part(dp_sink *s)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/part.json", s->tmp);
    FILE *fp = fopen(path, "wx");
    if (!fp) {
        s->host->error(s->ctx, "cannot create %s: %s", path, strerror(errno));
        return MK_ERROR;
    }
    fprintf(fp, "{\"mekong:part\":1,\n \"rows\":%" PRIu64, s->rows);
    if (s->columns)
        write_part_columns(fp, s->columns);
    fputs(",\n \"sources\":[", fp);
    for (size_t i = 0; i < s->nsources; i++) {
        fputs(i ? ",{\"step\":" : "{\"step\":", fp);
        ts_json_string(fp, s->sources[i].step);
        if (s->sources[i].file) {
            fputs(",\"file\":", fp);
            ts_json_string(fp, s->sources[i].file);
        }
        fputc('}', fp);
    }
    fputs("]}\n", fp);
    int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
    int err = errno;
    if (fclose(fp) != 0 || bad) {
        s->host->error(s->ctx, "cannot write %s: %s", path, strerror(err));
        return MK_ERROR;
    }
    return MK_OK;
}

/* ---- the merge: the parts' part.json ----------------------------------------- */

static const char *scalar(const cfg_node *map, const char *key)
{
    const cfg_node *n = map && map->kind == CFG_MAP ? cfg_get(map, key) : NULL;
    return n && n->kind == CFG_SCALAR ? n->value : NULL;
}

/* The columns of one part (the first that had any) as the package's. */
static int adopt_columns(dp_sink *s, const cfg_node *cols)
{
    size_t n = cols->count;
    s->adopted_names = calloc(n ? n : 1, sizeof(char *));
    s->adopted_types = calloc(n ? n : 1, sizeof(mk_type));
    if (!s->adopted_names || !s->adopted_types)
        return MK_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *name = scalar(cols->items[i], "name"), *type = scalar(cols->items[i], "type");
        if (!name || !type)
            return MK_ERROR;
        if (!(s->adopted_names[i] = strdup(name)))
            return MK_NOMEM;
        s->adopted_types[i] = (mk_type)atoi(type);
        s->adopted_columns.ncols = i + 1;
    }
    s->adopted_columns.names = (const char *const *)s->adopted_names;
    s->adopted_columns.types = s->adopted_types;
    s->columns = &s->adopted_columns;
    return MK_OK;
}

/* One part's part.json into the package: rows, columns, sources. */
static int adopt_part(dp_sink *s, const char *folder)
{
    char path[4300], err[1024];
    snprintf(path, sizeof path, "%s/part.json", folder);
    cfg_node *part = ts_load(path, err, sizeof err);
    const char *rows = scalar(part, "rows");
    const cfg_node *cols = part && part->kind == CFG_MAP ? cfg_get(part, "columns") : NULL;
    const cfg_node *srcs = part && part->kind == CFG_MAP ? cfg_get(part, "sources") : NULL;
    int rc = rows && srcs && srcs->kind == CFG_SEQ && (!cols || cols->kind == CFG_SEQ) ? MK_OK
                                                                                       : MK_ERROR;
    if (rc == MK_OK) {
        s->rows += strtoull(rows, NULL, 10);
        if (cols && !s->columns)
            rc = adopt_columns(s, cols);
        for (size_t i = 0; rc == MK_OK && i < srcs->count; i++) {
            const char *step = scalar(srcs->items[i], "step");
            if (step)
                dp_note_source(s, step, scalar(srcs->items[i], "file"));
        }
    }
    if (rc == MK_ERROR)
        s->host->error(s->ctx, "%s: %s: run that shard again", part ? path : err,
                       part ? "not the part.json of a datapackage sink's shard" : "unreadable");
    cfg_free(part);
    return rc;
}

/* ---- the merge: the joined data files ------------------------------------------ */

/* o's byte count and SHA-256, read from o->path. */
static int hash_file(dp_sink *s, dp_out *o)
{
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    char *buf = malloc(HASH_BLOCK);
    sha256_init(&o->sha);
    o->bytes = 0;
    ssize_t n = fd >= 0 && buf ? 1 : -1;
    while (n > 0) {
        n = read(fd, buf, HASH_BLOCK);
        if (n < 0 && errno == EINTR)
            n = 1;
        else if (n > 0) {
            sha256_update(&o->sha, (size_t)n, (const uint8_t *)buf);
            o->bytes += (uint64_t)n;
        }
    }
    int err = errno;
    free(buf);
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        s->host->error(s->ctx, "cannot read %s: %s", o->path, strerror(err));
        return MK_ERROR;
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&o->sha, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        sprintf(o->hex + 2 * i, "%02x", d[i]);
    return MK_OK;
}

/* The joined file from into the package folder as file: renamed (then
 * hashed), or copied and hashed on the way from another file system. */
static int move_in(dp_sink *s, dp_out *o, const char *from, const char *file)
{
    o->fd = -1;
    snprintf(o->file, sizeof o->file, "%s", file);
    if ((size_t)snprintf(o->path, sizeof o->path, "%s/%s", s->tmp, file) >= sizeof o->path) {
        s->host->error(s->ctx, "%s/%s: the path is too long", s->tmp, file);
        return MK_ERROR;
    }
    if (rename(from, o->path) == 0)
        return hash_file(s, o);
    if (errno == EXDEV)
        return dp_copy_in(s, o, from, file);
    s->host->error(s->ctx, "cannot move the joined part %s into %s: %s", from, s->tmp,
                   strerror(errno));
    return MK_ERROR;
}

int dp_shard_adopt(dp_sink *s)
{
    const mk_host *h = s->host;
    const char *csv, *jsonl = NULL, *folder;
    s->adopted = 1;
    if (h->opt_count(s->ctx, "shard_joined") != 1u + (size_t)s->jsonl_on) {
        h->error(s->ctx, "shard_joined names %zu files; the package has %d data files",
                 h->opt_count(s->ctx, "shard_joined"), 1 + s->jsonl_on);
        return MK_ERROR;
    }
    h->opt_entry(s->ctx, "shard_joined", 0, NULL, &csv);
    if (s->jsonl_on)
        h->opt_entry(s->ctx, "shard_joined", 1, NULL, &jsonl);
    for (size_t k = 0; k < h->opt_count(s->ctx, "shard_parts"); k++) {
        h->opt_entry(s->ctx, "shard_parts", k, NULL, &folder);
        int rc = adopt_part(s, folder);
        if (rc != MK_OK)
            return rc;
    }
    char file[300];
    snprintf(file, sizeof file, "%s.csv", s->resource);
    int rc = move_in(s, &s->csv, csv, file);
    snprintf(file, sizeof file, "%s.jsonl", s->resource);
    if (rc == MK_OK && jsonl)
        rc = move_in(s, &s->jsonl, jsonl, file);
    return rc;
}

void dp_shard_free(dp_sink *s)
{
    for (size_t i = 0; s->adopted_names && i < s->adopted_columns.ncols; i++)
        free(s->adopted_names[i]);
    free(s->adopted_names);
    free(s->adopted_types);
}
