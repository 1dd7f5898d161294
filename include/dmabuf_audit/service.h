/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a long-running `watch` adds to the pipeline (docs/output.md
 * "Service"): repeats held back per suppression window (the finding
 * stage's last step), the figures of a stats record and of the metrics
 * file, and the service log (the journal, a sink of the pipeline:
 * src/core/sink_log.c) that gets findings after the finding stage.  Pure C like the rest of
 * the core; the journal's socket protocol, sd_notify and the metrics file
 * are in src/service/ (systemd.c, metrics.c).
 */
#ifndef DMABUF_AUDIT_SERVICE_H
#define DMABUF_AUDIT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
#include "dmabuf_audit/rules.h"
#include "dmabuf_audit/trace.h"

/* ---- repeats (suppress.c) ---- */

/*
 * Findings with the same key (rule, exporter, importer ops, device) are
 * reported once per window: the first one is reported and opens the
 * window, the ones inside it are held back and counted, and the first one
 * after it is reported with that count and opens the next window.  The
 * table is sized once; when it is full a finding with a new key is
 * reported (never held back without a slot that counts it).
 */
#define DA_SUPPRESS_SLOTS 4096

struct da_suppress;

struct da_suppress *da_suppress_new(void);
void da_suppress_free(struct da_suppress *s);
/*
 * A finding at time now_ns: true when it is to be held back; when it is to
 * be reported, *repeats is how many were held back since its key's last
 * report.  window_ns 0 reports every finding.
 */
bool da_suppress_check(struct da_suppress *s, const struct da_finding *f, uint64_t now_ns,
		       uint64_t window_ns, uint64_t *repeats);
/* findings reported because the table was full */
uint64_t da_suppress_overflow(const struct da_suppress *s);

/* ---- figures (src/core/stats.c; the metrics file: src/service/metrics.c) ---- */

struct da_stats {
	struct da_summary sum; /* the engine's counters: every finding */
	uint64_t events_by_op[DA_OP__COUNT];
	/* every finding by rule and the severity it was given (the policy may change it) */
	uint64_t findings[DA_RULE__COUNT][DA_SEV__COUNT];
	enum da_severity rule_severity[DA_RULE__COUNT]; /* the policy's now */
	uint64_t repeats_held; /* findings held back by suppress-window */
	uint64_t repeats_by_rule[DA_RULE__COUNT];
	uint64_t buffers_live, buffers_capacity;
	uint64_t attachments_live, attachments_capacity;
	double ringbuf_fill; /* 0..1; < 0 when there is no ring (replay) */
	double cpu_user_seconds;
	uint64_t rss_bytes;
	unsigned int hooks_attached, hooks_wanted;
	uint64_t seeded_buffers;
	uint64_t journal_dropped; /* journal entries not sent (filled by the journal log) */
	/* for the metrics file (docs/output.md "Metrics") */
	const char *kernel;		/* the traced kernel's release, NULL if unknown */
	int rules_enforceable;		/* with the hooks attached; -1 when the trace has none */
	bool running;			/* false in the last write, at a clean exit */
};

/* user CPU time and resident memory of this process */
void da_stats_process(struct da_stats *st);
/*
 * hooks attached, and wanted: every hook the kernel offers now (not
 * "absent", nor a scope in a module not loaded); attached < wanted is a
 * hook that failed.  And the rules enforceable with the hooks attached.
 */
void da_stats_hooks(struct da_stats *st, const struct da_trace_info *trace);
/* {"type":"stats", ...} of docs/output.md */
void *da_stats_to_json(const struct da_stats *st); /* json_t * */
/*
 * Write the metrics of docs/output.md to path in the Prometheus text
 * format 0.0.4 (what node_exporter's textfile collector reads),
 * atomically: into "path.tmp" in the same directory, then rename.  0, or
 * -1 with a message in err.  (src/service/metrics.c)
 */
int da_metrics_write(const char *path, const struct da_stats *st, char *err, size_t errlen);

/* ---- the service log (the journal, --log journal) ---- */

/*
 * Called by the pipeline's log sink (src/core/sink_log.c) for each finding
 * that is reported (not held back), with its text rendering (the report's,
 * with the history) and the repeats held back before it; for each notice;
 * and once with the summary.
 */
struct da_service_log {
	void *ctx;
	void (*finding)(void *ctx, const struct da_finding *f, const char *text, uint64_t repeats);
	void (*notice)(void *ctx, enum da_notice_kind kind, const char *msg);
	void (*summary)(void *ctx, const struct da_stats *st, const char *text);
	uint64_t dropped; /* entries the log could not deliver (the journal's queue full) */
};

#endif /* DMABUF_AUDIT_SERVICE_H */
