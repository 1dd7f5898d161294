// SPDX-License-Identifier: GPL-2.0
/*
 * --metrics FILE as a sink of the pipeline: the figures in the Prometheus
 * text format (the writer is src/service/metrics.c), at the first tick,
 * every --metrics-interval and at the end, where `up` is 0.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

struct metrics_sink {
	struct da_sink base;
	const char *path;
	bool best_effort;
	char error[512]; /* the last one said, not repeated every interval */
};

static struct metrics_sink *metrics_of(struct da_sink *s)
{
	return (struct metrics_sink *)s;
}

static void say(struct metrics_sink *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct metrics_sink *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (m->base.say)
		m->base.say(m->base.say_ctx, DA_NOTICE_INPUT, fmt, ap);
	va_end(ap);
}

/* -1 when it could not be written; said on stderr once per different error */
static int write_metrics(struct metrics_sink *m, const struct da_stats *st)
{
	char err[512];

	if (!da_metrics_write(m->path, st, err, sizeof(err))) {
		if (m->error[0] && m->best_effort)
			say(m, "metrics: %s written again", m->path);
		m->error[0] = '\0';
		return 0;
	}
	if (strcmp(err, m->error)) {
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
		snprintf(m->error, sizeof(m->error), "%s", err);
		if (m->best_effort)
			say(m, "metrics: %s; tried again every %g s", err,
			    m->base.stats_interval_s);
	}
	return m->best_effort ? 0 : -1;
}

static int metrics_begin(struct da_sink *s)
{
	return 0;
}

static void metrics_event(struct da_sink *s, const struct da_event *ev)
{
}

static void metrics_finding(struct da_sink *s, const struct da_finding *f)
{
}

static void metrics_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
			   json_t *extra)
{
}

static void metrics_stats(struct da_sink *s, const struct da_stats *st)
{
	write_metrics(metrics_of(s), st);
}

/*
 * the last write says the audit stopped (up 0) and keeps its final
 * figures: node_exporter goes on exporting the file, but nothing in it
 * passes for a live auditor (docs/operations.md)
 */
static int metrics_end(struct da_sink *s, const struct da_summary *sum)
{
	struct metrics_sink *m = metrics_of(s);
	int ret = write_metrics(m, s->stats);

	if (ret)
		fprintf(stderr, DA_TOOL_NAME ": the metrics file %s is not up to date\n", m->path);
	return ret;
}

static void metrics_free(struct da_sink *s)
{
	free(s);
}

static const struct da_sink_ops metrics_ops = {
	.begin = metrics_begin,
	.event = metrics_event,
	.finding = metrics_finding,
	.notice = metrics_notice,
	.end = metrics_end,
	.free = metrics_free,
	.stats = metrics_stats,
};

struct da_sink *da_sink_metrics_new(const char *path, double interval_s, bool best_effort)
{
	struct metrics_sink *m = (struct metrics_sink *)da_sink_alloc(sizeof(*m), &metrics_ops);

	if (!m)
		return NULL;
	m->path = path;
	m->best_effort = best_effort;
	m->base.stats_interval_s = interval_s;
	m->base.stats_at_start = true;
	return &m->base;
}

const char *da_sink_metrics_error(const struct da_sink *s)
{
	return ((const struct metrics_sink *)s)->error;
}
