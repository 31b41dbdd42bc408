/*
 * admin.c -- the admin transform: addresses (and ward codes) to the 2025
 * administrative units.
 *
 *   - plugin: admin
 *     address: dia_chi          free text, old (ward, district, province) or new (ward, province) units
 *     ward_code: ma_xa_cu       optional: an old or 2025 ward code (leading zeros may be lost)
 *     province: "Nam Định"      optional: the province when the addresses do not name it
 *     output: { province_code: ..., province_name: ..., ward_code: ..., ward_name: ...,
 *               candidates: ..., house: ... }
 *     on_split: reject          reject | warn | keep; rule admin.split
 *     on_unknown: reject        reject | warn | keep; rules admin.unknown, admin.ambiguous,
 *                               admin.code_mismatch
 *     tables: my-tables/        optional: a folder of newer tables (docs/ADMIN.md)
 *
 * A row that resolves gets the 2025 province and ward, names exactly as the
 * 2025 register writes them (the cells point at the shared tables: nothing
 * is copied).  One that does not is rejected, or kept with the columns NULL
 * (warn: with a warning), with a reason that names what was read and what
 * is missing.  docs/ADMIN.md has the rules and examples.
 *
 * Trade-off: the work per row is a few name keys and hash probes on the
 * main thread (well over a million addresses a second), so the step starts
 * no threads of its own; the tables are shared by every step and thread.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "mekong.h"
#include "mekong_kit.h"
#include "vntext.h"

enum { OUT_PROVINCE_CODE, OUT_PROVINCE_NAME, OUT_WARD_CODE, OUT_WARD_NAME, OUT_CANDIDATES,
       OUT_HOUSE, N_OUT };
static const char *const out_keys[N_OUT] = {"province_code", "province_name", "ward_code",
                                            "ward_name", "candidates", "house"};
static const char *const out_defaults[N_OUT] = {"province_code", "province_name", "ward_code",
                                                "ward_name", "ward_candidates", NULL};

enum { ON_REJECT, ON_WARN, ON_KEEP };
#define ON_CHOICES "reject|warn|keep"

static const char *const rule_names[] = {NULL, "admin.split", "admin.unknown", "admin.ambiguous",
                                         "admin.code_mismatch"};

typedef struct plan {
    const mk_schema *out;
    long address, code; /* input columns, -1 none */
    long *source;       /* per output column: input column, or -1 - OUT_* */
} plan;

typedef struct admin_state {
    mk_context *ctx;
    const mk_host *host;
    adm_tables *tables;
    const char *address, *code;
    const char *out_names[N_OUT]; /* NULL: not written */
    int on_split, on_unknown;
    int32_t default_province, default_old_province;
    mkk_plans *plans;
    vn_buf nfc;
    char cand_buf[2048];
    uint64_t counts[5];
    adm_result result;
} admin_state;

