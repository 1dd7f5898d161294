// SPDX-License-Identifier: GPL-2.0
/*
 * The dma-buf core hooks.  Every hook has an fentry/fexit program and a
 * kprobe/kretprobe twin that share one static body; the loader loads one
 * of the two (bpf_program__set_autoload) and chooses the kernel function
 * at run time (bpf_program__set_attach_target for fentry/fexit, the kprobe
 * function name at attach), so no kernel function name is fixed here and a
 * renamed function (dma_buf_move_notify -> dma_buf_invalidate_mappings) is
 * only a different target.  The hook table is src/live/hook_table.c, the names
 * of the kernel functions the core's da_kfuncs (src/core/event.c).
 *
 * Ops that report a return value (export, attach, pin, map, vmap, mmap,
 * fence_wait, revocable_check) are emitted at return; the others at entry.
 * kprobe mode keeps the entry arguments for the kretprobe in the thread's
 * slot of stash_slots, or in `stash` keyed by (tid, hook).
 */
#include "common.bpf.h"

/*
 * which name of the invalidate function the hook is attached to: its index
 * in da_kfuncs[DA_KF_INVALIDATE] (enum da_invalidate_fn), set by the loader
 */
const volatile __u8 invalidate_fn = DA_FN_MOVE_NOTIFY;
/* the reservation lock's owner is readable (mutex or rt_mutex); set by the loader from BTF */
const volatile bool resv_owner_readable = true;

/* stash and marker keys: (tid << 32) | hook */
enum hook_id {
	H_ATTACH = 1,
	H_PIN,
	H_MAP,
	H_MAP_UNLOCKED,
	H_UNMAP_UNLOCKED,
	H_VMAP,
	H_VMAP_UNLOCKED,
	H_VUNMAP_UNLOCKED,
	H_MMAP,
	H_MMAP_FD,
	H_FENCE_WAIT,
	H_REVOCABLE,
	H_INVALIDATE, /* pending_slots */
};

struct stash_args {
	__u64 arg[4];
};

/* kprobe mode: entry arguments for the kretprobe */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct stash_args);
} stash SEC(".maps");

/*
 * An `_unlocked` variant calls the locked function: the task is marked
 * between the variant's entry and return so that the locked hook stays
 * silent and the call gives one event (locked=false).  The value is
 * resv_held at the variant's entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} unlocked_calls SEC(".maps");

#include "thread_slot.bpf.h"
#include "tracked_resv.bpf.h"

/*
 * resvs with an invalidate whose unlock has not been reported yet, and how
 * many there are: ww_mutex_unlock() is hooked for every ww_mutex of the
 * system (every DRM driver's locking), so its program first reads the
 * counts and returns at once while no invalidate is pending; only then does
 * it compute the resv and look it up.  An invalidate under the resv lock
 * held by the invalidating thread (every revoke that keeps the contract)
 * is pending in that thread's slot of pending_slots (counted by
 * invalidates_in_slots): the unlock comes from the lock's owner, the same
 * thread.  Any other (lock not held or not readable, the slot another
 * thread's or already holding another resv) is pending in the
 * invalidate_pending LRU hash (counted by invalidates_pending).  The counts
 * are kept with the inserts and deletes; an entry the LRU evicts leaves
 * invalidates_pending too high, which only costs lookups, never a missed
 * unlock.
 */
__u64 invalidates_pending = 0;
__u64 invalidates_in_slots = 0;

/*
 * Tasks inside an _unlocked variant: while none is, the locked hooks skip
 * the unlocked_calls lookup.  Raised at the variant's entry, lowered at its
 * return; a return that is never seen (a kretprobe missed) leaves it too
 * high, which only costs lookups.
 */
__u64 unlocked_calls_active = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} invalidate_pending SEC(".maps");

struct pending_slot {
	__u64 holder; /* key_of(H_INVALIDATE) of the holder, 0 = free */
	__u64 resv;
};

DA_THREAD_SLOT_MAP(pending_slots, struct pending_slot);

static __always_inline __u64 key_of(enum hook_id hook)
{
	return (bpf_get_current_pid_tgid() << 32) | hook;
}

