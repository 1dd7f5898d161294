// SPDX-License-Identifier: GPL-2.0
/*
 * Every rule of docs/rules.md: sequences that must fire it (rule, severity,
 * buffer, attachment and the exact number of findings, nothing else) and
 * near misses that must fire nothing.
 */
#include <stdio.h>
#include <string.h>

#include "trace_builder.h"

#define EOPNOTSUPP 95
#define ERESTARTSYS 512

/* ---- access-after-revoke ---- */

static bool aar_map_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_map(&tb, T2, BUF1, ATT1, SGT2, true, HELD, 0); /* the bug: it succeeds */
	tb_unmap(&tb, T2, BUF1, ATT1, SGT2, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, ATT1));
	CHECK(ok);
	CHECK(tb.find[0].seq == 10); /* the second map */
	CHECK(strstr(tb.find[0].message, "revoked at seq 6"));
	tb_free(&tb);
	return true;
}

static bool aar_vmap_mmap_fire(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke(&tb, BUF1, RESV1, -1);
	tb_vmap(&tb, T2, BUF1, true, HELD, 0);
	tb_vunmap(&tb, T2, BUF1, true, HELD);
	tb_mmap(&tb, T3, BUF1, 0);
	tb_release(&tb, T2, BUF1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, 0),
		       E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, 0));
	tb_free(&tb);
	return ok;
}

/* un-revoke then map: allowed again */
static bool aar_unrevoke_then_map_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* a dynamic unpinned attachment invalidated and mapped again: a move */
static bool move_then_remap_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 7);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_invalidate(&tb, T1, BUF1, HELD); /* GPU eviction, no wait here (TTM waits) */
	tb_unmap(&tb, T1, BUF1, ATT1, SGT1, true, HELD); /* from the callback */
	tb_resv_unlock(&tb, T1, RESV1);
	tb_map(&tb, T2, BUF1, ATT1, SGT2, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT2, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- access-attempt-after-revoke ---- */

static bool attempt_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, -ENODEV); /* refused, correctly */
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(ACCESS_ATTEMPT_AFTER_REVOKE, WARNING, BUF1, ATT1),
				 "ret -19");
}

static bool failed_map_unrevoked_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, -12); /* ENOMEM: not about revoke */
	tb_vmap(&tb, T2, BUF1, true, HELD, -12);
	tb_mmap(&tb, T2, BUF1, -22);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- missing-fence-wait ---- */

static bool missing_wait_scope_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_resv_unlock(&tb, T1, RESV1); /* inside a scope the deadline is its exit */
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1); /* late but in the scope */
	tb_vfio_revoke_end(&tb, 1);
	/* a second revoke without any wait */
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_vfio_revoke_end(&tb, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1); /* after the deadline */
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0));
	CHECK(ok);
	CHECK(tb.find[0].seq == 11); /* the scope exit */
	CHECK(tb.find[0].tid == T1);
	CHECK(strstr(tb.find[0].message, "exit of vfio_pci_dma_buf_move"));
	tb_free(&tb);
	return true;
}

/* outside a scope: the reservation unlock is the deadline */
static bool missing_wait_unlock_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "mock_exporter", 1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_invalidate(&tb, T1, BUF1, HELD); /* reaches a pinned attachment: a revoke */
	tb_resv_unlock(&tb, T1, RESV1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1); /* too late */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
				 "reservation lock was released");
}

/* no unlock observed: detach, release or the end of the trace is the deadline */
static bool missing_wait_other_deadlines_fire(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_export(&tb, BUF2, RESV2);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_invalidate(&tb, T1, BUF1, HELD); /* revoking exporter, outside a scope */
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_invalidate(&tb, T1, BUF2, HELD);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
		       E(MISSING_FENCE_WAIT, CRITICAL, BUF2, 0));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "was detached"));
	CHECK(strstr(tb.find[1].message, "end of the trace"));
	CHECK(tb.find[0].has_trigger && !tb.find[1].has_trigger);
	tb_free(&tb);
	return true;
}

/* the trace ends inside the scope: its exit, the deadline, has not come */
static bool open_scope_at_end_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_finish(&tb);
	CHECK(tb_has_notice(
		&tb, DA_NOTICE_INPUT,
		"1 revokes were inside revoke scopes still open at the end of the trace"));
	return tb_end_expect_none(&tb);
}

