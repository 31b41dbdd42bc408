/*
 * ops_config.c -- the pipeline keys of nightly operations (see ops.h and
 * docs/NIGHTLY.md):
 *
 *   history: { keep: 30 }
 *   checks:
 *     runs: 7            # the median of the last 7 successful runs
 *     min_runs: 3        # with fewer, the checks are reported but not applied
 *     source_rows:  { hanoi: { warn: 20%, fail: 40% } }
 *     rule_rejects: { cccd: { warn: 2x, fail: 5x } }
 *     null_share:   { ho_ten: { fail: 3x } }
 *   metrics: out/mekong.prom
 *   on_failure: { command: "...", timeout: 60 }   (or on_failure: "...")
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ops.h"
#include "pipeline.h"
#include "util/words.h"

const char *const mk_ops_keys[] = {"history", "checks", "metrics", "on_failure", NULL};

typedef struct parser {
    const char *path;
    int errors;
} parser;

static void problem(parser *ps, const cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(parser *ps, const cfg_node *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mk_log(MK_LOG_ERROR, "%s:%d:%d: %s", ps->path, at->line, at->column, msg);
    ps->errors++;
}

const char *mk_check_kind_name(mk_check_kind k)
{
    switch (k) {
    case MK_CHECK_SOURCE_ROWS:
        return "source_rows";
    case MK_CHECK_RULE_REJECTS:
        return "rule_rejects";
    case MK_CHECK_NULL_SHARE:
        return "null_share";
    }
    return "?";
}

/* An unknown key of a mapping, with a suggestion from keys. */
static void unknown(parser *ps, const cfg_node *key, const char *where, const char *const *keys,
                    size_t nkeys)
{
    const char *near = mk_suggest(key->value, keys, nkeys);
    char list[256] = "";
    for (size_t i = 0; i < nkeys; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", keys[i]);
    if (near)
        problem(ps, key, "unknown key '%s' in %s; did you mean '%s'?", key->value, where, near);
    else
        problem(ps, key, "unknown key '%s' in %s (%s)", key->value, where, list);
}

static int count_value(parser *ps, const cfg_node *n, const char *what, long max, size_t *out)
{
    char *end;
    errno = 0;
    long v = n->kind == CFG_SCALAR ? strtol(n->value, &end, 10) : -1;
    if (n->kind != CFG_SCALAR || end == n->value || *end || errno || v < 0 || v > max) {
        problem(ps, n, "'%s' must be a whole number from 0 to %ld", what, max);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static void build_history(parser *ps, mk_ops_config *c, const cfg_node *n)
{
    static const char *const keys[] = {"keep"};
    if (n->kind != CFG_MAP) {
        problem(ps, n, "'history' must be a mapping: history: { keep: 30 }");
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        if (strcmp(n->keys[i]->value, "keep") == 0)
            count_value(ps, n->items[i], "history.keep", 100000, &c->history_keep);
        else
            unknown(ps, n->keys[i], "history", keys, 1);
    }
}

/* "40%", "0.4" (a share) or "5x" (a factor above 1). */
static int parse_level(const char *s, mk_level *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno)
        return -1;
    int factor = 0;
    if (*end == '%') {
        v /= 100.0;
        end++;
    } else if (*end == 'x') {
        factor = 1;
        end++;
    }
    /* written so that NaN fails too */
    if (*end || (factor ? !(v > 1 && v < 1e9) : !(v > 0 && v < 1e9)))
        return -1;
    *out = (mk_level){1, factor, v};
    return 0;
}

static void build_check_levels(parser *ps, mk_check *ck, const cfg_node *n, const char *where)
{
    static const char *const keys[] = {"warn", "fail", "direction"};
    if (n->kind != CFG_MAP) {
        problem(ps, n, "%s must be a mapping: { warn: 20%%, fail: 40%% } or { fail: 5x }", where);
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        const char *k = n->keys[i]->value;
        const cfg_node *v = n->items[i];
        if (strcmp(k, "warn") == 0 || strcmp(k, "fail") == 0) {
            mk_level *l = k[0] == 'w' ? &ck->warn : &ck->fail;
            if (v->kind != CFG_SCALAR || parse_level(v->value, l) != 0)
                problem(ps, v,
                        "'%s' of %s is a change from the median: 40%% (that far from it) "
                        "or 5x (five times it, or a fifth)",
                        k, where);
        } else if (strcmp(k, "direction") == 0) {
            const char *d = v->kind == CFG_SCALAR ? v->value : "";
            int idx = mk_choice_index("down|both|up", d);
            if (idx < 0)
                problem(ps, v, "'direction' of %s must be down, both or up", where);
            else
                ck->direction = idx - 1;
        } else {
            unknown(ps, n->keys[i], where, keys, 3);
        }
    }
    if (!ck->warn.set && !ck->fail.set)
        problem(ps, n, "%s needs a warn: or fail: level", where);
}

static void build_check_kind(parser *ps, mk_ops_config *c, mk_check_kind kind, const cfg_node *n)
{
    const char *kname = mk_check_kind_name(kind);
    if (n->kind != CFG_MAP) {
        problem(ps, n, "'checks.%s' maps a %s name to levels, e.g. { hanoi: { fail: 40%% } }",
                kname,
                kind == MK_CHECK_SOURCE_ROWS    ? "source"
                : kind == MK_CHECK_RULE_REJECTS ? "rule"
                                                : "column");
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        mk_check *grown = realloc(c->checks, (c->nchecks + 1) * sizeof(*grown));
        if (!grown)
            return;
        c->checks = grown;
        mk_check *ck = &c->checks[c->nchecks++];
        memset(ck, 0, sizeof(*ck));
        ck->kind = kind;
        ck->subject = strdup(n->keys[i]->value);
        ck->direction = kind == MK_CHECK_SOURCE_ROWS ? 0 : 1;
        ck->line = n->keys[i]->line;
        ck->column = n->keys[i]->column;
        char where[300];
        snprintf(where, sizeof where, "checks.%s.%s", kname, n->keys[i]->value);
        build_check_levels(ps, ck, n->items[i], where);
    }
}

static void build_checks(parser *ps, mk_ops_config *c, const cfg_node *n)
{
    static const char *const keys[] = {"runs", "min_runs", "source_rows", "rule_rejects",
                                       "null_share"};
    if (n->kind != CFG_MAP) {
        problem(ps, n,
                "'checks' must be a mapping (runs, min_runs, source_rows, rule_rejects, "
                "null_share)");
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        const char *k = n->keys[i]->value;
        const cfg_node *v = n->items[i];
        if (strcmp(k, "runs") == 0)
            count_value(ps, v, "checks.runs", 1000, &c->check_runs);
        else if (strcmp(k, "min_runs") == 0)
            count_value(ps, v, "checks.min_runs", 1000, &c->check_min_runs);
        else if (strcmp(k, "source_rows") == 0)
            build_check_kind(ps, c, MK_CHECK_SOURCE_ROWS, v);
        else if (strcmp(k, "rule_rejects") == 0)
            build_check_kind(ps, c, MK_CHECK_RULE_REJECTS, v);
        else if (strcmp(k, "null_share") == 0)
            build_check_kind(ps, c, MK_CHECK_NULL_SHARE, v);
        else
            unknown(ps, n->keys[i], "checks", keys, 5);
    }
    if (c->check_runs == 0)
        problem(ps, n, "'checks.runs' must be at least 1");
    else if (c->check_min_runs > c->check_runs)
        problem(ps, n, "'checks.min_runs' (%zu) is more than 'checks.runs' (%zu)",
                c->check_min_runs, c->check_runs);
}

static void build_on_failure(parser *ps, mk_ops_config *c, const cfg_node *n)
{
    static const char *const keys[] = {"command", "timeout"};
    const cfg_node *cmd = n, *timeout = NULL;
    if (n->kind == CFG_MAP) {
        cmd = cfg_get(n, "command");
        timeout = cfg_get(n, "timeout");
        for (size_t i = 0; i < n->count; i++)
            if (strcmp(n->keys[i]->value, "command") != 0 &&
                strcmp(n->keys[i]->value, "timeout") != 0)
                unknown(ps, n->keys[i], "on_failure", keys, 2);
    }
    if (!cmd || cmd->kind != CFG_SCALAR || !cmd->value[0]) {
        problem(ps, cmd ? cmd : n,
                "'on_failure' is a shell command, or { command: ..., "
                "timeout: SECONDS }");
        return;
    }
    c->on_failure = strdup(cmd->value);
    if (timeout) {
        char *end;
        double t = timeout->kind == CFG_SCALAR ? strtod(timeout->value, &end) : -1;
        if (timeout->kind == CFG_SCALAR && *end == 's')
            end++;
        if (timeout->kind != CFG_SCALAR || *end || !(t > 0 && t <= 86400))
            problem(ps, timeout, "'on_failure.timeout' is seconds, more than 0 and at most 86400");
        else
            c->on_failure_timeout = t;
    }
}

int mk_ops_config_build(mk_pipeline *p, const cfg_node *root, const char *path)
{
    parser ps = {path, 0};
    mk_ops_config *c = calloc(1, sizeof(*c));
    if (!c) {
        mk_log(MK_LOG_ERROR, "out of memory");
        return 1;
    }
    p->ops = c;
    c->history_keep = 30;
    c->check_runs = 7;
    c->check_min_runs = 3;
    c->on_failure_timeout = 60;
    const cfg_node *n;
    if ((n = cfg_get(root, "history")))
        build_history(&ps, c, n);
    if ((n = cfg_get(root, "checks")))
        build_checks(&ps, c, n);
    if ((n = cfg_get(root, "metrics"))) {
        if (n->kind != CFG_SCALAR || !n->value[0])
            problem(&ps, n,
                    "'metrics' is the path of a Prometheus textfile (e.g. "
                    "/var/lib/node_exporter/textfile/mekong.prom)");
        else
            c->metrics_path = mk_path_join(p->dir, n->value);
    }
    if ((n = cfg_get(root, "on_failure")))
        build_on_failure(&ps, c, n);
    return ps.errors;
}

int mk_ops_config_check_steps(const mk_pipeline *p, const char *path)
{
    int errors = 0;
    for (size_t i = 0; p->ops && i < p->ops->nchecks; i++) {
        const mk_check *ck = &p->ops->checks[i];
        if (ck->kind != MK_CHECK_SOURCE_ROWS)
            continue;
        size_t s;
        for (s = 0; s < p->nsources && strcmp(p->sources[s].name, ck->subject) != 0; s++)
            ;
        if (s < p->nsources)
            continue;
        mk_log(MK_LOG_ERROR,
               "%s:%d:%d: checks.source_rows names '%s', which is not a source of "
               "this pipeline",
               path, ck->line, ck->column, ck->subject);
        errors++;
    }
    return errors;
}

void mk_ops_config_free(mk_ops_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nchecks; i++)
        free(c->checks[i].subject);
    free(c->checks);
    free(c->metrics_path);
    free(c->on_failure);
    free(c);
}
