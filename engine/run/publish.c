/*
 * publish.c -- the outputs of a run appear as a whole, or not at all.
 *
 * Every output (the sinks' files, the rejects, the reports, the state) is
 * written to a temporary file beside its final name.  When the run may
 * publish, each is flushed, fsynced and closed, and handed to the publish
 * set (mk_publish_add; plugins through mk_host.publish_path, which
 * mkk_file_close uses).  Then mk_publish_commit:
 *
 *   1. fsyncs the outputs' folders (the temporaries' names are durable),
 *      writes the publish journal, <run folder>/publish.journal, listing
 *      every temporary -> final pair with the temporary's inode, fsyncs
 *      it and its folder (the journal itself appears by a rename);
 *   2. puts each temporary in place: exchanged with the old output
 *      (renameat2 RENAME_EXCHANGE, so the temporary name then holds the
 *      old one) or renamed when there was none;
 *   3. fsyncs the folders of the outputs, removes the journal, fsyncs the
 *      run folder, and removes the old outputs.
 *
 * A failure in 2 or 3 puts back what was already exchanged (the old set
 * again) and says so.  A run killed in 2 or 3 leaves the journal: the next
 * run of the pipeline finishes it (mk_publish_recover) before anything
 * else -- roll forward, since every temporary was complete and fsynced
 * before the journal was written.  An output whose inode is the one the
 * journal names is in place already.  Temporary files are named after
 * their process (util/outfile.h); mk_publish_sweep removes those of
 * processes that are gone from the folders of the pipeline's outputs.
 *
 * MEKONG_TEST_PUBLISH_DELAY_MS (tests only) sleeps between renames so that
 * a test can kill a run inside step 2.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run_internal.h"
#include "util/path.h"

#define JOURNAL_MAGIC "mekong-publish-journal 1"

/* ---- the set ----------------------------------------------------------------- */

static int same_device_as_folder(const char *final, dev_t dev)
{
    char *dir = mk_dir_of(final);
    struct stat st;
    int same = dir && stat(dir, &st) == 0 && st.st_dev == dev;
    free(dir);
    return same;
}

/* path made absolute against the working folder (a journal is finished
 * by a run that may start elsewhere). */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    char *cwd = getcwd(NULL, 0);
    char *abs = cwd ? mk_path_join(cwd, path) : NULL;
    free(cwd);
    return abs;
}

int mk_publish_add(mk_run *run, const char *tmp, const char *final, const char *what, char *err,
                   size_t errlen)
{
    struct stat st;
    if (lstat(tmp, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "%s: %s is not a complete file or folder to publish", what, tmp);
        return MK_BADARG;
    }
    if (!same_device_as_folder(final, st.st_dev)) {
        snprintf(err, errlen, "%s: %s is not on the file system of %s (it must lie beside it)",
                 what, tmp, final);
        return MK_BADARG;
    }
    if (run->npub == run->pub_cap) {
        size_t cap = run->pub_cap ? run->pub_cap * 2 : 8;
        mk_publish_item *grown = realloc(run->pub, cap * sizeof(*grown));
        if (!grown)
            goto nomem;
        run->pub = grown;
        run->pub_cap = cap;
    }
    mk_publish_item *it = &run->pub[run->npub];
    memset(it, 0, sizeof(*it));
    it->tmp = absolute(tmp);
    it->final = absolute(final);
    it->what = strdup(what);
    if (!it->tmp || !it->final || !it->what) {
        free(it->tmp);
        free(it->final);
        free(it->what);
        goto nomem;
    }
    it->dev = (uint64_t)st.st_dev;
    it->ino = (uint64_t)st.st_ino;
    it->is_dir = S_ISDIR(st.st_mode);
    run->npub++;
    return MK_OK;
nomem:
    snprintf(err, errlen, "%s: out of memory", what);
    return MK_NOMEM;
}

void mk_publish_kind(mk_run *run, size_t before, const char *kind)
{
    if (run->npub > before)
        run->pub[run->npub - 1].kind = kind;
}

