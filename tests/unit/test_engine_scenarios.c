// SPDX-License-Identifier: GPL-2.0
/*
 * Realistic sequences modelled on the kernel (VFIO 6.19 and 7.3, iommufd
 * 7.0, the series' v3), interleaving, nesting, partial history, losses,
 * eviction at tiny caps, the evidence a finding carries, and what the
 * policy changes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace_builder.h"

static bool history_has_op(const struct tb_finding *f, enum da_op op)
{
	for (unsigned int i = 0; i < f->n_history; i++)
		if (f->history_op[i] == op)
			return true;
	return false;
}

static bool history_sorted(const struct tb_finding *f)
{
	for (unsigned int i = 1; i < f->n_history; i++)
		if (f->history_seq[i - 1] >= f->history_seq[i])
			return false;
	return true;
}

static void invalidate_fn(struct tb *tb, uint32_t tid, uint64_t buf, enum da_invalidate_fn fn)
{
	struct da_event ev = tb_event(tb, tid, DA_OP_INVALIDATE);

	ev.buf = buf;
	ev.resv = tb_resv_of(tb, buf);
	ev.resv_held = HELD;
	ev.fn = fn;
	tb_feed(tb, &ev);
}

/*
 * VFIO 6.19 vfio_pci_dma_buf_move(): lock, revoked = true,
 * dma_buf_move_notify(), unlock -- no fence wait (Christian König: "A
 * dma_buf_move_notify() just triggers asynchronous invalidation of the
 * mapping! You need to use dma_resv_wait() to wait for that to finish.").
 * Importer: iommufd 6.19, dynamic, no pin, maps through a private VFIO call.
 */
static bool vfio_619_revoke_missing_wait(void)
{
	struct tb tb;
	const struct tb_finding *f;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 4242);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_scope_enter(&tb, T1, MOVE, 1, VDEV);
	invalidate_fn(&tb, T1, BUF1, DA_FN_MOVE_NOTIFY);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_scope_exit(&tb, T1, MOVE, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0));
	CHECK(ok);
	f = &tb.find[0];
	CHECK(f->ino == 4242 && !strcmp(f->exporter, "vfio_pci_core"));
	CHECK(strstr(f->message, "dma_buf_move_notify at seq 4"));
	CHECK(f->seq == 6 && f->tid == T1);
	/* evidence: the export, attach, scope enter, invalidate, unlock, scope exit */
	CHECK(f->n_history == 6 && history_sorted(f));
	CHECK(f->history_op[0] == DA_OP_EXPORT && f->history_op[2] == DA_OP_SCOPE_ENTER);
	CHECK(f->history_op[5] == DA_OP_SCOPE_EXIT);
	tb_free(&tb);
	return true;
}

/*
 * VFIO 7.3 done right: vfio_pci_dma_buf_move(vdev, true) invalidates, waits
 * with BOOKKEEP under the lock, then waits for every importer to unmap;
 * later vfio_pci_dma_buf_cleanup() delegates to move(vdev, true) again, which
 * skips buffers already revoked.  Importers: iommufd (revocable, pinned) and
 * a dynamic GPU importer whose callback unmaps.
 */
