// SPDX-License-Identifier: GPL-2.0
/*
 * What the timeline sinks (sink_perfetto.c, sink_html.c) keep of a run, and
 * the layout they both draw (timeline.h).  Keeping is a copy into an array
 * that grows in steps, up to a fixed cap; the layout runs once, at the end.
 *
 * Times on a track never go back: an event's time is raised to the latest
 * time already drawn on its track (CPUs' clocks and seq order can disagree
 * by a few ns), so that slices nest and every track is monotonic.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/trace.h"
#include "sink.h"
#include "timeline.h"

/* ---- keeping ---- */

/*
 * The array for every event the cap allows is taken at the first event:
 * the per-event path is a copy, no allocation.  Its pages are touched (and
 * so use memory) only as events come.
 */
int da_timeline_add_event(struct da_timeline *tl, const struct da_event *ev)
{
	if (tl->n_events >= DA_TIMELINE_MAX_EVENTS) {
		if (!tl->dropped_events++)
			tl->first_dropped_seq = ev->seq;
		return 0;
	}
	if (!tl->events) {
		tl->events = malloc(DA_TIMELINE_MAX_EVENTS * sizeof(*tl->events));
		if (!tl->events)
			return -1;
		tl->cap_events = DA_TIMELINE_MAX_EVENTS;
	}
	tl->events[tl->n_events++] = *ev;
	return 0;
}

/* the seqs a message names ("revoked at seq 5", "(seq 12)") */
static void message_seqs(struct tl_finding *t, const char *msg)
{
	const char *p = msg;

	while (p && (p = strstr(p, "seq ")) && t->n_evidence < DA_TIMELINE_EVIDENCE) {
		char *end;
		uint64_t v;
		unsigned int i;

		p += 4;
		if (*p < '0' || *p > '9')
			continue;
		v = strtoull(p, &end, 10);
		p = end;
		for (i = 0; i < t->n_evidence && t->evidence[i] != v; i++)
			;
		if (i == t->n_evidence)
			t->evidence[t->n_evidence++] = v;
	}
}

static void copy_str(char *dst, size_t len, const char *src)
{
	da_clean_str(dst, len, src ? src : "", src ? strlen(src) : 0);
}

int da_timeline_add_finding(struct da_timeline *tl, const struct da_finding *f)
{
	struct tl_finding *t;

	if (tl->n_findings >= DA_TIMELINE_MAX_FINDINGS) {
		tl->dropped_findings++;
		return 0;
	}
	if (!tl->findings) {
		tl->findings = calloc(DA_TIMELINE_MAX_FINDINGS, sizeof(*tl->findings));
		if (!tl->findings)
			return -1;
	}
	t = &tl->findings[tl->n_findings];
	memset(t, 0, sizeof(*t));
	t->message = strdup(f->message ? f->message : "");
	if (!t->message)
		return -1;
	if (f->cgroup.id) {
		size_t len = 0;
		FILE *mem = open_memstream(&t->workload, &len);

		if (mem) {
			da_text_describe_cgroup(mem, &f->cgroup);
			fclose(mem);
		}
	}
	tl->n_findings++;
	t->rule = (uint8_t)f->rule;
	t->severity = (uint8_t)f->severity;
	t->has_trigger = f->trigger != NULL;
	t->seq = f->seq;
	t->ts_ns = f->ts_ns;
	t->buf = f->buffer.ptr;
	t->ino = f->buffer.ino;
	t->size = f->buffer.size;
	copy_str(t->exporter, sizeof(t->exporter), f->buffer.exporter);
	t->has_attach = f->has_attachment;
	t->attach = f->has_attachment ? f->attachment.ptr : 0;
	copy_str(t->dev, sizeof(t->dev), f->has_attachment ? f->attachment.dev : NULL);
	t->pid = f->pid;
	t->tid = f->tid;
	if (f->comm)
		da_clean_str(t->comm, sizeof(t->comm), f->comm, DA_COMM_LEN);
	t->at_event = tl->n_events;
	if (t->has_trigger)
		t->evidence[t->n_evidence++] = f->seq;
	message_seqs(t, t->message);
	return 0;
}

