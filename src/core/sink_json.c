// SPDX-License-Identifier: GPL-2.0
/*
 * --format json: JSON Lines as docs/output.md defines them.  Everything is
 * written as it happens (header, events, findings, notices), so a live run
 * and a replay of its events produce the same lines in the same order; the
 * summary is the last line.
 */
#include <errno.h>
#include <stdlib.h>

#include "sink.h"

static void put(struct da_sink *s, json_t *obj)
{
	if (da_json_write_line(s->out, obj) && !s->error)
		s->error = errno ? errno : EIO;
}

static int json_begin(struct da_sink *s)
{
	put(s, da_header_to_json(s->trace));
	return s->error ? -1 : 0;
}

static void json_event(struct da_sink *s, const struct da_event *ev)
{
	put(s, da_event_to_json(ev, s->symbols, s->trace, true));
}

static void json_finding(struct da_sink *s, const struct da_finding *f)
{
	put(s, da_finding_to_json(f, s->symbols, s->trace, s->opts->stacks));
}

static void json_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
			json_t *extra)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string("notice"));
	json_object_set_new(o, "kind", json_string(da_notice_kind_name(kind)));
	json_object_set_new(o, "message", da_json_text(msg));
	if (extra)
		json_object_update(o, extra);
	put(s, o);
}

/* a stats record (docs/output.md "Service") */
static void json_stats(struct da_sink *s, const struct da_stats *st)
{
	put(s, da_stats_to_json(st));
	if (s->live)
		fflush(s->out);
}

static int json_end(struct da_sink *s, const struct da_summary *sum)
{
	put(s, da_summary_to_json(sum));
	return s->error ? -1 : 0;
}

static void json_free(struct da_sink *s)
{
	free(s);
}

static const struct da_sink_ops json_ops = {
	.begin = json_begin,
	.event = json_event,
	.finding = json_finding,
	.notice = json_notice,
	.end = json_end,
	.free = json_free,
	.stats = json_stats,
};

struct da_sink *da_sink_json_new(void)
{
	return da_sink_alloc(sizeof(struct da_sink), &json_ops);
}
