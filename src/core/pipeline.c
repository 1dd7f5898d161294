// SPDX-License-Identifier: GPL-2.0
/*
 * The pipeline every source feeds (include/dmabuf_audit/pipeline.h): the
 * seq-gap check, the event printer (--events), the recorder (--record),
 * the engine, and the report sink (--format, -o) that the engine's findings
 * and notices go to; with --timeline FILE a second sink, the Perfetto
 * trace, gets every event, finding and notice too.
 *
 * Per event, with neither --events nor --record, the work is one compare
 * and the engine: no allocation, no formatting.  Recording is a buffered
 * copy and a crc32.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/pipeline.h"
#include "dmabuf_audit/record.h"
#include "outfile.h"
#include "sink.h"

#define MAX_STACK_FRAMES DA_STACK_DEPTH
#define MAX_EARLY_NOTICES 256

/* a set of 64-bit keys (symbol addresses, stack ids already recorded) */
struct u64set {
	uint64_t *slots;	/* 0 = empty; keys are stored + 1 */
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

struct early_notice {
	enum da_notice_kind kind;
	char *msg;
};

struct da_pipeline {
	const struct da_opts *opts;
	struct da_pipeline_config cfg;
	struct da_trace_info *trace;

	FILE *out;
	bool out_owned;
	char out_name[256];

	struct da_engine *engine;
	struct da_sink *sink;
	/* --timeline FILE: a Perfetto trace next to the report */
	struct da_sink *timeline;
	FILE *timeline_out;

	struct da_record_writer *rec;
	struct u64set rec_symbols;	/* addresses whose SYMBOL record is written */
	struct u64set rec_stacks;	/* stack ids whose STACK record is written */
	unsigned int rec_scopes;	/* scope slots named in the record so far */
	/* the workloads of events: resolved live, or from a trace's CGROUP records */
	struct da_cgroups *cgroups;
	bool rec_failed;

	bool begun, ended;
	bool have_seq;
	uint64_t next_seq;
	bool order_noticed;
	bool write_failed;		/* da_pipeline_end could not write an output */

	struct early_notice early[MAX_EARLY_NOTICES];
	unsigned int n_early;
	uint64_t early_dropped;

	/* rule switch, allow-list, severity, counts, repeats: what reaches the sinks */
	struct da_finding_stage *stage;

	/* service (include/dmabuf_audit/service.h) */
	struct da_sink log_text;	/* how the log renders text: the report's, no colour */
	uint64_t events_by_op[DA_OP__COUNT];
	double ringbuf_fill;
	uint64_t next_stats_ns, next_metrics_ns;
	char metrics_error[512];	/* the last one said, not repeated every interval */
};

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
	p->sink->ops->notice(p->sink, kind, msg, extra);
	if (p->timeline)
		p->timeline->ops->notice(p->timeline, kind, msg, extra);
	if (p->cfg.log)
		p->cfg.log->notice(p->cfg.log->ctx, kind, msg);
	json_decref(extra);
	if (p->cfg.live)
		fflush(p->out);
}

/* ---- stacks ---- */

/* n characters of class `digit` (hex or decimal) at s, then the end of the name */
static bool name_tail(const char *s, size_t min, size_t max, bool hex, const char *ends)
{
	size_t n = 0;

	while (hex ? isxdigit((unsigned char)s[n]) : isdigit((unsigned char)s[n]))
		n++;
	return n >= min && n <= max && (!s[n] || strchr(ends, s[n]));
}

/*
 * kallsyms names our programs "bpf_prog_<16 hex tag>_<name>" and their
 * trampolines "bpf_trampoline_<key>": exactly those, not the kernel's own
 * bpf_prog_*() functions.
 */
static bool tracer_frame(const char *frame)
{
	if (!strncmp(frame, "bpf_prog_", 9))
		return name_tail(frame + 9, 16, 16, true, "_+");
	if (!strncmp(frame, "bpf_trampoline_", 15))
		return name_tail(frame + 15, 1, 20, false, "+");
	return false;
}

