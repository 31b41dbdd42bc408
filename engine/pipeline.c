/*
 * pipeline.c -- see pipeline.h.
 */
#include "config.h"

#include "pipeline.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "run/ops.h"
#include "util/words.h"

typedef struct builder {
    const char *path;
    const mk_plugin_path *sp;
    int errors;
} builder;

static void problem(builder *b, const cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(builder *b, const cfg_node *at, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        mk_log(MK_LOG_ERROR, "%s:%d:%d: %s", b->path, at->line, at->column, msg);
    else
        mk_log(MK_LOG_ERROR, "%s: %s", b->path, msg);
    b->errors++;
}

const char *mk_role_name(mk_role role)
{
    switch (role) {
    case MK_ROLE_SOURCE: return "source";
    case MK_ROLE_TRANSFORM: return "transform";
    case MK_ROLE_SINK: return "sink";
    }
    return "?";
}

const mk_option_decl *mk_plugin_role_options(const mk_plugin *d, mk_role role)
{
    switch (role) {
    case MK_ROLE_SOURCE: return d->source ? d->source_options : NULL;
    case MK_ROLE_TRANSFORM: return d->transform ? d->transform_options : NULL;
    case MK_ROLE_SINK: return d->sink ? d->sink_options : NULL;
    }
    return NULL;
}

static int plugin_has_role(const mk_plugin *d, mk_role role)
{
    return (role == MK_ROLE_SOURCE && d->source) || (role == MK_ROLE_TRANSFORM && d->transform) ||
           (role == MK_ROLE_SINK && d->sink);
}

/* A step's or the pipeline's name: at most MK_NAME_MAX bytes, no control
 * characters, no '/' (the default report is NAME.report.json).  Returns 0 if it is fine. */
#define MK_NAME_MAX 200

static int check_name(builder *b, const cfg_node *at, const char *what, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > MK_NAME_MAX) {
        problem(b, at, "%s is %zu bytes long; give 1 to %d", what, len, MK_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            problem(b, at, "%s has a control character (0x%02x) at byte %zu", what, c, i + 1);
            return -1;
        }
        if (c == '/') {
            problem(b, at, "%s has a '/' at byte %zu (a name also names the report file)", what,
                    i + 1);
            return -1;
        }
    }
    return 0;
}

/* ---- options -------------------------------------------------------- */

