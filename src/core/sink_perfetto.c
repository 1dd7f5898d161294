// SPDX-License-Identifier: GPL-2.0
/*
 * --format perfetto and --timeline FILE: the run as a trace in the Chrome
 * trace event JSON format (the JSON Object Format: "traceEvents" and
 * metadata), which ui.perfetto.dev and chrome://tracing open.  The layout
 * (timeline.c) gives one process per buffer, tracks per task and per
 * attachment, slices, instants, findings and the events their evidence
 * names; this file writes it, in time order, at the end of the run.
 * docs/output.md "Timelines" says what is where.
 *
 * Also the ops every timeline sink shares (HTML too): they keep the run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/rules.h"
#include "sink.h"
#include "timeline.h"

/* tids are unique across the trace and never equal to a pid */
#define TID_BASE 1000000

/* ---- the ops every timeline sink shares ---- */

static void keep_failed(struct da_sink *s)
{
	if (!s->error)
		s->error = errno ? errno : ENOMEM;
}

int da_tl_sink_begin(struct da_sink *s)
{
	return 0;
}

void da_tl_sink_event(struct da_sink *s, const struct da_event *ev)
{
	if (da_timeline_add_event(&((struct da_tl_sink *)s)->tl, ev))
		keep_failed(s);
}

void da_tl_sink_finding(struct da_sink *s, const struct da_finding *f)
{
	if (da_timeline_add_finding(&((struct da_tl_sink *)s)->tl, f))
		keep_failed(s);
}

void da_tl_sink_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
		       json_t *extra)
{
	struct da_timeline *tl = &((struct da_tl_sink *)s)->tl;
	json_t *first = extra ? json_object_get(extra, "first_seq") : NULL;
	json_t *count = extra ? json_object_get(extra, "count") : NULL;

	/* a count past 2^63 (a string, only from bad input) is not drawn as a gap */
	if (kind == DA_NOTICE_LOST && json_is_integer(first) && json_is_integer(count))
		da_timeline_add_lost(tl, (uint64_t)json_integer_value(first),
				     (uint64_t)json_integer_value(count));
	da_timeline_add_notice(tl, da_notice_kind_name(kind), msg);
}

void da_tl_sink_free(struct da_sink *s)
{
	da_timeline_fini(&((struct da_tl_sink *)s)->tl);
	free(s);
}

struct da_sink *da_tl_sink_new(const struct da_sink_ops *ops)
{
	struct da_sink *s = da_sink_alloc(sizeof(struct da_tl_sink), ops);

	if (s)
		s->all_events = true;
	return s;
}

/* ---- writing ---- */

struct writer {
	struct da_sink *s;
	const struct tl_layout *l;
	bool first;
	size_t *head, *next;	/* the flows of each item (link_flows) */
};

static void put(struct writer *w, json_t *o)
{
	int ret;

	if (!o) {
		/* the strings are cleaned: only memory can fail jansson here */
		errno = ENOMEM;
		keep_failed(w->s);
		return;
	}
	if (!w->first && fputs(",\n", w->s->out) == EOF)
		keep_failed(w->s);
	w->first = false;
	ret = json_dumpf(o, w->s->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(16));
	json_decref(o);
	if (ret)
		keep_failed(w->s);
}

/* ns to the format's µs, exact to the ns */
static json_t *us(uint64_t ns)
{
	return json_real((double)(ns / 1000) + (double)(ns % 1000) / 1000.0);
}

static json_t *base_event(const struct tl_layout *l, const char *ph, unsigned int track,
			  const char *name, const char *cat, uint64_t ts)
{
	/* names quote the trace (exporters, tasks, scopes): da_json_text keeps them valid UTF-8 */
	return json_pack("{s:s,s:o,s:s,s:I,s:I,s:o}", "ph", ph, "name", da_json_text(name), "cat",
			 cat, "pid", (json_int_t)l->tracks[track].proc + 1, "tid",
			 (json_int_t)(TID_BASE + track), "ts", us(ts));
}

