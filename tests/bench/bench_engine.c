// SPDX-License-Identifier: GPL-2.0
/*
 * Engine benchmark (make bench -> tools/bench.sh).  Not a timed test.
 *
 * Generates, in memory, N events (default 10 million) of a realistic,
 * *correct* workload: tens of thousands of buffers alive at once from a
 * heap, udmabuf, a GPU exporter that moves buffers and VFIO that revokes
 * and un-revokes them inside revoke scopes; 1-3 importers each (static,
 * dynamic, some pinned), map/unmap, vmap, mmap, fence waits, buffer
 * addresses reused after release; every buffer's events interleaved with
 * everyone else's across many tasks and two CPUs.  Then it times, on one
 * core, a bare loop over the same events and the engine fed with them, and
 * measures the engine's memory.  A correct workload must give no finding,
 * so the run is also a false-positive check at scale.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/record.h"
#include "engine_tables.h" /* table sizes, for the exact memory figure */

#define SIMS 40000 /* buffers alive at once */
#define QLEN 12

enum kind { K_HEAP, K_UDMABUF, K_GPU, K_VFIO };

enum step_op {
	S_EXPORT,
	S_CHECK,
	S_ATTACH,
	S_PIN,
	S_MAP,
	S_UNMAP,
	S_VMAP,
	S_VUNMAP,
	S_MMAP,
	S_INVALIDATE,
	S_WAIT,
	S_UNLOCK,
	S_ENTER,
	S_EXIT,
	S_UNPIN,
	S_DETACH,
	S_RELEASE,
};

struct step {
	uint8_t op, ai, arg;
};

