/*
 * path.h -- the two path helpers the engine, mekong test and the lua plugin
 * share (linked into each from libmkutil).  Both return malloc'd strings,
 * NULL when out of memory.
 */
#ifndef MEKONG_PATH_H
#define MEKONG_PATH_H

/* The folder of path: "." for a bare name, "/" for a file in the root. */
char *mk_dir_of(const char *path);

/* path resolved against dir unless it is absolute (or dir is empty). */
char *mk_path_join(const char *dir, const char *path);

#endif
