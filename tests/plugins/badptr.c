/*
 * badptr.c -- mekong_plugin() returns a pointer to nothing: the host must
 * refuse it before reading the descriptor's first word.
 */
#include <stdint.h>

#include "mekong.h"

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return (const mk_plugin *)(uintptr_t)16;
}
