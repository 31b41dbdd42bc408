/*
 * plugin.c -- see plugin.h.  The ABI check follows PostgreSQL's magic
 * block: the descriptor's first words are checked before any other member
 * is read, so a plugin of another ABI is refused with both versions named
 * instead of crashing the host.
 */
#include "config.h"

#include "plugin.h"
#include "log.h"
#include "plugin_check.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_dir(mk_plugin_path *sp, const char *dir, size_t len)
{
    if (len == 0)
        return 0;
    char **grown = realloc(sp->dirs, (sp->count + 1) * sizeof(char *));
    if (!grown)
        return -1;
    sp->dirs = grown;
    sp->dirs[sp->count] = strndup(dir, len);
    if (!sp->dirs[sp->count])
        return -1;
    sp->count++;
    return 0;
}

/* Nonzero when this executable lives in the build tree it was built in. */
static int running_from_build_tree(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    size_t bl = strlen(MK_BUILD_DIR);
    return strncmp(exe, MK_BUILD_DIR, bl) == 0 && exe[bl] == '/' &&
           strncmp(exe + bl, "/engine/", 8) == 0;
}

/* A folder given by the user that will not do what was meant is said so:
 * a relative one depends on where mekong runs, a missing one on a typo. */
static void warn_if_odd_dir(const char *dir, const char *from)
{
    struct stat st;
    if (dir[0] != '/')
        mk_log(MK_LOG_WARN,
               "plugin folder '%s' (%s) is relative: it is looked up from the current folder, "
               "so the plugins found change with it; give an absolute path",
               dir, from);
    if (stat(dir, &st) != 0)
        mk_log(MK_LOG_WARN, "plugin folder '%s' (%s) cannot be searched: %s", dir, from,
               strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        mk_log(MK_LOG_WARN, "plugin folder '%s' (%s) is not a folder", dir, from);
}

int mk_plugin_path_init(mk_plugin_path *sp, char *const *extra_dirs, size_t nextra)
{
    sp->dirs = NULL;
    sp->count = 0;
    for (size_t i = 0; i < nextra; i++) {
        if (add_dir(sp, extra_dirs[i], strlen(extra_dirs[i])) != 0)
            return -1;
        if (*extra_dirs[i])
            warn_if_odd_dir(extra_dirs[i], "--plugin-dir");
    }
    const char *env = getenv("MEKONG_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        if (add_dir(sp, env, len) != 0)
            return -1;
        if (len)
            warn_if_odd_dir(sp->dirs[sp->count - 1], "MEKONG_PLUGIN_PATH");
        env = colon ? colon + 1 : NULL;
    }
    if (running_from_build_tree() && add_dir(sp, MK_BUILD_DIR "/plugins", strlen(MK_BUILD_DIR "/plugins")) != 0)
        return -1;
    return add_dir(sp, MK_PLUGIN_DIR, strlen(MK_PLUGIN_DIR));
}

void mk_plugin_path_free(mk_plugin_path *sp)
{
    for (size_t i = 0; i < sp->count; i++)
        free(sp->dirs[i]);
    free(sp->dirs);
    sp->dirs = NULL;
    sp->count = 0;
}

char *mk_plugin_path_describe(const mk_plugin_path *sp)
{
    size_t len = 1;
    for (size_t i = 0; i < sp->count; i++)
        len += strlen(sp->dirs[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < sp->count; i++) {
        if (i)
            strcat(s, ":");
        strcat(s, sp->dirs[i]);
    }
    return s;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file of plugin name in dir, into buf; 0 if found. */
static int find_in_dir(const char *dir, const char *name, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%s/%s.so", dir, name);
    if (is_file(buf))
        return 0;
    snprintf(buf, buflen, "%s/%s/.libs/%s.so", dir, name, name);
    if (is_file(buf))
        return 0;
    return -1;
}

/* The descriptor's own words and the strings the host prints must lie in
 * the plugin's memory: a bad pointer is refused, not dereferenced. */
static int descriptor_in_memory(void *h, const mk_plugin *d, size_t len)
{
    return mk_plugin_readable(h, d, len) &&
           (len < MK_PLUGIN_FIRST_SIZE ||
            (mk_plugin_readable_string(h, d->name) &&
             (!d->version || mk_plugin_readable_string(h, d->version)) &&
             (!d->summary || mk_plugin_readable_string(h, d->summary))));
}

/* The checks of PostgreSQL's magic block, in order: nothing past a word is
 * read before that word proved the plugin speaks this ABI. */
static int check_descriptor(void *h, const mk_plugin *d, const char *path, char *err,
                            size_t errlen)
{
    if (!descriptor_in_memory(h, d, 3 * sizeof(uint32_t))) {
        snprintf(err, errlen,
                 "%s is not a mekong plugin: mekong_plugin() returned %p, which is not a "
                 "descriptor in the plugin's memory (return the address of a static "
                 "mk_plugin)",
                 path, (const void *)d);
        return -1;
    }
    if (d->magic != MK_ABI_MAGIC) {
        snprintf(err, errlen, "%s is not a mekong plugin: bad magic 0x%08x (expected 0x%08x)", path,
                 d->magic, MK_ABI_MAGIC);
        return -1;
    }
    if (d->abi_version != MK_ABI_VERSION) {
        snprintf(err, errlen,
                 "plugin %s was built for plugin ABI %u, but this mekong has ABI %u: rebuild it "
                 "against this version's mekong.h",
                 path, d->abi_version, MK_ABI_VERSION);
        return -1;
    }
    /* any descriptor from ABI 1's first release on; later members are read
     * only when d->size covers them (MK_PLUGIN_HAS) */
    if (d->size < MK_PLUGIN_FIRST_SIZE || !descriptor_in_memory(h, d, d->size)) {
        snprintf(err, errlen,
                 "plugin %s has a truncated or damaged descriptor (%u bytes, at least %zu "
                 "expected, with its name, version and summary strings in the plugin): "
                 "rebuild it against this version's mekong.h",
                 path, d->size, (size_t)MK_PLUGIN_FIRST_SIZE);
        return -1;
    }
    uint32_t need = MK_PLUGIN_HAS(d, min_host_size) ? d->min_host_size : 0;
    if (need > sizeof(mk_host)) {
        snprintf(err, errlen,
                 "plugin %s needs a newer mekong: it uses host calls this version lacks (host "
                 "table of %u bytes, this mekong has %zu); upgrade mekong or use an older "
                 "build of the plugin",
                 path, need, sizeof(mk_host));
        return -1;
    }
    return 0;
}

int mk_plugin_load_file(const char *path, mk_loaded_plugin *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (mk_plugin_check_file(path, err, errlen) != 0)
        return -1;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen,
                 "cannot load plugin %s: %s (run 'ldd %s' to see which library is missing)", path,
                 dlerror(), path);
        return -1;
    }
    void *sym = dlsym(h, MK_PLUGIN_ENTRY);
    if (!sym) {
        snprintf(err, errlen,
                 "%s is not a mekong plugin: it does not export %s() (see docs/PLUGINS.md)", path,
                 MK_PLUGIN_ENTRY);
        dlclose(h);
        return -1;
    }
    mk_plugin_entry_fn entry;
    *(void **)&entry = sym;
    const mk_plugin *d = NULL;
    if (mk_plugin_check_entry(h, sym, path, err, errlen) != 0 ||
        check_descriptor(h, d = entry(), path, err, errlen) != 0) {
        dlclose(h);
        return -1;
    }
    out->desc = d;
    out->handle = h;
    out->path = strdup(path);
    return 0;
}

/* Plugins compiled into this program (mekong test's row source and
 * capture sink); they are found before the search path. */
static const mk_plugin *builtins[8];
static size_t nbuiltins;

int mk_plugin_register_builtin(const mk_plugin *d)
{
    for (size_t i = 0; i < nbuiltins; i++)
        if (builtins[i] == d)
            return 0;
    if (nbuiltins == sizeof builtins / sizeof builtins[0])
        return -1;
    builtins[nbuiltins++] = d;
    return 0;
}

static int load_builtin(const char *name, mk_loaded_plugin *out)
{
    for (size_t i = 0; i < nbuiltins; i++) {
        if (strcmp(builtins[i]->name, name) != 0)
            continue;
        memset(out, 0, sizeof(*out));
        out->desc = builtins[i];
        out->path = strdup("(built in)");
        return out->path ? 0 : -1;
    }
    return -1;
}

/* A pipeline loads a plugin once per step that uses it: say it once. */
static int warned_before(const char *path)
{
    static char *warned[16];
    static size_t n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(warned[i], path) == 0)
            return 1;
    if (n < sizeof warned / sizeof warned[0] && (warned[n] = strdup(path)) != NULL)
        n++;
    return 0;
}

