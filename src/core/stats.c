// SPDX-License-Identifier: GPL-2.0
/*
 * The figures of a long-running audit (include/dmabuf_audit/service.h):
 * one struct da_stats, and from it the stats record of --format json
 * (docs/output.md "Stats and metrics").  The metrics file of --metrics is
 * written from the same struct (src/service/metrics.c), so a dashboard and
 * a log never disagree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "dmabuf_audit/service.h"
#include "sink.h"
#include "dmabuf_audit/cli.h"

void da_stats_process(struct da_stats *st)
{
	struct rusage ru;
	unsigned long long pages = 0, resident = 0;
	FILE *f;

	if (!getrusage(RUSAGE_SELF, &ru))
		st->cpu_user_seconds = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	/* the resident set now (not the peak getrusage gives): flat or growing is the question */
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &pages, &resident) == 2)
			st->rss_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

/*
 * The ops a hooked kernel function produces, from the op table of
 * src/core/event.c (da_op_call): every op whose call, in any of its
 * variants, is f.  The file mmap and the resv unlock name no call of their
 * own there.
 */
static uint32_t kfunc_ops(enum da_kfunc f)
{
	static const uint8_t variants[] = { 0, DA_F_DYNAMIC | DA_F_LOCKED, DA_F_PHYS };
	struct da_event ev = { 0 };
	uint32_t ops = 0;
	int version;

	if (f == DA_KF_MMAP_FD)
		return DA_OP_BIT(DA_OP_MMAP);
	if (f == DA_KF_RESV_UNLOCK)
		return DA_OP_BIT(DA_OP_RESV_UNLOCK);
	/* the phys map helpers, told apart by the map's fn */
	for (unsigned int i = 0; i < DA_PHYS_MAP_FUNCS; i++)
		if (f == da_phys_map_funcs[i])
			return DA_OP_BIT(DA_OP_MAP);
	for (unsigned int op = 1; op < DA_OP__COUNT; op++)
		for (size_t v = 0; v < sizeof(variants); v++) {
			ev.op = op;
			ev.flags = variants[v];
			if (da_op_call(&ev, &version) == f)
				ops |= DA_OP_BIT(op);
		}
	return ops;
}

static enum da_kfunc kfunc_named(const char *name)
{
	for (unsigned int f = 1; f < DA_KF__COUNT; f++)
		for (unsigned int v = 0; v < da_kfunc_n_names(f); v++)
			if (!strcmp(da_kfunc_name(f, v), name))
				return f;
	return DA_KF_NONE;
}

/*
 * What the attached hooks of a trace offer the rules, as `hooks` judges it
 * live (src/live/hook_table.c da_plan_offer): a scope is a hook named in the
 * trace's scopes.  The trace does not say whether the attach ops have a
 * callback field: every kernel with an invalidate hook has one.
 */
static void trace_offer(const struct da_trace_info *t, struct da_kernel_offer *offer)
{
	memset(offer, 0, sizeof(*offer));
	offer->live = true;
	if (!(t->quirks & DA_QUIRK_NO_RESV_OWNER))
		offer->caps |= DA_CAP_RESV_OWNER;
	for (unsigned int i = 0; i < t->n_hooks && i < DA_MAX_HOOKS; i++) {
		const struct da_hook_status *h = &t->hooks[i];
		bool scope = false;

		for (unsigned int s = 0; s < t->n_scopes && s < DA_MAX_SCOPES; s++)
			scope |= !strcmp(t->scope_names[s], h->function);
		offer->scopes_pending |= scope && !strcmp(h->mode, "module");
		if (!h->attached)
			continue;
		if (scope) {
			offer->ops |= DA_OP_BIT(DA_OP_SCOPE_ENTER) | DA_OP_BIT(DA_OP_SCOPE_EXIT);
			offer->caps |= DA_CAP_REVOKE_SCOPE;
		} else {
			offer->ops |= kfunc_ops(kfunc_named(h->function));
		}
	}
	if (offer->ops & DA_OP_BIT(DA_OP_INVALIDATE))
		offer->caps |= DA_CAP_INVALIDATE_CB;
}