void da_timeline_add_lost(struct da_timeline *tl, uint64_t first_seq, uint64_t count)
{
	if (tl->n_lost >= DA_TIMELINE_MAX_LOST) {
		tl->dropped_lost++;
		return;
	}
	if (!tl->lost) {
		tl->lost = calloc(DA_TIMELINE_MAX_LOST, sizeof(*tl->lost));
		if (!tl->lost) {
			tl->dropped_lost++;
			return;
		}
	}
	tl->lost[tl->n_lost++] = (struct tl_lost){ first_seq, count, tl->n_events };
}

void da_timeline_add_notice(struct da_timeline *tl, const char *kind, const char *msg)
{
	char *line;

	if (tl->n_notices >= DA_TIMELINE_MAX_NOTICES ||
	    asprintf(&line, "%s: %s", kind, msg) < 0) {
		tl->dropped_notices++;
		return;
	}
	tl->notices[tl->n_notices++] = line;
}

void da_timeline_fini(struct da_timeline *tl)
{
	for (size_t i = 0; i < tl->n_findings; i++) {
		free(tl->findings[i].message);
		free(tl->findings[i].workload);
	}
	for (size_t i = 0; i < tl->n_notices; i++)
		free(tl->notices[i]);
	free(tl->findings);
	free(tl->events);
	free(tl->lost);
	memset(tl, 0, sizeof(*tl));
}

/* ---- a map of (u64, u64) keys to indexes, for the layout ---- */

struct pmap_slot {
	uint64_t a, b;
	size_t v;
	bool used;
};

struct pmap {
	struct pmap_slot *s;
	size_t cap, used;
};

static size_t pmap_hash(const struct pmap *m, uint64_t a, uint64_t b)
{
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);

	return (size_t)(h ^ (h >> 29)) & (m->cap - 1);
}

static size_t *pmap_get(const struct pmap *m, uint64_t a, uint64_t b)
{
	if (!m->cap)
		return NULL;
	for (size_t i = pmap_hash(m, a, b); m->s[i].used; i = (i + 1) & (m->cap - 1))
		if (m->s[i].a == a && m->s[i].b == b)
			return &m->s[i].v;
	return NULL;
}

static int pmap_put(struct pmap *m, uint64_t a, uint64_t b, size_t v)
{
	size_t *have = pmap_get(m, a, b), i;

	if (have) {
		*have = v;
		return 0;
	}
	if ((m->used + 1) * 2 > m->cap) {
		struct pmap bigger = { NULL, m->cap ? m->cap * 2 : 256, 0 };

		bigger.s = calloc(bigger.cap, sizeof(*bigger.s));
		if (!bigger.s)
			return -1;
		for (size_t j = 0; j < m->cap; j++)
			if (m->s[j].used)
				pmap_put(&bigger, m->s[j].a, m->s[j].b, m->s[j].v);
		free(m->s);
		*m = bigger;
	}
	for (i = pmap_hash(m, a, b); m->s[i].used; i = (i + 1) & (m->cap - 1))
		;
	m->s[i] = (struct pmap_slot){ a, b, v, true };
	m->used++;
	return 0;
}

/* ---- the layout ---- */

#define MAX_PINS 64		/* pin slices kept open per attachment; more are instants only */
#define MAX_LANES 16		/* mappings open at once per attachment, one track each */
#define MAX_DEPTH 16		/* nested scopes per task */
#define MAX_TOUCHED 32		/* buffers a scope is drawn in */

enum track_kind { TK_FINDINGS = 1, TK_TASK, TK_ATTACH, TK_PIN, TK_MAP, TK_LOST, TK_MARKS };

struct lane {
	uint64_t sgt, start;
	size_t order;
	bool open;
};