/* The plugin found in folder i hides any of the same name later on the
 * path; that is how a folder put first replaces a plugin, so it is said. */
static void warn_shadowed(const mk_plugin_path *sp, size_t i, const char *name, const char *path)
{
    char later[PATH_MAX];
    struct stat a, b;
    if (stat(path, &a) != 0)
        return;
    for (size_t j = i + 1; j < sp->count; j++) {
        if (find_in_dir(sp->dirs[j], name, later, sizeof later) != 0 || stat(later, &b) != 0 ||
            (a.st_dev == b.st_dev && a.st_ino == b.st_ino))
            continue;
        if (warned_before(later))
            continue;
        mk_log(MK_LOG_WARN,
               "plugin '%s': %s is used and shadows %s, later in the search path; remove "
               "one, or change the order of --plugin-dir / MEKONG_PLUGIN_PATH",
               name, path, later);
    }
}

int mk_plugin_load(const mk_plugin_path *sp, const char *name, mk_loaded_plugin *out, char *err,
                   size_t errlen)
{
    char buf[PATH_MAX];
    if (load_builtin(name, out) == 0)
        return 0;
    if (!*name || strchr(name, '/') || strchr(name, '.')) {
        snprintf(err, errlen, "'%s' is not a plugin name (a plain word such as csv)", name);
        return -1;
    }
    for (size_t i = 0; i < sp->count; i++) {
        if (find_in_dir(sp->dirs[i], name, buf, sizeof buf) != 0)
            continue;
        warn_shadowed(sp, i, name, buf);
        if (mk_plugin_load_file(buf, out, err, errlen) != 0)
            return -1;
        if (strcmp(out->desc->name, name) != 0) {
            snprintf(err, errlen, "%s calls itself '%s', not '%s'", buf, out->desc->name, name);
            mk_plugin_unload(out);
            return -1;
        }
        return 0;
    }
    char *where = mk_plugin_path_describe(sp);
    snprintf(err, errlen,
             "no plugin named '%s' (searched %s); 'mekong plugins' lists those found, "
             "--plugin-dir or MEKONG_PLUGIN_PATH adds a folder",
             name, where ? where : "?");
    free(where);
    return -1;
}

