/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: what the pictures of a run (--format perfetto,
 * --timeline FILE, --format html; docs/output.md "Timelines") keep of it,
 * and the layout both draw from.
 *
 * The sinks keep every event (up to DA_TIMELINE_MAX_EVENTS) and every
 * finding (up to DA_TIMELINE_MAX_FINDINGS) as they come, and lay them out at
 * the end: one process per buffer, tracks per task and per attachment,
 * slices (revoke scopes, fence waits, map to unmap, pin to unpin, lost-event
 * gaps), instants (every event) and findings with the events their
 * evidence names.  Past a cap, what is not kept is counted and the picture
 * says so (a "truncated" marker), never silently.
 */
#ifndef DMABUF_AUDIT_TIMELINE_H
#define DMABUF_AUDIT_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
#include "sink.h"

/* 100000 events of 168 bytes: 17 MiB at most, used as events come */
#define DA_TIMELINE_MAX_EVENTS 100000
#define DA_TIMELINE_MAX_FINDINGS 10000
#define DA_TIMELINE_MAX_LOST 10000
#define DA_TIMELINE_MAX_NOTICES 200
/* events a finding's evidence names: its trigger and the seqs in its message */
#define DA_TIMELINE_EVIDENCE 8

struct tl_finding {
	uint8_t rule, severity;
	bool has_trigger, has_attach;
	uint64_t seq, ts_ns;
	uint64_t buf, ino, size, attach;
	uint32_t pid, tid;
	char comm[DA_COMM_LEN + 1];
	char exporter[DA_NAME_LEN + 1];
	char dev[DA_NAME_LEN + 1];
	char *message;
	char *workload;			/* da_text_describe_cgroup(), NULL without a cgroup */
	size_t at_event;		/* events kept before it */
	unsigned int n_evidence;
	uint64_t evidence[DA_TIMELINE_EVIDENCE];	/* seqs */
};

struct tl_lost {
	uint64_t first_seq, count;
	size_t at_event;
};

/* what the sink keeps while the run goes on */
struct da_timeline {
	struct da_event *events;
	size_t n_events, cap_events;
	uint64_t dropped_events, first_dropped_seq;
	struct tl_finding *findings;
	size_t n_findings;
	uint64_t dropped_findings;
	struct tl_lost *lost;
	size_t n_lost;
	uint64_t dropped_lost;
	char *notices[DA_TIMELINE_MAX_NOTICES];
	size_t n_notices;
	uint64_t dropped_notices;
};

/* 0, or -1 (errno set) */
int da_timeline_add_event(struct da_timeline *tl, const struct da_event *ev);
int da_timeline_add_finding(struct da_timeline *tl, const struct da_finding *f);
void da_timeline_add_lost(struct da_timeline *tl, uint64_t first_seq, uint64_t count);
void da_timeline_add_notice(struct da_timeline *tl, const char *kind, const char *msg);
void da_timeline_fini(struct da_timeline *tl);

/* the timeline sinks: a sink that keeps the run (sink_perfetto.c has the shared ops) */
struct da_tl_sink {
	struct da_sink base;
	struct da_timeline tl;
};

int da_tl_sink_begin(struct da_sink *s);
void da_tl_sink_event(struct da_sink *s, const struct da_event *ev);
void da_tl_sink_finding(struct da_sink *s, const struct da_finding *f);
void da_tl_sink_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
		       json_t *extra);
void da_tl_sink_free(struct da_sink *s);
/* the ops of a timeline sink that draws the run with end_fn */
#define DA_TL_SINK_OPS(end_fn)                                                   \
	{                                                                        \
		.begin = da_tl_sink_begin, .event = da_tl_sink_event,            \
		.finding = da_tl_sink_finding, .notice = da_tl_sink_notice,      \
		.end = end_fn, .free = da_tl_sink_free,                          \
	}
/* a timeline sink: it keeps every event, not only those a finding names; NULL on ENOMEM */
struct da_sink *da_tl_sink_new(const struct da_sink_ops *ops);

/* ---- the layout ---- */

enum tl_item_kind {
	TL_INSTANT,	/* one event */
	TL_SLICE,	/* a scope, fence wait, mapping, pin, lost-event gap */
	TL_FINDING,
	TL_MARK,	/* across the whole picture: a lost-event gap, the truncation */
};

/* what a slice is, for colours and names */
enum tl_slice_kind {
	TL_S_SCOPE,
	TL_S_FENCE,
	TL_S_MAP,
	TL_S_PIN,
	TL_S_LOST,
};

struct tl_item {
	uint8_t kind;		/* enum tl_item_kind */
	uint8_t slice;		/* enum tl_slice_kind, for TL_SLICE */
	bool open_at_end;	/* a slice whose end was not seen: drawn to the end */
	unsigned int track;
	uint64_t ts, dur;	/* ns */
	size_t order;		/* events placed before it starts: the x of the HTML picture */
	size_t end_order;	/* ... before it ends */
	long ev;		/* index in tl->events, or -1 */
	long finding;		/* index in tl->findings, or -1 */
	char name[72];
};

struct tl_track {
	unsigned int proc;
	uint64_t clock;		/* the latest time drawn on it: times never go back on a track */
	char name[80];
};

struct tl_proc {
	uint64_t buf, ino, size;
	char exporter[DA_NAME_LEN + 1];
	unsigned int n_findings;
	char name[128];
};

struct tl_flow {
	size_t from, to;	/* items: an evidence event and the finding */
};

struct tl_layout {
	struct tl_proc *procs;		/* procs[0] is the run: tasks' scopes, gaps */
	size_t n_procs, cap_procs;
	struct tl_track *tracks;
	size_t n_tracks, cap_tracks;
	struct tl_item *items;
	size_t n_items, cap_items;
	struct tl_flow *flows;
	size_t n_flows, cap_flows;
	uint64_t t_end;			/* the last time of the run */
};

/* Lay tl out; 0, or -1 on ENOMEM (the layout is freed then). */
int da_timeline_layout(const struct da_timeline *tl, const struct da_trace_info *trace,
		       struct tl_layout *out);
void da_timeline_layout_free(struct tl_layout *l);
/* items sorted by time (parents before children): for writers that need it */
void da_timeline_sort_items(struct tl_layout *l, size_t *order);

#endif /* DMABUF_AUDIT_TIMELINE_H */
