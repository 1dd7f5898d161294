// SPDX-License-Identifier: GPL-2.0
/*
 * The pipeline every source feeds (include/dmabuf_audit/pipeline.h): the
 * seq-gap check, the engine, the finding stage after it, and one list of
 * sinks that every output is (pipeline_priv.h): the report (--format, -o),
 * the timeline (--timeline FILE), the record (--record FILE), the service
 * log (--log journal) and the metrics file (--metrics FILE).  The figures
 * and the service tick are service_tick.c.
 *
 * Per event, with neither --events nor --record nor --timeline, the work
 * is one compare, a walk of the short sink list and the engine: no
 * allocation, no formatting.  Recording is a buffered copy and a crc32.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmabuf_audit/addr.h"
#include "outfile.h"
#include "pipeline_priv.h"

static void flush_live(struct da_pipeline *p)
{
	if (p->cfg.live)
		fflush(p->report->out);
}

/* a notice to every sink; before the start, kept until da_pipeline_begin */
static void sink_notice(struct da_pipeline *p, enum da_notice_kind kind, const char *msg,
			json_t *extra)
{
	if (!p->begun) {
		if (p->n_early < MAX_EARLY_NOTICES) {
			p->early[p->n_early].kind = kind;
			p->early[p->n_early].msg = strdup(msg);
			if (p->early[p->n_early].msg) {
				p->n_early++;
				json_decref(extra);
				return;
			}
		}
		p->early_dropped++;
		json_decref(extra);
		return;
	}
	for (unsigned int i = 0; i < p->n_sinks; i++)
		p->sinks[i]->ops->notice(p->sinks[i], kind, msg, extra);
	json_decref(extra);
	flush_live(p);
}

/* a notice to every sink, printf-style; also how a sink says something (the metrics file) */
static void notice_v(void *ctx, enum da_notice_kind kind, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	sink_notice(ctx, kind, msg, NULL);
	free(msg);
}

/*
 * A frame no symbol covers is a bare "0x…" kernel text address: shown in
 * the --addresses mode like every other pointer (the record keeps it raw).
 */
static void hide_frame_addresses(const char **frames, unsigned int n,
				 char (*bufs)[DA_ADDR_STR_LEN])
{
	unsigned long long addr;
	char *end;

	if (da_addr_get_mode() == DA_ADDR_RAW)
		return;
	for (unsigned int i = 0; i < n; i++) {
		if (strncmp(frames[i], "0x", 2))
			continue;
		addr = strtoull(frames[i] + 2, &end, 16);
		frames[i] = *end ? "?" : da_addr_fmt(bufs[i], DA_ADDR_STR_LEN, addr);
	}
}

/* ---- engine and finding stage callbacks ---- */

/* a finding the finding stage reports: its stack, then every sink */
static void on_finding(void *ctx, const struct da_finding *finding)
{
	struct da_pipeline *p = ctx;
	const char *frames[DA_STACK_DEPTH];
	char frame_addrs[DA_STACK_DEPTH][DA_ADDR_STR_LEN];
	struct da_finding f = *finding;

	if (p->opts->stacks && p->cfg.stack_resolver && f.trigger &&
	    (f.trigger->flags & DA_F_STACK)) {
		f.n_stack = da_stack_resolve(p->cfg.stack_resolver, p->cfg.stack_ctx,
					     f.trigger->stack_id, frames);
		hide_frame_addresses(frames, f.n_stack, frame_addrs);
		f.stack = frames;
	}
	for (unsigned int i = 0; i < p->n_sinks; i++)
		p->sinks[i]->ops->finding(p->sinks[i], &f);
	flush_live(p);
}

/* what the engine judged goes to the finding stage, which calls on_finding */
static void on_engine_finding(void *ctx, const struct da_finding *finding)
{
	struct da_pipeline *p = ctx;

	da_finding_stage_take(p->stage, finding);
}

static void on_notice(void *ctx, enum da_notice_kind kind, const char *message)
{
	sink_notice(ctx, kind, message, NULL);
}

/* ---- the sinks ---- */

static struct da_sink *make_sink(const struct da_pipeline_config *cfg, enum da_format format)
{
	if (cfg->no_report)
		return da_sink_null_new();
	switch (format) {
	case DA_FMT_JSON:
		return da_sink_json_new();
	case DA_FMT_KTAP:
		return da_sink_ktap_new();
	case DA_FMT_JUNIT:
		return da_sink_junit_new();
	case DA_FMT_PERFETTO:
		return da_sink_perfetto_new();
	case DA_FMT_HTML:
		return da_sink_html_new();
	case DA_FMT_TEXT:
	default:
		return da_sink_text_new();
	}
}

