// SPDX-License-Identifier: GPL-2.0
/*
 * The service log (--log journal; include/dmabuf_audit/service.h) as a sink
 * of the pipeline: each finding that passed the finding stage with its text
 * (the text report's rendering with the history, no colour) and the
 * repeats held back before it, each notice, and the summary with the final
 * figures.  The journal's protocol is src/service/systemd.c's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dmabuf_audit/service.h"
#include "sink.h"

struct log_sink {
	struct da_sink base;
	const struct da_service_log *log;
};

static const struct da_service_log *log_of(struct da_sink *s)
{
	return ((struct log_sink *)s)->log;
}

/*
 * What render writes to a memory stream, for the log (free it); NULL out
 * of memory, and the log gets the short form instead.
 */
static char *render_text(void (*render)(FILE *out, struct da_sink *s, const void *what),
			 struct da_sink *s, const void *what)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem) {
		render(mem, s, what);
		if (fclose(mem))
			len = 0;
	}
	if (text && len)
		return text;
	free(text);
	return NULL;
}

static void render_finding(FILE *out, struct da_sink *s, const void *f)
{
	da_text_render_finding(out, s, f, "", true);
}

static void render_summary(FILE *out, struct da_sink *s, const void *sum)
{
	da_text_summary(out, s, sum, "");
}

static int log_begin(struct da_sink *s)
{
	return 0;
}

static void log_event(struct da_sink *s, const struct da_event *ev)
{
}

static void log_finding(struct da_sink *s, const struct da_finding *f)
{
	char *text = render_text(render_finding, s, f);

	/* out of memory: the structured fields still go, with the one-line message */
	log_of(s)->finding(log_of(s)->ctx, f, text ? text : f->message, f->repeats);
	free(text);
}

static void log_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg, json_t *extra)
{
	log_of(s)->notice(log_of(s)->ctx, kind, msg);
}

static int log_end(struct da_sink *s, const struct da_summary *sum)
{
	char *text = render_text(render_summary, s, sum);

	log_of(s)->summary(log_of(s)->ctx, s->stats, text ? text : "Summary");
	free(text);
	return 0;
}

static void log_free(struct da_sink *s)
{
	free(s);
}

static const struct da_sink_ops log_ops = DA_SINK_OPS(log);

struct da_sink *da_sink_log_new(const struct da_service_log *log)
{
	struct log_sink *l = (struct log_sink *)da_sink_alloc(sizeof(*l), &log_ops);

	if (l)
		l->log = log;
	return l ? &l->base : NULL;
}
