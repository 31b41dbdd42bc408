/*
 * kit_file.c -- mkk_file: output files that appear only when the run
 * succeeds, for sinks.  The file work itself is engine/util/outfile.c
 * (temporary file beside the target, devices and FIFOs written directly,
 * fsync on commit; the rename is the host's, through mk_host.publish_path,
 * so that all outputs of a run appear together -- an older host without
 * it gets the rename here); this file adds what a plugin needs around
 * it: errors reported through the host with the path, and the buffer lent
 * to the inline writers of mekong_kit.h.
 *
 * Trade-off: a failed write is only remembered (like stdio); the sink
 * looks once per batch (mkk_file_check), not after every field.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kit_file.h"

_Static_assert(offsetof(mk_outfile, b) == 0, "an mkk_file is the head of its mk_outfile");

mkk_file *mkk_file_open(const mk_host *h, mk_context *ctx, const char *path)
{
    kit_owner *k = calloc(1, sizeof(*k));
    if (!k) {
        h->error(ctx, "out of memory opening %s", path);
        return NULL;
    }
    char err[1024];
    mk_outfile *out = mk_outfile_open(path, err, sizeof err);
    if (!out) {
        h->error(ctx, "%s", err);
        free(k);
        return NULL;
    }
    k->host = h;
    k->ctx = ctx;
    out->owner = k;
    return &out->b;
}

int mkk_file_write_slow(mkk_file *f, const void *p, size_t n)
{
    return mk_outfile_write(outfile_of(f), p, n);
}

int mkk_file_error(const mkk_file *f)
{
    return outfile_of_const(f)->err;
}

const char *mkk_file_path(const mkk_file *f)
{
    return outfile_of_const(f)->final_path;
}

int mkk_file_check(mkk_file *f)
{
    mk_outfile *out = outfile_of(f);
    if (!out->err)
        return MK_OK;
    kit_owner *k = owner_of(f);
    k->host->error(k->ctx, "cannot write %s: %s", out->final_path, strerror(out->err));
    return MK_ERROR;
}

int mkk_file_close(mkk_file *f, int commit)
{
    if (!f)
        return MK_OK;
    kit_owner *k = owner_of(f);
    int rc = MK_OK;
    if (commit && MK_HOST_HAS(k->host, publish_path)) {
        /* flushed and fsynced here; the host puts it in place with the rest of the outputs */
        char err[1024], *tmp = NULL, *final = strdup(mkk_file_path(f));
        if (!final) {
            mk_outfile_abort(outfile_of(f));
            k->host->error(k->ctx, "out of memory closing %s", mkk_file_path(f));
            rc = MK_NOMEM;
        } else if (mk_outfile_finish(outfile_of(f), &tmp, err, sizeof err) != 0) {
            k->host->error(k->ctx, "%s", err);
            rc = MK_ERROR;
        } else if (tmp && (rc = k->host->publish_path(k->ctx, tmp, final)) != MK_OK) {
            unlink(tmp);
        }
        free(tmp);
        free(final);
    } else if (commit) {
        char err[1024];
        if (mk_outfile_commit(outfile_of(f), err, sizeof err) != 0) {
            k->host->error(k->ctx, "%s", err);
            rc = MK_ERROR;
        }
    } else {
        mk_outfile_abort(outfile_of(f));
    }
    free(k->repair);
    free(k);
    return rc;
}

char *mkk_temp_name(const char *final)
{
    size_t n = strlen(final) + 64;
    char *name = malloc(n);
    if (!name)
        return NULL;
    mk_outfile_temp_prefix(final, name, n);
    strcat(name, "XXXXXX");
    return name;
}
