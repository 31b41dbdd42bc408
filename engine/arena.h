/*
 * arena.h -- bump allocator for the bytes of one batch.
 *
 * Field bytes are appended to fixed-size chunks; a batch reset gives all of
 * it back at once.  Chunks are kept across resets, so a steady stream of
 * batches allocates nothing after the first few: memory is bounded by the
 * largest batch, not by the input size.  A request larger than a chunk gets
 * a chunk of its own, which is freed at the next reset (a 10 MB field does
 * not make every later batch carry 10 MB).
 */
#ifndef MEKONG_ARENA_H
#define MEKONG_ARENA_H

#include <stddef.h>

#include "mekong.h"

#define MK_ARENA_CHUNK (256u * 1024u)

mk_arena *mk_arena_new(void);
void mk_arena_free(mk_arena *a);
/* Give back everything allocated since the last reset. */
void mk_arena_reset(mk_arena *a);
/* len bytes, not aligned (for bytes only); NULL when out of memory. */
char *mk_arena_alloc(mk_arena *a, size_t len);
/* Copy of len bytes of src. */
char *mk_arena_dup(mk_arena *a, const char *src, size_t len);
/* Bytes held by the arena (for tests and the memory report). */
size_t mk_arena_footprint(const mk_arena *a);

#endif