static const char *type_name(mk_option_type t)
{
    switch (t) {
    case MK_OPT_STRING: return "a string";
    case MK_OPT_INT: return "an integer";
    case MK_OPT_BOOL: return "true or false";
    case MK_OPT_CHAR: return "one ASCII character";
    case MK_OPT_PATH: return "a path";
    case MK_OPT_MAP: return "a mapping (key: value)";
    case MK_OPT_LIST: return "a list";
    }
    return "?";
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int parse_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* One ASCII byte (or \t): a byte above 0x7f would be one byte of a
 * multi-byte character, or a different letter in each single-byte encoding,
 * so a parser splitting on it would cut characters apart. */
static int char_fits(const char *v)
{
    if (strcmp(v, "\\t") == 0 || strcmp(v, "tab") == 0)
        return 0;
    return strlen(v) == 1 && (unsigned char)v[0] < 0x80 ? 0 : -1;
}

/* Check a scalar against the option's type; 0 if fine. */
static int scalar_fits(const mk_option_decl *d, const char *v)
{
    long long i;
    int bo;
    switch (d->type) {
    case MK_OPT_INT: return parse_int(v, &i);
    case MK_OPT_BOOL: return parse_bool(v, &bo);
    case MK_OPT_CHAR: return char_fits(v);
    default: return 0;
    }
}

/* The range "MIN..MAX" (either end may be left out) an integer option
 * declares in choices: 1 and the bounds, 0 when choices is no range. */
static int int_range(const mk_option_decl *d, long long *lo, long long *hi)
{
    const char *dots = d->type == MK_OPT_INT && d->choices ? strstr(d->choices, "..") : NULL;
    if (!dots)
        return 0;
    char low[32];
    snprintf(low, sizeof low, "%.*s", (int)(dots - d->choices), d->choices);
    *lo = LLONG_MIN;
    *hi = LLONG_MAX;
    if (low[0] && parse_int(low, lo) != 0)
        return 0;
    if (dots[2] && parse_int(dots + 2, hi) != 0)
        return 0;
    return 1;
}

/* An integer within the declared range, else a problem saying the range. */
static int int_in_range(builder *b, const mk_step *ctx, const mk_option_decl *d,
                        const cfg_node *v)
{
    long long lo, hi, i;
    if (!int_range(d, &lo, &hi) || parse_int(v->value, &i) != 0 || (i >= lo && i <= hi))
        return 1;
    char want[80];
    if (lo != LLONG_MIN && hi != LLONG_MAX)
        snprintf(want, sizeof want, "from %lld to %lld", lo, hi);
    else if (lo != LLONG_MIN)
        snprintf(want, sizeof want, "at least %lld", lo);
    else
        snprintf(want, sizeof want, "at most %lld", hi);
    problem(b, v, "option '%s' of %s '%s' must be %s, not %s", d->name, mk_role_name(ctx->role),
            ctx->name, want, v->value);
    return 0;
}

/* Split "a|b|c" into words (in buf); returns how many. */
static size_t split_choices(const char *choices, char *buf, size_t buflen, const char **out,
                            size_t max)
{
    snprintf(buf, buflen, "%s", choices);
    size_t n = 0;
    for (char *tok = strtok(buf, "|"); tok && n < max; tok = strtok(NULL, "|"))
        out[n++] = tok;
    return n;
}

static size_t count_decls(const mk_option_decl *decls)
{
    size_t n = 0;
    while (decls && decls[n].name)
        n++;
    return n;
}

static void set_list(builder *b, mk_step *ctx, mk_optval *ov, const cfg_node *v)
{
    if (v->kind == CFG_SCALAR) {
        ov->count = 1;
        ov->values = calloc(1, sizeof(char *));
        ov->values[0] = strdup(v->value);
        return;
    }
    if (v->kind != CFG_SEQ) {
        problem(b, v, "option '%s' of %s '%s' must be a list of strings, not %s", ov->decl->name,
                mk_role_name(ctx->role), ctx->name, cfg_kind_name(v->kind));
        return;
    }
    ov->values = calloc(v->count ? v->count : 1, sizeof(char *));
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i]->kind != CFG_SCALAR) {
            problem(b, v->items[i], "option '%s': list items must be strings, not %s",
                    ov->decl->name, cfg_kind_name(v->items[i]->kind));
            continue;
        }
        ov->values[ov->count++] = strdup(v->items[i]->value);
    }
}

static void set_map(builder *b, mk_step *ctx, mk_optval *ov, const cfg_node *v)
{
    if (v->kind != CFG_MAP) {
        problem(b, v, "option '%s' of %s '%s' must be a mapping like { old: new }, not %s",
                ov->decl->name, mk_role_name(ctx->role), ctx->name, cfg_kind_name(v->kind));
        return;
    }
    ov->keys = calloc(v->count ? v->count : 1, sizeof(char *));
    ov->values = calloc(v->count ? v->count : 1, sizeof(char *));
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i]->kind != CFG_SCALAR) {
            problem(b, v->items[i], "option '%s': the value of '%s' must be a string, not %s",
                    ov->decl->name, v->keys[i]->value, cfg_kind_name(v->items[i]->kind));
            continue;
        }
        ov->keys[ov->count] = strdup(v->keys[i]->value);
        ov->values[ov->count++] = strdup(v->items[i]->value);
    }
}

