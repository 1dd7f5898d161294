// SPDX-License-Identifier: GPL-2.0
/*
 * The report sinks print unsigned 64-bit values as unsigned: in text as
 * decimal digits, in JSON as integers below 2^63 and as a string of decimal
 * digits from 2^63 on (jansson's integers are signed; docs/output.md).  A
 * LOST notice whose range runs past the last seq ends at the last seq
 * instead of wrapping around.  The metrics file and the JSON stats record
 * are sinks of the pipeline too: a metrics file that cannot be written
 * (watch: best effort) is a notice in the report, and one when it is
 * written again, both before the last stats record and the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/sink.h"
#include "dmabuf_audit/pipeline.h"
#include "tap.h"

#define SEQ_NEAR_END 18446744073709551600ull /* 2^64 - 16 */
#define COUNT_HALF 9223372036854775808ull /* 2^63 */

/* The report of a trace that only loses `count` events from `first_seq`, in `format`. */
static char *report_of_loss(enum da_format format, uint64_t first_seq, uint64_t count)
{
	char path[] = "/tmp/test-sinks-XXXXXX", err[256];
	struct da_opts opts = { 0 };
	struct da_trace_info trace = { 0 };
	struct da_pipeline_config cfg = { 0 };
	struct da_pipeline *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	close(fd);
	da_policy_init_default(&opts.policy);
	opts.format = format;
	opts.output = path;
	opts.fail_on = DA_SEV_HIGH;
	snprintf(trace.kernel, sizeof(trace.kernel), "test");
	snprintf(trace.source, sizeof(trace.source), "unit");
	cfg.opts = &opts;
	cfg.trace = &trace;
	cfg.symbols = da_symbols_new();
	p = da_pipeline_new(&cfg, err, sizeof(err));
	if (!p) {
		printf("# pipeline: %s\n", err);
	} else {
		int max_severity;

		da_pipeline_begin(p);
		da_pipeline_lost(p, first_seq, count);
		if (da_pipeline_end(p, &max_severity))
			printf("# pipeline: the report could not be written\n");
		da_pipeline_free(p);
		f = fopen(path, "r");
		if (f) {
			if (getdelim(&text, &len, '\0', f) < 0) {
				free(text);
				text = NULL;
			}
			fclose(f);
		}
	}
	da_symbols_free(cfg.symbols);
	unlink(path);
	return text;
}

static bool has(const char *text, const char *needle)
{
	if (strstr(text, needle))
		return true;
	printf("# missing \"%s\" in:\n%s", needle, text);
	return false;
}

static bool lacks(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		return true;
	printf("# unexpected \"%s\" in:\n%s", needle, text);
	return false;
}

static bool lost_near_seq_end_text(void)
{
	char *t = report_of_loss(DA_FMT_TEXT, SEQ_NEAR_END, COUNT_HALF);
	bool ok;

	CHECK(t);
	ok = has(t, "9223372036854775808 events lost (seq 18446744073709551600 to "
		    "18446744073709551615), counted by the source") &&
	     has(t, "events (9223372036854775808 lost)") && lacks(t, "to 15)");
	free(t);
	return ok;
}

static bool lost_near_seq_end_json(void)
{
	char *t = report_of_loss(DA_FMT_JSON, SEQ_NEAR_END, COUNT_HALF);
	bool ok;

	CHECK(t);
	ok = has(t, "\"first_seq\":\"18446744073709551600\"") &&
	     has(t, "\"count\":\"9223372036854775808\"") &&
	     has(t, "\"lost\":\"9223372036854775808\"") && lacks(t, ":-");
	free(t);
	return ok;
}

/* values below 2^63 stay JSON integers */
static bool lost_small_json_integers(void)
{
	char *t = report_of_loss(DA_FMT_JSON, 5, 3);
	bool ok;

	CHECK(t);
	ok = has(t, "\"first_seq\":5,\"count\":3,") && has(t, "\"lost\":3,") &&
	     has(t, "3 events lost (seq 5 to 7), counted by the source");
	free(t);
	return ok;
}

/* the largest count that still ends at the last seq is printed exactly */
static bool lost_to_last_seq_text(void)
{
	char *t = report_of_loss(DA_FMT_TEXT, SEQ_NEAR_END, 16);
	bool ok;

	CHECK(t);
	ok = has(t, "16 events lost (seq 18446744073709551600 to 18446744073709551615)");
	free(t);
	return ok;
}