/* a revoke with a BOOKKEEP wait inside the scope: nothing */
static bool bookkeep_wait_in_scope_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_unmap(&tb, T1, BUF1, ATT1, SGT1, true, HELD); /* the importer's callback */
	tb_fence_wait(&tb, T3, RESV1, DA_USAGE_BOOKKEEP, 1); /* any task may wait */
	tb_resv_unlock(&tb, T1, RESV1);
	tb_vfio_revoke_end(&tb, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* fence rules are about revokes, not moves */
static bool move_without_wait_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "xe", 5);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_invalidate(&tb, T1, BUF1, HELD);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- weak-fence-wait ---- */

static bool weak_wait_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_KERNEL, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_READ, 1);
	tb_vfio_revoke_end(&tb, 1);
	tb_release(&tb, T1, BUF1);
	return TB_END_EXPECT_ONE(&tb, E(WEAK_FENCE_WAIT, WARNING, BUF1, 0), "DMA_RESV_USAGE_READ");
}

static bool kernel_then_bookkeep_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_KERNEL, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 5);
	tb_vfio_revoke_end(&tb, 1);
	tb_release(&tb, T1, BUF1);
	return tb_end_expect_none(&tb);
}

/* ---- fence-wait-incomplete ---- */

static bool incomplete_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_export(&tb, BUF2, RESV2);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 0); /* timed out */
	tb_invalidate(&tb, T1, BUF2, HELD);
	tb_fence_wait(&tb, T1, RESV2, DA_USAGE_BOOKKEEP, -ERESTARTSYS); /* interrupted */
	tb_vfio_revoke_end(&tb, 1);
	tb_release(&tb, T1, BUF1);
	tb_release(&tb, T1, BUF2);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(FENCE_WAIT_INCOMPLETE, WARNING, BUF1, 0),
		       E(FENCE_WAIT_INCOMPLETE, WARNING, BUF2, 0));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "timed out"));
	CHECK(strstr(tb.find[1].message, "interrupted"));
	tb_free(&tb);
	return true;
}

/* a KERNEL wait that timed out is both weak and incomplete */
static bool weak_and_incomplete_fire(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_KERNEL, 0);
	tb_vfio_revoke_end(&tb, 1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(WEAK_FENCE_WAIT, WARNING, BUF1, 0),
		       E(FENCE_WAIT_INCOMPLETE, WARNING, BUF1, 0));
	tb_free(&tb);
	return ok;
}

/* a successful KERNEL wait does not make up for a BOOKKEEP wait that timed out */
static bool bookkeep_timeout_kernel_done_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_KERNEL, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 0);
	tb_vfio_revoke_end(&tb, 1);
	return TB_END_EXPECT_ONE(&tb, E(FENCE_WAIT_INCOMPLETE, WARNING, BUF1, 0),
				 "DMA_RESV_USAGE_BOOKKEEP");
}

static bool timeout_then_done_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 0);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1); /* retried until done */
	tb_vfio_revoke_end(&tb, 1);
	tb_release(&tb, T1, BUF1);
	return tb_end_expect_none(&tb);
}

/* ---- revoke-unhandled-importer ---- */

static bool unhandled_importers_fire(void)
{
	struct tb tb;
	bool ok;
	uint64_t att3 = ATT2 + 0x1000;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	/* static importer with a mapping */
	tb_attach(&tb, T2, BUF1, ATT1, "0000:05:00.0", NULL, NULL, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	/* RDMA pinned umem (<= 7.0): callback is a stub, pinned */
	tb_attach(&tb, T3, BUF1, ATT2, "mlx5_0", "ib_umem_dmabuf_attach_pinned_ops",
		  "ib_umem_dmabuf_unsupported_move_notify", 0);
	tb_pin(&tb, T3, BUF1, ATT2, HELD, 0);
	/* 7.1+: dynamic importer without a callback, mapped */
	tb_attach(&tb, T3, BUF1, att3, "0000:06:00.0", "some_importer_ops", NULL, 0);
	tb_map(&tb, T3, BUF1, att3, SGT2, true, HELD, 0);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_finish(&tb);
	/* the three non-revocable importers were also accepted by a revoking exporter */
	ok = TB_EXPECT(&tb, E(REVOKE_UNHANDLED_IMPORTER, CRITICAL, BUF1, ATT1),
		       E(REVOKE_UNHANDLED_IMPORTER, CRITICAL, BUF1, ATT2),
		       E(REVOKE_UNHANDLED_IMPORTER, CRITICAL, BUF1, att3),
		       E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF1, ATT1),
		       E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF1, ATT2),
		       E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF1, att3));
	CHECK(ok);
	for (unsigned int i = 0; i < tb.nfind; i++)
		if (tb.find[i].att == ATT2 && tb.find[i].rule == DA_RULE_REVOKE_UNHANDLED_IMPORTER)
			CHECK(strstr(tb.find[i].message, "ib_umem_dmabuf_unsupported_move_notify"));
	tb_free(&tb);
	return true;
}