static void set_option(builder *b, mk_step *ctx, mk_optval *ov, const cfg_node *v,
                       const char *dir)
{
    const mk_option_decl *d = ov->decl;
    ov->set = 1;
    if (d->type == MK_OPT_LIST) {
        set_list(b, ctx, ov, v);
        return;
    }
    if (d->type == MK_OPT_MAP) {
        set_map(b, ctx, ov, v);
        return;
    }
    if (v->kind != CFG_SCALAR) {
        problem(b, v, "option '%s' of %s '%s' must be %s, not %s", d->name,
                mk_role_name(ctx->role), ctx->name, type_name(d->type), cfg_kind_name(v->kind));
        return;
    }
    if (d->choices && d->type != MK_OPT_INT && mk_choice_index(d->choices, v->value) < 0) {
        char list[256];
        const char *cands[16];
        size_t n = split_choices(d->choices, list, sizeof list, cands, 16);
        const char *near = mk_suggest(v->value, cands, n);
        problem(b, v, "option '%s' of %s '%s' must be one of %s, not '%s'%s%s%s", d->name,
                mk_role_name(ctx->role), ctx->name, d->choices, v->value,
                near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        return;
    }
    if (scalar_fits(d, v->value) != 0) {
        problem(b, v, "option '%s' of %s '%s' must be %s, not '%s'", d->name,
                mk_role_name(ctx->role), ctx->name, type_name(d->type), v->value);
        return;
    }
    if (!int_in_range(b, ctx, d, v))
        return;
    if (d->type == MK_OPT_PATH && v->value[0] == '\0') {
        problem(b, v, "option '%s' of %s '%s' is an empty path", d->name,
                mk_role_name(ctx->role), ctx->name);
        return;
    }
    if (d->type == MK_OPT_CHAR && (strcmp(v->value, "\\t") == 0 || strcmp(v->value, "tab") == 0))
        ov->value = strdup("\t");
    else
        ov->value = d->type == MK_OPT_PATH ? mk_path_join(dir, v->value) : strdup(v->value);
}

/* Reserved keys of a step, besides the plugin's options. */
static const char *const source_keys[] = {"name", "plugin", "transforms", "state"};
static const char *const step_keys[] = {"name", "plugin", "state"};

static void build_step(builder *b, mk_step *ctx, mk_role role, const cfg_node *node,
                       size_t index, const char *dir);

static void unknown_key(builder *b, mk_step *ctx, const cfg_node *key,
                        const mk_option_decl *decls, int is_source)
{
    const char *cands[64];
    size_t n = 0;
    const char *const *reserved = is_source ? source_keys : step_keys;
    size_t nres = is_source ? 4 : 3;
    for (size_t i = 0; i < nres && n < 64; i++)
        cands[n++] = reserved[i];
    for (size_t i = 0; decls && decls[i].name && n < 64; i++)
        cands[n++] = decls[i].name;
    const char *near = mk_suggest(key->value, cands, n);
    if (near)
        problem(b, key, "unknown option '%s' for %s '%s' (plugin %s); did you mean '%s'?",
                key->value, mk_role_name(ctx->role), ctx->name, ctx->plugin_name, near);
    else
        problem(b, key,
                "unknown option '%s' for %s '%s' (plugin %s); 'mekong plugins' lists its options",
                key->value, mk_role_name(ctx->role), ctx->name, ctx->plugin_name);
}

static void build_options(builder *b, mk_step *ctx, const cfg_node *node, const char *dir)
{
    const mk_option_decl *decls = mk_plugin_role_options(ctx->plugin.desc, ctx->role);
    size_t n = count_decls(decls);
    ctx->opts.count = n;
    ctx->opts.v = calloc(n ? n : 1, sizeof(mk_optval));
    for (size_t i = 0; i < n; i++)
        ctx->opts.v[i].decl = &decls[i];
    int is_source = ctx->role == MK_ROLE_SOURCE;
    for (size_t k = 0; k < node->count; k++) {
        const char *key = node->keys[k]->value;
        if (strcmp(key, "name") == 0 || strcmp(key, "plugin") == 0 ||
            strcmp(key, "state") == 0 || (is_source && strcmp(key, "transforms") == 0))
            continue;
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(decls[i].name, key) == 0)
                break;
        if (i == n) {
            unknown_key(b, ctx, node->keys[k], decls, is_source);
            continue;
        }
        set_option(b, ctx, &ctx->opts.v[i], node->items[k], dir);
    }
    for (size_t i = 0; i < n; i++) {
        mk_optval *ov = &ctx->opts.v[i];
        if (ov->set)
            continue;
        if (decls[i].required) {
            problem(b, node, "%s '%s' (plugin %s) needs option '%s': %s", mk_role_name(ctx->role),
                    ctx->name, ctx->plugin_name, decls[i].name, decls[i].help);
        } else if (decls[i].default_value && decls[i].type != MK_OPT_MAP &&
                   decls[i].type != MK_OPT_LIST) {
            ov->value = decls[i].type == MK_OPT_PATH ? mk_path_join(dir, decls[i].default_value)
                                                     : strdup(decls[i].default_value);
        }
    }
}

