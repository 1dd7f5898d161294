// SPDX-License-Identifier: GPL-2.0
/*
 * Revoke scope hooks: a function during which an exporter revokes (VFIO's
 * vfio_pci_dma_buf_move(vdev, revoked) and vfio_pci_dma_buf_cleanup(vdev),
 * or what the policy names).  Emits scope_enter at entry and scope_exit at
 * return with fn = the scope slot, the first argument (the scope object)
 * in importer_ops, and the revoked argument when the function has one.
 *
 * This object is opened once per scope function (its knobs are per
 * instance) and may be loaded long after the core object, when the module
 * that has the function appears; the loader gives it the core object's
 * ring buffer, counters, stack map and --follow set (bpf_map__reuse_fd).
 */
#include "common.bpf.h"
#include "thread_slot.bpf.h"

const volatile __u8 scope_slot = 0;
/* index of the bool revoked argument, -1 when the function has none */
const volatile int revoked_arg = -1;

struct scope_args {
	__u64 object;
	__u64 revoked;
};

/*
 * kprobe mode: entry arguments for the kretprobe, in the thread's slot
 * (thread_slot.bpf.h), or by tid in scope_stash when another thread holds
 * the slot.  The same function called again on the thread before its
 * return overwrites the arguments in either, as the hash alone did.
 */
struct scope_slot {
	__u64 holder; /* scope_key() of the holder, 0 = free */
	struct scope_args args;
};

DA_THREAD_SLOT_MAP(scope_slots, struct scope_slot);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct scope_args);
} scope_stash SEC(".maps");

/* the thread id in the high half, never 0 */
static __always_inline __u64 scope_key(void)
{
	return (bpf_get_current_pid_tgid() << 32) | 1;
}

static __always_inline int emit_scope(void *ctx, __u8 op, __u64 object, __u64 revoked)
{
	struct da_event *e = da_reserve(ctx, op);

	if (!e)
		return 0;
	e->fn = scope_slot;
	e->importer_ops = object;
	if (revoked_arg >= 0) {
		e->flags |= DA_F_HAS_REVOKED;
		if (revoked & 0xff)
			e->flags |= DA_F_REVOKED;
	}
	da_submit(e);
	return 0;
}

static __always_inline void fentry_args(void *ctx, __u64 *object, __u64 *revoked)
{
	bpf_get_func_arg(ctx, 0, object);
	if (revoked_arg >= 0)
		bpf_get_func_arg(ctx, revoked_arg, revoked);
}

SEC("fentry")
int scope_fentry(__u64 *ctx)
{
	DA_MIRROR_GUARD();
	__u64 object = 0, revoked = 0;

	fentry_args(ctx, &object, &revoked);
	return emit_scope(ctx, DA_OP_SCOPE_ENTER, object, revoked);
}

SEC("fexit")
int scope_fexit(__u64 *ctx)
{
	DA_MIRROR_GUARD();
	__u64 object = 0, revoked = 0;

	fentry_args(ctx, &object, &revoked);
	return emit_scope(ctx, DA_OP_SCOPE_EXIT, object, revoked);
}

/*
 * The revoked argument by index.  Each branch reads the register at a
 * constant offset: without the barriers clang merges them into one load at
 * a computed offset, a variable ctx access the 6.x verifiers refuse.
 */
static __always_inline __u64 kprobe_arg(struct pt_regs *ctx, int idx)
{
	__u64 val = 0;

	if (idx == 1) {
		val = PT_REGS_PARM2(ctx);
		barrier_var(val);
	} else if (idx == 2) {
		val = PT_REGS_PARM3(ctx);
		barrier_var(val);
	} else if (idx == 3) {
		val = PT_REGS_PARM4(ctx);
		barrier_var(val);
	} else if (idx == 4) {
		val = PT_REGS_PARM5(ctx);
		barrier_var(val);
	} else if (idx == 0) {
		val = PT_REGS_PARM1(ctx);
		barrier_var(val);
	}
	return val;
}