static bool vfio_73_revoke_correct(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_revocable_check(&tb, T2, BUF1, ATT1, 1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_resv_unlock(&tb, T2, RESV1);
	tb_revocable_check(&tb, T3, BUF1, ATT2, 1);
	tb_gpu_attach(&tb, T3, BUF1, ATT2);
	tb_map(&tb, T3, BUF1, ATT2, SGT1, false, NOT_HELD, 0);

	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_unmap(&tb, T1, BUF1, ATT2, SGT1, true, HELD); /* the GPU's callback */
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_vfio_revoke_end(&tb, 1);

	tb_scope_enter(&tb, T1, CLEANUP, -1, VDEV);
	tb_scope_enter(&tb, T1, MOVE, 1, VDEV); /* already revoked: no invalidate */
	tb_scope_exit(&tb, T1, MOVE, 1);
	tb_scope_exit(&tb, T1, CLEANUP, -1);

	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_detach_release(&tb, T3, BUF1, ATT2);
	return tb_end_expect_none(&tb);
}

/*
 * iommufd 7.0: dynamic attach with iopt_dmabuf_attach_revoke_ops, then the
 * mapping under the resv lock with no dma_buf_pin() -- Jason Gunthorpe:
 * "iommufd is a pining importer ... the pin must be added".  (The real
 * iommufd maps through a private VFIO helper; the rule sees importers that
 * map with dma_buf_map_attachment, which this sequence stands for.)
 */
static bool iommufd_70_missing_pin(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_resv_unlock(&tb, T2, RESV1);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PINNING_IMPORTER_MISSING_PIN, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

/* the series' v3: VFIO waited with DMA_RESV_USAGE_KERNEL; v4 changed it to BOOKKEEP */
static bool v3_kernel_usage_wait(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_KERNEL, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_vfio_revoke_end(&tb, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(WEAK_FENCE_WAIT, WARNING, BUF1, 0),
				 "DMA_RESV_USAGE_KERNEL");
}

/* 7.3: cleanup -> move; the innermost scope decides and owns the deadline */
static bool nested_scopes(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_export(&tb, T1, BUF2, RESV2, "vfio_pci_core", 2);
	tb_scope_enter(&tb, T1, CLEANUP, -1, VDEV);
	tb_vfio_revoke_begin(&tb, BUF1, 1); /* no wait: missing at the move's exit */
	tb_resv_unlock(&tb, T1, RESV1);
	tb_vfio_revoke_end(&tb, 1); /* seq 7 */
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1); /* too late */
	tb_scope_exit(&tb, T1, CLEANUP, -1);
	/* an un-revoking move nested in a revoking scope: the innermost decides */
	tb_scope_enter(&tb, T1, CLEANUP, -1, VDEV);
	tb_vfio_revoke_begin(&tb, BUF2, 0); /* an un-revoke: no wait needed */
	tb_vfio_revoke_end(&tb, 0);
	tb_scope_exit(&tb, T1, CLEANUP, -1);
	tb_map(&tb, T2, BUF2, ATT2, SGT2, true, HELD, 0); /* not revoked */
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0));
	CHECK(ok);
	CHECK(tb.find[0].seq == 7);
	CHECK(strstr(tb.find[0].message, "exit of vfio_pci_dma_buf_move"));
	tb_free(&tb);
	return true;
}

/* a stall of nested scopes is one stall, reported once */
static bool nested_stall_once(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_scope_enter(&tb, T1, CLEANUP, -1, VDEV);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_advance(&tb, 1500000000ull);
	tb_tick(&tb);
	tb_advance(&tb, 1500000000ull);
	tb_tick(&tb);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_vfio_revoke_end(&tb, 1);
	tb_scope_exit(&tb, T1, CLEANUP, -1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(REVOKE_STALLED, WARNING, BUF1, ATT1));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "vfio_pci_dma_buf_cleanup"));
	CHECK(strstr(tb.find[0].message, "now inside vfio_pci_dma_buf_move"));
	tb_free(&tb);
	return true;
}

/*
 * Eight buffers, four tasks on four CPUs, everything interleaved; one
 * exporter task forgets the wait for one buffer.  Exactly that buffer.
 */
