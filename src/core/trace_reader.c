// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a recorded trace of either format into the same items; see
 * trace_reader.h.  The binary record is record.c's reader; JSON Lines are
 * read here line by line, each line decoded by jsonl.c.
 *
 * Errors name the byte offset (record) or line (JSON Lines).  The caller
 * decides what to do with them: replay reports the events before the bad
 * point, then the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/trace_reader.h"
#include "input.h"
#include "event_schema.h"

/* how many bytes tell the format: the magic, or the first '{' after white space */
#define SNIFF_LEN 64

struct da_trace_reader {
	struct da_input in; /* JSON Lines; a record reader takes it over */
	struct da_record_reader *rec; /* binary record, else NULL */
	struct da_trace_info *trace;
	struct da_symbols *syms;
	/* JSON Lines */
	uint64_t line_no, last_seq, last_ts;
	bool seen_events;
	json_t *first; /* the first line, when it is not a header */
	char first_err[768]; /* the first line's error, returned by the first next */
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* 0 when the first bytes are a record's magic (or a file cut inside it) or JSON */
static int sniff(struct da_trace_reader *r, char *err, size_t errlen)
{
	ssize_t got = da_input_fill(&r->in, SNIFF_LEN);
	const unsigned char *head;
	size_t i = 0;

	if (got < 0) {
		/* e.g. a gzip file cut before its first 4 KiB could be decompressed */
		snprintf(err, errlen, "%s: read error at byte offset %llu%s: %s", r->in.name,
			 (unsigned long long)r->in.offset,
			 r->in.compressed ? " of the uncompressed stream" : "", r->in.error);
		return -1;
	}
	if (got == 0) {
		snprintf(err, errlen, "%s is empty: not a recorded trace", r->in.name);
		return -1;
	}
	head = da_input_ptr(&r->in);
	if (!memcmp(head, DA_RECORD_MAGIC,
		    (size_t)got < DA_RECORD_MAGIC_LEN ? (size_t)got : DA_RECORD_MAGIC_LEN)) {
		r->rec = da_record_reader_from_input(&r->in);
		if (!r->rec) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	while (i < (size_t)got && is_space(head[i]))
		i++;
	if (i < (size_t)got ? head[i] == '{' : got == SNIFF_LEN)
		return 0;
	if (i == (size_t)got)
		snprintf(err, errlen, "%s holds only white space: not a recorded trace",
			 r->in.name);
	else
		snprintf(err, errlen,
			 "%s: not a " DA_TOOL_NAME " trace: wrong magic at byte offset 0 (a binary"
			 " record starts with \"" DA_RECORD_MAGIC "\", JSON Lines with '{')",
			 r->in.name);
	return -1;
}

struct da_trace_reader *da_trace_reader_open(const char *path, char *err, size_t errlen)
{
	struct da_trace_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (da_input_open(&r->in, path, err, errlen)) {
		free(r);
		return NULL;
	}
	if (sniff(r, err, errlen)) {
		da_trace_reader_close(r);
		return NULL;
	}
	return r;
}

bool da_trace_reader_is_record(const struct da_trace_reader *r)
{
	return r->rec != NULL;
}

void da_trace_reader_close(struct da_trace_reader *r)
{
	if (!r)
		return;
	json_decref(r->first);
	da_record_reader_close(r->rec);
	da_input_close(&r->in);
	free(r);
}

/* ---- JSON Lines ---- */

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static json_t *parse_line(struct da_trace_reader *r, const char *line, size_t len, char *err,
			  size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!o) {
		snprintf(err, errlen, "%s: line %llu: invalid JSON at column %d: %s", r->in.name,
			 (unsigned long long)r->line_no, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: line %llu: expected a JSON object, got %s", r->in.name,
			 (unsigned long long)r->line_no,
			 json_is_array(o) ? "an array" : "a scalar");
		json_decref(o);
		return NULL;
	}
	return o;
}

/* the next non-blank line as an object: 1, 0 at the end, -1 + err */
static int next_object(struct da_trace_reader *r, json_t **obj, char *err, size_t errlen)
{
	char *line;
	size_t len;
	int ret;

	while ((ret = da_input_line(&r->in, &line, &len)) > 0) {
		r->line_no++;
		if (blank(line, len))
			continue;
		*obj = parse_line(r, line, len, err, errlen);
		return *obj ? 1 : -1;
	}
	if (ret < 0) {
		/* the line being read is the next one: a first line too long is line 1 */
		snprintf(err, errlen, "%s: line %llu: read error: %s", r->in.name,
			 (unsigned long long)r->line_no + 1, r->in.error);
		return -1;
	}
	return 0;
}

static bool is_type(json_t *o, const char *type)
{
	json_t *t = json_object_get(o, "type");

	return json_is_string(t) && !strcmp(json_string_value(t), type);
}

/* the optional header line first: it describes the trace before anything is judged */
static void jsonl_header(struct da_trace_reader *r)
{
	char *err = r->first_err, why[400];
	size_t errlen = sizeof(r->first_err);
	int ret = next_object(r, &r->first, err, errlen);

	if (ret == 0)
		snprintf(err, errlen, "%s: only blank lines: not a recorded trace", r->in.name);
	if (ret <= 0 || !is_type(r->first, "header"))
		return;
	if (da_header_from_json(r->first, r->trace, why, sizeof(why)))
		snprintf(err, errlen, "%s: line %llu: %s", r->in.name,
			 (unsigned long long)r->line_no, why);
	json_decref(r->first);
	r->first = NULL;
}

static int jsonl_event(struct da_trace_reader *r, json_t *o, struct da_event *ev, char *err,
		       size_t errlen)
{
	char why[400];

	if (da_event_from_json(o, ev, r->last_seq + 1, r->last_ts, r->syms, r->trace, why,
			       sizeof(why))) {
		snprintf(err, errlen, "%s: line %llu: %s", r->in.name,
			 (unsigned long long)r->line_no, why);
		return -1;
	}
	if (r->seen_events && ev->seq <= r->last_seq) {
		snprintf(err, errlen,
			 "%s: line %llu: seq %llu is not after the previous event's seq %llu"
			 " (events must be in seq order)",
			 r->in.name, (unsigned long long)r->line_no, (unsigned long long)ev->seq,
			 (unsigned long long)r->last_seq);
		return -1;
	}
	r->seen_events = true;
	r->last_seq = ev->seq;
	r->last_ts = ev->ts_ns;
	return 1;
}

/*
 * A notice: a loss the source counted without a seq gap is a LOST item (the
 * gap itself replays the others); other notices are skipped (0).
 */
static int jsonl_notice(struct da_trace_reader *r, json_t *o, struct da_record_item *item,
			char *err, size_t errlen)
{
	json_t *kind = json_object_get(o, "kind"), *gap = json_object_get(o, "seq_gap");
	json_t *first = json_object_get(o, "first_seq"), *n = json_object_get(o, "count");
	char why[160];

	if (!json_is_string(kind) || strcmp(json_string_value(kind), "lost") || !json_is_false(gap))
		return 0;
	if (!json_is_integer(first) || !json_is_integer(n) || json_integer_value(first) < 0 ||
	    json_integer_value(n) < 0) {
		snprintf(err, errlen,
			 "%s: line %llu: a lost notice without non-negative integer first_seq and"
			 " count",
			 r->in.name, (unsigned long long)r->line_no);
		return -1;
	}
	item->type = DA_REC_LOST;
	item->first_seq = (uint64_t)json_integer_value(first);
	item->count = (uint64_t)json_integer_value(n);
	if (da_lost_check(item->first_seq, item->count, why, sizeof(why))) {
		snprintf(err, errlen, "%s: line %llu: lost notice: %s", r->in.name,
			 (unsigned long long)r->line_no, why);
		return -1;
	}
	return 1;
}

/* One JSON line: 1 = an item, 0 = nothing to feed (finding, summary, other notice), -1 = err */
static int jsonl_item(struct da_trace_reader *r, json_t *o, struct da_record_item *item, char *err,
		      size_t errlen)
{
	json_t *type = json_object_get(o, "type");
	const char *t = json_is_string(type) ? json_string_value(type) : NULL;

	if (type && !t) {
		snprintf(err, errlen, "%s: line %llu: 'type' must be a string", r->in.name,
			 (unsigned long long)r->line_no);
		return -1;
	}
	if (!t || !strcmp(t, "event")) {
		item->type = DA_REC_EVENT;
		return jsonl_event(r, o, &item->event, err, errlen);
	}
	if (!strcmp(t, "header")) {
		snprintf(err, errlen,
			 "%s: line %llu: a header line after the first line (two traces"
			 " concatenated? replay them one at a time)",
			 r->in.name, (unsigned long long)r->line_no);
		return -1;
	}
	if (!strcmp(t, "notice"))
		return jsonl_notice(r, o, item, err, errlen);
	if (!strcmp(t, "finding") || !strcmp(t, "summary"))
		return 0;
	snprintf(err, errlen,
		 "%s: line %llu: unknown line type \"%s\" (expected header, event, finding,"
		 " notice or summary)",
		 r->in.name, (unsigned long long)r->line_no, t);
	return -1;
}

static int jsonl_next(struct da_trace_reader *r, struct da_record_item *item, char *err,
		      size_t errlen)
{
	json_t *o;
	int ret;

	if (r->first_err[0]) {
		snprintf(err, errlen, "%s", r->first_err);
		return -1;
	}
	do {
		if (r->first) {
			o = r->first;
			r->first = NULL;
		} else if ((ret = next_object(r, &o, err, errlen)) <= 0) {
			return ret;
		}
		ret = jsonl_item(r, o, item, err, errlen);
		json_decref(o);
	} while (ret == 0);
	return ret;
}

/* ---- either format ---- */

int da_trace_reader_header(struct da_trace_reader *r, struct da_trace_info *trace,
			   struct da_symbols *syms, char *err, size_t errlen)
{
	char source[sizeof(trace->source)];

	r->trace = trace;
	r->syms = syms;
	if (!r->rec) {
		jsonl_header(r);
		return 0;
	}
	/* the header describes the recorded kernel; the source stays the caller's */
	memcpy(source, trace->source, sizeof(source));
	if (da_record_read_header(r->rec, trace, err, errlen))
		return -1;
	memcpy(trace->source, source, sizeof(source));
	return 0;
}

int da_trace_reader_next(struct da_trace_reader *r, struct da_record_item *item, char *err,
			 size_t errlen)
{
	if (r->rec)
		return da_record_next(r->rec, item, err, errlen);
	return jsonl_next(r, item, err, errlen);
}
