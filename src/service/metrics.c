// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics file of --metrics (docs/output.md "Stats and metrics"), from
 * the struct da_stats the stats record is made of (src/core/stats.c), in
 * the Prometheus text format 0.0.4 that node_exporter's textfile collector
 * parses: # HELP and # TYPE name the samples' own names (counters end in
 * _total), no OpenMetrics-only lines (# UNIT, # EOF).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "dmabuf_audit/service.h"
#include "../core/outfile.h"

#define METRIC(name) "dmabuf_audit_" name

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
