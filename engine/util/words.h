/*
 * words.h -- names against lists of names: the position of a value among
 * declared choices ("a|b|c"), and the closest of some names for a "did you
 * mean".  Shared by the engine (pipeline checks, the host's opt_choice)
 * and the plugin kit (mkk_opt_choice, mkk_suggest) from libmkutil.
 */
#ifndef MEKONG_WORDS_H
#define MEKONG_WORDS_H

#include <stddef.h>

/* Position of value in choices "a|b|c", or -1. */
int mk_choice_index(const char *choices, const char *value);

/* Levenshtein distance of two names; (size_t)-1 when one is over 64 bytes. */
size_t mk_edit_distance(const char *a, const char *b);

/* The candidate closest to word when it is close enough to suggest, else
 * NULL: at most 1 edit for words of up to 4 bytes, len / 3 + 1 beyond. */
const char *mk_suggest(const char *word, const char *const *candidates, size_t n);

/* A set of names (not copied: they must outlive the set), by hashing:
 * many names (100,000 columns) cost linear time, not quadratic. */
typedef struct mk_nameset mk_nameset;
mk_nameset *mk_nameset_new(void);
void mk_nameset_free(mk_nameset *s);
/* 1: added, 0: already there, -1: out of memory. */
int mk_nameset_add(mk_nameset *s, const char *name);

/* Nonzero when s ends with suffix. */
int mk_ends_with(const char *s, const char *suffix);

#endif
