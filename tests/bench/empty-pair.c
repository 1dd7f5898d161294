// SPDX-License-Identifier: GPL-2.0
/*
 * empty-pair FUNC...: attach an empty fentry/fexit pair
 * (tests/bench/empty_pair.bpf.c) to each kernel function named, print
 * "attached N" once all are attached, and hold them until SIGINT/SIGTERM.
 * A function this kernel lacks (no BTF FUNC record) is skipped with a line
 * "skipped FUNC: reason" on standard error; no function attached at all
 * is an error (exit 2).  The floor of make bench-live's comparison: what
 * the trampolines alone cost on the functions dmabuf-audit hooks.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "empty_pair.skel.h"

#define MAX_FUNCS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

/* open, target, load and attach one pair; 0 or -errno */
static int attach_pair(const char *func, struct empty_pair_bpf **out)
{
	struct empty_pair_bpf *skel = empty_pair_bpf__open();
	int err;

	*out = NULL;
	if (!skel)
		return -errno;
	err = bpf_program__set_attach_target(skel->progs.empty_entry, 0, func);
	if (!err)
		err = bpf_program__set_attach_target(skel->progs.empty_exit, 0, func);
	if (!err)
		err = empty_pair_bpf__load(skel);
	if (!err)
		err = empty_pair_bpf__attach(skel);
	if (err) {
		empty_pair_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int main(int argc, char **argv)
{
	struct empty_pair_bpf *pairs[MAX_FUNCS];
	int n = 0;

	if (argc < 2 || argc - 1 > MAX_FUNCS) {
		fprintf(stderr, "usage: empty-pair FUNC... (at most %d)\n", MAX_FUNCS);
		return 2;
	}
	libbpf_set_print(silent);
	for (int i = 1; i < argc; i++) {
		int err = attach_pair(argv[i], &pairs[n]);

		if (err)
			fprintf(stderr, "skipped %s: %s\n", argv[i], strerror(-err));
		else
			n++;
	}
	if (!n) {
		fprintf(stderr, "empty-pair: no function could be attached\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	for (int i = 0; i < n; i++)
		empty_pair_bpf__destroy(pairs[i]);
	return 0;
}
