/*
 * admin_rows.c -- the admin step's rows: resolved on a pool of threads,
 * given their fates on the calling thread.
 *
 * The worker model of the lua plugin, with the rows shared out in chunks:
 * every thread (the calling one too) takes the next 64 rows of the batch
 * until none are left, and resolves them into compact results (status,
 * 2025 ward, candidates and reason in its own buffers); then the calling
 * thread gives every row its fate through the host in input order.  Chunks
 * rather than one slice per thread, because on a loaded machine a thread
 * may lose its core for a while: the others then do its share.  So the output is the same
 * bytes whatever the number of threads, and only the main thread calls the
 * host's fate functions.  The tables are shared read-only; each slice owns
 * its scratch (NFC buffer, key and reason space), which grows to the
 * largest batch and is reused: no allocation per row.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_step.h"
#include "vntext.h"

#define ROW_BAD_UTF8 5   /* a status beside ADM_*: the address is not UTF-8 */
#define MIN_PARALLEL 256 /* smaller batches are not worth waking threads for */
#define CHUNK 64         /* rows a thread takes at a time */

typedef struct row_res {
    uint8_t status;
    uint8_t house_copied; /* house bytes in the slice's text, not in the input */
    uint16_t slice;       /* whose buffers hold its candidates and reason */
    int32_t new_province;
    uint32_t new_ward;
    uint32_t cand_at, ncand; /* in slice->cands */
    uint32_t text_at;        /* the reason in slice->text, NUL-terminated */
    uint32_t house_at, house_len;
} row_res;

struct adm_slice {
    admin_state *a;
    pthread_t thread;
    unsigned seen_gen;
    uint16_t index;
    uint32_t *cands;
    size_t ncands, cap_cands;
    char *text;
    size_t ntext, cap_text;
    vn_buf nfc;
    adm_result scratch;
    int nomem;
    uint64_t counts[6];
};

/* ---- one slice ------------------------------------------------------------ */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static uint32_t keep_text(adm_slice *s, const char *t, size_t n)
{
    if (grow((void **)&s->text, &s->cap_text, s->ntext + n + 1, 1)) {
        s->nomem = 1;
        return 0;
    }
    uint32_t at = (uint32_t)s->ntext;
    memcpy(s->text + at, t, n);
    s->text[at + n] = '\0';
    s->ntext += n + 1;
    return at;
}

static void bad_utf8(adm_slice *s, row_res *x)
{
    static const char why[] = "the address is not valid UTF-8 (decode the source first)";
    x->status = ROW_BAD_UTF8;
    x->text_at = keep_text(s, why, sizeof why - 1);
    s->counts[ADM_UNKNOWN]++;
}

static void resolve_row(adm_slice *s, size_t r, row_res *x)
{
    admin_state *a = s->a;
    const plan *p = a->plan_now;
    const mk_batch *in = a->in_now;
    adm_query q = {
        NULL, 0, NULL, 0, a->default_province, a->default_old_province, a->province_only};
    memset(x, 0, sizeof *x);
    x->slice = s->index;
    int copied = 0;
    const mk_value *v = p->address >= 0 ? &MK_CELL(in, r, p->address) : NULL;
    if (v && !MK_IS_NULL(*v)) {
        /* keys need neither NFC nor valid UTF-8 (admin_key.c); the house
         * part written needs NFC, and a reason quoting the address valid
         * text (checked below, only for rows that do not resolve) */
        q.address = v->ptr;
        q.address_len = v->len;
        if (a->out_names[OUT_HOUSE] &&
            vn_nfc(v->ptr, v->len, &q.address, &q.address_len, &s->nfc) != VN_OK) {
            bad_utf8(s, x);
            return;
        }
        copied = q.address != v->ptr;
    }
    if (p->code >= 0 && !MK_IS_NULL(MK_CELL(in, r, p->code))) {
        q.code = MK_CELL(in, r, p->code).ptr;
        q.code_len = MK_CELL(in, r, p->code).len;
    }
    adm_result *res = &s->scratch;
    adm_resolve(a->tables, &q, res);
    if (res->status != ADM_OK && v && !MK_IS_NULL(*v) && !a->out_names[OUT_HOUSE] &&
        vn_utf8_validate(v->ptr, v->len) != v->len) {
        bad_utf8(s, x);
        return;
    }
    s->counts[res->status]++;
    x->status = (uint8_t)res->status;
    x->new_province = res->new_province;
    x->new_ward = res->new_ward;
    if (res->status != ADM_OK)
        x->text_at = keep_text(s, res->reason, strlen(res->reason));
    if (res->ncand) {
        if (grow((void **)&s->cands, &s->cap_cands, s->ncands + res->ncand, sizeof *s->cands)) {
            s->nomem = 1;
        } else {
            x->cand_at = (uint32_t)s->ncands;
            x->ncand = (uint32_t)res->ncand;
            memcpy(s->cands + s->ncands, res->cand, res->ncand * sizeof *s->cands);
            s->ncands += res->ncand;
        }
    }
    x->house_len = (uint32_t)res->house_len;
    if (copied && res->house_len && a->out_names[OUT_HOUSE]) {
        x->house_at = keep_text(s, q.address, res->house_len);
        x->house_copied = 1;
    }
}

