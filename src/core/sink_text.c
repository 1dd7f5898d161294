// SPDX-License-Identifier: GPL-2.0
/*
 * --format text, for people.  Live runs (watch) print one block per finding
 * as it happens; reports (run, replay) group the findings by buffer at the
 * end, then the notices and the summary.  With --events every event is one
 * line, in the same columns as the history tables of findings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/rules.h"
#include "finding_store.h"
#include "sink.h"

/* notices kept for the end of a report; more are counted, not printed */
#define MAX_KEPT_NOTICES 1000

struct text_sink {
	struct da_sink base;
	struct da_store store;	/* reports only: findings grouped at the end */
	char **notices;
	size_t n_notices;
	uint64_t notices_dropped;
};

static const char *const sev_color[DA_SEV__COUNT] = {
	[DA_SEV_INFO] = "\033[36m",
	[DA_SEV_WARNING] = "\033[33m",
	[DA_SEV_HIGH] = "\033[31m",
	[DA_SEV_CRITICAL] = "\033[1;31m",
};

#define RESET "\033[0m"
#define BOLD "\033[1m"

static const char *col(const struct da_sink *s, const char *code)
{
	return s->color ? code : "";
}

void da_text_event_line(FILE *out, const struct da_sink *s, const char *indent,
		       const struct da_event *ev)
{
	char ts[32], comm[DA_COMM_LEN + 1], task[48], details[512];

	da_fmt_ts(ts, sizeof(ts), ev->ts_ns);
	da_clean_str(comm, sizeof(comm), ev->comm, sizeof(ev->comm));
	snprintf(task, sizeof(task), "%s/%u", comm[0] ? comm : "?", ev->tid);
	da_event_details(details, sizeof(details), ev, s->symbols, s->trace);
	fprintf(out, "%s%8" PRIu64 " %17s %3u  %-22s %-15s %s\n", indent, (uint64_t)ev->seq, ts,
		ev->cpu, task, da_op_name(ev->op), details);
}

void da_text_event_columns(FILE *out, const char *indent)
{
	fprintf(out, "%s%8s %17s %3s  %-22s %-15s %s\n", indent, "seq", "time (s)", "cpu",
		"task/tid", "op", "details");
}

static void describe_buffer(FILE *out, const struct da_finding_buffer *b)
{
	char name[DA_CLEAN_MAX];

	if (b->ino)
		fprintf(out, "ino %" PRIu64, b->ino);
	else
		fprintf(out, "ino unknown");
	fprintf(out, ", exporter %s",
		b->exporter && *b->exporter ? da_clean_arg(name, sizeof(name), b->exporter) :
					      "unknown");
	if (b->size)
		fprintf(out, ", %" PRIu64 " bytes", b->size);
	fprintf(out, " (%s)", da_addr_str(0, b->ptr));
}

static void describe_attachment(FILE *out, const struct da_finding_attachment *a)
{
	char name[DA_CLEAN_MAX];

	fprintf(out, "%s device %s", da_addr_str(0, a->ptr),
		a->dev && *a->dev ? da_clean_arg(name, sizeof(name), a->dev) : "unknown");
	if (!a->known) {
		fprintf(out, ", importer unknown (attached before tracing started)");
		return;
	}
	if (!a->importer_ops) {
		fprintf(out, ", static importer (no importer ops)");
		return;
	}
	if (a->importer_ops_sym)
		fprintf(out, ", importer ops %s",
			da_clean_arg(name, sizeof(name), a->importer_ops_sym));
	else
		fprintf(out, ", importer ops %s", da_addr_str(0, a->importer_ops));
	if (a->invalidate_cb_sym)
		fprintf(out, ", callback %s",
			da_clean_arg(name, sizeof(name), a->invalidate_cb_sym));
	else if (a->invalidate_cb)
		fprintf(out, ", callback %s", da_addr_str(0, a->invalidate_cb));
	else
		fprintf(out, ", callback NULL");
}

/*
 * One finding.  Every line starts with prefix (KTAP: "# "); in a report the
 * buffer line is the group's heading, so with_buffer is false there.
 */
