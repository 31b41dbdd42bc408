/*
 * needsnewer.c -- a plugin that asks for a bigger host table than this
 * mekong has (min_host_size), so the tests can prove the host refuses it
 * with a message instead of letting it call members that are not there.
 */
#include "mekong.h"

static const mk_plugin needs_newer_plugin = {
    MK_PLUGIN_HEAD, "needsnewer", "0.0", "needs host calls of a later mekong",
    NULL, NULL, NULL, NULL, NULL, NULL, (uint32_t)sizeof(mk_host) + 64u,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &needs_newer_plugin;
}