/*
 * kprobe mode's fast path: the entry arguments in the thread's slot
 * (thread_slot.bpf.h); in stash when another thread holds the slot or a
 * nested hook of the same thread does (an _unlocked variant's locked call).
 */
struct stash_slot {
	__u64 holder; /* key_of() of the holder, 0 = free */
	struct stash_args args;
};

DA_THREAD_SLOT_MAP(stash_slots, struct stash_slot);

static __always_inline void stash_put(enum hook_id hook, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	struct stash_args args = { { a0, a1, a2, a3 } };
	__u64 key = key_of(hook);
	struct stash_slot *slot = da_thread_slot_of(&stash_slots, key);

	if (slot && da_thread_slot_claim(&slot->holder, key) != DA_SLOT_TAKEN)
		slot->args = args;
	else
		bpf_map_update_elem(&stash, &key, &args, BPF_ANY);
}

/* Copies the stashed arguments out and forgets them; false when none. */
static __always_inline bool stash_take(enum hook_id hook, struct stash_args *out)
{
	__u64 key = key_of(hook);
	struct stash_slot *slot = da_thread_slot_of(&stash_slots, key);
	struct stash_args *args;

	if (slot && slot->holder == key) {
		*out = slot->args;
		da_thread_slot_release(&slot->holder, key);
		return true;
	}
	args = bpf_map_lookup_elem(&stash, &key);
	if (!args)
		return false;
	*out = *args;
	bpf_map_delete_elem(&stash, &key);
	return true;
}

/*
 * The mark of an _unlocked call in progress, in the fast path: the
 * thread's slot (thread_slot.bpf.h), three array accesses per _unlocked
 * call instead of three hash operations.  A thread whose slot another
 * thread holds (or a nested _unlocked call) marks itself in unlocked_calls
 * as before.
 */
struct unlocked_slot {
	__u64 holder; /* key_of() of the holder, 0 = free */
	__u8 held;
};

DA_THREAD_SLOT_MAP(unlocked_slots, struct unlocked_slot);

static __always_inline bool in_unlocked_call(enum hook_id unlocked)
{
	struct unlocked_slot *slot;
	__u64 key;

	if (!unlocked_calls_active)
		return false;
	key = key_of(unlocked);
	slot = da_thread_slot_of(&unlocked_slots, key);
	if (slot && slot->holder == key)
		return true;
	return bpf_map_lookup_elem(&unlocked_calls, &key) != NULL;
}

static __always_inline void unlocked_enter(enum hook_id unlocked, __u8 held)
{
	__u64 key = key_of(unlocked);
	struct unlocked_slot *slot = da_thread_slot_of(&unlocked_slots, key);
	enum da_slot_claim claim;

	if (slot) {
		claim = da_thread_slot_claim(&slot->holder, key);
		if (claim != DA_SLOT_TAKEN) {
			slot->held = held;
			if (claim == DA_SLOT_CLAIMED)
				__sync_fetch_and_add(&unlocked_calls_active, 1);
			return;
		}
	}
	if (!bpf_map_update_elem(&unlocked_calls, &key, &held, BPF_ANY))
		__sync_fetch_and_add(&unlocked_calls_active, 1);
}

/* resv_held at the variant's entry, and forget the mark */
static __always_inline __u8 unlocked_leave(enum hook_id unlocked)
{
	__u64 key = key_of(unlocked);
	struct unlocked_slot *slot = da_thread_slot_of(&unlocked_slots, key);
	__u8 *held, val;

	if (slot && slot->holder == key) {
		val = slot->held;
		da_thread_slot_release(&slot->holder, key);
		__sync_fetch_and_sub(&unlocked_calls_active, 1);
		return val;
	}
	held = bpf_map_lookup_elem(&unlocked_calls, &key);
	val = held ? *held : DA_RESV_UNKNOWN;
	if (held && !bpf_map_delete_elem(&unlocked_calls, &key))
		__sync_fetch_and_sub(&unlocked_calls_active, 1);
	return val;
}

