// SPDX-License-Identifier: GPL-2.0
/*
 * `dmabuf-audit replay FILE`: run the engine over a recorded trace through
 * the same pipeline as a live run.  FILE ("-" = standard input, gzip or
 * not) is either a binary record (--record) or JSON Lines (--events
 * --format json, or hand-written); the content decides, not the name.
 *
 * Bad input never loses what came before it: the events up to the bad
 * point are judged and the report is written, then the error (naming the
 * byte offset or line) goes to standard error and the exit status is 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/pipeline.h"
#include "dmabuf_audit/record.h"
#include "input.h"
#include "sink.h"

/* ---- stacks from a record's STACK records, for --stacks ---- */

struct stack_entry {
	int32_t id;
	unsigned int n;
	char **frames;
};

struct stack_table {
	struct stack_entry *e;
	size_t n, cap;
};

static void stack_free_entry(struct stack_entry *e)
{
	for (unsigned int i = 0; i < e->n; i++)
		free(e->frames[i]);
	free(e->frames);
	e->frames = NULL;
	e->n = 0;
}

static int stack_add(struct stack_table *t, int32_t id, const char *const *frames, unsigned int n)
{
	struct stack_entry *e = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].id == id)
			e = &t->e[i];
	if (e) {
		stack_free_entry(e);
	} else {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			void *p = realloc(t->e, cap * sizeof(*t->e));

			if (!p)
				return -1;
			t->e = p;
			t->cap = cap;
		}
		e = &t->e[t->n++];
		e->id = id;
		e->n = 0;
		e->frames = NULL;
	}
	e->frames = calloc(n ? n : 1, sizeof(*e->frames));
	if (!e->frames)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		e->frames[i] = strdup(frames[i]);
		if (!e->frames[i])
			return -1;
		e->n++;
	}
	return 0;
}

static unsigned int stack_resolve(void *ctx, int32_t stack_id, const char **frames,
				  unsigned int max)
{
	struct stack_table *t = ctx;

	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].id != stack_id)
			continue;
		unsigned int n = t->e[i].n < max ? t->e[i].n : max;

		for (unsigned int k = 0; k < n; k++)
			frames[k] = t->e[i].frames[k];
		return n;
	}
	return 0;
}

static void stack_table_free(struct stack_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		stack_free_entry(&t->e[i]);
	free(t->e);
}

/* ---- the two input formats ---- */

struct replay {
	struct da_opts *opts;
	struct da_input in;
	struct da_trace_info trace;
	struct da_symbols *syms;
	struct stack_table stacks;
	struct da_pipeline *p;
	char err[768];		/* input error, reported after the report */
	bool input_error;
};