int mk_publish_outfile(mk_run *run, mk_outfile *f, const char *what, char *err, size_t errlen)
{
    char *tmp, *final = strdup(f->final_path);
    if (!final) {
        mk_outfile_abort(f);
        snprintf(err, errlen, "%s: out of memory", what);
        return MK_NOMEM;
    }
    char why[1024];
    int rc = MK_OK;
    if (mk_outfile_finish(f, &tmp, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", what, why);
        rc = MK_ERROR;
    } else if (tmp && (rc = mk_publish_add(run, tmp, final, what, err, errlen)) != MK_OK) {
        unlink(tmp);
    }
    free(tmp);
    free(final);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Remove a file, or a folder with everything in it. */
static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void free_items(mk_run *run)
{
    for (size_t i = 0; i < run->npub; i++) {
        free(run->pub[i].tmp);
        free(run->pub[i].final);
        free(run->pub[i].what);
    }
    free(run->pub);
    run->pub = NULL;
    run->npub = run->pub_cap = 0;
}

void mk_publish_discard(mk_run *run)
{
    for (size_t i = 0; i < run->npub; i++)
        remove_tree(run->pub[i].tmp);
    free_items(run);
}

/* ---- the journal ---------------------------------------------------------------- */

static char *journal_path(const mk_run *run)
{
    char *rel = mk_path_join(run->run_dir, "publish.journal");
    char *abs = rel ? absolute(rel) : NULL;
    free(rel);
    return abs;
}

/* Bytes up to space and beyond '~', and '%', as %XX: one token a path. */
static void put_encoded(mk_outfile *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c > '~' || c == '%') {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", c);
            mk_outfile_puts(f, hex);
        } else {
            mk_outfile_putc(f, (char)c);
        }
    }
}

