// SPDX-License-Identifier: GPL-2.0
/*
 * `dmabuf-audit replay FILE`: run the engine over a recorded trace through
 * the same pipeline as a live run.  FILE ("-" = standard input, gzip or
 * not) is either a binary record (--record) or JSON Lines (--events
 * --format json, or hand-written); the core's trace reader tells them apart
 * and hands over the same items for both.
 *
 * Bad input never loses what came before it: the events up to the bad
 * point are judged and the report is written, then the error (naming the
 * byte offset or line) goes to standard error and the exit status is 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/pipeline.h"
#include "dmabuf_audit/trace_reader.h"
#include "../service/systemd.h"

struct replay {
	struct da_opts *opts;
	struct da_trace_reader *reader;
	struct da_trace_info trace;
	struct da_symbols *syms;
	struct da_stacks *stacks;
	struct da_pipeline *p;
	char err[768]; /* input error, reported after the report */
	bool input_error;
};

static int start_pipeline(struct replay *r)
{
	struct da_pipeline_config cfg = {
		.opts = r->opts,
		.trace = &r->trace,
		.symbols = r->syms,
		/* JSON Lines carry no stacks */
		.stack_resolver = da_trace_reader_is_record(r->reader) ? da_stacks_resolve : NULL,
		.stack_ctx = r->stacks,
		.live = 0,
	};
	char err[512];

	/* --log journal and --metrics work on a replay too (a trace judged again) */
	da_service_config(&cfg, r->opts, false);
	r->p = da_pipeline_new(&cfg, err, sizeof(err));
	if (!r->p) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s\n", err);
		return -1;
	}
	if (da_pipeline_begin(r->p)) {
		fprintf(stderr, DA_TOOL_NAME " replay: cannot write the report header\n");
		return -1;
	}
	return 0;
}

/* events handed to the pipeline together (see da_pipeline_events) */
#define REPLAY_BATCH 512

struct event_batch {
	struct da_event ev[REPLAY_BATCH];
	size_t n;
};

static void batch_flush(struct replay *r, struct event_batch *b)
{
	da_pipeline_events(r->p, b->ev, b->n);
	b->n = 0;
}

static int input_failed(struct replay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int input_failed(struct replay *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* a record other than EVENT: it takes effect between the events around it */
static int apply_item(struct replay *r, const struct da_record_item *item)
{
	int ret;

	switch (item->type) {
	case DA_REC_SYMBOL:
		if (da_symbols_add(r->syms, item->addr, item->name))
			return input_failed(r, "out of memory");
		break;
	case DA_REC_CGROUP:
		da_pipeline_cgroup(r->p, item->addr, item->name);
		break;
	case DA_REC_LOST:
		da_pipeline_lost(r->p, item->first_seq, item->count);
		break;
	case DA_REC_STACK:
		ret = da_stacks_set(r->stacks, item->stack_id, item->frames, item->n_frames);
		if (ret == -ENOSPC)
			return input_failed(r,
					    "%s: more than %u distinct stacks or %u MiB of stack"
					    " frames: not a trace a live run writes",
					    r->trace.source, DA_STACKS_MAX,
					    DA_STACKS_MAX_BYTES >> 20);
		if (ret)
			return input_failed(r, "out of memory");
		break;
	case DA_REC_SCOPE:
		snprintf(r->trace.scope_names[item->slot], DA_FUNC_LEN, "%s", item->name);
		if (r->trace.n_scopes <= item->slot)
			r->trace.n_scopes = item->slot + 1;
		break;
	case DA_REC_TICK:
		da_pipeline_tick(r->p, item->now_ns);
		break;
	default:
		break;
	}
	return 0;
}

/* every item of the trace into the pipeline; an input error ends it */
static void replay_items(struct replay *r, struct da_record_item *item, struct event_batch *batch)
{
	int ret;

	batch->n = 0;
	while ((ret = da_trace_reader_next(r->reader, item, r->err, sizeof(r->err))) > 0) {
		if (item->type == DA_REC_EVENT) {
			batch->ev[batch->n++] = item->event;
			if (batch->n == REPLAY_BATCH)
				batch_flush(r, batch);
			continue;
		}
		batch_flush(r, batch);
		if (apply_item(r, item)) {
			ret = -1;
			break;
		}
	}
	batch_flush(r, batch);
	if (ret < 0)
		r->input_error = true;
}

/* 0 with the report written (r->input_error says whether the input was cut short), -1 */
static int replay_trace(struct replay *r)
{
	struct da_record_item *item;
	struct event_batch *batch;

	if (da_trace_reader_header(r->reader, &r->trace, r->syms, r->err, sizeof(r->err))) {
		/* nothing was judged yet: a clear error, no report */
		fprintf(stderr, DA_TOOL_NAME " replay: %s\n", r->err);
		return -1;
	}
	item = malloc(sizeof(*item));
	batch = malloc(sizeof(*batch));
	if (!item || !batch) {
		fprintf(stderr, DA_TOOL_NAME " replay: out of memory\n");
	} else if (!start_pipeline(r)) {
		replay_items(r, item, batch);
		free(batch);
		free(item);
		return 0;
	}
	free(batch);
	free(item);
	return -1;
}

/* an output that is the input file would destroy it before it is read */
static bool same_file(const char *in, const char *out)
{
	struct stat a, b;

	if (!out || !strcmp(in, "-") || !strcmp(out, "-"))
		return false;
	if (stat(in, &a) || stat(out, &b))
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino && S_ISREG(a.st_mode);
}

int da_cmd_replay(struct da_opts *opts, const char *path)
{
	struct replay r = { .opts = opts };
	char err[768];
	int status = DA_EXIT_USAGE, max;

	if (same_file(path, opts->record) || same_file(path, opts->output) ||
	    same_file(path, opts->timeline)) {
		fprintf(stderr,
			DA_TOOL_NAME " replay: %s is the input: refusing to overwrite it with"
				     " %s\n",
			path, same_file(path, opts->record) ? "--record" :
			      same_file(path, opts->output) ? "-o" : "--timeline");
		return DA_EXIT_USAGE;
	}
	if (same_file(path, opts->metrics)) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s is the input: refusing to overwrite it with"
					     " --metrics\n", path);
		return DA_EXIT_USAGE;
	}
	r.reader = da_trace_reader_open(path, err, sizeof(err));
	if (!r.reader) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s\n", err);
		return DA_EXIT_USAGE;
	}
	if (da_service_start(opts)) {
		da_trace_reader_close(r.reader);
		return DA_EXIT_USAGE;
	}
	r.syms = da_symbols_new();
	r.stacks = da_stacks_new();
	snprintf(r.trace.source, sizeof(r.trace.source), "%s", path);
	if (!r.syms || !r.stacks)
		fprintf(stderr, DA_TOOL_NAME " replay: out of memory\n");
	else if (!replay_trace(&r))
		status = 0;
	if (status == 0) {
		bool write_failed = da_pipeline_end(r.p, &max) != 0;

		if (r.input_error) {
			fprintf(stderr, DA_TOOL_NAME " replay: %s\n", r.err);
			fprintf(stderr, DA_TOOL_NAME " replay: the report covers the events before"
						     " that point\n");
			status = DA_EXIT_USAGE;
		} else {
			status = write_failed ? DA_EXIT_USAGE : da_exit_status(opts, max);
		}
	}
	da_pipeline_free(r.p);
	da_stacks_free(r.stacks);
	da_symbols_free(r.syms);
	da_trace_reader_close(r.reader);
	da_service_stop();
	return status;
}
