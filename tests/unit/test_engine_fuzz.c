// SPDX-License-Identifier: GPL-2.0
/*
 * Random event streams (a fixed-seed PRNG: every run is the same) through
 * tiny tables, so eviction, slot reuse, address reuse, losses, nested and
 * unmatched scopes and every op in every state happen constantly.  After
 * each event the engine's internal structures are checked for consistency
 * (hash chains, lists, counters, back-links); any break is a failure.  Also
 * the run valgrind checks for memory errors in those paths.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../../src/core/engine_state.h"
#include "trace_builder.h"

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define FAIL(...)                                    \
	do {                                         \
		printf("# invariant: " __VA_ARGS__); \
		printf("\n");                        \
		return false;                        \
	} while (0)

static bool check_invariants(const struct da_engine *e)
{
	uint32_t live_b = 0, dead_b = 0, live_a = 0, dead_a = 0, used_m = 0, n;

	for (uint32_t bi = 0; bi < e->nbufs; bi++) {
		const struct ebuf *b = &e->bufs[bi];

		if (!(b->flags & BF_USED))
			continue;
		if (buf_find(e, b->ptr) != bi)
			FAIL("buffer %u not found by its pointer", bi);
		if (b->flags & BF_LIVE) {
			live_b++;
			if (b->resv) {
				uint32_t i = e->rhash[hash_ptr(b->resv, e->bbits)];

				while (i != NIL && i != bi)
					i = e->bufs[i].rnext;
				if (i != bi)
					FAIL("live buffer %u missing from the resv index", bi);
			}
			n = 0;
			for (uint32_t ai = b->atts; ai != NIL; ai = e->atts[ai].blink.next) {
				const struct eatt *a = &e->atts[ai];

				if (!(a->flags & AF_LIVE) || a->buf != bi ||
				    a->buf_serial != b->serial)
					FAIL("buffer %u lists attachment %u that is not its live one",
					     bi, ai);
				if (++n > e->natts)
					FAIL("attachment list of buffer %u loops", bi);
			}
		} else {
			dead_b++;
			if (b->atts != NIL)
				FAIL("released buffer %u still has attachments", bi);
		}
		if (b->pend != NIL &&
		    (e->pends[b->pend].buf != bi || e->pends[b->pend].buf_serial != b->serial))
			FAIL("buffer %u pending revoke does not point back", bi);
	}
	for (uint32_t ai = 0; ai < e->natts; ai++) {
		const struct eatt *a = &e->atts[ai];

		if (!(a->flags & AF_USED))
			continue;
		if (att_find(e, a->ptr) != ai)
			FAIL("attachment %u not found by its pointer", ai);
		if (!(a->flags & AF_LIVE)) {
			dead_a++;
			if (a->maps != NIL)
				FAIL("detached attachment %u still has mappings", ai);
			continue;
		}
		live_a++;
		if (att_buf(e, a) == NIL || !(e->bufs[a->buf].flags & BF_LIVE))
			FAIL("live attachment %u has no live buffer", ai);
		for (uint32_t mi = a->maps; mi != NIL; mi = e->maps[mi].alink.next) {
			const struct emap *m = &e->maps[mi];
			uint32_t i = e->mhash[eng_map_bucket(e, m->sgt)];

			if (m->att != ai || !m->count)
				FAIL("mapping %u of attachment %u is not its own", mi, ai);
			while (i != NIL && i != mi)
				i = e->maps[i].hnext;
			if (i != mi)
				FAIL("mapping %u missing from the mapping index", mi);
			if (++used_m > e->nmaps)
				FAIL("mapping lists loop");
		}
	}
	if (live_b != e->nlive_bufs || dead_b != e->b_dead.count)
		FAIL("buffer counts: %u live (%u counted), %u dead (%u listed)", live_b,
		     e->nlive_bufs, dead_b, e->b_dead.count);
	if (live_a != e->nlive_atts || dead_a != e->a_dead.count)
		FAIL("attachment counts: %u live (%u counted), %u dead (%u listed)", live_a,
		     e->nlive_atts, dead_a, e->a_dead.count);
	/* every free mapping slot is on the free stack exactly once */
	n = 0;
	for (uint32_t mi = e->m_free; mi != NIL; mi = e->maps[mi].alink.next)
		if (++n > e->nmaps)
			FAIL("mapping free stack loops");
	if (n + used_m != e->nmaps)
		FAIL("mappings: %u free + %u used != %u", n, used_m, e->nmaps);
	n = 0;
	for (uint32_t bi = e->b_free; bi != NIL; bi = e->bufs[bi].lru.next)
		if (++n > e->nbufs)
			FAIL("buffer free stack loops");
	if (n + live_b + dead_b != e->nbufs)
		FAIL("buffers: %u free + %u live + %u dead != %u", n, live_b, dead_b, e->nbufs);
	n = 0;
	for (uint32_t ai = e->a_free; ai != NIL; ai = e->atts[ai].lru.next)
		if (++n > e->natts)
			FAIL("attachment free stack loops");
	if (n + live_a + dead_a != e->natts)
		FAIL("attachments: %u free + %u live + %u dead != %u", n, live_a, dead_a, e->natts);
	for (uint32_t ti = e->t_active.head; ti != NIL; ti = e->tasks[ti].alink.next)
		if (!e->tasks[ti].depth || eng_task_find(e, e->tasks[ti].tid) != ti)
			FAIL("active task %u has no open scope or is not indexed", ti);
	return true;
}

static const char *const scope_fns[] = { "vfio_pci_dma_buf_move", "vfio_pci_dma_buf_cleanup",
					 "dat_exporter_revoke" };
