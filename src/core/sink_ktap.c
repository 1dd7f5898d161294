// SPDX-License-Identifier: GPL-2.0
/*
 * --format ktap: a KTAP version 1 document (Documentation/dev-tools/ktap.rst)
 * with one test per rule, in the order of da_rules, so kernel CI that reads
 * kselftest/KUnit output shows dma-buf contract breaches next to the test
 * that caused them.
 *
 *   KTAP version 1
 *   1..16
 *   # dmabuf-audit 0.1.0: kernel 7.3.4, source live, 24 of 24 hooks attached
 *   # event: ...                     (--events, as they happen)
 *   # notice (lost): ...             (as they happen)
 *   # critical access-after-revoke at seq 42 ...   (the rule's findings, then its result)
 *   not ok 1 access-after-revoke
 *   ok 2 access-attempt-after-revoke
 *   ok 3 missing-fence-wait # SKIP disabled by policy
 *   # Summary: ...
 *
 * A rule's test fails when one of its findings reaches --fail-on, the same
 * threshold as the exit status; findings below it are listed as diagnostics
 * of a passing test.  Diagnostic lines of a test come directly before its
 * result line, as ktap.rst asks.
 */
#include <errno.h>
#include <stdlib.h>

#include "dmabuf_audit/rules.h"
#include "finding_store.h"
#include "sink.h"

struct ktap_sink {
	struct da_sink base;
	struct da_store store;
	bool store_ok;
};

static int ktap_begin(struct da_sink *s)
{
	struct ktap_sink *k = (struct ktap_sink *)s;
	unsigned int attached = 0;

	k->store_ok = !da_store_init(&k->store);
	if (!k->store_ok) {
		s->error = errno ? errno : ENOMEM;
		return -1;
	}
	for (unsigned int i = 0; i < s->trace->n_hooks; i++)
		attached += s->trace->hooks[i].attached;
	fprintf(s->out, "KTAP version 1\n1..%d\n", DA_RULE__COUNT);
	fprintf(s->out, "# " DA_TOOL_NAME " " DA_VERSION ": kernel %s, source %s, %u of %u hooks"
			" attached, failing at severity %s or above\n",
		s->trace->kernel[0] ? s->trace->kernel : "unknown",
		s->trace->source[0] ? s->trace->source : "live", attached, s->trace->n_hooks,
		da_severity_name(s->opts->fail_on));
	return 0;
}

static void ktap_event(struct da_sink *s, const struct da_event *ev)
{
	da_text_event_line(s->out, s, "# event: ", ev);
}

static void ktap_finding(struct da_sink *s, const struct da_finding *f)
{
	struct ktap_sink *k = (struct ktap_sink *)s;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem) {
		s->error = errno;
		return;
	}
	da_text_render_finding(mem, s, f, "# ", true);
	if (fclose(mem) || da_store_add(&k->store, f, buf, len))
		s->error = k->store.error ? k->store.error : ENOMEM;
	free(buf);
}

static void ktap_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
			json_t *extra)
{
	fprintf(s->out, "# notice (%s): %s\n", da_notice_kind_name(kind), msg);
}

static int ktap_end(struct da_sink *s, const struct da_summary *sum)
{
	struct ktap_sink *k = (struct ktap_sink *)s;
	struct da_store *st = &k->store;
	size_t i = 0;

	da_store_sort_by_rule(st);
	for (int r = 0; r < DA_RULE__COUNT; r++) {
		bool fails = false;
		size_t below = 0;

		for (; i < st->n && st->entries[i].rule == r; i++) {
			char *text = da_store_text(st, &st->entries[i]);

			if (da_sev_fails(s->opts, st->entries[i].severity))
				fails = true;
			else
				below++;
			if (!text) {
				s->error = st->error ? st->error : ENOMEM;
				fprintf(s->out, "# (finding text could not be read back)\n");
				continue;
			}
			fputs(text, s->out);
			free(text);
		}
		if (below)
			fprintf(s->out, "# %s: %zu finding%s below --fail-on %s\n",
				da_rules[r].name, below, below == 1 ? "" : "s",
				da_severity_name(s->opts->fail_on));
		if (!s->opts->policy.rule_enabled[r])
			fprintf(s->out, "ok %d %s # SKIP disabled by policy\n", r + 1,
				da_rules[r].name);
		else
			fprintf(s->out, "%s %d %s\n", fails ? "not ok" : "ok", r + 1,
				da_rules[r].name);
	}
	da_text_summary(s->out, s, sum, "# ");
	return s->error ? -1 : 0;
}

static void ktap_free(struct da_sink *s)
{
	struct ktap_sink *k = (struct ktap_sink *)s;

	if (k->store_ok)
		da_store_fini(&k->store);
	free(k);
}

static const struct da_sink_ops ktap_ops = {
	.begin = ktap_begin,
	.event = ktap_event,
	.finding = ktap_finding,
	.notice = ktap_notice,
	.end = ktap_end,
	.free = ktap_free,
};

struct da_sink *da_sink_ktap_new(void)
{
	struct ktap_sink *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->base.ops = &ktap_ops;
	return &k->base;
}
