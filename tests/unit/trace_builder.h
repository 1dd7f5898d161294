/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Build event sequences for the engine the way the BPF side emits them,
 * feed them to a real engine, collect its findings and notices, and compare
 * them with exact expectations.  Shared by the tests/unit/test_engine*.c
 * programs; output is TAP.
 */
#ifndef DMABUF_AUDIT_TRACE_BUILDER_H
#define DMABUF_AUDIT_TRACE_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/finding_stage.h"
#include "tap.h"

#define TB_MAX_FINDINGS 128
#define TB_MAX_NOTICES 32
#define TB_MAX_HISTORY 64
#define TB_MAX_BUFS 256

/* A copy of what the engine reported: the engine's pointers die after the callback. */
struct tb_finding {
	enum da_rule rule;
	enum da_severity severity;
	uint64_t seq, ts;
	uint32_t pid, tid;
	char comm[DA_COMM_LEN];
	uint64_t buf, ino, size;
	char exporter[DA_NAME_LEN];
	bool has_att, att_known;
	bool buf_seeded, att_seeded;
	uint64_t att;
	char dev[DA_NAME_LEN];
	char importer_sym[64], cb_sym[64];
	char message[1024];
	bool has_trigger;
	unsigned int n_history;
	bool history_truncated;
	uint64_t history_seq[TB_MAX_HISTORY];
	uint8_t history_op[TB_MAX_HISTORY];
};

struct tb_notice {
	enum da_notice_kind kind;
	char text[512];
};

struct tb {
	struct da_policy pol;
	struct da_symbols *syms;
	struct da_trace_info trace;
	struct da_engine_config cfg;
	struct da_engine *eng;
	/* the engine's findings pass the finding stage, as in the pipeline */
	struct da_cgroups *cgroups; /* names workloads for the stage; NULL: by id only */
	struct da_finding_stage *stage;
	uint64_t seq; /* next seq */
	uint64_t ts; /* current time, ns */
	uint32_t cpu;
	uint32_t pid; /* tgid used for new events (tid by default) */
	uint64_t cgroup; /* cgroup id of new events (0: none) */
	uint32_t quirks;
	unsigned int nbufs;
	uint64_t buf_ptr[TB_MAX_BUFS], buf_resv[TB_MAX_BUFS];
	unsigned int nfind, nnotice;
	struct tb_finding find[TB_MAX_FINDINGS];
	struct tb_notice notices[TB_MAX_NOTICES];
	bool overflow;
};

/* Default policy, symbols and trace info; tweak tb->pol / tb->cfg, then tb_start. */
void tb_init(struct tb *tb);
/* Policy from text (docs/policy.md format) applied on top of the defaults. */
bool tb_policy(struct tb *tb, const char *text);
bool tb_start(struct tb *tb);
void tb_finish(struct tb *tb);
void tb_free(struct tb *tb);
/* the engine's summary with the finding stage's counts, as the pipeline gives it */
void tb_summary(const struct tb *tb, struct da_summary *sum);
/* the highest severity the stage counted, -1 when none */
int tb_max_severity(const struct tb *tb);

/* address a symbol name stands for (stable within a tb) */
uint64_t tb_sym(struct tb *tb, const char *name);
/* a raw event with the common fields filled in, not yet fed */
struct da_event tb_event(struct tb *tb, uint32_t tid, enum da_op op);
void tb_feed(struct tb *tb, struct da_event *ev);

void tb_advance(struct tb *tb, uint64_t ns);
void tb_lost(struct tb *tb, uint64_t count);
void tb_tick(struct tb *tb);

/* ops, as the BPF programs emit them; resv of a buffer is what tb_export gave */
void tb_export(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t resv, const char *exporter,
	       uint64_t ino);
void tb_export_ret(struct tb *tb, uint32_t tid, uint64_t buf, int ret);
void tb_release(struct tb *tb, uint32_t tid, uint64_t buf);
/* ops_sym NULL: static importer; cb_sym NULL: no callback */
void tb_attach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, const char *dev,
	       const char *ops_sym, const char *cb_sym, int ret);
void tb_detach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att);
void tb_pin(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, enum da_resv_held held,
	    int ret);
void tb_unpin(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, enum da_resv_held held);
void tb_map(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, uint64_t sgt, bool locked,
	    enum da_resv_held held, int ret);
void tb_unmap(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, uint64_t sgt, bool locked,
	      enum da_resv_held held);
/* iommufd's map: vfio_pci_dma_buf_iommufd_map() under the resv lock (phys, no sg_table) */
void tb_phys_map(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, int ret);
/* the same through another exporter's helper: fn indexes da_phys_map_funcs */
void tb_phys_map_fn(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, unsigned int fn,
		    int ret);
void tb_vmap(struct tb *tb, uint32_t tid, uint64_t buf, bool locked, enum da_resv_held held,
	     int ret);
void tb_vunmap(struct tb *tb, uint32_t tid, uint64_t buf, bool locked, enum da_resv_held held);
void tb_mmap(struct tb *tb, uint32_t tid, uint64_t buf, int ret);
void tb_invalidate(struct tb *tb, uint32_t tid, uint64_t buf, enum da_resv_held held);
void tb_fence_wait(struct tb *tb, uint32_t tid, uint64_t resv, enum da_resv_usage usage, long ret);
void tb_revocable_check(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, int ret);
/* revoked: -1 the function has no revoked argument, else 0/1 */
void tb_scope_enter(struct tb *tb, uint32_t tid, const char *fn, int revoked, uint64_t obj);
void tb_scope_exit(struct tb *tb, uint32_t tid, const char *fn, int revoked);
void tb_resv_unlock(struct tb *tb, uint32_t tid, uint64_t resv);
uint64_t tb_resv_of(struct tb *tb, uint64_t buf);
/* what the seed (src/live/seed.c) reads of a buffer and an attachment existing at start */
void tb_seed_buffer(struct tb *tb, uint64_t buf, uint64_t resv, const char *exporter,
		    uint64_t ino, uint64_t size);
