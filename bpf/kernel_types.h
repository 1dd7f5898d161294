/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel types the BPF programs read, kept by hand instead of a
 * vmlinux.h generated from the build machine: only the members we use, all
 * relocated with CO-RE (preserve_access_index), so the offsets come from the
 * traced kernel's BTF at load time, on every kernel 6.1 -> 7.3.
 *
 * Renamed members get a `___flavour` twin (libbpf ignores the suffix when it
 * matches types) and the programs pick the one the kernel has with
 * bpf_core_field_exists(); see docs/hooks.md for the list of quirks.
 * Everything version-dependent on the BPF side lives here.
 */
#ifndef DMABUF_AUDIT_KERNEL_TYPES_H
#define DMABUF_AUDIT_KERNEL_TYPES_H

/* this header plays vmlinux.h's part: bpf_tracing.h then uses the kernel's pt_regs names */
#define __VMLINUX_H__

/* base types: bpf_helpers.h, bpf_tracing.h and event.h need them */
typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0
typedef unsigned long size_t;
typedef int pid_t;

/* BPF UAPI constants (include/uapi/linux/bpf.h), the few used here */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_STACK_TRACE = 7,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

/* bpf_ringbuf_submit() flags, bpf_ringbuf_query() flags, the record header */
enum {
	BPF_RB_NO_WAKEUP = 1ULL << 0,
	BPF_RB_FORCE_WAKEUP = 1ULL << 1,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
};

enum {
	BPF_RINGBUF_HDR_SZ = 8,
};

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

#if defined(__TARGET_ARCH_arm64)
/*
 * arm64: kprobe programs see struct pt_regs, whose first member is the
 * user_pt_regs below; bpf_tracing.h's PT_REGS_PARMn/PT_REGS_RC read
 * regs[0..] through a user_pt_regs cast (arch/arm64/include/uapi/asm/ptrace.h)
 */
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#else
/* x86_64 struct pt_regs (arch/x86/include/asm/ptrace.h), for PT_REGS_PARMn */
struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};
#endif

typedef struct {
	long counter;
} atomic_long_t;

/*
 * Non-RT kernels: the owner word comes first and holds the owning
 * task_struct pointer with flags in the low 3 bits (MUTEX_FLAGS).  On
 * PREEMPT_RT ww_mutex.base is a struct rt_mutex without an `owner` member at
 * this level, so the CO-RE relocation of resv->lock.base.owner fails there
 * and bpf_core_field_exists() says so; the ___rt flavour below reads it.
 */
struct mutex {
	atomic_long_t owner;
};

struct ww_mutex {
	struct mutex base;
};

struct dma_resv {
	struct ww_mutex lock;
};

/*
 * PREEMPT_RT: ww_mutex.base is a struct rt_mutex, whose rtmutex.owner is the
 * owning task_struct pointer with RT_MUTEX_HAS_WAITERS in bit 0.  The
 * ___rt flavours relocate against the kernel's ww_mutex and dma_resv; on a
 * non-RT kernel resv->lock.base.rtmutex does not exist.
 */
struct rt_mutex_base {
	struct task_struct *owner;
};

struct rt_mutex {
	struct rt_mutex_base rtmutex;
};

struct ww_mutex___rt {
	struct rt_mutex base;
};

struct dma_resv___rt {
	struct ww_mutex___rt lock;
};

struct inode {
	unsigned long i_ino;
};

struct file {
	struct inode *f_inode;
	void *private_data;
};

struct dentry {
	void *d_fsdata;
};

struct kobject {
	const char *name;
};

struct device {
	const char *init_name;
	struct kobject kobj;
};

struct dma_buf {
	size_t size;
	struct file *file;
	const char *exp_name;
	struct dma_resv *resv;
	/* 6.1 only: the internal lock removed in 6.2 (loader: legacy locking quirk) */
	struct mutex lock;
};

struct dma_buf_attachment;

/* 7.1+: the importer's callback is called invalidate_mappings */
struct dma_buf_attach_ops {
	bool allow_peer2peer;
	void (*invalidate_mappings)(struct dma_buf_attachment *attach);
};

/* 6.1 .. 7.0: the same callback under its old name */
struct dma_buf_attach_ops___move_notify {
	bool allow_peer2peer;
	void (*move_notify)(struct dma_buf_attachment *attach);
};

struct dma_buf_attachment {
	struct dma_buf *dmabuf;
	struct device *dev;
	bool peer2peer;
	const struct dma_buf_attach_ops *importer_ops;
};

struct task_struct {
	int pid;
	int tgid;
};

/* classic tracepoint sched:sched_process_fork (--follow) */
struct trace_event_raw_sched_process_fork {
	pid_t parent_pid;
	pid_t child_pid;
};

#pragma clang attribute pop

#endif /* DMABUF_AUDIT_KERNEL_TYPES_H */
