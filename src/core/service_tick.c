// SPDX-License-Identifier: GPL-2.0
/*
 * The figures of a running audit (docs/output.md "Service"): the summary
 * (the engine's and the finding stage's counts), the stats of now, and the
 * service tick that hands them to the sinks that want them at their
 * interval (the JSON report's stats record, the metrics file).  Calls
 * nothing in pipeline.c: the pipeline calls this.
 */
#include <string.h>

#include "pipeline_priv.h"

void da_pipeline_summary(const struct da_pipeline *p, struct da_summary *out)
{
	da_engine_summary(p->engine, out);
	da_finding_stage_summary(p->stage, out);
}

void da_pipeline_stats(const struct da_pipeline *p, struct da_stats *st)
{
	const struct da_finding_counts *c = da_finding_stage_counts(p->stage);

	memset(st, 0, sizeof(*st));
	da_pipeline_summary(p, &st->sum);
	memcpy(st->events_by_op, p->events_by_op, sizeof(st->events_by_op));
	memcpy(st->findings, c->by_rule_severity, sizeof(st->findings));
	for (int r = 0; r < DA_RULE__COUNT; r++)
		st->rule_severity[r] = p->opts->policy.rule_severity[r];
	st->repeats_held = c->repeats_held;
	memcpy(st->repeats_by_rule, c->repeats_by_rule, sizeof(st->repeats_by_rule));
	da_engine_occupancy(p->engine, &st->buffers_live, &st->buffers_capacity,
			    &st->attachments_live, &st->attachments_capacity);
	st->ringbuf_fill = p->ringbuf_fill;
	da_stats_process(st);
	da_stats_hooks(st, p->trace);
	st->seeded_buffers = st->sum.seeded_buffers;
	st->running = true;
	st->journal_dropped = p->cfg.log ? p->cfg.log->dropped : 0;
}

static uint64_t interval_ns(double seconds)
{
	return (uint64_t)(seconds * 1e9);
}

/* does s want the figures now?  The first tick starts its interval */
static bool stats_due(struct da_sink *s, uint64_t now_ns, bool first)
{
	if (!s->ops->stats)
		return false;
	if (first) {
		s->next_stats_ns = now_ns + interval_ns(s->stats_interval_s);
		return s->stats_at_start;
	}
	if (s->stats_interval_s <= 0 || now_ns < s->next_stats_ns)
		return false;
	s->next_stats_ns = now_ns + interval_ns(s->stats_interval_s);
	return true;
}

bool da_pipeline_service_tick(struct da_pipeline *p, uint64_t now_ns)
{
	struct da_sink *due[MAX_SINKS];
	bool first = !p->ticking, status_due;
	unsigned int n = 0;
	struct da_stats st;

	p->ticking = true;
	status_due = !first && p->cfg.stats_interval_s > 0 && now_ns >= p->next_status_ns;
	if (first || status_due)
		p->next_status_ns = now_ns + interval_ns(p->cfg.stats_interval_s);
	for (unsigned int i = 0; i < p->n_sinks; i++)
		if (stats_due(p->sinks[i], now_ns, first))
			due[n++] = p->sinks[i];
	if (n)
		da_pipeline_stats(p, &st);
	for (unsigned int i = 0; i < n; i++)
		due[i]->ops->stats(due[i], &st);
	return status_due;
}

void da_pipeline_final_stats(struct da_pipeline *p, struct da_stats *st)
{
	da_pipeline_stats(p, st);
	for (unsigned int i = 0; i < p->n_sinks; i++) {
		struct da_sink *s = p->sinks[i];

		if (s->ops->stats && s->stats_at_end && s->stats_interval_s > 0)
			s->ops->stats(s, st);
	}
	st->running = false;
}

void da_pipeline_set_ringbuf_fill(struct da_pipeline *p, double fill)
{
	p->ringbuf_fill = fill;
}

const char *da_pipeline_metrics_error(const struct da_pipeline *p)
{
	return p->metrics ? da_sink_metrics_error(p->metrics) : "";
}
