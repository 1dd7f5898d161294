/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one event record shared by the BPF programs and userspace.
 *
 * A record is what one hooked kernel call produced.  The BPF side fills it
 * and submits it to the ring buffer; userspace decodes it (or reads it back
 * from a recorded trace, or builds it from a JSON Lines event) and feeds the
 * same structure to the engine.  Fields that an op does not use are zero.
 *
 * The layout is part of the binary trace format (src/core/record.c): change
 * it only together with DA_RECORD_VERSION.
 */
#ifndef DMABUF_AUDIT_EVENT_H
#define DMABUF_AUDIT_EVENT_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define DA_COMM_LEN 16
#define DA_NAME_LEN 32

/*
 * Shared by the BPF programs (map sizes) and userspace (the loader sizes the
 * maps, the stack resolver reads DA_STACK_DEPTH frames per stack).
 */
/* bytes of the events ring buffer; what a burst needs: docs/performance.md */
#define DA_RINGBUF_SIZE (64u << 20)
#define DA_STACK_DEPTH 127		/* frames per --stacks stack (the kernel's maximum) */
#define DA_STACK_ENTRIES 16384		/* stacks kept with --stacks */

/* Ops, in the order and with the names of docs/output.md ("op"). */
enum da_op {
	DA_OP_NONE = 0,
	DA_OP_EXPORT,		/* dma_buf_export() returned */
	DA_OP_RELEASE,		/* dma_buf_release(): the buffer is freed */
	DA_OP_ATTACH,		/* dma_buf_dynamic_attach() returned */
	DA_OP_DETACH,		/* dma_buf_detach() entered */
	DA_OP_PIN,		/* dma_buf_pin() returned */
	DA_OP_UNPIN,		/* dma_buf_unpin() entered */
	DA_OP_MAP,		/* dma_buf_map_attachment{,_unlocked}() returned */
	DA_OP_UNMAP,		/* dma_buf_unmap_attachment{,_unlocked}() entered */
	DA_OP_VMAP,		/* dma_buf_vmap{,_unlocked}() returned */
	DA_OP_VUNMAP,		/* dma_buf_vunmap{,_unlocked}() entered */
	DA_OP_MMAP,		/* dma_buf_mmap() returned */
	DA_OP_INVALIDATE,	/* dma_buf_move_notify() / _invalidate_mappings() entered */
	DA_OP_FENCE_WAIT,	/* dma_resv_wait_timeout() returned, tracked resv only */
	DA_OP_REVOCABLE_CHECK,	/* dma_buf_attach_revocable() returned (7.1+) */
	DA_OP_SCOPE_ENTER,	/* a revoke scope function entered */
	DA_OP_SCOPE_EXIT,	/* a revoke scope function returned */
	DA_OP_RESV_UNLOCK,	/* ww_mutex_unlock() of a resv with an invalidate pending */
	/*
	 * Seeding (src/live/seed.c): a buffer, and each of its attachments, that
	 * existed when the tool started, read by a BPF iterator after the hooks
	 * were attached.  They carry what export / attach would have carried.
	 */
	DA_OP_SEED_BUFFER,	/* buf, resv, ino, size, name = exp_name */
	DA_OP_SEED_ATTACHMENT,	/* buf, attach, resv, importer_ops, invalidate_cb, name = dev */
	DA_OP__COUNT,
};

#define DA_OP_BIT(op) (1u << (op))

/* flags: booleans of the op, see docs/output.md */
#define DA_F_DYNAMIC		(1u << 0)	/* attach: importer_ops != NULL */
#define DA_F_PEER2PEER		(1u << 1)	/* attach: attach->peer2peer */
#define DA_F_LOCKED		(1u << 2)	/* map/unmap/vmap/vunmap: locked variant */
#define DA_F_INTR		(1u << 3)	/* fence_wait: intr argument */
#define DA_F_REVOKED		(1u << 4)	/* scope_*: the function's revoked argument */
#define DA_F_HAS_REVOKED	(1u << 5)	/* scope_*: the function takes a revoked argument */
#define DA_F_STACK		(1u << 6)	/* stack_id is valid */
/*
 * map: the importer took the buffer's physical ranges through the
 * exporter's private helper (vfio_pci_dma_buf_iommufd_map, iommufd's map
 * path): no sg_table, and no unmap follows
 */
