/*
 * kit_keyset.c -- mkk_keyset, a set of 128-bit key hashes with a 64-bit
 * payload each, and mkk_key_hash, the hash of a composite key.
 *
 * Trade-off: the set keeps hashes, never keys.  A slot is 24 bytes (two
 * hash words and the payload) in one open-addressing table with linear
 * probing, grown by doubling when three quarters are used, so a key costs
 * 32 to 64 bytes (about 32 at 100 million keys: 2^27 slots).  A big
 * table is mapped (mmap) rather than allocated, so that while it doubles
 * the old table is given back to the system as it is read: slots move in
 * index order, which fills the new table's pages in index order too, so
 * the peak stays near the new table's size instead of 1.5 times it.  Two different keys are taken for one when their 128-bit
 * hashes are equal: by the birthday bound, n keys collide with odds of
 * about n^2 / 2^129, 1.5e-23 at 100 million keys.  The hash (0, 0) marks
 * an empty slot, so a key hashing to it is stored as (0, 1).
 *
 * The hash is not stable across machines or mekong versions (it reads
 * words in the machine's byte order) and has no secret seed: it is for
 * sets held in memory during one run, not for files or hostile input.
 * It absorbs 16 bytes at a time through two 64x64->128 multiplications
 * whose halves are folded (the mixing step of the wyhash family, written
 * here from that idea), chained so that the order of blocks matters, and
 * ends with a xor-shift-multiply finalizer on each output word.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mekong_kit.h"

/* ---- the hash ----------------------------------------------------------------- */

/* Odd constants with about half of their bits set (digits of pi, e and
 * sqrt(2) in hex), so no multiplier is close to a power of two. */
#define K0 0x243f6a8885a308d3ull
#define K1 0x13198a2e03707345ull
#define K2 0xb7e151628aed2a6bull
#define K3 0x6a09e667f3bcc909ull
#define K4 0x9e3779b97f4a7c15ull

/* The 128-bit product of a and b, its two halves xored together. */
static uint64_t fold_mul(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    uint64_t lo = (mid << 32) | (ll & 0xffffffffu);
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
#endif
}

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* Every bit of x moves every bit of the result. */
static uint64_t finalize(uint64_t x)
{
    x ^= x >> 31;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 29;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 32;
    return x;
}

typedef struct key_hasher {
    uint64_t a, b;
    uint64_t total; /* bytes and cells absorbed */
} key_hasher;

