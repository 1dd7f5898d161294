// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream iommufd selftest's dma-buf cases (tools/testing/selftests/
 * iommu/iommufd.c, 7.3: dmabuf_simple, dmabuf_revoke) as the engine sees
 * them: the real iommufd importer against the selftest's mock exporter
 * (drivers/iommu/iommufd/selftest.c, exp_name "iommufd"), which maps
 * through iommufd_test_dma_buf_iommufd_map() (a phys map, fn 1) and revokes
 * and un-revokes in the revoke scope iommufd_test_dmabuf_revoke(ucmd, fd,
 * revoked) with no fence wait.  Each sequence is the one the guest run
 * (tests/iommufd-selftest) records; the findings are exact, and the
 * correct twins give none.
 */
#include <stdio.h>
#include <string.h>

#include "trace_builder.h"

#define ATT3 0xffff888200003000ull
#define ATT4 0xffff888200004000ull
#define TEST_MAP 1 /* da_phys_map_funcs[1]: iommufd_test_dma_buf_iommufd_map */

/* IOMMU_IOAS_MAP_FILE of the mock's buffer: attach, pin and map under the lock */
static void map_file(struct tb *tb, uint64_t att, int ret)
{
	tb_iommufd_import(tb, T2, BUF1, att);
	tb_phys_map_fn(tb, T2, BUF1, att, TEST_MAP, ret);
	if (ret) { /* iopt_map_dmabuf()'s error path */
		tb_unpin(tb, T2, BUF1, att, HELD);
		tb_detach(tb, T2, BUF1, att);
	}
}

/* the area goes (IOMMU_IOAS_UNMAP or the IOAS's destruction) */
static void unmap_area(struct tb *tb, uint64_t att)
{
	tb_unpin(tb, T2, BUF1, att, HELD);
	tb_detach(tb, T2, BUF1, att);
}

/*
 * dmabuf_revoke: map, revoke, a refused map, un-revoke, map, the first area
 * unmapped and mapped again at its IOVA, then the teardown.  wait: the
 * exporter waits for the fences in its revoke (the correct twin).
 */
static void dmabuf_revoke(struct tb *tb, bool wait)
{
	tb_iommufd_test_export(tb, BUF1, RESV1);
	map_file(tb, ATT1, 0);
	if (wait) {
		tb_scope_enter(tb, T1, IOMMUFD_TEST_REVOKE, 1, UCMD);
		tb_invalidate(tb, T1, BUF1, HELD);
		tb_fence_wait(tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
		tb_resv_unlock(tb, T1, RESV1);
		tb_scope_exit(tb, T1, IOMMUFD_TEST_REVOKE, 1);
	} else {
		tb_iommufd_test_revoke(tb, BUF1, RESV1, 1);
	}
	map_file(tb, ATT2, -ENODEV);
	tb_iommufd_test_revoke(tb, BUF1, RESV1, 0);
	map_file(tb, ATT3, 0);
	unmap_area(tb, ATT1);
	map_file(tb, ATT4, 0);
	unmap_area(tb, ATT3);
	unmap_area(tb, ATT4);
	tb_release(tb, T2, BUF1);
}

/* dmabuf_simple: map the buffer, then the teardown: nothing to report */
static bool dmabuf_simple_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_iommufd_test_export(&tb, BUF1, RESV1);
	map_file(&tb, ATT1, 0);
	unmap_area(&tb, ATT1);
	tb_release(&tb, T2, BUF1);
	return tb_end_expect_none(&tb);
}

/*
 * dmabuf_revoke: one missing-fence-wait for the revoke (not for the
 * un-revoke), saying that the one attachment it reached is iommufd's,
 * which unmaps synchronously; the refused map of the attachment made after
 * the revoke is no finding; the maps after the un-revoke are allowed; the
 * first area, revoked while pinned and unmapped without mapping again, is
 * pinned-importer-left-revoked (info).
 */
static bool dmabuf_revoke_findings(void)
{
	struct tb tb;
	int i;
	bool ok;

	CHECK(tb_begin(&tb));
	dmabuf_revoke(&tb, false);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
		       E(PINNED_IMPORTER_LEFT_REVOKED, INFO, BUF1, ATT1));
	i = tb_find(&tb, DA_RULE_MISSING_FENCE_WAIT);
	if (ok && i >= 0) {
		const char *m = tb.find[i].message;

		if (!strstr(m, "by dma_buf_invalidate_mappings") ||
		    !strstr(m, "before the exit of iommufd_test_dmabuf_revoke") ||
		    !strstr(m, "the 1 attachment it reached is a pinning importer "
			       "(iopt_dmabuf_attach_revoke_ops) that unmaps synchronously") ||
		    !strstr(m, "allow missing-fence-wait exporter iommufd")) {
			printf("# message: %s\n", m);
			ok = false;
		}
	}
	tb_free(&tb);
	return ok;
}

/* the policy line the message names takes the finding away (counted as suppressed) */
static bool dmabuf_revoke_allowed(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	tb_init(&tb);
	CHECK(tb_policy(&tb, "allow missing-fence-wait exporter iommufd\n"));
	CHECK(tb_start(&tb));
	dmabuf_revoke(&tb, false);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(PINNED_IMPORTER_LEFT_REVOKED, INFO, BUF1, ATT1));
	tb_summary(&tb, &sum);
	if (sum.suppressed != 1) {
		printf("# suppressed %llu, expected 1\n", (unsigned long long)sum.suppressed);
		ok = false;
	}
	tb_free(&tb);
	return ok;
}