/*
 * Reading a kernel field.  The arguments of fentry/fexit programs, and the
 * pointers read from them, are typed kernel pointers the program may load
 * from directly (the verifier makes a faulting load read 0): no helper
 * call.  kprobe arguments, and pointers that went through a stash, are
 * plain numbers that only bpf_probe_read_kernel() may follow.  `direct` is
 * a constant at every call site, so each program keeps one of the two.
 */
#define DA_READ(direct, ptr, field) ((direct) ? (ptr)->field : BPF_CORE_READ(ptr, field))

/* Does the calling task own the reservation lock? */
static __always_inline __u8 resv_held_by_current(struct dma_resv *resv, bool direct)
{
	unsigned long owner = 0;

	if (!resv_owner_readable || !resv || !da_resv_owner(resv, direct, &owner))
		return DA_RESV_UNKNOWN;
	return owner == bpf_get_current_task() ? DA_RESV_HELD : DA_RESV_NOT_HELD;
}

static __always_inline struct dma_resv *resv_of(struct dma_buf *buf, bool direct)
{
	return buf ? DA_READ(direct, buf, resv) : NULL;
}

static __always_inline struct dma_buf *buf_of(struct dma_buf_attachment *attach, bool direct)
{
	return attach ? DA_READ(direct, attach, dmabuf) : NULL;
}

static __always_inline void track_resv(struct dma_resv *resv)
{
	__u64 key = (__u64)resv;
	__u8 one = 1;

	/*
	 * Look first: an LRU update takes a new element from the LRU lists
	 * even when the key is there (every invalidate of a revoke cycle)
	 */
	if (resv && !bpf_map_lookup_elem(&tracked_resv, &key))
		bpf_map_update_elem(&tracked_resv, &key, &one, BPF_ANY);
}

/* ---- bodies shared by both modes ---- */

static __always_inline int on_export(void *ctx, struct dma_buf *buf)
{
	struct dma_resv *resv = NULL;
	struct da_event *e;

	if (!IS_ERR_VALUE(buf) && buf) {
		resv = resv_of(buf, false);
		track_resv(resv);
	}
	e = da_reserve(ctx, DA_OP_EXPORT);
	if (!e)
		return 0;
	if (!buf || IS_ERR_VALUE(buf)) {
		e->ret = buf ? (long)buf : -12;
	} else {
		e->buf = (__u64)buf;
		e->resv = (__u64)resv;
		e->size = BPF_CORE_READ(buf, size);
		e->ino = BPF_CORE_READ(buf, file, f_inode, i_ino);
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), BPF_CORE_READ(buf, exp_name));
	}
	da_submit(e);
	return 0;
}

static __always_inline int on_release(void *ctx, struct dentry *dentry)
{
	struct dma_buf *buf = BPF_CORE_READ(dentry, d_fsdata);
	struct dma_resv *resv;
	struct da_event *e;
	__u64 key;

	if (!buf)
		return 0;
	resv = resv_of(buf, false);
	key = (__u64)resv;
	bpf_map_delete_elem(&tracked_resv, &key);
	if (!bpf_map_delete_elem(&invalidate_pending, &key))
		__sync_fetch_and_sub(&invalidates_pending, 1);
	e = da_reserve(ctx, DA_OP_RELEASE);
	if (!e)
		return 0;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv;
	da_submit(e);
	return 0;
}

static __always_inline int on_attach(void *ctx, struct dma_buf *buf, struct device *dev,
				     const struct dma_buf_attach_ops *ops,
				     struct dma_buf_attachment *attach, bool direct)
{
	struct da_event *e = da_reserve(ctx, DA_OP_ATTACH);

	if (!e)
		return 0;
	e->buf = (__u64)buf;
	/* which buffer: the address may be another's whose export was not seen */
	e->ino = BPF_CORE_READ(buf, file, f_inode, i_ino);
	e->resv = (__u64)resv_of(buf, direct);
	e->importer_ops = (__u64)ops;
	if (ops) {
		e->flags |= DA_F_DYNAMIC;
		e->invalidate_cb = da_invalidate_cb(ops);
	}
	if (!attach || IS_ERR_VALUE(attach)) {
		e->ret = attach ? (long)attach : -12;
		/* no attachment was set up: report what the importer asked for */
		if (ops && BPF_CORE_READ(ops, allow_peer2peer))
			e->flags |= DA_F_PEER2PEER;
	} else {
		e->attach = (__u64)attach;
		if (BPF_CORE_READ(attach, peer2peer))
			e->flags |= DA_F_PEER2PEER;
	}
	da_dev_name(dev, e->name, sizeof(e->name));
	da_submit(e);
	return 0;
}

