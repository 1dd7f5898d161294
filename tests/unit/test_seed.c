// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded entities (seed_buffer, seed_attachment: what existed when the tool
 * started): they are seeded, not late; their identity is known; the rules
 * judge them on what was seen since the seed and on nothing before it
 * (docs/rules.md "Seeded entities").
 */
#include <stdio.h>
#include <string.h>

#include "trace_builder.h"

#define SEED_SIZE (2u << 20)

/* VFIO's buffer and iommufd's attachment, both older than the tool */
static void seed_vfio_iommufd(struct tb *tb)
{
	tb_seed_buffer(tb, BUF1, RESV1, "vfio_pci_core", 42, SEED_SIZE);
	tb_seed_attachment(tb, BUF1, ATT1, "iommu", "iopt_dmabuf_attach_revoke_ops",
			   "iopt_revoke_notify");
}

static bool seeded_counted_not_late(void)
{
	struct da_summary sum;
	struct tb tb;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_seed_buffer(&tb, BUF2, RESV2, "udmabuf", 43, 4096);
	tb_finish(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.buffers == 2 && sum.attachments == 1);
	CHECK(sum.partial == 3 && sum.partial_seeded == 3 && sum.seeded_buffers == 2);
	CHECK(sum.partial_late == 0);
	CHECK(tb_has_notice(&tb, DA_NOTICE_PARTIAL, "2 buffers and 1 attachment seeded at start"));
	CHECK(!tb_has_notice(&tb, DA_NOTICE_PARTIAL, "first seen in mid-life"));
	CHECK(TB_EXPECT_NONE(&tb));
	tb_free(&tb);
	return true;
}

/* the revoke bug is caught on a buffer older than the tool, with its identity */
static bool seeded_missing_fence_wait_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_resv_unlock(&tb, T1, RESV1);
	tb_vfio_revoke_end(&tb, 1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0));
	CHECK(ok);
	CHECK(tb.find[0].buf_seeded && tb.find[0].ino == 42 && tb.find[0].size == SEED_SIZE);
	CHECK(!strcmp(tb.find[0].exporter, "vfio_pci_core"));
	CHECK(strstr(tb.find[0].message, "ino 42 (vfio_pci_core, seeded)"));
	/* the seed record is the start of the buffer's evidence */
	CHECK(tb.find[0].history_op[0] == DA_OP_SEED_BUFFER);
	tb_free(&tb);
	return true;
}

static bool seeded_revoke_done_right_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* access after a revoke seen since the start: the attachment's importer is the seed's */
static bool seeded_access_after_revoke_fires(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(ACCESS_AFTER_REVOKE, CRITICAL, BUF1, ATT1));
	CHECK(ok);
	CHECK(tb.find[0].att_seeded && tb.find[0].att_known);
	CHECK(!strcmp(tb.find[0].dev, "iommu"));
	CHECK(!strcmp(tb.find[0].importer_sym, "iopt_dmabuf_attach_revoke_ops"));
	tb_free(&tb);
	return true;
}

/* pins and mappings from before the start are unknown: no balance verdicts */
static bool seeded_balances_not_judged(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD); /* pinned before the start */
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD); /* mapped before the start */
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* a pinning importer seeded with its pin already taken may map: not judged */
static bool seeded_pinning_importer_not_judged(void)
{
	struct tb tb;

	/* iommufd's ops are a pinning importer by default policy */
	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* a pin taken since the start and never dropped is a leak whatever came before */
static bool seeded_pin_leak_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1), "pin count 1");
}

static bool seeded_mapping_leak_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return TB_END_EXPECT_ONE(&tb, E(MAPPING_LEAK, HIGH, BUF1, ATT1), "0xffff888300001000");
}

/* after a loss the counts since the seed are no longer a lower bound */
static bool seeded_pin_leak_after_loss_quiet(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	seed_vfio_iommufd(&tb);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_lost(&tb, 1);
	tb_detach_release(&tb, T2, BUF1, ATT1);
	return tb_end_expect_none(&tb);
}