static void build_chain(builder *b, mk_step *src, const cfg_node *list, const char *dir)
{
    if (list->kind != CFG_SEQ) {
        problem(b, list, "'transforms' of source '%s' must be a list of steps, not %s", src->name,
                cfg_kind_name(list->kind));
        return;
    }
    src->chain = calloc(list->count ? list->count : 1, sizeof(mk_step));
    src->chain_len = list->count;
    for (size_t i = 0; i < list->count; i++) {
        build_step(b, &src->chain[i], MK_ROLE_TRANSFORM, list->items[i], i, dir);
        /* name it after its source so the report tells them apart */
        char *old = src->chain[i].name;
        size_t len = strlen(src->name) + strlen(old) + 2;
        src->chain[i].name = malloc(len);
        snprintf(src->chain[i].name, len, "%s/%s", src->name, old);
        free(old);
    }
}

static void build_step(builder *b, mk_step *ctx, mk_role role, const cfg_node *node,
                       size_t index, const char *dir)
{
    ctx->role = role;
    ctx->index = index;
    ctx->line = node->line;
    ctx->column = node->column;
    if (node->kind != CFG_MAP) {
        problem(b, node, "a %s is a mapping with at least 'plugin:', not %s", mk_role_name(role),
                cfg_kind_name(node->kind));
        ctx->name = strdup("?");
        ctx->plugin_name = strdup("?");
        return;
    }
    const cfg_node *plugin = cfg_get(node, "plugin");
    const cfg_node *name = cfg_get(node, "name");
    ctx->plugin_name = strdup(plugin && plugin->kind == CFG_SCALAR ? plugin->value : "?");
    if (name && name->kind == CFG_SCALAR && check_name(b, name, "name", name->value) == 0) {
        ctx->name = strdup(name->value);
    } else {
        char buf[128];
        snprintf(buf, sizeof buf, "%s#%zu", ctx->plugin_name, index + 1);
        ctx->name = strdup(buf);
    }
    if (!plugin || plugin->kind != CFG_SCALAR) {
        problem(b, node, "%s '%s' has no 'plugin:' (which plugin runs it, e.g. plugin: csv)",
                mk_role_name(role), ctx->name);
        return;
    }
    char err[2048];
    if (mk_plugin_load(b->sp, plugin->value, &ctx->plugin, err, sizeof err) != 0) {
        problem(b, plugin, "%s", err);
        return;
    }
    if (!plugin_has_role(ctx->plugin.desc, role)) {
        problem(b, plugin, "plugin %s cannot be a %s (it offers:%s%s%s)", plugin->value,
                mk_role_name(role), ctx->plugin.desc->source ? " source" : "",
                ctx->plugin.desc->transform ? " transform" : "",
                ctx->plugin.desc->sink ? " sink" : "");
        return;
    }
    build_options(b, ctx, node, dir);
    const cfg_node *state = cfg_get(node, "state");
    if (state && (state->kind != CFG_SCALAR || !state->value[0]))
        problem(b, state, "'state' of %s '%s' is the path of its state file", mk_role_name(role),
                ctx->name);
    else if (state)
        ctx->state_path = mk_path_join(dir, state->value);
    if (role == MK_ROLE_SOURCE) {
        const cfg_node *chain = cfg_get(node, "transforms");
        if (chain)
            build_chain(b, ctx, chain, dir);
    }
}

static void build_steps(builder *b, const cfg_node *root, const char *key, mk_role role,
                        mk_step **out, size_t *n, const char *dir, int required)
{
    const cfg_node *list = cfg_get(root, key);
    *out = NULL;
    *n = 0;
    if (!list) {
        if (required)
            problem(b, NULL, "no '%s:' list: a pipeline needs at least one %s", key,
                    mk_role_name(role));
        return;
    }
    if (list->kind != CFG_SEQ) {
        problem(b, list, "'%s' must be a list (each item starting with '- plugin: ...'), not %s",
                key, cfg_kind_name(list->kind));
        return;
    }
    if (required && list->count == 0)
        problem(b, list, "'%s' is empty: a pipeline needs at least one %s", key,
                mk_role_name(role));
    *out = calloc(list->count ? list->count : 1, sizeof(mk_step));
    *n = list->count;
    for (size_t i = 0; i < list->count; i++)
        build_step(b, &(*out)[i], role, list->items[i], i, dir);
}

static int parse_share(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno)
        return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    /* written so that NaN fails too: every comparison with it is false,
     * and a NaN threshold would never be exceeded */
    if (*end || !(v >= 0 && v <= 1))
        return -1;
    *out = v;
    return 0;
}

