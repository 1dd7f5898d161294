// SPDX-License-Identifier: GPL-2.0
/*
 * --format html: one self-contained page (no script, no font, nothing
 * fetched) for a CI artifact or a mail: the summary, the findings with their
 * severity and rule, and for each buffer with a finding (every buffer with
 * --all-buffers) an SVG timeline of its history drawn from the same layout
 * as the Perfetto trace (timeline.c).  Written at the end of the run.
 *
 * The x axis of a timeline is the order of the buffer's events, one step
 * each, not time: a revoke story of a few events stays readable next to a
 * burst of thousands of maps, and times are in every element's tooltip.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/rules.h"
#include "sink.h"
#include "timeline.h"

#define LABEL_W 300	/* px: the track names */
#define STEP_W 16	/* px per event */
#define ROW_H 22	/* px per track */
/* a short history gets wider steps and the ops written under the events */
#define LABELLED_MAX_STEPS 40
#define LABELLED_STEP_W 84
#define LABELLED_ROW_H 46
#define AXIS_H 18
#define MIN_PLOT_W 600

static const char *const sev_colors[DA_SEV__COUNT] = {
	[DA_SEV_INFO] = "#1971c2",
	[DA_SEV_WARNING] = "#e6a700",
	[DA_SEV_HIGH] = "#d9480f",
	[DA_SEV_CRITICAL] = "#b00020",
};

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em}h2{font-size:1.2em;margin-top:1.5em}h3{font-size:1em}"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
	"text-align:left;vertical-align:top}th{background:#f3f3f3}"
	".sev{color:#fff;padding:1px 6px;border-radius:3px;font-weight:bold}"
	".rule-text{color:#555;font-size:12px}.none{color:#2b8a3e;font-weight:bold}"
	".truncated{background:#fff3bf;padding:6px;border:1px solid #e6a700}"
	".tl{overflow-x:auto;border:1px solid #ddd;margin-bottom:1em}"
	"svg text{font:11px monospace;fill:#333}svg text.op{font-size:9px;fill:#555}"
	".s-scope{fill:#d0bfff;stroke:#7048e8}.s-fence{fill:#b2f2bb;stroke:#2b8a3e}"
	".s-map{fill:#a5d8ff;stroke:#1971c2}.s-pin{fill:#ffd8a8;stroke:#e8590c}"
	".s-lost{fill:#dee2e6;stroke:#868e96}"
	".ev{fill:#495057}.ev-invalidate{fill:#e03131}.ev-fence_wait{fill:#2b8a3e}"
	".ev-map,.ev-unmap{fill:#1971c2}.ev-pin,.ev-unpin{fill:#e8590c}"
	".ev-scope_enter,.ev-scope_exit{fill:#7048e8}"
	".flow{stroke:#b00020;stroke-dasharray:3 2;fill:none}"
	".gap{fill:#adb5bd;opacity:.35}.stripe{fill:#f8f9fa}\n";