struct attach_state {
	unsigned int proc;
	uint64_t ptr;
	unsigned int n_pins;		/* pin count (open pin slices: the first MAX_PINS) */
	uint64_t pin_start[MAX_PINS];
	size_t pin_order[MAX_PINS];
	struct lane lanes[MAX_LANES];
};

struct open_scope {
	uint8_t slot;
	uint64_t start;
	size_t order;
	unsigned int n_touched;
	unsigned int touched[MAX_TOUCHED];	/* procs */
	uint64_t touched_start[MAX_TOUCHED];
};

struct task_state {
	uint32_t tid;
	char comm[DA_COMM_LEN + 1];
	uint64_t last_ts;
	size_t last_order;
	unsigned int depth;
	struct open_scope stack[MAX_DEPTH];
};

struct walk {
	const struct da_timeline *tl;
	const struct da_trace_info *trace;
	struct tl_layout *l;
	struct pmap bufs, resvs, tracks, attachs, tasks, seqs;
	struct attach_state *att;
	size_t n_att, cap_att;
	struct task_state *task;
	size_t n_task, cap_task;
	long *ev_item;			/* per event: its instant */
	size_t order;			/* events placed so far */
	uint64_t last_ts;
	int error;
};

/* grow an array of `size`-byte elements to hold n + 1 */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *bigger;

	if (n < *cap)
		return arr;
	bigger = realloc(arr, c * size);
	if (!bigger)
		return NULL;
	memset((char *)bigger + *cap * size, 0, (c - *cap) * size);
	*cap = c;
	return bigger;
}

static unsigned int new_proc(struct walk *w, uint64_t buf, uint64_t ino, uint64_t size,
			     const char *exporter)
{
	struct tl_layout *l = w->l;
	struct tl_proc *p;
	void *g = grow(l->procs, &l->cap_procs, l->n_procs, sizeof(*l->procs));

	if (!g) {
		w->error = ENOMEM;
		return 0;
	}
	l->procs = g;
	p = &l->procs[l->n_procs];
	p->buf = buf;
	p->ino = ino;
	p->size = size;
	snprintf(p->exporter, sizeof(p->exporter), "%s", exporter);
	if (!l->n_procs)
		snprintf(p->name, sizeof(p->name), "run: tasks, revoke scopes, lost events");
	else if (ino)
		snprintf(p->name, sizeof(p->name), "buffer ino %" PRIu64 " %s (%s)",
			 ino, exporter[0] ? exporter : "?", da_addr_str(0, buf));
	else
		snprintf(p->name, sizeof(p->name), "buffer %s (first seen mid-life)",
			 da_addr_str(0, buf));
	if (buf && pmap_put(&w->bufs, buf, 0, l->n_procs))
		w->error = ENOMEM;
	return (unsigned int)l->n_procs++;
}

static const char *task_comm(struct walk *w, uint32_t tid)
{
	size_t *t = pmap_get(&w->tasks, tid, 0);

	return t && w->task[*t].comm[0] ? w->task[*t].comm : "?";
}

static void track_name(struct walk *w, char *name, size_t len, enum track_kind kind,
		       uint64_t id, unsigned int lane)
{
	switch (kind) {
	case TK_FINDINGS:
		snprintf(name, len, "findings");
		break;
	case TK_TASK:
		snprintf(name, len, "task %s/%" PRIu64, task_comm(w, (uint32_t)id), id);
		break;
	case TK_ATTACH:
		snprintf(name, len, "attachment %s", da_addr_str(0, id));
		break;
	case TK_PIN:
		snprintf(name, len, "attachment %s pinned", da_addr_str(0, id));
		break;
	case TK_MAP:
		snprintf(name, len, "attachment %s mapped%s", da_addr_str(0, id),
			 lane ? " (more)" : "");
		break;
	case TK_LOST:
		snprintf(name, len, "lost events");
		break;
	default:
		snprintf(name, len, "marks");
		break;
	}
}