SEC("kprobe")
int scope_kprobe(struct pt_regs *ctx)
{
	DA_MIRROR_GUARD();
	struct scope_args args = { .object = PT_REGS_PARM1(ctx) };
	__u64 key = scope_key();
	struct scope_slot *slot = da_thread_slot_of(&scope_slots, key);
	__u32 tid = key >> 32;

	if (revoked_arg >= 0)
		args.revoked = kprobe_arg(ctx, revoked_arg);
	if (slot && da_thread_slot_claim(&slot->holder, key) != DA_SLOT_TAKEN)
		slot->args = args;
	else
		bpf_map_update_elem(&scope_stash, &tid, &args, BPF_ANY);
	return emit_scope(ctx, DA_OP_SCOPE_ENTER, args.object, args.revoked);
}

SEC("kretprobe")
int scope_kretprobe(struct pt_regs *ctx)
{
	DA_MIRROR_GUARD();
	__u64 key = scope_key();
	struct scope_slot *slot = da_thread_slot_of(&scope_slots, key);
	__u32 tid = key >> 32;
	struct scope_args *stashed;
	struct scope_args args;

	if (slot && slot->holder == key) {
		args = slot->args;
		da_thread_slot_release(&slot->holder, key);
		return emit_scope(ctx, DA_OP_SCOPE_EXIT, args.object, args.revoked);
	}
	stashed = bpf_map_lookup_elem(&scope_stash, &tid);
	if (!stashed)
		return 0;
	args = *stashed;
	bpf_map_delete_elem(&scope_stash, &tid);
	return emit_scope(ctx, DA_OP_SCOPE_EXIT, args.object, args.revoked);
}

/*
 * iommufd's map path: int vfio_pci_dma_buf_iommufd_map(attach, phys), a
 * VFIO helper exported to iommufd only, which hands out the buffer's
 * physical ranges instead of an sg_table (iommufd never calls
 * dma_buf_map_attachment).  It lives in vfio-pci-core, so it rides on this
 * module-hook object: one instance whose map programs are loaded instead of
 * the scope programs.  Emitted as a map with DA_F_PHYS (and DA_F_LOCKED:
 * the helper asserts the reservation lock) at return.
 */
/* resv->lock.base.owner is readable (non-RT); set by the loader from BTF */
const volatile bool resv_owner_readable = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} phys_map_stash SEC(".maps");

static __always_inline int emit_phys_map(void *ctx, __u64 attach_ptr, long ret)
{
	struct dma_buf_attachment *attach = (void *)attach_ptr;
	struct dma_buf *buf = attach ? BPF_CORE_READ(attach, dmabuf) : NULL;
	struct dma_resv *resv = buf ? BPF_CORE_READ(buf, resv) : NULL;
	struct da_event *e = da_reserve(ctx, DA_OP_MAP);
	long owner = 0;

	if (!e)
		return 0;
	e->attach = attach_ptr;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv;
	e->flags |= DA_F_LOCKED | DA_F_PHYS;
	e->fn = scope_slot; /* which exporter's helper: da_phys_map_funcs */
	e->ret = ret;
	if (resv_owner_readable && resv && bpf_core_field_exists(resv->lock.base.owner) &&
	    !bpf_core_read(&owner, sizeof(owner), &resv->lock.base.owner))
		e->resv_held = (owner & ~7L) == (long)bpf_get_current_task() ? DA_RESV_HELD :
									     DA_RESV_NOT_HELD;
	da_submit(e);
	return 0;
}

SEC("fexit")
int phys_map_fexit(__u64 *ctx)
{
	DA_MIRROR_GUARD();
	__u64 attach = 0, ret = 0;

	bpf_get_func_arg(ctx, 0, &attach);
	bpf_get_func_ret(ctx, &ret);
	return emit_phys_map(ctx, attach, (int)ret);
}

SEC("kprobe")
int phys_map_kprobe(struct pt_regs *ctx)
{
	DA_MIRROR_GUARD();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 attach = PT_REGS_PARM1(ctx);

	bpf_map_update_elem(&phys_map_stash, &tid, &attach, BPF_ANY);
	return 0;
}

SEC("kretprobe")
int phys_map_kretprobe(struct pt_regs *ctx)
{
	DA_MIRROR_GUARD();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *stashed = bpf_map_lookup_elem(&phys_map_stash, &tid);
	__u64 attach;

	if (!stashed)
		return 0;
	attach = *stashed;
	bpf_map_delete_elem(&phys_map_stash, &tid);
	return emit_phys_map(ctx, attach, (int)PT_REGS_RC(ctx));
}