static const mk_option_decl options[] = {
    {"address", MK_OPT_STRING, 0, NULL,
     "column with the free-text address (old or 2025 units, the last parts naming them)", NULL},
    {"ward_code", MK_OPT_STRING, 0, NULL,
     "column with an old or 2025 ward code (leading zeros may be lost)", NULL},
    {"province", MK_OPT_STRING, 0, NULL,
     "the province of addresses that do not name one (a constant or ${VAR})", NULL},
    {"output", MK_OPT_MAP, 0, NULL,
     "output columns: { province_code, province_name, ward_code, ward_name, candidates, house: "
     "column }",
     NULL},
    {"on_split", MK_OPT_STRING, 0, "reject",
     "an old ward split between 2025 wards: reject, warn or keep (candidates in a column)",
     ON_CHOICES},
    {"on_unknown", MK_OPT_STRING, 0, "reject",
     "an address not found, ambiguous, or contradicting its ward code: reject, warn or keep",
     ON_CHOICES},
    {"tables", MK_OPT_PATH, 0, NULL,
     "folder with newer tables (same files and columns as the shipped ones)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static void free_plan(void *p_)
{
    plan *p = p_;
    if (p)
        free(p->source);
    free(p);
}

/* data/vn of the source tree when loaded from the build tree, else the
 * installed copy; MEKONG_ADMIN_TABLES overrides both. */
static const char *default_tables(void)
{
    const char *env = getenv("MEKONG_ADMIN_TABLES");
    if (env && *env)
        return env;
    Dl_info info;
    if (dladdr((void *)default_tables, &info) && info.dli_fname) {
        size_t bl = strlen(MK_BUILD_DIR);
        if (strncmp(info.dli_fname, MK_BUILD_DIR, bl) == 0 && info.dli_fname[bl] == '/')
            return MK_ADMIN_SRC_DIR;
    }
    return MK_ADMIN_DIR;
}

static int read_output(admin_state *a)
{
    const mk_host *h = a->host;
    for (int i = 0; i < N_OUT; i++)
        a->out_names[i] = out_defaults[i];
    if (a->on_split != ON_KEEP && a->on_split != ON_WARN && a->on_unknown == ON_REJECT)
        a->out_names[OUT_CANDIDATES] = NULL; /* only rows that pass can carry candidates */
    for (size_t i = 0; i < h->opt_count(a->ctx, "output"); i++) {
        const char *key, *val;
        h->opt_entry(a->ctx, "output", i, &key, &val);
        int k = -1;
        for (int j = 0; j < N_OUT; j++)
            if (strcmp(key, out_keys[j]) == 0)
                k = j;
        if (k < 0) {
            const char *sug = mkk_suggest(key, out_keys, N_OUT);
            h->error(a->ctx,
                     "output has '%s'%s%s%s; it names the columns for province_code, "
                     "province_name, ward_code, ward_name, candidates and house",
                     key, sug ? " (did you mean " : "", sug ? sug : "", sug ? "?)" : "");
            return MK_ERROR;
        }
        int omit = !val || !*val || strcmp(val, "~") == 0 || strcmp(val, "null") == 0;
        a->out_names[k] = omit ? NULL : val; /* "" or null: not written */
    }
    return MK_OK;
}

static int admin_open(mk_context *ctx, const mk_host *host, void **state)
{
    admin_state *a = calloc(1, sizeof *a);
    if (!a)
        return MK_NOMEM;
    *state = a;
    a->ctx = ctx;
    a->host = host;
    vn_buf_init(&a->nfc);
    if (!MK_HOST_HAS(host, row_append) || !MK_HOST_HAS(host, opt_choice)) {
        host->error(ctx, "admin needs a newer mekong (its host has no row_append)");
        return MK_ERROR;
    }
    a->address = host->opt_string(ctx, "address");
    a->code = host->opt_string(ctx, "ward_code");
    if (!a->address && !a->code) {
        host->error(ctx, "admin needs address: (the column with the address), ward_code: (the "
                         "column with a ward code), or both");
        return MK_ERROR;
    }
    a->on_split = host->opt_choice(ctx, "on_split");
    a->on_unknown = host->opt_choice(ctx, "on_unknown");
    if (read_output(a) != MK_OK)
        return MK_ERROR;
    const char *folder = host->opt_string(ctx, "tables");
    char err[512];
    if (!(a->tables = adm_tables_get(folder ? folder : default_tables(), err, sizeof err))) {
        host->error(ctx, "cannot load the administrative-unit tables: %s%s", err,
                    folder ? " (tables: names a folder like data/vn of the source; see docs/ADMIN.md)"
                           : " (the installed tables; tables: can name another folder)");
        return MK_ERROR;
    }
    a->default_province = a->default_old_province = -1;
    const char *prov = host->opt_string(ctx, "province");
    if (prov && *prov &&
        !adm_province_named(a->tables, prov, &a->default_province, &a->default_old_province)) {
        host->error(ctx, "province is '%s', which is none of the 34 provinces of 2025 nor of the "
                         "63 before (write it as the register does: \"Nam Định\", \"Thành phố Hồ "
                         "Chí Minh\")",
                    prov);
        return MK_ERROR;
    }
    if (!(a->plans = mkk_plans_new(free_plan)))
        return MK_NOMEM;
    host->text_checked(ctx); /* our names are valid UTF-8; other cells pass unchanged */
    host->report_set(ctx, "tables", a->tables->folder);
    return MK_OK;
}

/* ---- plans per input schema ---------------------------------------------- */

static long need_column(admin_state *a, const mk_schema *in, const char *option, const char *name)
{
    long c = mkk_column_find(a->host, in, name);
    if (c < 0) {
        const char *sug = mkk_suggest(name, (const char *const *)in->names, in->ncols);
        a->host->error(a->ctx, "%s names column '%s', but the rows have no such column%s%s%s",
                       option, name, sug ? " (did you mean " : "", sug ? sug : "", sug ? "?)" : "");
    }
    return c;
}

static plan *make_plan(admin_state *a, const mk_schema *in)
{
    plan *p = calloc(1, sizeof *p);
    size_t cap = in->ncols + N_OUT;
    const char **names = calloc(cap, sizeof *names);
    if (!p || !names || !(p->source = calloc(cap, sizeof *p->source)))
        goto fail;
    p->address = p->code = -1;
    if ((a->address && (p->address = need_column(a, in, "address", a->address)) < 0) ||
        (a->code && (p->code = need_column(a, in, "ward_code", a->code)) < 0))
        goto fail;
    size_t n = 0;
    for (size_t c = 0; c < in->ncols; c++) {
        names[n] = in->names[c];
        p->source[n++] = (long)c;
    }
    for (int k = 0; k < N_OUT; k++) {
        if (!a->out_names[k])
            continue;
        size_t at = n;
        for (size_t c = 0; c < n; c++)
            if (strcmp(names[c], a->out_names[k]) == 0)
                at = c; /* a column the rows have already is replaced */
        names[at] = a->out_names[k];
        p->source[at] = -1 - k;
        if (at == n)
            n++;
    }
    if (!(p->out = mkk_schema_derive(a->host, a->ctx, in, names, p->source, NULL, n)))
        goto fail;
    free(names);
    return mkk_plans_put(a->plans, in, p) == MK_OK ? p : NULL;
fail:
    free(names);
    free_plan(p);
    return NULL;
}

/* ---- rows ------------------------------------------------------------------- */

static mk_value text_value(const char *s)
{
    mk_value v = {s, s ? strlen(s) : 0};
    return v;
}

/* "Phường A (00004); Phường B (00008)" into the output batch. */
static mk_value candidates_value(admin_state *a, const adm_result *r, mk_batch *out)
{
    mk_value v = {NULL, 0};
    if (!r->ncand)
        return v;
    size_t len = 0;
    for (size_t i = 0; i < r->ncand && len < sizeof a->cand_buf - 1; i++) {
        const adm_unit *u = &a->tables->new_ward[r->cand[i]];
        len += (size_t)snprintf(a->cand_buf + len, sizeof a->cand_buf - len, "%s%s (%s)",
                                i ? "; " : "", u->name, u->code);
    }
    if (len >= sizeof a->cand_buf)
        len = sizeof a->cand_buf - 1;
    char *p = a->host->batch_alloc(out, len);
    if (p) {
        memcpy(p, a->cand_buf, len);
        v.ptr = p;
        v.len = len;
    }
    return v;
}

static mk_value made_value(admin_state *a, int kind, const adm_result *r, const char *address,
                           int copied, mk_batch *out)
{
    const adm_tables *t = a->tables;
    int ok = r->status == ADM_OK;
    const adm_unit *prov = r->new_province >= 0 && (ok || r->status == ADM_SPLIT)
                               ? &t->new_prov[r->new_province] : NULL;
    mk_value none = {NULL, 0};
    switch (kind) {
    case OUT_PROVINCE_CODE: return prov ? text_value(prov->code) : none;
    case OUT_PROVINCE_NAME: return prov ? text_value(prov->name) : none;
    case OUT_WARD_CODE: return ok ? text_value(t->new_ward[r->new_ward].code) : none;
    case OUT_WARD_NAME: return ok ? text_value(t->new_ward[r->new_ward].name) : none;
    case OUT_CANDIDATES: return ok ? none : candidates_value(a, r, out);
    default: break;
    }
    if (!address || !r->house_len)
        return none;
    mk_value v = {address, r->house_len};
    if (copied) { /* the NFC text lives in our buffer only until the next row */
        char *p = a->host->batch_alloc(out, r->house_len);
        if (!p)
            return none;
        memcpy(p, address, r->house_len);
        v.ptr = p;
    }
    return v;
}

static int pass_row(admin_state *a, const plan *p, const mk_batch *in, size_t r, mk_batch *out,
                    const adm_result *res, const char *address, int copied)
{
    size_t o;
    int rc = a->host->row_append(a->ctx, in, r, out, &o);
    if (rc != MK_OK)
        return rc;
    mk_value *dst = &MK_CELL(out, o, 0);
    const mk_value *src = &MK_CELL(in, r, 0);
    for (size_t c = 0; c < p->out->ncols; c++) {
        long s = p->source[c];
        dst[c] = s >= 0 ? src[s] : made_value(a, (int)(-1 - s), res, address, copied, out);
    }
    return MK_OK;
}

/* The address of row r as NFC text (*copied: it is in our buffer), or
 * NULL for NULL; -1 when it is not UTF-8. */
static int address_text(admin_state *a, const mk_value *v, const char **s, size_t *len, int *copied)
{
    *copied = 0;
    *s = NULL;
    *len = 0;
    if (MK_IS_NULL(*v))
        return 0;
    if (vn_nfc(v->ptr, v->len, s, len, &a->nfc) != VN_OK)
        return -1;
    *copied = *s != v->ptr;
    return 0;
}

static int row_fate(admin_state *a, const plan *p, const mk_batch *in, size_t r, mk_batch *out)
{
    adm_result *res = &a->result;
    adm_query q = {NULL, 0, NULL, 0, a->default_province, a->default_old_province};
    const char *address = NULL;
    int copied = 0;
    if (p->address >= 0 &&
        address_text(a, &MK_CELL(in, r, p->address), &address, &q.address_len, &copied) < 0)
        return a->host->row_reject(a->ctx, in, r, "admin.unknown",
                                   "the address is not valid UTF-8 (decode the source first)");
    q.address = address;
    if (p->code >= 0 && !MK_IS_NULL(MK_CELL(in, r, p->code))) {
        q.code = MK_CELL(in, r, p->code).ptr;
        q.code_len = MK_CELL(in, r, p->code).len;
    }
    adm_resolve(a->tables, &q, res);
    a->counts[res->status]++;
    if (res->status == ADM_OK)
        return pass_row(a, p, in, r, out, res, address, copied);
    int on = res->status == ADM_SPLIT ? a->on_split : a->on_unknown;
    const char *rule = rule_names[res->status];
    if (on == ON_REJECT)
        return a->host->row_reject(a->ctx, in, r, rule, res->reason);
    if (on == ON_WARN) {
        int rc = a->host->row_warn(a->ctx, in, r, rule, res->reason);
        if (rc != MK_OK)
            return rc;
    }
    return pass_row(a, p, in, r, out, res, address, copied);
}

static int admin_process(void *state, const mk_batch *in, mk_batch *out)
{
    admin_state *a = state;
    plan *p = mkk_plans_get(a->plans, in->schema);
    if (!p && !(p = make_plan(a, in->schema)))
        return MK_ERROR;
    out->schema = p->out;
    for (size_t r = 0; r < in->nrows; r++) {
        int rc = row_fate(a, p, in, r, out);
        if (rc != MK_OK)
            return rc;
    }
    for (int s = 1; s < 5; s++)
        a->host->rule_checked(a->ctx, rule_names[s], in->nrows);
    return MK_OK;
}

static int admin_finish(void *state, mk_batch *out)
{
    admin_state *a = state;
    (void)out;
    static const char *const keys[] = {"resolved", "split", "unknown", "ambiguous",
                                       "code_mismatch"};
    for (int s = 0; s < 5; s++)
        a->host->report_add(a->ctx, keys[s], (int64_t)a->counts[s]);
    return MK_OK;
}

static void admin_close(void *state)
{
    admin_state *a = state;
    if (!a)
        return;
    mkk_plans_free(a->plans);
    adm_tables_release(a->tables);
    vn_buf_free(&a->nfc);
    free(a);
}

static const mk_transform_ops admin_ops = {admin_open, admin_process, admin_finish, admin_close};

static const mk_plugin admin_plugin = {
    MK_PLUGIN_HEAD, "admin", PACKAGE_VERSION,
    "addresses and ward codes, old or new, to the 2025 province and ward",
    NULL, NULL, options, &admin_ops, NULL, NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &admin_plugin;
}