void da_text_render_finding(FILE *out, const struct da_sink *s, const struct da_finding *f,
			    const char *prefix, bool with_buffer)
{
	int sev = (unsigned int)f->severity < DA_SEV__COUNT ? (int)f->severity : DA_SEV_INFO;
	char ts[32], comm[DA_COMM_LEN + 1] = "", sub[32], text[DA_CLEAN_MAX];
	const char *p = prefix;

	da_fmt_ts(ts, sizeof(ts), f->ts_ns);
	fprintf(out, "%s%s%-8s %s%s", p, col(s, sev_color[sev]), da_severity_name(f->severity),
		(unsigned int)f->rule < DA_RULE__COUNT ? da_rules[f->rule].name : "?",
		col(s, RESET));
	if (f->trigger)
		fprintf(out, "  at seq %" PRIu64 ", %s s\n", f->seq, ts);
	else
		fprintf(out, "  at end of trace (last seq %" PRIu64 ")\n", f->seq);
	if (f->comm || f->pid || f->tid) {
		if (f->comm)
			da_clean_str(comm, sizeof(comm), f->comm, DA_COMM_LEN);
		fprintf(out, "%s  task        %s (pid %u, tid %u)\n", p, comm[0] ? comm : "?",
			f->pid, f->tid);
	}
	if (f->cgroup.id) {
		fprintf(out, "%s  workload    ", p);
		da_text_describe_cgroup(out, &f->cgroup);
		fputc('\n', out);
	}
	if (with_buffer) {
		fprintf(out, "%s  buffer      ", p);
		describe_buffer(out, &f->buffer);
		fputc('\n', out);
	}
	if (f->has_attachment) {
		fprintf(out, "%s  attachment  ", p);
		describe_attachment(out, &f->attachment);
		fputc('\n', out);
	}
	fprintf(out, "%s  message     %s\n", p, da_clean_arg(text, sizeof(text), f->message));
	if (f->repeats)
		fprintf(out, "%s  repeats     %" PRIu64 " held back since the last report\n", p,
			f->repeats);
	if (f->n_history) {
		fprintf(out, "%s  history     oldest first%s\n", p,
			f->history_truncated ? "; older events no longer kept" : "");
		snprintf(sub, sizeof(sub), "%s    ", p);
		da_text_event_columns(out, sub);
		for (unsigned int i = 0; i < f->n_history; i++)
			da_text_event_line(out, s, sub, f->history[i]);
	}
	if (s->opts->stacks) {
		fprintf(out, "%s  stack%s\n", p, f->n_stack ? "" : "       not captured");
		for (unsigned int i = 0; i < f->n_stack; i++)
			fprintf(out, "%s      %s\n", p,
				da_clean_arg(text, sizeof(text), f->stack[i]));
	}
}

