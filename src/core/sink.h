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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
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

/* how many of the trace's hooks are attached */
unsigned int da_hooks_attached(const struct da_trace_info *trace);

/* Severity at or above --fail-on: the finding fails its rule's KTAP/JUnit test. */
static inline bool da_sev_fails(const struct da_opts *opts, int severity)
{
	return severity >= (int)opts->fail_on;
}

#endif /* DMABUF_AUDIT_SINK_H */
