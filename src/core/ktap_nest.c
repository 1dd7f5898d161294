// SPDX-License-Identifier: GPL-2.0
/*
 * Nested KTAP for `run --format ktap -- CMD` (include/dmabuf_audit/ktap_nest.h,
 * docs/output.md "Nested KTAP").
 *
 * Every line of a subtest is indented two spaces (ktap.rst, "Nested
 * tests").  CMD's lines keep their own indentation under ours, so a
 * kselftest's own nesting survives.  Parsers do not go by indentation
 * (kunit.py strips it): they go by version, plan and result lines.  So
 * what would be read as such a line has to be one: before CMD's version
 * line every line is a diagnostic (a stray "ok 1" there would count as a
 * result of its own), and after it what is neither a version, plan, result
 * nor diagnostic line gets "# " in front.  "# Subtest: NAME" after the
 * version line names the subtest as KUnit does, so a parser finds the
 * parent's result line by its name even when CMD was cut short before all
 * the results its plan announced.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/ktap_nest.h"
#include "sink.h"

#define KSFT_SKIP 4	/* a kselftest's exit status when it skipped (kselftest.h) */

enum line_kind { LINE_EMPTY, LINE_VERSION, LINE_PLAN, LINE_RESULT, LINE_DIAG, LINE_OTHER };

/* one stream of lines (CMD's output, the report) becoming one subtest */
struct line_relay {
	FILE *doc;
	const char *name;	/* "# Subtest: NAME" after the first version line */
	bool *doc_seen;		/* that version line was seen */
	bool mid_line;		/* a piece of a long line went out, its newline not yet */
	size_t len;
	char buf[DA_KTAP_NEST_LINE];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool starts_digit_after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(s, prefix, n) && s[n] >= '0' && s[n] <= '9';
}

/* "KTAP version N" / "TAP version N", nothing after the number */
static bool is_version(const char *s)
{
	const char *v = !strncmp(s, "KTAP version ", 13) ? s + 13 :
			!strncmp(s, "TAP version ", 12) ? s + 12 : NULL;

	if (!v || !*v)
		return false;
	while (*v >= '0' && *v <= '9')
		v++;
	while (*v == ' ')
		v++;
	return !*v;
}

/* "# Subtest: NAME" names the test that follows (KUnit's header line) */
static bool is_subtest_header(const char *s)
{
	while (*s == ' ')
		s++;
	if (*s++ != '#')
		return false;
	while (*s == ' ')
		s++;
	return !strncmp(s, "Subtest:", 8);
}

static enum line_kind classify(const char *line)
{
	while (*line == ' ')
		line++;
	if (!*line)
		return LINE_EMPTY;
	if (is_version(line))
		return LINE_VERSION;
	if (starts_digit_after(line, "1.."))
		return LINE_PLAN;
	if (starts_digit_after(line, "ok ") || starts_digit_after(line, "not ok "))
		return LINE_RESULT;
	return *line == '#' ? LINE_DIAG : LINE_OTHER;
}

/*
 * One piece of a line, cleaned by the rule of every text line we write
 * (docs/output.md "Strings from the trace"; a tab becomes a space first),
 * indented; the start of a line is classified and made a diagnostic when
 * it must be one.
 */
static void emit_piece(struct line_relay *r, char *data, size_t len, bool ends_line)
{
	char clean[DA_KTAP_NEST_LINE + 1];
	enum line_kind kind = LINE_OTHER;
	const char *lead = "";

	if (ends_line && len && data[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\t')
			data[i] = ' ';
		else if (!data[i])
			data[i] = '\x01'; /* a control character: '?', and no end of the string */
	}
	da_clean_str(clean, sizeof(clean), data, len);
	if (!r->mid_line) {
		kind = classify(clean);
		if (kind == LINE_VERSION && !*r->doc_seen && ends_line)
			*r->doc_seen = true;
		else if (kind == LINE_OTHER || (!*r->doc_seen && kind != LINE_EMPTY &&
						(kind != LINE_DIAG || is_subtest_header(clean))))
			lead = "# ";
	}
	if (kind == LINE_EMPTY && ends_line && !r->mid_line)
		fputc('\n', r->doc);
	else
		fprintf(r->doc, "%s%s%s%s", r->mid_line ? "" : "  ", lead, clean,
			ends_line ? "\n" : "");
	if (kind == LINE_VERSION && lead[0] == '\0' && !r->mid_line && r->name) {
		fprintf(r->doc, "  # Subtest: %s\n", r->name);
		r->name = NULL;
	}
	r->mid_line = !ends_line;
}

/* bytes as they come: whole lines out, a line longer than the buffer in pieces */
static void relay_data(struct line_relay *r, const char *data, size_t n)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		size_t room = sizeof(r->buf) - r->len;

		if (take >= room) {
			size_t cut;

			memcpy(r->buf + r->len, data, room);
			r->len += room;
			data += room;
			n -= room;
			/* not inside a UTF-8 character: its bytes stay together */
			cut = r->len;
			while (cut > r->len - 3 && (r->buf[cut - 1] & 0xc0) == 0x80)
				cut--;
			if (cut > 0 && (unsigned char)r->buf[cut - 1] >= 0xc0)
				cut--;
			if (!cut)
				cut = r->len;
			emit_piece(r, r->buf, cut, false);
			memmove(r->buf, r->buf + cut, r->len - cut);
			r->len -= cut;
			continue;
		}
		memcpy(r->buf + r->len, data, take);
		r->len += take;
		data += take;
		n -= take;
		if (nl) {
			emit_piece(r, r->buf, r->len, true);
			r->len = 0;
			data++;
			n--;
		}
	}
}

