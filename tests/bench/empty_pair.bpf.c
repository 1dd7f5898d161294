// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of the trampoline itself, for make bench-live: an fentry and an
 * fexit program that do nothing.  tests/bench/empty-pair.c opens this object
 * once per kernel function and attaches both programs to it, on the
 * functions dmabuf-audit hooks.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry")
int empty_entry(void *ctx)
{
	return 0;
}

SEC("fexit")
int empty_exit(void *ctx)
{
	return 0;
}