static bool interleaved_tasks_and_cpus(void)
{
	const uint32_t tids[4] = { 11, 12, 13, 14 };
	uint64_t bufs[8], atts[8];
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	for (int i = 0; i < 8; i++) {
		bufs[i] = BUF1 + 0x10000ull * i;
		atts[i] = ATT1 + 0x10000ull * i;
		tb.cpu = i % 4;
		tb_export(&tb, tids[i % 4], bufs[i], bufs[i] + 0x100, "vfio_pci_core", 100 + i);
	}
	for (int i = 0; i < 8; i++) {
		tb.cpu = (i + 1) % 4;
		tb_revocable_check(&tb, tids[(i + 1) % 4], bufs[i], atts[i], 1);
		tb_attach(&tb, tids[(i + 1) % 4], bufs[i], atts[i], "0000:03:00.0",
			  "amdgpu_dma_buf_attach_ops", "amdgpu_dma_buf_move_notify", 0);
		tb_map(&tb, tids[(i + 1) % 4], bufs[i], atts[i], SGT1 + i, false, NOT_HELD, 0);
	}
	/* two revoking tasks at once, their events interleaved */
	tb_scope_enter(&tb, tids[0], MOVE, 1, VDEV);
	tb_scope_enter(&tb, tids[2], MOVE, 1, VDEV + 0x1000);
	for (int i = 0; i < 8; i += 2) {
		tb.cpu = 0;
		tb_invalidate(&tb, tids[0], bufs[i], HELD);
		tb.cpu = 2;
		tb_invalidate(&tb, tids[2], bufs[i + 1], HELD);
		tb_unmap(&tb, tids[0], bufs[i], atts[i], SGT1 + i, true, HELD);
		tb_unmap(&tb, tids[2], bufs[i + 1], atts[i + 1], SGT1 + i + 1, true, HELD);
		tb_fence_wait(&tb, tids[0], bufs[i] + 0x100, DA_USAGE_BOOKKEEP, 1);
		if (i + 1 != 5) /* the bug: buffer 5 never waited for */
			tb_fence_wait(&tb, tids[2], bufs[i + 1] + 0x100, DA_USAGE_BOOKKEEP, 1);
	}
	tb_scope_exit(&tb, tids[2], MOVE, 1);
	tb_scope_exit(&tb, tids[0], MOVE, 1);
	for (int i = 7; i >= 0; i--) {
		tb.cpu = i % 4;
		tb_detach(&tb, tids[(i + 1) % 4], bufs[i], atts[i]);
		tb_release(&tb, tids[3], bufs[i]);
	}
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, bufs[5], 0));
	CHECK(ok);
	CHECK(tb.find[0].tid == tids[2] && tb.find[0].ino == 105);
	tb_free(&tb);
	return true;
}

/*
 * Buffers and attachments first seen in mid-life: no balance/leak/UAR
 * verdicts, but point-in-time rules apply to what was observed.
 */
static bool partial_history(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	/* existed before tracing: unpin/unmap/detach/release with no history */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_pin(&tb, T2, BUF1, ATT2, HELD, 0);
	tb_detach(&tb, T2, BUF1, ATT2); /* pin count 1 of what we saw */
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0); /* detached, but partial */
	tb_release(&tb, T2, BUF1);
	tb_vmap(&tb, T2, BUF1, true, HELD, 0);
	/* a late VFIO buffer: its revoke is observed, so access after it is judged */
	tb_map(&tb, T3, BUF2, ATT2 + 0x10, SGT2, true, HELD, 0);
	tb_vfio_revoke_begin(&tb, BUF2, 1);
	tb_fence_wait(&tb, T1, RESV2, DA_USAGE_BOOKKEEP, 1);
	tb_vfio_revoke_end(&tb, 1);
	tb_map(&tb, T3, BUF2, ATT2 + 0x10, SGT2 + 8, true, HELD, 0);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(ACCESS_AFTER_REVOKE, CRITICAL, BUF2, ATT2 + 0x10));
	CHECK(ok);
	CHECK(tb.find[0].exporter[0] == 0 && tb.find[0].ino == 0);
	CHECK(!tb.find[0].att_known);
	tb_summary(&tb, &sum);
	CHECK(sum.buffers == 2 && sum.attachments == 3);
	CHECK(sum.partial == 5 && sum.partial_late == 5 && sum.partial_lost == 0);
	CHECK(tb_has_notice(&tb, DA_NOTICE_PARTIAL, "2 buffers and 3 attachments first seen"));
	tb_free(&tb);
	return true;
}

