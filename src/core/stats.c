// SPDX-License-Identifier: GPL-2.0
/*
 * The figures of a long-running audit (include/dmabuf_audit/service.h):
 * the stats record of --format json and the metrics file of --metrics
 * (docs/output.md "Stats and metrics"), in the Prometheus text format
 * 0.0.4 that node_exporter's textfile collector parses: # HELP and # TYPE
 * name the samples' own names (counters end in _total), no OpenMetrics-only
 * lines (# UNIT, # EOF).  Both say the same thing, from one
 * struct da_stats, so a dashboard and a log never disagree.
 */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dmabuf_audit/service.h"
#include "engine_priv.h"
#include "outfile.h"
#include "sink.h"
#include "dmabuf_audit/cli.h"

#define METRIC(name) "dmabuf_audit_" name

void da_engine_occupancy(const struct da_engine *eng, uint64_t *buffers_live,
			 uint64_t *buffers_capacity, uint64_t *attachments_live,
			 uint64_t *attachments_capacity)
{
	*buffers_live = eng->nlive_bufs;
	*buffers_capacity = eng->nbufs;
	*attachments_live = eng->nlive_atts;
	*attachments_capacity = eng->natts;
}

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

/* ---- the metrics file: Prometheus text format 0.0.4 ---- */

/* HELP and TYPE of the samples called `name` (a counter's name ends in _total) */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " METRIC("%s") " %s\n", name, help);
	fprintf(f, "# TYPE " METRIC("%s") " %s\n", name, type);
}

/* a label value as the text format quotes it: backslash, double quote and newline escaped */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void metrics_service(FILE *f, const struct da_stats *st)
{
	struct timespec now;

	family(f, "build_info", "gauge",
	       "Always 1: the version of dmabuf-audit and the kernel it audits (\"\" when the"
	       " trace does not say).");
	fputs(METRIC("build_info{version=\""), f);
	label_value(f, DA_VERSION);
	fputs("\",kernel=\"", f);
	label_value(f, st->kernel ? st->kernel : "");
	fputs("\"} 1\n", f);
	family(f, "up", "gauge",
	       "1 while the audit runs; 0 in the file's last write, at a clean exit.");
	fprintf(f, METRIC("up %d\n"), st->running ? 1 : 0);
	clock_gettime(CLOCK_REALTIME, &now);
	family(f, "last_update_timestamp_seconds", "gauge",
	       "When this file was written (Unix time): older than a few --metrics-interval"
	       " while up is 1, the audit is stuck or gone.");
	fprintf(f, METRIC("last_update_timestamp_seconds %lld.%03ld\n"), (long long)now.tv_sec,
		now.tv_nsec / 1000000);
}

static void metrics_events(FILE *f, const struct da_stats *st)
{
	family(f, "events_total", "counter", "Events fed to the engine, by dma-buf operation.");
	for (unsigned int op = 1; op < DA_OP__COUNT; op++)
		fprintf(f, METRIC("events_total{op=\"%s\"} %" PRIu64 "\n"), da_op_name(op),
			st->events_by_op[op]);
	family(f, "lost_events_total", "counter", "Events lost before the engine saw them.");
	fprintf(f, METRIC("lost_events_total %" PRIu64 "\n"), st->sum.lost);
}

/* every rule at its present severity, even at 0, and every other pair that counted */
static void metrics_findings(FILE *f, const struct da_stats *st)
{
	family(f, "findings_total", "counter",
	       "Findings by rule and severity, repeats held back included.");
	for (int r = 0; r < DA_RULE__COUNT; r++)
		for (int s = DA_SEV__COUNT - 1; s >= 0; s--)
			if (st->findings[r][s] || st->rule_severity[r] == (enum da_severity)s)
				fprintf(f,
					METRIC("findings_total{rule=\"%s\",severity=\"%s\"} %" PRIu64
					       "\n"),
					da_rules[r].name, da_severity_name(s), st->findings[r][s]);
	family(f, "findings_suppressed_total", "counter",
	       "Findings held back as repeats within the policy's suppress-window.");
	for (int r = 0; r < DA_RULE__COUNT; r++)
		fprintf(f, METRIC("findings_suppressed_total{rule=\"%s\"} %" PRIu64 "\n"),
			da_rules[r].name, st->repeats_by_rule[r]);
	family(f, "rules", "gauge", "Rules this version of dmabuf-audit knows.");
	fprintf(f, METRIC("rules %d\n"), DA_RULE__COUNT);
	if (st->rules_enforceable >= 0) {
		family(f, "rules_enforceable", "gauge",
		       "Rules enforceable with the hooks attached (dmabuf-audit hooks says why"
		       " not).");
		fprintf(f, METRIC("rules_enforceable %d\n"), st->rules_enforceable);
	}
}

