/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reservation objects whose fence waits are reported: those of buffers
 * seen exported, invalidated or seeded, forgotten at release.  Defined by
 * the core object (dmabuf_audit.bpf.c) and handed to the seed object
 * (seed_iter.bpf.c) with bpf_map__reuse_fd(), which needs both
 * definitions alike: hence one definition.  LRU: a full table forgets the
 * oldest instead of refusing new buffers.
 */
#ifndef DMABUF_AUDIT_TRACKED_RESV_BPF_H
#define DMABUF_AUDIT_TRACKED_RESV_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} tracked_resv SEC(".maps");

#endif /* DMABUF_AUDIT_TRACKED_RESV_BPF_H */