static void write_metadata(struct writer *w)
{
	const struct tl_layout *l = w->l;

	for (size_t p = 0; p < l->n_procs; p++) {
		put(w, json_pack("{s:s,s:s,s:I,s:I,s:{s:o}}", "ph", "M", "name", "process_name",
				 "pid", (json_int_t)p + 1, "tid", (json_int_t)p + 1, "args", "name",
				 da_json_text(l->procs[p].name)));
		put(w, json_pack("{s:s,s:s,s:I,s:I,s:{s:I}}", "ph", "M", "name",
				 "process_sort_index", "pid", (json_int_t)p + 1, "tid",
				 (json_int_t)p + 1, "args", "sort_index", (json_int_t)p));
	}
	for (size_t t = 0; t < l->n_tracks; t++) {
		/* findings first in each process, then the tracks as they came */
		bool findings = !strcmp(l->tracks[t].name, "findings");

		put(w, json_pack("{s:s,s:s,s:I,s:I,s:{s:o}}", "ph", "M", "name", "thread_name",
				 "pid", (json_int_t)l->tracks[t].proc + 1, "tid",
				 (json_int_t)(TID_BASE + t), "args", "name",
				 da_json_text(l->tracks[t].name)));
		put(w, json_pack("{s:s,s:s,s:I,s:I,s:{s:I}}", "ph", "M", "name",
				 "thread_sort_index", "pid", (json_int_t)l->tracks[t].proc + 1,
				 "tid", (json_int_t)(TID_BASE + t), "args", "sort_index",
				 findings ? (json_int_t)0 : (json_int_t)t + 1));
	}
}

static const char *const slice_cats[] = {
	[TL_S_SCOPE] = "revoke_scope", [TL_S_FENCE] = "fence_wait", [TL_S_MAP] = "mapping",
	[TL_S_PIN] = "pin", [TL_S_LOST] = "lost",
};

static json_t *finding_args(const struct da_timeline *tl, const struct tl_finding *f)
{
	json_t *a = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "rule", da_rules[f->rule].name,
			      "severity", da_severity_name(f->severity), "message", "",
			      "seq", da_json_u64(f->seq), "buffer", da_json_ptr(f->buf), "ino",
			      f->ino ? da_json_u64(f->ino) : json_null(), "attachment",
			      f->has_attach ? da_json_ptr(f->attach) : json_null());

	if (a)
		json_object_set_new(a, "message", da_json_text(f->message));
	if (a && f->workload)
		json_object_set_new(a, "workload", da_json_text(f->workload));
	return a;
}

static json_t *item_event(struct writer *w, const struct da_timeline *tl, const struct tl_item *it)
{
	const struct tl_layout *l = w->l;
	json_t *o;

	switch (it->kind) {
	case TL_SLICE:
		o = base_event(l, "X", it->track, it->name, slice_cats[it->slice], it->ts);
		if (o) {
			json_object_set_new(o, "dur", us(it->dur));
			json_object_set_new(o, "args", json_pack("{s:b}", "open_at_end",
								 it->open_at_end));
		}
		return o;
	case TL_INSTANT:
		o = base_event(l, "i", it->track, it->name, "event", it->ts);
		if (o) {
			json_object_set_new(o, "s", json_string("t"));
			json_object_set_new(o, "args", da_event_to_json(&tl->events[it->ev],
									w->s->symbols, w->s->trace,
									false));
		}
		return o;
	case TL_FINDING:
		o = base_event(l, "i", it->track, it->name, "finding", it->ts);
		if (o) {
			json_object_set_new(o, "s", json_string("t"));
			json_object_set_new(o, "args",
					    finding_args(tl, &tl->findings[it->finding]));
		}
		return o;
	default:
		/* a gap or the truncation: a line across every track */
		o = base_event(l, "i", it->track, it->name, "mark", it->ts);
		if (o)
			json_object_set_new(o, "s", json_string("g"));
		return o;
	}
}