#define DA_F_PHYS		(1u << 7)

/* resv_held: owner word of the buffer's reservation lock at the call */
enum da_resv_held {
	DA_RESV_UNKNOWN = 0,	/* not read (op without lock rule, PREEMPT_RT, read failed) */
	DA_RESV_NOT_HELD = 1,	/* lock free or owned by another task */
	DA_RESV_HELD = 2,	/* owned by the calling task */
};

/* fence_wait usage: enum dma_resv_usage values */
enum da_resv_usage {
	DA_USAGE_KERNEL = 0,
	DA_USAGE_WRITE = 1,
	DA_USAGE_READ = 2,
	DA_USAGE_BOOKKEEP = 3,
};

/*
 * invalidate: which name of the invalidate function was called, the index of
 * the name in the kernel function table's DA_KF_INVALIDATE row (oldest name
 * first; src/core/event.c).  A later rename appends a name there: the values
 * below stay what recorded traces hold.
 */
enum da_invalidate_fn {
	DA_FN_MOVE_NOTIFY = 0,		/* dma_buf_move_notify, <= 7.0 */
	DA_FN_INVALIDATE_MAPPINGS = 1,	/* dma_buf_invalidate_mappings, 7.1+ */
};

struct da_event {
	__u64 seq;		/* per-run sequence number, taken in BPF; gap = loss */
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 buf;		/* struct dma_buf * */
	__u64 attach;		/* struct dma_buf_attachment * */
	__u64 resv;		/* buf->resv (every op that has a buffer), or the waited resv */
	__u64 sgt;		/* map/unmap: struct sg_table * (map: 0 on error) */
	__u64 importer_ops;	/* attach: attach->importer_ops; scope_*: first argument */
	__u64 invalidate_cb;	/* attach: importer_ops->move_notify / ->invalidate_mappings */
	__u64 ino;		/* export: file_inode(buf->file)->i_ino */
	__u64 size;		/* export: buf->size */
	__u64 timeout;		/* fence_wait: timeout argument (jiffies) */
	__s64 ret;		/* return value: 0/-errno, 0/1 (revocable_check), long (fence_wait) */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 cpu;
	__s32 stack_id;		/* with --stacks and DA_F_STACK: id in the stack map */
	__u8 op;		/* enum da_op */
	__u8 flags;		/* DA_F_* */
	__u8 resv_held;		/* enum da_resv_held */
	__u8 usage;		/* fence_wait: enum da_resv_usage */
	__u8 fn;		/* invalidate: enum da_invalidate_fn; scope_*: scope slot */
	__u8 pad[3];
	char comm[DA_COMM_LEN];
	char name[DA_NAME_LEN];	/* export: exp_name; attach: dev_name(attach->dev) */
	/*
	 * bpf_get_current_cgroup_id(): the calling task's cgroup v2 (the inode
	 * number of its directory under /sys/fs/cgroup); 0 for seed records
	 * and traces of record format 2 and older.  Last, so that an older
	 * record's 168 bytes are this struct's first ones.
	 */
	__u64 cgroup_id;
};

/* the ring buffer, the binary record (docs/output.md) and the tests rely on it */
_Static_assert(sizeof(struct da_event) == 176, "struct da_event is 176 bytes");
/* struct da_event of record format versions 1 and 2: no cgroup_id */
#define DA_EVENT_V2_SIZE 168

/*
 * Counters the BPF side keeps in the shared "counters" array map, one
 * __u64 per index.  DA_CTR_SEQ is the next sequence number (atomic add);
 * DA_CTR_LOST counts ring buffer reserve failures (each one also leaves a
 * gap in seq).
 */
enum da_counter {
	DA_CTR_SEQ = 0,
	DA_CTR_LOST = 1,
	DA_CTR__COUNT,
};

