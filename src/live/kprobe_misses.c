// SPDX-License-Identifier: GPL-2.0
/*
 * Calls a kprobe or kretprobe of ours missed.  The kernel does not run a
 * kprobe's program when the kprobe is hit while another kprobe runs on the
 * CPU, and it does not run a kretprobe's program when the function was
 * entered while all the kretprobe's instances were in use (`maxactive`: by
 * default max(10, 2 * possible CPUs) tasks inside the function at once;
 * register_kretprobe() in kernel/kprobes.c).  Neither is a BPF recursion
 * miss (the program never ran): the kernel counts them in the probe's
 * nmissed (trace_kprobe_missed() in kernel/trace/trace_kprobe.c: the
 * kprobe's plus, for a kretprobe, the return probe's), which a perf event
 * link's info reports since 6.7 (bpf_perf_link_fill_kprobe() in
 * kernel/bpf/syscall.c).  Before 6.7 the count is out of reach: libbpf's
 * kprobes are perf events of the kprobe PMU, which are not in
 * /sys/kernel/tracing/kprobe_profile (create_local_trace_kprobe()), and
 * their maxactive cannot be raised.
 *
 * The build's <linux/bpf.h> may be older than 6.7: the layout of the part
 * of struct bpf_link_info read here is written out, and
 * da_kernel_facts_from_btf() checks it against the running kernel's BTF
 * before anything is read.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "live.h"

/* enum bpf_perf_event_type (uapi, 6.6+) */
#define DA_PERF_EVENT_KPROBE 3
#define DA_PERF_EVENT_KRETPROBE 4
/* enum bpf_link_type (uapi, 5.15+) */
#define DA_LINK_TYPE_PERF_EVENT 7

/* struct bpf_link_info up to perf_event.kprobe (uapi, 6.7+) */
struct da_kprobe_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 union_pad; /* the union is 8-byte aligned */
	__u32 perf_event_type; /* enum bpf_perf_event_type */
	__u32 perf_event_pad;
	__u64 func_name; /* in/out: none asked for */
	__u32 name_len;
	__u32 offset;
	__u64 addr;
	__u64 missed;
	__u64 cookie;
};

_Static_assert(offsetof(struct da_kprobe_link_info, missed) == DA_KPROBE_LINK_MISSED_OFFSET,
	       "the offset da_kernel_facts_from_btf() checks");

int da_kprobe_link_missed(int link_fd, uint64_t *missed)
{
	struct da_kprobe_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	/* a kernel whose struct is shorter takes it: the tail we pass is zero */
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	if (info.type != DA_LINK_TYPE_PERF_EVENT || len < sizeof(info) ||
	    (info.perf_event_type != DA_PERF_EVENT_KPROBE &&
	     info.perf_event_type != DA_PERF_EVENT_KRETPROBE))
		return 0;
	*missed = info.missed;
	return 1;
}
