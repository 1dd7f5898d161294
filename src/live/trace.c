// SPDX-License-Identifier: GPL-2.0
/*
 * A live trace: the session (loader.c), the pipeline and the ring buffer
 * source (source.c) put together, polled, and taken down, for `watch` and
 * `run` (src/cmd/watch.c).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "../service/systemd.h"

#define POLL_MS 100
/* /proc/modules is small: look for new modules (revoke scopes) five times a second */
#define MODULE_CHECK_NS 200000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void trace_free(struct da_live_trace *t)
{
	da_source_free(t->src);
	da_pipeline_free(t->p);
	da_live_close(t->live);
	t->src = NULL;
	t->p = NULL;
	t->live = NULL;
}

/* every hook that is not attached is worth a notice at the top of the report */
static void notice_unattached(struct da_live_trace *t)
{
	const struct da_hook_plan *plans;
	unsigned int n;

	plans = da_live_plans(t->live, &n);
	for (unsigned int i = 0; i < n; i++) {
		if (plans[i].attached)
			continue;
		da_pipeline_notice(t->p, DA_NOTICE_HOOK, "%s hook %s (%s) not attached: %s",
				   plans[i].def ? plans[i].def->id : "scope", plans[i].function,
				   da_plan_mode_name(&plans[i]), plans[i].reason);
	}
}

int da_live_trace_open(struct da_live_trace *t, const struct da_opts *opts, bool live, char *err,
		       size_t errlen)
{
	struct da_pipeline_config cfg = { 0 };

	memset(t, 0, sizeof(*t));
	if (da_live_open(opts, &t->info, &t->live, err, errlen))
		goto fail;
	cfg.opts = opts;
	cfg.trace = &t->info;
	cfg.symbols = da_live_symbols(t->live);
	cfg.cgroup_resolver = da_live_cgroup_resolve;
	cfg.stack_resolver = opts->stacks ? da_live_resolve_stack : NULL;
	cfg.stack_ctx = t->live;
	cfg.live = live;
	da_service_config(&cfg, opts, live); /* --log journal; watch holds repeats back */
	t->p = da_pipeline_new(&cfg, err, errlen);
	if (!t->p)
		goto fail;
	if (da_pipeline_begin(t->p)) {
		snprintf(err, errlen, "cannot write the report header");
		goto fail;
	}
	notice_unattached(t);
	t->src = da_source_new(t->live, t->p, opts->verbose);
	if (!t->src) {
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(errno));
		goto fail;
	}
	t->next_module_check = mono_ns() + MODULE_CHECK_NS;
	da_timing_mark("pipeline");
	/* the buffers older than the hooks: after the attach, so no event falls between */
	da_seed_run(t, opts, &t->seed);
	da_timing_mark("seed");
	return 0;
fail:
	trace_free(t);
	return -1;
}

int da_live_trace_poll(struct da_live_trace *t, char *err, size_t errlen)
{
	int n = da_source_poll(t->src, POLL_MS);

	if (n < 0) {
		snprintf(err, errlen, "reading the ring buffer failed: %s", strerror(-n));
		return n;
	}
	/* the seed's records were read in da_live_trace_open: this is an event's */
	if (n > 0 && !t->first_event_seen) {
		t->first_event_seen = true;
		da_timing_mark("first-event");
	}
	if (mono_ns() >= t->next_module_check) {
		da_live_check_modules(t->live, t->p);
		t->next_module_check = mono_ns() + MODULE_CHECK_NS;
	}
	return 0;
}

void da_live_trace_catch_up(struct da_live_trace *t)
{
	da_source_catch_up(t->src);
}

int da_live_trace_finish(struct da_live_trace *t, int *max_severity)
{
	int ret;

	da_timing_mark("stop");
	da_live_detach(t->live);
	da_timing_mark("detach");
	da_source_drain(t->src);
	da_timing_mark("drain");
	ret = da_pipeline_end(t->p, max_severity);
	da_timing_mark("report");
	trace_free(t);
	da_timing_mark("close");
	return ret;
}

int da_live_trace_follow(struct da_live_trace *t, int pid)
{
	return da_live_follow(t->live, pid);
}
