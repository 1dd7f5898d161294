/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pipeline every source feeds: decoded events, in seq order, go to the
 * engine, whose findings pass the finding stage (finding_stage.h: rule
 * switch, allow-list, severity, counts, repeats), and to one list of
 * sinks, every output one: the report (--format, -o, with --events the
 * events too), the timeline (--timeline FILE), the record (--record FILE),
 * the service log (--log journal) and the metrics file (--metrics FILE).
 * A live ring buffer, a binary record and a JSON Lines file all drive the
 * same calls, so live and replayed runs of the same events give the same
 * report.
 */
#ifndef DMABUF_AUDIT_PIPELINE_H
#define DMABUF_AUDIT_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/cgroup.h"
#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
#include "dmabuf_audit/finding_stage.h"
#include "dmabuf_audit/service.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace.h"

struct da_pipeline;

/*
 * Symbolize a kernel stack for --stacks.  Fills up to max frames as
 * "symbol+0xoff" strings (owned by the resolver, valid until the next call)
 * and returns their number, or 0 when the stack is gone.
 */
typedef unsigned int (*da_stack_resolver_fn)(void *ctx, int32_t stack_id,
					     const char **frames, unsigned int max);

/*
 * Drop the leading frames that are the tracer's own: in fentry mode a
 * stack starts in our BPF program ("bpf_prog_<tag>_<name>") and its
 * trampoline ("bpf_trampoline_<id>"), as kallsyms names them; a kprobe's
 * stack starts at the probed function and has none.  Done by name because
 * the count depends on the attach mode and kernel.  Shifts the frames down
 * and returns how many are left.  Every stack a resolver returns passes
 * through it (reports and --record).
 */
unsigned int da_stack_drop_tracer_frames(const char **frames, unsigned int n);
/* the frames of a stack the tracer took (at most DA_STACK_DEPTH), without the tracer's own */
unsigned int da_stack_resolve(da_stack_resolver_fn resolver, void *ctx, int32_t stack_id,
			      const char **frames);

struct da_pipeline_config {
	const struct da_opts *opts;
	struct da_trace_info *trace;	/* header data; filled by the source */
	struct da_symbols *symbols;	/* shared with the engine and the recorder */
	/* names the cgroup ids of events (live); NULL: only what CGROUP records say */
	da_cgroup_resolver_fn cgroup_resolver;
	da_stack_resolver_fn stack_resolver;	/* NULL: no stacks */
	void *stack_ctx;
	/* "live" runs print findings as they happen; reports group them at the end */
	int live;
	/* the service log (--log journal): findings after suppression, notices, summary */
	const struct da_service_log *log;
	/* the log alone: no report (--format) on standard output */
	bool no_report;
	/* repeats held back for this long when the policy sets no suppress-window */
	uint64_t default_suppress_window_ns;
	/* a stats record every so many seconds and one at the end; 0: none */
	double stats_interval_s;
	/*
	 * watch: a metrics file that cannot be written (its folder missing) is
	 * a warning, a notice when the error changes, retried every interval;
	 * not an error at the end (a service must start without node_exporter)
	 */
	bool metrics_best_effort;
};

/*
 * Open the outputs (-o, --record) and the engine.  NULL on error with a
 * message in err (e.g. "cannot open report.json: Permission denied").
 */
struct da_pipeline *da_pipeline_new(const struct da_pipeline_config *cfg, char *err,
				    size_t errlen);
/* Write headers; call once cfg->trace is complete (hooks attached). */
int da_pipeline_begin(struct da_pipeline *p);
/*
 * One event, in seq order.  A seq gap (after the first event) is reported
 * as lost events before the event is judged.
 */
void da_pipeline_event(struct da_pipeline *p, const struct da_event *ev);
/*
 * `n` consecutive events, in seq order: the same as da_pipeline_event on
 * each, faster on large traces (the engine's lookups of later events are
 * started while earlier ones are judged).
 */
void da_pipeline_events(struct da_pipeline *p, const struct da_event *evs, size_t n);
/* A cgroup id's path, from a CGROUP record of a replayed trace. */
void da_pipeline_cgroup(struct da_pipeline *p, uint64_t id, const char *path);
/* Losses the source knows of that leave no seq gap (e.g. BPF drop counter). */
void da_pipeline_lost(struct da_pipeline *p, uint64_t first_seq, uint64_t count);
/* A counted loss whose place is unknown may be just before the next event (da_engine_loss_point). */
void da_pipeline_loss_point(struct da_pipeline *p);
/* Time passes (live, no event): time-based rules. */
void da_pipeline_tick(struct da_pipeline *p, uint64_t now_ns);
/* Something the user must know that is not a finding. */
void da_pipeline_notice(struct da_pipeline *p, enum da_notice_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * End of trace: judge pending deadlines, write the summary, flush and close
 * the outputs.  *max_severity gets the highest severity found (-1 = none)
 * whatever happens.  Returns 0, or -1 when an output (report, --record)
 * could not be written (the message is on stderr).  A second call returns
 * the same.
 */
int da_pipeline_end(struct da_pipeline *p, int *max_severity);

/* the exit status from max_severity: da_exit_status (finding_stage.h) */
void da_pipeline_summary(const struct da_pipeline *p, struct da_summary *out);

/* ---- service (docs/output.md "Service") ---- */

/* every figure of a stats record and of the metrics, as of now */
void da_pipeline_stats(const struct da_pipeline *p, struct da_stats *st);
/*
 * Wall time passes (now_ns, CLOCK_MONOTONIC): a stats record every
 * --stats-interval, the metrics file every --metrics-interval.  Returns
 * true when a stats interval ended (the caller may update its status).
 */
bool da_pipeline_service_tick(struct da_pipeline *p, uint64_t now_ns);
/* the live source's ring buffer: share not yet read (0..1) */
void da_pipeline_set_ringbuf_fill(struct da_pipeline *p, double fill);
/* why the last metrics write failed; "" when it worked (or there is no --metrics) */
const char *da_pipeline_metrics_error(const struct da_pipeline *p);
/*
 * -o FILE again (SIGHUP, after logrotate moved it): appended to, the report
 * goes on where it was.  0, or -1 with a message in err (the old file is
 * kept).
 */
int da_pipeline_reopen_output(struct da_pipeline *p, char *err, size_t errlen);
/* the policy the engine was given was replaced in place: apply it to what is alive */
void da_pipeline_policy_reloaded(struct da_pipeline *p);
void da_pipeline_free(struct da_pipeline *p);

#endif /* DMABUF_AUDIT_PIPELINE_H */