void da_text_describe_cgroup(FILE *out, const struct da_cgroup_identity *cg)
{
	const char *sep = " (";

	if (!cg->path) {
		fprintf(out, "cgroup id %" PRIu64 " (path unknown)", cg->id);
		return;
	}
	fputs(cg->path, out);
	if (cg->unit) {
		fprintf(out, "%sunit %s", sep, cg->unit);
		sep = ", ";
	}
	if (cg->container) {
		fprintf(out, "%scontainer %s", sep, cg->container);
		sep = ", ";
	}
	if (cg->pod) {
		fprintf(out, "%spod %s", sep, cg->pod);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc(')', out);
}

void da_text_describe_buffer(FILE *out, const struct da_finding_buffer *b)
{
	describe_buffer(out, b);
}

static int text_begin(struct da_sink *s)
{
	struct text_sink *t = (struct text_sink *)s;
	char kernel[sizeof(s->trace->kernel)];

	if (s->live)
		fprintf(s->out,
			"%s" DA_TOOL_NAME " " DA_VERSION "%s: kernel %s, %u of %u hooks attached;"
			" findings are printed as they happen\n\n",
			col(s, BOLD), col(s, RESET),
			s->trace->kernel[0] ?
				da_clean_arg(kernel, sizeof(kernel), s->trace->kernel) : "unknown",
			da_hooks_attached(s->trace), s->trace->n_hooks);
	else if (da_sink_store_open(s, &t->store))
		return -1;
	if (s->opts->events)
		da_text_event_columns(s->out, "");
	return 0;
}

static void text_event(struct da_sink *s, const struct da_event *ev)
{
	da_text_event_line(s->out, s, "", ev);
}

/* a finding of a report: under its buffer's heading, so without the buffer line */
static void text_render_grouped(FILE *out, const struct da_sink *s, const struct da_finding *f)
{
	da_text_render_finding(out, s, f, "  ", false);
	fputc('\n', out);
}

static void text_finding(struct da_sink *s, const struct da_finding *f)
{
	if (s->live) {
		da_text_render_finding(s->out, s, f, "", true);
		fputc('\n', s->out);
		fflush(s->out);
		return;
	}
	da_sink_store_finding(s, &((struct text_sink *)s)->store, f, text_render_grouped);
}

static void text_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
			json_t *extra)
{
	struct text_sink *t = (struct text_sink *)s;
	char *line, text[DA_CLEAN_MAX];

	if (s->live) {
		fprintf(s->out, "%snotice%s (%s): %s\n", col(s, BOLD), col(s, RESET),
			da_notice_kind_name(kind), da_clean_arg(text, sizeof(text), msg));
		return;
	}
	if (t->n_notices >= MAX_KEPT_NOTICES) {
		t->notices_dropped++;
		return;
	}
	if (asprintf(&line, "%s: %s", da_notice_kind_name(kind),
		     da_clean_arg(text, sizeof(text), msg)) < 0)
		return;
	if (!t->n_notices)
		t->notices = calloc(MAX_KEPT_NOTICES, sizeof(*t->notices));
	if (!t->notices) {
		free(line);
		t->notices_dropped++;
		return;
	}
	t->notices[t->n_notices++] = line;
}

static void report_heading(struct da_sink *s)
{
	if (s->opts->events)
		fputc('\n', s->out);
	char kernel[sizeof(s->trace->kernel)], source[sizeof(s->trace->source)];

	fprintf(s->out, "%s" DA_TOOL_NAME " " DA_VERSION " report%s: kernel %s, source %s",
		col(s, BOLD), col(s, RESET),
		s->trace->kernel[0] ? da_clean_arg(kernel, sizeof(kernel), s->trace->kernel) :
				      "unknown",
		s->trace->source[0] ? da_clean_arg(source, sizeof(source), s->trace->source) :
				      "live");
	if (s->trace->n_hooks)
		fprintf(s->out, ", %u of %u hooks attached", da_hooks_attached(s->trace),
			s->trace->n_hooks);
	fprintf(s->out, "\n\n");
}

/* "Buffer ino 7, exporter x, 4096 bytes (0x…): 2 findings" */
static void buffer_group_heading(struct da_sink *s, const struct da_store_entry *e, size_t n)
{
	const struct da_finding_buffer b = {
		.ptr = e->buf_ptr, .ino = e->buf_ino, .size = e->buf_size, .exporter = e->exporter,
	};

	if (e->buf_ptr) {
		fprintf(s->out, "%sBuffer ", col(s, BOLD));
		describe_buffer(s->out, &b);
	} else {
		fprintf(s->out, "%sNo buffer", col(s, BOLD));
	}
	fprintf(s->out, "%s: %zu finding%s\n", col(s, RESET), n, n == 1 ? "" : "s");
}

/* the findings grouped by buffer, in order of each buffer's first finding */
static void report_findings(struct text_sink *t)
{
	struct da_sink *s = &t->base;
	struct da_store *st = &t->store;
	size_t first = 0, end;

	if (!st->n)
		fprintf(s->out, "No findings.\n\n");
	da_store_sort_by_buffer(st);
	for (; first < st->n; first = end) {
		for (end = first + 1; end < st->n; end++)
			if (st->entries[end].buf_ptr != st->entries[first].buf_ptr ||
			    st->entries[end].buf_ino != st->entries[first].buf_ino)
				break;
		buffer_group_heading(s, &st->entries[first], end - first);
		for (size_t i = first; i < end; i++) {
			char *text = da_sink_store_text(s, st, &st->entries[i]);

			fputs(text ? text : "  (finding text could not be read back)\n\n", s->out);
			free(text);
		}
	}
}