/* text for HTML and SVG: markup escaped; control and non-ASCII bytes as '?' */
static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			fputs("&amp;", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c < 0x20 || c >= 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

/* the heading anchor docs/rules.md has for the rule: "### `rule` — severity" */
static void rule_link(FILE *out, const struct da_rule_info *r)
{
	fprintf(out, "<a href=\"docs/rules.md#%s--%s\">%s</a>", r->name,
		da_severity_name(r->severity), r->name);
}

static void buffer_text(FILE *out, const struct tl_finding *f)
{
	if (!f->buf) {
		fputs("none", out);
		return;
	}
	if (f->ino)
		fprintf(out, "ino %" PRIu64 " ", f->ino);
	esc(out, f->exporter[0] ? f->exporter : "exporter unknown");
	fprintf(out, " (%s)", da_addr_str(0, f->buf));
}

static void finding_row(FILE *out, const struct tl_finding *f, long proc)
{
	const struct da_rule_info *r = &da_rules[f->rule % DA_RULE__COUNT];
	char ts[32];

	fprintf(out, "<tr class=\"finding\" data-rule=\"%s\" data-buffer=\"%s\">"
		"<td><span class=\"sev\" style=\"background:%s\">%s</span></td><td>", r->name,
		da_addr_str(0, f->buf), sev_colors[f->severity % DA_SEV__COUNT], da_severity_name(f->severity));
	rule_link(out, r);
	fputs("<div class=\"rule-text\">", out);
	esc(out, r->summary);
	fputs("</div></td><td>", out);
	buffer_text(out, f);
	fputs("</td><td>", out);
	if (f->has_attach) {
		fprintf(out, "%s ", da_addr_str(0, f->attach));
		esc(out, f->dev[0] ? f->dev : "device unknown");
	}
	fputs("</td><td>", out);
	if (f->pid || f->tid) {
		esc(out, f->comm[0] ? f->comm : "?");
		fprintf(out, " (pid %u, tid %u)", f->pid, f->tid);
	}
	if (f->workload) {
		fputs("<div class=\"workload\">", out);
		esc(out, f->workload);
		fputs("</div>", out);
	}
	da_fmt_ts(ts, sizeof(ts), f->ts_ns);
	if (f->has_trigger)
		fprintf(out, "</td><td>%" PRIu64 "<br>%s s</td><td>", f->seq, ts);
	else
		fprintf(out, "</td><td>end of trace</td><td>");
	esc(out, f->message);
	if (proc > 0)
		fprintf(out, " <a href=\"#buffer-%ld\">timeline</a>", proc);
	fputs("</td></tr>\n", out);
}

/* one row of names, one of numbers: the summary stays one line high */
static void write_summary(FILE *out, const struct da_sink *s, const struct da_summary *sum)
{
	static const char *const names[] = { "events", "lost", "buffers", "attachments",
					     "partial" };
	const uint64_t values[] = { sum->events, sum->lost, sum->buffers, sum->attachments,
				    sum->partial };

	fputs("<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\"><tr>", out);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fprintf(out, "<th>%s</th>", names[i]);
	for (int sev = DA_SEV__COUNT - 1; sev >= 0; sev--)
		fprintf(out, "<th>%s</th>", da_severity_name(sev));
	fputs("<th>suppressed</th></tr>\n<tr>", out);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		fprintf(out, "<td>%" PRIu64 "</td>", values[i]);
	for (int sev = DA_SEV__COUNT - 1; sev >= 0; sev--)
		fprintf(out, "<td%s%s%s>%" PRIu64 "</td>",
			sum->findings[sev] ? " style=\"color:" : "",
			sum->findings[sev] ? sev_colors[sev] : "", sum->findings[sev] ? "\"" : "",
			sum->findings[sev]);
	fprintf(out, "<td>%" PRIu64 "</td></tr></table>\n", sum->suppressed);
}

static void write_findings(FILE *out, const struct da_timeline *tl, const struct tl_layout *l)
{
	long *proc = calloc(tl->n_findings + 1, sizeof(*proc));

	fprintf(out, "<h2 id=\"findings\">Findings</h2>\n");
	/* the buffer each finding is drawn in, for its link */
	for (size_t i = 0; proc && i < l->n_items; i++)
		if (l->items[i].kind == TL_FINDING)
			proc[l->items[i].finding] = (long)l->tracks[l->items[i].track].proc;
	if (!tl->n_findings) {
		fputs("<p class=\"none\">No findings.</p>\n", out);
		free(proc);
		return;
	}
	fputs("<table class=\"findings\"><tr><th>severity</th><th>rule</th><th>buffer</th>"
	      "<th>attachment</th><th>task</th><th>seq, time</th><th>message</th></tr>\n", out);
	for (size_t i = 0; i < tl->n_findings; i++)
		finding_row(out, &tl->findings[i], proc ? proc[i] : 0);
	fputs("</table>\n", out);
	free(proc);
	if (tl->dropped_findings)
		fprintf(out, "<p class=\"truncated\">%" PRIu64 " more findings are not shown (at"
			" most %d are kept; all are in --format json).</p>\n",
			tl->dropped_findings, DA_TIMELINE_MAX_FINDINGS);
}

/* ---- one buffer's timeline ---- */

/* the layout's items, flows and tracks grouped by buffer (process), made once */
struct groups {
	size_t *items;		/* item indexes, by process */
	size_t *item_start;	/* per process: its first in items; [n_procs] = the end */
	size_t *flows;		/* flow indexes, by the process of the finding */
	size_t *flow_start;
	size_t *marks;		/* the marks (gaps, truncation), drawn in every picture */
	size_t n_marks;
};

struct picture {
	const struct tl_layout *l;
	const struct da_timeline *tl;
	const struct da_sink *s;
	const struct groups *g;
	FILE *out;
	unsigned int proc;
	int *row;		/* per track: its row in this picture, -1 when not in it */
	size_t *steps;		/* the orders of the buffer's items, sorted, unique */
	size_t n_steps;
	size_t *tracks;		/* the buffer's tracks */
	size_t n_tracks;
	bool labels;		/* op names under the events */
	int step, row_h;	/* px */
};

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static size_t sort_unique(size_t *v, size_t n)
{
	size_t u = 0;

	qsort(v, n, sizeof(*v), cmp_size);
	for (size_t i = 0; i < n; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	return u;
}

/* x of an order: the step of the first of the buffer's orders at or after it */
static long xpos(const struct picture *p, size_t order)
{
	size_t lo = 0, hi = p->n_steps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->steps[mid] < order)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && lo == p->n_steps)
		lo--;	/* open at the end: up to the last event */
	return LABEL_W + p->step / 2 + (long)lo * p->step;
}

