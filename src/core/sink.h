/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: the report sinks (text, JSON Lines, KTAP, JUnit),
 * the per-op event field table shared by every event encoder and decoder,
 * and the finding store the grouping sinks use.  See docs/output.md.
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

/* JSON Lines header "schema" (docs/output.md): bumped when a field changes meaning. */
#define DA_JSON_SCHEMA 1

/* ---- the fields of each op (docs/output.md's table) ---- */

enum da_evfield {
	DA_EVF_BUF,
	DA_EVF_ATTACH,
	DA_EVF_RESV,
	DA_EVF_SGT,
	DA_EVF_OBJECT,		/* scope_*: the scope function's object argument */
	DA_EVF_INO,
	DA_EVF_SIZE,
	DA_EVF_EXPORTER,	/* export: name[] */
	DA_EVF_DEV,		/* attach: name[] */
	DA_EVF_DYNAMIC,
	DA_EVF_PEER2PEER,
	DA_EVF_LOCKED,
	DA_EVF_INTR,
	DA_EVF_REVOKED,		/* only when DA_F_HAS_REVOKED */
	DA_EVF_IMPORTER_OPS,
	DA_EVF_INVALIDATE_CB,
	DA_EVF_RESV_HELD,
	DA_EVF_USAGE,
	DA_EVF_TIMEOUT,
	DA_EVF_FN,
	DA_EVF_SCOPE,
	DA_EVF_RET,
	DA_EVF__COUNT,
};

/* field spec flags */
#define DA_EVF_REQUIRED	(1u << 0)	/* hand-written JSON input must give it */
#define DA_EVF_NONZERO	(1u << 1)	/* extension: written only when not zero */

struct da_evfield_spec {
	uint8_t field;		/* enum da_evfield */
	uint8_t flags;		/* DA_EVF_REQUIRED, DA_EVF_NONZERO */
};

#define DA_EVF_MAX_PER_OP 10

struct da_op_spec {
	unsigned int n;
	struct da_evfield_spec f[DA_EVF_MAX_PER_OP];
};

extern const struct da_op_spec da_op_specs[DA_OP__COUNT];
extern const char *const da_evfield_names[DA_EVF__COUNT];

/* ---- JSON encoding (jansson), shared by the JSON sink, the history of findings ---- */

/*
 * jansson is used for every JSON byte this program writes or reads: a
 * well-kept library instead of hand-written escaping and parsing, which is
 * where JSON emitters usually go wrong (control characters, invalid UTF-8 in
 * a task comm, big integers).
 */
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
json_t *da_header_to_json(const struct da_trace_info *trace);
const char *da_notice_kind_name(enum da_notice_kind kind);
/* one compact line + '\n'; 0 or -1 */
int da_json_write_line(FILE *out, json_t *obj);

/*
 * Decode one JSON event object (docs/output.md; hand-written input needs only
 * op, the op's identifying pointers and ret).  seq_default and ts_default
 * are used when the object has no seq / ts_ns (file order; time stands
 * still rather than jumping back to 0).  Scope names are given slots in *trace; symbol names of
 * importer_ops / invalidate_cb are interned in syms.  0, or -1 with a
 * message in err.
 */
int da_event_from_json(json_t *obj, struct da_event *ev, uint64_t seq_default, uint64_t ts_default,
		       struct da_symbols *syms, struct da_trace_info *trace, char *err,
		       size_t errlen);
/* header line → trace info (kernel, quirks, hooks, scopes); 0 or -1 + err */
int da_header_from_json(json_t *obj, struct da_trace_info *trace, char *err, size_t errlen);

/* ---- text rendering ---- */

/* "1234.567890" (seconds.microseconds of the monotonic clock) */
void da_fmt_ts(char *buf, size_t len, uint64_t ts_ns);
/* the op's fields as "buf=0x… attach=0x… locked ret=0" */
void da_event_details(char *buf, size_t len, const struct da_event *ev, struct da_symbols *syms,
		      const struct da_trace_info *trace);
/* copy a kernel string field (comm, name) replacing control characters */
void da_clean_str(char *dst, size_t dstlen, const char *src, size_t srclen);

struct da_sink;
/* text renderings shared by the text, KTAP and JUnit sinks (src/core/sink_text.c) */
void da_text_event_columns(FILE *out, const char *prefix);
void da_text_event_line(FILE *out, const struct da_sink *s, const char *prefix,
			const struct da_event *ev);
void da_text_render_finding(FILE *out, const struct da_sink *s, const struct da_finding *f,
			    const char *prefix, bool with_buffer);
void da_text_describe_buffer(FILE *out, const struct da_finding_buffer *b);
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
	int error;		/* a write failed (errno), reported at the end */
};

struct da_sink *da_sink_text_new(void);
struct da_sink *da_sink_json_new(void);
struct da_sink *da_sink_ktap_new(void);
struct da_sink *da_sink_junit_new(void);

/*
 * Findings kept for a report written at the end (text report, KTAP,
 * JUnit).  Each finding is rendered when it happens (the engine's pointers
 * are only valid during the callback) and spilled to an unlinked temporary
 * file, so a run with very many findings does not grow the heap by their
 * text; only a small index entry stays in memory.
 */
struct da_store_entry {
	uint64_t buf_ptr;
	uint64_t buf_ino;
	uint64_t buf_size;
	char exporter[DA_NAME_LEN];
	uint64_t group;		/* set by da_store_sort_by_buffer */
	uint32_t index;		/* arrival order */
	uint8_t rule;
	uint8_t severity;
	long offset;
	size_t len;
};

struct da_store {
	FILE *spill;
	struct da_store_entry *entries;
	size_t n, cap;
	char *mem;		/* open_memstream fallback when no temporary file */
	size_t memlen;
	int error;
};

int da_store_init(struct da_store *st);
/* append a rendered text for a finding; 0 or -1 */
int da_store_add(struct da_store *st, const struct da_finding *f, const char *text, size_t len);
/* read entry e's text into a malloc'd string (NUL-terminated); NULL on error */
char *da_store_text(struct da_store *st, const struct da_store_entry *e);
void da_store_sort_by_rule(struct da_store *st);
/* by buffer (in order of each buffer's first finding), then arrival */
void da_store_sort_by_buffer(struct da_store *st);
void da_store_fini(struct da_store *st);

/* Severity at or above --fail-on: the finding fails its rule's KTAP/JUnit test. */
static inline bool da_sev_fails(const struct da_opts *opts, int severity)
{
	return severity >= (int)opts->fail_on;
}

#endif /* DMABUF_AUDIT_SINK_H */
