/*
 * batch.h -- batches of rows and interned schemas.
 *
 * A batch is a grid of mk_value (row-major) plus per-row mk_rowinfo and an
 * arena for the bytes.  Its row capacity grows on demand and is kept across
 * resets, so a run allocates its batches once.  Schemas are interned in a
 * registry that lives for the run: equal column lists share one pointer.
 */
#ifndef MEKONG_BATCH_H
#define MEKONG_BATCH_H

#include "mekong.h"

mk_batch *mk_batch_new(const mk_schema *schema);
void mk_batch_free(mk_batch *b);
/* Empty the batch and give it a (possibly other) schema. */
void mk_batch_reset(mk_batch *b, const mk_schema *schema);
/* Make the batch hold exactly rows rows before growing (sources fill to
 * cap).  0 or -1 when out of memory. */
int mk_batch_reserve(mk_batch *b, size_t rows);
/* Append a row of NULLs; its index, or (size_t)-1 when out of memory. */
size_t mk_batch_add_row(mk_batch *b);
/* Forget the rows from nrows on. */
void mk_batch_truncate(mk_batch *b, size_t nrows);
char *mk_batch_alloc(mk_batch *b, size_t len);
int mk_batch_set(mk_batch *b, size_t row, size_t col, const char *ptr, size_t len);

typedef struct mk_schema_registry mk_schema_registry;

mk_schema_registry *mk_schema_registry_new(void);
void mk_schema_registry_free(mk_schema_registry *r);
const mk_schema *mk_schema_intern(mk_schema_registry *r, const char *const *names, size_t ncols);
/* With column types (NULL or all text: the same schema as untyped). */
const mk_schema *mk_schema_intern_typed(mk_schema_registry *r, const char *const *names,
                                        const mk_type *types, size_t ncols);
/* Index of a column by name, or -1. */
long mk_schema_find(const mk_schema *s, const char *name);

#endif