static long ypos(const struct picture *p, unsigned int track)
{
	return AXIS_H + (long)p->row[track] * p->row_h;
}

static void tooltip_times(FILE *out, const struct tl_item *it)
{
	char a[32], b[32];

	da_fmt_ts(a, sizeof(a), it->ts);
	da_fmt_ts(b, sizeof(b), it->ts + it->dur);
	fprintf(out, "%s s to %s s (%" PRIu64 ".%03" PRIu64 " us)", a, b, it->dur / 1000,
		it->dur % 1000);
}

static void draw_slice(const struct picture *p, const struct tl_item *it)
{
	static const char *const cls[] = {
		[TL_S_SCOPE] = "s-scope", [TL_S_FENCE] = "s-fence", [TL_S_MAP] = "s-map",
		[TL_S_PIN] = "s-pin", [TL_S_LOST] = "s-lost",
	};
	long x0 = xpos(p, it->order) - p->step / 2 + 1;
	long x1 = xpos(p, it->end_order) + p->step / 2 - 1;
	/* a fence wait is inside its task's revoke scope, on the same row: drawn inset */
	int inset = it->slice == TL_S_FENCE ? 7 : 3;

	fprintf(p->out, "<rect class=\"%s\" x=\"%ld\" y=\"%ld\" width=\"%ld\" height=\"%d\""
		" rx=\"3\"><title>", cls[it->slice], x0, ypos(p, it->track) + inset, x1 - x0,
		p->row_h - 2 * inset);
	esc(p->out, it->name);
	fputs(": ", p->out);
	tooltip_times(p->out, it);
	fputs("</title></rect>\n", p->out);
	if (p->labels && x1 - x0 > 60) {
		fprintf(p->out, "<text class=\"op\" x=\"%ld\" y=\"%ld\">", x0 + 4,
			ypos(p, it->track) + p->row_h - 5);
		esc(p->out, it->name);
		fputs("</text>\n", p->out);
	}
}

static void draw_instant(const struct picture *p, const struct tl_item *it)
{
	const struct da_event *ev = &p->tl->events[it->ev];
	char details[512], ts[32];

	da_event_details(details, sizeof(details), ev, p->s->symbols, p->s->trace);
	da_fmt_ts(ts, sizeof(ts), ev->ts_ns);
	fprintf(p->out, "<circle class=\"ev ev-%s\" cx=\"%ld\" cy=\"%ld\" r=\"5\"><title>seq %"
		PRIu64 " at %s s, %s: ", da_op_name(ev->op), xpos(p, it->order),
		ypos(p, it->track) + 11, (uint64_t)ev->seq, ts, da_op_name(ev->op));
	esc(p->out, details);
	fputs("</title></circle>\n", p->out);
	if (p->labels)
		fprintf(p->out, "<text class=\"op\" x=\"%ld\" y=\"%ld\" text-anchor=\"middle\">%s"
			"</text>\n", xpos(p, it->order), ypos(p, it->track) + 28,
			da_op_name(ev->op));
}