unsigned int da_stack_drop_tracer_frames(const char **frames, unsigned int n)
{
	unsigned int skip = 0;

	while (skip < n && tracer_frame(frames[skip]))
		skip++;
	memmove(frames, frames + skip, (n - skip) * sizeof(*frames));
	return n - skip;
}

/* the frames of a stack the tracer took, without the tracer's own */
static unsigned int resolve_stack(struct da_pipeline *p, int32_t stack_id, const char **frames)
{
	unsigned int n =
		p->cfg.stack_resolver(p->cfg.stack_ctx, stack_id, frames, MAX_STACK_FRAMES);

	return da_stack_drop_tracer_frames(frames, n);
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

/* ---- engine callbacks ---- */

/* the finding's report with its history, as the text report has it, for the log */
static void log_finding(struct da_pipeline *p, const struct da_finding *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem) {
		da_text_render_finding(mem, &p->log_text, f, "", true);
		if (fclose(mem))
			len = 0;
	}
	/* out of memory: the structured fields still go, with the one-line message */
	p->cfg.log->finding(p->cfg.log->ctx, f, text && len ? text : f->message, f->repeats);
	free(text);
}

/* a finding the finding stage reports: its stack, then every sink */
static void on_finding(void *ctx, const struct da_finding *finding)
{
	struct da_pipeline *p = ctx;
	const char *frames[MAX_STACK_FRAMES];
	char frame_addrs[MAX_STACK_FRAMES][DA_ADDR_STR_LEN];
	struct da_finding f = *finding;

	if (p->opts->stacks && p->cfg.stack_resolver && f.trigger &&
	    (f.trigger->flags & DA_F_STACK)) {
		f.n_stack = resolve_stack(p, f.trigger->stack_id, frames);
		hide_frame_addresses(frames, f.n_stack, frame_addrs);
		f.stack = frames;
	}
	p->sink->ops->finding(p->sink, &f);
	if (p->timeline)
		p->timeline->ops->finding(p->timeline, &f);
	if (p->cfg.log)
		log_finding(p, &f);
	if (p->cfg.live)
		fflush(p->out);
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

/* ---- life cycle ---- */

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

/* --timeline FILE: a second sink, the Perfetto trace, with its own file */
static int open_timeline(struct da_pipeline *p, char *err, size_t errlen)
{
	p->timeline_out = da_outfile_fopen(p->opts->timeline, "--timeline", false, err, errlen);
	if (!p->timeline_out)
		return -1;
	p->timeline = da_sink_perfetto_new();
	if (!p->timeline) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->timeline->out = p->timeline_out;
	p->timeline->opts = p->opts;
	p->timeline->trace = p->cfg.trace;
	p->timeline->symbols = p->cfg.symbols;
	p->timeline->live = p->cfg.live;
	return 0;
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

struct da_pipeline *da_pipeline_new(const struct da_pipeline_config *cfg, char *err,
				    size_t errlen)
{
	struct da_pipeline *p = calloc(1, sizeof(*p));
	struct da_engine_config ecfg = { 0 };
	const struct da_opts *o = cfg->opts;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->opts = o;
	p->cfg = *cfg;
	p->cgroups = da_cgroups_new();
	if (!p->cgroups) {
		snprintf(err, errlen, "out of memory");
		free(p);
		return NULL;
	}
	if (cfg->cgroup_resolver)
		da_cgroups_set_resolver(p->cgroups, cfg->cgroup_resolver, NULL);
	p->trace = cfg->trace;
	p->ringbuf_fill = -1;
	p->stage = da_finding_stage_new(&(struct da_finding_stage_config){
		.policy = &o->policy,
		.cgroups = p->cgroups,
		.default_suppress_window_ns = cfg->default_suppress_window_ns,
		.ctx = p,
		.report = on_finding,
	});
	if (!p->stage) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	if (check_outputs(o, err, errlen))
		goto fail;
	if (o->output && strcmp(o->output, "-")) {
		p->out = da_outfile_fopen(o->output, "-o", false, err, errlen);
		if (!p->out)
			goto fail;
		p->out_owned = true;
		snprintf(p->out_name, sizeof(p->out_name), "%s", o->output);
	} else {
		p->out = stdout;
		snprintf(p->out_name, sizeof(p->out_name), "standard output");
	}

	if (o->record) {
		p->rec = da_record_writer_open(o->record, err, errlen);
		if (!p->rec)
			goto fail;
	}

	p->sink = make_sink(cfg, o->format);
	if (!p->sink) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->sink->out = p->out;
	p->sink->opts = o;
	p->sink->trace = cfg->trace;
	p->sink->symbols = cfg->symbols;
	p->sink->live = cfg->live;
	p->sink->color = o->format == DA_FMT_TEXT &&
			 (o->color > 0 || (o->color < 0 && isatty(fileno(p->out))));
	if (o->timeline && open_timeline(p, err, errlen))
		goto fail;
	p->log_text.opts = o;
	p->log_text.trace = cfg->trace;
	p->log_text.symbols = cfg->symbols;

	ecfg.policy = &o->policy;
	ecfg.symbols = cfg->symbols;
	ecfg.trace = cfg->trace;
	ecfg.output.ctx = p;
	ecfg.output.finding = on_engine_finding;
	ecfg.output.notice = on_notice;
	ecfg.max_buffers = o->max_buffers;
	ecfg.max_attachments = o->max_attachments;
	ecfg.history_len = o->history_len;
	p->engine = da_engine_new(&ecfg);
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

static void record_failed(struct da_pipeline *p)
{
	/* the error itself is reported once, at the end, by da_record_writer_close */
	p->rec_failed = true;
}

/* name scope slots added to the trace after the header was written */
static void record_new_scopes(struct da_pipeline *p)
{
	while (p->rec_scopes < p->trace->n_scopes && p->rec_scopes < DA_MAX_SCOPES) {
		if (da_record_write_scope(p->rec, p->rec_scopes,
					  p->trace->scope_names[p->rec_scopes]))
			record_failed(p);
		p->rec_scopes++;
	}
}

int da_pipeline_begin(struct da_pipeline *p)
{
	if (p->begun)
		return 0;
	p->begun = true;
	if (p->rec) {
		if (da_record_write_header(p->rec, p->trace))
			record_failed(p);
		p->rec_scopes = p->trace->n_scopes;
	}
	if (p->sink->ops->begin(p->sink))
		return -1;
	if (p->timeline && p->timeline->ops->begin(p->timeline))
		return -1;
	for (unsigned int i = 0; i < p->n_early; i++) {
		sink_notice(p, p->early[i].kind, p->early[i].msg, NULL);
		free(p->early[i].msg);
	}
	p->n_early = 0;
	if (p->early_dropped)
		da_pipeline_notice(p, DA_NOTICE_INPUT, "%llu more notices before the start were"
				   " not kept", (unsigned long long)p->early_dropped);
	if (p->cfg.live)
		fflush(p->out);
	return 0;
}

static void record_symbol(struct da_pipeline *p, uint64_t addr)
{
	const char *name;

	if (!addr || u64set_has(&p->rec_symbols, addr))
		return;
	name = da_symbols_lookup(p->cfg.symbols, addr);
	if (!name)
		return;
	if (da_record_write_symbol(p->rec, addr, name) || u64set_add(&p->rec_symbols, addr))
		record_failed(p);
}

/* the first event of a cgroup: its path, so that a replay names the workload too */
static void record_cgroup(struct da_pipeline *p, uint64_t id)
{
	bool fresh;
	const char *path = da_cgroups_path(p->cgroups, id, &fresh);

	if (path && fresh && da_record_write_cgroup(p->rec, id, path))
		record_failed(p);
}

static void record_stack(struct da_pipeline *p, int32_t stack_id)
{
	const char *frames[MAX_STACK_FRAMES];
	uint64_t key = (uint32_t)stack_id;
	unsigned int n;

	if (u64set_has(&p->rec_stacks, key))
		return;
	n = resolve_stack(p, stack_id, frames);
	if (da_record_write_stack(p->rec, stack_id, frames, n) || u64set_add(&p->rec_stacks, key))
		record_failed(p);
}

static void record_event(struct da_pipeline *p, const struct da_event *ev)
{
	/* what replay needs to judge and name this event comes before it */
	if (p->trace->n_scopes > p->rec_scopes)
		record_new_scopes(p);
	if (ev->cgroup_id)
		record_cgroup(p, ev->cgroup_id);
	if (ev->op == DA_OP_ATTACH || ev->op == DA_OP_SEED_ATTACHMENT) {
		record_symbol(p, ev->importer_ops);
		record_symbol(p, ev->invalidate_cb);
	}
	if (p->opts->stacks && p->cfg.stack_resolver && (ev->flags & DA_F_STACK))
		record_stack(p, ev->stack_id);
	if (da_record_write_event(p->rec, ev))
		record_failed(p);
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

	if (p->opts->events || p->sink->all_events)
		p->sink->ops->event(p->sink, ev);
	if (p->timeline)
		p->timeline->ops->event(p->timeline, ev);
	if (p->rec)
		record_event(p, ev);
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
	/* a replay recorded again keeps the names */
	if (p->rec && da_record_write_cgroup(p->rec, id, path))
		record_failed(p);
}

void da_pipeline_lost(struct da_pipeline *p, uint64_t first_seq, uint64_t count)
{
	if (!count)
		return;
	if (!p->begun)
		da_pipeline_begin(p);
	if (p->rec && da_record_write_lost(p->rec, first_seq, count))
		record_failed(p);
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
	if (p->rec && da_record_write_tick(p->rec, now_ns))
		record_failed(p);
	da_engine_tick(p->engine, now_ns);
	if (p->cfg.live)
		fflush(p->out);
}

void da_pipeline_notice(struct da_pipeline *p, enum da_notice_kind kind, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sink_notice(p, kind, msg, NULL);
	free(msg);
}

/* write --timeline FILE and close it; -1 (with a message) when it could not be written */
static int end_timeline(struct da_pipeline *p, const struct da_summary *sum)
{
	int ret = p->timeline->ops->end(p->timeline, sum), bad;

	bad = ferror(p->timeline_out);
	if (fclose(p->timeline_out) || bad || ret) {
		p->timeline_out = NULL;
		fprintf(stderr, DA_TOOL_NAME ": cannot write the timeline to %s: %s\n",
			p->opts->timeline,
			strerror(p->timeline->error ? p->timeline->error : errno ? errno : EIO));
		return -1;
	}
	p->timeline_out = NULL;
	return 0;
}

/* ---- service: stats, metrics, the log's summary ---- */

void da_pipeline_stats(const struct da_pipeline *p, struct da_stats *st)
{
	const struct da_finding_counts *c = da_finding_stage_counts(p->stage);

	memset(st, 0, sizeof(*st));
	da_pipeline_summary(p, &st->sum);
	memcpy(st->events_by_op, p->events_by_op, sizeof(st->events_by_op));
	memcpy(st->findings, c->by_rule_severity, sizeof(st->findings));
	for (int r = 0; r < DA_RULE__COUNT; r++)
		st->rule_severity[r] = p->opts->policy.rule_severity[r];
	st->repeats_held = c->repeats_held;
	memcpy(st->repeats_by_rule, c->repeats_by_rule, sizeof(st->repeats_by_rule));
	da_engine_occupancy(p->engine, &st->buffers_live, &st->buffers_capacity,
			    &st->attachments_live, &st->attachments_capacity);
	st->ringbuf_fill = p->ringbuf_fill;
	da_stats_process(st);
	da_stats_hooks(st, p->trace);
	st->seeded_buffers = st->sum.seeded_buffers;
	st->running = true;
	st->journal_dropped = p->cfg.log ? p->cfg.log->dropped : 0;
}

/* the stats record goes to the JSON Lines report; other formats have no place for it */
static void write_stats_record(struct da_pipeline *p, const struct da_stats *st)
{
	if (p->cfg.no_report || p->opts->format != DA_FMT_JSON || p->cfg.stats_interval_s <= 0)
		return;
	if (da_json_write_line(p->out, da_stats_to_json(st)) && !p->sink->error)
		p->sink->error = errno ? errno : EIO;
	if (p->cfg.live)
		fflush(p->out);
}

/* -1 when it could not be written; said on stderr once per different error */
static int write_metrics(struct da_pipeline *p, const struct da_stats *st)
{
	char err[512];

	if (!p->opts->metrics)
		return 0;
	if (!da_metrics_write(p->opts->metrics, st, err, sizeof(err))) {
		if (p->metrics_error[0] && p->cfg.metrics_best_effort)
			da_pipeline_notice(p, DA_NOTICE_INPUT, "metrics: %s written again",
					   p->opts->metrics);
		p->metrics_error[0] = '\0';
		return 0;
	}
	if (strcmp(err, p->metrics_error)) {
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
		snprintf(p->metrics_error, sizeof(p->metrics_error), "%s", err);
		if (p->cfg.metrics_best_effort)
			da_pipeline_notice(p, DA_NOTICE_INPUT, "metrics: %s; tried again every"
					   " %g s", err, p->opts->metrics_interval);
	}
	return p->cfg.metrics_best_effort ? 0 : -1;
}

static uint64_t interval_ns(double seconds)
{
	return (uint64_t)(seconds * 1e9);
}

bool da_pipeline_service_tick(struct da_pipeline *p, uint64_t now_ns)
{
	bool stats_due = p->cfg.stats_interval_s > 0 && now_ns >= p->next_stats_ns;
	bool metrics_due = p->opts->metrics && now_ns >= p->next_metrics_ns;
	struct da_stats st;

	if (!p->next_stats_ns && !p->next_metrics_ns) {
		/* the first call starts the intervals */
		p->next_stats_ns = now_ns + interval_ns(p->cfg.stats_interval_s);
		p->next_metrics_ns = now_ns + interval_ns(p->opts->metrics_interval);
		if (p->opts->metrics) {
			da_pipeline_stats(p, &st);
			write_metrics(p, &st);
		}
		return false;
	}
	if (!stats_due && !metrics_due)
		return false;
	da_pipeline_stats(p, &st);
	if (stats_due) {
		write_stats_record(p, &st);
		p->next_stats_ns = now_ns + interval_ns(p->cfg.stats_interval_s);
	}
	if (metrics_due) {
		write_metrics(p, &st);
		p->next_metrics_ns = now_ns + interval_ns(p->opts->metrics_interval);
	}
	return stats_due;
}

/* at the end, before the summary: the last stats record, the log's summary, the metrics */
static int service_end(struct da_pipeline *p, const struct da_summary *sum)
{
	struct da_stats st;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int ret;

	da_pipeline_stats(p, &st);
	st.sum = *sum;
	write_stats_record(p, &st);
	if (p->cfg.log) {
		mem = open_memstream(&text, &len);
		if (mem) {
			da_text_summary(mem, &p->log_text, sum, "");
			if (fclose(mem))
				len = 0;
		}
		p->cfg.log->summary(p->cfg.log->ctx, &st, text && len ? text : "Summary");
		free(text);
	}
	/*
	 * the last write says the audit stopped (up 0) and keeps its final
	 * figures: node_exporter goes on exporting the file, but nothing in it
	 * passes for a live auditor (docs/operations.md)
	 */
	st.running = false;
	ret = write_metrics(p, &st);
	if (ret && p->opts->metrics)
		fprintf(stderr, DA_TOOL_NAME ": the metrics file %s is not up to date\n",
			p->opts->metrics);
	return ret;
}

const char *da_pipeline_metrics_error(const struct da_pipeline *p)
{
	return p->metrics_error;
}

void da_pipeline_set_ringbuf_fill(struct da_pipeline *p, double fill)
{
	p->ringbuf_fill = fill;
}

int da_pipeline_reopen_output(struct da_pipeline *p, char *err, size_t errlen)
{
	FILE *f;

	if (!p->out_owned)
		return 0;
	f = da_outfile_fopen(p->opts->output, "-o", true, err, errlen);
	if (!f) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (the report goes on in the old file)");
		return -1;
	}
	if (fclose(p->out) && !p->sink->error)
		p->sink->error = errno ? errno : EIO;
	p->out = f;
	p->sink->out = f;
	return 0;
}

void da_pipeline_policy_reloaded(struct da_pipeline *p)
{
	da_engine_policy_reloaded(p->engine);
}

int da_pipeline_end(struct da_pipeline *p, int *max_severity)
{
	struct da_summary sum;
	char err[512];
	int failed = 0;

	*max_severity = da_finding_stage_counts(p->stage)->max_severity;
	if (p->ended)
		return p->write_failed ? -1 : 0;
	if (!p->begun)
		da_pipeline_begin(p);
	p->ended = true;
	da_engine_finish(p->engine);
	da_pipeline_summary(p, &sum);
	if (service_end(p, &sum))
		failed = 1;
	if (p->sink->ops->end(p->sink, &sum) && p->sink->error) {
		fprintf(stderr, DA_TOOL_NAME ": cannot write the report to %s: %s\n", p->out_name,
			strerror(p->sink->error));
		failed = 1;
	}
	if (p->out_owned) {
		int bad = ferror(p->out);

		if (fclose(p->out) || bad) {
			if (!failed)
				fprintf(stderr,
					DA_TOOL_NAME ": cannot write the report to %s: %s\n",
					p->out_name, strerror(errno ? errno : EIO));
			failed = 1;
		}
		p->out = NULL;
	} else if (fflush(p->out) || ferror(p->out)) {
		if (!failed)
			fprintf(stderr, DA_TOOL_NAME ": cannot write the report to %s: %s\n",
				p->out_name, strerror(errno ? errno : EIO));
		failed = 1;
	}
	if (p->timeline && end_timeline(p, &sum))
		failed = 1;
	if (p->rec) {
		if (da_record_writer_close(p->rec, err, sizeof(err))) {
			fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
			failed = 1;
		}
		p->rec = NULL;
	}
	p->write_failed = failed;
	*max_severity = da_finding_stage_counts(p->stage)->max_severity;
	return failed ? -1 : 0;
}

void da_pipeline_summary(const struct da_pipeline *p, struct da_summary *out)
{
	da_engine_summary(p->engine, out);
	da_finding_stage_summary(p->stage, out);
}

void da_pipeline_free(struct da_pipeline *p)
{
	char err[512];

	if (!p)
		return;
	if (p->engine)
		da_engine_free(p->engine);
	if (p->sink)
		p->sink->ops->free(p->sink);
	if (p->timeline)
		p->timeline->ops->free(p->timeline);
	if (p->timeline_out)
		fclose(p->timeline_out);
	if (p->rec)
		da_record_writer_close(p->rec, err, sizeof(err));
	if (p->out_owned && p->out)
		fclose(p->out);
	da_finding_stage_free(p->stage);
	for (unsigned int i = 0; i < p->n_early; i++)
		free(p->early[i].msg);
	free(p->rec_symbols.slots);
	free(p->rec_stacks.slots);
	da_cgroups_free(p->cgroups);
	free(p);
}