static __always_inline int on_detach(void *ctx, struct dma_buf *buf,
				     struct dma_buf_attachment *attach, bool direct)
{
	struct da_event *e = da_reserve(ctx, DA_OP_DETACH);

	if (!e)
		return 0;
	e->buf = (__u64)buf;
	e->attach = (__u64)attach;
	e->resv = (__u64)resv_of(buf, direct);
	da_submit(e);
	return 0;
}

/* pin, unpin: ret only for pin */
static __always_inline int on_pin(void *ctx, __u8 op, struct dma_buf_attachment *attach, long ret,
				  bool direct)
{
	struct dma_buf *buf = buf_of(attach, direct);
	struct dma_resv *resv = resv_of(buf, direct);
	struct da_event *e = da_reserve(ctx, op);

	if (!e)
		return 0;
	e->attach = (__u64)attach;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv;
	e->resv_held = resv_held_by_current(resv, direct);
	e->ret = ret;
	da_submit(e);
	return 0;
}

/*
 * map (at return, sgt = the returned table or ERR_PTR) and unmap (at entry).
 * held: resv_held, or 0 to read it now.
 */
static __always_inline int on_map(void *ctx, __u8 op, struct dma_buf_attachment *attach, __u64 sgt,
				  bool locked, __u8 held, bool direct)
{
	struct dma_buf *buf = buf_of(attach, direct);
	struct dma_resv *resv = resv_of(buf, direct);
	struct da_event *e = da_reserve(ctx, op);

	if (!e)
		return 0;
	e->attach = (__u64)attach;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv;
	e->resv_held = held ? held : resv_held_by_current(resv, direct);
	if (locked)
		e->flags |= DA_F_LOCKED;
	if (op == DA_OP_MAP && IS_ERR_VALUE(sgt))
		e->ret = (long)sgt;
	else if (op == DA_OP_MAP && !sgt)
		e->ret = -12;
	else
		e->sgt = sgt;
	da_submit(e);
	return 0;
}

/* vmap (ret), vunmap, mmap (ret) */
static __always_inline int on_vmap(void *ctx, __u8 op, struct dma_buf *buf, long ret, bool locked,
				   __u8 held, bool direct)
{
	struct dma_resv *resv = resv_of(buf, direct);
	struct da_event *e = da_reserve(ctx, op);

	if (!e)
		return 0;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv;
	if (op != DA_OP_MMAP) {
		e->resv_held = held ? held : resv_held_by_current(resv, direct);
		if (locked)
			e->flags |= DA_F_LOCKED;
	}
	e->ret = ret;
	da_submit(e);
	return 0;
}