static void draw_finding(const struct picture *p, const struct tl_item *it)
{
	const struct tl_finding *f = &p->tl->findings[it->finding];
	long x = xpos(p, it->order), y = ypos(p, it->track) + 3;

	fprintf(p->out, "<path class=\"finding-mark\" fill=\"%s\" d=\"M%ld %ldl-7 14h14z\"><title>",
		sev_colors[f->severity % DA_SEV__COUNT], x, y);
	esc(p->out, da_rules[f->rule % DA_RULE__COUNT].name);
	fputs(": ", p->out);
	esc(p->out, f->message);
	fputs("</title></path>\n", p->out);
}

/* lost-event gaps and the truncation: bands across the whole picture */
static void draw_marks(const struct picture *p, long height)
{
	for (size_t m = 0; m < p->g->n_marks && p->n_steps; m++) {
		const struct tl_item *it = &p->l->items[p->g->marks[m]];

		if (it->order < p->steps[0] || it->order > p->steps[p->n_steps - 1])
			continue;
		fprintf(p->out, "<rect class=\"gap\" x=\"%ld\" y=\"0\" width=\"%d\" height=\"%ld\">"
			"<title>", xpos(p, it->order) - p->step / 2, p->step / 2, height);
		esc(p->out, it->name);
		fputs("</title></rect>\n", p->out);
	}
}

/* a dashed line from each event the finding's evidence names (in this buffer) to it */
static void draw_flows(const struct picture *p)
{
	const struct tl_layout *l = p->l;

	for (size_t k = p->g->flow_start[p->proc]; k < p->g->flow_start[p->proc + 1]; k++) {
		const struct tl_flow *fl = &l->flows[p->g->flows[k]];
		const struct tl_item *a = &l->items[fl->from], *b = &l->items[fl->to];

		if (l->tracks[a->track].proc != p->proc)
			continue;
		fprintf(p->out,
			"<line class=\"flow\" x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\"/>\n",
			xpos(p, a->order), ypos(p, a->track) + 11, xpos(p, b->order),
			ypos(p, b->track) + 10);
	}
}

static void draw_rows(const struct picture *p, long width)
{
	for (size_t i = 0; i < p->n_tracks; i++) {
		unsigned int t = (unsigned int)p->tracks[i];

		if (p->row[t] % 2)
			fprintf(p->out, "<rect class=\"stripe\" x=\"0\" y=\"%ld\" width=\"%ld\""
				" height=\"%d\"/>\n", ypos(p, t), width, p->row_h);
		fprintf(p->out, "<text x=\"4\" y=\"%ld\">", ypos(p, t) + 15);
		esc(p->out, p->l->tracks[t].name);
		fputs("</text>\n", p->out);
	}
	fprintf(p->out, "<text x=\"%d\" y=\"12\">events in order, one step each; times in the"
		" tooltips</text>\n", LABEL_W);
}

/* the picture's rows (findings first) and the buffer's steps; the number of rows */
static int picture_setup(struct picture *p)
{
	const struct tl_layout *l = p->l;
	size_t first = p->g->item_start[p->proc], n = p->g->item_start[p->proc + 1] - first;
	int rows = 0;

	p->n_steps = 0;
	p->n_tracks = 0;
	for (size_t i = first; i < first + n; i++) {
		const struct tl_item *it = &l->items[p->g->items[i]];

		p->steps[p->n_steps++] = it->order;
		if (it->kind == TL_SLICE)
			p->steps[p->n_steps++] = it->end_order;
		p->tracks[p->n_tracks++] = it->track;
	}
	p->n_steps = sort_unique(p->steps, p->n_steps);
	p->n_tracks = sort_unique(p->tracks, p->n_tracks);
	for (size_t i = 0; i < p->n_tracks; i++)
		if (!strcmp(l->tracks[p->tracks[i]].name, "findings"))
			p->row[p->tracks[i]] = rows++;
	for (size_t i = 0; i < p->n_tracks; i++)
		if (p->row[p->tracks[i]] < 0)
			p->row[p->tracks[i]] = rows++;
	return rows;
}

