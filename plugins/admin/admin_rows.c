/*
 * admin_rows.c -- the admin step's rows: resolved on a pool of threads,
 * given their fates on the calling thread.
 *
 * The worker model of the lua plugin: a batch is cut into one contiguous
 * slice per thread; each thread resolves its rows into compact results
 * (status, 2025 ward, candidates and reason in the slice's own buffers);
 * then the calling thread, which resolved slice 0 itself, gives every row
 * its fate through the host in input order.  So the output is the same
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

typedef struct row_res {
    uint8_t status;
    uint8_t house_copied; /* house bytes in the slice's text, not in the input */
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
    const plan *p;
    const mk_batch *in;
    size_t first, count;
    row_res *res;
    size_t cap_res;
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

static void resolve_row(adm_slice *s, size_t r, row_res *x)
{
    admin_state *a = s->a;
    const plan *p = s->p;
    const mk_batch *in = s->in;
    adm_query q = {
        NULL, 0, NULL, 0, a->default_province, a->default_old_province, a->province_only};
    memset(x, 0, sizeof *x);
    int copied = 0;
    if (p->address >= 0 && !MK_IS_NULL(MK_CELL(in, r, p->address))) {
        const mk_value *v = &MK_CELL(in, r, p->address);
        if (vn_nfc(v->ptr, v->len, &q.address, &q.address_len, &s->nfc) != VN_OK) {
            static const char why[] = "the address is not valid UTF-8 (decode the source first)";
            x->status = ROW_BAD_UTF8;
            x->text_at = keep_text(s, why, sizeof why - 1);
            s->counts[ADM_UNKNOWN]++;
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

static void resolve_slice(adm_slice *s)
{
    s->ncands = s->ntext = 0;
    s->nomem = 0;
    if (grow((void **)&s->res, &s->cap_res, s->count, sizeof *s->res)) {
        s->nomem = 1;
        return;
    }
    for (size_t i = 0; i < s->count; i++)
        resolve_row(s, s->first + i, &s->res[i]);
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
    const mk_batch *in = s->in;
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

static int replay_slice(admin_state *a, const adm_slice *s, mk_batch *out)
{
    const mk_host *h = a->host;
    if (s->nomem)
        return MK_NOMEM;
    for (size_t i = 0; i < s->count; i++) {
        const row_res *x = &s->res[i];
        size_t r = s->first + i;
        if (x->status == ADM_OK) {
            int rc = pass_row(a, s->p, s, r, out, x);
            if (rc != MK_OK)
                return rc;
            continue;
        }
        int status = x->status == ROW_BAD_UTF8 ? ADM_UNKNOWN : x->status;
        int on = status == ADM_SPLIT ? a->on_split : a->on_unknown;
        const char *why = s->text + x->text_at;
        int rc = MK_OK;
        if (on == ON_REJECT || x->status == ROW_BAD_UTF8) {
            rc = h->row_reject(a->ctx, s->in, r, rule_names[status], why);
        } else {
            if (on == ON_WARN)
                rc = h->row_warn(a->ctx, s->in, r, rule_names[status], why);
            if (rc == MK_OK)
                rc = pass_row(a, s->p, s, r, out, x);
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
        resolve_slice(s);
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
        free(s->res);
        free(s->cands);
        free(s->text);
        vn_buf_free(&s->nfc);
    }
    free(a->slices);
}

int admin_rows(admin_state *a, const plan *p, const mk_batch *in, mk_batch *out)
{
    int n = in->nrows >= MIN_PARALLEL ? a->nslices : 1;
    size_t per = (in->nrows + (size_t)n - 1) / (size_t)n;
    for (int i = 0; i < a->nslices; i++) {
        adm_slice *s = &a->slices[i];
        s->p = p;
        s->in = in;
        s->first = i < n ? (size_t)i * per : in->nrows;
        if (s->first > in->nrows)
            s->first = in->nrows;
        s->count = i < n ? (s->first + per > in->nrows ? in->nrows - s->first : per) : 0;
    }
    if (n > 1) {
        pthread_mutex_lock(&a->mutex);
        a->pending = a->nslices - 1;
        a->gen++;
        pthread_cond_broadcast(&a->work_cv);
        pthread_mutex_unlock(&a->mutex);
    }
    resolve_slice(&a->slices[0]);
    if (n > 1) {
        pthread_mutex_lock(&a->mutex);
        while (a->pending > 0)
            pthread_cond_wait(&a->done_cv, &a->mutex);
        pthread_mutex_unlock(&a->mutex);
    }
    for (int i = 0; i < n; i++) {
        int rc = replay_slice(a, &a->slices[i], out);
        if (rc != MK_OK)
            return rc;
    }
    return MK_OK;
}

void admin_rows_counts(const admin_state *a, uint64_t counts[5])
{
    for (int i = 0; i < a->nslices; i++)
        for (int k = 0; k < 5; k++)
            counts[k] += a->slices[i].counts[k];
}
