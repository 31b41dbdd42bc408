/*
 * admin.c -- the admin transform: addresses (and ward codes) to the 2025
 * administrative units.  Options, plans per schema and the descriptor;
 * admin_rows.c gives the rows their fates, admin_resolve.c reads an
 * address, admin_tables.c loads the tables, admin_key.c makes name keys.
 *
 *   - plugin: admin
 *     address: dia_chi        free text: old (ward, district, province) or new (ward, province)
 *     ward_code: ma_xa_cu     optional: an old or 2025 ward code (leading zeros may be lost)
 *     province: "Nam Định"    optional: the province when the addresses do not name it
 *     output: { province_code: ..., province_name: ..., ward_code: ..., ward_name: ...,
 *               candidates: ..., house: ... }
 *     on_split: reject        reject | warn | keep; rule admin.split
 *     on_unknown: reject      reject | warn | keep; rules admin.unknown, admin.ambiguous,
 *                             admin.code_mismatch
 *     threads: 0              threads resolving rows (0: one per core)
 *     tables: my-tables/      optional: a folder of newer tables (docs/ADMIN.md)
 *
 * A row that resolves gets the 2025 province and ward, names exactly as the
 * 2025 register writes them (the cells point at the shared tables: nothing
 * is copied).  One that does not is rejected, or kept with the columns NULL
 * (warn: with a warning), with a reason that names what was read and what
 * is missing.  docs/ADMIN.md has the rules and examples.
 *
 * Trade-off: the tables are loaded once per process and folder and shared
 * read-only by every admin step and thread (about 50 ms and 10 MB); a row
 * then costs a few name keys and hash probes and no allocation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_step.h"
#include "mekong.h"
#include "mekong_kit.h"
#include "vn_tables.h"
#include "vntext.h"

static const char *const out_keys[N_OUT] = {"province_code", "province_name", "ward_code",
                                            "ward_name",     "candidates",    "house"};
static const char *const out_defaults[N_OUT] = {"province_code", "province_name",   "ward_code",
                                                "ward_name",     "ward_candidates", NULL};

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
    {"threads", MK_OPT_INT, 0, "0", "threads resolving addresses (0: one per core)", NULL},
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
    a->province_only = !a->code && !a->out_names[OUT_WARD_CODE] && !a->out_names[OUT_WARD_NAME];
    if (a->province_only)
        a->out_names[OUT_CANDIDATES] = NULL; /* nothing can be split */
    const char *folder = host->opt_string(ctx, "tables");
    char err[512];
    if (!(a->tables = adm_tables_get(folder ? folder : mk_vn_tables_dir(), err, sizeof err))) {
        host->error(ctx, "cannot load the administrative-unit tables: %s%s", err,
                    folder
                        ? " (tables: names a folder like data/vn of the source; see docs/ADMIN.md)"
                        : " (the installed tables; tables: can name another folder)");
        return MK_ERROR;
    }
    a->default_province = a->default_old_province = -1;
    const char *prov = host->opt_string(ctx, "province");
    if (prov && *prov &&
        !adm_province_named(a->tables, prov, &a->default_province, &a->default_old_province)) {
        host->error(ctx,
                    "province is '%s', which is none of the 34 provinces of 2025 nor of the "
                    "63 before (write it as the register does: \"Nam Định\", \"Thành phố Hồ "
                    "Chí Minh\")",
                    prov);
        return MK_ERROR;
    }
    if (!(a->plans = mkk_plans_new(free_plan)))
        return MK_NOMEM;
    long long threads = host->opt_int(ctx, "threads");
    if (threads < 0 || threads > 64) {
        host->error(ctx, "threads is %lld; give 0 (one per core) to 64", threads);
        return MK_ERROR;
    }
    if (admin_rows_start(a, (int)threads) != MK_OK) {
        host->error(ctx, "cannot start %lld threads", threads);
        return MK_ERROR;
    }
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

static int admin_process(void *state, const mk_batch *in, mk_batch *out)
{
    admin_state *a = state;
    plan *p = mkk_plans_get(a->plans, in->schema);
    if (!p && !(p = make_plan(a, in->schema)))
        return MK_ERROR;
    out->schema = p->out;
    int rc = admin_rows(a, p, in, out);
    if (rc != MK_OK)
        return rc;
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
    uint64_t counts[5] = {0};
    admin_rows_counts(a, counts);
    for (int s = 0; s < 5; s++)
        a->host->report_add(a->ctx, keys[s], (int64_t)counts[s]);
    return MK_OK;
}

static void admin_close(void *state)
{
    admin_state *a = state;
    if (!a)
        return;
    admin_rows_stop(a);
    mkk_plans_free(a->plans);
    adm_tables_release(a->tables);
    free(a);
}

static const mk_transform_ops admin_ops = {admin_open, admin_process, admin_finish, admin_close};

static const mk_plugin admin_plugin = {
    MK_PLUGIN_HEAD,
    "admin",
    PACKAGE_VERSION,
    "addresses and ward codes, old or new, to the 2025 province and ward",
    NULL,
    NULL,
    options,
    &admin_ops,
    NULL,
    NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &admin_plugin;
}
