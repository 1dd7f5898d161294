/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `run --format ktap -- CMD` with the report on standard output: one KTAP
 * document (Documentation/dev-tools/ktap.rst) with two tests, CMD's own
 * results and the audit's, each as a nested subtest (docs/output.md
 * "Nested KTAP"):
 *
 *   KTAP version 1
 *   1..2
 *     TAP version 13            CMD's lines, streamed as CMD prints them,
 *     # Subtest: udmabuf        indented one level; lines that are not
 *     1..6                      KTAP become diagnostics ("# ...")
 *     ok 1 ...
 *   ok 1 udmabuf                 CMD's exit status: 0 ok, 4 SKIP, else not ok
 *     KTAP version 1            the audit's report (sink_ktap.c), written
 *     # Subtest: dmabuf-audit   to a temporary file while CMD runs and
 *     1..16                     copied in once the trace has ended
 *     ok 1 access-after-revoke
 *     ...
 *   ok 2 dmabuf-audit            not ok when a finding reached --fail-on
 *
 * While the trace runs, file descriptor 1 is that temporary file, so the
 * report sink writes to standard output as always; the document goes to
 * the real standard output, kept on another descriptor.  CMD's standard
 * output is a pipe read by a thread of its own, line by line with a fixed
 * buffer: nothing of CMD's output is held beyond one line (a longer line
 * is passed on in pieces).
 */
#ifndef DMABUF_AUDIT_KTAP_NEST_H
#define DMABUF_AUDIT_KTAP_NEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

/* longest piece of a line handled at once; a longer line is passed on in pieces */
#define DA_KTAP_NEST_LINE 4096
/* a test name: CMD's base name, reduced to characters every KTAP reader takes */
#define DA_KTAP_NEST_NAME 64
/* CMD's stdout is relayed after CMD exits until quiet this long (its children) ... */
#define DA_KTAP_NEST_QUIET_MS 200
/* ... and never longer than this */
#define DA_KTAP_NEST_LINGER_MS 2000

struct da_ktap_nest {
	FILE *doc;		/* the real standard output: the document */
	FILE *report;		/* the audit's report, fd 1 while the trace runs */
	int cmd_pipe[2];	/* CMD's standard output */
	pthread_t relay;
	bool relay_started;
	int stop;		/* CMD exited: the relay ends at EOF or once quiet */
	bool cmd_started;	/* the document's header is out */
	bool cmd_doc;		/* a version line was seen in CMD's output */
	bool cmd_cut;		/* the relay stopped before EOF (CMD's children kept writing) */
	char name[DA_KTAP_NEST_NAME];
};

/*
 * Before the trace opens: the temporary report file becomes fd 1, the
 * pipe for CMD is made.  0, or -1 with a message in err (nothing changed).
 */
int da_ktap_nest_open(struct da_ktap_nest *n, const char *cmd, char *err, size_t errlen);
/* In CMD's process, before exec: its standard output is the pipe. */
void da_ktap_nest_child(struct da_ktap_nest *n);
/* In the parent, CMD started: the document's header, the relay thread. */
int da_ktap_nest_cmd_started(struct da_ktap_nest *n);
/* CMD exited with wstatus (waitpid): the rest of its output, then its result line. */
void da_ktap_nest_cmd_done(struct da_ktap_nest *n, int wstatus);
/*
 * The trace has ended (the report is complete in the temporary file):
 * fd 1 is standard output again, the report is copied in as test 2,
 * failed when audit_failed (a finding reached --fail-on) or report_broken
 * (the report could not be written whole).  0, or -1 when the document
 * could not be written (the message is on stderr).
 */
int da_ktap_nest_finish(struct da_ktap_nest *n, bool audit_failed, bool report_broken);
/* Setup failed before CMD started: standard output back, nothing written. */
void da_ktap_nest_abort(struct da_ktap_nest *n);

#endif /* DMABUF_AUDIT_KTAP_NEST_H */