struct sim {
	uint64_t buf, resv, ino;
	uint64_t att[3], sgt[3];
	uint32_t tid;
	uint8_t kind, natt, stage, next_att, cycles, any_pinned;
	uint8_t dyn[3], pinned[3];
	uint8_t qh, qn;
	struct step q[QLEN];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t rnd(void)
{
	rng ^= rng << 13; /* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline unsigned int pick(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* released addresses come back: a reused address must be a new buffer */
#define RECYCLE 1024
static uint64_t freed_bufs[RECYCLE], freed_atts[RECYCLE];
static unsigned int nfreed_bufs, nfreed_atts;
static uint64_t next_buf = 0xffff888000000000ull, next_att = 0xffff889000000000ull;
static uint64_t next_sgt = 0xffff88a000000000ull, next_ino = 1000;

static uint64_t new_addr(uint64_t *freed, unsigned int *nfreed, uint64_t *next)
{
	if (*nfreed > RECYCLE / 2 && pick(3) == 0) {
		unsigned int i = pick(*nfreed);
		uint64_t a = freed[i];

		freed[i] = freed[--*nfreed];
		return a;
	}
	*next += 0x400;
	return *next;
}

static void free_addr(uint64_t *freed, unsigned int *nfreed, uint64_t a)
{
	if (*nfreed < RECYCLE)
		freed[(*nfreed)++] = a;
	else
		freed[pick(RECYCLE)] = a;
}

static void push(struct sim *s, uint8_t op, uint8_t ai, uint8_t arg)
{
	s->q[(s->qh + s->qn++) % QLEN] = (struct step){ op, ai, arg };
}

static void sim_new(struct sim *s, uint32_t slot)
{
	unsigned int r = pick(100);

	memset(s, 0, sizeof(*s));
	/* 1% VFIO: some hundred devices revoking at once, each in its own task */
	s->kind = r < 45 ? K_HEAP : r < 65 ? K_UDMABUF : r < 99 ? K_GPU : K_VFIO;
	s->buf = new_addr(freed_bufs, &nfreed_bufs, &next_buf);
	s->resv = s->buf + 0x100;
	s->ino = next_ino++;
	s->tid = 10000 + slot * 4;
	s->natt = 1 + pick(3);
	s->cycles = 2 + pick(10);
	for (int i = 0; i < s->natt; i++) {
		s->att[i] = new_addr(freed_atts, &nfreed_atts, &next_att);
		/* VFIO only accepts revocable (dynamic) importers */
		s->dyn[i] = s->kind == K_VFIO || pick(100) < 60;
		/* pinned importers on GPU buffers (RDMA-like); never moved while pinned */
		s->pinned[i] = s->kind == K_GPU && s->dyn[i] && pick(100) < 25;
		s->any_pinned |= s->pinned[i];
	}
}

/* queue the next few steps of this buffer's life */
static void plan(struct sim *s)
{
	unsigned int r, i;

	switch (s->stage) {
	case 0:
		push(s, S_EXPORT, 0, 0);
		s->stage = 1;
		return;
	case 1:
		i = s->next_att++;
		if (s->kind == K_VFIO)
			push(s, S_CHECK, i, 1);
		push(s, S_ATTACH, i, 0);
		if (s->pinned[i])
			push(s, S_PIN, i, 0);
		if (s->next_att == s->natt)
			s->stage = 2;
		return;
	case 2:
		if (!s->cycles--) {
			s->stage = 3;
			plan(s);
			return;
		}
		r = pick(100);
		i = pick(s->natt);
		if (r < 65) {
			push(s, S_MAP, i, 0);
			push(s, S_UNMAP, i, 0);
		} else if (r < 75) {
			push(s, S_VMAP, 0, 0);
			push(s, S_VUNMAP, 0, 0);
		} else if (r < 80) {
			push(s, S_MMAP, 0, 0);
		} else if (s->kind == K_GPU && !s->any_pinned) {
			/* TTM eviction: invalidate under the lock, importers remap later */
			push(s, S_INVALIDATE, 0, 0);
			push(s, S_UNLOCK, 0, 0);
		} else if (s->kind == K_VFIO) {
			/* memory disabled, then re-enabled: revoke and un-revoke, done right */
			for (int revoked = 1; revoked >= 0; revoked--) {
				push(s, S_ENTER, 0, revoked);
				push(s, S_INVALIDATE, 0, 0);
				push(s, S_WAIT, 0, 0);
				push(s, S_UNLOCK, 0, 0);
				push(s, S_EXIT, 0, revoked);
			}
		} else {
			push(s, S_MAP, i, 0);
			push(s, S_UNMAP, i, 0);
		}
		return;
	case 3:
		for (i = 0; i < s->natt; i++) {
			if (s->pinned[i])
				push(s, S_UNPIN, i, 0);
			push(s, S_DETACH, i, 0);
		}
		push(s, S_RELEASE, 0, 0);
		s->stage = 4;
		return;
	}
}

static const char *const exporters[] = { "system", "udmabuf", "amdgpu", "vfio_pci_core" };
static uint64_t ops_dyn, cb_dyn;

static void emit(struct sim *s, struct step st, struct da_event *ev, uint64_t seq, uint64_t ts)
{
	uint32_t itid = s->tid + 1 + st.ai;

	memset(ev, 0, sizeof(*ev));
	ev->seq = seq;
	ev->ts_ns = ts;
	ev->buf = s->buf;
	ev->resv = s->resv;
	ev->tid = s->tid;
	switch (st.op) {
	case S_EXPORT:
		ev->op = DA_OP_EXPORT;
		ev->ino = s->ino;
		ev->size = 1ull << (12 + s->ino % 9);
		snprintf(ev->name, sizeof(ev->name), "%s", exporters[s->kind]);
		break;
	case S_CHECK:
		ev->op = DA_OP_REVOCABLE_CHECK;
		ev->attach = s->att[st.ai];
		ev->ret = st.arg;
		ev->tid = itid;
		break;
	case S_ATTACH:
		ev->op = DA_OP_ATTACH;
		ev->attach = s->att[st.ai];
		ev->tid = itid;
		if (s->dyn[st.ai]) {
			ev->importer_ops = ops_dyn;
			ev->invalidate_cb = cb_dyn;
			ev->flags = DA_F_DYNAMIC | DA_F_PEER2PEER;
		}
		snprintf(ev->name, sizeof(ev->name), "0000:%02x:00.0", st.ai + 3);
		break;
	case S_PIN:
	case S_UNPIN:
		ev->op = st.op == S_PIN ? DA_OP_PIN : DA_OP_UNPIN;
		ev->attach = s->att[st.ai];
		ev->resv_held = DA_RESV_HELD;
		ev->tid = itid;
		break;
	case S_MAP:
	case S_UNMAP:
		ev->attach = s->att[st.ai];
		ev->tid = itid;
		if (st.op == S_MAP) {
			ev->op = DA_OP_MAP;
			s->sgt[st.ai] = next_sgt += 0x40;
		} else {
			ev->op = DA_OP_UNMAP;
		}
		ev->sgt = s->sgt[st.ai];
		/* dynamic importers lock and call the locked variant */
		ev->flags = s->dyn[st.ai] ? DA_F_LOCKED : 0;
		ev->resv_held = s->dyn[st.ai] ? DA_RESV_HELD : DA_RESV_NOT_HELD;
		break;
	case S_VMAP:
		ev->op = DA_OP_VMAP;
		ev->resv_held = DA_RESV_NOT_HELD;
		break;
	case S_VUNMAP:
		ev->op = DA_OP_VUNMAP;
		ev->resv_held = DA_RESV_NOT_HELD;
		break;
	case S_MMAP:
		ev->op = DA_OP_MMAP;
		break;
	case S_INVALIDATE:
		ev->op = DA_OP_INVALIDATE;
		ev->resv_held = DA_RESV_HELD;
		ev->fn = DA_FN_INVALIDATE_MAPPINGS;
		break;
	case S_WAIT:
		ev->op = DA_OP_FENCE_WAIT;
		ev->buf = 0;
		ev->usage = DA_USAGE_BOOKKEEP;
		ev->ret = 1;
		break;
	case S_UNLOCK:
		ev->op = DA_OP_RESV_UNLOCK;
		ev->buf = 0;
		break;
	case S_ENTER:
	case S_EXIT:
		ev->op = st.op == S_ENTER ? DA_OP_SCOPE_ENTER : DA_OP_SCOPE_EXIT;
		ev->buf = ev->resv = 0;
		ev->fn = 0; /* slot 0: vfio_pci_dma_buf_move */
		ev->flags = DA_F_HAS_REVOKED | (st.arg ? DA_F_REVOKED : 0);
		ev->importer_ops = 0xffff88b000000000ull + s->tid;
		break;
	case S_DETACH:
		ev->op = DA_OP_DETACH;
		ev->attach = s->att[st.ai];
		ev->tid = itid;
		free_addr(freed_atts, &nfreed_atts, s->att[st.ai]);
		break;
	case S_RELEASE:
		ev->op = DA_OP_RELEASE;
		free_addr(freed_bufs, &nfreed_bufs, s->buf);
		break;
	}
	ev->pid = ev->tid / 4;
	ev->cpu = ev->tid & 1;
	snprintf(ev->comm, sizeof(ev->comm), "worker%u", ev->pid % 97);
}

/* the workload, one event at a time */
struct generator {
	struct sim *sims;
	uint64_t ts, seq, nbufs;
};

static void gen_init(struct generator *g)
{
	g->sims = calloc(SIMS, sizeof(*g->sims));
	if (!g->sims) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < SIMS; i++)
		sim_new(&g->sims[i], i);
	g->nbufs = SIMS;
	g->ts = 1000000000ull;
	g->seq = 0;
}

static void gen_next(struct generator *g, struct da_event *ev)
{
	uint32_t slot = pick(SIMS);
	struct sim *s = &g->sims[slot];
	struct step st;

	if (s->stage == 4 && !s->qn) {
		sim_new(s, slot);
		g->nbufs++;
	}
	if (!s->qn)
		plan(s);
	st = s->q[s->qh];
	s->qh = (s->qh + 1) % QLEN;
	s->qn--;
	g->ts += 150 + pick(100);
	emit(s, st, ev, ++g->seq, g->ts);
}

static struct da_event *generate(uint64_t n, uint64_t *nbufs)
{
	struct da_event *evs = malloc(n * sizeof(*evs));
	struct generator g;

