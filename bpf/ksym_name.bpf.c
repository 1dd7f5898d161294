// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms asked of the kernel, one symbol at a time, instead of reading
 * /proc/kallsyms (5 MB of text, about a second under QEMU: it delayed the
 * start, then the first event, docs/performance.md "Start-up").  The
 * loader writes the question into .bss, runs a program (BPF_PROG_RUN) and
 * reads the answer:
 *   ksym_name    the name of an address, as the kernel's %pS prints it
 *                ("name+0x0/0x40 [module]": a symbol's start when the
 *                offset is 0), for importer ops tables and callbacks;
 *   ksym_lookup  whether a name is a symbol (kallsyms_lookup_name), for
 *                the planning of a hook no BTF and no ftrace list knows.
 * No CO-RE and no kernel BTF: loading it is the verification of a few
 * instructions.  Both helpers need root (CAP_PERFMON; the lookup also
 * kallsyms' addresses shown to us); refused, the loader reads kallsyms.
 */
#include "kernel_types.h"

#include <bpf/bpf_helpers.h>

#define KSYM_NAME_LEN 128

__u64 ksym_addr;
char ksym_text[192];

char ksym_query[KSYM_NAME_LEN];
__u64 ksym_found;
long ksym_err;

SEC("syscall")
int ksym_name(void *ctx)
{
	__u64 args[1] = { ksym_addr };

	bpf_snprintf(ksym_text, sizeof(ksym_text), "%pS", args, sizeof(args));
	return 0;
}

SEC("syscall")
int ksym_lookup(void *ctx)
{
	__u64 addr = 0;

	/* the size includes the NUL the helper checks for at its end */
	ksym_err = bpf_kallsyms_lookup_name(ksym_query, sizeof(ksym_query), 0, &addr);
	ksym_found = addr;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
