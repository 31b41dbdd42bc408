/*
 * kit_file.h -- the kit's file object, shared by kit_file.c and
 * kit_text.c (not installed).
 *
 * Trade-off: an mkk_file wraps the engine's mk_outfile (engine/util) and
 * lends the plugin that object's buffer (the public head), so no output
 * code is written twice; the price is that the fill level is copied
 * between the two at every call that is not inline (sync_in/sync_out).
 */
#ifndef MEKONG_KIT_FILE_H
#define MEKONG_KIT_FILE_H

#include <errno.h>
#include <stdlib.h>

#include "mekong_kit.h"
#include "util/outfile.h"

typedef struct kit_file {
    mkk_file pub;     /* first: the buffer of out, lent to the inline writers */
    mk_outfile *out;
    const mk_host *host;
    mk_context *ctx;
    char *repair;     /* scratch for mkk_csv_field_repaired */
    size_t repair_cap;
} kit_file;

static inline kit_file *kit_of(mkk_file *f)
{
    return (kit_file *)f;
}

/* Give out the bytes the inline writers put in the buffer. */
static inline mk_outfile *sync_in(mkk_file *f)
{
    mk_outfile *o = kit_of(f)->out;
    o->len = f->len;
    return o;
}

/* Take back the fill level after out's own writers ran; rc passes through. */
static inline int sync_out(mkk_file *f, int rc)
{
    f->len = kit_of(f)->out->len;
    return rc;
}

#endif
