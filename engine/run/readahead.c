/*
 * readahead.c -- see readahead.h.  One mutex and one condition variable;
 * the ring is three slots: one the main thread works on, one ready, one
 * being filled.
 */
#include "config.h"

#include "readahead.h"
#include "run_internal.h"

#include <pthread.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "batch.h"

#define SLOTS 3

typedef struct slot {
    mk_readahead_batch out;
    size_t reject_cap;
} slot;

struct mk_readahead {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const mk_source_ops *ops;
    void *state;
    mk_context *src;
    const mk_schema *schema;
    slot slots[SLOTS];
    size_t head;      /* next slot for the main thread */
    size_t filled;    /* slots filled and not yet released */
    int finished;     /* the source said MK_DONE or failed: no more slots */
    int stop;         /* the main thread wants the thread to end */
    slot *filling;    /* the slot the thread fills (for deferred rejects) */
};

static void clear_rejects(slot *s)
{
    for (size_t i = 0; i < s->out.nrejects; i++)
        free(s->out.rejects[i].fields);
    s->out.nrejects = 0;
}

static void *reader_main(void *arg)
{
    mk_readahead *ra = arg;
    size_t tail = 0;
#ifdef __linux__
    /* A little below the threads that consume the batches (nice +5, this
     * thread only): when cores are short -- a Lua step on every core -- the
     * consumers win the CPU, and this thread runs when they wait for it.
     * Measured on 2 cores, a light Lua step on 2 threads: 1.18 s -> 1.04 s;
     * csv -> csv, where this thread is the slower one: no change.  Best
     * effort: a failure changes nothing else. */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
#endif

    for (;;) {
        pthread_mutex_lock(&ra->mu);
        while (!ra->stop && ra->filled == SLOTS)
            pthread_cond_wait(&ra->cv, &ra->mu);
        if (ra->stop) {
            pthread_mutex_unlock(&ra->mu);
            return NULL;
        }
        slot *s = &ra->slots[tail];
        ra->filling = s;
        pthread_mutex_unlock(&ra->mu);

        mk_batch_reset(s->out.batch, ra->schema);
        clear_rejects(s);
        int rc = ra->ops->next_batch(ra->state, s->out.batch);
        mk_batch *b = s->out.batch;
        for (size_t i = 0; i < b->nrows; i++) {
            b->info[i].source = (uint32_t)0; /* set by the main thread */
            b->info[i].origin = (uint32_t)i;
        }

        pthread_mutex_lock(&ra->mu);
        s->out.status = rc;
        ra->filled++;
        ra->filling = NULL;
        if (rc != MK_OK)
            ra->finished = 1;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        if (rc != MK_OK)
            return NULL;
        tail = (tail + 1) % SLOTS;
    }
}

mk_readahead *mk_readahead_start(mk_context *src, const mk_source_ops *ops, void *state,
                                 const mk_schema *schema, size_t batch_rows)
{
    mk_readahead *ra = calloc(1, sizeof(*ra));
    if (!ra)
        return NULL;
    ra->src = src;
    ra->ops = ops;
    ra->state = state;
    ra->schema = schema;
    for (size_t i = 0; i < SLOTS; i++) {
        ra->slots[i].out.batch = mk_batch_new(schema);
        if (!ra->slots[i].out.batch || mk_batch_reserve(ra->slots[i].out.batch, batch_rows) != 0)
            goto fail;
    }
    if (pthread_mutex_init(&ra->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&ra->cv, NULL) != 0) {
        pthread_mutex_destroy(&ra->mu);
        goto fail;
    }
    /* before the thread starts: its first rejects are deferred too (a
     * reject written from this thread would race the main thread's) */
    src->readahead = ra;
    if (pthread_create(&ra->thread, NULL, reader_main, ra) != 0) {
        src->readahead = NULL;
        pthread_cond_destroy(&ra->cv);
        pthread_mutex_destroy(&ra->mu);
        goto fail;
    }
    return ra;
fail:
    for (size_t i = 0; i < SLOTS; i++)
        mk_batch_free(ra->slots[i].out.batch);
    free(ra);
    return NULL;
}

mk_readahead_batch *mk_readahead_next(mk_readahead *ra)
{
    pthread_mutex_lock(&ra->mu);
    while (ra->filled == 0)
        pthread_cond_wait(&ra->cv, &ra->mu);
    slot *s = &ra->slots[ra->head];
    pthread_mutex_unlock(&ra->mu);
    return &s->out;
}

void mk_readahead_release(mk_readahead *ra)
{
    pthread_mutex_lock(&ra->mu);
    ra->head = (ra->head + 1) % SLOTS;
    ra->filled--;
    pthread_cond_broadcast(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
}

void mk_readahead_stop(mk_readahead *ra)
{
    if (!ra)
        return;
    pthread_mutex_lock(&ra->mu);
    ra->stop = 1;
    pthread_cond_broadcast(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
    pthread_join(ra->thread, NULL);
    pthread_cond_destroy(&ra->cv);
    pthread_mutex_destroy(&ra->mu);
    for (size_t i = 0; i < SLOTS; i++) {
        clear_rejects(&ra->slots[i]);
        free(ra->slots[i].out.rejects);
        mk_batch_free(ra->slots[i].out.batch);
    }
    free(ra);
}

int mk_readahead_defer(mk_readahead *ra, const mk_value *fields, size_t nfields,
                       uint64_t line, uint64_t record, uint32_t part, const char *rule,
                       const char *reason)
{
    slot *s = ra->filling; /* only the reading thread writes this slot now */
    if (s->out.nrejects == s->reject_cap) {
        size_t cap = s->reject_cap ? s->reject_cap * 2 : 8;
        mk_deferred_reject *r = realloc(s->out.rejects, cap * sizeof(*r));
        if (!r)
            return MK_NOMEM;
        s->out.rejects = r;
        s->reject_cap = cap;
    }
    /* One block for the field array; the bytes go to the batch's arena,
     * which lives until the slot is refilled. */
    mk_deferred_reject *d = &s->out.rejects[s->out.nrejects];
    mk_arena *a = s->out.batch->arena;
    d->fields = malloc((nfields ? nfields : 1) * sizeof(mk_value));
    d->rule = mk_arena_dup(a, rule, strlen(rule) + 1);
    d->reason = mk_arena_dup(a, reason, strlen(reason) + 1);
    if (!d->fields || !d->rule || !d->reason) {
        free(d->fields);
        return MK_NOMEM;
    }
    for (size_t i = 0; i < nfields; i++) {
        d->fields[i].len = fields[i].len;
        d->fields[i].ptr = fields[i].ptr ? mk_arena_dup(a, fields[i].ptr, fields[i].len) : NULL;
        if (fields[i].ptr && !d->fields[i].ptr) {
            free(d->fields);
            return MK_NOMEM;
        }
    }
    d->nfields = nfields;
    d->line = line;
    d->record = record;
    d->part = part;
    s->out.nrejects++;
    return MK_OK;
}