/* its release was seen: a later use of the address is a use after release */
static bool seeded_use_after_release_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_seed_buffer(&tb, BUF1, RESV1, "udmabuf", 7, 4096);
	tb_release(&tb, T2, BUF1);
	tb_vmap(&tb, T2, BUF1, true, HELD, 0);
	return TB_END_EXPECT_ONE(&tb, E(USE_AFTER_RELEASE, CRITICAL, BUF1, 0), "released at seq");
}

/*
 * An event may name a buffer between the attach and the seed: it starts
 * late, and the seed record that follows makes it seeded with its identity.
 */
static bool late_then_seeded(void)
{
	struct da_summary sum;
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_map(&tb, T2, BUF1, ATT1, SGT1, false, HELD, 0);
	seed_vfio_iommufd(&tb);
	tb_unmap(&tb, T2, BUF1, ATT1, SGT1, false, HELD);
	tb_vfio_revoke_begin(&tb, BUF1, 1);
	tb_vfio_revoke_end(&tb, 1);
	tb_finish(&tb);
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0)));
	CHECK(tb.find[0].buf_seeded && tb.find[0].ino == 42);
	tb_summary(&tb, &sum);
	CHECK(sum.partial == 2 && sum.partial_seeded == 2 && sum.partial_late == 0);
	CHECK(!tb_has_notice(&tb, DA_NOTICE_PARTIAL, "first seen in mid-life"));
	tb_free(&tb);
	return true;
}

/* exported since the start: the seed adds nothing and takes nothing away */
static bool seed_of_known_buffer_changes_nothing(void)
{
	struct da_summary sum;
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_gpu_attach(&tb, T2, BUF1, ATT1);
	tb_seed_buffer(&tb, BUF1, RESV1, "other", 99, 1);
	tb_seed_attachment(&tb, BUF1, ATT1, "other", NULL, NULL);
	tb_pin(&tb, T2, BUF1, ATT1, HELD, 0);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD);
	tb_unpin(&tb, T2, BUF1, ATT1, HELD); /* judged: the attach was seen */
	tb_detach_release(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	CHECK(TB_EXPECT(&tb, E(UNBALANCED_UNPIN, HIGH, BUF1, ATT1)));
	CHECK(!tb.find[0].buf_seeded && !tb.find[0].att_seeded);
	CHECK(!strcmp(tb.find[0].dev, "0000:03:00.0"));
	tb_summary(&tb, &sum);
	CHECK(sum.partial == 0 && sum.partial_seeded == 0 && sum.seeded_buffers == 0);
	tb_free(&tb);
	return true;
}

/* a seeded static importer mapped since the start is hit by a revoke: judged */
static bool seeded_static_importer_revoke_fires(void)
{
	struct tb tb;

	CHECK(tb_begin(&tb));
	tb_seed_buffer(&tb, BUF1, RESV1, "vfio_pci_core", 42, SEED_SIZE);
	tb_seed_attachment(&tb, BUF1, ATT1, "0000:05:00.0", NULL, NULL);
	tb_map(&tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_vfio_revoke(&tb, BUF1, RESV1, 1);
	tb_finish(&tb);
	CHECK(tb_find(&tb, DA_RULE_REVOKE_UNHANDLED_IMPORTER) >= 0);
	CHECK(strstr(tb.find[tb_find(&tb, DA_RULE_REVOKE_UNHANDLED_IMPORTER)].message,
		     "static importer"));
	tb_free(&tb);
	return true;
}

TAP_MAIN(TAP_TEST(seeded_counted_not_late), TAP_TEST(seeded_missing_fence_wait_fires),
	 TAP_TEST(seeded_revoke_done_right_quiet), TAP_TEST(seeded_access_after_revoke_fires),
	 TAP_TEST(seeded_balances_not_judged), TAP_TEST(seeded_pinning_importer_not_judged),
	 TAP_TEST(seeded_pin_leak_fires), TAP_TEST(seeded_mapping_leak_fires),
	 TAP_TEST(seeded_pin_leak_after_loss_quiet), TAP_TEST(seeded_use_after_release_fires),
	 TAP_TEST(late_then_seeded), TAP_TEST(seed_of_known_buffer_changes_nothing),
	 TAP_TEST(seeded_static_importer_revoke_fires))