/* a gap in seq: what was alive is partial, revoke state and pending waits are uncertain */
static bool lost_events_gap(void)
{
	struct da_summary sum;
	struct tb tb;
	uint64_t buf3 = BUF2 + 0x1000, att3 = ATT2 + 0x1000;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_export(&tb, T1, BUF2, RESV2, "system", 2);
	tb_release(&tb, T1, BUF2);
	/* a revoke whose wait, if any, falls in the gap */
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_lost(&tb, 5); /* an unpin, an un-revoke, an export at BUF2... */
	tb_vfio_revoke_end(&tb, 1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0); /* un-revoke may be lost */
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD); /* balance unknown across the gap */
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_vmap(&tb, T2, BUF2, false, NOT_HELD, 0); /* BUF2 may have been re-exported */
	tb_release(&tb, T2, BUF1);
	/* died after the gap but lived across it: still partial, no use-after-release */
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_mmap(&tb, T2, BUF1, 0);
	/* entities born after the gap are judged again */
	tb_export(&tb, T1, buf3, buf3 + 0x100, "system", 3);
	tb_attach(&tb, T2, buf3, att3, "vgem", NULL, NULL, 0);
	tb_pin(&tb, T2, buf3, att3, HELD, 0);
	tb_detach(&tb, T2, buf3, att3);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, buf3, att3));
	CHECK(ok);
	tb_summary(&tb, &sum);
	CHECK(sum.lost == 5);
	CHECK(sum.partial_lost == 2); /* BUF1 and ATT1 were alive */
	CHECK(tb_has_notice(&tb, DA_NOTICE_PARTIAL,
			    "1 buffer and 1 attachment alive when events were lost"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_LOST, "1 revokes were not judged for a fence wait"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_LOST, "verdicts about revoked buffers"));
	tb_free(&tb);
	return true;
}

/*
 * A scope entry in a gap (or before tracing began): VFIO's un-revoke then
 * looks like a revoke by a revoking exporter outside any scope.  The exit
 * that matches nothing gives it away: the map after it is not judged.
 */
static bool scope_entry_unseen(void)
{
	struct tb tb;

	for (int lost = 0; lost <= 1; lost++) {
		CHECK(tb_begin(&tb));
		tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
		tb_gpu_attach(&tb, T2, BUF1, ATT1);
		if (lost)
			tb_lost(&tb, 1); /* scope_enter(vfio_pci_dma_buf_move, false) */
		tb_invalidate(&tb, T1, BUF1, HELD);
		tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
		tb_resv_unlock(&tb, T1, RESV1);
		tb_scope_exit(&tb, T1, MOVE, 0);
		tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
		tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
		tb_finish(&tb);
		CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT,
				    "1 revoke scope exits had no matching entry"));
		CHECK(tb_has_notice(&tb, DA_NOTICE_LOST, "1 verdicts about revoked buffers"));
		CHECK(tb_end_expect_none(&tb));
	}
	return true;
}

/*
 * A scope exit in a gap: the scope stays open in the engine's view.  The
 * task's later invalidates are not classified through it, and it is not
 * reported as stalled.
 */
static bool scope_exit_lost(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_export(&tb, T1, BUF2, RESV2, "amdgpu", 2);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_lost(&tb, 3); /* the wait, the unlock and the scope exit */
	tb_invalidate(&tb, T1, BUF2, HELD); /* a GPU move by the same task */
	tb_resv_unlock(&tb, T1, RESV2);
	tb_advance(&tb, 3000000000ull);
	tb_tick(&tb);
	tb_release(&tb, T1, BUF2);
	tb_finish(&tb);
	CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT, "1 invalidates by tasks inside untracked"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_LOST,
			    "1 revoke scopes were open when events were lost"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_LOST, "1 revokes were not judged for a fence wait"));
	return tb_end_expect_none(&tb);
}

/*
 * Tiny tables: 4 buffers, 4 attachments, and 7 buffers alive at once, each
 * with a pinned, mapped attachment.  The least recently used are evicted
 * (with their attachments) and come back partial: their unpins, unmaps and
 * detaches get no verdict.  Then correct short flows recycle dead entries.
 */