/* an unhandled importer that is neither pinned nor mapped loses nothing */
static bool unhandled_idle_and_revocable_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "mock_exporter", 3); /* not revoking by policy */
	tb_attach(&tb, T2, BUF1, ATT1, "0000:05:00.0", NULL, NULL, 0); /* static, idle */
	tb_iommufd_import(&tb, T3, BUF1, ATT2); /* pinned and revocable */
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_unpin(&tb, T3, BUF1, ATT2, HELD);
	tb_detach(&tb, T3, BUF1, ATT2);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- non-revocable-importer-accepted ---- */

static bool nonrevocable_kernel_answer_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	/* 7.1+: the exporter asked, the kernel said no, and it attached anyway */
	tb_revocable_check(&tb, T2, BUF1, ATT1, 0);
	tb_attach(&tb, T2, BUF1, ATT1, "mlx5_0", "ib_umem_dmabuf_attach_pinned_ops", NULL, 0);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0); /* once per attachment */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF1, ATT1));
	CHECK(ok);
	CHECK(tb.find[0].seq == 3); /* the attach */
	CHECK(strstr(tb.find[0].message, "dma_buf_attach_revocable() returned false"));
	tb_free(&tb);
	return true;
}

/* learned: an exporter seen revoking a pinned attachment is a revoking exporter */
static bool nonrevocable_learned_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "mock_exporter", 1);
	tb_export(&tb, T1, BUF2, RESV2, "mock_exporter", 2);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_invalidate(&tb, T1, BUF1, HELD);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	/* now a static importer on another buffer of the same exporter */
	tb_attach(&tb, T3, BUF2, ATT2, "0000:05:00.0", NULL, NULL, 0);
	tb_detach(&tb, T3, BUF2, ATT2);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF2, ATT2),
				 "seen revoking a pinned attachment");
}

/*
 * The kernel's dma_buf_attach_revocable() answer wins over the policy's
 * classification, also when asked after the attach: a callback that looks
 * like a stub but that the kernel calls revocable is revocable, and the
 * other way round.
 */
static bool nonrevocable_kernel_answer_wins(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "mock_exporter", 1);
	tb_export(&tb, T1, BUF2, RESV2, "mock_exporter", 2);
	/* attached while the exporter is not known to revoke: nothing to say yet */
	tb_attach(&tb, T2, BUF2, ATT1, "mlx5_0", "ib_umem_dmabuf_attach_pinned_ops",
		  "ib_umem_dmabuf_unsupported_move_notify", 0);
	tb_gpu_attach(&tb, T3, BUF2, ATT2);
	/* the exporter revokes a pinned attachment: a revoking exporter from now on */
	tb_iommufd_import(&tb, T2, BUF1, ATT1 + 0x10);
	tb_invalidate(&tb, T1, BUF1, HELD);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	/* asked later, the kernel answers: the stub-looking one yes, the GPU one no */
	tb_revocable_check(&tb, T1, BUF2, ATT1, 1);
	tb_revocable_check(&tb, T1, BUF2, ATT2, 0);
	tb_pin(&tb, T2, BUF2, ATT1, HELD, 0);
	tb_pin(&tb, T3, BUF2, ATT2, HELD, 0);
	return TB_END_EXPECT_ONE(&tb, E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF2, ATT2),
				 "dma_buf_pin");
}

static bool nonrevocable_refused_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_revocable_check(&tb, T2, BUF1, ATT1, 0);
	tb_attach(&tb, T2, BUF1, ATT1, "mlx5_0", "ib_umem_dmabuf_attach_pinned_ops", NULL,
		  -EOPNOTSUPP);
	/* a revocable importer is accepted */
	tb_revocable_check(&tb, T3, BUF1, ATT2, 1);
	tb_iommufd_attach(&tb, T3, BUF1, ATT2);
	tb_detach(&tb, T3, BUF1, ATT2);
	/* a static importer on a non-revoking exporter is fine */
	tb_export(&tb, T1, BUF2, RESV2, "amdgpu", 9);
	tb_attach(&tb, T2, BUF2, ATT1, "0000:05:00.0", NULL, NULL, 0);
	tb_detach(&tb, T2, BUF2, ATT1);
	tb_release(&tb, T2, BUF1);
	tb_release(&tb, T2, BUF2);
	return tb_end_expect_none(&tb);
}