#ifndef __BPF__
/*
 * Every kernel function dmabuf-audit hooks or names in a finding.  Their
 * names are in one table, da_kfuncs (src/core/event.c): the hook table
 * (src/live/hook_table.c) and the default revoke scopes (src/core/policy.c)
 * refer to them by these ids, the op table names an event's call with them.
 */
enum da_kfunc {
	DA_KF_NONE = 0,			/* the op has no kernel call of its own */
	DA_KF_EXPORT,
	DA_KF_RELEASE,
	DA_KF_ATTACH,			/* static importers; calls dma_buf_dynamic_attach */
	DA_KF_DYNAMIC_ATTACH,
	DA_KF_DETACH,
	DA_KF_PIN,
	DA_KF_UNPIN,
	DA_KF_MAP,
	DA_KF_MAP_UNLOCKED,
	DA_KF_UNMAP,
	DA_KF_UNMAP_UNLOCKED,
	DA_KF_VMAP,
	DA_KF_VMAP_UNLOCKED,
	DA_KF_VUNMAP,
	DA_KF_VUNMAP_UNLOCKED,
	DA_KF_MMAP,
	DA_KF_MMAP_FD,			/* the dma-buf file's mmap operation */
	DA_KF_INVALIDATE,		/* names by enum da_invalidate_fn */
	DA_KF_FENCE_WAIT,
	DA_KF_REVOCABLE_CHECK,
	DA_KF_RESV_UNLOCK,
	DA_KF_VFIO_DMA_BUF_MOVE,	/* revoke scope */
	DA_KF_VFIO_DMA_BUF_CLEANUP,	/* revoke scope */
	DA_KF_VFIO_IOMMUFD_MAP,		/* iommufd's map: a map with DA_F_PHYS */
	DA_KF_IOMMUFD_TEST_REVOKE,	/* revoke scope: iommufd selftest's mock exporter */
	DA_KF_IOMMUFD_TEST_MAP,		/* the same through the iommufd selftest's mock exporter */
	DA_KF__COUNT,
};

/*
 * The exporters' helpers iommufd maps through (a map with DA_F_PHYS), by
 * the index a phys map carries in its `fn`: 0 VFIO's, 1 the iommufd
 * selftest's mock exporter's (CONFIG_IOMMUFD_TEST).
 */
#define DA_PHYS_MAP_FUNCS 2
extern const enum da_kfunc da_phys_map_funcs[DA_PHYS_MAP_FUNCS];

#define DA_KF_MAX_NAMES 4

struct da_kfunc_info {
	/* the function's names across kernel versions, oldest first: a rename appends one */
	const char *names[DA_KF_MAX_NAMES];
	const char *module;		/* the module it lives in, NULL for vmlinux */
};

extern const struct da_kfunc_info da_kfuncs[DA_KF__COUNT];

/* name `version` of f (an index in its names), or NULL */
const char *da_kfunc_name(enum da_kfunc f, unsigned int version);
/* how many names f has had (0 for DA_KF_NONE) */
unsigned int da_kfunc_n_names(enum da_kfunc f);
/* the module of the function called `name` (any version), NULL for vmlinux or unknown */
const char *da_kfunc_module(const char *name);
/*
 * The kernel function that produced ev (DA_KF_NONE when the op has none)
 * and which of its names: *version is -1 when the event does not say
 * (only invalidate carries it, in ev->fn).
 */
enum da_kfunc da_op_call(const struct da_event *ev, int *version);

/* Names used in JSON and text output (src/core/event.c). */
const char *da_op_name(unsigned int op);		/* "map"; "?" when unknown */
int da_op_parse(const char *name);			/* enum da_op, or -1 */
const char *da_usage_name(unsigned int usage);		/* "bookkeep" */
int da_usage_parse(const char *name);			/* enum da_resv_usage, or -1 */
const char *da_invalidate_fn_name(unsigned int fn);	/* "dma_buf_move_notify"; "?" when unknown */
int da_invalidate_fn_parse(const char *name);		/* enum da_invalidate_fn, or -1 */
#endif

#endif /* DMABUF_AUDIT_EVENT_H */
