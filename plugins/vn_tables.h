/*
 * vn_tables.h -- where the plugins that need the 2025 administrative
 * tables (admin, schema) find them by default: data/vn of the source tree
 * when the plugin is loaded from the build tree, else the installed copy
 * ($(pkgdatadir)/vn); MEKONG_ADMIN_TABLES overrides both (docs/ADMIN.md).
 *
 * The including plugin's Makefile.inc defines MK_BUILD_DIR, MK_ADMIN_DIR
 * and MK_ADMIN_SRC_DIR.  Static inline: dladdr must name the plugin that
 * asks, not a library it shares with others.
 */
#ifndef MEKONG_VN_TABLES_H
#define MEKONG_VN_TABLES_H

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static inline const char *mk_vn_tables_dir(void)
{
    const char *env = getenv("MEKONG_ADMIN_TABLES");
    if (env && *env)
        return env;
    Dl_info info;
    if (dladdr((void *)mk_vn_tables_dir, &info) && info.dli_fname) {
        size_t bl = strlen(MK_BUILD_DIR);
        if (strncmp(info.dli_fname, MK_BUILD_DIR, bl) == 0 && info.dli_fname[bl] == '/')
            return MK_ADMIN_SRC_DIR;
    }
    return MK_ADMIN_DIR;
}

#endif