/* an invalidate of resv: its unlock is to be reported, once */
static __always_inline void invalidate_pend(__u64 resv, __u8 held)
{
	__u64 key = key_of(H_INVALIDATE);
	struct pending_slot *slot;
	enum da_slot_claim claim;
	__u8 one = 1;

	/* already pending in the hash: it stays there, one unlock to report */
	if (invalidates_pending && bpf_map_lookup_elem(&invalidate_pending, &resv))
		return;
	slot = held == DA_RESV_HELD ? da_thread_slot_of(&pending_slots, key) : NULL;
	if (slot) {
		claim = da_thread_slot_claim(&slot->holder, key);
		if (claim == DA_SLOT_CLAIMED) {
			slot->resv = resv;
			__sync_fetch_and_add(&invalidates_in_slots, 1);
			return;
		}
		/*
		 * the same lock section's second invalidate; another resv
		 * (this thread holds two, or its unlock was missed) stays
		 * and this one goes to the hash
		 */
		if (claim == DA_SLOT_RECLAIMED && slot->resv == resv)
			return;
	}
	/* a new entry counts; one already pending stays as it is */
	if (!bpf_map_update_elem(&invalidate_pending, &resv, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&invalidates_pending, 1);
}

/* Was an invalidate of resv pending?  Then it is not any more. */
static __always_inline bool invalidate_unpend(__u64 resv)
{
	__u64 key = key_of(H_INVALIDATE);
	struct pending_slot *slot;
	bool found = false;

	if (invalidates_in_slots) {
		slot = da_thread_slot_of(&pending_slots, key);
		if (slot && slot->holder == key && slot->resv == resv) {
			da_thread_slot_release(&slot->holder, key);
			__sync_fetch_and_sub(&invalidates_in_slots, 1);
			found = true;
		}
	}
	/*
	 * also after the slot: another thread's invalidate without the lock
	 * may have put the same resv in the hash meanwhile
	 */
	if (!invalidates_pending)
		return found;
	if (!found && !bpf_map_lookup_elem(&invalidate_pending, &resv))
		return false;
	if (!bpf_map_delete_elem(&invalidate_pending, &resv)) {
		__sync_fetch_and_sub(&invalidates_pending, 1);
		found = true;
	}
	return found;
}

static __always_inline int on_invalidate(void *ctx, struct dma_buf *buf, bool direct)
{
	struct dma_resv *resv = resv_of(buf, direct);
	__u8 held = resv_held_by_current(resv, direct);
	struct da_event *e;

	if (resv) {
		track_resv(resv);
		invalidate_pend((__u64)resv, held);
	}
	e = da_reserve(ctx, DA_OP_INVALIDATE);
	if (!e)
		return 0;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv;
	e->resv_held = held;
	e->fn = invalidate_fn;
	da_submit(e);
	return 0;
}

static __always_inline bool resv_tracked(__u64 resv)
{
	return bpf_map_lookup_elem(&tracked_resv, &resv) != NULL;
}

static __always_inline int on_fence_wait(void *ctx, __u64 resv, __u64 usage, __u64 intr,
					 __u64 timeout, long ret)
{
	struct da_event *e = da_reserve(ctx, DA_OP_FENCE_WAIT);

	if (!e)
		return 0;
	e->resv = resv;
	e->usage = (__u8)usage;
	if (intr & 0xff)
		e->flags |= DA_F_INTR;
	e->timeout = timeout;
	e->ret = ret;
	da_submit(e);
	return 0;
}

static __always_inline int on_revocable(void *ctx, struct dma_buf_attachment *attach, __u64 ret,
					bool direct)
{
	struct dma_buf *buf = buf_of(attach, direct);
	struct da_event *e = da_reserve(ctx, DA_OP_REVOCABLE_CHECK);

	if (!e)
		return 0;
	e->attach = (__u64)attach;
	e->buf = (__u64)buf;
	e->resv = (__u64)resv_of(buf, direct);
	e->ret = ret & 0xff ? 1 : 0;
	da_submit(e);
	return 0;
}

/*
 * ww_mutex_unlock() of a resv with an invalidate pending: the revoke's lock
 * section ends.  Every other ww_mutex unlock of the system returns at the
 * first test while no invalidate is pending.
 */
static __always_inline int on_resv_unlock(void *ctx, void *lock)
{
	struct da_event *e;
	__u64 resv;

	if (!invalidates_pending && !invalidates_in_slots)
		return 0;
	resv = (__u64)lock - bpf_core_field_offset(struct dma_resv, lock);
	if (!invalidate_unpend(resv))
		return 0;
	e = da_reserve(ctx, DA_OP_RESV_UNLOCK);
	if (!e)
		return 0;
	e->resv = resv;
	da_submit(e);
	return 0;
}

/* ---- fentry / fexit ---- */

SEC("fexit")
int BPF_PROG(fexit_export, const void *info, struct dma_buf *ret)
{
	DA_MIRROR_GUARD();
	return on_export(ctx, ret);
}

SEC("fentry")
int BPF_PROG(fentry_release, struct dentry *dentry)
{
	DA_MIRROR_GUARD();
	return on_release(ctx, dentry);
}

SEC("fexit")
int BPF_PROG(fexit_attach, struct dma_buf *buf, struct device *dev,
	     const struct dma_buf_attach_ops *ops, void *priv, struct dma_buf_attachment *ret)
{
	DA_MIRROR_GUARD();
	return on_attach(ctx, buf, dev, ops, ret, true);
}

SEC("fentry")
int BPF_PROG(fentry_detach, struct dma_buf *buf, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	return on_detach(ctx, buf, attach, true);
}

SEC("fexit")
int BPF_PROG(fexit_pin, struct dma_buf_attachment *attach, int ret)
{
	DA_MIRROR_GUARD();
	return on_pin(ctx, DA_OP_PIN, attach, ret, true);
}

SEC("fentry")
int BPF_PROG(fentry_unpin, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	return on_pin(ctx, DA_OP_UNPIN, attach, 0, true);
}

SEC("fexit")
int BPF_PROG(fexit_map, struct dma_buf_attachment *attach, int dir, void *ret)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_MAP_UNLOCKED))
		return 0;
	return on_map(ctx, DA_OP_MAP, attach, (__u64)ret, true, 0, true);
}