static void draw_buffer(struct picture *p)
{
	const struct tl_layout *l = p->l;
	size_t first = p->g->item_start[p->proc], end = p->g->item_start[p->proc + 1];
	int rows = picture_setup(p);
	long width, height;

	p->labels = p->n_steps <= LABELLED_MAX_STEPS;
	p->step = p->labels ? LABELLED_STEP_W : STEP_W;
	p->row_h = p->labels ? LABELLED_ROW_H : ROW_H;
	width = LABEL_W + (long)p->n_steps * p->step + p->step;
	height = AXIS_H + (long)rows * p->row_h;

	if (width < LABEL_W + MIN_PLOT_W)
		width = LABEL_W + MIN_PLOT_W;
	fprintf(p->out, "<h3 id=\"buffer-%u\">", p->proc);
	esc(p->out, l->procs[p->proc].name);
	fprintf(p->out, "</h3>\n<div class=\"tl\"><svg width=\"%ld\" height=\"%ld\">\n", width,
		height);
	draw_rows(p, width);
	draw_marks(p, height);
	/* slices under the events and findings drawn on them; scopes under what they hold */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = first; i < end; i++) {
			const struct tl_item *it = &l->items[p->g->items[i]];

			if (it->kind == TL_SLICE && (it->slice == TL_S_SCOPE) == !pass)
				draw_slice(p, it);
		}
	for (size_t i = first; i < end; i++) {
		const struct tl_item *it = &l->items[p->g->items[i]];

		if (it->kind == TL_INSTANT)
			draw_instant(p, it);
		else if (it->kind == TL_FINDING)
			draw_finding(p, it);
	}
	draw_flows(p);
	fputs("</svg></div>\n", p->out);
	for (size_t i = 0; i < p->n_tracks; i++)
		p->row[p->tracks[i]] = -1;
}

/* a counting sort of n things by process: starts[] gets n_procs + 1 offsets */
static void group_by_proc(size_t n, size_t n_procs, size_t *out, size_t *starts,
			  unsigned int (*proc_of)(const struct tl_layout *, size_t),
			  const struct tl_layout *l)
{
	memset(starts, 0, (n_procs + 1) * sizeof(*starts));
	for (size_t i = 0; i < n; i++)
		starts[proc_of(l, i) + 1]++;
	for (size_t p = 0; p < n_procs; p++)
		starts[p + 1] += starts[p];
	for (size_t i = 0; i < n; i++)
		out[starts[proc_of(l, i)]++] = i;
	memmove(starts + 1, starts, n_procs * sizeof(*starts));
	starts[0] = 0;
}

static unsigned int item_proc(const struct tl_layout *l, size_t i)
{
	return l->tracks[l->items[i].track].proc;
}

static unsigned int flow_proc(const struct tl_layout *l, size_t i)
{
	return l->tracks[l->items[l->flows[i].to].track].proc;
}

static int make_groups(const struct tl_layout *l, struct groups *g)
{
	g->items = malloc((l->n_items + 1) * sizeof(size_t));
	g->item_start = malloc((l->n_procs + 1) * sizeof(size_t));
	g->flows = malloc((l->n_flows + 1) * sizeof(size_t));
	g->flow_start = malloc((l->n_procs + 1) * sizeof(size_t));
	g->marks = malloc((l->n_items + 1) * sizeof(size_t));
	if (!g->items || !g->item_start || !g->flows || !g->flow_start || !g->marks)
		return -1;
	group_by_proc(l->n_items, l->n_procs, g->items, g->item_start, item_proc, l);
	group_by_proc(l->n_flows, l->n_procs, g->flows, g->flow_start, flow_proc, l);
	g->n_marks = 0;
	for (size_t i = 0; i < l->n_items; i++)
		if (l->items[i].kind == TL_MARK)
			g->marks[g->n_marks++] = i;
	return 0;
}

static void free_groups(struct groups *g)
{
	free(g->items);
	free(g->item_start);
	free(g->flows);
	free(g->flow_start);
	free(g->marks);
}