/*
 * Before anything is created: two outputs that are one file would lose
 * the report (issue 24), and a --metrics name that is not a regular file
 * would be replaced by the first rename.
 */
static int check_outputs(const struct da_opts *o, char *err, size_t errlen)
{
	const char *const paths[] = { o->output, o->record, o->timeline, o->metrics };
	const char *const whats[] = { "-o", "--record", "--timeline", "--metrics" };

	if (da_outfiles_distinct(paths, whats, 4, err, errlen))
		return -1;
	return o->metrics ? da_outfile_check_replaceable(o->metrics, "--metrics", err, errlen) : 0;
}

/* a sink that is not (yet) in the list, and its file */
static void drop_sink(struct da_sink *s)
{
	if (!s)
		return;
	if (s->out_owned && s->out)
		fclose(s->out);
	s->ops->free(s);
}

/* what every sink knows of the run */
static struct da_sink *add_sink(struct da_pipeline *p, struct da_sink *s, bool live)
{
	if (!s)
		return NULL;
	s->opts = p->opts;
	s->trace = p->cfg.trace;
	s->symbols = p->cfg.symbols;
	s->live = live;
	s->say = notice_v;
	s->say_ctx = p;
	p->sinks[p->n_sinks++] = s;
	return s;
}

/* the report (--format, -o): standard output or its own file */
static int open_report(struct da_pipeline *p, char *err, size_t errlen)
{
	const struct da_opts *o = p->opts;
	FILE *out = stdout;

	if (o->output && strcmp(o->output, "-")) {
		out = da_outfile_fopen(o->output, "-o", false, err, errlen);
		if (!out)
			return -1;
	}
	p->report = make_sink(&p->cfg, o->format);
	if (!p->report) {
		if (out != stdout)
			fclose(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->report->out = out;
	p->report->out_owned = out != stdout;
	p->report->what = "report";
	snprintf(p->report->out_name, sizeof(p->report->out_name), "%s",
		 out != stdout ? o->output : "standard output");
	p->report->color = o->format == DA_FMT_TEXT &&
			   (o->color > 0 || (o->color < 0 && isatty(fileno(out))));
	/* the stats record of a JSON report */
	p->report->stats_interval_s = p->cfg.stats_interval_s;
	p->report->stats_at_end = true;
	/* the report gets every event with --events (a timeline format always) */
	p->report->all_events |= o->events;
	return 0;
}

/* --timeline FILE: the Perfetto trace, with its own file */
static struct da_sink *open_timeline(struct da_pipeline *p, char *err, size_t errlen)
{
	FILE *out = da_outfile_fopen(p->opts->timeline, "--timeline", false, err, errlen);
	struct da_sink *s;

	if (!out)
		return NULL;
	s = da_sink_perfetto_new();
	if (!s) {
		fclose(out);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->out = out;
	s->out_owned = true;
	s->what = "timeline";
	snprintf(s->out_name, sizeof(s->out_name), "%s", p->opts->timeline);
	return s;
}

/*
 * Every output a sink, in the list's order: the report, the timeline, the
 * record, the service log, the metrics.  Opened in the order the options
 * name files: -o, --record, --timeline.  The service log and the metrics
 * end first: a notice about the metrics file must reach the report.
 */
static int open_sinks(struct da_pipeline *p, char *err, size_t errlen)
{
	const struct da_opts *o = p->opts;
	struct da_sink *record = NULL, *timeline = NULL, *log;

	if (check_outputs(o, err, errlen) || open_report(p, err, errlen))
		return -1;
	if (o->record) {
		record = da_sink_record_new(o->record, p->cgroups, p->cfg.stack_resolver,
					    p->cfg.stack_ctx, err, errlen);
		if (!record)
			return -1;
	}
	if (o->timeline) {
		timeline = open_timeline(p, err, errlen);
		if (!timeline) {
			drop_sink(record);
			return -1;
		}
	}
	add_sink(p, p->report, p->cfg.live);
	if (timeline)
		add_sink(p, timeline, p->cfg.live);
	if (record)
		add_sink(p, record, false);
	if (p->cfg.log) {
		log = add_sink(p, da_sink_log_new(p->cfg.log), false);
		if (!log)
			goto oom;
		log->end_first = true;
	}
	if (o->metrics) {
		p->metrics = add_sink(p, da_sink_metrics_new(o->metrics, o->metrics_interval,
							     p->cfg.metrics_best_effort), false);
		if (!p->metrics)
			goto oom;
		p->metrics->end_first = true;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static struct da_engine *make_engine(struct da_pipeline *p)
{
	const struct da_opts *o = p->opts;
	struct da_engine_config ecfg = {
		.policy = &o->policy,
		.symbols = p->cfg.symbols,
		.trace = p->cfg.trace,
		.output = { .ctx = p, .finding = on_engine_finding, .notice = on_notice },
		.max_buffers = o->max_buffers,
		.max_attachments = o->max_attachments,
		.history_len = o->history_len,
	};

	return da_engine_new(&ecfg);
}

struct da_pipeline *da_pipeline_new(const struct da_pipeline_config *cfg, char *err,
				    size_t errlen)
{
	struct da_pipeline *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->opts = cfg->opts;
	p->cfg = *cfg;
	p->trace = cfg->trace;
	p->ringbuf_fill = -1;
	p->cgroups = da_cgroups_new();
	p->stage = da_finding_stage_new(&(struct da_finding_stage_config){
		.policy = &cfg->opts->policy,
		.cgroups = p->cgroups,
		.default_suppress_window_ns = cfg->default_suppress_window_ns,
		.ctx = p,
		.report = on_finding,
	});
	if (!p->cgroups || !p->stage) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cfg->cgroup_resolver)
		da_cgroups_set_resolver(p->cgroups, cfg->cgroup_resolver, NULL);
	if (open_sinks(p, err, errlen))
		goto fail;
	p->engine = make_engine(p);
	if (!p->engine) {
		snprintf(err, errlen, "cannot create the engine: out of memory (try smaller"
				      " --max-buffers, --max-attachments or --history)");
		goto fail;
	}
	return p;

fail:
	da_pipeline_free(p);
	return NULL;
}

int da_pipeline_begin(struct da_pipeline *p)
{
	if (p->begun)
		return 0;
	p->begun = true;
	for (unsigned int i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->ops->begin(p->sinks[i]))
			return -1;
	for (unsigned int i = 0; i < p->n_early; i++) {
		sink_notice(p, p->early[i].kind, p->early[i].msg, NULL);
		free(p->early[i].msg);
	}
	p->n_early = 0;
	if (p->early_dropped)
		da_pipeline_notice(p, DA_NOTICE_INPUT, "%llu more notices before the start were"
				   " not kept", (unsigned long long)p->early_dropped);
	flush_live(p);
	return 0;
}

static void report_lost(struct da_pipeline *p, uint64_t first_seq, uint64_t count, bool gap)
{
	char msg[200];
	json_t *extra;
	/* a count past the end of the seq space (only from a bad input) ends there */
	uint64_t last = count > UINT64_MAX - first_seq ? UINT64_MAX : first_seq + count - 1;

	if (count == 1)
		snprintf(msg, sizeof(msg),
			 "1 event lost (seq %llu)%s; buffers and attachments alive"
			 " then are partial",
			 (unsigned long long)first_seq, gap ? "" : ", counted by the source");
	else
		snprintf(msg, sizeof(msg), "%llu events lost (seq %llu to %llu)%s; buffers and"
			 " attachments alive then are partial", (unsigned long long)count,
			 (unsigned long long)first_seq, (unsigned long long)last,
			 gap ? "" : ", counted by the source");
	/* first_seq/count let a JSON Lines replay apply losses that left no seq gap */
	extra = json_pack("{s:o,s:o,s:b}", "first_seq", da_json_u64(first_seq), "count",
			  da_json_u64(count), "seq_gap", gap);
	sink_notice(p, DA_NOTICE_LOST, msg, extra);
	/* after the notice, so what the engine says about it follows it */
	da_engine_lost(p->engine, first_seq, count);
}

void da_pipeline_event(struct da_pipeline *p, const struct da_event *ev)
{
	if (!p->begun)
		da_pipeline_begin(p);
	if (!p->have_seq) {
		p->have_seq = true;
	} else if (ev->seq > p->next_seq) {
		report_lost(p, p->next_seq, ev->seq - p->next_seq, true);
	} else if (ev->seq < p->next_seq && !p->order_noticed) {
		p->order_noticed = true;
		da_pipeline_notice(p, DA_NOTICE_INPUT,
				   "event seq %llu arrived after seq %llu: events out of order"
				   " (judged in arrival order)",
				   (unsigned long long)ev->seq,
				   (unsigned long long)(p->next_seq - 1));
	}
	if (ev->seq >= p->next_seq)
		p->next_seq = ev->seq + 1;
	p->events_by_op[ev->op < DA_OP__COUNT ? ev->op : DA_OP_NONE]++;

	for (unsigned int i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->all_events)
			p->sinks[i]->ops->event(p->sinks[i], ev);
	da_engine_feed(p->engine, ev);
}

void da_pipeline_events(struct da_pipeline *p, const struct da_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i + DA_ENGINE_PREFETCH_BUCKETS < n)
			da_engine_prefetch(p->engine, &evs[i + DA_ENGINE_PREFETCH_BUCKETS], false);
		if (i + DA_ENGINE_PREFETCH_ENTITIES < n)
			da_engine_prefetch(p->engine, &evs[i + DA_ENGINE_PREFETCH_ENTITIES], true);
		if (i + DA_ENGINE_PREFETCH_CHAINS < n)
			da_engine_prefetch_chains(p->engine, &evs[i + DA_ENGINE_PREFETCH_CHAINS]);
		da_pipeline_event(p, &evs[i]);
	}
}

void da_pipeline_cgroup(struct da_pipeline *p, uint64_t id, const char *path)
{
	da_cgroups_add(p->cgroups, id, path);
	for (unsigned int i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->ops->cgroup)
			p->sinks[i]->ops->cgroup(p->sinks[i], id, path);
}

void da_pipeline_lost(struct da_pipeline *p, uint64_t first_seq, uint64_t count)
{
	if (!count)
		return;
	if (!p->begun)
		da_pipeline_begin(p);
	for (unsigned int i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->ops->lost)
			p->sinks[i]->ops->lost(p->sinks[i], first_seq, count);
	report_lost(p, first_seq, count, false);
}

void da_pipeline_loss_point(struct da_pipeline *p)
{
	if (!p->begun)
		da_pipeline_begin(p);
	da_engine_loss_point(p->engine);
}

void da_pipeline_tick(struct da_pipeline *p, uint64_t now_ns)
{
	if (!p->begun)
		da_pipeline_begin(p);
	for (unsigned int i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->ops->tick)
			p->sinks[i]->ops->tick(p->sinks[i], now_ns);
	da_engine_tick(p->engine, now_ns);
	flush_live(p);
}

void da_pipeline_notice(struct da_pipeline *p, enum da_notice_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notice_v(p, kind, fmt, ap);
	va_end(ap);
}

int da_pipeline_reopen_output(struct da_pipeline *p, char *err, size_t errlen)
{
	struct da_sink *r = p->report;
	FILE *f;

	if (!r->out_owned)
		return 0;
	f = da_outfile_fopen(p->opts->output, "-o", true, err, errlen);
	if (!f) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (the report goes on in the old file)");
		return -1;
	}
	if (fclose(r->out) && !r->error)
		r->error = errno ? errno : EIO;
	r->out = f;
	return 0;
}

void da_pipeline_policy_reloaded(struct da_pipeline *p)
{
	da_engine_policy_reloaded(p->engine);
}

int da_pipeline_end(struct da_pipeline *p, int *max_severity)
{
	struct da_summary sum;
	struct da_stats st;
	bool failed = false;

	*max_severity = da_finding_stage_counts(p->stage)->max_severity;
	if (p->ended)
		return p->write_failed ? -1 : 0;
	if (!p->begun)
		da_pipeline_begin(p);
	p->ended = true;
	da_engine_finish(p->engine);
	da_pipeline_summary(p, &sum);
	da_pipeline_final_stats(p, &st);
	for (int first = 1; first >= 0; first--) {
		for (unsigned int i = 0; i < p->n_sinks; i++) {
			struct da_sink *s = p->sinks[i];

			if (s->end_first != first)
				continue;
			s->stats = &st;
			if (da_sink_end(s, &sum))
				failed = true;
			s->stats = NULL;
		}
	}
	p->write_failed = failed;
	*max_severity = da_finding_stage_counts(p->stage)->max_severity;
	return failed ? -1 : 0;
}

void da_pipeline_free(struct da_pipeline *p)
{
	if (!p)
		return;
	if (p->engine)
		da_engine_free(p->engine);
	for (unsigned int i = 0; i < p->n_sinks; i++) {
		if (p->sinks[i] == p->report)
			p->report = NULL;
		drop_sink(p->sinks[i]);
	}
	/* a report made before another output failed to open */
	drop_sink(p->report);
	da_finding_stage_free(p->stage);
	for (unsigned int i = 0; i < p->n_early; i++)
		free(p->early[i].msg);
	da_cgroups_free(p->cgroups);
	free(p);
}