SEC("fentry")
int BPF_PROG(fentry_map_unlocked, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	struct dma_buf *buf = buf_of(attach, true);

	unlocked_enter(H_MAP_UNLOCKED, resv_held_by_current(resv_of(buf, true), true));
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_map_unlocked, struct dma_buf_attachment *attach, int dir, void *ret)
{
	DA_MIRROR_GUARD();
	__u8 held = unlocked_leave(H_MAP_UNLOCKED);

	return on_map(ctx, DA_OP_MAP, attach, (__u64)ret, false, held, true);
}

SEC("fentry")
int BPF_PROG(fentry_unmap, struct dma_buf_attachment *attach, void *sgt)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_UNMAP_UNLOCKED))
		return 0;
	return on_map(ctx, DA_OP_UNMAP, attach, (__u64)sgt, true, 0, true);
}

SEC("fentry")
int BPF_PROG(fentry_unmap_unlocked, struct dma_buf_attachment *attach, void *sgt)
{
	DA_MIRROR_GUARD();
	struct dma_buf *buf = buf_of(attach, true);
	__u8 held = resv_held_by_current(resv_of(buf, true), true);

	unlocked_enter(H_UNMAP_UNLOCKED, held);
	return on_map(ctx, DA_OP_UNMAP, attach, (__u64)sgt, false, held, true);
}

SEC("fexit")
int BPF_PROG(fexit_unmap_unlocked)
{
	DA_MIRROR_GUARD();
	unlocked_leave(H_UNMAP_UNLOCKED);
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_vmap, struct dma_buf *buf, void *map, int ret)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_VMAP_UNLOCKED))
		return 0;
	return on_vmap(ctx, DA_OP_VMAP, buf, ret, true, 0, true);
}

SEC("fentry")
int BPF_PROG(fentry_vmap_unlocked, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	unlocked_enter(H_VMAP_UNLOCKED, resv_held_by_current(resv_of(buf, true), true));
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_vmap_unlocked, struct dma_buf *buf, void *map, int ret)
{
	DA_MIRROR_GUARD();
	__u8 held = unlocked_leave(H_VMAP_UNLOCKED);

	return on_vmap(ctx, DA_OP_VMAP, buf, ret, false, held, true);
}

SEC("fentry")
int BPF_PROG(fentry_vunmap, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_VUNMAP_UNLOCKED))
		return 0;
	return on_vmap(ctx, DA_OP_VUNMAP, buf, 0, true, 0, true);
}

SEC("fentry")
int BPF_PROG(fentry_vunmap_unlocked, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	__u8 held = resv_held_by_current(resv_of(buf, true), true);

	unlocked_enter(H_VUNMAP_UNLOCKED, held);
	return on_vmap(ctx, DA_OP_VUNMAP, buf, 0, false, held, true);
}

