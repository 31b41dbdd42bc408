/*
 * shard_join.c -- the shards' parts joined as the shards finish, so that
 * the merge has (almost) nothing left to copy (docs/SCALE.md, "Joining as
 * the shards finish").
 *
 * PLAN/join/ (PLAN: SHARED/<plan id>) holds, for each joined output, the
 * parts of shards 0..n-1 appended in plan order, and a state file naming
 * n, each joined shard's attempt (its report's inode, mtime and size) and
 * the size of every output after it.  Whoever holds PLAN/join/lock (a
 * POSIX lock, which NFS knows) may extend the prefix: a shard that has just
 * published its parts (shard.c) tries without waiting, the merge waits.
 *
 * The state is checked before it is trusted: a joined shard that has run
 * again since (another attempt) or no longer finished cuts the prefix
 * there; a file longer than the state says (a joiner killed halfway) is
 * cut back; a file shorter than it (lost data) starts the join again.
 * A part's data is on disk (fdatasync) before the state names it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "shard.h"
#include "util/path.h"

#define JOIN_MAGIC "mekong-shard-join 1"
#define JOIN_BLOCK (1u << 20)

struct mk_join {
    char *dir;                 /* PLAN/join */
    char *plan_dir;            /* PLAN */
    int shards;
    const mk_join_out *outs;
    size_t nout;
    int lock_fd;
    int joined;                /* shards 0..joined-1 are in the files */
    uint64_t *sizes;           /* [shard][output]: sizes after that shard */
    char (*attempt)[80];       /* [shard]: which attempt was joined */
};

static char *join_file(const mk_join *j, const char *name)
{
    return mk_path_join(j->dir, name);
}

/* The joined file of output o: its part's name with '/' as '-' (a
 * datapackage sink's parts lie in a folder of the shard's). */
static char *out_file(const mk_join *j, size_t o)
{
    char *name = strdup(j->outs[o].name);
    for (char *c = name; c && *c; c++)
        if (*c == '/')
            *c = '-';
    char *path = name ? join_file(j, name) : NULL;
    free(name);
    return path;
}

/* The attempt of shard k that finished: its report's identity. */
static int attempt_of(const mk_join *j, int k, char *buf, size_t len)
{
    char sub[64];
    snprintf(sub, sizeof sub, "shard-%d/report.json", k);
    char *path = mk_path_join(j->plan_dir, sub);
    struct stat st;
    int rc = path && stat(path, &st) == 0 ? 0 : -1;
    if (rc == 0)
        snprintf(buf, len, "%" PRIu64 "-%lld.%09ld-%lld", (uint64_t)st.st_ino,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
    free(path);
    return rc;
}

mk_join *mk_join_open(const char *plan_dir, int shards, const mk_join_out *outs, size_t nout,
                      int wait)
{
    mk_join *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->lock_fd = -1;
    j->shards = shards;
    j->outs = outs;
    j->nout = nout;
    j->plan_dir = strdup(plan_dir);
    j->dir = mk_path_join(plan_dir, "join");
    j->sizes = calloc((size_t)shards * (nout ? nout : 1), sizeof(uint64_t));
    j->attempt = calloc((size_t)shards, sizeof(*j->attempt));
    char *lock = j->dir ? join_file(j, "lock") : NULL;
    if (!j->plan_dir || !j->sizes || !j->attempt || !lock ||
        (mkdir(j->dir, 0777) != 0 && errno != EEXIST) ||
        (j->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0) {
        free(lock);
        mk_join_close(j);
        return NULL;
    }
    free(lock);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int rc;
    while ((rc = fcntl(j->lock_fd, wait ? F_SETLKW : F_SETLK, &fl)) != 0 && errno == EINTR)
        ;
    if (rc != 0) { /* another joiner: it looks again after it lets go */
        mk_join_close(j);
        return NULL;
    }
    return j;
}

void mk_join_close(mk_join *j)
{
    if (!j)
        return;
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* lets go of the lock */
    free(j->dir);
    free(j->plan_dir);
    free(j->sizes);
    free(j->attempt);
    free(j);
}

/* Read the state file into j (j->joined shards); a state that does not fit
 * (another pipeline shape, damaged) counts as nothing joined. */
static void read_state(mk_join *j)
{
    j->joined = 0;
    char *path = join_file(j, "state");
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f)
        return;
    char line[4096];
    size_t nout;
    if (!fgets(line, sizeof line, f) || sscanf(line, JOIN_MAGIC " %zu", &nout) != 1 ||
        nout != j->nout) {
        fclose(f);
        return;
    }
    while (j->joined < j->shards && fgets(line, sizeof line, f)) {
        int k, used;
        char *p = line;
        if (sscanf(p, "%d %79s%n", &k, j->attempt[j->joined], &used) != 2 || k != j->joined)
            break;
        p += used;
        size_t o;
        for (o = 0; o < j->nout; o++) {
            uint64_t *v = &j->sizes[(size_t)k * j->nout + o];
            if (sscanf(p, " %" SCNu64 "%n", v, &used) != 1)
                break;
            p += used;
        }
        if (o < j->nout)
            break;
        j->joined++;
    }
    fclose(f);
}

static int write_state(const mk_join *j)
{
    char *path = join_file(j, "state"), *tmp = join_file(j, "state.tmp");
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    int rc = f ? 0 : -1;
    if (f) {
        fprintf(f, JOIN_MAGIC " %zu\n", j->nout);
        for (int k = 0; k < j->joined; k++) {
            fprintf(f, "%d %s", k, j->attempt[k]);
            for (size_t o = 0; o < j->nout; o++)
                fprintf(f, " %" PRIu64, j->sizes[(size_t)k * j->nout + o]);
            fputc('\n', f);
        }
        rc = fflush(f) != 0 || fsync(fileno(f)) != 0 ? -1 : 0;
        rc = fclose(f) != 0 ? -1 : rc;
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    free(path);
    free(tmp);
    return rc;
}

/* Cut the prefix where a joined shard is not the attempt that finished. */
static void check_attempts(mk_join *j, mk_join_done_fn done, void *ctx)
{
    char now[80];
    for (int k = 0; k < j->joined; k++)
        if (!done(ctx, k) || attempt_of(j, k, now, sizeof now) != 0 ||
            strcmp(now, j->attempt[k]) != 0) {
            j->joined = k;
            return;
        }
}

/* Open the joined files, cut back to the prefix; -1 when one cannot be. */
static int open_files(mk_join *j, int *fds)
{
    for (int pass = 0; pass < 2; pass++) {
        int short_file = 0;
        for (size_t o = 0; o < j->nout; o++) {
            char *path = out_file(j, o);
            fds[o] = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666) : -1;
            free(path);
            struct stat st;
            if (fds[o] < 0 || fstat(fds[o], &st) != 0)
                return -1;
            uint64_t want = j->joined ? j->sizes[(size_t)(j->joined - 1) * j->nout + o] : 0;
            if ((uint64_t)st.st_size < want)
                short_file = 1;
            else if ((uint64_t)st.st_size > want && ftruncate(fds[o], (off_t)want) != 0)
                return -1;
        }
        if (!short_file)
            return 0;
        j->joined = 0; /* data the state names is gone: from the start */
        for (size_t o = 0; o < j->nout; o++)
            if (ftruncate(fds[o], 0) != 0)
                return -1;
    }
    return 0;
}

/* Leave out the first record of fd (mekong's writers quote every field
 * holding a quote or a line break, so the first LF outside quotes ends
 * it), writing the rest of the block it ends in to out.  0 or -1. */
static int skip_first_record(int fd, int out, char *buf)
{
    int in_quote = 0;
    ssize_t n;
    while ((n = read(fd, buf, JOIN_BLOCK)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '"')
                in_quote = !in_quote;
            else if (buf[i] == '\n' && !in_quote)
                return write(out, buf + i + 1, (size_t)(n - i - 1)) == n - i - 1 ? 0 : -1;
        }
    return n < 0 ? -1 : 0;
}

int mk_join_copy(int fd, int out, int skip_header)
{
    char *buf = malloc(JOIN_BLOCK);
    if (!buf || (skip_header && skip_first_record(fd, out, buf) != 0)) {
        free(buf);
        return -1;
    }
    ssize_t n;
    while ((n = copy_file_range(fd, NULL, out, NULL, (size_t)1 << 30, 0)) != 0)
        if (n < 0 && errno != EINTR)
            break;
    int rc = n == 0 ? 0 : -1;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        rc = 0; /* not between these files: read and write */
        while (rc == 0 && (n = read(fd, buf, JOIN_BLOCK)) > 0)
            rc = write(out, buf, (size_t)n) == n ? 0 : -1;
        rc = n < 0 ? -1 : rc;
    }
    free(buf);
    return rc;
}