/* ops_sym NULL: static importer; cb_sym NULL: no callback */
void tb_seed_attachment(struct tb *tb, uint64_t buf, uint64_t att, const char *dev,
			const char *ops_sym, const char *cb_sym);

/* Expectations */
struct tb_expect {
	enum da_rule rule;
	enum da_severity severity;
	uint64_t buf;
	uint64_t att; /* 0: the finding has no attachment */
};

/*
 * The findings are exactly `exp` (as a multiset of rule, severity, buffer,
 * attachment): nothing missing, nothing more.  Prints "# " diagnostics.
 */
bool tb_expect_exact(struct tb *tb, const struct tb_expect *exp, unsigned int n);
#define TB_EXPECT(tb, ...)                                           \
	({                                                           \
		const struct tb_expect _e[] = { __VA_ARGS__ };       \
		tb_expect_exact(tb, _e, sizeof(_e) / sizeof(_e[0])); \
	})
#define TB_EXPECT_NONE(tb) tb_expect_exact(tb, NULL, 0)
/* index of the first finding of `rule`, or -1 */
int tb_find(struct tb *tb, enum da_rule rule);
/* a notice of `kind` containing `needle` */
bool tb_has_notice(struct tb *tb, enum da_notice_kind kind, const char *needle);
void tb_dump(struct tb *tb);

/* Names shared by the test files: tasks, kernel-looking pointers, scopes. */
#define T1 101
#define T2 202
#define T3 303
#define BUF1 0xffff888100001000ull
#define BUF2 0xffff888100002000ull
#define RESV1 0xffff888100001100ull
#define RESV2 0xffff888100002100ull
#define ATT1 0xffff888200001000ull
#define ATT2 0xffff888200002000ull
#define SGT1 0xffff888300001000ull
#define SGT2 0xffff888300002000ull
#define VDEV 0xffff888400000000ull

#define HELD DA_RESV_HELD
#define NOT_HELD DA_RESV_NOT_HELD
#define ENODEV 19

#define MOVE "vfio_pci_dma_buf_move"
#define CLEANUP "vfio_pci_dma_buf_cleanup"
#define IOMMUFD_TEST_REVOKE "iommufd_test_dmabuf_revoke"
#define UCMD 0xffff888500000000ull /* the selftest ioctl's struct iommufd_ucmd */

/* one expected finding: E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0) */
#define E(rule, sev, buf, att)                         \
	{                                              \
		DA_RULE_##rule, DA_SEV_##sev, buf, att \
	}

/*
 * The set-ups the engine tests repeat, named after what they model (all
 * exporting and revoking is done by task T1, as VFIO's ioctl would).
 */
/* a VFIO-exported buffer (a revoking exporter by default policy); ino from the address */
void tb_vfio_export(struct tb *tb, uint64_t buf, uint64_t resv);
/* a dynamic importer with a real invalidate callback (amdgpu's) */
void tb_gpu_attach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att);
/* iommufd's dynamic attach: device "iommu", iopt_dmabuf_attach_revoke_ops */
void tb_iommufd_attach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att);
/* iommufd 7.1+: asks dma_buf_attach_revocable(), attaches, pins under the resv lock */
void tb_iommufd_import(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att);
/*
 * VFIO's move starts and invalidates buf under the lock (revoked: 1 a revoke,
 * 0 an un-revoke, -1 the function has no such argument)
 */
void tb_vfio_revoke_begin(struct tb *tb, uint64_t buf, int revoked);
/* ... and returns */
void tb_vfio_revoke_end(struct tb *tb, int revoked);
/* VFIO 7.3's revoke done right: begin, BOOKKEEP wait, unlock, end */
void tb_vfio_revoke(struct tb *tb, uint64_t buf, uint64_t resv, int revoked);
/*
 * The iommufd selftest's mock exporter (drivers/iommu/iommufd/selftest.c,
 * exp_name "iommufd"): its buffer, and its revoke or un-revoke (revoked 1/0)
 * as the selftest's ioctl does it in iommufd_test_dmabuf_revoke(): under
 * the resv lock, invalidate, no fence wait.
 */
void tb_iommufd_test_export(struct tb *tb, uint64_t buf, uint64_t resv);
void tb_iommufd_test_revoke(struct tb *tb, uint64_t buf, uint64_t resv, int revoked);
/* the importer detaches, then drops the buffer */
void tb_detach_release(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att);

/* tb_init + tb_start */
bool tb_begin(struct tb *tb);
/* tb_finish, expect no finding at all, tb_free */
bool tb_end_expect_none(struct tb *tb);
/* tb_finish, expect exactly one finding, e, whose message contains message_part; tb_free */
bool tb_end_expect_one(struct tb *tb, struct tb_expect e, const char *message_part);
/* the same with E(...): TB_END_EXPECT_ONE(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1), "pinned") */
#define TB_END_EXPECT_ONE(tb, e, part) tb_end_expect_one(tb, (struct tb_expect)e, part)

#endif /* DMABUF_AUDIT_TRACE_BUILDER_H */