static int start_pipeline(struct replay *r, bool with_stacks)
{
	struct da_pipeline_config cfg = {
		.opts = r->opts,
		.trace = &r->trace,
		.symbols = r->syms,
		.stack_resolver = with_stacks ? stack_resolve : NULL,
		.stack_ctx = &r->stacks,
		.live = 0,
	};
	char err[512];

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
#define REPLAY_BATCH 64

struct event_batch {
	struct da_event ev[REPLAY_BATCH];
	size_t n;
};

static void batch_flush(struct replay *r, struct event_batch *b)
{
	da_pipeline_events(r->p, b->ev, b->n);
	b->n = 0;
}

static int replay_record(struct replay *r)
{
	struct da_record_reader *rd = da_record_reader_from_input(&r->in);
	struct da_record_item *item;
	struct event_batch *batch;
	int ret;

	if (!rd) {
		fprintf(stderr, DA_TOOL_NAME " replay: out of memory\n");
		return -1;
	}
	char source[sizeof(r->trace.source)];

	memcpy(source, r->trace.source, sizeof(source));
	if (da_record_read_header(rd, &r->trace, r->err, sizeof(r->err))) {
		/* nothing was judged yet: a clear error, no report */
		fprintf(stderr, DA_TOOL_NAME " replay: %s\n", r->err);
		da_record_reader_close(rd);
		return -1;
	}
	/* the header describes the recorded kernel; the source is this file */
	memcpy(r->trace.source, source, sizeof(source));
	item = malloc(sizeof(*item));
	batch = malloc(sizeof(*batch));
	if (!item || !batch || start_pipeline(r, true)) {
		free(item);
		free(batch);
		da_record_reader_close(rd);
		return -1;
	}
	batch->n = 0;
	while ((ret = da_record_next(rd, item, r->err, sizeof(r->err))) > 0) {
		if (item->type == DA_REC_EVENT) {
			batch->ev[batch->n++] = item->event;
			if (batch->n == REPLAY_BATCH)
				batch_flush(r, batch);
			continue;
		}
		/* every other record takes effect between the events around it */
		batch_flush(r, batch);
		switch (item->type) {
		case DA_REC_SYMBOL:
			if (da_symbols_add(r->syms, item->addr, item->name))
				goto oom;
			break;
		case DA_REC_LOST:
			da_pipeline_lost(r->p, item->first_seq, item->count);
			break;
		case DA_REC_STACK:
			if (stack_add(&r->stacks, item->stack_id, item->frames, item->n_frames))
				goto oom;
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
	}
	batch_flush(r, batch);
	if (ret < 0)
		r->input_error = true;
	goto out;
oom:
	snprintf(r->err, sizeof(r->err), "out of memory");
	r->input_error = true;
out:
	free(batch);
	free(item);
	da_record_reader_close(rd);
	return 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/*
 * One JSON line: 1 = an event in *ev, 0 = nothing to feed (a finding,
 * notice, summary, or blank line), -1 = error in r->err.
 */
static int json_line(struct replay *r, json_t *o, uint64_t line_no, uint64_t *last_seq,
		     uint64_t *last_ts, bool *seen_events, struct da_event *ev)
{
	json_t *type = json_object_get(o, "type");
	const char *t = type && json_is_string(type) ? json_string_value(type) : NULL;
	char err[400];

	if (type && !t) {
		snprintf(r->err, sizeof(r->err), "%s: line %llu: 'type' must be a string",
			 r->in.name, (unsigned long long)line_no);
		return -1;
	}
	if (!t || !strcmp(t, "event")) {
		if (da_event_from_json(o, ev, *last_seq + 1, *last_ts, r->syms, &r->trace, err,
				       sizeof(err))) {
			snprintf(r->err, sizeof(r->err), "%s: line %llu: %s", r->in.name,
				 (unsigned long long)line_no, err);
			return -1;
		}
		if (*seen_events && ev->seq <= *last_seq) {
			snprintf(
				r->err, sizeof(r->err),
				"%s: line %llu: seq %llu is not after the previous event's seq %llu"
				" (events must be in seq order)",
				r->in.name, (unsigned long long)line_no,
				(unsigned long long)ev->seq, (unsigned long long)*last_seq);
			return -1;
		}
		*seen_events = true;
		*last_seq = ev->seq;
		*last_ts = ev->ts_ns;
		return 1;
	}
	if (!strcmp(t, "header")) {
		snprintf(r->err, sizeof(r->err),
			 "%s: line %llu: a header line after the first line (two traces"
			 " concatenated? replay them one at a time)",
			 r->in.name, (unsigned long long)line_no);
		return -1;
	}
	if (!strcmp(t, "notice")) {
		json_t *kind = json_object_get(o, "kind"), *gap = json_object_get(o, "seq_gap");

		/* a loss the source counted without a seq gap: the gap itself replays the others */
		if (kind && json_is_string(kind) && !strcmp(json_string_value(kind), "lost") &&
		    gap && json_is_false(gap)) {
			json_t *first = json_object_get(o, "first_seq"),
			       *n = json_object_get(o, "count");

			if (!json_is_integer(first) || !json_is_integer(n) ||
			    json_integer_value(n) < 0) {
				snprintf(r->err, sizeof(r->err),
					 "%s: line %llu: a lost notice without integer first_seq"
					 " and count", r->in.name, (unsigned long long)line_no);
				return -1;
			}
			da_pipeline_lost(r->p, (uint64_t)json_integer_value(first),
					 (uint64_t)json_integer_value(n));
		}
		return 0;
	}
	if (!strcmp(t, "finding") || !strcmp(t, "summary"))
		return 0;
	snprintf(r->err, sizeof(r->err),
		 "%s: line %llu: unknown line type \"%s\" (expected header, event, finding,"
		 " notice or summary)", r->in.name, (unsigned long long)line_no, t);
	return -1;
}

static json_t *parse_line(struct replay *r, const char *line, size_t len, uint64_t line_no)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!o) {
		snprintf(r->err, sizeof(r->err), "%s: line %llu: invalid JSON at column %d: %s",
			 r->in.name, (unsigned long long)line_no, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		snprintf(r->err, sizeof(r->err), "%s: line %llu: expected a JSON object, got %s",
			 r->in.name, (unsigned long long)line_no,
			 json_is_array(o) ? "an array" : "a scalar");
		json_decref(o);
		return NULL;
	}
	return o;
}

static int replay_jsonl(struct replay *r)
{
	uint64_t line_no = 0, last_seq = 0, last_ts = 0;
	bool seen_events = false;
	json_t *first = NULL;
	struct da_event ev;
	char *line;
	size_t len;
	int ret;

	/* the optional header comes first: it describes the trace before anything is judged */
	while ((ret = da_input_line(&r->in, &line, &len)) > 0) {
		line_no++;
		if (blank(line, len))
			continue;
		first = parse_line(r, line, len, line_no);
		if (!first) {
			r->input_error = true;
			break;
		}
		if (json_is_string(json_object_get(first, "type")) &&
		    !strcmp(json_string_value(json_object_get(first, "type")), "header")) {
			char err[400];

			if (da_header_from_json(first, &r->trace, err, sizeof(err))) {
				snprintf(r->err, sizeof(r->err), "%s: line %llu: %s", r->in.name,
					 (unsigned long long)line_no, err);
				r->input_error = true;
			}
			json_decref(first);
			first = NULL;
		}
		break;
	}
	if (ret < 0) {
		snprintf(r->err, sizeof(r->err), "%s: read error after line %llu: %s", r->in.name,
			 (unsigned long long)line_no, r->in.error);
		r->input_error = true;
	} else if (ret == 0 && !r->input_error) {
		snprintf(r->err, sizeof(r->err), "%s: only blank lines: not a recorded trace",
			 r->in.name);
		r->input_error = true;
	}
	if (start_pipeline(r, false)) {
		json_decref(first);
		return -1;
	}
	if (r->input_error)
		return 0;
	if (first) {
		ret = json_line(r, first, line_no, &last_seq, &last_ts, &seen_events, &ev);
		json_decref(first);
		if (ret < 0) {
			r->input_error = true;
			return 0;
		}
		if (ret > 0)
			da_pipeline_event(r->p, &ev);
	}
	while ((ret = da_input_line(&r->in, &line, &len)) > 0) {
		json_t *o;
		int got;

		line_no++;
		if (blank(line, len))
			continue;
		o = parse_line(r, line, len, line_no);
		if (!o) {
			r->input_error = true;
			return 0;
		}
		got = json_line(r, o, line_no, &last_seq, &last_ts, &seen_events, &ev);
		json_decref(o);
		if (got < 0) {
			r->input_error = true;
			return 0;
		}
		if (got > 0)
			da_pipeline_event(r->p, &ev);
	}
	if (ret < 0) {
		snprintf(r->err, sizeof(r->err), "%s: line %llu: read error: %s", r->in.name,
			 (unsigned long long)line_no + 1, r->in.error);
		r->input_error = true;
	}
	return 0;
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
	const unsigned char *head;
	char err[512];
	ssize_t got;
	size_t i;
	int status, max, write_failed;

	if (same_file(path, opts->record) || same_file(path, opts->output)) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s is the input: refusing to overwrite it with"
				" %s\n", path, same_file(path, opts->record) ? "--record" : "-o");
		return DA_EXIT_USAGE;
	}
	if (da_input_open(&r.in, path, err, sizeof(err))) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s\n", err);
		return DA_EXIT_USAGE;
	}
	r.syms = da_symbols_new();
	if (!r.syms) {
		fprintf(stderr, DA_TOOL_NAME " replay: out of memory\n");
		da_input_close(&r.in);
		return DA_EXIT_USAGE;
	}
	got = da_input_fill(&r.in, 64);
	if (got < 0) {
		fprintf(stderr, DA_TOOL_NAME " replay: cannot read %s: %s\n", r.in.name,
			r.in.error);
		status = DA_EXIT_USAGE;
		goto out;
	}
	if (got == 0) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s is empty: not a recorded trace\n",
			r.in.name);
		status = DA_EXIT_USAGE;
		goto out;
	}
	head = da_input_ptr(&r.in);
	for (i = 0; i < (size_t)got && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' ||
					head[i] == '\n');
	     i++)
		;
	snprintf(r.trace.source, sizeof(r.trace.source), "%s", path);

	/* the magic, or a file cut inside it (the reader says so) */
	if (!memcmp(head, DA_RECORD_MAGIC,
		    (size_t)got < DA_RECORD_MAGIC_LEN ? (size_t)got : DA_RECORD_MAGIC_LEN)) {
		if (replay_record(&r)) {
			status = DA_EXIT_USAGE;
			goto out;
		}
	} else if (i < (size_t)got ? head[i] == '{' : got == 64) {
		if (replay_jsonl(&r)) {
			status = DA_EXIT_USAGE;
			goto out;
		}
	} else if (i == (size_t)got) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s holds only white space: not a recorded"
				" trace\n", r.in.name);
		status = DA_EXIT_USAGE;
		goto out;
	} else {
		fprintf(stderr,
			DA_TOOL_NAME " replay: %s: not a " DA_TOOL_NAME
				     " trace: wrong magic at byte"
				     " offset 0 (a binary record starts with \"" DA_RECORD_MAGIC
				     "\", JSON Lines with '{')\n",
			r.in.name);
		status = DA_EXIT_USAGE;
		goto out;
	}
	write_failed = da_pipeline_end(r.p, &max);
	if (r.input_error) {
		fprintf(stderr, DA_TOOL_NAME " replay: %s\n", r.err);
		fprintf(stderr, DA_TOOL_NAME " replay: the report covers the events before that"
				" point\n");
		status = DA_EXIT_USAGE;
	} else if (write_failed) {
		status = DA_EXIT_USAGE;
	} else {
		status = da_exit_status(opts, max);
	}
out:
	da_pipeline_free(r.p);
	stack_table_free(&r.stacks);
	da_symbols_free(r.syms);
	da_input_close(&r.in);
	return status;
}