/*
 * A flow goes forward in time, from each event a finding's evidence names
 * to the finding: "s" right after the event's instant, "f" right after the
 * finding's, so that each binds to the instant just drawn on its track.
 */
static void write_flow_ends(struct writer *w, size_t item)
{
	const struct tl_layout *l = w->l;
	const struct tl_item *it = &l->items[item];

	for (size_t e = w->head[item]; e != SIZE_MAX; e = w->next[e]) {
		bool in = e & 1;
		json_t *o = base_event(l, in ? "f" : "s", it->track, "evidence", "evidence",
				       it->ts);

		if (o) {
			json_object_set_new(o, "id", json_integer((json_int_t)(e / 2) + 1));
			if (in)
				json_object_set_new(o, "bp", json_string("e"));
		}
		put(w, o);
	}
}

/* per item, the flow ends at it: end 2i is flow i's start, 2i + 1 its end */
static int link_flows(struct writer *w)
{
	const struct tl_layout *l = w->l;

	w->head = malloc((l->n_items + 1) * sizeof(*w->head));
	w->next = malloc((2 * l->n_flows + 1) * sizeof(*w->next));
	if (!w->head || !w->next)
		return -1;
	for (size_t i = 0; i < l->n_items; i++)
		w->head[i] = SIZE_MAX;
	for (size_t e = 2 * l->n_flows; e-- > 0;) {
		size_t item = e & 1 ? l->flows[e / 2].to : l->flows[e / 2].from;

		w->next[e] = w->head[item];
		w->head[item] = e;
	}
	return 0;
}

static json_t *other_data(const struct da_sink *s, const struct da_timeline *tl)
{
	return json_pack("{s:s,s:s,s:o,s:o,s:I,s:o,s:o,s:b}", "tool", DA_TOOL_NAME, "version",
			 DA_VERSION, "kernel", da_json_str(s->trace->kernel,
							   sizeof(s->trace->kernel)),
			 "source", da_json_text(s->trace->source[0] ? s->trace->source : "live"),
			 "events_drawn", (json_int_t)tl->n_events, "events_not_drawn",
			 da_json_u64(tl->dropped_events), "findings_not_drawn",
			 da_json_u64(tl->dropped_findings),
			 "truncated", tl->dropped_events || tl->dropped_findings);
}

static int perfetto_end(struct da_sink *s, const struct da_summary *sum)
{
	struct da_timeline *tl = &((struct da_tl_sink *)s)->tl;
	struct tl_layout l;
	struct writer w = { s, &l, true, NULL, NULL };
	size_t *order;
	json_t *other;

	if (s->error)
		return -1;
	if (da_timeline_layout(tl, s->trace, &l)) {
		keep_failed(s);
		return -1;
	}
	order = malloc((l.n_items + 1) * sizeof(*order));
	other = other_data(s, tl);
	if (!order || !other || link_flows(&w)) {
		keep_failed(s);
		goto out;
	}
	da_timeline_sort_items(&l, order);
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":", s->out);
	if (json_dumpf(other, s->out, JSON_COMPACT | JSON_ENSURE_ASCII))
		keep_failed(s);
	fputs(",\n\"traceEvents\":[\n", s->out);
	write_metadata(&w);
	for (size_t i = 0; i < l.n_items; i++) {
		put(&w, item_event(&w, tl, &l.items[order[i]]));
		write_flow_ends(&w, order[i]);
	}
	if (fputs("\n]}\n", s->out) == EOF)
		keep_failed(s);
out:
	json_decref(other);
	free(order);
	free(w.head);
	free(w.next);
	da_timeline_layout_free(&l);
	return s->error ? -1 : 0;
}

static const struct da_sink_ops perfetto_ops = DA_TL_SINK_OPS(perfetto_end);

struct da_sink *da_sink_perfetto_new(void)
{
	return da_tl_sink_new(&perfetto_ops);
}