/* ---- pinning-importer-missing-pin ---- */

static bool missing_pin_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PINNING_IMPORTER_MISSING_PIN, HIGH, BUF1, ATT1));
	CHECK(ok);
	CHECK(!strcmp(tb.find[0].importer_sym, "iopt_dmabuf_attach_revoke_ops"));
	CHECK(!strcmp(tb.find[0].dev, "iommu"));
	tb_free(&tb);
	return true;
}

static bool pinned_map_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "mlx5_0", "ib_umem_dmabuf_attach_pinned_ops",
		  "ib_umem_dmabuf_unsupported_move_notify", 0);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	/* an attachment first seen mid-life: its pins are unknown, no verdict */
	tb_map(&tb, T2, BUF2, ATT2, SGT2, true, HELD, 0);
	tb_release(&tb, T2, BUF1);
	return tb_end_expect_none(&tb);
}

/* ---- pin-leak ---- */

static bool pin_leak_detach_and_release_fire(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_detach(&tb, T2, BUF1, ATT1); /* no unpin */
	tb_attach(&tb, T3, BUF1, ATT2, "0000:04:00.0", "amdgpu_dma_buf_attach_ops",
		  "amdgpu_dma_buf_move_notify", 0);
	tb_pin(&tb, T3, BUF1, ATT2, HELD, 0);
	tb_pin(&tb, T3, BUF1, ATT2, HELD, 0);
	tb_unpin(&tb, T3, BUF1, ATT2, HELD);
	tb_release(&tb, T3, BUF1); /* still attached with one pin */
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1), E(PIN_LEAK, HIGH, BUF1, ATT2));
	CHECK(ok);
	CHECK(strstr(tb.find[1].message, "pin count 1"));
	tb_free(&tb);
	return true;
}

static bool pin_balanced_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, -EOPNOTSUPP); /* failed pin counts nothing */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- unbalanced-unpin ---- */

static bool unbalanced_unpin_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(UNBALANCED_UNPIN, HIGH, BUF1, ATT1));
	CHECK(ok);
	CHECK(tb.find[0].seq == 5);
	tb_free(&tb);
	return true;
}

static bool unpin_of_late_attachment_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	/* pinned before tracing began */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- mapping-leak ---- */

static bool mapping_leak_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0); /* cached sgt, twice */
	tb_map(&tb, T2, BUF1, ATT1, SGT2, false, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT2, false, NOT_HELD);
	tb_detach(&tb, T2, BUF1, ATT1); /* SGT1 once more */
	tb_release(&tb, T2, BUF1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MAPPING_LEAK, HIGH, BUF1, ATT1));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "0xffff888300001000"));
	CHECK(!strstr(tb.find[0].message, "0xffff888300002000"));
	tb_free(&tb);
	return true;
}

/* static import, map, unmap, detach (unlocked variants, lock not held): fine */
static bool static_import_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "udmabuf", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_mmap(&tb, T2, BUF1, 0);
	tb_vmap(&tb, T2, BUF1, false, NOT_HELD, 0);
	tb_vunmap(&tb, T2, BUF1, false, NOT_HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- unbalanced-unmap ---- */

static bool unbalanced_unmap_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	tb_attach(&tb, T3, BUF1, ATT2, "vgem", NULL, NULL, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_map(&tb, T3, BUF1, ATT2, SGT2, false, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT2, false, NOT_HELD); /* another attachment's */
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD); /* twice */
	tb_unmap(&tb, T3, BUF1, ATT2, SGT2, false, NOT_HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_detach(&tb, T3, BUF1, ATT2);
	tb_release(&tb, T2, BUF1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(UNBALANCED_UNMAP, HIGH, BUF1, ATT1),
		       E(UNBALANCED_UNMAP, HIGH, BUF1, ATT1));
	CHECK(ok);
	CHECK(tb.find[0].seq == 6 && tb.find[1].seq == 8);
	tb_free(&tb);
	return true;
}

/* ---- resv-not-held ---- */

static bool resv_not_held_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_pin(&tb, T2, BUF1, ATT1, NOT_HELD, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_invalidate(&tb, T1, BUF1, NOT_HELD);
	tb_vmap(&tb, T2, BUF1, true, NOT_HELD, 0);
	tb_vunmap(&tb, T2, BUF1, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(RESV_NOT_HELD, HIGH, BUF1, ATT1), E(RESV_NOT_HELD, HIGH, BUF1, ATT1),
		       E(RESV_NOT_HELD, HIGH, BUF1, 0), E(RESV_NOT_HELD, HIGH, BUF1, 0));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "dma_buf_pin"));
	CHECK(strstr(tb.find[2].message, "dma_buf_invalidate_mappings"));
	tb_free(&tb);
	return true;
}

