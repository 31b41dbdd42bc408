/*
 * cmd_validate.c -- `mekong validate PACKAGE`: check a Data Package's files
 * against its descriptor, as a receiver would before trusting it.
 *
 * PACKAGE is the package folder or its datapackage.json.  For every
 * resource with a local path: the file exists, has the declared bytes and
 * hash (sha256:..., or md5 as v1 wrote it bare or as md5:...; nettle), and,
 * for a CSV resource with a schema, every row passes the schema: the file
 * goes through the csv source and the schema transform of a run made in
 * memory (the same checks as a pipeline's schema step; nothing is
 * written).  One line per check; the first rejected rows are shown.
 *
 * Exit status: 0 the package is valid, 3 it is not (a file, a hash or rows
 * do not match), 2 usage error or an unreadable descriptor.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "table_run.h"
#include "ts_json.h"

#define SHOWN_REJECTS 5

typedef struct validation {
    const char *dir;
    int failed;
    mk_plugin_path sp;
    uint64_t rejected;
} validation;

static void problem(validation *v, const char *resource, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(validation *v, const char *resource, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", resource);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    v->failed = 1;
}

/* sha256 and md5 of a file, as hex; the size in *bytes.  0 or -1 (errno). */
static int hash_file(const char *path, char sha[65], char md5[33], uint64_t *bytes)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    struct sha256_ctx s;
    struct md5_ctx m;
    sha256_init(&s);
    md5_init(&m);
    static char buf[1 << 16];
    size_t n;
    *bytes = 0;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
        sha256_update(&s, n, (const uint8_t *)buf);
        md5_update(&m, n, (const uint8_t *)buf);
        *bytes += n;
    }
    int bad = ferror(fp);
    fclose(fp);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&s, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        sprintf(sha + 2 * i, "%02x", d[i]);
    md5_digest(&m, MD5_DIGEST_SIZE, d);
    for (size_t i = 0; i < MD5_DIGEST_SIZE; i++)
        sprintf(md5 + 2 * i, "%02x", d[i]);
    return bad ? -1 : 0;
}

static int check_hash(validation *v, const char *name, const cfg_node *hash, const char *sha,
                      const char *md5)
{
    const char *h = hash->value, *colon = strchr(h, ':');
    const char *algo = colon ? h : "md5", *want = colon ? colon + 1 : h;
    size_t alen = colon ? (size_t)(colon - h) : 3;
    const char *got = alen == 6 && strncmp(algo, "sha256", 6) == 0 ? sha
                      : alen == 3 && strncmp(algo, "md5", 3) == 0  ? md5
                                                                    : NULL;
    if (!got) {
        problem(v, name, "hash '%s' uses an algorithm mekong cannot check (sha256, md5)", h);
        return -1;
    }
    if (strcasecmp(got, want) != 0) {
        problem(v, name, "hash is %.*s:%s, the descriptor says %s", (int)alen, algo, got, h);
        return -1;
    }
    printf("ok   %s: hash %s\n", name, h);
    return 0;
}

static void on_reject(void *data, const mk_event *e)
{
    validation *v = data;
    if (e->kind != MK_EVENT_REJECT)
        return;
    if (v->rejected++ < SHOWN_REJECTS)
        printf("       line %" PRIu64 ": %s: %s\n", e->info ? e->info->position : 0,
               e->rule ? e->rule : "", e->message ? e->message : "");
}

/* The resource's rows against its schema, through a run made in memory. */
static void check_rows(validation *v, const char *name, const char *file, const cfg_node *res)
{
    const cfg_node *schema = cfg_get(res, "schema"), *dialect = cfg_get(res, "dialect");
    const cfg_node *delim = dialect && dialect->kind == CFG_MAP ? cfg_get(dialect, "delimiter")
                                                                : NULL;
    char tmp[] = "/tmp/mekong-validate-XXXXXX";
    int fd = mkstemp(tmp);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        problem(v, name, "cannot write a temporary schema file: %s", strerror(errno));
        return;
    }
    ts_json_write(fp, schema, -1);
    fclose(fp);
    char *abs = realpath(file, NULL); /* the run resolves paths from the file's folder */
    cfg_node *root = abs ? mk_table_tree(abs, delim ? delim->value : NULL, tmp,
                                         "mekong-validate-null")
                         : NULL;
    free(abs);
    char failure[1024] = "";
    mk_run_options o = {0};
    o.silent = 1;
    o.on_event = on_reject;
    o.event_data = v;
    o.failure = failure;
    o.failure_len = sizeof failure;
    v->rejected = 0;
    printf("     %s: rows against the schema:\n", name);
    int rc = root ? mk_table_run(root, file, &v->sp, &o) : MK_EXIT_FAILED;
    cfg_free(root);
    unlink(tmp);
    if (rc != MK_EXIT_OK)
        problem(v, name, "the rows could not be checked: %s", failure[0] ? failure : "see above");
    else if (v->rejected)
        problem(v, name, "%" PRIu64 " rows break the schema", v->rejected);
    else
        printf("ok   %s: every row passes the schema\n", name);
}