/* Take chunks of rows until the batch has none left. */
static void resolve_chunks(adm_slice *s)
{
    admin_state *a = s->a;
    row_res *res = a->results;
    size_t n = a->in_now->nrows;
    for (;;) {
        size_t r = atomic_fetch_add(&a->next_row, CHUNK);
        if (r >= n)
            return;
        size_t end = r + CHUNK < n ? r + CHUNK : n;
        for (; r < end; r++)
            resolve_row(s, r, &res[r]);
    }
}

/* ---- fates, on the calling thread ------------------------------------------- */

static mk_value cell(const char *ptr, size_t len)
{
    mk_value v = {ptr, len};
    return v;
}

/* "Phường A (00004); Phường B (00008)" into the output batch. */
static mk_value candidates_value(admin_state *a, const adm_slice *s, const row_res *x,
                                 mk_batch *out)
{
    size_t len = 0;
    for (uint32_t i = 0; i < x->ncand; i++) {
        const adm_unit *u = &a->tables->new_ward[s->cands[x->cand_at + i]];
        len += (i ? 2 : 0) + u->name_len + 3 + u->code_len;
    }
    char *p = len ? a->host->batch_alloc(out, len) : NULL;
    if (!p)
        return cell(NULL, 0);
    char *w = p;
    for (uint32_t i = 0; i < x->ncand; i++) {
        const adm_unit *u = &a->tables->new_ward[s->cands[x->cand_at + i]];
        if (i) {
            memcpy(w, "; ", 2);
            w += 2;
        }
        memcpy(w, u->name, u->name_len);
        w += u->name_len;
        memcpy(w, " (", 2);
        memcpy(w + 2, u->code, u->code_len);
        w[2 + u->code_len] = ')';
        w += 3 + u->code_len;
    }
    return cell(p, len);
}

static mk_value made_value(admin_state *a, int kind, const adm_slice *s, const row_res *x,
                           const mk_value *address, mk_batch *out)
{
    const adm_tables *t = a->tables;
    int ok = x->status == ADM_OK;
    const adm_unit *prov = x->new_province >= 0 && (ok || x->status == ADM_SPLIT)
                               ? &t->new_prov[x->new_province]
                               : NULL;
    const adm_unit *ward = ok && !a->province_only ? &t->new_ward[x->new_ward] : NULL;
    switch (kind) {
    case OUT_PROVINCE_CODE:
        return prov ? cell(prov->code, prov->code_len) : cell(NULL, 0);
    case OUT_PROVINCE_NAME:
        return prov ? cell(prov->name, prov->name_len) : cell(NULL, 0);
    case OUT_WARD_CODE:
        return ward ? cell(ward->code, ward->code_len) : cell(NULL, 0);
    case OUT_WARD_NAME:
        return ward ? cell(ward->name, ward->name_len) : cell(NULL, 0);
    case OUT_CANDIDATES:
        return ok ? cell(NULL, 0) : candidates_value(a, s, x, out);
    default:
        break;
    }
    if (!x->house_len)
        return cell(NULL, 0);
    if (!x->house_copied)
        return cell(address->ptr, x->house_len);
    char *p = a->host->batch_alloc(out, x->house_len); /* the slice's text is reused */
    if (p)
        memcpy(p, s->text + x->house_at, x->house_len);
    return cell(p, p ? x->house_len : 0);
}

static int pass_row(admin_state *a, const plan *p, const adm_slice *s, size_t r, mk_batch *out,
                    const row_res *x)
{
    const mk_batch *in = a->in_now;
    size_t o;
    int rc = a->host->row_append(a->ctx, in, r, out, &o);
    if (rc != MK_OK)
        return rc;
    mk_value *dst = &MK_CELL(out, o, 0);
    const mk_value *src = &MK_CELL(in, r, 0);
    const mk_value *address = p->address >= 0 ? &src[p->address] : NULL;
    for (size_t c = 0; c < p->out->ncols; c++) {
        long k = p->source[c];
        dst[c] = k >= 0 ? src[k] : made_value(a, (int)(-1 - k), s, x, address, out);
    }
    return MK_OK;
}