/* Append shard k's parts; 0 or -1. */
static int append_shard(mk_join *j, int k, const int *fds)
{
    for (size_t o = 0; o < j->nout; o++) {
        char sub[64];
        snprintf(sub, sizeof sub, "shard-%d", k);
        char *d = mk_path_join(j->plan_dir, sub), *part = d ? mk_path_join(d, j->outs[o].name) : NULL;
        free(d);
        int fd = part ? open(part, O_RDONLY | O_CLOEXEC) : -1;
        free(part);
        struct stat st;
        int rc = fd < 0 || lseek(fds[o], 0, SEEK_END) < 0 ||
                         mk_join_copy(fd, fds[o], k > 0 && j->outs[o].skip_header) != 0 ||
                         fdatasync(fds[o]) != 0 || fstat(fds[o], &st) != 0
                     ? -1
                     : 0;
        if (fd >= 0)
            close(fd);
        if (rc)
            return -1;
        j->sizes[(size_t)k * j->nout + o] = (uint64_t)st.st_size;
    }
    return 0;
}

int mk_join_advance(mk_join *j, mk_join_done_fn done, void *ctx)
{
    read_state(j);
    check_attempts(j, done, ctx);
    int *fds = malloc((j->nout ? j->nout : 1) * sizeof(int));
    if (!fds)
        return -1;
    for (size_t o = 0; o < j->nout; o++)
        fds[o] = -1;
    int rc = open_files(j, fds);
    while (rc == 0 && j->joined < j->shards && done(ctx, j->joined)) {
        int k = j->joined;
        if (attempt_of(j, k, j->attempt[k], sizeof j->attempt[k]) != 0 ||
            append_shard(j, k, fds) != 0) {
            rc = -1;
            break;
        }
        j->joined++;
        rc = write_state(j);
    }
    for (size_t o = 0; o < j->nout; o++)
        if (fds[o] >= 0)
            close(fds[o]);
    free(fds);
    if (rc != 0)
        mk_log(MK_LOG_WARN, "%s: joining the shards' parts stopped at shard %d: %s; the merge "
               "joins the rest", j->dir, j->joined, strerror(errno));
    return rc == 0 ? j->joined : -1;
}

char *mk_join_path(const mk_join *j, size_t o)
{
    return o < j->nout && j->joined == j->shards ? out_file(j, o) : NULL;
}

void mk_join_forget(mk_join *j)
{
    for (size_t o = 0; o < j->nout; o++) {
        char *path = out_file(j, o);
        if (path)
            unlink(path);
        free(path);
    }
    char *state = join_file(j, "state");
    if (state)
        unlink(state);
    free(state);
    j->joined = 0;
}
