/*
 * admin_step.h -- the admin step's state, shared by admin.c (options,
 * plans, the descriptor) and admin_rows.c (rows on worker threads).
 */
#ifndef MEKONG_ADMIN_STEP_H
#define MEKONG_ADMIN_STEP_H

#include <pthread.h>
#include <stdatomic.h>

#include "admin.h"
#include "mekong.h"
#include "mekong_kit.h"

enum {
    OUT_PROVINCE_CODE,
    OUT_PROVINCE_NAME,
    OUT_WARD_CODE,
    OUT_WARD_NAME,
    OUT_CANDIDATES,
    OUT_HOUSE,
    N_OUT
};

enum { ON_REJECT, ON_WARN, ON_KEEP };
#define ON_CHOICES "reject|warn|keep"

/* Rule per outcome (ADM_SPLIT ...). */
static const char *const rule_names[] = {NULL, "admin.split", "admin.unknown", "admin.ambiguous",
                                         "admin.code_mismatch"};

typedef struct plan {
    const mk_schema *out;
    long address, code; /* input columns, -1 none */
    long *source;       /* per output column: input column, or -1 - OUT_* */
} plan;

typedef struct adm_slice adm_slice; /* admin_rows.c: one thread's rows of a batch */

typedef struct admin_state {
    mk_context *ctx;
    const mk_host *host;
    adm_tables *tables;
    const char *address, *code;
    const char *out_names[N_OUT]; /* NULL: not written */
    int on_split, on_unknown;
    int province_only; /* no ward column written, no ward code read: resolve the province only */
    int32_t default_province, default_old_province;
    mkk_plans *plans;
    /* the pool: slice 0 is the calling thread's */
    adm_slice *slices;
    /* the batch at hand: its rows' results, and the next row to take */
    const plan *plan_now;
    const mk_batch *in_now;
    void *results;
    size_t cap_results;
    atomic_size_t next_row;
    int nslices, started, pool_ready, quit;
    unsigned gen;
    int pending;
    pthread_mutex_t mutex;
    pthread_cond_t work_cv, done_cv;
} admin_state;

/* Start threads - 1 workers (0: one per core); MK_OK or MK_ERROR. */
int admin_rows_start(admin_state *a, int threads);
/* Give every row of in a fate, resolved on the pool, in input order. */
int admin_rows(admin_state *a, const plan *p, const mk_batch *in, mk_batch *out);
/* Outcomes so far, per ADM_* status. */
void admin_rows_counts(const admin_state *a, uint64_t counts[5]);
void admin_rows_stop(admin_state *a);

#endif /* MEKONG_ADMIN_STEP_H */