SEC("fexit")
int BPF_PROG(fexit_vunmap_unlocked)
{
	DA_MIRROR_GUARD();
	unlocked_leave(H_VUNMAP_UNLOCKED);
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_mmap, struct dma_buf *buf, void *vma, unsigned long pgoff, int ret)
{
	DA_MIRROR_GUARD();
	return on_vmap(ctx, DA_OP_MMAP, buf, ret, false, 0, true);
}

/* mmap() of the dma-buf fd itself: the file's mmap operation */
SEC("fexit")
int BPF_PROG(fexit_mmap_fd, struct file *file, void *vma, int ret)
{
	DA_MIRROR_GUARD();
	return on_vmap(ctx, DA_OP_MMAP, BPF_CORE_READ(file, private_data), ret, false, 0, false);
}

SEC("fentry")
int BPF_PROG(fentry_invalidate, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	return on_invalidate(ctx, buf, true);
}

SEC("fexit")
int BPF_PROG(fexit_fence_wait, void *resv, int usage, bool intr, unsigned long timeout, long ret)
{
	DA_MIRROR_GUARD();
	if (!resv_tracked((__u64)resv))
		return 0;
	return on_fence_wait(ctx, (__u64)resv, usage, intr, timeout, ret);
}

SEC("fexit")
int BPF_PROG(fexit_revocable, struct dma_buf_attachment *attach, bool ret)
{
	DA_MIRROR_GUARD();
	return on_revocable(ctx, attach, ret, true);
}

SEC("fentry")
int BPF_PROG(fentry_resv_unlock, void *lock)
{
	DA_MIRROR_GUARD();
	return on_resv_unlock(ctx, lock);
}

