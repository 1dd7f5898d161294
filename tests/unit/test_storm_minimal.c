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

#include "miss_clock.h"
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
	tb_summary(&tb, &sum);
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

/*
 * Run 5 of the storm (seed 5, seq 58823): iommufd's IOAS_UNMAP detaches ATT1
 * (iopt_release_pages(): unpin, then detach), whose dma_buf_unpin() the
 * tool never saw, and the miss was counted one read before the detach was
 * judged.  Task T1 took a seq inside dma_buf_unpin's fentry program (for
 * ATT2) and was preempted before committing its record; on that CPU the
 * program's recursion guard stayed held, so T2's unpin of ATT1 was skipped
 * (a miss).  T2's records, taken after T1's seq, wait behind it in the
 * reorder window: the read that counts the miss delivers none of them, and
 * when T1 commits they are delivered after a read that found nothing new.
 *
 * How the source decides is the twin's subject: by the batch that delivers
 * a record (the old rule: a loss point only in a batch with new misses) or
 * by the record's own clock (src/core/miss_clock.h).  `unpin_seen`: ATT1's
 * unpin is delivered with the rest; otherwise it was skipped by the kernel
 * (with `missed`) or never made (a real pin leak, without).  `missed`: a
 * miss is counted at read 1.  `detach_late`: the detach is taken after
 * read 1, the pin before it.
 */
/* BEFORE_ONLY: by the record's clock, without the loss point after it */
enum miss_rule { BY_BATCH, BY_RECORD, BEFORE_ONLY };

struct held_run {
	struct tb *tb;
	struct da_miss_clock clock;
	enum miss_rule rule;
	bool batch_new; /* BY_BATCH: the delivering batch came with new misses */
	bool suspect; /* the record being judged */
};

/* read i of the miss counters at base + at_us */
static void held_read(struct held_run *r, uint64_t base, uint64_t at_us, uint64_t new_misses)
{
	if (new_misses)
		da_engine_lost(r->tb->eng, r->tb->seq, new_misses);
	da_miss_clock_read(&r->clock, base + at_us * 1000, base + at_us * 1000 + 500, new_misses);
	r->batch_new = new_misses;
}

/* a record taken at base + at_us is judged now: the points the source puts around it */
static void held_before(struct held_run *r, uint64_t base, uint64_t at_us)
{
	uint64_t ts = base + at_us * 1000;

	r->suspect = r->rule == BY_BATCH ? r->batch_new : da_miss_clock_suspect(&r->clock, ts);
	r->tb->ts = ts;
	if (r->suspect)
		da_engine_loss_point(r->tb->eng);
}

static void held_after(struct held_run *r)
{
	if (r->rule == BY_RECORD && r->suspect)
		da_engine_loss_point(r->tb->eng);
}

#define HELD_AT(r, base, at_us, call)            \
	do {                                     \
		held_before(r, base, at_us);     \
		CHECK(da_miss_clock_ready(&(r)->clock, (r)->tb->ts)); \
		call;                            \
		held_after(r);                   \
	} while (0)

static bool unpin_skipped_held(struct tb *tb, enum miss_rule rule, bool unpin_seen, bool missed,
			       bool detach_late)
{
	struct held_run r = { .tb = tb, .rule = rule };
	uint64_t base = tb->ts;

	/* read 0 (100 us): ATT2 imported, nothing missed */
	held_read(&r, base, 100, 0);
	HELD_AT(&r, base, 10, tb_vfio_export(tb, BUF1, RESV1));
	HELD_AT(&r, base, 20, tb_iommufd_import(tb, T1, BUF1, ATT2));
	/*
	 * 200 us: T1 takes a seq for its unpin of ATT2 and is preempted.  T2
	 * imports ATT1 (300 us) and maps it; its unpin at 500 us is skipped
	 * (or seen), the detach follows at 600 us (or after read 1).
	 */
	held_read(&r, base, 1000, missed ? 1 : 0); /* read 1: none of T2's records delivered */
	held_read(&r, base, 2000, 0); /* read 2: T1 has committed, all is delivered */
	HELD_AT(&r, base, 200, tb_unpin(tb, T1, BUF1, ATT2, HELD));
	HELD_AT(&r, base, 300, tb_iommufd_import(tb, T2, BUF1, ATT1));
	HELD_AT(&r, base, 400, tb_phys_map(tb, T2, BUF1, ATT1, 0));
	if (unpin_seen)
		HELD_AT(&r, base, 500, tb_unpin(tb, T2, BUF1, ATT1, HELD));
	HELD_AT(&r, base, detach_late ? 1500 : 600, tb_detach(tb, T2, BUF1, ATT1));
	HELD_AT(&r, base, 1600, tb_detach(tb, T1, BUF1, ATT2));
	HELD_AT(&r, base, 1700, tb_release(tb, T1, BUF1));
	tb_finish(tb);
	return true;
}

