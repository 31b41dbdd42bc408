/*
 * readahead.h -- a source read on a thread of its own, a few batches ahead.
 *
 * While the main thread sends batch k through the transforms and sinks,
 * this thread has the source fill batch k+1 (parsing CSV and decoding text
 * is about half the work of a plain conversion).  Batches go round a small
 * ring; the main thread hands a batch back only after the sinks have
 * written it, so values that point into a batch stay valid as long as the
 * engine promises.
 *
 * Records a source rejects while it reads on the thread are not written
 * there: they are kept with their batch (copied into its arena) and the
 * main thread writes them just before the batch's rows, so the rejects
 * file has the same order as without read-ahead and only one thread ever
 * writes it.
 */
#ifndef MEKONG_READAHEAD_H
#define MEKONG_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "mekong.h"

typedef struct mk_deferred_reject {
    mk_value *fields;
    size_t nfields;
    uint64_t line, record;
    uint32_t part;
    char *rule;
    char *reason;
} mk_deferred_reject;

typedef struct mk_readahead mk_readahead;

/* The slot the main thread works on. */
typedef struct mk_readahead_batch {
    mk_batch *batch;
    int status;                  /* what next_batch returned for it */
    mk_deferred_reject *rejects; /* in the order the source made them */
    size_t nrejects;
} mk_readahead_batch;

/* Start reading src (already open) into batches of batch_rows rows. */
mk_readahead *mk_readahead_start(mk_context *src, const mk_source_ops *ops, void *state,
                                 const mk_schema *schema, size_t batch_rows);
/* The next filled batch (blocks); NULL when out of memory at start. */
mk_readahead_batch *mk_readahead_next(mk_readahead *ra);
/* Give the batch from mk_readahead_next back for refilling. */
void mk_readahead_release(mk_readahead *ra);
/* Stop the thread (it finishes the batch it is filling) and free all. */
void mk_readahead_stop(mk_readahead *ra);

/* On the reading thread: keep a rejected record with the batch being
 * filled.  MK_OK or MK_NOMEM. */
int mk_readahead_defer(mk_readahead *ra, const mk_value *fields, size_t nfields,
                       uint64_t line, uint64_t record, uint32_t part, const char *rule,
                       const char *reason);

#endif