/* the end of the stream: a last line without its newline gets one */
static void relay_end(struct line_relay *r)
{
	if (r->len || r->mid_line)
		emit_piece(r, r->buf, r->len, true);
	r->len = 0;
	fflush(r->doc);
}

/*
 * CMD's standard output until EOF; once CMD has exited (stop), until it has
 * been quiet for DA_KTAP_NEST_QUIET_MS or DA_KTAP_NEST_LINGER_MS have
 * passed: a child of CMD that keeps the pipe open must not hold the run.
 */
static void *relay_main(void *arg)
{
	struct da_ktap_nest *n = arg;
	struct line_relay *r = calloc(1, sizeof(*r));
	uint64_t last_data = mono_ms(), stopped_at = 0;
	char chunk[4096];

	if (!r)
		return NULL;
	r->doc = n->doc;
	r->name = n->name;
	r->doc_seen = &n->cmd_doc;
	for (;;) {
		struct pollfd pfd = { .fd = n->cmd_pipe[0], .events = POLLIN };
		int ready = poll(&pfd, 1, 50);
		uint64_t now;

		if (ready > 0) {
			ssize_t got = read(n->cmd_pipe[0], chunk, sizeof(chunk));

			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
				break;
			if (got > 0) {
				relay_data(r, chunk, (size_t)got);
				fflush(r->doc);
				last_data = mono_ms();
			}
		} else if (ready < 0 && errno != EINTR) {
			break;
		}
		if (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE))
			continue;
		now = mono_ms();
		if (!stopped_at)
			stopped_at = now;
		if (now - last_data >= DA_KTAP_NEST_QUIET_MS ||
		    now - stopped_at >= DA_KTAP_NEST_LINGER_MS) {
			n->cmd_cut = true;
			break;
		}
	}
	relay_end(r);
	free(r);
	return NULL;
}

/* CMD's base name with what a KTAP test name may not hold ('#', spaces, controls) as '_' */
static void test_name(char *dst, size_t len, const char *cmd)
{
	const char *base = cmd ? strrchr(cmd, '/') : NULL;
	size_t o = 0;

	base = base ? base + 1 : cmd ? cmd : "";
	for (; *base && o + 1 < len; base++) {
		char c = *base;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("_.+-:,=@", c);

		dst[o++] = keep ? c : '_';
	}
	dst[o] = '\0';
	if (!o)
		snprintf(dst, len, "command");
}

int da_ktap_nest_open(struct da_ktap_nest *n, const char *cmd, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int real = -1, report = -1;

	memset(n, 0, sizeof(*n));
	n->cmd_pipe[0] = n->cmd_pipe[1] = -1;
	test_name(n->name, sizeof(n->name), cmd);
	snprintf(path, sizeof(path), "%s/dmabuf-audit-ktap.XXXXXX", dir && *dir ? dir : "/tmp");
	fflush(stdout);
	report = mkostemp(path, O_CLOEXEC);
	if (report < 0) {
		snprintf(err, errlen, "--format ktap: cannot create a temporary file for the report"
			 " in %s: %s", dir && *dir ? dir : "/tmp", strerror(errno));
		return -1;
	}
	unlink(path);
	real = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	n->doc = real >= 0 ? fdopen(real, "w") : NULL;
	n->report = fdopen(report, "w+");
	if (!n->doc || !n->report || pipe2(n->cmd_pipe, O_CLOEXEC) ||
	    dup2(report, STDOUT_FILENO) < 0) {
		snprintf(err, errlen, "--format ktap: cannot set up the nested report: %s",
			 strerror(errno));
		if (n->doc)
			fclose(n->doc);
		else if (real >= 0)
			close(real);
		if (n->report)
			fclose(n->report);
		else
			close(report);
		for (int i = 0; i < 2; i++)
			if (n->cmd_pipe[i] >= 0)
				close(n->cmd_pipe[i]);
		memset(n, 0, sizeof(*n));
		return -1;
	}
	return 0;
}