static bool eviction_tiny_caps(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	tb_init(&tb);
	tb.cfg.max_buffers = 4;
	tb.cfg.max_attachments = 4;
	tb.cfg.journal_len = 16;
	CHECK(tb_start(&tb));
	for (int i = 0; i < 7; i++) {
		uint64_t b = BUF1 + 0x10000ull * i, a = ATT1 + 0x10000ull * i;

		tb_export(&tb, T1, b, b + 0x100, "amdgpu", 1 + i);
		tb_gpu_attach(&tb, T2, b, a);
		tb_pin(&tb, T2, b, a, HELD, 0);
		tb_map(&tb, T2, b, a, SGT1 + i, true, HELD, 0);
	}
	for (int i = 0; i < 7; i++) {
		uint64_t b = BUF1 + 0x10000ull * i, a = ATT1 + 0x10000ull * i;

		tb_unmap(&tb, T2, b, a, SGT1 + i, true, HELD);
		tb_unpin(&tb, T2, b, a, HELD);
		tb_detach_release(&tb, T2, b, a);
	}
	for (int i = 0; i < 20; i++) {
		uint64_t b = BUF2 + 0x10000ull * i, a = ATT2 + 0x10000ull * i;

		tb_export(&tb, T3, b, b + 0x100, "system", 100 + i);
		tb_attach(&tb, T3, b, a, "vgem", NULL, NULL, 0);
		tb_map(&tb, T3, b, a, SGT2 + i, false, NOT_HELD, 0);
		tb_unmap(&tb, T3, b, a, SGT2 + i, false, NOT_HELD);
		tb_detach_release(&tb, T3, b, a);
	}
	tb_finish(&tb);
	ok = TB_EXPECT_NONE(&tb);
	CHECK(ok);
	tb_summary(&tb, &sum);
	CHECK(sum.evicted >= 6);
	CHECK(sum.partial_evicted >= 2 && sum.partial_late == 0 && sum.partial_lost == 0);
	CHECK(sum.partial == sum.partial_evicted);
	CHECK(tb_has_notice(&tb, DA_NOTICE_EVICTED, "buffer table full (4 entries)"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_EVICTED, "attachment table full (4 entries)"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_PARTIAL, "seen again after eviction"));
	tb_free(&tb);
	return true;
}

/*
 * More tasks inside revoke scopes than the task table holds: the scope that
 * did not fit is an un-revoke; nothing may be guessed about it, so the map
 * after it is not judged (and said so), never reported.
 */
static bool task_table_overflow(void)
{
	struct tb tb;
	uint32_t t;

	tb_init(&tb);
	tb.cfg.max_buffers = 1024; /* the task table is then its minimum, 1024 */
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_vfio_revoke_end(&tb, 1);
	for (t = 0; t < 1024; t++) /* fill the table (DA_ENGINE_MIN_TASKS) */
		tb_scope_enter(&tb, 5000 + t, MOVE, 1, VDEV + t);
	tb_scope_enter(&tb, T3, MOVE, 0, VDEV); /* does not fit */
	tb_invalidate(&tb, T3, BUF1, HELD);
	tb_fence_wait(&tb, T3, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_scope_exit(&tb, T3, MOVE, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	for (t = 0; t < 1024; t++)
		tb_scope_exit(&tb, 5000 + t, MOVE, 1);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT, "1 revoke scope entries were not tracked"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT, "1 invalidates by tasks inside untracked"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_LOST, "1 verdicts about revoked buffers"));
	CHECK(!tb_has_notice(&tb, DA_NOTICE_INPUT, "no matching entry"));
	return tb_end_expect_none(&tb);
}

/* the mapping table (sized like the attachment table) full: the attachment goes partial */
static bool mapping_table_full(void)
{
	struct da_summary sum;
	struct tb tb;

	tb_init(&tb);
	tb.cfg.max_attachments = 2; /* 2 mapping slots too */
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	for (int i = 0; i < 3; i++)
		tb_map(&tb, T2, BUF1, ATT1, SGT1 + 0x100 * i, false, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1 + 0x200, false, NOT_HELD); /* the untracked one */
	tb_detach(&tb, T2, BUF1, ATT1); /* two still mapped: a leak, but not judged */
	tb_release(&tb, T2, BUF1);
	tb_finish(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.partial == 1 && sum.partial_evicted == 1);
	CHECK(tb_has_notice(&tb, DA_NOTICE_EVICTED,
			    "1 mappings did not fit the mapping table (2 entries)"));
	return tb_end_expect_none(&tb);
}

