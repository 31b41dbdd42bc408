/*
 * arena.c -- see arena.h.  A singly linked list of chunks; the current chunk
 * is the head.  Reset rewinds to the first standard chunk and frees the
 * oversized ones.
 */
#include "config.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    size_t size; /* bytes of data[] */
    size_t used;
    char data[];
} chunk;

struct mk_arena {
    chunk *head;  /* chunk being filled */
    chunk *spare; /* standard chunks given back by reset, ready for reuse */
    size_t footprint;
};

mk_arena *mk_arena_new(void)
{
    return calloc(1, sizeof(mk_arena));
}

static void free_chunks(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
}

void mk_arena_free(mk_arena *a)
{
    if (!a)
        return;
    free_chunks(a->head);
    free_chunks(a->spare);
    free(a);
}

void mk_arena_reset(mk_arena *a)
{
    chunk *c = a->head;
    a->head = NULL;
    while (c) {
        chunk *next = c->next;
        if (c->size == MK_ARENA_CHUNK) {
            c->used = 0;
            c->next = a->spare;
            a->spare = c;
        } else {
            a->footprint -= c->size;
            free(c);
        }
        c = next;
    }
}

static chunk *new_chunk(mk_arena *a, size_t size)
{
    chunk *c;
    if (size == MK_ARENA_CHUNK && a->spare) {
        c = a->spare;
        a->spare = c->next;
        return c;
    }
    if (size > (size_t)-1 - sizeof(chunk))
        return NULL;
    c = malloc(sizeof(chunk) + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    a->footprint += size;
    return c;
}

char *mk_arena_alloc(mk_arena *a, size_t len)
{
    chunk *c = a->head;
    if (c && c->size - c->used >= len) {
        char *p = c->data + c->used;
        c->used += len;
        return p;
    }
    if (len > MK_ARENA_CHUNK / 4) {
        /* Oversized: a chunk of its own, behind the current one so the
         * current chunk's free space is not lost. */
        chunk *big = new_chunk(a, len ? len : 1);
        if (!big)
            return NULL;
        big->used = len;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            big->next = NULL;
            a->head = big;
        }
        return big->data;
    }
    c = new_chunk(a, MK_ARENA_CHUNK);
    if (!c)
        return NULL;
    c->next = a->head;
    a->head = c;
    c->used = len;
    return c->data;
}

char *mk_arena_dup(mk_arena *a, const char *src, size_t len)
{
    char *p = mk_arena_alloc(a, len ? len : 1);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

size_t mk_arena_footprint(const mk_arena *a)
{
    return a->footprint;
}
