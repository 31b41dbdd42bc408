/*
 * kit_options.c -- option helpers of the plugin kit that work with every
 * host: the 1.1 host calls when the host has them, the same answer worked
 * out from the first release's calls when it has not.
 *
 * Trade-off: the fallback trusts the host's load-time check of declared
 * choices (every host refuses an undeclared value before open), so it only
 * finds the value's position and does not report a bad value itself.
 */
#include "config.h"

#include <string.h>

#include "mekong_kit.h"
#include "util/words.h"

int mkk_opt_choice(const mk_host *h, mk_context *ctx, const char *name, const char *choices)
{
    if (MK_HOST_HAS(h, opt_choice)) {
        int i = h->opt_choice(ctx, name);
        if (i >= 0)
            return i;
    }
    const char *value = h->opt_string(ctx, name);
    if (!value || !choices)
        return -1;
    return mk_choice_index(choices, value);
}

const char *mkk_suggest(const char *word, const char *const *candidates, size_t n)
{
    return mk_suggest(word, candidates, n);
}
