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
};

static int ktap_begin(struct da_sink *s)
{
	struct ktap_sink *k = (struct ktap_sink *)s;
	char kernel[sizeof(s->trace->kernel)], source[sizeof(s->trace->source)];

	if (da_sink_store_open(s, &k->store))
		return -1;
	fprintf(s->out, "KTAP version 1\n1..%d\n", DA_RULE__COUNT);
	fprintf(s->out, "# " DA_TOOL_NAME " " DA_VERSION ": kernel %s, source %s, %u of %u hooks"
			" attached, failing at severity %s or above\n",
		s->trace->kernel[0] ? da_clean_arg(kernel, sizeof(kernel), s->trace->kernel) :
				      "unknown",
		s->trace->source[0] ? da_clean_arg(source, sizeof(source), s->trace->source) :
				      "live",
		da_hooks_attached(s->trace),
		s->trace->n_hooks, da_severity_name(s->opts->fail_on));
	return 0;
}

static void ktap_event(struct da_sink *s, const struct da_event *ev)
{
	da_text_event_line(s->out, s, "# event: ", ev);
}

/* a finding as the diagnostic lines of its rule's test */
static void ktap_render(FILE *out, const struct da_sink *s, const struct da_finding *f)
{
	da_text_render_finding(out, s, f, "# ", true);
}

static void ktap_finding(struct da_sink *s, const struct da_finding *f)
{
	da_sink_store_finding(s, &((struct ktap_sink *)s)->store, f, ktap_render);
}

static void ktap_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
			json_t *extra)
{
	char text[DA_CLEAN_MAX];

	fprintf(s->out, "# notice (%s): %s\n", da_notice_kind_name(kind),
		da_clean_arg(text, sizeof(text), msg));
}

/* the findings of rule r, entries [first, end), then its result line */
static void ktap_rule_test(struct da_sink *s, struct da_store *st, int r, size_t first,
			   size_t end)
{
	bool fails = false;
	size_t below = 0;

	for (size_t i = first; i < end; i++) {
		char *text = da_sink_store_text(s, st, &st->entries[i]);

		if (da_sev_fails(s->opts, st->entries[i].severity))
			fails = true;
		else
			below++;
		fputs(text ? text : "# (finding text could not be read back)\n", s->out);
		free(text);
	}
	if (below)
		fprintf(s->out, "# %s: %zu finding%s below --fail-on %s\n", da_rules[r].name, below,
			below == 1 ? "" : "s", da_severity_name(s->opts->fail_on));
	if (!s->opts->policy.rule_enabled[r])
		fprintf(s->out, "ok %d %s # SKIP disabled by policy\n", r + 1, da_rules[r].name);
	else
		fprintf(s->out, "%s %d %s\n", fails ? "not ok" : "ok", r + 1, da_rules[r].name);
}

static int ktap_end(struct da_sink *s, const struct da_summary *sum)
{
	struct da_store *st = &((struct ktap_sink *)s)->store;
	size_t first = 0, end;

	da_store_sort_by_rule(st);
	for (int r = 0; r < DA_RULE__COUNT; r++, first = end) {
		end = da_store_rule_end(st, first, r);
		ktap_rule_test(s, st, r, first, end);
	}
	da_text_summary(s->out, s, sum, "# ");
	return s->error ? -1 : 0;
}

static void ktap_free(struct da_sink *s)
{
	da_store_fini(&((struct ktap_sink *)s)->store);
	free(s);
}

static const struct da_sink_ops ktap_ops = DA_SINK_OPS(ktap);

struct da_sink *da_sink_ktap_new(void)
{
	return da_sink_alloc(sizeof(struct ktap_sink), &ktap_ops);
}