static int draw_buffers(struct da_sink *s, const struct da_timeline *tl,
			const struct tl_layout *l, const struct groups *g)
{
	struct picture p = { .l = l, .tl = tl, .s = s, .g = g, .out = s->out };
	size_t drawn = 0;

	p.row = malloc((l->n_tracks + 1) * sizeof(*p.row));
	p.steps = malloc((2 * l->n_items + 1) * sizeof(*p.steps));
	p.tracks = malloc((l->n_items + 1) * sizeof(*p.tracks));
	if (!p.row || !p.steps || !p.tracks) {
		free(p.row);
		free(p.steps);
		free(p.tracks);
		return -1;
	}
	for (size_t t = 0; t < l->n_tracks; t++)
		p.row[t] = -1;
	for (p.proc = 1; p.proc < l->n_procs; p.proc++) {
		if (!l->procs[p.proc].n_findings && !s->opts->all_buffers)
			continue;
		draw_buffer(&p);
		drawn++;
	}
	if (!drawn)
		fprintf(s->out, "<p>No buffer to draw%s.</p>\n",
			s->opts->all_buffers ? "" : " (only buffers with findings are drawn;"
						    " --all-buffers draws every buffer)");
	free(p.row);
	free(p.steps);
	free(p.tracks);
	return 0;
}

static int write_timelines(struct da_sink *s, const struct da_timeline *tl,
			   const struct tl_layout *l)
{
	struct groups g = { 0 };
	int ret = -1;

	fputs("<h2 id=\"timelines\">Timelines</h2>\n", s->out);
	if (tl->dropped_events)
		fprintf(s->out,
			"<p class=\"truncated\">Truncated: only the first %d events are kept"
			" and drawn; %" PRIu64 " later events (seq %" PRIu64 " on) are not.</p>\n",
			DA_TIMELINE_MAX_EVENTS, tl->dropped_events, tl->first_dropped_seq);
	if (!make_groups(l, &g))
		ret = draw_buffers(s, tl, l, &g);
	free_groups(&g);
	return ret;
}

static void write_notices(FILE *out, const struct da_timeline *tl)
{
	if (!tl->n_notices)
		return;
	fputs("<h2 id=\"notices\">Notices</h2>\n<ul>\n", out);
	for (size_t i = 0; i < tl->n_notices; i++) {
		fputs("<li>", out);
		esc(out, tl->notices[i]);
		fputs("</li>\n", out);
	}
	if (tl->dropped_notices)
		fprintf(out, "<li>... and %" PRIu64 " more (all are in --format json)</li>\n",
			tl->dropped_notices);
	fputs("</ul>\n", out);
}

static int html_end(struct da_sink *s, const struct da_summary *sum)
{
	struct da_timeline *tl = &((struct da_tl_sink *)s)->tl;
	struct tl_layout l;

	if (s->error)
		return -1;
	if (da_timeline_layout(tl, s->trace, &l)) {
		s->error = errno ? errno : ENOMEM;
		return -1;
	}
	fprintf(s->out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>dmabuf-audit report</title><style>%s</style></head><body>\n"
		"<h1>dmabuf-audit report</h1>\n<p>" DA_TOOL_NAME " " DA_VERSION ", kernel ", style);
	esc(s->out, s->trace->kernel[0] ? s->trace->kernel : "unknown");
	fputs(", source ", s->out);
	esc(s->out, s->trace->source[0] ? s->trace->source : "live");
	fputs("</p>\n", s->out);
	write_summary(s->out, s, sum);
	write_findings(s->out, tl, &l);
	if (write_timelines(s, tl, &l) && !s->error)
		s->error = ENOMEM;
	write_notices(s->out, tl);
	fputs("</body></html>\n", s->out);
	da_timeline_layout_free(&l);
	if (ferror(s->out) && !s->error)
		s->error = errno ? errno : EIO;
	return s->error ? -1 : 0;
}

static const struct da_sink_ops html_ops = DA_TL_SINK_OPS(html_end);

struct da_sink *da_sink_html_new(void)
{
	return da_tl_sink_new(&html_ops);
}