/* ---- kprobe / kretprobe ---- */

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_export, struct dma_buf *ret)
{
	DA_MIRROR_GUARD();
	return on_export(ctx, ret);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_release, struct dentry *dentry)
{
	DA_MIRROR_GUARD();
	return on_release(ctx, dentry);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_attach, struct dma_buf *buf, struct device *dev, void *ops)
{
	DA_MIRROR_GUARD();
	stash_put(H_ATTACH, (__u64)buf, (__u64)dev, (__u64)ops, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_attach, struct dma_buf_attachment *ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_ATTACH, &a))
		return 0;
	return on_attach(ctx, (void *)a.arg[0], (void *)a.arg[1], (void *)a.arg[2], ret, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_detach, struct dma_buf *buf, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	return on_detach(ctx, buf, attach, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_pin, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	stash_put(H_PIN, (__u64)attach, 0, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_pin, int ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_PIN, &a))
		return 0;
	return on_pin(ctx, DA_OP_PIN, (void *)a.arg[0], ret, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_unpin, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	return on_pin(ctx, DA_OP_UNPIN, attach, 0, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_map, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_MAP_UNLOCKED))
		return 0;
	stash_put(H_MAP, (__u64)attach,
		  resv_held_by_current(resv_of(buf_of(attach, false), false), false), 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_map, void *ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_MAP, &a))
		return 0;
	return on_map(ctx, DA_OP_MAP, (void *)a.arg[0], (__u64)ret, true, (__u8)a.arg[1], false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_map_unlocked, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	__u8 held = resv_held_by_current(resv_of(buf_of(attach, false), false), false);

	unlocked_enter(H_MAP_UNLOCKED, held);
	stash_put(H_MAP_UNLOCKED, (__u64)attach, held, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_map_unlocked, void *ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	unlocked_leave(H_MAP_UNLOCKED);
	if (!stash_take(H_MAP_UNLOCKED, &a))
		return 0;
	return on_map(ctx, DA_OP_MAP, (void *)a.arg[0], (__u64)ret, false, (__u8)a.arg[1], false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_unmap, struct dma_buf_attachment *attach, void *sgt)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_UNMAP_UNLOCKED))
		return 0;
	return on_map(ctx, DA_OP_UNMAP, attach, (__u64)sgt, true, 0, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_unmap_unlocked, struct dma_buf_attachment *attach, void *sgt)
{
	DA_MIRROR_GUARD();
	__u8 held = resv_held_by_current(resv_of(buf_of(attach, false), false), false);

	unlocked_enter(H_UNMAP_UNLOCKED, held);
	return on_map(ctx, DA_OP_UNMAP, attach, (__u64)sgt, false, held, false);
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_unmap_unlocked)
{
	DA_MIRROR_GUARD();
	unlocked_leave(H_UNMAP_UNLOCKED);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_vmap, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_VMAP_UNLOCKED))
		return 0;
	stash_put(H_VMAP, (__u64)buf, resv_held_by_current(resv_of(buf, false), false), 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_vmap, int ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_VMAP, &a))
		return 0;
	return on_vmap(ctx, DA_OP_VMAP, (void *)a.arg[0], ret, true, (__u8)a.arg[1], false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_vmap_unlocked, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	__u8 held = resv_held_by_current(resv_of(buf, false), false);

	unlocked_enter(H_VMAP_UNLOCKED, held);
	stash_put(H_VMAP_UNLOCKED, (__u64)buf, held, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_vmap_unlocked, int ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	unlocked_leave(H_VMAP_UNLOCKED);
	if (!stash_take(H_VMAP_UNLOCKED, &a))
		return 0;
	return on_vmap(ctx, DA_OP_VMAP, (void *)a.arg[0], ret, false, (__u8)a.arg[1], false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_vunmap, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	if (in_unlocked_call(H_VUNMAP_UNLOCKED))
		return 0;
	return on_vmap(ctx, DA_OP_VUNMAP, buf, 0, true, 0, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_vunmap_unlocked, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	__u8 held = resv_held_by_current(resv_of(buf, false), false);

	unlocked_enter(H_VUNMAP_UNLOCKED, held);
	return on_vmap(ctx, DA_OP_VUNMAP, buf, 0, false, held, false);
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_vunmap_unlocked)
{
	DA_MIRROR_GUARD();
	unlocked_leave(H_VUNMAP_UNLOCKED);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_mmap, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	stash_put(H_MMAP, (__u64)buf, 0, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_mmap, int ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_MMAP, &a))
		return 0;
	return on_vmap(ctx, DA_OP_MMAP, (void *)a.arg[0], ret, false, 0, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_mmap_fd, struct file *file)
{
	DA_MIRROR_GUARD();
	stash_put(H_MMAP_FD, (__u64)BPF_CORE_READ(file, private_data), 0, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_mmap_fd, int ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_MMAP_FD, &a))
		return 0;
	return on_vmap(ctx, DA_OP_MMAP, (void *)a.arg[0], ret, false, 0, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_invalidate, struct dma_buf *buf)
{
	DA_MIRROR_GUARD();
	return on_invalidate(ctx, buf, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_fence_wait, void *resv, int usage, bool intr, unsigned long timeout)
{
	DA_MIRROR_GUARD();
	if (!resv_tracked((__u64)resv))
		return 0;
	stash_put(H_FENCE_WAIT, (__u64)resv, usage, intr, timeout);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_fence_wait, long ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_FENCE_WAIT, &a))
		return 0;
	return on_fence_wait(ctx, a.arg[0], a.arg[1], a.arg[2], a.arg[3], ret);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_revocable, struct dma_buf_attachment *attach)
{
	DA_MIRROR_GUARD();
	stash_put(H_REVOCABLE, (__u64)attach, 0, 0, 0);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_revocable, long ret)
{
	DA_MIRROR_GUARD();
	struct stash_args a;

	if (!stash_take(H_REVOCABLE, &a))
		return 0;
	return on_revocable(ctx, (void *)a.arg[0], ret, false);
}

SEC("kprobe")
int BPF_KPROBE(kprobe_resv_unlock, void *lock)
{
	DA_MIRROR_GUARD();
	return on_resv_unlock(ctx, lock);
}

/* --follow: children of followed processes are followed */
SEC("tracepoint/sched/sched_process_fork")
int follow_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 parent = ctx->parent_pid;
	__u32 child = ctx->child_pid;
	__u32 parent_tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	/* the tracepoint runs in the parent: its tgid decides */
	if (bpf_map_lookup_elem(&followed, &parent_tgid) || bpf_map_lookup_elem(&followed, &parent))
		bpf_map_update_elem(&followed, &child, &one, BPF_ANY);
	return 0;
}
