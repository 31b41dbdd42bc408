/*
 * admin_resolve.c -- from an address (and a ward code) to the 2025 ward.
 *
 * The address is cut at commas and semicolons; its last part names the
 * province (or the step's province: option stands in), the parts before it
 * the units.  Tried in this order, and the first that finds its units wins:
 *   1. old form  ..., ward, district, province: the district among the old
 *      districts of the province (of every old province merged into it when
 *      the name is a 2025 province), the ward among that district's old
 *      wards, then the conversion table; a ward the district never had may
 *      be a 2025 ward written with its old district;
 *   2. new form  ..., ward, province: the ward among the province's 2025
 *      wards and, apart, among the old wards of its old provinces; when both
 *      find something they must agree.
 * Never a guess: two candidates are ADM_AMBIGUOUS, an old ward the table
 * sends to several new wards ADM_SPLIT, each with the candidates named.
 * A ward code (old or new, leading zeros lost or not) then confirms,
 * narrows or contradicts what the text said.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

typedef struct part {
    const char *s;
    size_t len;
    adm_key key;
} part;

typedef struct units {
    uint32_t v[ADM_MAX_CAND];
    size_t n;
} units;

/* The parts of an address, blanks trimmed, empty ones left out; only the
 * last ADM_MAX_PARTS are kept (the units are at the end). */
static size_t split_parts(const char *s, size_t len, part *parts)
{
    size_t n = 0, i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && s[j] != ',' && s[j] != ';' && s[j] != '\n')
            j++;
        size_t a = i, b = j;
        while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
            b--;
        if (b > a) {
            if (n == ADM_MAX_PARTS) {
                memmove(parts, parts + 1, (ADM_MAX_PARTS - 1) * sizeof *parts);
                n--;
            }
            parts[n].s = s + a;
            parts[n].len = b - a;
            parts[n].key.len = (size_t)-1; /* made when needed */
            n++;
        }
        i = j + 1;
    }
    return n;
}

static const adm_key *key_of(part *p)
{
    if (p->key.len == (size_t)-1)
        adm_key_make(p->s, p->len, 1, &p->key);
    return &p->key;
}

static const adm_unit *unit_of(const adm_tables *t, int kind, uint32_t i)
{
    switch (kind) {
    case ADM_OLD_PROVINCE:
        return &t->old_prov[i];
    case ADM_NEW_PROVINCE:
        return &t->new_prov[i];
    case ADM_OLD_DISTRICT:
        return &t->old_dist[i];
    case ADM_NEW_WARD:
        return &t->new_ward[i];
    default:
        return &t->old_ward[i];
    }
}

static void add_unit(units *u, uint32_t v)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->v[i] == v)
            return;
    if (u->n < ADM_MAX_CAND)
        u->v[u->n++] = v;
}

/* Units of kind under parent named by k, added to u.  A written type word
 * of another level finds nothing; of the same level it picks among
 * namesakes ("Thị xã Long Mỹ", "Huyện Long Mỹ"), and a single namesake of
 * another type of that level is still taken (units change type). */
static void lookup(const adm_tables *t, int kind, uint32_t parent, const adm_key *k, int level,
                   units *u)
{
    if (!k->len || (k->type && !(adm_type_levels(k->type) & level)))
        return;
    units all = {{0}, 0}, typed = {{0}, 0}, stale = {{0}, 0}, stale_typed = {{0}, 0};
    int old = kind == ADM_OLD_WARD || kind == ADM_OLD_WARD_IN_PROVINCE;
    for (uint32_t e = adm_find(t, kind, parent, k->text, k->len); e; e = t->entries[e - 1].next) {
        const adm_entry *en = &t->entries[e - 1];
        uint32_t i = en->unit;
        /* a namesake only the 2025-01-04 list has yields to the table's */
        int listed = !old || en->listed;
        add_unit(listed ? &all : &stale, i);
        if (k->type && en->type == k->type)
            add_unit(listed ? &typed : &stale_typed, i);
    }
    if (!all.n) {
        all = stale;
        typed = stale_typed;
    }
    const units *use = typed.n ? &typed : &all;
    for (size_t i = 0; i < use->n; i++)
        add_unit(u, use->v[i]);
}

