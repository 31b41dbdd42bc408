/*
 * lua_files.c -- the files a rule may read (io.open, io.lines, require and,
 * through io.open, mekong.lookup).
 *
 * A path is resolved like every path of the pipeline file (relative: from
 * the pipeline's folder), then with realpath(), so symbolic links and ".."
 * are followed before the check.  The real path must be inside one of the
 * read roots: the pipeline's folder, the rule file's folder, the rule
 * library (lua_dir) and what the step's `read:` option declares (folders or
 * single files).  Nothing under /proc, /sys or /dev is ever readable, and
 * "/" is never a root (a pipeline kept in / does not open the whole disk).
 *
 * Only regular files are opened: stat() first (no open of a device or FIFO
 * at all), then open(O_RDONLY | O_NONBLOCK | O_NOFOLLOW) and fstat() again
 * for the file really opened, so a FIFO swapped in between cannot block the
 * engine.  O_NONBLOCK is cleared before the descriptor becomes a FILE.
 *
 * A refusal is a Lua error naming the path and what is allowed; a file that
 * is allowed but cannot be opened (missing, permissions) is the ordinary
 * io.open failure (nil, message, errno).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua_plugin.h"
#include "util/path.h"

#define LP_REFUSED_HINT                                                                            \
    "rules may read files in the pipeline's folder, the rule file's folder and the rule library, " \
    "and the files and folders the lua step declares with read: [...]; add it there to allow it"

/* ---- the roots ---------------------------------------------------------- */

/* Under /proc, /sys or /dev (real paths only). */
static int forbidden(const char *real)
{
    static const char *const never[] = {"/proc", "/sys", "/dev"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        size_t n = strlen(never[i]);
        if (strncmp(real, never[i], n) == 0 && (real[n] == '\0' || real[n] == '/'))
            return 1;
    }
    return 0;
}

static int add_root(lp_plugin *lp, const char *real, int dir)
{
    lp_root *grown = realloc(lp->roots, (lp->nroots + 1) * sizeof *grown);
    if (!grown)
        return MK_NOMEM;
    lp->roots = grown;
    grown[lp->nroots].path = strdup(real);
    grown[lp->nroots].dir = dir;
    if (!grown[lp->nroots].path)
        return MK_NOMEM;
    lp->nroots++;
    return MK_OK;
}

/* A folder rules may read because of where the pipeline and rules are;
 * skipped (with a warning for /) when it cannot be one. */
static int implicit_root(lp_plugin *lp, const char *dir, const char *what)
{
    char real[PATH_MAX];
    if (!dir || !realpath(dir, real))
        return MK_OK;
    if (strcmp(real, "/") == 0 || forbidden(real)) {
        lp->host->log(lp->ctx, MK_LOG_WARN,
                      "%s is %s: rules may not read there (sandbox); keep the pipeline and its "
                      "rules in a folder of their own",
                      what, real);
        return MK_OK;
    }
    return add_root(lp, real, 1);
}

/* One entry of read:, resolved from the pipeline file's folder. */
static int declared_root(lp_plugin *lp, const char *entry)
{
    const mk_host *h = lp->host;
    char *joined = mk_path_join(lp->pipeline_dir, entry);
    if (!joined)
        return MK_NOMEM;
    char real[PATH_MAX];
    int ok = realpath(joined, real) != NULL;
    int e = errno;
    free(joined);
    if (!ok) {
        h->error(lp->ctx, "read: '%s': %s; declare files or folders that exist", entry,
                 strerror(e));
        return MK_ERROR;
    }
    if (strcmp(real, "/") == 0 || forbidden(real)) {
        h->error(lp->ctx,
                 "read: '%s' is %s; rules may never read /, /proc, /sys or /dev: declare the "
                 "folders or files of the data",
                 entry, real);
        return MK_ERROR;
    }
    struct stat st;
    if (stat(real, &st) != 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
        h->error(lp->ctx, "read: '%s' is neither a folder nor a regular file", entry);
        return MK_ERROR;
    }
    return add_root(lp, real, S_ISDIR(st.st_mode));
}

int lp_read_roots(lp_plugin *lp)
{
    const mk_host *h = lp->host;
    int rc = implicit_root(lp, lp->pipeline_dir, "the pipeline's folder");
    if (rc == MK_OK)
        rc = implicit_root(lp, lp->script_dir, "the rule file's folder");
    if (rc == MK_OK)
        rc = implicit_root(lp, lp->lua_dir, "the rule library folder");
    size_t n = h->opt_count(lp->ctx, "read");
    for (size_t i = 0; i < n && rc == MK_OK; i++) {
        const char *value = NULL;
        if (h->opt_entry(lp->ctx, "read", i, NULL, &value) == MK_OK && value)
            rc = declared_root(lp, value);
    }
    return rc;
}

void lp_read_roots_free(lp_plugin *lp)
{
    for (size_t i = 0; i < lp->nroots; i++)
        free(lp->roots[i].path);
    free(lp->roots);
    lp->roots = NULL;
    lp->nroots = 0;
}

static int inside_roots(const lp_plugin *lp, const char *real, int want_dir)
{
    if (forbidden(real))
        return 0;
    for (size_t i = 0; i < lp->nroots; i++) {
        const lp_root *r = &lp->roots[i];
        size_t n = strlen(r->path);
        if (!r->dir) {
            if (!want_dir && strcmp(real, r->path) == 0)
                return 1;
        } else if (strncmp(real, r->path, n) == 0 && (real[n] == '\0' || real[n] == '/')) {
            return 1;
        }
    }
    return 0;
}

