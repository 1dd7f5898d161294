/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pipeline's state, shared by its two files only: pipeline.c (events
 * in, the engine, the finding stage, the sinks) and service_tick.c (the
 * figures of a running audit: summary, stats, the ticks that hand them to
 * the sinks that want them).  service_tick.c calls nothing in pipeline.c.
 */
#ifndef DMABUF_AUDIT_PIPELINE_PRIV_H
#define DMABUF_AUDIT_PIPELINE_PRIV_H

#include "dmabuf_audit/pipeline.h"
#include "sink.h"

#define MAX_EARLY_NOTICES 256
/* report, timeline, record, service log, metrics */
#define MAX_SINKS 5

struct early_notice {
	enum da_notice_kind kind;
	char *msg;
};

struct da_pipeline {
	const struct da_opts *opts;
	struct da_pipeline_config cfg;
	struct da_trace_info *trace;

	struct da_engine *engine;
	/* rule switch, allow-list, severity, counts, repeats: what reaches the sinks */
	struct da_finding_stage *stage;
	/*
	 * Every output, in the order each gets a notice, finding and event:
	 * the report, the timeline, the record, the service log, the metrics
	 * (these two end first: see open_sinks).
	 */
	struct da_sink *sinks[MAX_SINKS];
	unsigned int n_sinks;
	struct da_sink *report;		/* --format, -o (the null sink with no report) */
	struct da_sink *metrics;	/* --metrics FILE, or NULL */
	/* the workloads of events: resolved live, or from a trace's CGROUP records */
	struct da_cgroups *cgroups;

	bool begun, ended;
	bool have_seq;
	uint64_t next_seq;
	bool order_noticed;
	bool write_failed;		/* da_pipeline_end could not write an output */

	struct early_notice early[MAX_EARLY_NOTICES];
	unsigned int n_early;
	uint64_t early_dropped;

	/* service_tick.c */
	uint64_t events_by_op[DA_OP__COUNT];
	double ringbuf_fill;
	bool ticking;			/* the first service tick has started the intervals */
	uint64_t next_status_ns;	/* the next stats interval, what the tick returns */
};

/*
 * service_tick.c, at the end: the final figures into st (up 0), and to each
 * sink that wants them before the sinks end (the last stats record)
 */
void da_pipeline_final_stats(struct da_pipeline *p, struct da_stats *st);

#endif /* DMABUF_AUDIT_PIPELINE_PRIV_H */