void da_ktap_nest_child(struct da_ktap_nest *n)
{
	dup2(n->cmd_pipe[1], STDOUT_FILENO);
}

int da_ktap_nest_cmd_started(struct da_ktap_nest *n)
{
	sigset_t all, old;
	int ret;

	close(n->cmd_pipe[1]);
	n->cmd_pipe[1] = -1;
	n->cmd_started = true;
	fputs("KTAP version 1\n1..2\n", n->doc);
	fflush(n->doc);
	/* signals are the main thread's (run forwards them to CMD) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&n->relay, NULL, relay_main, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	n->relay_started = !ret;
	if (ret) {
		/* nobody reads CMD's output: let its writes fail rather than block */
		close(n->cmd_pipe[0]);
		n->cmd_pipe[0] = -1;
		return -1;
	}
	return 0;
}

void da_ktap_nest_cmd_done(struct da_ktap_nest *n, int wstatus)
{
	__atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
	if (n->relay_started)
		pthread_join(n->relay, NULL);
	n->relay_started = false;
	if (n->cmd_pipe[0] >= 0)
		close(n->cmd_pipe[0]);
	n->cmd_pipe[0] = -1;
	/* diagnostics of test 1 come before its result line (ktap.rst) */
	if (!n->cmd_doc)
		fprintf(n->doc, "# %s: printed no KTAP version line: its output is above as"
			" diagnostics\n", n->name);
	if (n->cmd_cut)
		fprintf(n->doc, "# %s: its standard output was still open %d ms after it exited"
			" (a child of it?): what came later is not here\n", n->name,
			DA_KTAP_NEST_QUIET_MS);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		fprintf(n->doc, "ok 1 %s\n", n->name);
	} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == KSFT_SKIP) {
		fprintf(n->doc, "ok 1 %s # SKIP exit status 4 (a kselftest that skipped)\n",
			n->name);
	} else {
		if (WIFEXITED(wstatus))
			fprintf(n->doc, "# %s: exit status %d\n", n->name, WEXITSTATUS(wstatus));
		else if (WIFSIGNALED(wstatus))
			fprintf(n->doc, "# %s: killed by signal %d (%s)\n", n->name,
				WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
		fprintf(n->doc, "not ok 1 %s\n", n->name);
	}
	fflush(n->doc);
}

/* the report from its temporary file into the document, as test 2 */
static int copy_report(struct da_ktap_nest *n)
{
	struct line_relay *r = calloc(1, sizeof(*r));
	int fd = fileno(n->report);
	bool seen = false;
	char chunk[4096];
	ssize_t got;

	if (!r || lseek(fd, 0, SEEK_SET) < 0) {
		free(r);
		return -1;
	}
	r->doc = n->doc;
	r->name = DA_TOOL_NAME;
	r->doc_seen = &seen;
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		relay_data(r, chunk, (size_t)got);
	}
	relay_end(r);
	free(r);
	return got < 0 ? -1 : 0;
}

int da_ktap_nest_finish(struct da_ktap_nest *n, bool audit_failed, bool report_broken)
{
	int ret = 0;

	if (fflush(stdout) || ferror(stdout))
		report_broken = true;
	dup2(fileno(n->doc), STDOUT_FILENO);
	if (copy_report(n))
		report_broken = true;
	if (report_broken)
		fprintf(n->doc, "# " DA_TOOL_NAME ": the report above is not complete\n");
	fprintf(n->doc, "%s 2 " DA_TOOL_NAME "\n", audit_failed || report_broken ? "not ok" : "ok");
	if (fflush(n->doc) || ferror(n->doc)) {
		fprintf(stderr, DA_TOOL_NAME ": cannot write the KTAP document to standard output:"
			" %s\n", strerror(errno ? errno : EIO));
		ret = -1;
	}
	fclose(n->report);
	fclose(n->doc);
	memset(n, 0, sizeof(*n));
	return ret;
}

void da_ktap_nest_abort(struct da_ktap_nest *n)
{
	if (!n->doc)
		return;
	fflush(stdout); /* what the report got so far stays in its file */
	dup2(fileno(n->doc), STDOUT_FILENO);
	for (int i = 0; i < 2; i++)
		if (n->cmd_pipe[i] >= 0)
			close(n->cmd_pipe[i]);
	fclose(n->report);
	fclose(n->doc);
	memset(n, 0, sizeof(*n));
}
