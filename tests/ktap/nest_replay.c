// SPDX-License-Identifier: GPL-2.0
/*
 * nest-replay BIN TRACE [REPLAY-OPTION...] -- CMD [ARG...]
 *
 * The host's stand-in for `BIN run --format ktap -- CMD`: the build
 * machine's kernel refuses BPF tracing, so `run` cannot attach here.  It
 * makes the same calls as run_command (src/cmd/watch.c) in the same order:
 * the temporary report file becomes fd 1, CMD runs with its standard output
 * on the relay's pipe, its result line follows its exit; then the audit
 * writes its KTAP report to fd 1, here `BIN replay --format ktap TRACE`
 * instead of the live trace, and the report is nested as test 2.  The exit
 * status follows run's rule: the audit's when it is not 0, else CMD's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/ktap_nest.h"

static int wait_for(pid_t pid)
{
	int wstatus = 0;

	while (waitpid(pid, &wstatus, 0) < 0)
		;
	return wstatus;
}

static int replay_report(char **replay_argv)
{
	pid_t pid;
	int wstatus;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execv(replay_argv[0], replay_argv);
		perror(replay_argv[0]);
		_exit(127);
	}
	wstatus = wait_for(pid);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : DA_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	char *replay_argv[64] = { NULL };
	struct da_ktap_nest nest;
	int sep = 0, n = 0, wstatus, audit;
	char err[512];
	pid_t pid;

	for (int i = 1; i < argc && !sep; i++)
		if (!strcmp(argv[i], "--"))
			sep = i;
	if (argc < 4 || !sep || sep < 3 || sep + 1 >= argc || sep + 4 > 64) {
		fprintf(stderr, "usage: nest-replay BIN TRACE [REPLAY-OPTION...] -- CMD [ARG...]\n");
		return DA_EXIT_USAGE;
	}
	replay_argv[n++] = argv[1];
	replay_argv[n++] = "replay";
	replay_argv[n++] = "--format";
	replay_argv[n++] = "ktap";
	for (int i = 3; i < sep; i++)
		replay_argv[n++] = argv[i];
	replay_argv[n++] = argv[2];

	if (da_ktap_nest_open(&nest, argv[sep + 1], err, sizeof(err))) {
		fprintf(stderr, "nest-replay: %s\n", err);
		return DA_EXIT_USAGE;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		da_ktap_nest_child(&nest);
		execvp(argv[sep + 1], argv + sep + 1);
		perror(argv[sep + 1]);
		_exit(127);
	}
	if (pid < 0 || da_ktap_nest_cmd_started(&nest)) {
		perror("nest-replay: starting CMD");
		return DA_EXIT_USAGE;
	}
	wstatus = wait_for(pid);
	da_ktap_nest_cmd_done(&nest, wstatus);
	audit = replay_report(replay_argv);
	if (da_ktap_nest_finish(&nest, audit == DA_EXIT_FINDINGS_DEFAULT, audit >= DA_EXIT_USAGE))
		return DA_EXIT_USAGE;
	if (audit)
		return audit;
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : DA_EXIT_USAGE;
}
