// SPDX-License-Identifier: GPL-2.0
/*
 * No report: `--log journal` without -o, where the journal gets every
 * finding and a report on standard output would only say it all twice
 * (a service's standard output goes to the journal too).
 */
#include <stdlib.h>

#include "sink.h"

static int null_begin(struct da_sink *s)
{
	return 0;
}

static void null_event(struct da_sink *s, const struct da_event *ev)
{
}

static void null_finding(struct da_sink *s, const struct da_finding *f)
{
}

static void null_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg, json_t *extra)
{
}

static int null_end(struct da_sink *s, const struct da_summary *sum)
{
	return 0;
}

static void null_free(struct da_sink *s)
{
	free(s);
}

static const struct da_sink_ops null_ops = DA_SINK_OPS(null);

struct da_sink *da_sink_null_new(void)
{
	return da_sink_alloc(sizeof(struct da_sink), &null_ops);
}
