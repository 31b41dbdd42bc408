/*
 * plugin_check.h -- what the loader checks so that a damaged, hostile or
 * mistaken plugin file is refused with a reason instead of crashing the
 * host or running someone else's code.  Internal to plugin.c.
 */
#ifndef MEKONG_PLUGIN_CHECK_H
#define MEKONG_PLUGIN_CHECK_H

#include <stddef.h>

/* Before dlopen: path and its folder are trusted (owned by us or root, not
 * group- or world-writable), path is a regular file with an ELF header of
 * this machine's class, and every segment lies inside the file.  0, or -1
 * with a message for people in err. */
int mk_plugin_check_file(const char *path, char *err, size_t errlen);
/* After dlsym: sym is a function in an executable segment of the object h. */
int mk_plugin_check_entry(void *h, const void *sym, const char *path, char *err, size_t errlen);
/* Nonzero when [p, p+len) lies in a readable segment of the object h. */
int mk_plugin_readable(void *h, const void *p, size_t len);
/* Nonzero when s is a NUL-terminated string in readable memory of h. */
int mk_plugin_readable_string(void *h, const char *s);

#endif