/* ---- reasons ------------------------------------------------------------------ */

static void say(adm_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(adm_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

/* Append ", A, B" style lists of unit names to the reason. */
static void say_list(adm_result *r, const adm_tables *t, int kind, const uint32_t *v, size_t n,
                     const char *sep_last)
{
    size_t len = strlen(r->reason);
    for (size_t i = 0; i < n && len < sizeof r->reason - 1; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? sep_last : ", ";
        len += (size_t)snprintf(r->reason + len, sizeof r->reason - len, "%s%s", sep,
                                unit_of(t, kind, v[i])->name);
    }
}

static void say_more(adm_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_more(adm_result *r, const char *fmt, ...)
{
    size_t len = strlen(r->reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason + len, sizeof r->reason - len, fmt, ap);
    va_end(ap);
}

/* ---- outcomes ---------------------------------------------------------------- */

static void set_ok(const adm_tables *t, adm_result *r, uint32_t new_ward)
{
    r->status = ADM_OK;
    r->new_ward = new_ward;
    r->new_province = (int32_t)t->new_ward[new_ward].parent;
    r->reason[0] = '\0';
}

/* An old ward found: its new ward, or the split, or nothing after 2025-01. */
static void from_old_ward(const adm_tables *t, adm_result *r, uint32_t w)
{
    const adm_unit *u = &t->old_ward[w];
    const adm_unit *d = &t->old_dist[u->parent];
    r->old_ward = w + 1;
    if (u->n == 1) {
        set_ok(t, r, t->targets[u->first]);
        return;
    }
    if (u->n == 0) {
        r->status = ADM_UNKNOWN;
        say(r,
            "old ward %s, %s is in the list of 2025-01-04 but not in the conversion table (it "
            "was merged before 2025-07-01): the address needs its later ward",
            u->name, d->name);
        return;
    }
    r->status = ADM_SPLIT;
    r->ncand = 0;
    int32_t prov = (int32_t)t->new_ward[t->targets[u->first]].parent;
    for (uint32_t i = 0; i < u->n && r->ncand < ADM_MAX_CAND; i++) {
        r->cand[r->ncand++] = t->targets[u->first + i];
        if ((int32_t)t->new_ward[t->targets[u->first + i]].parent != prov)
            prov = -1;
    }
    r->new_province = prov;
    say(r, "old ward %s, %s was split into ", u->name, d->name);
    say_list(r, t, ADM_NEW_WARD, r->cand, r->ncand, ", ");
    say_more(r, "; street-level data needed");
}

static void ambiguous(const adm_tables *t, adm_result *r, const part *p, int kind, const units *u,
                      const char *where)
{
    r->status = ADM_AMBIGUOUS;
    say(r, "'%.*s' names %zu %s of %s: ", (int)p->len, p->s, u->n,
        kind == ADM_OLD_DISTRICT ? "old districts" : "units", where);
    say_list(r, t, kind, u->v, u->n, " and ");
    say_more(r, "; write the unit's type word or its district");
    r->ncand = 0;
    if (kind == ADM_NEW_WARD)
        for (size_t i = 0; i < u->n; i++)
            r->cand[r->ncand++] = u->v[i];
}

/* ---- provinces ------------------------------------------------------------- */

typedef struct province_ctx {
    int32_t new_p;   /* the 2025 province */
    uint32_t old[8]; /* the old provinces whose units may be named */
    size_t nold;
    int named_new;    /* named by a 2025 province's name */
    int32_t same_old; /* the old province of that very name, searched first; -1 none */
} province_ctx;

/* A province named by k: the 2025 one, and the old ones to search (all those
 * merged into it when the name is a 2025 province's).  0 when k names none. */
static int province_from_key(const adm_tables *t, const adm_key *k, province_ctx *pc)
{
    units olds = {{0}, 0}, news = {{0}, 0};
    if (k->len && k->len <= 2 && strspn(k->text, "0123456789") == k->len) {
        /* a province code: the old codes (a 2025 province kept the code of
         * one of the provinces merged into it, so both readings agree) */
        uint32_t c = (uint32_t)atoi(k->text);
        if (!t->old_prov_by_code[c])
            return 0;
        olds.v[olds.n++] = t->old_prov_by_code[c] - 1;
    } else {
        lookup(t, ADM_OLD_PROVINCE, 0, k, 4, &olds);
        lookup(t, ADM_NEW_PROVINCE, 0, k, 4, &news);
        if (!olds.n && !news.n) { /* "Khanh Hoa": without diacritics, when only one matches */
            adm_key f;
            adm_key_fold(k, &f);
            lookup(t, ADM_OLD_PROVINCE_FOLDED, 0, &f, 4, &olds);
            lookup(t, ADM_NEW_PROVINCE_FOLDED, 0, &f, 4, &news);
        }
    }
    if (news.n != 1 && olds.n != 1)
        return 0;
    pc->named_new = news.n == 1;
    pc->same_old = olds.n == 1 ? (int32_t)olds.v[0] : -1;
    pc->new_p = news.n == 1 ? (int32_t)news.v[0] : (int32_t)t->old_prov[olds.v[0]].first;
    if (news.n == 1) {
        pc->nold = t->nmerged[pc->new_p];
        memcpy(pc->old, t->merged[pc->new_p], pc->nold * sizeof pc->old[0]);
    } else {
        pc->nold = 1;
        pc->old[0] = olds.v[0];
    }
    return 1;
}

int adm_province_named(const adm_tables *t, const char *s, int32_t *new_index, int32_t *old_index)
{
    adm_key k;
    adm_key_make(s, strlen(s), 1, &k);
    province_ctx pc;
    if (!province_from_key(t, &k, &pc))
        return 0;
    *new_index = pc.new_p;
    *old_index = pc.same_old;
    return 1;
}

/* lookup over the province's old provinces: the one of the same name first,
 * the others (merged into the same 2025 province) only when it has none. */
static void lookup_old(const adm_tables *t, const province_ctx *pc, int kind, const adm_key *k,
                       int level, units *u)
{
    if (pc->same_old >= 0) {
        lookup(t, kind, (uint32_t)pc->same_old, k, level, u);
        if (u->n)
            return;
    }
    for (size_t i = 0; i < pc->nold; i++)
        if ((int32_t)pc->old[i] != pc->same_old)
            lookup(t, kind, pc->old[i], k, level, u);
}

/* ---- the two forms ----------------------------------------------------------- */

/* New form: part p is a 2025 ward of the province or an old ward of one of
 * its old provinces, named without its district.  A 2025 province's name
 * ("Phường Ngọc Hà, Hà Nội") asks for its 2025 wards first and the old ones
 * only when none matches; an old province's name ("Xã Yên Bình, Nam Định")
 * the other way round.  1 when found. */
static int new_form(const adm_tables *t, const province_ctx *pc, part *p, adm_result *r)
{
    const adm_key *k = key_of(p);
    units nw = {{0}, 0}, ow = {{0}, 0};
    const char *where = t->new_prov[pc->new_p].name;
    for (int pass = 0; pass < 2; pass++) {
        if ((pass == 0) == pc->named_new) {
            lookup(t, ADM_NEW_WARD, (uint32_t)pc->new_p, k, 1, &nw);
            if (nw.n > 1)
                ambiguous(t, r, p, ADM_NEW_WARD, &nw, where);
            else if (nw.n == 1)
                set_ok(t, r, nw.v[0]);
            if (nw.n)
                return 1;
        } else {
            lookup_old(t, pc, ADM_OLD_WARD_IN_PROVINCE, k, 1, &ow);
            if (ow.n > 1)
                ambiguous(t, r, p, ADM_OLD_WARD, &ow, where);
            else if (ow.n == 1)
                from_old_ward(t, r, ow.v[0]);
            if (ow.n)
                return 1;
        }
    }
    return 0;
}

/* A part that starts like a house or street, not a unit: a number, or a
 * word such as số, ngõ, hẻm, thôn, xóm, ấp, tổ, đường (as keys). */
static int house_like(const adm_key *k)
{
    static const char *const words[] = {
        "sô1",  "ngo4", "ngach1", "hem3", "kiêt5", "thôn", "xom1", "âp1",  "tô3",   "khu", "đương2",
        "phô1", "lô",   "km",     "căn",  "tâng2", "nha2", "toa2", "ban3", "lang2", "cum5"};
    if (!k->len)
        return 0;
    if (k->text[0] >= '0' && k->text[0] <= '9')
        return 1;
    size_t n = strcspn(k->text, " ");
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && memcmp(k->text, words[i], n) == 0)
            return 1;
    return 0;
}

/* Old form: d is an old district of the province, w its old ward.  0 when
 * d names no old district there. */
static int old_form(const adm_tables *t, const province_ctx *pc, part *w, part *d, adm_result *r,
                    int *ward_from_new)
{
    units ds = {{0}, 0};
    lookup_old(t, pc, ADM_OLD_DISTRICT, key_of(d), 2, &ds);
    if (!ds.n)
        return 0;
    const char *where =
        pc->same_old >= 0 ? t->old_prov[pc->same_old].name : t->new_prov[pc->new_p].name;
    if (ds.n > 1) {
        ambiguous(t, r, d, ADM_OLD_DISTRICT, &ds, where);
        return 1;
    }
    const adm_unit *dist = &t->old_dist[ds.v[0]];
    units ws = {{0}, 0};
    if (w)
        lookup(t, ADM_OLD_WARD, ds.v[0], key_of(w), 1, &ws);
    if (ws.n > 1) {
        ambiguous(t, r, w, ADM_OLD_WARD, &ws, dist->name);
        return 1;
    }
    if (ws.n == 1) {
        from_old_ward(t, r, ws.v[0]);
        return 1;
    }
    /* not one of its old wards: a 2025 ward written with its old district? */
    units nw = {{0}, 0};
    if (w)
        lookup(t, ADM_NEW_WARD, (uint32_t)pc->new_p, key_of(w), 1, &nw);
    if (nw.n == 1) {
        set_ok(t, r, nw.v[0]);
        return 1;
    }
    if (t->dist_target[ds.v[0]]) { /* the whole district became one unit */
        set_ok(t, r, t->dist_target[ds.v[0]] - 1);
        *ward_from_new = 2;
        return 1;
    }
    /* perhaps d is a 2025 ward that shares an old district's name ("12 Lê
     * Lợi, Gò Vấp, TP.HCM"): only when w reads as a house part; a ward
     * the district never had ("Xã Hư Cấu") is unknown, and a bare name
     * could be either */
    if (w && !key_of(w)->type && new_form(t, pc, d, r) && r->status != ADM_AMBIGUOUS) {
        if (house_like(key_of(w))) {
            *ward_from_new = 1;
            return 1;
        }
        r->status = ADM_AMBIGUOUS;
        say(r,
            "'%.*s, %.*s' is either old %s with no ward '%.*s', or the 2025 %s after a street "
            "'%.*s'; write the type words (Phường, Xã, Quận, Huyện)",
            (int)w->len, w->s, (int)d->len, d->s, dist->name, (int)w->len, w->s,
            t->new_ward[r->new_ward].name, (int)w->len, w->s);
        r->ncand = 1;
        r->cand[0] = r->new_ward;
        return 1;
    }
    r->status = ADM_UNKNOWN;
    if (w)
        say(r, "'%.*s' is not a ward of old %s (%s) nor a 2025 ward of %s", (int)w->len, w->s,
            dist->name, t->old_prov[dist->parent].name, where);
    else
        say(r, "the address names old %s (%s) but no ward", dist->name,
            t->old_prov[dist->parent].name);
    return 1;
}

/* ---- the ward code ----------------------------------------------------------- */

/* A ward code as a number (blanks around it, lost leading zeros and a
 * spreadsheet's ".0" are fine), or -1. */
static long code_value(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len > 2 && s[len - 2] == '.' && s[len - 1] == '0')
        len -= 2;
    if (!len || len > 5)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int old_goes_to(const adm_tables *t, uint32_t old, uint32_t new_ward)
{
    const adm_unit *u = &t->old_ward[old];
    for (uint32_t i = 0; i < u->n; i++)
        if (t->targets[u->first + i] == new_ward)
            return 1;
    return 0;
}

/* What the code alone says, when the text said nothing usable. */
static void from_code(const adm_tables *t, long c, int32_t province, adm_result *r)
{
    uint32_t old = t->old_by_code[c], nw = t->new_by_code[c];
    if (!old && !nw) {
        r->status = ADM_UNKNOWN;
        say_more(r, "%sward_code %05ld is neither an old nor a 2025 ward code",
                 *r->reason ? "; " : "", c);
        return;
    }
    if (old && nw && !(t->old_ward[old - 1].n == 1 && old_goes_to(t, old - 1, nw - 1))) {
        r->status = ADM_AMBIGUOUS;
        say(r, "ward_code %05ld is old %s, %s and the 2025 %s (%s); the address must say which", c,
            t->old_ward[old - 1].name, t->old_dist[t->old_ward[old - 1].parent].name,
            t->new_ward[nw - 1].name, t->new_prov[t->new_ward[nw - 1].parent].name);
        return;
    }
    if (nw)
        set_ok(t, r, nw - 1);
    else
        from_old_ward(t, r, old - 1);
    if (province >= 0 && r->new_province >= 0 && r->new_province != province) {
        r->status = ADM_MISMATCH;
        say(r, "ward_code %05ld is in %s, but the address names %s", c,
            t->new_prov[r->new_province].name, t->new_prov[province].name);
    }
}

static void mismatch(const adm_tables *t, long c, adm_result *r, const char *named)
{
    uint32_t old = t->old_by_code[c], nw = t->new_by_code[c];
    char is[400];
    if (old)
        snprintf(is, sizeof is, "old %s, %s", t->old_ward[old - 1].name,
                 t->old_dist[t->old_ward[old - 1].parent].name);
    else if (nw)
        snprintf(is, sizeof is, "the 2025 %s (%s)", t->new_ward[nw - 1].name,
                 t->new_prov[t->new_ward[nw - 1].parent].name);
    else
        snprintf(is, sizeof is, "no ward at all");
    r->status = ADM_MISMATCH;
    say(r, "ward_code %05ld is %s, but the address names %s", c, is, named);
}

/* The text's result r checked (and narrowed) by code c. */
static void check_code(const adm_tables *t, long c, adm_result *r, int32_t province)
{
    uint32_t old = t->old_by_code[c], nw = t->new_by_code[c];
    char named[400];
    if (r->old_ward)
        snprintf(named, sizeof named, "old %s, %s", t->old_ward[r->old_ward - 1].name,
                 t->old_dist[t->old_ward[r->old_ward - 1].parent].name);
    if (r->status == ADM_OK) {
        if (r->old_ward ? (old == r->old_ward || nw == r->new_ward + 1)
                        : (nw == r->new_ward + 1 || (old && old_goes_to(t, old - 1, r->new_ward))))
            return;
        if (!r->old_ward)
            snprintf(named, sizeof named, "%s", t->new_ward[r->new_ward].name);
        mismatch(t, c, r, named);
        return;
    }
    if (r->status == ADM_SPLIT || r->status == ADM_AMBIGUOUS) {
        if (r->old_ward && old == r->old_ward)
            return; /* the same old ward: still split */
        for (size_t i = 0; i < r->ncand; i++) {
            if (nw == r->cand[i] + 1 || (old && t->old_ward[old - 1].n == 1 &&
                                         t->targets[t->old_ward[old - 1].first] == r->cand[i])) {
                set_ok(t, r, r->cand[i]);
                return;
            }
        }
        if (r->status == ADM_SPLIT) {
            mismatch(t, c, r, named);
            return;
        }
        return; /* ambiguous text, and the code does not pick one of its candidates */
    }
    from_code(t, c, province, r);
}

/* ---- the whole address ----------------------------------------------------------- */

/* Bytes of the address before parts[first] (its units), separators and
 * blanks after them left out; parts cut off the front of a long address
 * (ADM_MAX_PARTS) still count. */
static size_t house_before(const adm_query *q, const part *parts, size_t n, size_t first)
{
    if (!n)
        return 0;
    const char *end = first ? parts[first - 1].s + parts[first - 1].len : parts[0].s;
    while (end > q->address && (end[-1] == ',' || end[-1] == ';' || end[-1] == ' ' ||
                                end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    return (size_t)(end - q->address);
}

static void resolve_text(const adm_tables *t, const adm_query *q, part *parts, size_t n,
                         province_ctx *pc, int *have_province, adm_result *r)
{
    size_t end = n;
    *have_province = 0;
    if (n && province_from_key(t, key_of(&parts[n - 1]), pc)) {
        end = n - 1;
        *have_province = 1;
    } else if (q->default_province >= 0) {
        pc->new_p = q->default_province;
        pc->nold = t->nmerged[pc->new_p];
        memcpy(pc->old, t->merged[pc->new_p], pc->nold * sizeof pc->old[0]);
        pc->same_old = q->default_old_province;
        pc->named_new =
            q->default_old_province < 0 || strcmp(t->old_prov[q->default_old_province].name,
                                                  t->new_prov[q->default_province].name) == 0;
        *have_province = 1;
    } else {
        r->status = ADM_UNKNOWN;
        if (n && q->province_only)
            say(r, "'%.*s' is none of the 34 provinces of 2025 nor of the 63 before",
                (int)parts[n - 1].len, parts[n - 1].s);
        else if (n)
            say(r,
                "the address does not end with a province ('%.*s' is none of the 34 provinces "
                "of 2025 nor of the 63 before); set province: when the file comes from one",
                (int)parts[n - 1].len, parts[n - 1].s);
        else
            say(r, "the address is empty");
        return;
    }
    if (q->province_only) {
        r->status = ADM_OK;
        r->new_province = pc->new_p;
        r->house_len = house_before(q, parts, n, end);
        return;
    }
    if (!end) {
        r->status = ADM_UNKNOWN;
        say(r, "the address names only the province %s", t->new_prov[pc->new_p].name);
        return;
    }
    int from_new = 0;
    size_t first_unit = end - 1;
    if (end >= 2 && old_form(t, pc, &parts[end - 2], &parts[end - 1], r, &from_new)) {
        first_unit = from_new == 1 ? end - 1 : end - 2;
    } else if (end == 1 && old_form(t, pc, NULL, &parts[0], r, &from_new)) {
        first_unit = 0;
    } else if (!new_form(t, pc, &parts[end - 1], r)) {
        r->status = ADM_UNKNOWN;
        say(r, "'%.*s' is neither a 2025 ward of %s nor an old ward or district there",
            (int)parts[end - 1].len, parts[end - 1].s, t->new_prov[pc->new_p].name);
    }
    if (from_new == 2)
        first_unit = end - 1; /* a district that became one unit: the part before is the house */
    r->house_len = house_before(q, parts, n, first_unit);
}

void adm_resolve(const adm_tables *t, const adm_query *q, adm_result *r)
{
    part parts[ADM_MAX_PARTS];
    size_t n = q->address ? split_parts(q->address, q->address_len, parts) : 0;
    province_ctx pc = {-1, {0}, 0, 0, -1};
    int have_province = 0;
    r->status = ADM_UNKNOWN;
    r->new_province = -1;
    r->old_ward = 0;
    r->new_ward = 0;
    r->ncand = 0;
    r->house_len = 0;
    r->reason[0] = '\0';
    long c = -1;
    int have_code = q->code && q->code_len;
    if (have_code && (c = code_value(q->code, q->code_len)) < 0) {
        r->status = ADM_UNKNOWN;
        char shown[64];
        say(r, "ward_code '%s' is not a ward code (1 to 5 digits)",
            adm_shown(q->code, q->code_len, shown, sizeof shown));
        return;
    }
    if (n || !have_code)
        resolve_text(t, q, parts, n, &pc, &have_province, r);
    /* province_only: no ward was resolved (new_ward means nothing), and the
     * step has no ward code then (admin.c); a query with both is not checked
     * against the code */
    if (have_code && !q->province_only)
        check_code(t, c, r, have_province ? pc.new_p : -1);
}
