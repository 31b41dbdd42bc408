/*
 * testkit.c -- a plugin for the engine's own tests.
 *
 * source:    rows "n" = 1..count (count 0: without end, for signal tests);
 *            resume: true continues after the rows of the last successful
 *            run (state {"next": N}, through state_get/state_set)
 * transform: every Nth row dropped / rejected / emitted twice, a row left
 *            without a fate on purpose, or a failure at a given row, so
 *            the tests can prove the engine's accounting and its checks;
 *            every Nth row held (mk_host.row_hold) and released at finish
 *            as hold_release says (pass, reject, drop; forget and twice
 *            are plugin bugs the host must catch).
 * sink:      a folder (path) holding rows.txt (the first column, one row a
 *            line) and count.txt, published as a whole through
 *            mk_host.publish_path (a data package is published so).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mekong.h"

typedef struct kit {
    mk_context *ctx;
    const mk_host *host;
    long long count, next, seen, start;
    int resume, done;
    long long drop_every, reject_every, emit_every, forget_at, fail_at, hang_at, hold_every;
    const char *hold_release;
    uint64_t *held; /* held rows, released at finish */
    size_t nheld;
    const mk_schema *schema;
} kit;

static const mk_option_decl source_options[] = {
    {"count", MK_OPT_INT, 0, "10", "rows to make (0: no end)"},
    {"resume", MK_OPT_BOOL, 0, "false", "number on from the last successful run (state)"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_option_decl transform_options[] = {
    {"drop_every", MK_OPT_INT, 0, "0", "drop every Nth row"},
    {"reject_every", MK_OPT_INT, 0, "0", "reject every Nth row"},
    {"emit_every", MK_OPT_INT, 0, "0", "emit every Nth row twice"},
    {"forget_at", MK_OPT_INT, 0, "0", "leave row N without a fate (a plugin bug)"},
    {"fail_at", MK_OPT_INT, 0, "0", "fail at row N"},
    {"hang_at", MK_OPT_INT, 0, "0",
     "at row N, wait forever in C without looking at stopping() (the stop watchdog's test)"},
    {"hold_every", MK_OPT_INT, 0, "0", "hold every Nth row until finish"},
    {"hold_release", MK_OPT_STRING, 0, "pass", "what finish does with held rows",
     "pass|reject|drop|forget|twice"},
    {NULL, 0, 0, NULL, NULL},
};

static int kit_open(mk_context *ctx, const mk_host *host, void **state)
{
    kit *k = calloc(1, sizeof(*k));
    if (!k)
        return MK_NOMEM;
    *state = k;
    k->ctx = ctx;
    k->host = host;
    static const char *const names[] = {"n"};
    k->schema = host->schema_intern(ctx, names, 1);
    k->count = host->opt_int(ctx, "count");
    k->drop_every = host->opt_int(ctx, "drop_every");
    k->hold_every = host->opt_int(ctx, "hold_every");
    k->hold_release = host->opt_string(ctx, "hold_release");
    k->reject_every = host->opt_int(ctx, "reject_every");
    k->emit_every = host->opt_int(ctx, "emit_every");
    k->forget_at = host->opt_int(ctx, "forget_at");
    k->fail_at = host->opt_int(ctx, "fail_at");
    k->resume = host->opt_bool(ctx, "resume");
    if (k->resume) {
        if (!MK_HOST_HAS(host, state_get)) {
            host->error(ctx, "resume: true needs a host with state (mekong 1.2)");
            return MK_ERROR;
        }
        const char *saved = host->state_get(ctx);
        if (saved && sscanf(saved, "{\"next\": %lld}", &k->start) != 1) {
            host->error(ctx, "saved state %s is not what testkit wrote", saved);
            return MK_ERROR;
        }
        k->next = k->start;
    }
    k->hang_at = host->opt_int(ctx, "hang_at");
    return MK_OK;
}

static const mk_schema *kit_schema(void *state)
{
    return ((kit *)state)->schema;
}

static int kit_next(void *state, mk_batch *b)
{
    kit *k = state;
    while (b->nrows < b->cap) {
        if (k->count && k->next >= k->start + k->count) {
            k->done = 1;
            return MK_DONE;
        }
        char num[32];
        int len = snprintf(num, sizeof num, "%lld", ++k->next);
        size_t r = k->host->batch_add_row(b);
        if (r == (size_t)-1 || k->host->batch_set(b, r, 0, num, (size_t)len) != MK_OK)
            return MK_NOMEM;
        b->info[r].position = (uint64_t)k->next;
    }
    return MK_OK;
}

static int every(long long n, long long i)
{
    return n > 0 && i % n == 0;
}

static int kit_process(void *state, const mk_batch *in, mk_batch *out)
{
    kit *k = state;
    const mk_host *h = k->host;
    for (size_t r = 0; r < in->nrows; r++) {
        long long i = ++k->seen;
        if (i == k->fail_at) {
            h->error(k->ctx, "testkit fails at row %lld as asked", i);
            return MK_ERROR;
        }
        if (i == k->forget_at)
            continue;
        while (i == k->hang_at)
            pause(); /* deaf to stop requests: a signal only ends pause() */
        int rc;
        if (every(k->hold_every, i)) {
            uint64_t *grown = realloc(k->held, (k->nheld + 1) * sizeof(*grown));
            if (!grown)
                return MK_NOMEM;
            k->held = grown;
            rc = h->row_hold(k->ctx, in, r, &k->held[k->nheld++]);
        } else if (every(k->drop_every, i))
            rc = h->row_drop(k->ctx, in, r);
        else if (every(k->reject_every, i))
            rc = h->row_reject(k->ctx, in, r, "testkit.every", "rejected as asked");
        else
            rc = h->row_pass(k->ctx, in, r, out);
        if (rc == MK_OK && every(k->emit_every, i) && !every(k->drop_every, i) &&
            !every(k->reject_every, i))
            rc = h->row_pass(k->ctx, in, r, out);
        if (rc != MK_OK)
            return rc;
    }
    return MK_OK;
}

/* The held rows, released as hold_release says. */
static int kit_finish(void *state, mk_batch *out)
{
    kit *k = state;
    const mk_host *h = k->host;
    const char *how = k->hold_release ? k->hold_release : "pass";
    for (size_t i = 0; i < k->nheld && strcmp(how, "forget") != 0; i++) {
        int rc = strcmp(how, "reject") == 0 ? h->held_reject(k->ctx, k->held[i], "testkit.held",
                                                              "held, then rejected as asked")
                 : strcmp(how, "drop") == 0 ? h->held_drop(k->ctx, k->held[i])
                                            : h->held_pass(k->ctx, k->held[i], out);
        if (rc == MK_OK && strcmp(how, "twice") == 0)
            rc = h->held_pass(k->ctx, k->held[i], out);
        if (rc != MK_OK)
            return rc;
    }
    return MK_OK;
}

static void kit_close(void *state)
{
    kit *k = state;
    if (k)
        free(k->held);
    free(k);
}

/* A source that read to its end stages where the next run goes on. */
static void kit_source_close(void *state)
{
    kit *k = state;
    if (k && k->resume && k->done) {
        char json[64];
        snprintf(json, sizeof json, "{\"next\": %lld}", k->next);
        k->host->state_set(k->ctx, json);
    }
    free(k);
}

/* ---- the folder sink ---- */

static const mk_option_decl sink_options[] = {
    {"path", MK_OPT_PATH, 1, NULL, "folder to write (rows.txt, count.txt)"},
    {NULL, 0, 0, NULL, NULL},
};

typedef struct folder {
    mk_context *ctx;
    const mk_host *host;
    char final[4096], tmp[4200];
    FILE *rows;
    long long count;
} folder;

/* ".NAME.tmp-PID-START-XXXXXX" beside final, as the engine names its own. */
static void temp_name(const char *final, char *out, size_t len)
{
    unsigned long long start = 0;
    FILE *st = fopen("/proc/self/stat", "r");
    char buf[1024] = "";
    if (st) {
        if (!fgets(buf, sizeof buf, st))
            buf[0] = '\0';
        fclose(st);
    }
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p)
        start = strtoull(p + 1, NULL, 10);
    const char *slash = strrchr(final, '/');
    size_t dirlen = slash ? (size_t)(slash - final) + 1 : 0;
    snprintf(out, len, "%.*s.%s.tmp-%ld-%llu-XXXXXX", (int)dirlen, final, final + dirlen,
             (long)getpid(), start);
}

static int folder_open(mk_context *ctx, const mk_host *host, void **state)
{
    folder *f = calloc(1, sizeof(*f));
    if (!f)
        return MK_NOMEM;
    *state = f;
    f->ctx = ctx;
    f->host = host;
    snprintf(f->final, sizeof f->final, "%s", host->opt_string(ctx, "path"));
    temp_name(f->final, f->tmp, sizeof f->tmp);
    char path[4300];
    if (!mkdtemp(f->tmp) || (snprintf(path, sizeof path, "%s/rows.txt", f->tmp),
                             !(f->rows = fopen(path, "w")))) {
        host->error(ctx, "cannot make %s", f->tmp);
        f->tmp[0] = '\0';
        return MK_ERROR;
    }
    return MK_OK;
}

static int folder_write(void *state, const mk_batch *b)
{
    folder *f = state;
    for (size_t r = 0; r < b->nrows; r++) {
        mk_value v = MK_CELL(b, r, 0);
        fprintf(f->rows, "%.*s\n", (int)v.len, v.ptr ? v.ptr : "");
        f->count++;
    }
    return ferror(f->rows) ? MK_ERROR : MK_OK;
}

static int sync_close(FILE *file)
{
    int bad = fflush(file) != 0 || fsync(fileno(file)) != 0;
    return fclose(file) != 0 || bad ? -1 : 0;
}

static int folder_close(void *state, int commit)
{
    folder *f = state;
    int rc = MK_OK;
    char path[4300];
    if (f && f->rows && sync_close(f->rows) != 0)
        rc = MK_ERROR;
    if (f && f->tmp[0] && rc == MK_OK && commit) {
        snprintf(path, sizeof path, "%s/count.txt", f->tmp);
        FILE *c = fopen(path, "w");
        if (!c || fprintf(c, "%lld\n", f->count) < 0 || sync_close(c) != 0)
            rc = MK_ERROR;
        int dir = open(f->tmp, O_RDONLY | O_DIRECTORY);
        if (dir < 0 || fsync(dir) != 0)
            rc = MK_ERROR;
        if (dir >= 0)
            close(dir);
        if (rc != MK_OK)
            f->host->error(f->ctx, "cannot write %s", f->tmp);
        else if ((rc = f->host->publish_path(f->ctx, f->tmp, f->final)) == MK_OK)
            f->tmp[0] = '\0'; /* the host's now */
    }
    if (f && f->tmp[0]) { /* not published: thrown away */
        snprintf(path, sizeof path, "%s/rows.txt", f->tmp);
        unlink(path);
        snprintf(path, sizeof path, "%s/count.txt", f->tmp);
        unlink(path);
        rmdir(f->tmp);
    }
    free(f);
    return rc;
}

static const mk_source_ops source_ops = {kit_open, kit_schema, kit_next, kit_source_close};
static const mk_transform_ops transform_ops = {kit_open, kit_process, kit_finish, kit_close};
static const mk_sink_ops sink_ops = {folder_open, folder_write, folder_close};

static const mk_plugin testkit_plugin = {
    MK_PLUGIN_HEAD, "testkit", "1", "rows and fates on demand, for the engine's tests",
    source_options, &source_ops, transform_options, &transform_ops, sink_options, &sink_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &testkit_plugin;
}