static char *decode_token(const char *s, size_t len)
{
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        if (s[i] == '%' && i + 2 < len + 1 && sscanf(s + i + 1, "%2x", &v) == 1) {
            *o++ = (char)v;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_journal(mk_run *run, const char *path, char *err, size_t errlen)
{
    char why[1024], host[256] = "?";
    gethostname(host, sizeof host - 1);
    mk_outfile *f = mk_outfile_open(path, why, sizeof why);
    if (!f) {
        snprintf(err, errlen, "cannot write the publish journal: %s", why);
        return -1;
    }
    char line[512];
    snprintf(line, sizeof line, JOURNAL_MAGIC "\nowner %ld %llu ", (long)getpid(),
             mk_process_start((long)getpid()));
    mk_outfile_puts(f, line);
    put_encoded(f, host);
    mk_outfile_putc(f, '\n');
    for (size_t i = 0; i < run->npub; i++) {
        snprintf(line, sizeof line, "item %" PRIu64 " %" PRIu64 " ", run->pub[i].dev,
                 run->pub[i].ino);
        mk_outfile_puts(f, line);
        put_encoded(f, run->pub[i].tmp);
        mk_outfile_putc(f, ' ');
        put_encoded(f, run->pub[i].final);
        mk_outfile_putc(f, '\n');
    }
    snprintf(line, sizeof line, "end %zu\n", run->npub);
    mk_outfile_puts(f, line);
    if (mk_outfile_commit(f, why, sizeof why) != 0 || fsync_path(run->run_dir) != 0) {
        snprintf(err, errlen, "cannot write the publish journal: %s",
                 why[0] ? why : strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

/* ---- putting outputs in place ------------------------------------------------------ */

static void test_delay(void)
{
    const char *ms = getenv("MEKONG_TEST_PUBLISH_DELAY_MS");
    long v = ms ? strtol(ms, NULL, 10) : 0;
    if (v > 0) {
        struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Put item it in place: 0, or -1 with errno. */
static int place(mk_publish_item *it)
{
    struct stat st;
    if (lstat(it->final, &st) == 0) {
        if (renameat2(AT_FDCWD, it->tmp, AT_FDCWD, it->final, RENAME_EXCHANGE) == 0) {
            it->placed = MK_PLACED_EXCHANGED;
            return 0;
        }
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return -1;
        if (it->is_dir || S_ISDIR(st.st_mode)) /* a folder is not renamed over another */
            return -1;
    } else if (errno != ENOENT) {
        return -1;
    }
    if (rename(it->tmp, it->final) != 0)
        return -1;
    it->placed = MK_PLACED_RENAMED;
    return 0;
}

/* Undo place(): the new output back under its temporary name. */
static int unplace(mk_publish_item *it)
{
    int rc = it->placed == MK_PLACED_EXCHANGED
                 ? renameat2(AT_FDCWD, it->tmp, AT_FDCWD, it->final, RENAME_EXCHANGE)
                 : rename(it->final, it->tmp);
    if (rc == 0)
        it->placed = 0;
    return rc;
}

/* fsync the folder of every output (each once). */
static int fsync_folders(mk_publish_item *items, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        char *dir = mk_dir_of(items[i].final);
        int seen = 0;
        for (size_t k = 0; dir && k < i && !seen; k++) {
            char *other = mk_dir_of(items[k].final);
            seen = other && strcmp(other, dir) == 0;
            free(other);
        }
        if (dir && !seen && fsync_path(dir) != 0) {
            snprintf(err, errlen, "cannot fsync the folder %s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
        free(dir);
    }
    return 0;
}

/* After a failure: every placed item back.  0 when the old set is whole. */
static int roll_back(mk_run *run)
{
    int rc = 0;
    for (size_t i = run->npub; i-- > 0;)
        if (run->pub[i].placed && unplace(&run->pub[i]) != 0) {
            mk_log(MK_LOG_ERROR, "cannot put back the old %s (%s): %s", run->pub[i].final,
                   run->pub[i].what, strerror(errno));
            rc = -1;
        }
    return rc;
}

static void note_partial(mk_run *run, const char *journal)
{
    size_t len = 0, cap = sizeof run->published;
    len += (size_t)snprintf(run->published, cap, "PARTLY PUBLISHED: new:");
    for (size_t i = 0; i < run->npub && len < cap; i++)
        if (run->pub[i].placed)
            len += (size_t)snprintf(run->published + len, cap - len, " %s", run->pub[i].final);
    if (len < cap)
        len += (size_t)snprintf(run->published + len, cap - len, "; still old:");
    for (size_t i = 0; i < run->npub && len < cap; i++)
        if (!run->pub[i].placed)
            len += (size_t)snprintf(run->published + len, cap - len, " %s", run->pub[i].final);
    if (len < cap)
        snprintf(run->published + len, cap - len,
                 "; the next run of this pipeline finishes publishing the new set (%s)", journal);
}

/* The old outputs, now under the temporary names, and the journal go. */
static void tidy_after(mk_run *run, const char *journal)
{
    unlink(journal);
    fsync_path(run->run_dir);
    for (size_t i = 0; i < run->npub; i++)
        if (run->pub[i].placed == MK_PLACED_EXCHANGED && remove_tree(run->pub[i].tmp) != 0)
            mk_log(MK_LOG_WARN, "cannot remove the old output %s: %s (the next run will)",
                   run->pub[i].tmp, strerror(errno));
}

static void sweep_folder(const char *dir, uint64_t *files, uint64_t *bytes);

static void log_swept(const mk_run *run, uint64_t files, uint64_t bytes)
{
    if (files)
        mk_log(MK_LOG_INFO, "%s: removed %" PRIu64 " temporary file(s) of runs that died (%.1f MB)",
               run->p->name, files, (double)bytes / 1e6);
}

/* Temporary files of dead runs beside the outputs just published. */
static void sweep_item_folders(mk_run *run)
{
    uint64_t files = 0, bytes = 0;
    for (size_t i = 0; i < run->npub; i++) {
        char *dir = mk_dir_of(run->pub[i].final);
        int seen = 0;
        for (size_t k = 0; dir && k < i && !seen; k++) {
            char *other = mk_dir_of(run->pub[k].final);
            seen = other && strcmp(other, dir) == 0;
            free(other);
        }
        if (dir && !seen)
            sweep_folder(dir, &files, &bytes);
        free(dir);
    }
    log_swept(run, files, bytes);
}

int mk_publish_commit(mk_run *run)
{
    if (!run->npub)
        return MK_OK;
    char err[1200];
    char *journal = journal_path(run);
    if (!journal) {
        mk_publish_discard(run);
        return mk_run_fail(run, "out of memory publishing");
    }
    /* the temporaries' names must survive a power cut before the journal names them */
    if (fsync_folders(run->pub, run->npub, err, sizeof err) != 0 ||
        write_journal(run, journal, err, sizeof err) != 0) {
        mk_publish_discard(run);
        free(journal);
        return mk_run_fail(run, "%s", err);
    }
    size_t i;
    for (i = 0; i < run->npub; i++) {
        if (i)
            test_delay();
        if (place(&run->pub[i]) != 0) {
            snprintf(err, sizeof err, "cannot put %s (%s) in place: %s", run->pub[i].final,
                     run->pub[i].what, strerror(errno));
            break;
        }
    }
    if (i == run->npub && fsync_folders(run->pub, run->npub, err, sizeof err) == 0) {
        tidy_after(run, journal);
        free(journal);
        sweep_item_folders(run); /* outputs that no `path` option names */
        free_items(run);
        return MK_OK;
    }
    mk_run_fail(run, "%s", err);
    if (roll_back(run) == 0) {
        unlink(journal);
        fsync_path(run->run_dir);
        mk_publish_discard(run);
    } else {
        note_partial(run, journal);
        free_items(run); /* the journal still names them: the next run finishes */
    }
    free(journal);
    return MK_ERROR;
}

/* ---- a journal left by a dead run --------------------------------------------------- */

static int parse_item(const char *line, mk_publish_item *it)
{
    uint64_t dev, ino;
    int at = 0;
    if (sscanf(line, "item %" SCNu64 " %" SCNu64 " %n", &dev, &ino, &at) != 2 || !at)
        return -1;
    const char *tmp = line + at, *sp = strchr(tmp, ' ');
    if (!sp)
        return -1;
    const char *fin = sp + 1, *nl = fin + strcspn(fin, "\n");
    memset(it, 0, sizeof(*it));
    it->dev = dev;
    it->ino = ino;
    it->tmp = decode_token(tmp, (size_t)(sp - tmp));
    it->final = decode_token(fin, (size_t)(nl - fin));
    it->what = strdup("output");
    return it->tmp && it->final && it->what ? 0 : -1;
}

/* Read the journal at path into run->pub; 0, or -1 when it is damaged. */
static int read_journal(mk_run *run, const char *path, long *pid, unsigned long long *start)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0, want = (size_t)-1;
    int ok = getline(&line, &cap, f) > 0 && strcmp(line, JOURNAL_MAGIC "\n") == 0 &&
             getline(&line, &cap, f) > 0 && sscanf(line, "owner %ld %llu", pid, start) == 2;
    while (ok && getline(&line, &cap, f) > 0) {
        if (sscanf(line, "end %zu", &want) == 1)
            break;
        if (run->npub == run->pub_cap) {
            size_t n = run->pub_cap ? run->pub_cap * 2 : 8;
            mk_publish_item *grown = realloc(run->pub, n * sizeof(*grown));
            if (!grown) {
                ok = 0;
                break;
            }
            run->pub = grown;
            run->pub_cap = n;
        }
        mk_publish_item *it = &run->pub[run->npub];
        if (parse_item(line, it) != 0) {
            free(it->tmp);
            free(it->final);
            free(it->what);
            ok = 0;
            break;
        }
        run->npub++;
    }
    free(line);
    fclose(f);
    return ok && want == run->npub ? 0 : -1;
}

/* Finish item it of a dead run's journal. */
static int finish_item(mk_publish_item *it)
{
    struct stat st;
    if (lstat(it->final, &st) == 0 && (uint64_t)st.st_dev == it->dev &&
        (uint64_t)st.st_ino == it->ino) {
        /* in place already; an old output may be under the temporary name */
        it->placed = MK_PLACED_EXCHANGED;
        return 0;
    }
    if (lstat(it->tmp, &st) != 0 || (uint64_t)st.st_ino != it->ino) {
        mk_log(MK_LOG_ERROR, "cannot finish publishing %s: neither it nor %s is the new output",
               it->final, it->tmp);
        return -1;
    }
    it->is_dir = S_ISDIR(st.st_mode);
    return place(it);
}

int mk_publish_recover(mk_run *run)
{
    char *journal = journal_path(run);
    if (!journal)
        return mk_run_fail(run, "out of memory");
    if (access(journal, F_OK) != 0) {
        free(journal);
        return MK_OK;
    }
    long pid = 0;
    unsigned long long start = 0;
    int rc = MK_OK;
    if (read_journal(run, journal, &pid, &start) != 0) {
        rc = mk_run_fail(run,
                         "the publish journal %s is damaged: look at it, put the outputs it "
                         "names right by hand, then remove it",
                         journal);
    } else if (mk_outfile_owner_alive(pid, start)) {
        rc = mk_run_fail(run, "process %ld is publishing this pipeline's outputs (%s)", pid,
                         journal);
    } else {
        int failed = 0;
        for (size_t i = 0; i < run->npub; i++)
            if (finish_item(&run->pub[i]) != 0)
                failed = 1;
        char err[1200];
        if (failed || fsync_folders(run->pub, run->npub, err, sizeof err) != 0)
            rc = mk_run_fail(run,
                             "cannot finish publishing the outputs of run %ld, which died "
                             "while publishing (%s); see the messages above",
                             pid, journal);
        else {
            tidy_after(run, journal);
            mk_log(MK_LOG_WARN,
                   "finished publishing the %zu outputs of run %ld, which died while "
                   "publishing them",
                   run->npub, pid);
        }
    }
    free_items(run);
    free(journal);
    return rc;
}

/* ---- temporary files of dead runs ---------------------------------------------------- */

static void sweep_folder(const char *dir, uint64_t *files, uint64_t *bytes)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        unsigned long long start;
        if (e->d_name[0] != '.' || mk_outfile_temp_owner(e->d_name, &pid, &start) != 0 ||
            mk_outfile_owner_alive(pid, start))
            continue;
        char *path = mk_path_join(dir, e->d_name);
        struct stat st;
        if (path && lstat(path, &st) == 0 && remove_tree(path) == 0) {
            (*files)++;
            *bytes += S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        }
        free(path);
    }
    closedir(d);
}

char **mk_output_paths(const mk_pipeline *p, size_t *n)
{
    size_t nstate = 0;
    char **state = mk_state_paths(p, &nstate), **paths = NULL;
    int ok = state != NULL;
    *n = 0;
    for (size_t i = 0; ok && i < p->nsinks; i++) {
        const mk_optval *ov = mk_step_option(&p->sinks[i], "path");
        if (ov && ov->decl->type == MK_OPT_PATH)
            ok = mk_path_list_add(&paths, n, ov->value) == 0;
    }
    ok = ok && mk_path_list_add(&paths, n, p->rejects_path) == 0 &&
         mk_path_list_add(&paths, n, p->report_path) == 0 &&
         mk_path_list_add(&paths, n, p->html_report_path) == 0;
    for (size_t i = 0; ok && i < nstate; i++)
        ok = mk_path_list_add(&paths, n, state[i]) == 0;
    for (size_t i = 0; i < nstate; i++)
        free(state[i]);
    free(state);
    if (!ok) {
        for (size_t i = 0; i < *n; i++)
            free(paths[i]);
        free(paths);
        *n = 0;
        return NULL;
    }
    return paths;
}

void mk_publish_sweep(mk_run *run)
{
    uint64_t files = 0, bytes = 0;
    size_t n;
    char **outputs = mk_output_paths(run->p, &n);
    char **folders = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; outputs && folders && i < n; i++)
        folders[i] = mk_dir_of(outputs[i]);
    if (folders)
        folders[n] = strdup(run->run_dir);
    for (size_t i = 0; folders && i <= n; i++) {
        int seen = !folders[i];
        for (size_t k = 0; k < i && !seen; k++)
            seen = folders[k] && strcmp(folders[k], folders[i]) == 0;
        if (!seen)
            sweep_folder(folders[i], &files, &bytes);
    }
    for (size_t i = 0; i < n; i++) {
        free(outputs[i]);
        if (folders)
            free(folders[i]);
    }
    if (folders)
        free(folders[n]);
    free(folders);
    free(outputs);
    log_swept(run, files, bytes);
}
