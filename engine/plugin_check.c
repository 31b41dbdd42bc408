/*
 * plugin_check.c -- see plugin_check.h.  dlopen trusts its file: a
 * truncated one maps pages past its end (SIGBUS when touched), and dlsym
 * gives any symbol, data too, which the host would then call.  So the file
 * is read with read() (never mapped) before dlopen, and the entry symbol
 * and the descriptor are located in the object's own segments
 * (dl_iterate_phdr) before they are called or read.
 */
#include "config.h"

#include "plugin_check.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if __SIZEOF_POINTER__ == 8
#define NATIVE_CLASS ELFCLASS64
#define ST_TYPE ELF64_ST_TYPE
#else
#define NATIVE_CLASS ELFCLASS32
#define ST_TYPE ELF32_ST_TYPE
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

/* As ssh and sudo do: a file anyone else may write is code anyone else
 * may run as us, so it is refused rather than loaded. */
static int trusted(const char *path, const char *what, const char *obj, char *err,
                   size_t errlen)
{
    struct stat st;
    if (stat(obj, &st) != 0) {
        snprintf(err, errlen, "cannot load plugin %s: %s %s: %s", path, what, obj,
                 strerror(errno));
        return -1;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(err, errlen,
                 "refusing plugin %s: %s %s belongs to uid %ju, neither you nor root, and "
                 "whoever owns it could run code as you: chown it, or use a folder of yours",
                 path, what, obj, (uintmax_t)st.st_uid);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen,
                 "refusing plugin %s: %s %s is writable by %s, who could put code there that "
                 "would run as you: run 'chmod go-w %s' (or move the plugin to a folder only "
                 "you can write)",
                 path, what, obj, st.st_mode & S_IWOTH ? "everyone" : "its group", obj);
        return -1;
    }
    return 0;
}

static int check_trust(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    if (trusted(path, "the file", path, err, errlen) != 0)
        return -1;
    return trusted(path, "its folder", dir, err, errlen);
}

/* Every program header's bytes inside the file of size fsize. */
static int check_segments(int fd, const ElfW(Ehdr) *eh, off_t fsize, const char *path,
                          char *err, size_t errlen)
{
    size_t n = eh->e_phnum, bytes = n * sizeof(ElfW(Phdr));
    if (eh->e_phentsize != sizeof(ElfW(Phdr)) || n == 0 || eh->e_phoff > (uintmax_t)fsize ||
        bytes > (uintmax_t)fsize - eh->e_phoff) {
        snprintf(err, errlen,
                 "cannot load plugin %s: the file is truncated or damaged (its program headers "
                 "are not inside it): rebuild or reinstall it",
                 path);
        return -1;
    }
    ElfW(Phdr) *ph = malloc(bytes);
    int rc = ph && pread(fd, ph, bytes, (off_t)eh->e_phoff) == (ssize_t)bytes ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (ph[i].p_offset <= (uintmax_t)fsize &&
            ph[i].p_filesz <= (uintmax_t)fsize - ph[i].p_offset)
            continue;
        snprintf(err, errlen,
                 "cannot load plugin %s: the file is truncated or damaged (segment %zu needs "
                 "bytes up to %ju, the file has %jd): rebuild or reinstall it",
                 path, i, (uintmax_t)ph[i].p_offset + ph[i].p_filesz, (intmax_t)fsize);
        rc = -2;
    }
    if (rc == -1)
        snprintf(err, errlen, "cannot load plugin %s: cannot read its program headers", path);
    free(ph);
    return rc ? -1 : 0;
}

static int check_elf(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot load plugin %s: not a regular file", path);
        return -1;
    }
    ElfW(Ehdr) eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        snprintf(err, errlen,
                 "cannot load plugin %s: not an ELF shared object (too short, or no ELF "
                 "header): a plugin is the NAME.so a plugin build makes",
                 path);
        return -1;
    }
    if (eh.e_ident[EI_CLASS] != NATIVE_CLASS || eh.e_ident[EI_DATA] != NATIVE_DATA ||
        eh.e_type != ET_DYN) {
        snprintf(err, errlen,
                 "cannot load plugin %s: an ELF file, but not a shared object of this "
                 "machine's kind (%d-bit, %s-endian): rebuild it here",
                 path, NATIVE_CLASS == ELFCLASS64 ? 64 : 32,
                 NATIVE_DATA == ELFDATA2LSB ? "little" : "big");
        return -1;
    }
    return check_segments(fd, &eh, st.st_size, path, err, errlen);
}

int mk_plugin_check_file(const char *path, char *err, size_t errlen)
{
    if (check_trust(path, err, errlen) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot load plugin %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = check_elf(fd, path, err, errlen);
    close(fd);
    return rc;
}

/* dl_iterate_phdr's search: is [p, p+len) in a segment of the object at
 * base with all of flags? */
typedef struct span {
    ElfW(Addr) base;
    const char *name;
    uintptr_t p;
    size_t len;
    unsigned flags;
    int found;
} span;

static int in_object(struct dl_phdr_info *info, size_t size, void *data)
{
    span *s = data;
    (void)size;
    if (info->dlpi_addr != s->base || strcmp(info->dlpi_name, s->name) != 0)
        return 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & s->flags) == s->flags && s->p >= start &&
            s->p < end && s->len <= end - s->p) {
            s->found = 1;
            s->len = end - s->p; /* room left, for strings */
        }
    }
    return 1;
}

/* 0 with the room left in *room when [p, p+len) lies in a segment of h
 * with flags. */
static int locate(void *h, const void *p, size_t len, unsigned flags, size_t *room)
{
    struct link_map *lm = NULL;
    if (!p || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return -1;
    span s = {lm->l_addr, lm->l_name, (uintptr_t)p, len, flags, 0};
    dl_iterate_phdr(in_object, &s);
    if (room)
        *room = s.len;
    return s.found ? 0 : -1;
}

int mk_plugin_readable(void *h, const void *p, size_t len)
{
    return locate(h, p, len, PF_R, NULL) == 0;
}

int mk_plugin_readable_string(void *h, const char *s)
{
    size_t room;
    return locate(h, s, 1, PF_R, &room) == 0 && memchr(s, '\0', room) != NULL;
}

int mk_plugin_check_entry(void *h, const void *sym, const char *path, char *err, size_t errlen)
{
    Dl_info info;
    const ElfW(Sym) *es = NULL;
    int is_func = dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) != 0 && es &&
                  (ST_TYPE(es->st_info) == STT_FUNC ||
                   ST_TYPE(es->st_info) == STT_GNU_IFUNC);
    if (is_func && locate(h, sym, 1, PF_X, NULL) == 0)
        return 0;
    snprintf(err, errlen,
             "%s is not a mekong plugin: its symbol mekong_plugin is not a function in its "
             "code (a variable of that name?); it must define const mk_plugin "
             "*mekong_plugin(void) (see docs/PLUGINS.md)",
             path);
    return -1;
}