static int rules_enforceable(const struct da_trace_info *t)
{
	struct da_kernel_offer offer;
	char why[256];
	int n = 0;

	if (!t->n_hooks)
		return -1;
	trace_offer(t, &offer);
	for (int r = 0; r < DA_RULE__COUNT; r++)
		n += !da_rule_unenforceable(&da_rules[r], &offer, why, sizeof(why))[0];
	return n;
}

void da_stats_hooks(struct da_stats *st, const struct da_trace_info *trace)
{
	st->rules_enforceable = rules_enforceable(trace);
	st->kernel = trace->kernel[0] ? trace->kernel : NULL;
	st->hooks_attached = 0;
	st->hooks_wanted = 0;
	for (unsigned int i = 0; i < trace->n_hooks && i < DA_MAX_HOOKS; i++) {
		st->hooks_attached += trace->hooks[i].attached;
		/* a scope in a module not loaded is not wanted until the module comes */
		st->hooks_wanted +=
			trace->hooks[i].attached || (strcmp(trace->hooks[i].mode, "absent") &&
						     strcmp(trace->hooks[i].mode, "module"));
	}
}

static json_t *findings_json(const struct da_stats *st)
{
	json_t *by_rule = json_object();

	for (int r = 0; r < DA_RULE__COUNT; r++) {
		json_t *sev = json_object();

		for (int s = DA_SEV__COUNT - 1; s >= 0; s--)
			if (st->findings[r][s])
				json_object_set_new(sev, da_severity_name(s),
						    da_json_u64(st->findings[r][s]));
		if (json_object_size(sev))
			json_object_set_new(by_rule, da_rules[r].name, sev);
		else
			json_decref(sev);
	}
	return by_rule;
}

void *da_stats_to_json(const struct da_stats *st)
{
	json_t *o = json_object(), *ops = json_object(), *rep = json_object(), *pr = json_object(),
	       *tables = json_object();

	json_object_set_new(o, "type", json_string("stats"));
	json_object_set_new(o, "events", da_json_u64(st->sum.events));
	for (unsigned int op = 1; op < DA_OP__COUNT; op++)
		json_object_set_new(ops, da_op_name(op), da_json_u64(st->events_by_op[op]));
	json_object_set_new(o, "events_by_op", ops);
	json_object_set_new(o, "lost", da_json_u64(st->sum.lost));
	json_object_set_new(o, "findings", findings_json(st));
	json_object_set_new(o, "repeats_held", da_json_u64(st->repeats_held));
	for (int r = 0; r < DA_RULE__COUNT; r++)
		if (st->repeats_by_rule[r])
			json_object_set_new(rep, da_rules[r].name,
					    da_json_u64(st->repeats_by_rule[r]));
	json_object_set_new(o, "repeats_by_rule", rep);
	json_object_set_new(pr, "late", da_json_u64(st->sum.partial_late));
	json_object_set_new(pr, "lost", da_json_u64(st->sum.partial_lost));
	json_object_set_new(pr, "evicted", da_json_u64(st->sum.partial_evicted));
	json_object_set_new(pr, "seeded", da_json_u64(st->sum.partial_seeded));
	json_object_set_new(o, "partial", pr);
	json_object_set_new(tables, "buffers",
			    json_pack("{s:o,s:o}", "entries", da_json_u64(st->buffers_live),
				      "capacity", da_json_u64(st->buffers_capacity)));
	json_object_set_new(tables, "attachments",
			    json_pack("{s:o,s:o}", "entries", da_json_u64(st->attachments_live),
				      "capacity", da_json_u64(st->attachments_capacity)));
	json_object_set_new(o, "tables", tables);
	json_object_set_new(o, "ringbuf_fill_ratio",
			    st->ringbuf_fill < 0 ? json_null() : json_real(st->ringbuf_fill));
	json_object_set_new(o, "cpu_user_seconds", json_real(st->cpu_user_seconds));
	json_object_set_new(o, "rss_bytes", da_json_u64(st->rss_bytes));
	json_object_set_new(o, "hooks_attached", json_integer(st->hooks_attached));
	json_object_set_new(o, "hooks_wanted", json_integer(st->hooks_wanted));
	json_object_set_new(o, "seeded_buffers", da_json_u64(st->seeded_buffers));
	return o;
}
