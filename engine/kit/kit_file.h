/*
 * kit_file.h -- the kit's file object, shared by kit_file.c and
 * kit_text.c (not installed).
 *
 * Trade-off: an mkk_file is the engine's mk_outfile (engine/util), whose
 * first member is the struct mkk_file buffer head: the pointer a plugin
 * holds is &outfile->b, so the inline writers and textout's writers work
 * on the same buffer with nothing copied between them, and no output code
 * is written twice.  What only the kit needs (host, context, scratch)
 * hangs off outfile->owner.
 */
#ifndef MEKONG_KIT_FILE_H
#define MEKONG_KIT_FILE_H

#include <errno.h>
#include <stdlib.h>

#include "mekong_kit.h"
#include "util/outfile.h"

/* For the engine's stop watchdog only (kit_file.c). */
int mkk_file_remove_temps(void);

typedef struct kit_owner {
    const mk_host *host;
    mk_context *ctx;
    char *repair; /* scratch for mkk_csv_field_repaired */
    size_t repair_cap;
} kit_owner;

/* The outfile whose buffer head f is (its first member). */
static inline mk_outfile *outfile_of(mkk_file *f)
{
    return (mk_outfile *)(void *)f;
}

static inline const mk_outfile *outfile_of_const(const mkk_file *f)
{
    return (const mk_outfile *)(const void *)f;
}

static inline kit_owner *owner_of(mkk_file *f)
{
    return outfile_of(f)->owner;
}

#endif