/* ---- checking one path -------------------------------------------------- */

static const char *kind_of(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISDIR(m))
        return "a folder";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    return "not a regular file";
}

static int refuse(lua_State *L, const char *what, const char *shown, const char *real,
                  const char *link)
{
    if (forbidden(real))
        return luaL_error(L, "%s: '%s'%s: rules may never read under /proc, /sys or /dev (sandbox)",
                          what, shown, link);
    return luaL_error(L, "%s: '%s'%s is outside what rules may read (sandbox): " LP_REFUSED_HINT,
                      what, shown, link);
}

/* " (a symbolic link to real)" when path itself is a link. */
static void link_note(const char *path, const char *real, char *buf, size_t len)
{
    struct stat st;
    buf[0] = '\0';
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        snprintf(buf, len, " (a symbolic link to %s)", real);
}

static int not_regular(lua_State *L, const char *what, const char *shown, mode_t m)
{
    return luaL_error(L, "%s: '%s' is %s; rules may only read regular files (sandbox)", what,
                      shown, kind_of(m));
}

/* realpath() failed on path: refuse unless its folder is one rules may read
 * (then it is an ordinary "no such file"), or does not exist either. */
static void check_missing(lua_State *L, const char *what, const char *shown, const char *path)
{
    int e = errno;
    char *dir = mk_dir_of(path);
    char real[PATH_MAX];
    int known = dir && realpath(dir, real) != NULL;
    free(dir);
    if (known && !inside_roots(LP_WORKER(L)->lp, real, 1))
        refuse(L, what, shown, real, "");
    errno = e;
}

int lp_open_checked(lua_State *L, const char *what, const char *shown, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        check_missing(L, what, shown, path);
        return -1;
    }
    if (!inside_roots(LP_WORKER(L)->lp, real, 0)) {
        char note[PATH_MAX + 32];
        link_note(path, real, note, sizeof note);
        refuse(L, what, shown, real, note);
    }
    struct stat st;
    if (stat(real, &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode))
        not_regular(L, what, shown, st.st_mode);
    int fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        not_regular(L, what, shown, st.st_mode);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

FILE *lp_fopen_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    int fl = fcntl(fd, F_GETFL);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || fl == -1 ||
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f)
        close(fd);
    return f;
}

/* ---- io.open and io.lines ----------------------------------------------- */

static int stream_close(lua_State *L)
{
    luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    int ok = fclose(p->f) == 0;
    return luaL_fileresult(L, ok, NULL);
}

/* Push a file handle for the path at index arg (resolved from the pipeline's
 * folder into path); 0 when it cannot be opened (errno set; the handle is
 * pushed, closed).  Refusals raise. */
static int push_file(lua_State *L, int arg, const char *what, char *path, size_t len)
{
    const char *shown = luaL_checkstring(L, arg);
    const lp_plugin *lp = LP_WORKER(L)->lp;
    luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->closef = NULL;
    p->f = NULL;
    luaL_setmetatable(L, LUA_FILEHANDLE);
    if (shown[0] == '/')
        snprintf(path, len, "%s", shown);
    else if ((size_t)snprintf(path, len, "%s/%s", lp->pipeline_dir, shown) >= len) {
        errno = ENAMETOOLONG;
        return 0;
    }
    int fd = lp_open_checked(L, what, shown, path);
    if (fd < 0)
        return 0;
    p->f = fdopen(fd, "r");
    if (!p->f) {
        int e = errno;
        close(fd);
        errno = e;
        return 0;
    }
    p->closef = stream_close;
    return 1;
}

/* io.open(path [, mode]) that only reads. */
int lp_io_open(lua_State *L)
{
    const char *mode = luaL_optstring(L, 2, "r");
    if (strcmp(mode, "r") != 0 && strcmp(mode, "rb") != 0)
        return luaL_error(L, "io.open mode '%s': rules may only read files (sandbox)", mode);
    char path[PATH_MAX * 2];
    if (!push_file(L, 1, "io.open", path, sizeof path))
        return luaL_fileresult(L, 0, path);
    return 1;
}

/* The iterator of io.lines: the file's lines iterator, closing the file at
 * the end like the standard io.lines. */
static int lines_next(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, LUA_MULTRET);
    if (lua_gettop(L) == 0 || lua_isnil(L, 1)) {
        luaL_Stream *p = lua_touserdata(L, lua_upvalueindex(2));
        if (p->closef) {
            p->closef = NULL;
            fclose(p->f);
        }
    }
    return lua_gettop(L);
}

/* io.lines(path, ...) needs a path: reading stdin is not for rules. */
int lp_io_lines(lua_State *L)
{
    int n = lua_gettop(L);
    char path[PATH_MAX * 2];
    if (!push_file(L, 1, "io.lines", path, sizeof path))
        return luaL_error(L, "%s: %s", path, strerror(errno));
    int f = lua_gettop(L);
    lua_getfield(L, f, "lines");
    lua_pushvalue(L, f);
    for (int i = 2; i <= n; i++)
        lua_pushvalue(L, i);
    lua_call(L, n, 1);
    lua_pushvalue(L, f);
    lua_pushcclosure(L, lines_next, 2);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, f);
    return 4;
}