static void add_threshold(builder *b, mk_pipeline *p, const char *rule, const cfg_node *v)
{
    double share;
    if (v->kind != CFG_SCALAR || parse_share(v->value, &share) != 0) {
        problem(b, v, "a threshold is a share of rows: 0.05 or 5%%, between 0 and 1");
        return;
    }
    p->thresholds = realloc(p->thresholds, (p->nthresholds + 1) * sizeof(mk_threshold));
    p->thresholds[p->nthresholds].rule = rule ? strdup(rule) : NULL;
    p->thresholds[p->nthresholds].max_share = share;
    p->nthresholds++;
}

static void build_thresholds(builder *b, mk_pipeline *p, const cfg_node *t)
{
    static const char *const keys[] = {"max_rejected", "rules", "publish_on_failure"};
    if (t->kind != CFG_MAP) {
        problem(b, t, "'thresholds' must be a mapping (max_rejected:, rules:, publish_on_failure:)");
        return;
    }
    for (size_t i = 0; i < t->count; i++) {
        const char *k = t->keys[i]->value;
        const cfg_node *v = t->items[i];
        if (strcmp(k, "max_rejected") == 0) {
            add_threshold(b, p, NULL, v);
        } else if (strcmp(k, "rules") == 0) {
            if (v->kind != CFG_MAP) {
                problem(b, v, "'thresholds.rules' maps rule names to shares, e.g. { cccd: 1%% }");
                continue;
            }
            for (size_t r = 0; r < v->count; r++)
                add_threshold(b, p, v->keys[r]->value, v->items[r]);
        } else if (strcmp(k, "publish_on_failure") == 0) {
            if (v->kind != CFG_SCALAR || parse_bool(v->value, &p->publish_on_threshold) != 0)
                problem(b, v, "'publish_on_failure' must be true or false");
        } else {
            const char *near = mk_suggest(k, keys, 3);
            problem(b, t->keys[i], "unknown key '%s' in thresholds%s%s%s", k,
                    near ? "; did you mean '" : " (max_rejected, rules, publish_on_failure)",
                    near ? near : "", near ? "'?" : "");
        }
    }
}

static const char *const top_keys[] = {"name",   "description", "sources",     "transforms",
                                       "sinks",  "rejects",     "report",      "html_report",
                                       "batch_rows", "thresholds", "state_dir", "lock_wait"};
#define N_TOP_KEYS (sizeof top_keys / sizeof top_keys[0])

static char *scalar_or_problem(builder *b, const cfg_node *n, const char *key)
{
    if (n->kind != CFG_SCALAR) {
        problem(b, n, "'%s' must be a single value, not %s", key, cfg_kind_name(n->kind));
        return NULL;
    }
    return n->value;
}

/* The keys of a rejects: mapping; an unknown one is a problem. */
static void check_rejects_keys(builder *b, const cfg_node *n)
{
    static const char *const keys[] = {"path", "format", "formula_guard"};
    for (size_t i = 0; i < n->count; i++) {
        const char *k = n->keys[i]->value;
        size_t j;
        for (j = 0; j < 3 && strcmp(k, keys[j]) != 0; j++)
            ;
        if (j < 3)
            continue;
        const char *near = mk_suggest(k, keys, 3);
        problem(b, n->keys[i], "unknown key '%s' in rejects%s%s%s", k,
                near ? "; did you mean '" : " (path, format, formula_guard)", near ? near : "",
                near ? "'?" : "");
    }
}

static void build_rejects_format(builder *b, mk_pipeline *p, const cfg_node *format)
{
    const char *f = scalar_or_problem(b, format, "rejects.format");
    if (f && strcmp(f, "jsonl") == 0)
        p->rejects_jsonl = 1;
    else if (f && strcmp(f, "csv") == 0)
        p->rejects_jsonl = 0;
    else if (f)
        problem(b, format, "'rejects.format' must be csv or jsonl, not '%s'", f);
}

static void build_rejects_guard(builder *b, mk_pipeline *p, const cfg_node *guard)
{
    const char *g = scalar_or_problem(b, guard, "rejects.formula_guard");
    if (g && parse_bool(g, &p->rejects_formula_guard) != 0)
        problem(b, guard, "'rejects.formula_guard' must be true or false, not '%s'", g);
}

/* rejects: PATH, or rejects: { path: PATH, format: csv|jsonl,
 * formula_guard: BOOL }.  A path ending in .jsonl means JSON Lines. */
