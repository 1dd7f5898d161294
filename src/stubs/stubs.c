// SPDX-License-Identifier: GPL-2.0
/*
 * TEMPORARY scaffolding while the parts land: weak stand-ins for entry
 * points not yet implemented, linked last (build/libstubs.a) so any real
 * definition wins.  Deleted once every part is in.
 */
#include <stdio.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/policy.h"

#define STUB_CMD(fn, ...)                                                  \
	__attribute__((weak)) int fn(__VA_ARGS__)                          \
	{                                                                  \
		fprintf(stderr, DA_TOOL_NAME ": " #fn " not built yet\n"); \
		return DA_EXIT_USAGE;                                      \
	}

STUB_CMD(da_cmd_watch, struct da_opts *o)
STUB_CMD(da_cmd_run, struct da_opts *o, int argc, char **argv)
STUB_CMD(da_cmd_replay, struct da_opts *o, const char *path)
STUB_CMD(da_cmd_hooks, struct da_opts *o)

__attribute__((weak)) void da_policy_init_default(struct da_policy *pol)
{
}

__attribute__((weak)) int da_policy_load(struct da_policy *pol, const char *path, char *err,
					 size_t errlen)
{
	snprintf(err, errlen, "policy files not supported yet");
	return -1;
}

#include "dmabuf_audit/engine.h"

/* engine stand-ins: accept events, judge nothing */
struct da_engine {
	struct da_summary summary;
};

__attribute__((weak)) struct da_engine *da_engine_new(const struct da_engine_config *cfg)
{
	static struct da_engine eng;

	return &eng;
}

__attribute__((weak)) void da_engine_free(struct da_engine *eng)
{
}

__attribute__((weak)) void da_engine_feed(struct da_engine *eng, const struct da_event *ev)
{
	eng->summary.events++;
}

__attribute__((weak)) void da_engine_lost(struct da_engine *eng, uint64_t first_seq,
					  uint64_t count)
{
	eng->summary.lost += count;
}

__attribute__((weak)) void da_engine_tick(struct da_engine *eng, uint64_t now_ns)
{
}

__attribute__((weak)) void da_engine_finish(struct da_engine *eng)
{
}

__attribute__((weak)) void da_engine_summary(const struct da_engine *eng, struct da_summary *out)
{
	*out = eng->summary;
}

__attribute__((weak)) int da_engine_max_severity(const struct da_engine *eng)
{
	return -1;
}