/* the correct twin: the exporter waits, the first area is unmapped before the un-revoke */
static bool dmabuf_revoke_twin_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_iommufd_test_export(&tb, BUF1, RESV1);
	map_file(&tb, ATT1, 0);
	tb_scope_enter(&tb, T1, IOMMUFD_TEST_REVOKE, 1, UCMD);
	tb_invalidate(&tb, T1, BUF1, HELD);
	tb_fence_wait(&tb, T1, RESV1, DA_USAGE_BOOKKEEP, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_scope_exit(&tb, T1, IOMMUFD_TEST_REVOKE, 1);
	map_file(&tb, ATT2, -ENODEV);
	unmap_area(&tb, ATT1);
	tb_iommufd_test_revoke(&tb, BUF1, RESV1, 0);
	map_file(&tb, ATT3, 0);
	unmap_area(&tb, ATT3);
	tb_release(&tb, T2, BUF1);
	return tb_end_expect_none(&tb);
}

/* with the wait, the same sequence keeps only the left-revoked area */
static bool dmabuf_revoke_waited(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	dmabuf_revoke(&tb, true);
	return TB_END_EXPECT_ONE(&tb, E(PINNED_IMPORTER_LEFT_REVOKED, INFO, BUF1, ATT1),
				 "never mapped buffer");
}

/*
 * Without the scope (a kernel where gcc inlined iommufd_test_dmabuf_revoke,
 * so the hook is absent): the un-revoke reads as a second revoke, and the
 * map after it as an access after revoke.  What the tool said before the
 * scope was a default, kept as the reason the scope matters.
 */
static bool without_scope_unrevoke_is_a_revoke(void)
{
	struct tb tb;
	bool ok;

	tb_init(&tb);
	CHECK(tb_policy(&tb, "clear revoke-scopes\n"));
	CHECK(tb_start(&tb));
	tb_iommufd_test_export(&tb, BUF1, RESV1);
	map_file(&tb, ATT1, 0);
	tb_invalidate(&tb, T1, BUF1, HELD); /* revoke */
	tb_resv_unlock(&tb, T1, RESV1);
	map_file(&tb, ATT2, -ENODEV);
	tb_invalidate(&tb, T1, BUF1, HELD); /* un-revoke, unseen as such */
	tb_resv_unlock(&tb, T1, RESV1);
	map_file(&tb, ATT3, 0);
	unmap_area(&tb, ATT1);
	unmap_area(&tb, ATT3);
	tb_release(&tb, T2, BUF1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
		       E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
		       E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, ATT3));
	if (ok && !strstr(tb.find[tb_find(&tb, DA_RULE_ACCESS_AFTER_REVOKE)].message,
			  "iommufd_test_dma_buf_iommufd_map succeeded")) {
		printf("# message: %s\n",
		       tb.find[tb_find(&tb, DA_RULE_ACCESS_AFTER_REVOKE)].message);
		ok = false;
	}
	tb_free(&tb);
	return ok;
}

/* an attachment made after the revoke: its first refusal is free, its second is not */
static bool attached_after_revoke_second_attempt_fires(void)
{
	struct tb tb;
	bool ok;
	int i;

	CHECK(tb_begin(&tb));
	tb_iommufd_test_export(&tb, BUF1, RESV1);
	tb_iommufd_test_revoke(&tb, BUF1, RESV1, 1);
	tb_iommufd_import(&tb, T2, BUF1, ATT1);
	tb_phys_map_fn(&tb, T2, BUF1, ATT1, TEST_MAP, -ENODEV);
	tb_phys_map_fn(&tb, T2, BUF1, ATT1, TEST_MAP, -ENODEV);
	unmap_area(&tb, ATT1);
	tb_release(&tb, T2, BUF1);
	tb_finish(&tb);
	/* the revoke reached nobody: its missing wait keeps the general wording */
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
		       E(ACCESS_ATTEMPT_AFTER_REVOKE, WARNING, BUF1, ATT1));
	i = tb_find(&tb, DA_RULE_ACCESS_ATTEMPT_AFTER_REVOKE);
	if (ok && (tb.find[i].seq != 10 ||
		   !strstr(tb.find[i].message, "iommufd_test_dma_buf_iommufd_map on buffer"))) {
		printf("# seq %llu: %s\n", (unsigned long long)tb.find[i].seq, tb.find[i].message);
		ok = false;
	}
	tb_free(&tb);
	return ok;
}

/* a missing wait whose revoke reached a GPU's mapping keeps the general wording */
static bool missing_wait_dynamic_importer_wording(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_iommufd_test_export(&tb, BUF1, RESV1);
	map_file(&tb, ATT1, 0);
	tb_gpu_attach(&tb, T3, BUF1, ATT2);
	tb_map(&tb, T3, BUF1, ATT2, SGT1, true, HELD, 0);
	tb_iommufd_test_revoke(&tb, BUF1, RESV1, 1);
	tb_unmap(&tb, T3, BUF1, ATT2, SGT1, true, HELD);
	tb_detach(&tb, T3, BUF1, ATT2);
	unmap_area(&tb, ATT1);
	tb_release(&tb, T2, BUF1);
	return TB_END_EXPECT_ONE(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0),
				 "DMA through the old mappings may still be in flight");
}

TAP_MAIN(TAP_TEST(dmabuf_simple_quiet), TAP_TEST(dmabuf_revoke_findings),
	 TAP_TEST(dmabuf_revoke_allowed), TAP_TEST(dmabuf_revoke_twin_quiet),
	 TAP_TEST(dmabuf_revoke_waited), TAP_TEST(without_scope_unrevoke_is_a_revoke),
	 TAP_TEST(attached_after_revoke_second_attempt_fires),
	 TAP_TEST(missing_wait_dynamic_importer_wording))