static void build_rejects(builder *b, mk_pipeline *p, const cfg_node *n)
{
    const cfg_node *path = n, *format = NULL, *guard = NULL;
    p->rejects_formula_guard = -1; /* unset: as the sinks (rejects_guard_default) */
    if (n->kind == CFG_MAP) {
        check_rejects_keys(b, n);
        path = cfg_get(n, "path");
        format = cfg_get(n, "format");
        guard = cfg_get(n, "formula_guard");
        if (!path) {
            problem(b, n, "'rejects' needs a path: rejects: { path: out/rejects.jsonl, "
                          "format: jsonl }");
            return;
        }
    }
    const char *s = scalar_or_problem(b, path, "rejects");
    if (!s)
        return;
    p->rejects_path = mk_path_join(p->dir, s);
    p->rejects_jsonl = mk_ends_with(s, ".jsonl");
    if (format)
        build_rejects_format(b, p, format);
    if (guard)
        build_rejects_guard(b, p, guard);
}

/* rejects.formula_guard unset: true when a sink has formula_guard: true
 * (the rows a spreadsheet user opens are guarded, so are their rejects). */
static void rejects_guard_default(mk_pipeline *p)
{
    if (p->rejects_formula_guard >= 0)
        return;
    p->rejects_formula_guard = 0;
    for (size_t i = 0; i < p->nsinks; i++) {
        const mk_optval *ov = mk_step_option(&p->sinks[i], "formula_guard");
        int on = 0;
        if (ov && ov->decl->type == MK_OPT_BOOL && ov->value && parse_bool(ov->value, &on) == 0 &&
            on)
            p->rejects_formula_guard = 1;
    }
}

/* ---- files that two steps would share -----------------------------
 *
 * A sink writing the file a source reads, or two sinks (or a sink and the
 * rejects file or a report) writing one file, would lose data with exit
 * status 0: the last one renamed into place wins.  Every source's and
 * sink's option named `path` of type path takes part, whatever its plugin;
 * a source's value is a glob and stands for every file it matches. */

typedef struct file_use {
    char *file;          /* canonical path */
    const mk_step *step; /* NULL: the pipeline's own rejects file or report */
    const char *what;    /* for step NULL: "the rejects file", ... */
    int writes;
} file_use;

/* path absolute, with its symbolic links resolved as far as it exists: an
 * output is renamed into place at the end, so neither it nor its folder
 * need exist yet.  malloc'd; NULL when out of memory. */
static char *canonical_path(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    char *head = strdup(path);
    char *slash;
    while (head && (slash = strrchr(head, '/')) && slash != head) {
        *slash = '\0';
        if ((r = realpath(head, NULL))) {
            const char *rest = path + (slash - head) + 1;
            size_t len = strlen(r) + strlen(rest) + 2;
            char *full = malloc(len);
            if (full)
                snprintf(full, len, "%s/%s", r, rest);
            free(r);
            free(head);
            return full;
        }
    }
    free(head);
    char *cwd = path[0] == '/' ? NULL : realpath(".", NULL);
    char *full = cwd ? mk_path_join(cwd, path) : strdup(path);
    free(cwd);
    return full;
}

static void add_use(file_use **uses, size_t *n, const char *path, const mk_step *step,
                    const char *what, int writes)
{
    /* a device or a pipe (/dev/null, /dev/stdout) is written directly, not
     * replaced, so several outputs may share it */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return;
    char *file = canonical_path(path);
    file_use *grown = file ? realloc(*uses, (*n + 1) * sizeof **uses) : NULL;
    if (!grown) {
        free(file);
        return; /* out of memory: this check is skipped, not the run */
    }
    *uses = grown;
    grown[(*n)++] = (file_use){file, step, what, writes};
}

static void add_step_uses(file_use **uses, size_t *n, const mk_step *steps, size_t nsteps)
{
    for (size_t i = 0; i < nsteps; i++) {
        const mk_optval *ov = mk_step_option(&steps[i], "path");
        if (!ov || ov->decl->type != MK_OPT_PATH || !ov->value)
            continue;
        if (steps[i].role == MK_ROLE_SINK) {
            add_use(uses, n, ov->value, &steps[i], NULL, 1);
            continue;
        }
        glob_t g;
        if (glob(ov->value, 0, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc; k++)
                add_use(uses, n, g.gl_pathv[k], &steps[i], NULL, 0);
        } else {
            add_use(uses, n, ov->value, &steps[i], NULL, 0); /* not there yet */
        }
        globfree(&g);
    }
}

