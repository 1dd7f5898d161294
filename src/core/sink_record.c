// SPDX-License-Identifier: GPL-2.0
/*
 * --record FILE as a sink of the pipeline: the event stream, and before an
 * event what a replay needs to judge and name it (scope names added after
 * the header, the cgroup's path, the importer's symbols, the stack), each
 * written once.  The format itself is record.c's.  A write error stays in
 * the writer and is said once, at the end, by da_record_writer_close.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dmabuf_audit/record.h"
#include "sink.h"

/* a set of 64-bit keys (symbol addresses, stack ids already recorded) */
struct u64set {
	uint64_t *slots; /* 0 = empty; keys are stored + 1 */
	size_t cap, used;
};

static size_t u64set_slot(const struct u64set *set, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (set->cap - 1);
}

static bool u64set_has(const struct u64set *set, uint64_t key)
{
	size_t i;

	if (!set->cap)
		return false;
	key++;
	for (i = u64set_slot(set, key); set->slots[i]; i = (i + 1) & (set->cap - 1))
		if (set->slots[i] == key)
			return true;
	return false;
}

static int u64set_add(struct u64set *set, uint64_t key)
{
	size_t i;

	if ((set->used + 1) * 2 > set->cap) {
		struct u64set bigger = { NULL, set->cap ? set->cap * 2 : 64, 0 };

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (!bigger.slots)
			return -1;
		for (size_t j = 0; j < set->cap; j++) {
			if (!set->slots[j])
				continue;
			for (i = u64set_slot(&bigger, set->slots[j]); bigger.slots[i];
			     i = (i + 1) & (bigger.cap - 1))
				;
			bigger.slots[i] = set->slots[j];
			bigger.used++;
		}
		free(set->slots);
		*set = bigger;
	}
	key++;
	for (i = u64set_slot(set, key); set->slots[i]; i = (i + 1) & (set->cap - 1))
		if (set->slots[i] == key)
			return 0;
	set->slots[i] = key;
	set->used++;
	return 0;
}

struct record_sink {
	struct da_sink base;
	struct da_record_writer *w;
	struct da_cgroups *cgroups;
	da_stack_resolver_fn stack_resolver;
	void *stack_ctx;
	struct u64set symbols; /* addresses whose SYMBOL record is written */
	struct u64set stacks; /* stack ids whose STACK record is written */
	unsigned int scopes; /* scope slots named in the record so far */
};

static struct record_sink *rec_of(struct da_sink *s)
{
	return (struct record_sink *)s;
}

static int rec_begin(struct da_sink *s)
{
	struct record_sink *r = rec_of(s);

	da_record_write_header(r->w, s->trace);
	r->scopes = s->trace->n_scopes;
	return 0;
}

/* name scope slots added to the trace after the header was written */
static void record_new_scopes(struct record_sink *r, const struct da_trace_info *trace)
{
	while (r->scopes < trace->n_scopes && r->scopes < DA_MAX_SCOPES) {
		da_record_write_scope(r->w, r->scopes, trace->scope_names[r->scopes]);
		r->scopes++;
	}
}

static void record_symbol(struct record_sink *r, uint64_t addr)
{
	const char *name;

	if (!addr || u64set_has(&r->symbols, addr))
		return;
	name = da_symbols_lookup(r->base.symbols, addr);
	if (!name)
		return;
	if (!da_record_write_symbol(r->w, addr, name))
		u64set_add(&r->symbols, addr);
}

/* the first event of a cgroup: its path, so that a replay names the workload too */
static void record_cgroup(struct record_sink *r, uint64_t id)
{
	bool fresh;
	const char *path = da_cgroups_path(r->cgroups, id, &fresh);

	if (path && fresh)
		da_record_write_cgroup(r->w, id, path);
}

static void record_stack(struct record_sink *r, int32_t stack_id)
{
	const char *frames[DA_STACK_DEPTH];
	uint64_t key = (uint32_t)stack_id;
	unsigned int n;

	if (u64set_has(&r->stacks, key))
		return;
	n = da_stack_resolve(r->stack_resolver, r->stack_ctx, stack_id, frames);
	if (!da_record_write_stack(r->w, stack_id, frames, n))
		u64set_add(&r->stacks, key);
}

static void rec_event(struct da_sink *s, const struct da_event *ev)
{
	struct record_sink *r = rec_of(s);

	/* what replay needs to judge and name this event comes before it */
	if (s->trace->n_scopes > r->scopes)
		record_new_scopes(r, s->trace);
	if (ev->cgroup_id)
		record_cgroup(r, ev->cgroup_id);
	if (ev->op == DA_OP_ATTACH || ev->op == DA_OP_SEED_ATTACHMENT) {
		record_symbol(r, ev->importer_ops);
		record_symbol(r, ev->invalidate_cb);
	}
	if (s->opts->stacks && r->stack_resolver && (ev->flags & DA_F_STACK))
		record_stack(r, ev->stack_id);
	da_record_write_event(r->w, ev);
}

static void rec_finding(struct da_sink *s, const struct da_finding *f)
{
}

static void rec_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg, json_t *extra)
{
}

static void rec_lost(struct da_sink *s, uint64_t first_seq, uint64_t count)
{
	da_record_write_lost(rec_of(s)->w, first_seq, count);
}

static void rec_tick(struct da_sink *s, uint64_t now_ns)
{
	da_record_write_tick(rec_of(s)->w, now_ns);
}

/* a CGROUP record of a replay: recorded again, the names stay */
static void rec_cgroup(struct da_sink *s, uint64_t id, const char *path)
{
	da_record_write_cgroup(rec_of(s)->w, id, path);
}

static int rec_end(struct da_sink *s, const struct da_summary *sum)
{
	struct record_sink *r = rec_of(s);
	char err[512];
	int ret = da_record_writer_close(r->w, err, sizeof(err));

	r->w = NULL;
	if (ret)
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
	return ret ? -1 : 0;
}

static void rec_free(struct da_sink *s)
{
	struct record_sink *r = rec_of(s);
	char err[512];

	if (r->w)
		da_record_writer_close(r->w, err, sizeof(err));
	free(r->symbols.slots);
	free(r->stacks.slots);
	free(r);
}

static const struct da_sink_ops record_ops = {
	.begin = rec_begin,
	.event = rec_event,
	.finding = rec_finding,
	.notice = rec_notice,
	.end = rec_end,
	.free = rec_free,
	.lost = rec_lost,
	.tick = rec_tick,
	.cgroup = rec_cgroup,
};

struct da_sink *da_sink_record_new(const char *path, struct da_cgroups *cgroups,
				   da_stack_resolver_fn stack_resolver, void *stack_ctx, char *err,
				   size_t errlen)
{
	struct record_sink *r;

	r = (struct record_sink *)da_sink_alloc(sizeof(*r), &record_ops);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->w = da_record_writer_open(path, err, errlen);
	if (!r->w) {
		free(r);
		return NULL;
	}
	r->cgroups = cgroups;
	r->stack_resolver = stack_resolver;
	r->stack_ctx = stack_ctx;
	r->base.all_events = true;
	return &r->base;
}