/* more revokes pending a wait at once than the table holds: judged up to the cap, the rest said */
static bool pending_table_full(void)
{
	struct tb tb;
	bool ok = true;
	unsigned int n = 0;

	tb_init(&tb);
	tb.cfg.max_buffers = 16; /* the minimum of 64 pending slots */
	tb.cfg.max_attachments = 16;
	CHECK(tb_start(&tb));
	for (int i = 0; i < 66; i++) {
		uint64_t b = BUF1 + 0x10000ull * i;

		tb_export(&tb, T1, b, b + 0x100, "vfio_pci_core", 1 + i);
		tb_invalidate(&tb, T1, b, HELD); /* revoking exporter, no scope, no wait */
	}
	tb_finish(&tb);
	/* 16 buffers fit: the evicted ones with a pending revoke are said, not judged */
	for (unsigned int i = 0; i < tb.nfind; i++) {
		ok &= tb.find[i].rule == DA_RULE_MISSING_FENCE_WAIT;
		n++;
	}
	CHECK(ok && n == 16);
	CHECK(tb_has_notice(
		&tb, DA_NOTICE_EVICTED,
		"50 revokes were not judged for a fence wait: their buffer was evicted"));
	tb_free(&tb);

	tb_init(&tb);
	tb.cfg.max_buffers = 128; /* 64 pending slots, room for every buffer */
	CHECK(tb_start(&tb));
	for (int i = 0; i < 66; i++) {
		uint64_t b = BUF1 + 0x10000ull * i;

		tb_export(&tb, T1, b, b + 0x100, "vfio_pci_core", 1 + i);
		tb_invalidate(&tb, T1, b, HELD);
	}
	tb_finish(&tb);
	CHECK(tb.nfind == 64);
	CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT,
			    "2 revokes were not checked for a fence wait: more than 64"));
	tb_free(&tb);
	return true;
}

/*
 * A full table evicts idle entities before one in use: the busy buffer keeps
 * its whole history, so its pin leak is still judged at the end.
 */
static bool eviction_spares_busy(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	tb_init(&tb);
	tb.cfg.max_buffers = 4;
	tb.cfg.max_attachments = 4;
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	for (int i = 0; i < 12; i++) {
		uint64_t b = BUF2 + 0x10000ull * i;

		tb_export(&tb, T3, b, b + 0x100, "system", 10 + i); /* then idle */
		tb_map(&tb, T2, BUF1, ATT1, SGT1 + i, true, HELD, 0); /* busy */
		tb_unmap(&tb, T2, BUF1, ATT1, SGT1 + i, true, HELD);
	}
	tb_detach(&tb, T2, BUF1, ATT1); /* still pinned */
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1));
	CHECK(ok);
	tb_summary(&tb, &sum);
	CHECK(sum.evicted == 9 && sum.partial == 0);
	tb_free(&tb);
	return true;
}

/* full of released entries only: slots are reused quietly, nothing is "evicted" */
static bool dead_slots_recycled_quietly(void)
{
	struct da_summary sum;
	struct tb tb;

	tb_init(&tb);
	tb.cfg.max_buffers = 2;
	tb.cfg.max_attachments = 2;
	CHECK(tb_start(&tb));
	for (int i = 0; i < 10; i++) {
		uint64_t b = BUF1 + 0x10000ull * i, a = ATT1 + 0x10000ull * i;

		tb_export(&tb, T1, b, b + 0x100, "system", 1 + i);
		tb_attach(&tb, T2, b, a, "vgem", NULL, NULL, 0);
		tb_map(&tb, T2, b, a, SGT1, false, NOT_HELD, 0);
		tb_unmap(&tb, T2, b, a, SGT1, false, NOT_HELD);
		tb_detach_release(&tb, T2, b, a);
	}
	/* BUF1's released entry was recycled: a use now cannot be judged */
	tb_vmap(&tb, T3, BUF1, false, NOT_HELD, 0);
	tb_finish(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.evicted == 0 && sum.buffers == 11 && sum.attachments == 10);
	CHECK(sum.partial == 1 && sum.partial_evicted == 1);
	CHECK(!tb_has_notice(&tb, DA_NOTICE_EVICTED, "table full"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_PARTIAL, "1 buffer seen again after eviction"));
	CHECK(tb.nnotice == 1);
	return tb_end_expect_none(&tb);
}

