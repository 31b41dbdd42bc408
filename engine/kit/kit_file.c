/*
 * kit_file.c -- mkk_file: output files that appear only when the run
 * succeeds, for sinks.  The file work itself is engine/util/outfile.c
 * (temporary file beside the target, devices and FIFOs written directly,
 * fsync and rename on commit); this file adds what a plugin needs around
 * it: errors reported through the host with the path, and the buffer lent
 * to the inline writers of mekong_kit.h.
 *
 * Trade-off: a failed write is only remembered (like stdio); the sink
 * looks once per batch (mkk_file_check), not after every field.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kit_file.h"

mkk_file *mkk_file_open(const mk_host *h, mk_context *ctx, const char *path)
{
    kit_file *k = calloc(1, sizeof(*k));
    if (!k) {
        h->error(ctx, "out of memory opening %s", path);
        return NULL;
    }
    char err[1024];
    k->out = mk_outfile_open(path, err, sizeof err);
    if (!k->out) {
        h->error(ctx, "%s", err);
        free(k);
        return NULL;
    }
    k->host = h;
    k->ctx = ctx;
    k->pub.buf = k->out->buf;
    k->pub.cap = k->out->cap;
    k->pub.len = k->out->len;
    return &k->pub;
}

int mkk_file_write_slow(mkk_file *f, const void *p, size_t n)
{
    return sync_out(f, mk_outfile_write(sync_in(f), p, n));
}

int mkk_file_error(const mkk_file *f)
{
    return ((const kit_file *)f)->out->err;
}

const char *mkk_file_path(const mkk_file *f)
{
    return ((const kit_file *)f)->out->final_path;
}

int mkk_file_check(mkk_file *f)
{
    kit_file *k = kit_of(f);
    if (!k->out->err)
        return MK_OK;
    k->host->error(k->ctx, "cannot write %s: %s", k->out->final_path, strerror(k->out->err));
    return MK_ERROR;
}

int mkk_file_close(mkk_file *f, int commit)
{
    if (!f)
        return MK_OK;
    kit_file *k = kit_of(f);
    int rc = MK_OK;
    if (commit) {
        char err[1024];
        if (mk_outfile_commit(sync_in(f), err, sizeof err) != 0) {
            k->host->error(k->ctx, "%s", err);
            rc = MK_ERROR;
        }
    } else {
        mk_outfile_abort(k->out);
    }
    free(k->repair);
    free(k);
    return rc;
}