/* "source 'in' (line 3)" or "the rejects file" */
static void describe_use(const file_use *u, char *buf, size_t len)
{
    if (u->step)
        snprintf(buf, len, "%s '%s' (line %d)", mk_role_name(u->step->role), u->step->name,
                 u->step->line);
    else
        snprintf(buf, len, "%s", u->what);
}

static void report_clash(builder *b, const file_use *w, const file_use *o)
{
    char a[300], c[300];
    describe_use(w, a, sizeof a);
    describe_use(o, c, sizeof c);
    /* at the step that makes the clash: the later writer, or the sink */
    const mk_step *where = o->writes && o->step ? o->step : w->step ? w->step : o->step;
    cfg_node at = {0};
    at.line = where ? where->line : 0;
    at.column = where ? where->column : 0;
    if (o->writes)
        problem(b, at.line ? &at : NULL,
                "%s and %s both write %s: one would overwrite the other; give each its own file",
                a, c, w->file);
    else
        problem(b, at.line ? &at : NULL,
                "%s writes %s, which %s reads: the run would overwrite its own input; write "
                "the output elsewhere",
                a, w->file, c);
}

static void check_shared_files(builder *b, const mk_pipeline *p)
{
    file_use *uses = NULL;
    size_t n = 0;
    add_step_uses(&uses, &n, p->sources, p->nsources);
    add_step_uses(&uses, &n, p->sinks, p->nsinks);
    if (p->rejects_path)
        add_use(&uses, &n, p->rejects_path, NULL, "the rejects file", 1);
    if (p->report_path)
        add_use(&uses, &n, p->report_path, NULL, "the report", 1);
    if (p->html_report_path)
        add_use(&uses, &n, p->html_report_path, NULL, "the HTML report", 1);
    /* each pair once: a writer with every reader, and with earlier writers */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            if (uses[k].writes && (k < i || !uses[i].writes) &&
                strcmp(uses[i].file, uses[k].file) == 0)
                report_clash(b, &uses[k], &uses[i]);
    for (size_t i = 0; i < n; i++)
        free(uses[i].file);
    free(uses);
}

int mk_pipeline_load(const char *path, const cfg_vars *vars, const mk_plugin_path *sp,
                     mk_pipeline *p)
{
    memset(p, 0, sizeof(*p));
    char err[4096];
    cfg_node *root = cfg_load(path, vars, err, sizeof err);
    if (!root) {
        mk_log(MK_LOG_ERROR, "%s", err);
        return -1;
    }
    char *dir = mk_dir_of(path);
    int rc = mk_pipeline_build(root, path, dir, sp, p);
    free(dir);
    cfg_free(root);
    return rc;
}