static bool evidence_history(void)
{
	struct tb tb;
	const struct tb_finding *f;
	bool ok;

	tb_init(&tb);
	tb.cfg.history_len = 4;
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1); /* 1 */
	tb_export(&tb, T1, BUF2, RESV2, "system", 2); /* 2 */
	tb_gpu_attach(&tb, T2, BUF1, ATT1); /* 3 */
	tb_scope_enter(&tb, T1, MOVE, 1, VDEV); /* 4 */
	for (int i = 0; i < 6; i++) /* 5..10: another buffer */
		tb_mmap(&tb, T3, BUF2, 0);
	for (int i = 0; i < 5; i++) /* 11..15 */
		tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, -12);
	tb_invalidate(&tb, T1, BUF1, HELD); /* 16 */
	tb_scope_exit(&tb, T1, MOVE, 1); /* 17 */
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0));
	CHECK(ok);
	f = &tb.find[0];
	/* its last 4 events, plus the scope enter and exit that bracket the revoke */
	CHECK(f->n_history == 6 && history_sorted(f));
	CHECK(f->history_seq[0] == 4 && f->history_op[0] == DA_OP_SCOPE_ENTER);
	CHECK(f->history_seq[1] == 13 && f->history_seq[4] == 16);
	CHECK(f->history_seq[5] == 17 && f->history_op[5] == DA_OP_SCOPE_EXIT);
	CHECK(history_has_op(f, DA_OP_INVALIDATE));
	CHECK(!f->history_truncated);
	tb_free(&tb);

	/* a journal shorter than the history: older events already overwritten */
	tb_init(&tb);
	tb.cfg.history_len = 8;
	tb.cfg.journal_len = 8;
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	for (int i = 0; i < 10; i++)
		tb_mmap(&tb, T3, BUF2, 0);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1));
	CHECK(ok);
	f = &tb.find[0];
	CHECK(f->n_history == 2 && f->history_truncated);
	CHECK(f->history_op[0] == DA_OP_PIN && f->history_op[1] == DA_OP_DETACH);
	tb_free(&tb);
	return true;
}

/* rule off: not evaluated; severity changed; allow-list: suppressed and counted */
static bool policy_effects(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	tb_init(&tb);
	CHECK(tb_policy(&tb, "rule pin-leak off\n"
			     "rule mapping-leak severity critical\n"
			     "allow unbalanced-unpin device vgem*\n"
			     "allow * comm quiet-task\n"));
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem0", NULL, NULL, 0);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_detach(&tb, T2, BUF1, ATT1); /* pin-leak (off) + mapping-leak (critical) */
	tb_attach(&tb, T2, BUF1, ATT2, "vgem1", NULL, NULL, 0);
	tb_unpin(&tb, T2, BUF1, ATT2, HELD); /* allowed by device */
	{
		struct da_event ev = tb_event(&tb, T3, DA_OP_UNMAP);

		snprintf(ev.comm, sizeof(ev.comm), "quiet-task");
		ev.buf = BUF1;
		ev.attach = ATT2;
		ev.sgt = SGT2;
		tb_feed(&tb, &ev); /* allowed by comm */
	}
	tb_detach_release(&tb, T2, BUF1, ATT2);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MAPPING_LEAK, CRITICAL, BUF1, ATT1));
	CHECK(ok);
	tb_summary(&tb, &sum);
	CHECK(sum.suppressed == 2);
	CHECK(sum.by_rule[DA_RULE_PIN_LEAK] == 0 && sum.by_rule[DA_RULE_MAPPING_LEAK] == 1);
	CHECK(sum.findings[DA_SEV_CRITICAL] == 1 && sum.findings[DA_SEV_HIGH] == 0);
	CHECK(tb_max_severity(&tb) == DA_SEV_CRITICAL);
	tb_free(&tb);
	return true;
}

