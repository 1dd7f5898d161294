// SPDX-License-Identifier: GPL-2.0
/*
 * The minimal sequences of the revoke storm's false findings (tests/storm,
 * docs/findings/README.md): under a preemptible kernel the kernel skips a
 * tracing program entered again on a CPU where a task was preempted inside
 * it (a recursion miss).  The storm's PRIME child and its VFIO threads
 * export, attach and release at once; the export, attach or release the
 * kernel skipped leaves no event and no gap in seq, and the next op on the
 * reused address was judged against the entity that had died there.
 *
 * Each sequence twice: as the engine saw it before src/live/source.c counted
 * the misses (the false finding, which the engine cannot tell from a real
 * one: the test pins down why the loss must be counted), and with the miss
 * counted as a loss without a gap before the next batch (no finding).
 */
#include <stdio.h>
#include <string.h>

#include "trace_builder.h"

/* a loss the source counted: no seq is skipped */
static void counted_miss(struct tb *tb, uint64_t count)
{
	da_engine_lost(tb->eng, tb->seq, count);
}

/*
 * Round 1 of seed 1, seq 577-609: buffer BUF1 released; the export of a new
 * buffer at the same address skipped; the importer attaches to it.
 */
static void export_skipped(struct tb *tb, bool counted)
{
	tb_vfio_export(tb, BUF1, RESV1);
	tb_release(tb, T1, BUF1);
	if (counted)
		counted_miss(tb, 1); /* dma_buf_export's fexit, skipped */
	tb_revocable_check(tb, T2, BUF1, ATT1, 1);
	tb_attach(tb, T2, BUF1, ATT1, "0000:01:00.0", "dat_vfio_importer_ops",
		  "dat_vfio_importer_invalidate", 0);
	tb_detach(tb, T2, BUF1, ATT1);
	tb_release(tb, T2, BUF1);
	tb_finish(tb);
}

static bool export_skipped_false_finding(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	export_skipped(&tb, false);
	/* the attach, the detach and the release of the new buffer */
	ok = TB_EXPECT(&tb, E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1),
		       E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1), E(USE_AFTER_RELEASE, CRITICAL, BUF1, 0));
	tb_free(&tb);
	return ok;
}

static bool export_skipped_counted_quiet(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	export_skipped(&tb, true);
	ok = TB_EXPECT_NONE(&tb);
	tb_free(&tb);
	return ok;
}

/*
 * seq 83-93: an importer pins, maps, unpins and detaches ATT1; a new
 * importer's attach at the same address skipped, then its map seen: a use
 * of the dead attachment (in the storm its pin was skipped too, and the map
 * was judged "mapped without dma_buf_pin()").
 */
static void attach_skipped(struct tb *tb, bool counted)
{
	tb_vfio_export(tb, BUF1, RESV1);
	tb_attach(tb, T2, BUF1, ATT1, "0000:01:00.0", "dat_vfio_importer_ops",
		  "dat_vfio_importer_invalidate", 0);
	tb_pin(tb, T2, BUF1, ATT1, HELD, 0);
	tb_map(tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_unpin(tb, T2, BUF1, ATT1, HELD);
	tb_detach(tb, T2, BUF1, ATT1);
	if (counted)
		counted_miss(tb, 1); /* dma_buf_dynamic_attach's fexit, skipped */
	tb_map(tb, T3, BUF1, ATT1, SGT2, true, HELD, 0);
	tb_unmap(tb, T3, BUF1, ATT1, SGT2, true, HELD);
	tb_detach(tb, T3, BUF1, ATT1);
	tb_release(tb, T1, BUF1);
	tb_finish(tb);
}

static bool attach_skipped_false_finding(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	attach_skipped(&tb, false);
	/* its map, unmap and detach name the dead attachment */
	ok = TB_EXPECT(&tb, E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1),
		       E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1),
		       E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

static bool attach_skipped_counted_quiet(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	attach_skipped(&tb, true);
	ok = TB_EXPECT_NONE(&tb);
	tb_free(&tb);
	return ok;
}

/*
 * seq 1020-1025: iommufd's IOAS_MAP_FILE (attach, pin, phys map) then
 * IOAS_UNMAP, whose dma_buf_unpin's fentry was skipped: "detached with pin
 * count 1".
 */
static void unpin_skipped(struct tb *tb, bool counted)
{
	tb_vfio_export(tb, BUF1, RESV1);
	tb_iommufd_import(tb, T2, BUF1, ATT1);
	tb_phys_map(tb, T2, BUF1, ATT1, 0);
	if (counted)
		counted_miss(tb, 1); /* dma_buf_unpin's fentry, skipped */
	tb_detach(tb, T2, BUF1, ATT1);
	tb_release(tb, T1, BUF1);
	tb_finish(tb);
}

static bool unpin_skipped_false_finding(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	unpin_skipped(&tb, false);
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

static bool unpin_skipped_counted_quiet(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	unpin_skipped(&tb, true);
	ok = TB_EXPECT_NONE(&tb);
	tb_free(&tb);
	return ok;
}

/*
 * The miss inside a batch: the buffer released and the export skipped are
 * both in the batch whose read of the miss counters found the miss, so the
 * loss charged before the batch comes before the buffer was even born.
 * Every record of such a batch is delivered after a loss point
 * (src/live/source.c): no finding, and the loss is counted once.
 */
static bool miss_inside_batch_quiet(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	da_engine_lost(tb.eng, tb.seq, 1); /* charged before the batch */
	da_engine_loss_point(tb.eng);
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	da_engine_loss_point(tb.eng);
	tb_release(&tb, T1, BUF1);
	/* here the export of a new buffer at BUF1 was skipped */
	da_engine_loss_point(tb.eng);
	tb_attach(&tb, T2, BUF1, ATT1, "0000:01:00.0", "dat_vfio_importer_ops",
		  "dat_vfio_importer_invalidate", 0);
	da_engine_loss_point(tb.eng);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT_NONE(&tb);
	da_engine_summary(tb.eng, &sum);
	CHECK(sum.lost == 1);
	tb_free(&tb);
	return ok;
}

/* the same batch with the loss only before it: the buffer born in the batch is judged */
static bool miss_inside_batch_needs_points(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	da_engine_lost(tb.eng, tb.seq, 1);
	tb_export(&tb, T1, BUF1, RESV1, "vfio_pci_core", 1);
	tb_release(&tb, T1, BUF1);
	tb_attach(&tb, T2, BUF1, ATT1, "0000:01:00.0", "dat_vfio_importer_ops",
		  "dat_vfio_importer_invalidate", 0);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_finish(&tb);
	ok = TB_EXPECT(&tb, E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1),
		       E(USE_AFTER_RELEASE, CRITICAL, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

TAP_MAIN(TAP_TEST(export_skipped_false_finding), TAP_TEST(export_skipped_counted_quiet),
	 TAP_TEST(attach_skipped_false_finding), TAP_TEST(attach_skipped_counted_quiet),
	 TAP_TEST(unpin_skipped_false_finding), TAP_TEST(unpin_skipped_counted_quiet),
	 TAP_TEST(miss_inside_batch_quiet), TAP_TEST(miss_inside_batch_needs_points))
