// SPDX-License-Identifier: GPL-2.0
/*
 * Start-up timing: with DMABUF_AUDIT_TIMING=1 in the environment, `watch`
 * and `run` print on standard error when each phase of their start ends
 * (the kernel's BTF parsed, kallsyms read, hooks planned, the BPF object
 * opened, loaded and verified, attached, seeded, CMD started, the first
 * event read), with CLOCK_MONOTONIC in nanoseconds so that a harness can
 * set them against its own clock (make bench-live's startup setting,
 * docs/performance.md "Start-up").  Read once, with the ring buffer's
 * settings, before anything is probed or loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live.h"

static int timing_on; /* da_timing_setting() */
static unsigned long long timing_prev_ns;

static unsigned long long timing_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int da_env_switch(const char *name, const char *meaning, bool *on, char *err, size_t errlen)
{
	const char *env = getenv(name);

	*on = env && !strcmp(env, "1");
	if (!env || !env[0] || !strcmp(env, "0") || *on)
		return 0;
	snprintf(err, errlen, "%s=%s: 1 (%s) or 0", name, env, meaning);
	return -1;
}

int da_timing_setting(char *err, size_t errlen)
{
	bool on;

	if (da_env_switch("DMABUF_AUDIT_TIMING", "print the start-up's phases", &on, err, errlen))
		return -1;
	timing_on = on;
	return 0;
}

bool da_timing_enabled(void)
{
	return timing_on > 0;
}

void da_timing_mark(const char *phase)
{
	unsigned long long now;

	if (!da_timing_enabled())
		return;
	now = timing_now_ns();
	fprintf(stderr, "dmabuf-audit: timing %-14s +%9.3f ms  mono %llu\n", phase,
		timing_prev_ns ? (double)(now - timing_prev_ns) / 1e6 : 0.0, now);
	timing_prev_ns = now;
}