static const char *const exporters[] = { "vfio_pci_core", "amdgpu", "system", "mock" };
static const char *const ops_syms[] = { NULL, "amdgpu_dma_buf_attach_ops",
					"iopt_dmabuf_attach_revoke_ops",
					"ib_umem_dmabuf_attach_pinned_ops" };
static const char *const cb_syms[] = { NULL, "amdgpu_dma_buf_move_notify", "iopt_revoke_notify",
				       "ib_umem_dmabuf_unsupported_move_notify" };

static void random_event(struct tb *tb)
{
	/* small pointer pools: addresses are reused all the time */
	uint64_t buf = 0xffff888100000000ull + (rnd() % 24) * 0x1000;
	uint64_t att = 0xffff888200000000ull + (rnd() % 40) * 0x1000;
	uint64_t sgt = 0xffff888300000000ull + (rnd() % 16) * 0x40;
	uint32_t tid = 100 + rnd() % 6;
	enum da_resv_held held = rnd() % 3;
	int ret = rnd() % 5 == 0 ? -19 : 0;

	tb->cpu = rnd() % 4;
	switch (rnd() % 24) {
	case 0:
	case 1:
		tb_export(tb, tid, buf, rnd() % 4 ? buf + 0x100 : 0xffff888500000000ull,
			  exporters[rnd() % 4], rnd() % 1000);
		break;
	case 2:
		tb_release(tb, tid, buf);
		break;
	case 3:
	case 4:
		tb_attach(tb, tid, buf, att, "dev", ops_syms[rnd() % 4], cb_syms[rnd() % 4], ret);
		break;
	case 5:
		tb_detach(tb, tid, buf, att);
		break;
	case 6:
		tb_pin(tb, tid, buf, att, held, ret);
		break;
	case 7:
		tb_unpin(tb, tid, buf, att, held);
		break;
	case 8:
	case 9:
		tb_map(tb, tid, buf, att, sgt, rnd() % 2, held, ret);
		break;
	case 10:
	case 11:
		tb_unmap(tb, tid, buf, att, sgt, rnd() % 2, held);
		break;
	case 12:
		tb_vmap(tb, tid, buf, rnd() % 2, held, ret);
		break;
	case 13:
		tb_vunmap(tb, tid, buf, rnd() % 2, held);
		break;
	case 14:
		tb_mmap(tb, tid, buf, ret);
		break;
	case 15:
	case 16:
		tb_invalidate(tb, tid, buf, held);
		break;
	case 17:
		tb_fence_wait(tb, tid, rnd() % 8 ? tb_resv_of(tb, buf) : buf + 0x100, rnd() % 4,
			      (long)(rnd() % 3) - 1);
		break;
	case 18:
		tb_revocable_check(tb, tid, buf, att, rnd() % 2);
		break;
	case 19:
		tb_scope_enter(tb, tid, scope_fns[rnd() % 3], (int)(rnd() % 3) - 1, rnd());
		break;
	case 20:
		tb_scope_exit(tb, tid, scope_fns[rnd() % 3], -1);
		break;
	case 21:
		tb_resv_unlock(tb, tid, tb_resv_of(tb, buf));
		break;
	case 22:
		if (rnd() % 16 == 0)
			tb_lost(tb, 1 + rnd() % 3);
		else
			tb_advance(tb, rnd() % 400000000ull);
		break;
	case 23:
		tb_tick(tb);
		break;
	}
}

static bool fuzz(uint64_t seed, uint32_t nbufs, uint32_t natts, uint32_t jlen, unsigned int n)
{
	struct da_summary sum;
	uint64_t total = 0;
	struct tb tb;

	rng = seed;
	tb_init(&tb);
	tb.cfg.max_buffers = nbufs;
	tb.cfg.max_attachments = natts;
	tb.cfg.journal_len = jlen;
	tb.cfg.history_len = 8;
	CHECK(tb_policy(&tb, "revoke-scope dat_exporter_revoke revoked-arg 1\n"
			     "stall-threshold-ms 500\n"));
	CHECK(tb_start(&tb));
	for (unsigned int i = 0; i < n; i++) {
		random_event(&tb);
		/* findings are copied by the builder: drop them, only the counts matter */
		tb.nfind = tb.nnotice = 0;
		tb.overflow = false;
		if (!check_invariants(tb.eng)) {
			printf("# after event %u (seed %" PRIu64 ")\n", i, seed);
			tb_free(&tb);
			return false;
		}
	}
	tb_finish(&tb);
	CHECK(check_invariants(tb.eng));
	tb_summary(&tb, &sum);
	for (int s = 0; s < DA_SEV__COUNT; s++)
		total += sum.findings[s];
	CHECK(sum.events == tb.seq - 1 - sum.lost);
	CHECK(sum.partial == sum.partial_late + sum.partial_lost + sum.partial_evicted +
			     sum.partial_seeded);
	printf("# seed %" PRIu64 ": %" PRIu64 " events, %" PRIu64 " findings, %" PRIu64
	       " partial, %" PRIu64 " evicted\n",
	       seed, sum.events, total, sum.partial, sum.evicted);
	tb_free(&tb);
	return true;
}

static bool fuzz_tiny_tables(void)
{
	return fuzz(0x1234567, 4, 6, 16, 60000) && fuzz(0xabcdef, 2, 2, 8, 60000) &&
	       fuzz(0x777, 1, 1, 1, 30000);
}

static bool fuzz_roomy_tables(void)
{
	return fuzz(0x5eed, 64, 128, 256, 60000);
}

TAP_MAIN(TAP_TEST(fuzz_tiny_tables), TAP_TEST(fuzz_roomy_tables))
