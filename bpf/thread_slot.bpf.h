/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-thread slots: what a program hands to a later program of the same
 * thread (an entry's arguments to the return, a mark between a call's
 * entry and its return), in the fast path of an array instead of a hash.
 * An array lookup is a load (the verifier inlines it) where a hash's is a
 * hash computation, a bucket lock on update and delete, and an allocation.
 *
 * A slot is the array element at the thread id modulo DA_THREAD_SLOTS; its
 * value begins with `holder`, the key of the thread that holds it (0:
 * free), claimed with a compare-and-exchange.  A key has the thread id in
 * its high 32 bits and is never 0.  A thread whose slot another thread
 * holds (or a nested call of the same thread, when the user keys its
 * fallback by call) goes to the user's hash as before.  A slot that holds
 * the thread's own key is a return that was never seen (a kretprobe
 * missed): it is the thread's again, so a missed return never wedges the
 * slot of a live thread.
 */
#ifndef DMABUF_AUDIT_THREAD_SLOT_BPF_H
#define DMABUF_AUDIT_THREAD_SLOT_BPF_H

#define DA_THREAD_SLOTS 1024

/* an array of slots of value_type, a struct that begins with __u64 holder */
#define DA_THREAD_SLOT_MAP(name, value_type)              \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_ARRAY);         \
		__uint(max_entries, DA_THREAD_SLOTS);     \
		__type(key, __u32);                       \
		__type(value, value_type);                \
	} name SEC(".maps")

/* the slot of the thread in `key`, in the map `slots` (NULL only to please the verifier) */
static __always_inline void *da_thread_slot_of(void *slots, __u64 key)
{
	__u32 idx = (__u32)(key >> 32) & (DA_THREAD_SLOTS - 1);

	return bpf_map_lookup_elem(slots, &idx);
}

enum da_slot_claim {
	DA_SLOT_TAKEN, /* another thread holds it: use the hash */
	DA_SLOT_CLAIMED, /* it was free */
	DA_SLOT_RECLAIMED, /* it was already this key's: a return never seen */
};

static __always_inline enum da_slot_claim da_thread_slot_claim(__u64 *holder, __u64 key)
{
	__u64 old = __sync_val_compare_and_swap(holder, 0, key);

	if (!old)
		return DA_SLOT_CLAIMED;
	return old == key ? DA_SLOT_RECLAIMED : DA_SLOT_TAKEN;
}

/* the value is copied out first: the next holder may claim it as soon as the holder is 0 */
static __always_inline void da_thread_slot_release(__u64 *holder, __u64 key)
{
	__sync_val_compare_and_swap(holder, key, 0);
}

#endif /* DMABUF_AUDIT_THREAD_SLOT_BPF_H */