int mk_pipeline_build(const cfg_node *root, const char *path, const char *dir,
                      const mk_plugin_path *sp, mk_pipeline *p)
{
    memset(p, 0, sizeof(*p));
    builder b = {path, sp, 0};
    p->path = strdup(path);
    p->dir = strdup(dir);
    p->batch_rows = 1024;

    for (size_t i = 0; i < root->count; i++) {
        const char *k = root->keys[i]->value;
        size_t j;
        for (j = 0; j < N_TOP_KEYS; j++)
            if (strcmp(k, top_keys[j]) == 0)
                break;
        for (size_t o = 0; j == N_TOP_KEYS && mk_ops_keys[o]; o++)
            if (strcmp(k, mk_ops_keys[o]) == 0)
                j = 0; /* a key of nightly operations (run/ops_config.c) */
        if (j == N_TOP_KEYS) {
            const char *near = mk_suggest(k, top_keys, N_TOP_KEYS);
            if (!near)
                near = mk_suggest(k, mk_ops_keys, 4);
            if (near)
                problem(&b, root->keys[i], "unknown key '%s'; did you mean '%s'?", k, near);
            else
                problem(&b, root->keys[i],
                        "unknown key '%s' (a pipeline has: name, sources, transforms, sinks, "
                        "rejects, report, html_report, batch_rows, thresholds, state_dir, "
                        "lock_wait, history, checks, metrics, on_failure)",
                        k);
        }
    }

    const cfg_node *n;
    const char *s;
    if ((n = cfg_get(root, "name")) && (s = scalar_or_problem(&b, n, "name")) &&
        check_name(&b, n, "name", s) == 0)
        p->name = strdup(s);
    else {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        p->name = strndup(base, dot ? (size_t)(dot - base) : strlen(base));
    }
    if ((n = cfg_get(root, "rejects")))
        build_rejects(&b, p, n);
    else
        problem(&b, NULL,
                "no 'rejects:' file: every rejected row is kept, so name a file "
                "(e.g. rejects: out/rejects.csv)");
    if ((n = cfg_get(root, "report")) && (s = scalar_or_problem(&b, n, "report")))
        p->report_path = mk_path_join(p->dir, s);
    if ((n = cfg_get(root, "html_report")) && (s = scalar_or_problem(&b, n, "html_report")))
        p->html_report_path = mk_path_join(p->dir, s);
    if ((n = cfg_get(root, "batch_rows")) && (s = scalar_or_problem(&b, n, "batch_rows"))) {
        long long v;
        if (parse_int(s, &v) != 0 || v < 1 || v > 1000000)
            problem(&b, n, "'batch_rows' must be a whole number from 1 to 1000000");
        else
            p->batch_rows = (size_t)v;
    }
    if ((n = cfg_get(root, "thresholds")))
        build_thresholds(&b, p, n);
    if ((n = cfg_get(root, "state_dir")) && (s = scalar_or_problem(&b, n, "state_dir"))) {
        if (!s[0])
            problem(&b, n, "'state_dir' is an empty path");
        else
            p->state_dir = mk_path_join(p->dir, s);
    }
    if ((n = cfg_get(root, "lock_wait")) && (s = scalar_or_problem(&b, n, "lock_wait"))) {
        long long v;
        if (parse_int(s, &v) != 0 || v < 0 || v > 86400)
            problem(&b, n, "'lock_wait' is whole seconds from 0 to 86400 (0: do not wait)");
        else
            p->lock_wait = (int)v;
    }
    b.errors += mk_ops_config_build(p, root, path);

    build_steps(&b, root, "sources", MK_ROLE_SOURCE, &p->sources, &p->nsources, p->dir, 1);
    build_steps(&b, root, "transforms", MK_ROLE_TRANSFORM, &p->transforms, &p->ntransforms,
                p->dir, 0);
    build_steps(&b, root, "sinks", MK_ROLE_SINK, &p->sinks, &p->nsinks, p->dir, 1);
    rejects_guard_default(p);

    /* Default report beside the rejects file, named after the pipeline. */
    if (!p->report_path && p->rejects_path) {
        char *d = mk_dir_of(p->rejects_path);
        size_t len = strlen(d) + strlen(p->name) + 16;
        p->report_path = malloc(len);
        snprintf(p->report_path, len, "%s/%s.report.json", d, p->name);
        free(d);
    }
    if (!b.errors) /* the steps are complete */
        check_shared_files(&b, p);
    if (!b.errors)
        b.errors += mk_ops_config_check_steps(p, path);
    return b.errors ? -1 : 0;
}

static void free_step(mk_step *c)
{
    for (size_t i = 0; i < c->chain_len; i++)
        free_step(&c->chain[i]);
    free(c->chain);
    for (size_t i = 0; i < c->opts.count; i++) {
        mk_optval *ov = &c->opts.v[i];
        free(ov->value);
        for (size_t k = 0; k < ov->count; k++) {
            if (ov->keys)
                free(ov->keys[k]);
            free(ov->values[k]);
        }
        free(ov->keys);
        free(ov->values);
    }
    free(c->opts.v);
    mk_plugin_unload(&c->plugin);
    free(c->name);
    free(c->plugin_name);
    free(c->state_path);
}

const mk_optval *mk_step_option(const mk_step *step, const char *name)
{
    for (size_t i = 0; i < step->opts.count; i++)
        if (strcmp(step->opts.v[i].decl->name, name) == 0)
            return &step->opts.v[i];
    return NULL;
}

static void free_steps(mk_step *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_step(&list[i]);
    free(list);
}

void mk_pipeline_free(mk_pipeline *p)
{
    free_steps(p->sources, p->nsources);
    free_steps(p->transforms, p->ntransforms);
    free_steps(p->sinks, p->nsinks);
    for (size_t i = 0; i < p->nthresholds; i++)
        free(p->thresholds[i].rule);
    free(p->thresholds);
    free(p->path);
    free(p->dir);
    free(p->name);
    free(p->rejects_path);
    free(p->report_path);
    free(p->html_report_path);
    free(p->state_dir);
    mk_ops_config_free(p->ops);
    memset(p, 0, sizeof(*p));
}