/* unlocked variants, unknown owner, and the quirks are never judged */
static bool resv_quiet_cases(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0); /* _unlocked takes it */
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_pin(&tb, T2, BUF1, ATT1, DA_RESV_UNKNOWN, 0); /* PREEMPT_RT: not read */
	tb_unpin(&tb, T2, BUF1, ATT1, DA_RESV_UNKNOWN);
	tb_invalidate(&tb, T1, BUF1, DA_RESV_UNKNOWN);
	tb_vmap(&tb, T2, BUF1, false, NOT_HELD, 0);
	tb_vunmap(&tb, T2, BUF1, false, NOT_HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* 6.1: vmap uses dmabuf->lock; locked map/unmap need the resv for dynamic importers only */
static bool resv_legacy_quirk(void)
{
	struct tb tb;
	bool ok;

	tb_init(&tb);
	tb.quirks = DA_QUIRK_LEGACY_LOCKING;
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "vgem", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "0000:00:02.0", NULL, NULL, 0); /* static */
	tb_gpu_attach(&tb, T3, BUF1, ATT2);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, NOT_HELD);
	tb_vmap(&tb, T2, BUF1, true, NOT_HELD, 0);
	tb_vunmap(&tb, T2, BUF1, true, NOT_HELD);
	tb_map(&tb, T3, BUF1, ATT2, SGT2, true, NOT_HELD, 0); /* dynamic: must hold */
	tb_unmap(&tb, T3, BUF1, ATT2, SGT2, true, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_detach_release(&tb, T3, BUF1, ATT2);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(RESV_NOT_HELD, HIGH, BUF1, ATT2));
	tb_free(&tb);
	CHECK(ok);

	tb_init(&tb);
	tb.quirks = DA_QUIRK_NO_RESV_OWNER;
	CHECK(tb_start(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_invalidate(&tb, T1, BUF1, NOT_HELD);
	tb_release(&tb, T1, BUF1);
	return tb_end_expect_none(&tb);
}

/* ---- revoke-stalled ---- */

static bool stalled_fires_once(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	/* 7.1+: waits for the importer to unmap; the importer takes 1.5 s */
	tb_advance(&tb, 1200000000ull);
	tb_tick(&tb); /* live mode: time passes without events */
	tb_advance(&tb, 300000000ull);
	tb_tick(&tb);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_vfio_revoke_end(&tb, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(REVOKE_STALLED, WARNING, BUF1, ATT1));
	CHECK(ok);
	CHECK(!tb.find[0].has_trigger); /* found by the tick */
	CHECK(tb.find[0].tid == T1);
	CHECK(strstr(tb.find[0].message, "still mapped"));
	CHECK(strstr(tb.find[0].message, "sgt 0xffff888300001000"));
	CHECK(strstr(tb.find[0].message, "vfio_pci_dma_buf_move"));
	tb_free(&tb);
	return true;
}

/* replay has no ticks: the next event past the threshold shows it */
static bool stalled_by_event(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_scope_enter(&tb, T1, CLEANUP, -1, VDEV);
	tb_invalidate(&tb, T1, BUF1, HELD);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_advance(&tb, 2000000000ull);
	tb_scope_exit(&tb, T1, CLEANUP, -1);
	tb_release(&tb, T1, BUF1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(REVOKE_STALLED, WARNING, BUF1, 0));
	CHECK(ok);
	CHECK(tb.find[0].seq == 5); /* the exit showed the time */
	tb_free(&tb);
	return true;
}

static bool short_scope_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_advance(&tb, 500000000ull);
	tb_tick(&tb);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_vfio_revoke_end(&tb, 1);
	tb_advance(&tb, 5000000000ull); /* long after the exit: nothing open */
	tb_tick(&tb);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ---- use-after-release ---- */

static bool uar_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_export(&tb, T1, BUF1, RESV1, "system", 1);
	tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0); /* detached attachment */
	tb_release(&tb, T2, BUF1);
	tb_vmap(&tb, T3, BUF1, false, NOT_HELD, 0); /* released buffer */
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1),
		       E(USE_AFTER_RELEASE, CRITICAL, BUF1, 0));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "detached at seq 5"));
	CHECK(strstr(tb.find[1].message, "released at seq 7"));
	tb_free(&tb);
	return true;
}

