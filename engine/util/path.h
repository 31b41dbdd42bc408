/*
 * path.h -- the path helpers the engine, mekong test and the lua plugin
 * share (linked into each from libmkutil).  mk_dir_of and mk_path_join
 * return malloc'd strings, NULL when out of memory.
 */
#ifndef MEKONG_PATH_H
#define MEKONG_PATH_H

#include <stddef.h>

/* The folder of path: "." for a bare name, "/" for a file in the root. */
char *mk_dir_of(const char *path);

/* path resolved against dir unless it is absolute (or dir is empty). */
char *mk_path_join(const char *dir, const char *path);

/* Add a copy of path to the list *paths of *n unless it is there already
 * (path NULL: nothing to add).  0, or -1 when out of memory. */
int mk_path_list_add(char ***paths, size_t *n, const char *path);

#endif
