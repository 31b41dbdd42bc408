/*
 * oldabi.c -- a plugin that claims an older plugin ABI, so the tests can
 * prove the host refuses it by name instead of calling into it.
 */
#include "mekong.h"

static const mk_plugin old_plugin = {
    MK_ABI_MAGIC, MK_ABI_VERSION - 1u + 100u, sizeof(mk_plugin), "oldabi", "0.0", "built for another ABI",
    NULL, NULL, NULL, NULL, NULL, NULL,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &old_plugin;
}
