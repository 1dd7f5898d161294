/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the core hooks (dmabuf_audit.bpf.c) and the revoke scope hooks
 * (scope.bpf.c) share: the ring buffer, the counters (sequence number and
 * loss count), the stack map, the --follow set, the filters, and the
 * record reservation.  The scope object is opened once per scope function
 * after the core object is loaded; the loader hands it the core object's
 * maps with bpf_map__reuse_fd(), so every record of a run lands in one ring
 * buffer with one sequence.
 */
#ifndef DMABUF_AUDIT_COMMON_BPF_H
#define DMABUF_AUDIT_COMMON_BPF_H

#include "kernel_types.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "dmabuf_audit/event.h"

/* sizes: include/dmabuf_audit/event.h, shared with the loader */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, DA_RINGBUF_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DA_CTR__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* --stacks: the loader raises max_entries to DA_STACK_ENTRIES; 1 entry when off */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, DA_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* --follow: tgids of CMD and its descendants */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} followed SEC(".maps");

/* Options, set by the loader before load (the verifier prunes what is off). */
const volatile __u32 filter_tgid = 0; /* --pid */
const volatile bool filter_follow = false; /* --follow */
const volatile bool capture_stacks = false; /* --stacks */
/*
 * Wake the consumer only when the unread data crosses this many bytes (0:
 * the kernel's default, a wakeup whenever the consumer has caught up).  A
 * wakeup is an irq_work and a cross-CPU wakeup on the hooked call's path,
 * for a consumer that then reads one or two records; the consumer reads
 * every poll interval anyway (src/live/source.c).
 */
const volatile __u32 wakeup_bytes = 0;
/*
 * make bench-live's "mirror" (DMABUF_AUDIT_BENCH_MIRROR=1): every hook
 * program returns at once, so the same attach points in the same modes
 * cost what the trampolines and kprobes alone cost, the floor our program
 * bodies are measured against.  Off, the verifier removes the branch.
 */
const volatile bool bench_mirror = false;
#define DA_MIRROR_GUARD()             \
	do {                          \
		if (bench_mirror)     \
			return 0;     \
	} while (0)

char LICENSE[] SEC("license") = "GPL";

static __always_inline bool da_filtered_out(__u32 tgid)
{
	if (filter_tgid && tgid != filter_tgid)
		return true;
	if (filter_follow && !bpf_map_lookup_elem(&followed, &tgid))
		return true;
	return false;
}

static __always_inline void da_count(__u32 idx)
{
	__u64 *val = bpf_map_lookup_elem(&counters, &idx);

	if (val)
		__sync_fetch_and_add(val, 1);
}

/*
 * Reserve a zeroed record with the common fields filled, or NULL when the
 * task is filtered out or the ring buffer is full.  The sequence number is
 * taken just before the reservation, so a failed reservation (counted in
 * DA_CTR_LOST) is also a gap in seq that userspace sees.
 */
static __always_inline struct da_event *da_reserve(void *ctx, __u8 op)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 idx = DA_CTR_SEQ;
	struct da_event *e;
	__u64 *next, seq;

	if (da_filtered_out(pid_tgid >> 32))
		return NULL;
	next = bpf_map_lookup_elem(&counters, &idx);
	if (!next)
		return NULL;
	seq = __sync_fetch_and_add(next, 1);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		da_count(DA_CTR_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->seq = seq;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->cpu = bpf_get_smp_processor_id();
	e->op = op;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/*
	 * the workload: userspace names its cgroup, unit, container
	 * (src/core/cgroup.c).  A seed record is read by our own iterator:
	 * its task is dmabuf-audit, not the buffer's user, so it has none.
	 */
	if (op != DA_OP_SEED_BUFFER && op != DA_OP_SEED_ATTACHMENT)
		e->cgroup_id = bpf_get_current_cgroup_id();
	if (capture_stacks) {
		long id = bpf_get_stackid(ctx, &stacks, 0);

		e->stack_id = (__s32)id;
		if (id >= 0)
			e->flags |= DA_F_STACK;
	}
	return e;
}

static __always_inline void da_submit(struct da_event *e)
{
	__u64 unread;

	if (!wakeup_bytes) {
		bpf_ringbuf_submit(e, 0);
		return;
	}
	/*
	 * This record is already counted (reserved).  Wake once, as the
	 * unread data crosses the mark; a crossing missed by a race between
	 * CPUs is caught at the consumer's next poll timeout.
	 */
	unread = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (unread >= wakeup_bytes && unread < wakeup_bytes + 2 * (sizeof(*e) + BPF_RINGBUF_HDR_SZ))
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	else
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* flag bits in the owner words: MUTEX_FLAGS, RT_MUTEX_HAS_WAITERS */
#define DA_MUTEX_FLAGS 0x07UL
#define DA_RT_MUTEX_FLAGS 0x01UL

/*
 * The task that owns a reservation lock, as a number (0: unowned), or false
 * when this kernel's lock has neither owner word.  Non-RT: the mutex's
 * atomic owner word, read directly when `direct` (a typed fentry/fexit
 * pointer).  PREEMPT_RT: the rt_mutex's owner pointer, always through
 * bpf_core_read(): a direct load would give the verifier a task pointer,
 * and masking its flag bit is pointer arithmetic it refuses.  Which branch
 * a kernel takes is decided by CO-RE at load time; the other is dead code.
 */
static __always_inline bool da_resv_owner(struct dma_resv *resv, bool direct,
					  unsigned long *owner)
{
	struct dma_resv___rt *rt = (void *)resv;
	long word = 0;

	if (bpf_core_field_exists(resv->lock.base.owner)) {
		if (direct)
			word = resv->lock.base.owner.counter;
		else if (bpf_core_read(&word, sizeof(word), &resv->lock.base.owner))
			return false;
		*owner = (unsigned long)word & ~DA_MUTEX_FLAGS;
		return true;
	}
	if (bpf_core_field_exists(rt->lock.base.rtmutex.owner)) {
		if (bpf_core_read(&word, sizeof(word), &rt->lock.base.rtmutex.owner))
			return false;
		*owner = (unsigned long)word & ~DA_RT_MUTEX_FLAGS;
		return true;
	}
	return false;
}

/* read by the attach hook and by the seed alike */

/* the importer's invalidate callback, under whichever name this kernel uses */
static __always_inline __u64 da_invalidate_cb(const struct dma_buf_attach_ops *ops)
{
	const struct dma_buf_attach_ops___move_notify *old = (const void *)ops;

	if (!ops)
		return 0;
	if (bpf_core_field_exists(ops->invalidate_mappings))
		return (__u64)BPF_CORE_READ(ops, invalidate_mappings);
	if (bpf_core_field_exists(old->move_notify))
		return (__u64)BPF_CORE_READ(old, move_notify);
	return 0;
}

/* dev_name(): init_name until the kobject has its name */
static __always_inline void da_dev_name(struct device *dev, char *dst, __u32 len)
{
	const char *name;

	if (!dev)
		return;
	name = BPF_CORE_READ(dev, init_name);
	if (!name)
		name = BPF_CORE_READ(dev, kobj.name);
	if (name)
		bpf_probe_read_kernel_str(dst, len, name);
}

#endif /* DMABUF_AUDIT_COMMON_BPF_H */