static unsigned int track(struct walk *w, unsigned int proc, enum track_kind kind, uint64_t id,
			  unsigned int lane)
{
	uint64_t a = (uint64_t)proc << 24 | (uint64_t)kind << 16 | lane;
	struct tl_layout *l = w->l;
	size_t *have = pmap_get(&w->tracks, a, id);
	void *g;

	if (have)
		return (unsigned int)*have;
	g = grow(l->tracks, &l->cap_tracks, l->n_tracks, sizeof(*l->tracks));
	if (!g || pmap_put(&w->tracks, a, id, l->n_tracks)) {
		w->error = ENOMEM;
		return 0;
	}
	l->tracks = g;
	l->tracks[l->n_tracks].proc = proc;
	track_name(w, l->tracks[l->n_tracks].name, sizeof(l->tracks[0].name), kind, id, lane);
	return (unsigned int)l->n_tracks++;
}

/* a time on track t: never before what is already drawn there */
static uint64_t at(struct walk *w, unsigned int t, uint64_t ts)
{
	struct tl_track *tr = &w->l->tracks[t];

	if (ts < tr->clock)
		ts = tr->clock;
	tr->clock = ts;
	return ts;
}

static struct tl_item *add_item(struct walk *w, enum tl_item_kind kind, unsigned int t,
				uint64_t ts, uint64_t end, size_t order)
{
	struct tl_layout *l = w->l;
	struct tl_item *it;
	void *g;

	if (w->error)
		return NULL;
	g = grow(l->items, &l->cap_items, l->n_items, sizeof(*l->items));
	if (!g) {
		w->error = ENOMEM;
		return NULL;
	}
	l->items = g;
	it = &l->items[l->n_items++];
	it->kind = (uint8_t)kind;
	it->track = t;
	it->ts = ts;
	it->dur = end > ts ? end - ts : 0;
	it->order = order;
	it->end_order = w->order;
	it->ev = -1;
	it->finding = -1;
	return it;
}

static void add_slice(struct walk *w, enum tl_slice_kind sk, unsigned int t, uint64_t start,
		      size_t order, uint64_t end, bool open, const char *name)
{
	struct tl_item *it = add_item(w, TL_SLICE, t, start, at(w, t, end), order);

	if (!it)
		return;
	it->slice = (uint8_t)sk;
	it->open_at_end = open;
	snprintf(it->name, sizeof(it->name), "%s%s", name, open ? " (open at the end)" : "");
}

static struct task_state *task_of(struct walk *w, const struct da_event *ev)
{
	size_t *have = pmap_get(&w->tasks, ev->tid, 0);
	struct task_state *t;
	void *g;

	if (have)
		return &w->task[*have];
	g = grow(w->task, &w->cap_task, w->n_task, sizeof(*w->task));
	if (!g || pmap_put(&w->tasks, ev->tid, 0, w->n_task)) {
		w->error = ENOMEM;
		return NULL;
	}
	w->task = g;
	t = &w->task[w->n_task++];
	t->tid = ev->tid;
	t->last_ts = ev->ts_ns;
	t->last_order = w->order;
	da_clean_str(t->comm, sizeof(t->comm), ev->comm, sizeof(ev->comm));
	return t;
}

static struct attach_state *attach_of(struct walk *w, unsigned int proc, uint64_t ptr)
{
	size_t *have = pmap_get(&w->attachs, proc, ptr);
	struct attach_state *a;
	void *g;

	if (have)
		return &w->att[*have];
	g = grow(w->att, &w->cap_att, w->n_att, sizeof(*w->att));
	if (!g || pmap_put(&w->attachs, proc, ptr, w->n_att)) {
		w->error = ENOMEM;
		return NULL;
	}
	w->att = g;
	a = &w->att[w->n_att++];
	a->proc = proc;
	a->ptr = ptr;
	return a;
}

static const char *scope_name(struct walk *w, unsigned int slot)
{
	const char *name = da_event_scope_name(w->trace, slot);

	return name ? name : "scope";
}