/* a reused buffer address after release is a new buffer */
static bool address_reuse_quiet(void)
{
	struct tb tb;
	struct da_summary sum;

	CHECK(tb_begin(&tb));
	for (int round = 0; round < 3; round++) {
		tb_export(&tb, T1, BUF1, RESV1, "system", 10 + round);
		tb_attach(&tb, T2, BUF1, ATT1, "vgem", NULL, NULL, 0);
		tb_map(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD, 0);
		tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, NOT_HELD);
		tb_detach_release(&tb, T2, BUF1, ATT1);
	}
	tb_finish(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.buffers == 3 && sum.attachments == 3 && sum.partial == 0);
	return tb_end_expect_none(&tb);
}

/* ---- pinned-importer-left-revoked ---- */

static bool left_revoked_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0); /* un-revoke: iommufd stays dead */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PINNED_IMPORTER_LEFT_REVOKED, INFO, BUF1, ATT1));
	CHECK(ok);
	CHECK(tb.find[0].seq == 16); /* judged at the detach, not at the un-revoke */
	CHECK(strstr(tb.find[0].message, "un-revoke at seq 11 (until its detach)"));
	tb_free(&tb);
	return true;
}

/* the importer maps again after the un-revoke: nothing was left revoked */
static bool left_revoked_remap_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_phys_map(&tb, T2, BUF1, ATT1, 0);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	tb_phys_map(&tb, T2, BUF1, ATT1, 0); /* a moment later */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	CHECK(tb_end_expect_none(&tb));
	/* the same with a dma_buf_map_attachment() importer */
	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* still attached, never mapped again, when the trace ends: judged at the end */
static bool left_revoked_end_of_trace_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PINNED_IMPORTER_LEFT_REVOKED, INFO, BUF1, ATT1));
	CHECK(ok);
	CHECK(!tb.find[0].has_trigger);
	CHECK(strstr(tb.find[0].message, "still attached at the end of the trace"));
	tb_free(&tb);
	return true;
}

/* revoked again after the un-revoke and detached while revoked: no un-revoke to judge */
static bool left_revoked_revoked_again_fires_once(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PINNED_IMPORTER_LEFT_REVOKED, INFO, BUF1, ATT1));
	CHECK(ok);
	CHECK(strstr(tb.find[0].message, "un-revoke at seq 21")); /* the last one */
	tb_free(&tb);
	return true;
}

/* ---- iommufd's map path (vfio_pci_dma_buf_iommufd_map) ---- */

/* iommufd before its pin patch: attach, map without pin */
static bool phys_map_missing_pin_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_revocable_check(&tb, T2, BUF1, ATT1, 1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_phys_map(&tb, T2, BUF1, ATT1, 0);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1); /* no unmap: none is due */
	return TB_END_EXPECT_ONE(&tb, E(PINNING_IMPORTER_MISSING_PIN, HIGH, BUF1, ATT1),
				 "mapped its physical ranges (vfio_pci_dma_buf_iommufd_map)");
}

/* iommufd 7.3: attach, pin, map; revoke; unpin, detach: nothing */
static bool phys_map_pinned_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_phys_map(&tb, T2, BUF1, ATT1, 0);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* the exporter hands the ranges out while revoked */
static bool phys_map_after_revoke_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_phys_map(&tb, T2, BUF1, ATT1, 0);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, ATT1),
				 "vfio_pci_dma_buf_iommufd_map succeeded");
}

/*
 * The attach-then-pin window: a revoke after iommufd's attach and before its
 * pin, then the pin and a refused map (its first) is not a bug ...
 */
