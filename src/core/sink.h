/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: the report sinks (text, JSON Lines, KTAP, JUnit, and
 * the timelines: Perfetto, HTML) and
 * the encoders they share.  See docs/output.md.  The per-op field table is
 * event_schema.h (inputs include that, not this), the store of findings
 * kept for the end is finding_store.h.
 */
#ifndef DMABUF_AUDIT_SINK_H
#define DMABUF_AUDIT_SINK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
#include "dmabuf_audit/pipeline.h"
#include "dmabuf_audit/service.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace.h"
#include "event_schema.h"

/* ---- JSON encoding (jansson), shared by the JSON sink, the history of findings ---- */

/*
 * jansson is used for every JSON byte this program writes or reads: a
 * well-kept library instead of hand-written escaping and parsing, which is
 * where JSON emitters usually go wrong (control characters, invalid UTF-8 in
 * a task comm, big integers).
 */
json_t *da_json_u64(uint64_t v);			/* integer, or "digits" from 2^63 on */
json_t *da_json_ptr(uint64_t v);			/* "0x…", null for 0 */
json_t *da_json_sym(struct da_symbols *syms, uint64_t addr);	/* name, "0x…" or null */
json_t *da_json_str(const char *s, size_t max);	/* null for "" or NULL; never fails on bytes */
json_t *da_json_text(const char *s);			/* "" for NULL; never fails on bytes */
/* the event object of docs/output.md; with_type adds "type":"event" */
json_t *da_event_to_json(const struct da_event *ev, struct da_symbols *syms,
			 const struct da_trace_info *trace, bool with_type);
json_t *da_finding_to_json(const struct da_finding *f, struct da_symbols *syms,
			   const struct da_trace_info *trace, bool stacks);
json_t *da_summary_to_json(const struct da_summary *sum);
json_t *da_cgroup_to_json(const struct da_cgroup_identity *cg);	/* {id, path, unit, …} or null */
json_t *da_header_to_json(const struct da_trace_info *trace);
const char *da_notice_kind_name(enum da_notice_kind kind);
/* one compact line + '\n'; 0 or -1 */
int da_json_write_line(FILE *out, json_t *obj);

/* ---- text rendering ---- */

/* "1234.567890" (seconds.microseconds of the monotonic clock) */
void da_fmt_ts(char *buf, size_t len, uint64_t ts_ns);
/* the op's fields as "buf=0x… attach=0x… locked ret=0" */
void da_event_details(char *buf, size_t len, const struct da_event *ev, struct da_symbols *syms,
		      const struct da_trace_info *trace);
/*
 * The cleaning rule for a string from a trace or the kernel written into a
 * line of text (text, KTAP; docs/output.md): control characters (C0, DEL,
 * C1) and bytes that are not valid UTF-8 become '?'.  da_clean_str copies a
 * field of srclen bytes; da_clean_arg cleans s into buf and returns buf
 * (for a printf argument; NULL gives "").  JSON keeps the control
 * characters, escaped (da_json_str).
 */
#define DA_CLEAN_MAX 1024
void da_clean_str(char *dst, size_t dstlen, const char *src, size_t srclen);
const char *da_clean_arg(char *buf, size_t len, const char *s);

struct da_sink;
/* text renderings shared by the text, KTAP and JUnit sinks (src/core/sink_text.c) */
void da_text_event_columns(FILE *out, const char *prefix);
void da_text_event_line(FILE *out, const struct da_sink *s, const char *prefix,
			const struct da_event *ev);
void da_text_render_finding(FILE *out, const struct da_sink *s, const struct da_finding *f,
			    const char *prefix, bool with_buffer);
void da_text_describe_buffer(FILE *out, const struct da_finding_buffer *b);
/* "/system.slice/x.service (unit x.service, container …, pod …)" or "cgroup id N (…)" */
void da_text_describe_cgroup(FILE *out, const struct da_cgroup_identity *cg);
void da_text_summary(FILE *out, const struct da_sink *s, const struct da_summary *sum,
		     const char *prefix);

/* ---- sinks ---- */