/* the buffer (process) an event is drawn in; 0 = the run */
static unsigned int proc_of(struct walk *w, const struct da_event *ev)
{
	size_t *p;
	char exporter[DA_NAME_LEN + 1];

	/* a seeded buffer is drawn like an exported one, unless an event drew it first */
	if (ev->op == DA_OP_EXPORT ||
	    (ev->op == DA_OP_SEED_BUFFER && !pmap_get(&w->bufs, ev->buf, 0))) {
		da_clean_str(exporter, sizeof(exporter), ev->name, sizeof(ev->name));
		return new_proc(w, ev->buf, ev->ino, ev->size, exporter);
	}
	if (ev->buf) {
		p = pmap_get(&w->bufs, ev->buf, 0);
		return p ? (unsigned int)*p : new_proc(w, ev->buf, 0, 0, "");
	}
	if (ev->op == DA_OP_FENCE_WAIT || ev->op == DA_OP_RESV_UNLOCK) {
		p = ev->resv ? pmap_get(&w->resvs, ev->resv, 0) : NULL;
		return p ? (unsigned int)*p : 0;
	}
	return 0;
}

/* the task is in revoke scopes: draw them in this buffer too (from the first touch on) */
static void touch_scopes(struct walk *w, struct task_state *t, unsigned int proc)
{
	for (unsigned int d = 0; d < t->depth && d < MAX_DEPTH; d++) {
		struct open_scope *s = &t->stack[d];
		unsigned int i;

		for (i = 0; i < s->n_touched && s->touched[i] != proc; i++)
			;
		if (i < s->n_touched || s->n_touched == MAX_TOUCHED)
			continue;
		s->touched[i] = proc;
		s->touched_start[i] = at(w, track(w, proc, TK_TASK, t->tid, 0), s->start);
		s->n_touched++;
	}
}

static void close_scope(struct walk *w, struct task_state *t, uint64_t end, bool open)
{
	struct open_scope *s = &t->stack[--t->depth];
	char name[72];

	snprintf(name, sizeof(name), "scope %s", scope_name(w, s->slot));
	add_slice(w, TL_S_SCOPE, track(w, 0, TK_TASK, t->tid, 0), s->start, s->order, end, open,
		  name);
	for (unsigned int i = 0; i < s->n_touched; i++)
		add_slice(w, TL_S_SCOPE, track(w, s->touched[i], TK_TASK, t->tid, 0),
			  s->touched_start[i], s->order, end, open, name);
}

static void scope_event(struct walk *w, struct task_state *t, const struct da_event *ev)
{
	unsigned int run_track = track(w, 0, TK_TASK, t->tid, 0), d;

	if (ev->op == DA_OP_SCOPE_ENTER) {
		if (t->depth < MAX_DEPTH) {
			struct open_scope *s = &t->stack[t->depth++];

			memset(s, 0, sizeof(*s));
			s->slot = ev->fn;
			s->start = at(w, run_track, ev->ts_ns);
			s->order = w->order;
		}
		return;
	}
	/* an exit closes its scope and any left open inside it; one never entered: instant only */
	for (d = t->depth; d > 0 && t->stack[d - 1].slot != ev->fn; d--)
		;
	while (d && t->depth >= d)
		close_scope(w, t, ev->ts_ns, false);
}

static void pin_event(struct walk *w, struct attach_state *a, const struct da_event *ev)
{
	unsigned int t = track(w, a->proc, TK_PIN, a->ptr, 0);

	if (ev->op == DA_OP_PIN) {
		if (ev->ret)
			return;
		if (a->n_pins < MAX_PINS) {
			a->pin_start[a->n_pins] = at(w, t, ev->ts_ns);
			a->pin_order[a->n_pins] = w->order;
		}
		a->n_pins++;
		return;
	}
	if (!a->n_pins)
		return;	/* pinned before the trace, or unbalanced: the instant shows it */
	if (--a->n_pins < MAX_PINS)
		add_slice(w, TL_S_PIN, t, a->pin_start[a->n_pins], a->pin_order[a->n_pins],
			  ev->ts_ns, false, "pinned");
}

