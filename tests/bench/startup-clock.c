// SPDX-License-Identifier: GPL-2.0
/*
 * startup-clock: the guest's stopwatch for the start-up setting of
 * make bench-live (tests/vm/bench.sh).  Every time it prints is
 * CLOCK_MONOTONIC in nanoseconds, the clock dmabuf-audit's
 * DMABUF_AUDIT_TIMING marks use, so the host's report can set the tool's
 * phases, the command's start and the other tools' against one start.
 *
 *   startup-clock exit CMD [ARG...]
 *	start CMD, wait for it; prints "t0 NS" (just before the exec) and
 *	"exit NS" (its end), and "status N".
 *   startup-clock lines NAME CMD [ARG...]
 *	start CMD with its standard output on a pseudo-terminal (line
 *	buffered, as on a terminal, where a pipe would hold the lines in
 *	stdio's buffer); prints "t0 NS",
 *	"first-line NS" when its first line arrives (a libbpf-tools tool
 *	prints its header once attached), then opens NAME every 10 ms
 *	until the next line arrives and prints "first-event NS" (the tool
 *	saw an open; one open was seen missed once), then stops CMD with
 *	SIGINT and prints "exit NS".
 *   startup-clock cmd STAMPS TRIGGER TEXT
 *	the command under `dmabuf-audit run`: writes "cmd-start NS" to
 *	STAMPS, writes TEXT into TRIGGER (the test module's bench entry: a
 *	dma-buf call in this process), "cmd-trigger NS", stays one second
 *	for the tool's next read of its ring buffer, then "cmd-end NS".
 *
 * Bounded: a command that prints no line for 300 s is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_TIMEOUT_MS (300 * 1000)
#define OPEN_EVERY_MS 10

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void stamp(FILE *out, const char *what)
{
	fprintf(out, "%s %llu\n", what, now_ns());
	fflush(out);
}

/* fork and exec argv; with out_path its standard output is opened there */
static pid_t spawn(char **argv, const char *out_path)
{
	pid_t pid;
	int fd;

	fflush(NULL);
	pid = fork();
	if (pid)
		return pid;
	if (out_path) {
		fd = open(out_path, O_WRONLY | O_NOCTTY);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		close(fd);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "startup-clock: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int wait_status(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_to_exit(char **argv)
{
	pid_t pid;
	int status;

	stamp(stdout, "t0");
	pid = spawn(argv, NULL);
	if (pid < 0)
		return 1;
	status = wait_status(pid);
	stamp(stdout, "exit");
	printf("status %d\n", status);
	return status ? 1 : 0;
}

/*
 * Read fd until a newline arrives; 0, or -1 on end of file or timeout.
 * With `name`, open it every OPEN_EVERY_MS meanwhile.
 */
static int wait_line(int fd, const char *name)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int waited = 0, step = name ? OPEN_EVERY_MS : LINE_TIMEOUT_MS;
	char c;

	while (waited < LINE_TIMEOUT_MS) {
		int n = poll(&pfd, 1, step);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n) {
			waited += step;
			if (name)
				close(open(name, O_RDONLY));
			continue;
		}
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			return 0;
	}
	return -1;
}

static int run_to_lines(const char *name, char **argv)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), ret = 1;
	const char *slave;
	pid_t pid;

	if (master < 0 || grantpt(master) || unlockpt(master) || !(slave = ptsname(master))) {
		fprintf(stderr, "startup-clock: no pseudo-terminal: %s\n", strerror(errno));
		return 1;
	}
	stamp(stdout, "t0");
	pid = spawn(argv, slave);
	if (pid < 0)
		return 1;
	if (!wait_line(master, NULL)) {
		stamp(stdout, "first-line");
		close(open(name, O_RDONLY));
		if (!wait_line(master, name)) {
			stamp(stdout, "first-event");
			ret = 0;
		}
	}
	kill(pid, SIGINT);
	wait_status(pid);
	close(master);
	stamp(stdout, "exit");
	return ret;
}

static int command(const char *stamps, const char *trigger, const char *text)
{
	FILE *out = fopen(stamps, "w");
	int fd, ok;

	if (!out)
		return 1;
	stamp(out, "cmd-start");
	fd = open(trigger, O_WRONLY);
	ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (fd >= 0)
		close(fd);
	stamp(out, "cmd-trigger");
	sleep(1);
	stamp(out, "cmd-end");
	fclose(out);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "exit"))
		return run_to_exit(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "lines"))
		return run_to_lines(argv[2], argv + 3);
	if (argc == 5 && !strcmp(argv[1], "cmd"))
		return command(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: startup-clock exit CMD... | lines NAME CMD... |"
			" cmd STAMPS TRIGGER TEXT\n");
	return 2;
}