	if (!evs) {
		fprintf(stderr, "bench: cannot allocate %" PRIu64 " events\n", n);
		exit(1);
	}
	gen_init(&g);
	for (uint64_t k = 0; k < n; k++)
		gen_next(&g, &evs[k]);
	*nbufs = g.nbufs;
	free(g.sims);
	return evs;
}

/* ------------------------------------------------------------------------ */

static uint64_t nfindings, nnotices;
static char first_finding[512];
static int quiet_notices;

static void on_finding(void *ctx, const struct da_finding *f)
{
	if (!nfindings++)
		snprintf(first_finding, sizeof(first_finding), "%s: %s", da_rules[f->rule].name,
			 f->message);
}

static void on_notice(void *ctx, enum da_notice_kind kind, const char *msg)
{
	nnotices++;
	if (!quiet_notices)
		printf("  engine notice: %s\n", msg);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* exact bytes of the tables an attachment or buffer occupies, by capacity */
static size_t entity_table_bytes(const struct da_engine *e)
{
	size_t b = 0;

	b += (size_t)e->nbufs * sizeof(struct ebuf) + (sizeof(uint32_t) << e->bbits) * 2;
	b += (size_t)e->natts * sizeof(struct eatt) + (sizeof(uint32_t) << e->abits);
	b += (size_t)e->nmaps * sizeof(struct emap) + (sizeof(uint32_t) << e->mbits);
	b += (size_t)e->npends * sizeof(struct epend);
	b += (e->evicted_mask + 1ull) * sizeof(uint64_t) * 2;
	return b;
}

static size_t fixed_bytes(const struct da_engine *e)
{
	return (e->jmask + 1) * (sizeof(struct da_event) + sizeof(uint64_t)) +
	       e->ntasks * sizeof(struct etask) + DA_ENGINE_MAX_NAMES * sizeof(struct ename) +
	       sizeof(struct da_engine);
}

struct symbol_sink {
	struct da_record_writer *w;
};

static void write_symbol(void *ctx, uint64_t addr, const char *name)
{
	da_record_write_symbol(((struct symbol_sink *)ctx)->w, addr, name);
}

/* the events as a binary record: those given, or n generated one at a time (evs NULL) */
static int write_record(const char *path, const struct da_trace_info *trace,
			struct da_symbols *syms, const struct da_event *evs, uint64_t n)
{
	struct symbol_sink sink;
	struct generator g;
	struct da_event ev;
	char err[512];

	sink.w = da_record_writer_open(path, err, sizeof(err));
	if (!sink.w) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	da_record_write_header(sink.w, trace);
	da_symbols_foreach(syms, write_symbol, &sink);
	if (!evs)
		gen_init(&g);
	for (uint64_t i = 0; i < n; i++) {
		if (!evs)
			gen_next(&g, &ev);
		da_record_write_event(sink.w, evs ? &evs[i] : &ev);
	}
	if (!evs)
		free(g.sims);
	if (da_record_writer_close(sink.w, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	printf("wrote %s%" PRIu64 " events as a binary record: %s\n", evs ? "the same " : "", n,
	       path);
	return 0;
}

/* the importer ops, callback and scope the workload's events name */
static void workload_names(struct da_symbols *syms, struct da_trace_info *trace)
{
	ops_dyn = da_symbols_intern(syms, "amdgpu_dma_buf_attach_ops");
	cb_dyn = da_symbols_intern(syms, "amdgpu_dma_buf_move_notify");
	da_trace_scope_slot(trace, "vfio_pci_dma_buf_move");
}

/*
 * engine runs, alternating: one event at a time, with the two-stage
 * lookahead (buckets, entities), with the third stage (chains) as
 * da_pipeline_events does
 */
#define MODES 3
#define RUNS 9
static const char *const mode_names[MODES] = { "1by1", "ahead2", "ahead3" };

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ull, nbufs;
	double t0, t_gen, t_bare, t_eng[RUNS], best_eng;
	uint64_t peak_live_atts = 0, peak_live_bufs = 0, peak_tracked = 0, checksum = 0;
	long rss_before, rss_after;
	size_t heap_before, heap_after;
	struct da_engine_config cfg = { 0 };
	struct da_trace_info trace = { 0 };
	struct da_summary sum;
	struct da_policy pol;
	struct da_symbols *syms;
	struct da_event *evs;
	struct da_engine *eng;
	cpu_set_t one;
	const int runs = RUNS;

	if (argc == 4 && !strcmp(argv[1], "--record-only")) {
		/* a record of any size: generated as it is written, nothing kept */
		n = strtoull(argv[2], NULL, 0);
		syms = da_symbols_new();
		workload_names(syms, &trace);
		return write_record(argv[3], &trace, syms, NULL, n) ? 1 : 0;
	}
	if (n < 1000) {
		fprintf(stderr, "usage: bench_engine [EVENTS >= 1000 [RECORD]]\n"
				"       bench_engine --record-only EVENTS RECORD\n");
		return 2;
	}
	/* one core: the engine is single-threaded; no migrations mid-run */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);

	da_policy_init_default(&pol);
	syms = da_symbols_new();
	workload_names(syms, &trace);

	t0 = now_s();
	evs = generate(n, &nbufs);
	t_gen = now_s() - t0;
	printf("dmabuf-audit engine benchmark\n");
	printf("workload: %" PRIu64 " events generated in memory (%.2f GB) in %.2f s; %" PRIu64
	       " buffer lifetimes, %d alive at once, 1-3 importers each\n",
	       n, n * sizeof(*evs) / 1e9, t_gen, nbufs, SIMS);

	/* the bare loop: read every event once, as the engine must */
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		checksum += evs[i].seq ^ evs[i].buf ^ evs[i].attach ^ evs[i].op;
	t_bare = now_s() - t0;
	__asm__ volatile("" : : "r"(checksum));

	cfg.policy = &pol;
	cfg.symbols = syms;
	cfg.trace = &trace;
	cfg.output.finding = on_finding;
	cfg.output.notice = on_notice;
	for (int r = 0; r < runs; r++) {
		nfindings = nnotices = 0;
		rss_before = maxrss_kb();
		eng = da_engine_new(&cfg);
		if (!eng) {
			fprintf(stderr, "bench: da_engine_new failed\n");
			return 1;
		}
		heap_before = heap_in_use();
		t0 = now_s();
		for (uint64_t i = 0; i < n; i += 65536) {
			uint64_t end = i + 65536 < n ? i + 65536 : n;

			for (uint64_t k = i; k < end; k++) {
				/* odd runs look ahead as da_pipeline_events does */
				if (r % MODES && k + DA_ENGINE_PREFETCH_BUCKETS < n)
					da_engine_prefetch(
						eng, &evs[k + DA_ENGINE_PREFETCH_BUCKETS], false);
				if (r % MODES && k + DA_ENGINE_PREFETCH_ENTITIES < n)
					da_engine_prefetch(
						eng, &evs[k + DA_ENGINE_PREFETCH_ENTITIES], true);
				if (r % MODES == 2 && k + DA_ENGINE_PREFETCH_CHAINS < n)
					da_engine_prefetch_chains(
						eng, &evs[k + DA_ENGINE_PREFETCH_CHAINS]);
				da_engine_feed(eng, &evs[k]);
			}
			if (!r && eng->nlive_atts > peak_live_atts)
				peak_live_atts = eng->nlive_atts;
			if (!r && eng->nlive_bufs > peak_live_bufs)
				peak_live_bufs = eng->nlive_bufs;
			/* released/detached entries are kept to recognise use after release */
			if (!r && eng->nlive_atts + eng->a_dead.count > peak_tracked)
				peak_tracked = eng->nlive_atts + eng->a_dead.count;
		}
		t_eng[r] = now_s() - t0;
		heap_after = heap_in_use();
		quiet_notices = r > 0;
		da_engine_finish(eng);
		rss_after = maxrss_kb();
		da_engine_summary(eng, &sum);
		if (r == 0) {
			size_t tables = entity_table_bytes(eng), fixed = fixed_bytes(eng);

			printf("\nmemory (engine caps: %u buffers, %u attachments, journal %" PRIu64
			       " events)\n",
			       eng->nbufs, eng->natts, eng->jmask + 1);
			printf("  exact table sizes (sizeof x capacity): buffer %zu B, attachment %zu B, mapping %zu B, pending revoke %zu B\n",
			       sizeof(struct ebuf), sizeof(struct eatt), sizeof(struct emap),
			       sizeof(struct epend));
			printf("  per-entity tables %.1f MB = %.0f B per attachment slot (buffers, attachments, mappings, hash heads, amortized)\n",
			       tables / 1e6, (double)tables / eng->natts);
			printf("  fixed: journal + tasks + names %.1f MB\n", fixed / 1e6);
			printf("  tracked at peak: %" PRIu64 " attachments (%" PRIu64
			       " live, the rest detached and kept to recognise use after release), %" PRIu64
			       " live buffers\n",
			       peak_tracked, peak_live_atts, peak_live_bufs);
			printf("  exact: %.0f B per tracked attachment (tables) + %.0f B fixed part spread over them\n",
			       (double)tables / peak_tracked, (double)fixed / peak_tracked);
			printf("  measured: maxrss delta %.1f MB (tables + fixed, as touched) = %.0f B per tracked attachment, %.0f B per live one\n",
			       (rss_after - rss_before) / 1e3,
			       (rss_after - rss_before) * 1024.0 / peak_tracked,
			       (rss_after - rss_before) * 1024.0 / peak_live_atts);
			printf("  heap growth while feeding %" PRIu64 " events: %zd bytes\n", n,
			       (ssize_t)(heap_after - heap_before));
			printf("\nverdicts on this correct workload: %" PRIu64 " findings, %" PRIu64
			       " notices; events %" PRIu64 ", buffers %" PRIu64
			       ", attachments %" PRIu64 ", partial %" PRIu64
			       ", live evictions %" PRIu64 "\n",
			       nfindings, nnotices, sum.events, sum.buffers, sum.attachments,
			       sum.partial, sum.evicted);
			if (nfindings)
				printf("  FIRST FINDING (a false positive): %s\n", first_finding);
		}
		da_engine_free(eng);
	}
	printf("\nthroughput (one core, same events; runs alternate so both modes see the same machine)\n");
	printf("  bare loop      %8.3f s  %8.1f M events/s\n", t_bare, n / t_bare / 1e6);
	for (int r = 0; r < runs; r++)
		printf("  engine #%d %-5s %8.3f s  %8.1f M events/s\n", r + 1,
		       mode_names[r % MODES], t_eng[r], n / t_eng[r] / 1e6);
	for (int mode = 0; mode < MODES; mode++) {
		best_eng = t_eng[mode];
		for (int r = mode + MODES; r < runs; r += MODES)
			if (t_eng[r] < best_eng)
				best_eng = t_eng[r];
		printf("  best %-9s %8.3f s  %8.1f M events/s  = %.1f ns/event, %.1fx the bare loop's time\n",
		       mode_names[mode], best_eng, n / best_eng / 1e6, best_eng * 1e9 / n,
		       best_eng / t_bare);
	}
	/* the same events as a binary record */
	if (argc > 2 && write_record(argv[2], &trace, syms, evs, n))
		return 1;
	free(evs);
	da_symbols_free(syms);
	return nfindings ? 1 : 0;
}