static void map_event(struct walk *w, struct attach_state *a, const struct da_event *ev)
{
	unsigned int i, t;
	char name[72];

	if (ev->op == DA_OP_MAP) {
		if (ev->ret || !ev->sgt)
			return;
		for (i = 0; i < MAX_LANES && a->lanes[i].open; i++)
			;
		if (i == MAX_LANES)
			return;
		t = track(w, a->proc, TK_MAP, a->ptr, i);
		a->lanes[i] = (struct lane){ ev->sgt, at(w, t, ev->ts_ns), w->order, true };
		return;
	}
	for (i = 0; i < MAX_LANES && !(a->lanes[i].open && a->lanes[i].sgt == ev->sgt); i++)
		;
	if (i == MAX_LANES)
		return;
	a->lanes[i].open = false;
	snprintf(name, sizeof(name), "mapped sgt %s", da_addr_str(0, ev->sgt));
	add_slice(w, TL_S_MAP, track(w, a->proc, TK_MAP, a->ptr, i), a->lanes[i].start,
		  a->lanes[i].order, ev->ts_ns, false, name);
}

static bool has_attach_track(const struct da_event *ev)
{
	switch (ev->op) {
	case DA_OP_ATTACH:
	case DA_OP_SEED_ATTACHMENT:
	case DA_OP_DETACH:
	case DA_OP_PIN:
	case DA_OP_UNPIN:
	case DA_OP_MAP:
	case DA_OP_UNMAP:
	case DA_OP_REVOCABLE_CHECK:
		return ev->attach != 0;
	default:
		return false;
	}
}

static void fence_slice(struct walk *w, unsigned int t, struct task_state *task,
			const struct da_event *ev)
{
	char name[72];

	snprintf(name, sizeof(name), "fence wait (%s)", da_usage_name(ev->usage));
	add_slice(w, TL_S_FENCE, t, at(w, t, task->last_ts), task->last_order, ev->ts_ns, false,
		  name);
}

static void place_event(struct walk *w, size_t i)
{
	const struct da_event *ev = &w->tl->events[i];
	unsigned int proc = proc_of(w, ev), t;
	struct task_state *task = task_of(w, ev);
	struct attach_state *a = NULL;
	struct tl_item *it;

	if (w->error || !task)
		return;
	if (ev->resv && proc)
		pmap_put(&w->resvs, ev->resv, 0, proc);
	if (proc)
		touch_scopes(w, task, proc);
	if (has_attach_track(ev)) {
		a = attach_of(w, proc, ev->attach);
		t = track(w, proc, TK_ATTACH, ev->attach, 0);
	} else {
		t = track(w, proc, TK_TASK, ev->tid, 0);
	}
	if (w->error)
		return;
	if (ev->op == DA_OP_SCOPE_ENTER || ev->op == DA_OP_SCOPE_EXIT)
		scope_event(w, task, ev);
	else if (ev->op == DA_OP_FENCE_WAIT)
		fence_slice(w, t, task, ev);
	else if (a && (ev->op == DA_OP_PIN || ev->op == DA_OP_UNPIN))
		pin_event(w, a, ev);
	else if (a && (ev->op == DA_OP_MAP || ev->op == DA_OP_UNMAP))
		map_event(w, a, ev);
	it = add_item(w, TL_INSTANT, t, at(w, t, ev->ts_ns), 0, w->order);
	if (!it)
		return;
	it->ev = (long)i;
	snprintf(it->name, sizeof(it->name), "%s", da_op_name(ev->op));
	w->ev_item[i] = (long)(it - w->l->items);
	task->last_ts = ev->ts_ns;
	task->last_order = w->order;
	if (ev->ts_ns > w->last_ts)
		w->last_ts = ev->ts_ns;
	w->order++;
}

static void add_mark(struct walk *w, uint64_t ts, const char *name)
{
	unsigned int t = track(w, 0, TK_MARKS, 0, 0);
	struct tl_item *it = add_item(w, TL_MARK, t, at(w, t, ts), 0, w->order);

	if (it)
		snprintf(it->name, sizeof(it->name), "%s", name);
}