static int replay(admin_state *a, mk_batch *out)
{
    const mk_host *h = a->host;
    const mk_batch *in = a->in_now;
    const row_res *res = a->results;
    for (int i = 0; i < a->nslices; i++)
        if (a->slices[i].nomem)
            return MK_NOMEM;
    for (size_t r = 0; r < in->nrows; r++) {
        const row_res *x = &res[r];
        const adm_slice *s = &a->slices[x->slice];
        if (x->status == ADM_OK) {
            int rc = pass_row(a, a->plan_now, s, r, out, x);
            if (rc != MK_OK)
                return rc;
            continue;
        }
        int status = x->status == ROW_BAD_UTF8 ? ADM_UNKNOWN : x->status;
        int on = status == ADM_SPLIT ? a->on_split : a->on_unknown;
        const char *why = s->text + x->text_at;
        int rc = MK_OK;
        if (on == ON_REJECT || x->status == ROW_BAD_UTF8) {
            rc = h->row_reject(a->ctx, in, r, rule_names[status], why);
        } else {
            if (on == ON_WARN)
                rc = h->row_warn(a->ctx, in, r, rule_names[status], why);
            if (rc == MK_OK)
                rc = pass_row(a, a->plan_now, s, r, out, x);
        }
        if (rc != MK_OK)
            return rc;
    }
    return MK_OK;
}

/* ---- the pool -------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    adm_slice *s = arg;
    admin_state *a = s->a;
    for (;;) {
        pthread_mutex_lock(&a->mutex);
        while (!a->quit && s->seen_gen == a->gen)
            pthread_cond_wait(&a->work_cv, &a->mutex);
        if (a->quit) {
            pthread_mutex_unlock(&a->mutex);
            return NULL;
        }
        s->seen_gen = a->gen;
        pthread_mutex_unlock(&a->mutex);
        resolve_chunks(s);
        pthread_mutex_lock(&a->mutex);
        if (--a->pending == 0)
            pthread_cond_signal(&a->done_cv);
        pthread_mutex_unlock(&a->mutex);
    }
}

int admin_rows_start(admin_state *a, int threads)
{
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)(cores > 64 ? 64 : cores) : 1;
    }
    if (!(a->slices = calloc((size_t)threads, sizeof *a->slices)))
        return MK_ERROR;
    a->nslices = threads;
    for (int i = 0; i < threads; i++) {
        a->slices[i].a = a;
        a->slices[i].index = (uint16_t)i;
        vn_buf_init(&a->slices[i].nfc);
    }
    if (threads == 1)
        return MK_OK;
    if (pthread_mutex_init(&a->mutex, NULL) != 0)
        return MK_ERROR;
    if (pthread_cond_init(&a->work_cv, NULL) != 0 || pthread_cond_init(&a->done_cv, NULL) != 0)
        return MK_ERROR; /* (a failed init leaves nothing to destroy worth the code) */
    a->pool_ready = 1;
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&a->slices[i].thread, NULL, worker_main, &a->slices[i]) != 0)
            return MK_ERROR;
        a->started = i;
    }
    return MK_OK;
}

void admin_rows_stop(admin_state *a)
{
    if (a->pool_ready) {
        pthread_mutex_lock(&a->mutex);
        a->quit = 1;
        pthread_cond_broadcast(&a->work_cv);
        pthread_mutex_unlock(&a->mutex);
        for (int i = 1; i <= a->started; i++)
            pthread_join(a->slices[i].thread, NULL);
        pthread_cond_destroy(&a->work_cv);
        pthread_cond_destroy(&a->done_cv);
        pthread_mutex_destroy(&a->mutex);
    }
    for (int i = 0; a->slices && i < a->nslices; i++) {
        adm_slice *s = &a->slices[i];
        free(s->cands);
        free(s->text);
        vn_buf_free(&s->nfc);
    }
    free(a->slices);
    free(a->results);
}

int admin_rows(admin_state *a, const plan *p, const mk_batch *in, mk_batch *out)
{
    if (grow(&a->results, &a->cap_results, in->nrows + 1, sizeof(row_res)))
        return MK_NOMEM;
    a->plan_now = p;
    a->in_now = in;
    atomic_store(&a->next_row, 0);
    for (int i = 0; i < a->nslices; i++) {
        a->slices[i].ncands = a->slices[i].ntext = 0;
        a->slices[i].nomem = 0;
    }
    int parallel = a->nslices > 1 && in->nrows >= MIN_PARALLEL;
    if (parallel) {
        pthread_mutex_lock(&a->mutex);
        a->pending = a->nslices - 1;
        a->gen++;
        pthread_cond_broadcast(&a->work_cv);
        pthread_mutex_unlock(&a->mutex);
    }
    resolve_chunks(&a->slices[0]);
    if (parallel) {
        pthread_mutex_lock(&a->mutex);
        while (a->pending > 0)
            pthread_cond_wait(&a->done_cv, &a->mutex);
        pthread_mutex_unlock(&a->mutex);
    }
    return replay(a, out);
}

void admin_rows_counts(const admin_state *a, uint64_t counts[5])
{
    for (int i = 0; i < a->nslices; i++)
        for (int k = 0; k < 5; k++)
            counts[k] += a->slices[i].counts[k];
}
