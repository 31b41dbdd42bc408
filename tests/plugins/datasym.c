/*
 * datasym.c -- exports mekong_plugin as a variable, not a function: the
 * host must refuse it instead of calling into its data.
 */
extern const int mekong_plugin;
const int mekong_plugin = 1;