static void place_lost(struct walk *w, const struct tl_lost *lost)
{
	const struct da_timeline *tl = w->tl;
	uint64_t start = lost->at_event ? tl->events[lost->at_event - 1].ts_ns : 0;
	uint64_t end = lost->at_event < tl->n_events ? tl->events[lost->at_event].ts_ns : start;
	unsigned int t = track(w, 0, TK_LOST, 0, 0);
	char name[72];

	if (!lost->at_event && tl->n_events)
		start = end;
	if (lost->count == 1)
		snprintf(name, sizeof(name), "1 event lost (seq %" PRIu64 ")", lost->first_seq);
	else
		snprintf(name, sizeof(name),
			 "%" PRIu64 " events lost (seq %" PRIu64 "-%" PRIu64 ")", lost->count,
			 lost->first_seq, lost->first_seq + lost->count - 1);
	add_mark(w, start, name);
	add_slice(w, TL_S_LOST, t, at(w, t, start), w->order, end, false, name);
}

/*
 * The item of an event the finding's evidence names (seq), or NULL when it
 * was not kept or comes after the finding.
 */
static const struct tl_item *evidence_item(const struct walk *w, const struct tl_finding *f,
					   uint64_t seq)
{
	size_t *ev = pmap_get(&w->seqs, seq, 0);

	if (!ev || *ev >= f->at_event || w->ev_item[*ev] < 0)
		return NULL;
	return &w->l->items[w->ev_item[*ev]];
}

static void add_flows(struct walk *w, const struct tl_finding *f, size_t item)
{
	struct tl_layout *l = w->l;

	for (unsigned int e = 0; e < f->n_evidence; e++) {
		const struct tl_item *from = evidence_item(w, f, f->evidence[e]);
		void *g;

		if (!from)
			continue;	/* not kept (truncated) */
		g = grow(l->flows, &l->cap_flows, l->n_flows, sizeof(*l->flows));
		if (!g) {
			w->error = ENOMEM;
			return;
		}
		l->flows = g;
		l->flows[l->n_flows++] = (struct tl_flow){ (size_t)(from - l->items), item };
	}
}

static void place_finding(struct walk *w, size_t fi)
{
	const struct tl_finding *f = &w->tl->findings[fi];
	size_t *have = f->buf ? pmap_get(&w->bufs, f->buf, 0) : NULL;
	unsigned int proc = have ? (unsigned int)*have : 0, t;
	uint64_t ts = f->has_trigger ? f->ts_ns : w->last_ts;
	struct tl_item *it;

	if (f->buf && !have)
		proc = new_proc(w, f->buf, f->ino, f->size, f->exporter);
	if (w->error)
		return;
	/* arrows go forward in time: not before its evidence (CPU clocks may disagree) */
	for (unsigned int e = 0; e < f->n_evidence; e++) {
		const struct tl_item *from = evidence_item(w, f, f->evidence[e]);

		if (from && from->ts > ts)
			ts = from->ts;
	}
	w->l->procs[proc].n_findings++;
	t = track(w, proc, TK_FINDINGS, 0, 0);
	/* drawn at its trigger, the event before it */
	it = add_item(w, TL_FINDING, t, at(w, t, ts), 0, w->order ? w->order - 1 : 0);
	if (!it)
		return;
	it->finding = (long)fi;
	snprintf(it->name, sizeof(it->name), "%s", da_rules[f->rule % DA_RULE__COUNT].name);
	add_flows(w, f, (size_t)(it - w->l->items));
}

