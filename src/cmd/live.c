// SPDX-License-Identifier: GPL-2.0
/*
 * The live commands: `watch` (until a signal or --duration) and
 * `run -- CMD` (CMD starts only once every hook is live; trace until it
 * exits).  The trace itself is src/live/trace.c.
 *
 * Signals: the first SIGINT/SIGTERM stops the trace (run: forwards it to
 * CMD and waits for CMD); a second one exits at once.  Nothing is pinned,
 * so every hook goes away with the process either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../live/live.h"
#include "dmabuf_audit/pipeline.h"

static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t last_signal;
static volatile pid_t child_pid;

static void on_signal(int sig)
{
	if (signals_seen++ >= 1)
		_exit(128 + sig);
	last_signal = sig;
	if (child_pid > 0)
		kill(child_pid, sig);
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_trace(struct da_live_trace *t, const struct da_opts *opts, bool live)
{
	char err[1024];

	if (!da_live_trace_open(t, opts, live, err, sizeof(err)))
		return 0;
	fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
	return -1;
}

static int poll_trace(struct da_live_trace *t)
{
	char err[256];
	int ret = da_live_trace_poll(t, err, sizeof(err));

	if (ret < 0)
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
	return ret;
}

int da_cmd_watch(struct da_opts *opts)
{
	struct da_live_trace t;
	uint64_t deadline = 0;
	int max;

	install_signals();
	if (open_trace(&t, opts, true))
		return DA_EXIT_USAGE;
	if (opts->duration > 0)
		deadline = mono_ns() + (uint64_t)(opts->duration * 1e9);
	while (!signals_seen && (!deadline || mono_ns() < deadline))
		if (poll_trace(&t) < 0)
			break;
	if (da_live_trace_finish(&t, &max))
		return DA_EXIT_USAGE;
	return da_exit_status(opts, max);
}

/*
 * Start CMD: the child waits until the parent has set up --follow, then
 * execs; an exec failure comes back through a close-on-exec pipe.
 */
static pid_t start_command(struct da_live_trace *t, const struct da_opts *opts, char **argv,
			   int *exec_errno)
{
	int go[2], status[2];
	pid_t pid;
	char byte = 1;
	int err = 0;

	if (pipe2(go, O_CLOEXEC) || pipe2(status, O_CLOEXEC)) {
		*exec_errno = errno;
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*exec_errno = errno;
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(go[1]);
		close(status[0]);
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		err = errno;
		if (write(status[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(status[1]);
	if (opts->follow) {
		int ret = da_live_trace_follow(t, pid);

		if (ret)
			fprintf(stderr, DA_TOOL_NAME ": --follow: cannot track %d: %s\n", pid,
				strerror(-ret));
	}
	if (write(go[1], &byte, 1) != 1)
		kill(pid, SIGKILL);
	close(go[1]);
	if (read(status[0], &err, sizeof(err)) == sizeof(err))
		*exec_errno = err;
	close(status[0]);
	return pid;
}

/* trace until CMD exits (or the trace fails: CMD is stopped); CMD's wait status */
static int trace_command(struct da_live_trace *t, pid_t pid, const char *name)
{
	int wstatus = 0;

	child_pid = pid;
	for (;;) {
		pid_t done = waitpid(pid, &wstatus, WNOHANG);

		if (done == pid)
			break;
		if (done < 0 && errno != EINTR) {
			fprintf(stderr, DA_TOOL_NAME " run: waiting for %s: %s\n", name,
				strerror(errno));
			break;
		}
		if (poll_trace(t) < 0) {
			kill(pid, SIGTERM);
			waitpid(pid, &wstatus, 0);
			break;
		}
	}
	child_pid = 0;
	return wstatus;
}

int da_cmd_run(struct da_opts *opts, int argc, char **argv)
{
	struct da_live_trace t;
	int exec_errno = 0, wstatus, max;
	pid_t pid;

	if (argc < 1) {
		fprintf(stderr, DA_TOOL_NAME " run: missing command\n");
		return DA_EXIT_USAGE;
	}
	install_signals();
	if (open_trace(&t, opts, false))
		return DA_EXIT_USAGE; /* CMD is not started */
	if (signals_seen) {
		/* stopped during setup: CMD is not started */
		da_live_trace_finish(&t, &max);
		return 128 + last_signal;
	}
	pid = start_command(&t, opts, argv, &exec_errno);
	if (pid < 0 || exec_errno) {
		fprintf(stderr, DA_TOOL_NAME " run: cannot run %s: %s\n", argv[0],
			strerror(exec_errno));
		if (pid > 0)
			waitpid(pid, NULL, 0);
		da_live_trace_finish(&t, &max);
		return DA_EXIT_USAGE;
	}
	wstatus = trace_command(&t, pid, argv[0]);
	if (da_live_trace_finish(&t, &max))
		return DA_EXIT_USAGE;
	if (da_exit_status(opts, max) != DA_EXIT_OK)
		return da_exit_status(opts, max);
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return DA_EXIT_USAGE;
}