static bool window_revoke_before_pin_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_revocable_check(&tb, T2, BUF1, ATT1, 1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_phys_map(&tb, T2, BUF1, ATT1, -ENODEV); /* VFIO refuses: revoked */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD); /* iommufd's error path */
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* ... but a second attempt is, and so is a map the exporter lets through */
static bool window_second_attempt_and_success_fire(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_phys_map(&tb, T2, BUF1, ATT1, -ENODEV);
	tb_phys_map(&tb, T2, BUF1, ATT1, -ENODEV);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	CHECK(TB_END_EXPECT_ONE(&tb, E(ACCESS_ATTEMPT_AFTER_REVOKE, WARNING, BUF1, ATT1),
				"ret -19"));
	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_attach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_phys_map(&tb, T2, BUF1, ATT1, 0); /* the exporter's bug */
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, ATT1),
				 "revoked at seq");
}

/* the other side of the window: pinned at the revoke, a later map attempt is judged */
static bool window_closed_by_pin_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_phys_map(&tb, T2, BUF1, ATT1, -ENODEV);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(ACCESS_ATTEMPT_AFTER_REVOKE, WARNING, BUF1, ATT1),
				 "vfio_pci_dma_buf_iommufd_map on buffer");
}

static bool left_revoked_detached_first_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_vfio_revoke(&tb, BUF1, RESV1, 0);
	/* a new importer after the un-revoke maps fine */
	tb_iommufd_import(&tb, T2, BUF1, ATT2);
	tb_unpin(&tb, T2, BUF1, ATT2, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT2);
	return tb_end_expect_none(&tb);
}

TAP_MAIN(TAP_TEST(aar_map_fires), TAP_TEST(aar_vmap_mmap_fire),
	 TAP_TEST(aar_unrevoke_then_map_quiet), TAP_TEST(move_then_remap_quiet),
	 TAP_TEST(attempt_fires), TAP_TEST(failed_map_unrevoked_quiet),
	 TAP_TEST(missing_wait_scope_fires), TAP_TEST(missing_wait_unlock_fires),
	 TAP_TEST(missing_wait_other_deadlines_fire), TAP_TEST(open_scope_at_end_quiet),
	 TAP_TEST(bookkeep_wait_in_scope_quiet), TAP_TEST(move_without_wait_quiet),
	 TAP_TEST(weak_wait_fires), TAP_TEST(kernel_then_bookkeep_quiet),
	 TAP_TEST(incomplete_fires), TAP_TEST(weak_and_incomplete_fire),
	 TAP_TEST(bookkeep_timeout_kernel_done_fires), TAP_TEST(timeout_then_done_quiet),
	 TAP_TEST(unhandled_importers_fire), TAP_TEST(unhandled_idle_and_revocable_quiet),
	 TAP_TEST(nonrevocable_kernel_answer_fires), TAP_TEST(nonrevocable_learned_fires),
	 TAP_TEST(nonrevocable_kernel_answer_wins), TAP_TEST(nonrevocable_refused_quiet),
	 TAP_TEST(missing_pin_fires), TAP_TEST(pinned_map_quiet),
	 TAP_TEST(pin_leak_detach_and_release_fire), TAP_TEST(pin_balanced_quiet),
	 TAP_TEST(unbalanced_unpin_fires), TAP_TEST(unpin_of_late_attachment_quiet),
	 TAP_TEST(mapping_leak_fires), TAP_TEST(static_import_quiet),
	 TAP_TEST(unbalanced_unmap_fires), TAP_TEST(resv_not_held_fires),
	 TAP_TEST(resv_quiet_cases), TAP_TEST(resv_legacy_quirk), TAP_TEST(stalled_fires_once),
	 TAP_TEST(stalled_by_event), TAP_TEST(short_scope_quiet), TAP_TEST(uar_fires),
	 TAP_TEST(address_reuse_quiet), TAP_TEST(left_revoked_fires),
	 TAP_TEST(left_revoked_detached_first_quiet), TAP_TEST(left_revoked_remap_quiet),
	 TAP_TEST(left_revoked_end_of_trace_fires), TAP_TEST(left_revoked_revoked_again_fires_once),
	 TAP_TEST(phys_map_missing_pin_fires), TAP_TEST(phys_map_pinned_quiet),
	 TAP_TEST(phys_map_after_revoke_fires), TAP_TEST(window_revoke_before_pin_quiet),
	 TAP_TEST(window_second_attempt_and_success_fire), TAP_TEST(window_closed_by_pin_fires))
