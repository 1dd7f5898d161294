// SPDX-License-Identifier: GPL-2.0
/*
 * --format junit: one <testsuite name="dmabuf-audit"> with a <testcase> per
 * rule (da_rules order) and a <failure message=… type=severity> per finding
 * that reaches --fail-on (the exit status threshold); findings below it go
 * to the test case's <system-out>, disabled rules are <skipped>.  Events
 * (--events), notices and the summary go to the suite's <system-out>.
 *
 * XML is written by hand: a small escaper is all it needs (jansson is for
 * JSON only).  Text is kept valid XML 1.0: markup characters become
 * entities, control characters other than tab and newline and bytes that
 * are not UTF-8 become '?'.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/rules.h"
#include "finding_store.h"
#include "sink.h"

struct junit_sink {
	struct da_sink base;
	struct da_store store;
	/* the suite's <system-out>: events, notices; spilled like the findings */
	FILE *sysout;
	char *sysout_mem;
	size_t sysout_len;
};

/* length of a valid UTF-8 sequence at s (n bytes left), or 0 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode, U+FFFE/FFFF: not XML characters */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

/* a markup character's entity in character data or an attribute value, or NULL */
static const char *xml_entity(unsigned char c, bool attr)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return attr ? "&quot;" : NULL;
	case '\'':
		return attr ? "&apos;" : NULL;
	case '\n':
		return attr ? "&#10;" : NULL;
	case '\t':
		return attr ? "&#9;" : NULL;
	default:
		return NULL;
	}
}

/* write n bytes of s as XML character data (attr: also escape quotes and newlines) */
static void xml_escape(FILE *out, const char *s, size_t n, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		const char *entity = xml_entity(c, attr);
		size_t len;

		if (entity) {
			fputs(entity, out);
			i++;
			continue;
		}
		/* the other control characters are not XML 1.0 characters */
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			fputc('?', out);
			i++;
			continue;
		}
		len = utf8_len(p + i, n - i);
		if (!len) {
			fputc('?', out);
			i++;
			continue;
		}
		fwrite(p + i, 1, len, out);
		i += len;
	}
}

static void xml_str(FILE *out, const char *s, bool attr)
{
	xml_escape(out, s, strlen(s), attr);
}

static int junit_begin(struct da_sink *s)
{
	struct junit_sink *j = (struct junit_sink *)s;

	if (da_sink_store_open(s, &j->store))
		return -1;
	j->sysout = tmpfile();
	if (!j->sysout)
		j->sysout = open_memstream(&j->sysout_mem, &j->sysout_len);
	if (!j->sysout) {
		s->error = errno ? errno : ENOMEM;
		return -1;
	}
	/* the document is written at the end, when every verdict is known */
	return 0;
}

static void junit_event(struct da_sink *s, const struct da_event *ev)
{
	struct junit_sink *j = (struct junit_sink *)s;

	da_text_event_line(j->sysout, s, "event: ", ev);
}

/* stored as "message\0details" so the end can split attribute and body */
static void junit_render(FILE *out, const struct da_sink *s, const struct da_finding *f)
{
	fputs(f->message ? f->message : "", out);
	fputc('\0', out);
	da_text_render_finding(out, s, f, "", true);
}

static void junit_finding(struct da_sink *s, const struct da_finding *f)
{
	da_sink_store_finding(s, &((struct junit_sink *)s)->store, f, junit_render);
}

static void junit_notice(struct da_sink *s, enum da_notice_kind kind, const char *msg,
			 json_t *extra)
{
	struct junit_sink *j = (struct junit_sink *)s;

	fprintf(j->sysout, "notice (%s): %s\n", da_notice_kind_name(kind), msg);
}

static void property(FILE *out, const char *name, const char *value)
{
	fprintf(out, "    <property name=\"%s\" value=\"", name);
	xml_str(out, value, true);
	fputs("\"/>\n", out);
}

static void property_u64(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, "    <property name=\"%s\" value=\"%" PRIu64 "\"/>\n", name, v);
}

/* copy the spilled system-out into the document, escaped */
static void copy_sysout(struct junit_sink *j, FILE *out)
{
	char buf[8192];
	size_t n;

	if (fflush(j->sysout) || fseek(j->sysout, 0, SEEK_SET)) {
		j->base.error = errno ? errno : EIO;
		return;
	}
	/* split only at line ends so a UTF-8 sequence is never cut */
	while (fgets(buf, sizeof(buf), j->sysout)) {
		n = strlen(buf);
		xml_escape(out, buf, n, false);
	}
	if (ferror(j->sysout))
		j->base.error = EIO;
}

/* rule_fails[r]: a finding of rule r reaches --fail-on */
static void junit_verdicts(struct da_sink *s, const struct da_store *st, bool *rule_fails,
			   unsigned int *failing, unsigned int *skipped)
{
	for (size_t i = 0; i < st->n; i++)
		if (da_sev_fails(s->opts, st->entries[i].severity))
			rule_fails[st->entries[i].rule % DA_RULE__COUNT] = true;
	for (int r = 0; r < DA_RULE__COUNT; r++) {
		if (!s->opts->policy.rule_enabled[r])
			(*skipped)++;
		else if (rule_fails[r])
			(*failing)++;
	}
}