struct da_sink_ops {
	int (*begin)(struct da_sink *s);
	void (*event)(struct da_sink *s, const struct da_event *ev);	/* --events */
	void (*finding)(struct da_sink *s, const struct da_finding *f);
	void (*notice)(struct da_sink *s, enum da_notice_kind kind, const char *msg,
		       json_t *extra);
	int (*end)(struct da_sink *s, const struct da_summary *sum);
	void (*free)(struct da_sink *s);
	/* optional (NULL: not wanted), what only the record keeps: losses, ticks, cgroup names */
	void (*lost)(struct da_sink *s, uint64_t first_seq, uint64_t count);
	void (*tick)(struct da_sink *s, uint64_t now_ns);
	void (*cgroup)(struct da_sink *s, uint64_t id, const char *path);
	/* optional: the figures of now (a stats record, the metrics file), see stats_* below */
	void (*stats)(struct da_sink *s, const struct da_stats *st);
};

struct da_sink {
	const struct da_sink_ops *ops;
	FILE *out;
	const struct da_opts *opts;
	const struct da_trace_info *trace;
	struct da_symbols *symbols;
	bool live;
	bool color;
	bool all_events;	/* gets every event, not only with --events (timelines) */
	int error;		/* a write failed (errno), reported at the end */
	/*
	 * A sink with a stats op gets the figures every stats_interval_s
	 * seconds of da_pipeline_service_tick (0: never), at the first tick
	 * when stats_at_start, and once before the sinks end when
	 * stats_at_end; the final figures are in `stats` during end.
	 */
	double stats_interval_s;
	bool stats_at_start, stats_at_end;
	uint64_t next_stats_ns;
	const struct da_stats *stats;
	/*
	 * ends before the others (the service log, the metrics file): what
	 * it says at the end reaches the report before the report closes
	 */
	bool end_first;
	/* a notice to every sink, printf-style (set by the pipeline) */
	void (*say)(void *ctx, enum da_notice_kind kind, const char *fmt, va_list ap);
	void *say_ctx;
	/* a sink writing to a file: what it writes and where, for da_sink_end's message */
	const char *what;	/* "report", "timeline"; NULL: the sink says its own errors */
	char out_name[256];
	bool out_owned;		/* out is closed at the end */
};

/*
 * Every sink names its ops <prefix>_begin, _event, _finding, _notice, _end
 * and _free; DA_SINK_OPS(prefix) is its table.
 */
#define DA_SINK_OPS(prefix)                                                      \
	{                                                                        \
		.begin = prefix##_begin, .event = prefix##_event,                \
		.finding = prefix##_finding, .notice = prefix##_notice,          \
		.end = prefix##_end, .free = prefix##_free,                      \
	}

/* A zeroed sink of `size` bytes (a struct that begins with struct da_sink); NULL on ENOMEM. */
struct da_sink *da_sink_alloc(size_t size, const struct da_sink_ops *ops);

struct da_sink *da_sink_text_new(void);
struct da_sink *da_sink_json_new(void);
struct da_sink *da_sink_ktap_new(void);
struct da_sink *da_sink_junit_new(void);
/* the timelines: keep the run and draw it at the end (timeline.h) */
struct da_sink *da_sink_perfetto_new(void);
struct da_sink *da_sink_html_new(void);
/* no report at all (--log journal without -o) */
struct da_sink *da_sink_null_new(void);
/* --record FILE (sink_record.c); NULL with a message in err */
struct da_sink *da_sink_record_new(const char *path, struct da_cgroups *cgroups,
				   da_stack_resolver_fn stack_resolver, void *stack_ctx,
				   char *err, size_t errlen);
/* the service log, --log journal (sink_log.c) */
struct da_sink *da_sink_log_new(const struct da_service_log *log);
/*
 * --metrics FILE (sink_metrics.c): written at the first tick, every
 * interval and at the end (up 0).  best_effort (watch): a file that
 * cannot be written is a notice when the error changes, not an error.
 */
struct da_sink *da_sink_metrics_new(const char *path, double interval_s, bool best_effort);
/* why the last metrics write failed; "" when it worked */
const char *da_sink_metrics_error(const struct da_sink *s);

/*
 * End s and, when it writes a file (s->what), flush or close that file;
 * 0, or -1 after saying on stderr what could not be written.
 */
int da_sink_end(struct da_sink *s, const struct da_summary *sum);

/* how many of the trace's hooks are attached */
unsigned int da_hooks_attached(const struct da_trace_info *trace);

/* Severity at or above --fail-on: the finding fails its rule's KTAP/JUnit test. */
static inline bool da_sev_fails(const struct da_opts *opts, int severity)
{
	return severity >= (int)opts->fail_on;
}

#endif /* DMABUF_AUDIT_SINK_H */