static void report_notices(struct text_sink *t)
{
	struct da_sink *s = &t->base;

	if (!t->n_notices && !t->notices_dropped)
		return;
	fprintf(s->out, "%sNotices%s\n", col(s, BOLD), col(s, RESET));
	for (size_t n = 0; n < t->n_notices; n++)
		fprintf(s->out, "  %s\n", t->notices[n]);
	if (t->notices_dropped)
		fprintf(s->out, "  ... and %" PRIu64 " more notices (all of them are in"
				" --format json)\n", t->notices_dropped);
	fputc('\n', s->out);
}

void da_text_summary(FILE *out, const struct da_sink *s, const struct da_summary *sum,
		     const char *p)
{
	uint64_t total = 0;

	for (int i = 0; i < DA_SEV__COUNT; i++)
		total += sum->findings[i];
	fprintf(out, "%s%sSummary%s: %" PRIu64 " events (%" PRIu64 " lost), %" PRIu64
		     " buffers, %" PRIu64 " attachments",
		p, col(s, BOLD), col(s, RESET), sum->events, sum->lost, sum->buffers,
		sum->attachments);
	if (sum->partial)
	{
		fprintf(out, ", %" PRIu64 " partial (%" PRIu64 " first seen in mid-life, %" PRIu64
			     " alive across lost events, %" PRIu64 " seen again after eviction",
			sum->partial, sum->partial_late, sum->partial_lost, sum->partial_evicted);
		if (sum->partial_seeded)
			fprintf(out, ", %" PRIu64 " seeded at start", sum->partial_seeded);
		fputc(')', out);
	} else
		fprintf(out, ", none partial");
	if (sum->evicted)
		fprintf(out, ", %" PRIu64 " evicted from full tables", sum->evicted);
	fprintf(out, "\n%s%" PRIu64 " finding%s: ", p, total, total == 1 ? "" : "s");
	for (int sev = DA_SEV__COUNT - 1; sev >= 0; sev--)
		fprintf(out, "%s%s%" PRIu64 " %s%s", sev == DA_SEV__COUNT - 1 ? "" : ", ",
			sum->findings[sev] ? col(s, sev_color[sev]) : "", sum->findings[sev],
			da_severity_name(sev), sum->findings[sev] ? col(s, RESET) : "");
	if (sum->suppressed)
		fprintf(out, "; %" PRIu64 " suppressed by the policy's allow-list",
			sum->suppressed);
	if (sum->repeats_held)
		fprintf(out, "; %" PRIu64 " repeats held back (suppress-window)", sum->repeats_held);
	fputc('\n', out);
	for (int r = 0; r < DA_RULE__COUNT; r++)
		if (sum->by_rule[r])
			fprintf(out, "%s  %-32s %" PRIu64 "\n", p, da_rules[r].name,
				sum->by_rule[r]);
}

static int text_end(struct da_sink *s, const struct da_summary *sum)
{
	struct text_sink *t = (struct text_sink *)s;

	if (s->live) {
		fputc('\n', s->out);
	} else if (da_store_is_open(&t->store)) {
		report_heading(s);
		report_findings(t);
		report_notices(t);
	}
	da_text_summary(s->out, s, sum, "");
	return s->error ? -1 : 0;
}

static void text_free(struct da_sink *s)
{
	struct text_sink *t = (struct text_sink *)s;

	da_store_fini(&t->store);
	for (size_t i = 0; i < t->n_notices; i++)
		free(t->notices[i]);
	free(t->notices);
	free(t);
}

static const struct da_sink_ops text_ops = DA_SINK_OPS(text);

struct da_sink *da_sink_text_new(void)
{
	return da_sink_alloc(sizeof(struct text_sink), &text_ops);
}