static char *event_json(const struct da_event *ev)
{
	json_t *o = da_event_to_json(ev, NULL, NULL, true);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static bool event_u64_fields(void)
{
	struct da_event ev = { 0 };
	char details[256], *j;
	bool ok;

	ev.op = DA_OP_EXPORT;
	ev.seq = COUNT_HALF;
	ev.ts_ns = INT64_MAX;
	ev.buf = 0xffff888100001000ull;
	ev.resv = 0xffff888100001100ull;
	ev.ino = UINT64_MAX;
	ev.size = COUNT_HALF + 1;
	j = event_json(&ev);
	CHECK(j);
	ok = has(j, "\"seq\":\"9223372036854775808\"") &&
	     has(j, "\"ts_ns\":9223372036854775807,") &&
	     has(j, "\"ino\":\"18446744073709551615\"") &&
	     has(j, "\"size\":\"9223372036854775809\"") && lacks(j, ":-");
	free(j);
	CHECK(ok);

	memset(&ev, 0, sizeof(ev));
	ev.op = DA_OP_FENCE_WAIT;
	ev.resv = 0xffff888100001100ull;
	ev.timeout = UINT64_MAX;
	ev.ret = -512;
	da_event_details(details, sizeof(details), &ev, NULL, NULL);
	CHECK(has(details, "timeout=18446744073709551615 ret=-512"));
	j = event_json(&ev);
	CHECK(j);
	ok = has(j, "\"timeout\":\"18446744073709551615\"") && has(j, "\"ret\":-512");
	free(j);
	return ok;
}

static char *read_all(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* the order of needles in text, each after the one before */
static bool in_order(const char *text, const char *const *needles, unsigned int n)
{
	const char *at = text;

	for (unsigned int i = 0; i < n; i++) {
		const char *next = strstr(at, needles[i]);

		if (!next) {
			printf("# missing \"%s\" after the one before in:\n%s", needles[i], text);
			return false;
		}
		at = next + strlen(needles[i]);
	}
	return true;
}

/* a pipeline whose metrics folder appears between two ticks (watch: best effort) */
static bool run_metrics_best_effort(const char *dir, const char *prom, const char *report)
{
	struct da_opts opts = { 0 };
	struct da_trace_info trace = { 0 };
	struct da_pipeline_config cfg = { 0 };
	struct da_pipeline *p;
	char err[256];
	int max_severity, ret;

	da_policy_init_default(&opts.policy);
	opts.format = DA_FMT_JSON;
	opts.output = report;
	opts.fail_on = DA_SEV_HIGH;
	opts.metrics = prom;
	opts.metrics_interval = 1;
	snprintf(trace.kernel, sizeof(trace.kernel), "test");
	cfg.opts = &opts;
	cfg.trace = &trace;
	cfg.stats_interval_s = 1;
	cfg.metrics_best_effort = true;
	p = da_pipeline_new(&cfg, err, sizeof(err));
	if (!p) {
		printf("# pipeline: %s\n", err);
		return false;
	}
	da_pipeline_begin(p);
	da_pipeline_service_tick(p, 1000000000ull); /* the first: metrics, not written */
	CHECK(mkdir(dir, 0700) == 0);
	/* 2 s on: a stats record and the metrics, written again */
	CHECK(da_pipeline_service_tick(p, 3000000000ull));
	ret = da_pipeline_end(p, &max_severity);
	da_pipeline_free(p);
	CHECK(ret == 0);
	return true;
}

static bool metrics_best_effort_notices(void)
{
	char dir[] = "/tmp/test-sinks-XXXXXX", prom[64], report[64];
	const char *const order[] = {
		"{\"type\":\"header\"", "metrics: ", "tried again every 1 s",
		"{\"type\":\"stats\"", "written again", "{\"type\":\"stats\"",
		"{\"type\":\"summary\"",
	};
	char *text, *metrics;
	bool ok;

	CHECK(mkdtemp(dir));
	snprintf(report, sizeof(report), "%s.json", dir);
	snprintf(prom, sizeof(prom), "%s/m.prom", dir);
	CHECK(rmdir(dir) == 0);
	ok = run_metrics_best_effort(dir, prom, report);
	text = read_all(report);
	metrics = read_all(prom);
	ok = ok && text && metrics && in_order(text, order, 7) &&
	     has(metrics, "dmabuf_audit_up 0\n");
	free(text);
	free(metrics);
	unlink(prom);
	unlink(report);
	rmdir(dir);
	return ok;
}

TAP_MAIN(TAP_TEST(lost_near_seq_end_text), TAP_TEST(lost_near_seq_end_json),
	 TAP_TEST(lost_small_json_integers), TAP_TEST(lost_to_last_seq_text),
	 TAP_TEST(event_u64_fields), TAP_TEST(metrics_best_effort_notices))