/* a policy can make a GPU exporter's moves subject to the fence rules */
static bool policy_revoking_exporter(void)
{
	struct tb tb;
	bool ok;

	tb_init(&tb);
	CHECK(tb_policy(
		&tb, "revoking-exporter xe\nclear revoking-exporters\nrevoking-exporter amdgpu\n"));
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_export(&tb, T1, BUF2, RESV2, "xe", 2);
	tb_invalidate(&tb, T1, BUF1, HELD);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_invalidate(&tb, T1, BUF2, HELD); /* xe was cleared: a move */
	tb_resv_unlock(&tb, T1, RESV2);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0));
	tb_free(&tb);
	return ok;
}

/* summary counters, max severity with no finding, idempotent finish, odd input */
static bool summary_and_input(void)
{
	struct da_summary sum;
	struct da_event ev;
	struct tb tb;

	CHECK(tb_begin(&tb));
	CHECK(tb_max_severity(&tb) == -1);
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_export_ret(&tb, T1, 0, -12); /* failed export */
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, -22); /* failed attach */
	tb_fence_wait(&tb, T1, 0xdead000, DA_USAGE_BOOKKEEP, 1); /* untracked resv */
	tb_resv_unlock(&tb, T1, 0xdead000);
	tb_scope_exit(&tb, T1, MOVE, 1); /* entered before tracing */
	ev = tb_event(&tb, T1, DA_OP__COUNT + 3);
	tb_feed(&tb, &ev);
	tb_tick(&tb);
	tb_release(&tb, T1, BUF1);
	tb_finish(&tb);
	tb_finish(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.events == 8 && sum.buffers == 1 && sum.attachments == 0);
	CHECK(sum.partial == 0 && sum.lost == 0 && sum.evicted == 0);
	CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT, "unknown op"));
	CHECK(tb_has_notice(&tb, DA_NOTICE_INPUT, "1 revoke scope exits had no matching entry"));
	CHECK(tb.nnotice == 2);
	return tb_end_expect_none(&tb);
}

/* a reused attachment address on another buffer is a new attachment */
static bool attachment_address_reuse(void)
{
	struct da_summary sum;
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_export(&tb, T1, BUF2, RESV2, "system", 2);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_attach(&tb, T2, BUF2, ATT1, "vgem", NULL, NULL, 0);
	tb_map(&tb, T2, BUF2, ATT1, SGT1, false, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF2, ATT1, SGT1, false, NOT_HELD);
	tb_detach(&tb, T2, BUF2, ATT1);
	tb_release(&tb, T2, BUF1);
	tb_release(&tb, T2, BUF2);
	tb_finish(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.attachments == 2 && sum.partial == 0);
	return tb_end_expect_none(&tb);
}

TAP_MAIN(TAP_TEST(vfio_619_revoke_missing_wait), TAP_TEST(vfio_73_revoke_correct),
	 TAP_TEST(iommufd_70_missing_pin), TAP_TEST(v3_kernel_usage_wait), TAP_TEST(nested_scopes),
	 TAP_TEST(nested_stall_once), TAP_TEST(interleaved_tasks_and_cpus),
	 TAP_TEST(partial_history), TAP_TEST(lost_events_gap), TAP_TEST(scope_entry_unseen),
	 TAP_TEST(scope_exit_lost), TAP_TEST(eviction_tiny_caps), TAP_TEST(task_table_overflow),
	 TAP_TEST(mapping_table_full), TAP_TEST(pending_table_full), TAP_TEST(eviction_spares_busy),
	 TAP_TEST(dead_slots_recycled_quietly), TAP_TEST(evidence_history),
	 TAP_TEST(policy_effects), TAP_TEST(policy_revoking_exporter), TAP_TEST(summary_and_input),
	 TAP_TEST(attachment_address_reuse))