static void junit_suite_head(struct da_sink *s, const struct da_summary *sum, unsigned int failing,
			     unsigned int skipped)
{
	FILE *out = s->out;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
		"<testsuite name=\"" DA_TOOL_NAME "\" tests=\"%d\" failures=\"%u\" errors=\"0\""
		" skipped=\"%u\">\n",
		DA_RULE__COUNT, failing, skipped);
	fputs("  <properties>\n", out);
	property(out, "version", DA_VERSION);
	property(out, "kernel", s->trace->kernel);
	property(out, "source", s->trace->source[0] ? s->trace->source : "live");
	property(out, "fail-on", da_severity_name(s->opts->fail_on));
	property_u64(out, "events", sum->events);
	property_u64(out, "lost", sum->lost);
	property_u64(out, "buffers", sum->buffers);
	property_u64(out, "attachments", sum->attachments);
	property_u64(out, "partial", sum->partial);
	property_u64(out, "suppressed", sum->suppressed);
	fputs("  </properties>\n", out);
}

/*
 * The stored findings in [first, end) that fail (or, !failing, pass) the
 * --fail-on threshold: as <failure> elements, or their details as text.
 */
static void junit_findings(struct da_sink *s, struct da_store *st, size_t first, size_t end,
			   bool failing)
{
	for (size_t e = first; e < end; e++) {
		const struct da_store_entry *ent = &st->entries[e];
		char *text;
		size_t mlen;

		if (da_sev_fails(s->opts, ent->severity) != failing)
			continue;
		text = da_sink_store_text(s, st, ent);
		if (!text)
			continue;
		mlen = strlen(text);
		if (failing) {
			fputs("    <failure message=\"", s->out);
			xml_escape(s->out, text, mlen, true);
			fprintf(s->out, "\" type=\"%s\">", da_severity_name(ent->severity));
		}
		if (mlen < ent->len)
			xml_escape(s->out, text + mlen + 1, ent->len - mlen - 1, false);
		if (failing)
			fputs("</failure>\n", s->out);
		free(text);
	}
}

/* rule r's <testcase>, its findings being entries [first, end) */
static void junit_testcase(struct da_sink *s, struct da_store *st, int r, size_t first, size_t end)
{
	size_t below = 0;

	for (size_t e = first; e < end; e++)
		below += !da_sev_fails(s->opts, st->entries[e].severity);
	fprintf(s->out, "  <testcase classname=\"" DA_TOOL_NAME "\" name=\"%s\">\n",
		da_rules[r].name);
	if (!s->opts->policy.rule_enabled[r])
		fputs("    <skipped message=\"disabled by policy\"/>\n", s->out);
	junit_findings(s, st, first, end, true);
	if (below) {
		fprintf(s->out, "    <system-out>%zu finding%s below --fail-on %s:\n", below,
			below == 1 ? "" : "s", da_severity_name(s->opts->fail_on));
		junit_findings(s, st, first, end, false);
		fputs("</system-out>\n", s->out);
	}
	fputs("  </testcase>\n", s->out);
}

/* the suite's <system-out>: events, notices, then the summary */
static void junit_suite_sysout(struct junit_sink *j, const struct da_summary *sum)
{
	struct da_sink *s = &j->base;
	char *sum_text = NULL;
	size_t sum_len = 0;
	FILE *mem;

	fputs("  <system-out>", s->out);
	copy_sysout(j, s->out);
	mem = open_memstream(&sum_text, &sum_len);
	if (mem) {
		da_text_summary(mem, s, sum, "");
		fclose(mem);
		xml_escape(s->out, sum_text, sum_len, false);
		free(sum_text);
	}
	fputs("</system-out>\n</testsuite>\n", s->out);
}

static int junit_end(struct da_sink *s, const struct da_summary *sum)
{
	struct junit_sink *j = (struct junit_sink *)s;
	struct da_store *st = &j->store;
	bool rule_fails[DA_RULE__COUNT] = { 0 };
	unsigned int failing = 0, skipped = 0;
	size_t first = 0, end;

	junit_verdicts(s, st, rule_fails, &failing, &skipped);
	junit_suite_head(s, sum, failing, skipped);
	da_store_sort_by_rule(st);
	for (int r = 0; r < DA_RULE__COUNT; r++, first = end) {
		end = da_store_rule_end(st, first, r);
		junit_testcase(s, st, r, first, end);
	}
	junit_suite_sysout(j, sum);
	return s->error ? -1 : 0;
}

static void junit_free(struct da_sink *s)
{
	struct junit_sink *j = (struct junit_sink *)s;

	da_store_fini(&j->store);
	if (j->sysout)
		fclose(j->sysout);
	free(j->sysout_mem);
	free(j);
}

static const struct da_sink_ops junit_ops = DA_SINK_OPS(junit);

struct da_sink *da_sink_junit_new(void)
{
	return da_sink_alloc(sizeof(struct junit_sink), &junit_ops);
}