void mk_plugin_unload(mk_loaded_plugin *p)
{
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    memset(p, 0, sizeof(*p));
}

typedef struct seen {
    char **names;
    size_t count;
} seen;

static int seen_add(seen *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0)
            return 0;
    char **grown = realloc(s->names, (s->count + 1) * sizeof(char *));
    if (!grown)
        return 0;
    s->names = grown;
    s->names[s->count++] = strdup(name);
    return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

void mk_plugin_each(const mk_plugin_path *sp, mk_plugin_visit_fn fn, void *data)
{
    seen s = {NULL, 0};
    char buf[PATH_MAX];
    for (size_t i = 0; i < sp->count; i++) {
        struct dirent **list = NULL;
        int n = scandir(sp->dirs[i], &list, NULL, by_name);
        for (int k = 0; k < n; k++) {
            char name[256];
            const char *e = list[k]->d_name;
            size_t len = strlen(e);
            if (e[0] == '.') {
                free(list[k]);
                continue;
            }
            if (len > 3 && strcmp(e + len - 3, ".so") == 0)
                snprintf(name, sizeof name, "%.*s", (int)(len - 3), e);
            else
                snprintf(name, sizeof name, "%s", e);
            free(list[k]);
            if (find_in_dir(sp->dirs[i], name, buf, sizeof buf) == 0 && seen_add(&s, name)) {
                warn_shadowed(sp, i, name, buf);
                fn(name, buf, data);
            }
        }
        free(list);
    }
    for (size_t i = 0; i < s.count; i++)
        free(s.names[i]);
    free(s.names);
}