/* the old rule: the miss is charged before ATT1 exists for the engine, its detach judged */
static bool unpin_skipped_held_by_batch_false_finding(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(unpin_skipped_held(&tb, BY_BATCH, false, true, false));
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

/* by the record's clock: every record taken before read 1 is judged between loss points */
static bool unpin_skipped_held_quiet(void)
{
	struct da_summary sum;
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(unpin_skipped_held(&tb, BY_RECORD, false, true, false));
	ok = TB_EXPECT_NONE(&tb);
	tb_summary(&tb, &sum);
	CHECK(sum.lost == 1);
	tb_free(&tb);
	return ok;
}

/* the detach taken after read 1, not suspect itself: ATT1 became partial at its pin's point */
static bool unpin_skipped_held_detach_late_quiet(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(unpin_skipped_held(&tb, BY_RECORD, false, true, true));
	ok = TB_EXPECT_NONE(&tb);
	tb_free(&tb);
	return ok;
}

/* the real bug: the unpin never made and nothing lost: still found, by the same rule */
static bool unpin_missing_held_real_pin_leak(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(unpin_skipped_held(&tb, BY_RECORD, false, false, false));
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

/* the correct twins: the unpin seen, with and without a miss elsewhere */
static bool unpin_seen_held_quiet(void)
{
	struct tb tb;
	bool ok = true;

	for (int missed = 0; missed <= 1; missed++) {
		CHECK(tb_begin(&tb));
		CHECK(unpin_skipped_held(&tb, BY_RECORD, true, missed, false));
		ok = TB_EXPECT_NONE(&tb) && ok;
		tb_free(&tb);
	}
	return ok;
}

/*
 * The creator taken last before the read: iommufd attaches ATT1 (taken
 * before read 1, delivered after it), the pin that follows under the same
 * lock is skipped, and the phys map is taken after read 1, not suspect.
 * Only the loss point after the attach makes ATT1 partial; without it the
 * map is judged "mapped without dma_buf_pin()" (run 1's most common false
 * finding).
 */
static bool pin_skipped_after_attach(struct tb *tb, enum miss_rule rule)
{
	struct held_run r = { .tb = tb, .rule = rule };
	uint64_t base = tb->ts;

	held_read(&r, base, 100, 0);
	HELD_AT(&r, base, 10, tb_vfio_export(tb, BUF1, RESV1));
	held_read(&r, base, 1000, 1); /* the pin at 320 us skipped */
	HELD_AT(&r, base, 300, tb_revocable_check(tb, T2, BUF1, ATT1, 1));
	HELD_AT(&r, base, 310, tb_iommufd_attach(tb, T2, BUF1, ATT1));
	held_read(&r, base, 2000, 0);
	HELD_AT(&r, base, 1500, tb_phys_map(tb, T2, BUF1, ATT1, 0));
	HELD_AT(&r, base, 1600, tb_detach(tb, T2, BUF1, ATT1));
	HELD_AT(&r, base, 1700, tb_release(tb, T1, BUF1));
	tb_finish(tb);
	return true;
}

static bool pin_skipped_after_attach_before_only_false_finding(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(pin_skipped_after_attach(&tb, BEFORE_ONLY));
	ok = TB_EXPECT(&tb, E(PINNING_IMPORTER_MISSING_PIN, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

static bool pin_skipped_after_attach_quiet(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(pin_skipped_after_attach(&tb, BY_RECORD));
	ok = TB_EXPECT_NONE(&tb);
	tb_free(&tb);
	return ok;
}

/*
 * Run 5's pin-leak as the evidence shows it (seed 5, seq 58823): ATT1's
 * unpin skipped 130 us before the detach, and the miss counted at the read
 * after the detach was judged.  The detach was taken after read 1; the
 * source held it for the next batch but delivered it anyway when it
 * resolved the gaps at the end of the poll.  `wait_ready`: the detach is
 * judged only after a read taken after it (the one that counts the miss).
 */
static bool unpin_skipped_after_read(struct tb *tb, bool wait_ready)
{
	struct held_run r = { .tb = tb, .rule = BY_RECORD };
	uint64_t base = tb->ts;

	held_read(&r, base, 100, 0);
	HELD_AT(&r, base, 10, tb_vfio_export(tb, BUF1, RESV1));
	HELD_AT(&r, base, 20, tb_iommufd_import(tb, T2, BUF1, ATT1));
	HELD_AT(&r, base, 30, tb_phys_map(tb, T2, BUF1, ATT1, 0));
	held_read(&r, base, 1000, 0); /* read 1: nothing new */
	/* 1000 us: ATT1's unpin skipped; 1130 us: its detach taken, not ready */
	CHECK(!da_miss_clock_ready(&r.clock, base + 1130 * 1000));
	if (wait_ready) {
		held_read(&r, base, 2000, 1); /* read 2 counts the miss */
		HELD_AT(&r, base, 1130, tb_detach(tb, T2, BUF1, ATT1));
	} else {
		held_before(&r, base, 1130);
		tb_detach(tb, T2, BUF1, ATT1);
		held_after(&r);
		held_read(&r, base, 2000, 1);
	}
	HELD_AT(&r, base, 1200, tb_release(tb, T1, BUF1));
	tb_finish(tb);
	return true;
}

static bool unpin_skipped_after_read_judged_early_false_finding(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(unpin_skipped_after_read(&tb, false));
	ok = TB_EXPECT(&tb, E(PIN_LEAK, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

static bool unpin_skipped_after_read_waits_quiet(void)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	CHECK(unpin_skipped_after_read(&tb, true));
	ok = TB_EXPECT_NONE(&tb);
	tb_free(&tb);
	return ok;
}

/*
 * Seed 11, seq 77419-77450: a VFIO thread exports BUF1 (ino 7452); its
 * release and the PRIME child's udmabuf export at the same address are
 * skipped; vgem imports the udmabuf (a static attach, which a revoking
 * exporter must refuse): "non-revocable-importer-accepted" on the VFIO
 * buffer.  The attach's inode tells the buffers apart.
 */
#define VGEM_UDMABUF_INO 9011

static void vgem_attach(struct tb *tb, uint64_t buf, uint64_t att, uint64_t ino)
{
	struct da_event ev = tb_event(tb, T3, DA_OP_ATTACH);

	ev.buf = buf;
	ev.attach = att;
	ev.ino = ino;
	ev.resv = tb_resv_of(tb, buf);
	snprintf(ev.name, sizeof(ev.name), "vgem");
	tb_feed(tb, &ev);
}

static bool vgem_attach_over(bool release_seen, bool counted, uint64_t ino)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	if (release_seen)
		tb_release(&tb, T1, BUF1);
	if (counted)
		counted_miss(&tb, 2); /* the release and the udmabuf's export, or the export only */
	vgem_attach(&tb, BUF1, ATT2, ino);
	tb_detach(&tb, T3, BUF1, ATT2);
	tb_finish(&tb);
	ok = ino == VGEM_UDMABUF_INO ?
		     TB_EXPECT_NONE(&tb) :
		     TB_EXPECT(&tb, E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF1, ATT2));
	tb_free(&tb);
	return ok;
}

/* the inode says another buffer: no verdict on the VFIO one's identity, counted or not */
static bool vgem_attach_other_inode_quiet(void)
{
	return vgem_attach_over(false, true, VGEM_UDMABUF_INO) &&
	       vgem_attach_over(false, false, VGEM_UDMABUF_INO);
}

/* released, the new export skipped: not a use after release of the VFIO buffer either */
static bool vgem_attach_other_inode_after_release_quiet(void)
{
	return vgem_attach_over(true, false, VGEM_UDMABUF_INO) &&
	       vgem_attach_over(true, true, VGEM_UDMABUF_INO);
}

/* the real bug: a static importer attached to the VFIO buffer itself (its inode) */
static bool vgem_attach_same_inode_real_finding(void)
{
	return vgem_attach_over(false, false, BUF1 >> 12 & 0xffff);
}

/*
 * Seed 4264936374 (variant iommufd-unpin-unlocked, fixed VFIO), seq
 * 8834-8869: a thread exports BUF1, attaches without a callback (VFIO asks
 * dma_buf_attach_revocable(): false, refuses), then attaches with one at
 * the same reused address ATT1 (asked again: true, accepted).  The refused
 * attach's record and the second check's were skipped (recursion misses):
 * the first call's "false" was paired with the second call's success.
 * how: 0 nothing counted (the real bug's sequence: a check's false, then
 * the success), 1 the misses counted, 2 a loss point between them (the
 * batch the read that found them closes).
 */
static bool refused_then_accepted(int how)
{
	struct tb tb;
	bool ok;

	CHECK(tb_begin(&tb));
	tb_vfio_export(&tb, BUF1, RESV1);
	tb_revocable_check(&tb, T2, BUF1, ATT1, 0);
	if (how == 1)
		counted_miss(&tb, 2); /* the refused attach's fexit, the next check's */
	else if (how == 2)
		da_engine_loss_point(tb.eng);
	tb_attach(&tb, T2, BUF1, ATT1, "0000:01:00.0", "dat_vfio_importer_ops",
		  "dat_vfio_importer_invalidate", 0);
	tb_detach(&tb, T2, BUF1, ATT1);
	tb_release(&tb, T1, BUF1);
	tb_finish(&tb);
	ok = how ? TB_EXPECT_NONE(&tb) :
		   TB_EXPECT(&tb, E(NON_REVOCABLE_IMPORTER_ACCEPTED, HIGH, BUF1, ATT1));
	tb_free(&tb);
	return ok;
}

/* as the engine saw it: the check's false and the success, nothing between */
static bool refused_then_accepted_false_finding(void)
{
	return refused_then_accepted(0);
}

/* a loss between the check and the attach: the attach's own callback decides */
static bool refused_then_accepted_counted_quiet(void)
{
	return refused_then_accepted(1) && refused_then_accepted(2);
}

TAP_MAIN(TAP_TEST(export_skipped_false_finding), TAP_TEST(export_skipped_counted_quiet),
	 TAP_TEST(attach_skipped_false_finding), TAP_TEST(attach_skipped_counted_quiet),
	 TAP_TEST(unpin_skipped_false_finding), TAP_TEST(unpin_skipped_counted_quiet),
	 TAP_TEST(miss_inside_batch_quiet), TAP_TEST(miss_inside_batch_needs_points),
	 TAP_TEST(unpin_skipped_held_by_batch_false_finding), TAP_TEST(unpin_skipped_held_quiet),
	 TAP_TEST(unpin_skipped_held_detach_late_quiet), TAP_TEST(unpin_missing_held_real_pin_leak),
	 TAP_TEST(unpin_seen_held_quiet), TAP_TEST(pin_skipped_after_attach_before_only_false_finding),
	 TAP_TEST(pin_skipped_after_attach_quiet),
	 TAP_TEST(unpin_skipped_after_read_judged_early_false_finding),
	 TAP_TEST(unpin_skipped_after_read_waits_quiet), TAP_TEST(vgem_attach_other_inode_quiet),
	 TAP_TEST(vgem_attach_other_inode_after_release_quiet),
	 TAP_TEST(vgem_attach_same_inode_real_finding),
	 TAP_TEST(refused_then_accepted_false_finding),
	 TAP_TEST(refused_then_accepted_counted_quiet))