static void metrics_state(FILE *f, const struct da_stats *st)
{
	family(f, "partial_entities", "gauge",
	       "Buffers and attachments judged partial, by reason.");
	fprintf(f, METRIC("partial_entities{reason=\"late\"} %" PRIu64 "\n"), st->sum.partial_late);
	fprintf(f, METRIC("partial_entities{reason=\"lost\"} %" PRIu64 "\n"), st->sum.partial_lost);
	fprintf(f, METRIC("partial_entities{reason=\"evicted\"} %" PRIu64 "\n"),
		st->sum.partial_evicted);
	fprintf(f, METRIC("partial_entities{reason=\"seeded\"} %" PRIu64 "\n"),
		st->sum.partial_seeded);
	family(f, "table_entries", "gauge", "Live entities in the engine's tables.");
	fprintf(f, METRIC("table_entries{table=\"buffers\"} %" PRIu64 "\n"), st->buffers_live);
	fprintf(f, METRIC("table_entries{table=\"attachments\"} %" PRIu64 "\n"),
		st->attachments_live);
	family(f, "table_capacity", "gauge", "Size of the engine's tables.");
	fprintf(f, METRIC("table_capacity{table=\"buffers\"} %" PRIu64 "\n"), st->buffers_capacity);
	fprintf(f, METRIC("table_capacity{table=\"attachments\"} %" PRIu64 "\n"),
		st->attachments_capacity);
	if (st->ringbuf_fill >= 0) {
		family(f, "ringbuf_fill_ratio", "gauge", "Share of the BPF ring buffer not yet read.");
		fprintf(f, METRIC("ringbuf_fill_ratio %.6f\n"), st->ringbuf_fill);
	}
}

static void metrics_process(FILE *f, const struct da_stats *st)
{
	family(f, "process_cpu_user_seconds_total", "counter", "User CPU time of the process.");
	fprintf(f, METRIC("process_cpu_user_seconds_total %.6f\n"), st->cpu_user_seconds);
	family(f, "process_resident_memory_bytes", "gauge", "Resident memory of the process.");
	fprintf(f, METRIC("process_resident_memory_bytes %" PRIu64 "\n"), st->rss_bytes);
	family(f, "hooks_attached", "gauge", "Kernel hooks attached.");
	fprintf(f, METRIC("hooks_attached %u\n"), st->hooks_attached);
	family(f, "hooks_wanted", "gauge",
	       "Kernel hooks this kernel offers now; fewer attached: a hook failed.");
	fprintf(f, METRIC("hooks_wanted %u\n"), st->hooks_wanted);
	family(f, "seeded_buffers_total", "counter",
	       "Buffers that existed before the attach, seeded into the engine.");
	fprintf(f, METRIC("seeded_buffers_total %" PRIu64 "\n"), st->seeded_buffers);
	family(f, "journal_entries_dropped_total", "counter",
	       "Journal entries (--log journal) not sent: the journal was gone or full.");
	fprintf(f, METRIC("journal_entries_dropped_total %" PRIu64 "\n"), st->journal_dropped);
}

int da_metrics_write(const char *path, const struct da_stats *st, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *f;

	/*
	 * A new file with a unique name beside the target, renamed over it: a
	 * reader (node_exporter) sees the old file or the new one, never half
	 * of one, and nothing planted in the directory is written through
	 * (outfile.c).
	 */
	if (da_outfile_check_replaceable(path, "--metrics", err, errlen))
		return -1;
	f = da_outfile_replace_begin(path, tmp, sizeof(tmp), err, errlen);
	if (!f)
		return -1;
	metrics_service(f, st);
	metrics_events(f, st);
	metrics_findings(f, st);
	metrics_state(f, st);
	metrics_process(f, st);
	return da_outfile_replace_commit(f, tmp, path, err, errlen);
}
