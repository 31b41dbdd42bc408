/*
 * path.c -- see path.h.
 */
#include "config.h"

#include "path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mk_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

char *mk_path_join(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !*dir)
        return strdup(path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, path);
    return s;
}

int mk_path_list_add(char ***paths, size_t *n, const char *path)
{
    if (!path)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*paths)[i], path) == 0)
            return 0;
    char **grown = realloc(*paths, (*n + 1) * sizeof(char *));
    if (!grown)
        return -1;
    *paths = grown;
    if (!(grown[*n] = strdup(path)))
        return -1;
    (*n)++;
    return 0;
}