static void check_resource(validation *v, const cfg_node *res)
{
    const cfg_node *n = cfg_get(res, "name"), *path = cfg_get(res, "path");
    const char *name = n && n->kind == CFG_SCALAR ? n->value : "(resource without a name)";
    if (!path || path->kind != CFG_SCALAR) {
        printf("skip %s: no single local path (inline data or several files)\n", name);
        return;
    }
    if (strstr(path->value, "://") || path->value[0] == '/' || strstr(path->value, "..")) {
        problem(v, name, "path '%s' is not a file inside the package", path->value);
        return;
    }
    char file[4096], sha[65], md5[33];
    uint64_t bytes;
    snprintf(file, sizeof file, "%s/%s", v->dir, path->value);
    if (hash_file(file, sha, md5, &bytes) != 0) {
        problem(v, name, "cannot read %s: %s", file, strerror(errno));
        return;
    }
    const cfg_node *b = cfg_get(res, "bytes"), *h = cfg_get(res, "hash");
    if (b && strtoull(b->value, NULL, 10) != bytes)
        problem(v, name, "%s has %" PRIu64 " bytes, the descriptor says %s", path->value, bytes,
                b->value);
    else if (b)
        printf("ok   %s: %" PRIu64 " bytes\n", name, bytes);
    if (h)
        check_hash(v, name, h, sha, md5);
    const cfg_node *fmt = cfg_get(res, "format");
    int csv = fmt ? strcmp(fmt->value, "csv") == 0 : strstr(path->value, ".csv") != NULL;
    if (cfg_get(res, "schema") && cfg_get(res, "schema")->kind == CFG_MAP && csv)
        check_rows(v, name, file, res);
    else if (cfg_get(res, "schema"))
        printf("skip %s: rows of format %s are not checked (CSV only)\n", name,
               fmt ? fmt->value : "?");
}

/* ---- the null sink of the checking run ------------------------------------ */

static int null_open(mk_context *ctx, const mk_host *host, void **state)
{
    (void)ctx, (void)host;
    *state = NULL;
    return MK_OK;
}
static int null_write(void *state, const mk_batch *b)
{
    (void)state, (void)b;
    return MK_OK;
}
static int null_close(void *state, int commit)
{
    (void)state, (void)commit;
    return MK_OK;
}
static const mk_option_decl no_options[] = {{NULL, 0, 0, NULL, NULL, NULL}};
static const mk_sink_ops null_ops = {null_open, null_write, null_close};
static const mk_plugin null_plugin = {
    MK_PLUGIN_HEAD, "mekong-validate-null", PACKAGE_VERSION, "rows checked by mekong validate",
    NULL, NULL, NULL, NULL, no_options, &null_ops,
};

int mk_cmd_validate(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: mekong validate PACKAGE (a folder or its datapackage.json)\n");
        return MK_EXIT_USAGE;
    }
    struct stat st;
    char descriptor[4096], dir[4096];
    int is_dir = stat(argv[0], &st) == 0 && S_ISDIR(st.st_mode);
    snprintf(dir, sizeof dir, "%s", argv[0]);
    if (is_dir) {
        snprintf(descriptor, sizeof descriptor, "%s/datapackage.json", argv[0]);
    } else {
        snprintf(descriptor, sizeof descriptor, "%s", argv[0]);
        char *slash = strrchr(dir, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else
            slash[slash == dir] = '\0'; /* "/datapackage.json": "/" */
    }
    char err[1024];
    cfg_node *root = ts_load(descriptor, err, sizeof err);
    if (!root) {
        fprintf(stderr, "mekong validate: %s\n", err);
        return MK_EXIT_USAGE;
    }
    const cfg_node *resources = root->kind == CFG_MAP ? cfg_get(root, "resources") : NULL;
    validation v = {dir, 0, {0}, 0};
    if (!resources || resources->kind != CFG_SEQ || !resources->count) {
        fprintf(stderr, "mekong validate: %s has no resources: not a Data Package\n", descriptor);
        cfg_free(root);
        return MK_EXIT_USAGE;
    }
    if (mk_plugin_register_builtin(&null_plugin) != 0 || mk_plugin_path_init(&v.sp, NULL, 0) != 0) {
        cfg_free(root);
        return MK_EXIT_FAILED;
    }
    for (size_t i = 0; i < resources->count; i++)
        check_resource(&v, resources->items[i]);
    printf("%s: %s\n", descriptor, v.failed ? "NOT valid" : "valid");
    mk_plugin_path_free(&v.sp);
    cfg_free(root);
    return v.failed ? MK_EXIT_THRESHOLD : MK_EXIT_OK;
}