static void absorb(key_hasher *s, uint64_t w0, uint64_t w1)
{
    uint64_t a = s->a, b = s->b;
    s->a = fold_mul(w0 ^ a ^ K0, w1 ^ b ^ K1);
    s->b = fold_mul(w1 ^ rotl64(b, 23) ^ K2, w0 ^ rotl64(a, 41) ^ K3) + a;
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* One cell: a word that tells NULL (0) from a value of len bytes (len + 1),
 * then the bytes, the last block padded with zeros.  The length word
 * makes the boundaries unambiguous: ("ab", "c") and ("a", "bc") differ. */
static void absorb_cell(key_hasher *s, const mk_value *v, size_t index)
{
    absorb(s, v->ptr ? (uint64_t)v->len + 1 : 0, (uint64_t)index);
    if (!v->ptr)
        return;
    const unsigned char *p = (const unsigned char *)v->ptr;
    size_t n = v->len;
    for (; n >= 16; p += 16, n -= 16)
        absorb(s, load64(p), load64(p + 8));
    if (n > 0) {
        unsigned char tail[16] = {0};
        memcpy(tail, p, n);
        absorb(s, load64(tail), load64(tail + 8));
    }
    s->total += v->len;
}

void mkk_key_hash(const mk_value *cells, size_t n, uint64_t out[2])
{
    key_hasher s = {K4, K2 ^ (uint64_t)n, 0};
    for (size_t i = 0; i < n; i++)
        absorb_cell(&s, &cells[i], i);
    s.total += n;
    out[0] = finalize(s.a ^ rotl64(s.b, 17) ^ s.total);
    out[1] = finalize(s.b + s.a * K4 + rotl64(s.total, 32));
}

/* ---- the set ------------------------------------------------------------------- */

typedef struct keyset_slot {
    uint64_t h0, h1; /* (0, 0): empty */
    uint64_t payload;
} keyset_slot;

struct mkk_keyset {
    keyset_slot *slots;
    size_t mask;    /* slots - 1 (slots is a power of two), 0 before the first insert */
    size_t count;
    size_t grow_at; /* count that makes the table double */
};

#define KEYSET_FIRST_SLOTS 1024
/* Tables from this size on are mapped (and given back while they move). */
#define KEYSET_MAP_BYTES ((size_t)1 << 21)
/* How far ahead of the slot it moves the doubling asks for a new slot. */
#define KEYSET_AHEAD 16
/* Slots read between two give-backs of the old table. */
#define KEYSET_RELEASE_SLOTS ((size_t)1 << 16)

static keyset_slot *slots_new(size_t n)
{
    size_t bytes = n * sizeof(keyset_slot);
    if (bytes < KEYSET_MAP_BYTES)
        return calloc(n, sizeof(keyset_slot));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* zero pages, taken from the system when touched */
}

static void slots_free(keyset_slot *slots, size_t n)
{
    if (!slots)
        return;
    if (n * sizeof(keyset_slot) < KEYSET_MAP_BYTES)
        free(slots);
    else
        munmap(slots, n * sizeof(keyset_slot));
}

/* Give the pages of old[0..upto) back (a mapped table only; they read as
 * zeros afterwards, and are not read again). */
static void slots_release(keyset_slot *old, size_t nslots, size_t upto)
{
    if (nslots * sizeof(keyset_slot) < KEYSET_MAP_BYTES)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = upto * sizeof(keyset_slot) / page * page;
    if (bytes)
        madvise(old, bytes, MADV_DONTNEED);
}

mkk_keyset *mkk_keyset_new(void)
{
    return calloc(1, sizeof(mkk_keyset));
}

void mkk_keyset_free(mkk_keyset *ks)
{
    if (!ks)
        return;
    slots_free(ks->slots, ks->slots ? ks->mask + 1 : 0);
    free(ks);
}

size_t mkk_keyset_count(const mkk_keyset *ks)
{
    return ks->count;
}

size_t mkk_keyset_bytes(const mkk_keyset *ks)
{
    return sizeof(*ks) + (ks->slots ? (ks->mask + 1) * sizeof(keyset_slot) : 0);
}

/* The slot of hash (h0, h1) in slots (mask + 1 of them): where it is, or
 * the empty slot where it belongs. */
static keyset_slot *probe(keyset_slot *slots, size_t mask, uint64_t h0, uint64_t h1)
{
    size_t i = (size_t)h0 & mask;
    for (;;) {
        keyset_slot *s = &slots[i];
        if ((s->h0 == h0 && s->h1 == h1) || (s->h0 == 0 && s->h1 == 0))
            return s;
        i = (i + 1) & mask;
    }
}

static int grow(mkk_keyset *ks)
{
    size_t old_n = ks->slots ? ks->mask + 1 : 0;
    size_t nslots = old_n ? old_n * 2 : KEYSET_FIRST_SLOTS;
    if (nslots > SIZE_MAX / 2 / sizeof(keyset_slot))
        return -1;
    keyset_slot *fresh = slots_new(nslots);
    if (!fresh)
        return -1;
    for (size_t i = 0; i < old_n; i++) {
        keyset_slot *old = &ks->slots[i];
        if (i + KEYSET_AHEAD < old_n) /* where a slot a little further on goes */
            __builtin_prefetch(&fresh[(size_t)ks->slots[i + KEYSET_AHEAD].h0 & (nslots - 1)], 1);
        if (old->h0 | old->h1)
            *probe(fresh, nslots - 1, old->h0, old->h1) = *old;
        if ((i + 1) % KEYSET_RELEASE_SLOTS == 0)
            slots_release(ks->slots, old_n, i + 1);
    }
    slots_free(ks->slots, old_n);
    ks->slots = fresh;
    ks->mask = nslots - 1;
    ks->grow_at = nslots / 4 * 3;
    return 0;
}

void mkk_keyset_prefetch(const mkk_keyset *ks, const uint64_t h[2])
{
    if (ks->slots)
        __builtin_prefetch(&ks->slots[(size_t)h[0] & ks->mask], 1);
}

int mkk_keyset_find(const mkk_keyset *ks, const uint64_t h[2], uint64_t *payload)
{
    uint64_t h0 = h[0], h1 = h[1];
    if ((h0 | h1) == 0)
        h1 = 1;
    if (!ks->slots)
        return 0;
    const keyset_slot *s = probe(ks->slots, ks->mask, h0, h1);
    if (!(s->h0 | s->h1))
        return 0;
    if (payload)
        *payload = s->payload;
    return 1;
}

/* Insert; a key already there keeps its payload, or takes the new one
 * (replace). */
static int keyset_put(mkk_keyset *ks, const uint64_t h[2], uint64_t payload, uint64_t *first,
                      int replace)
{
    uint64_t h0 = h[0], h1 = h[1];
    if ((h0 | h1) == 0)
        h1 = 1;
    if (ks->slots) {
        keyset_slot *s = probe(ks->slots, ks->mask, h0, h1);
        if (s->h0 | s->h1) {
            if (first)
                *first = s->payload;
            if (replace)
                s->payload = payload;
            return 1;
        }
        if (ks->count < ks->grow_at) {
            *s = (keyset_slot){h0, h1, payload};
            ks->count++;
            return 0;
        }
    }
    if (grow(ks) != 0)
        return -1;
    *probe(ks->slots, ks->mask, h0, h1) = (keyset_slot){h0, h1, payload};
    ks->count++;
    return 0;
}

int mkk_keyset_insert(mkk_keyset *ks, const uint64_t h[2], uint64_t payload, uint64_t *first)
{
    return keyset_put(ks, h, payload, first, 0);
}

int mkk_keyset_replace(mkk_keyset *ks, const uint64_t h[2], uint64_t payload, uint64_t *old)
{
    return keyset_put(ks, h, payload, old, 1);
}