/* what is still open at the end is drawn to the end, and says so */
static void close_all(struct walk *w, uint64_t end)
{
	for (size_t i = 0; i < w->n_task; i++)
		while (w->task[i].depth)
			close_scope(w, &w->task[i], end, true);
	for (size_t i = 0; i < w->n_att; i++) {
		struct attach_state *a = &w->att[i];
		char name[72];

		for (; a->n_pins; a->n_pins--)
			if (a->n_pins <= MAX_PINS)
				add_slice(w, TL_S_PIN, track(w, a->proc, TK_PIN, a->ptr, 0),
					  a->pin_start[a->n_pins - 1], a->pin_order[a->n_pins - 1],
					  end, true, "pinned");
		for (unsigned int l = 0; l < MAX_LANES; l++) {
			if (!a->lanes[l].open)
				continue;
			snprintf(name, sizeof(name), "mapped sgt %s", da_addr_str(0, a->lanes[l].sgt));
			add_slice(w, TL_S_MAP, track(w, a->proc, TK_MAP, a->ptr, l),
				  a->lanes[l].start, a->lanes[l].order, end, true, name);
		}
	}
}

static void walk(struct walk *w)
{
	const struct da_timeline *tl = w->tl;
	size_t fi = 0, li = 0;
	char name[72];

	for (size_t i = 0; i <= tl->n_events && !w->error; i++) {
		for (; li < tl->n_lost && tl->lost[li].at_event == i; li++)
			place_lost(w, &tl->lost[li]);
		for (; fi < tl->n_findings && tl->findings[fi].at_event == i; fi++)
			place_finding(w, fi);
		if (i < tl->n_events)
			place_event(w, i);
	}
	for (size_t i = 0; i < tl->n_findings; i++)
		if (tl->findings[i].has_trigger && tl->findings[i].ts_ns > w->last_ts)
			w->last_ts = tl->findings[i].ts_ns;
	w->l->t_end = w->last_ts;
	close_all(w, w->last_ts);
	if (tl->dropped_events) {
		snprintf(name, sizeof(name), "truncated: %" PRIu64 " later events not drawn (seq %"
			 PRIu64 " on)", tl->dropped_events, tl->first_dropped_seq);
		add_mark(w, w->last_ts, name);
	}
	if (tl->dropped_findings) {
		snprintf(name, sizeof(name), "truncated: %" PRIu64 " later findings not drawn",
			 tl->dropped_findings);
		add_mark(w, w->last_ts, name);
	}
}

int da_timeline_layout(const struct da_timeline *tl, const struct da_trace_info *trace,
		       struct tl_layout *out)
{
	struct walk w = { .tl = tl, .trace = trace, .l = out };

	memset(out, 0, sizeof(*out));
	w.ev_item = malloc((tl->n_events + 1) * sizeof(*w.ev_item));
	if (!w.ev_item)
		return -1;
	for (size_t i = 0; i < tl->n_events; i++) {
		w.ev_item[i] = -1;
		if (pmap_put(&w.seqs, tl->events[i].seq, 0, i))
			w.error = ENOMEM;
	}
	new_proc(&w, 0, 0, 0, "");
	if (!w.error)
		walk(&w);
	free(w.ev_item);
	free(w.bufs.s);
	free(w.resvs.s);
	free(w.tracks.s);
	free(w.attachs.s);
	free(w.tasks.s);
	free(w.seqs.s);
	free(w.att);
	free(w.task);
	if (w.error) {
		da_timeline_layout_free(out);
		errno = w.error;
		return -1;
	}
	return 0;
}

void da_timeline_layout_free(struct tl_layout *l)
{
	free(l->procs);
	free(l->tracks);
	free(l->items);
	free(l->flows);
	memset(l, 0, sizeof(*l));
}

/* by time; at one time slices before instants, longer slices (parents) first */
static int item_cmp(const void *pa, const void *pb, void *arg)
{
	const struct tl_item *items = arg;
	const struct tl_item *a = &items[*(const size_t *)pa], *b = &items[*(const size_t *)pb];

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	if ((a->kind == TL_SLICE) != (b->kind == TL_SLICE))
		return a->kind == TL_SLICE ? -1 : 1;
	return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

void da_timeline_sort_items(struct tl_layout *l, size_t *order)
{
	for (size_t i = 0; i < l->n_items; i++)
		order[i] = i;
	qsort_r(order, l->n_items, sizeof(*order), item_cmp, l->items);
}
