// SPDX-License-Identifier: GPL-2.0
/*
 * The live source: poll the ring buffer and hand events to the pipeline in
 * seq order.  Records from different CPUs can reach the ring slightly out
 * of seq order (the number is taken just before the reservation), so a
 * small reorder window holds them until the missing ones arrive.  A
 * missing seq is declared lost when the BPF loss counter accounts for it,
 * or after a short timeout; the pipeline then sees the gap and tells the
 * engine.  Losses it cannot see as a gap (before the first event, after
 * the last) are reported with da_pipeline_lost(), and so are the calls
 * the kernel never let a program of ours see (recursion misses: no seq was
 * taken), read before each batch; which records that makes suspect, and
 * when a record may be judged at all, goes by the record's own clock
 * (src/core/miss_clock.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dmabuf_audit/addr.h"
#include "../core/miss_clock.h"
#include "live.h"

#define WINDOW 8192 /* power of two */
#define GAP_TIMEOUT_NS 200000000ull /* a record in flight commits within microseconds */

struct da_source {
	struct da_live *live;
	struct da_pipeline *p;
	int verbose;
	struct ring_buffer *rb;
	int counters_fd;
	struct da_event *slots;
	bool *present;
	uint64_t next; /* next seq to deliver */
	uint64_t end; /* highest seq seen + 1 */
	uint64_t gap_since; /* when the gap at `next` was first seen, 0 = none */
	bool delivered_any;
	uint64_t events;
	uint64_t gaps; /* seqs declared lost */
	uint64_t gaps_charged; /* ... of which BPF's loss counter accounted for */
	uint64_t bpf_lost_seen; /* BPF's loss counter when last read */
	uint64_t late; /* records that came after their seq was declared lost */
	uint64_t misses_seen; /* the programs' recursion misses when last read */
	uint64_t misses_charged; /* ... reported as lost */
	uint64_t kprobe_misses_seen; /* our kprobes' misses when last read */
	uint64_t kprobe_misses_charged; /* ... reported as lost */
	bool kprobe_misses_untold; /* said that this kernel does not count them */
	/* which records the misses read so far let us judge, and which they make suspect */
	struct da_miss_clock clock;
	uint64_t malformed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t read_counter(struct da_source *s, uint32_t idx)
{
	uint64_t val = 0;

	bpf_map_lookup_elem(s->counters_fd, &idx, &val);
	return val;
}

static void debug_print(const struct da_event *e)
{
	/* stderr is the journal under systemd: pointers obey --addresses too */
	const uint64_t ptrs[6] = { e->buf, e->attach, e->resv, e->sgt, e->importer_ops,
				   e->invalidate_cb };
	char p[6][DA_ADDR_STR_LEN];

	for (unsigned int i = 0; i < 6; i++)
		da_addr_fmt(p[i], sizeof(p[i]), ptrs[i]);
	fprintf(stderr,
		"[event] seq=%llu cpu=%u pid=%u tid=%u comm=%.16s op=%s buf=%s attach=%s "
		"resv=%s sgt=%s ops=%s cb=%s ino=%llu size=%llu ret=%lld "
		"flags=0x%x held=%u usage=%u fn=%u timeout=%llu cgroup=%llu name=%.32s\n",
		(unsigned long long)e->seq, e->cpu, e->pid, e->tid, e->comm, da_op_name(e->op),
		p[0], p[1], p[2], p[3], p[4], p[5],
		(unsigned long long)e->ino, (unsigned long long)e->size, (long long)e->ret,
		e->flags, e->resv_held, e->usage, e->fn, (unsigned long long)e->timeout,
		(unsigned long long)e->cgroup_id, e->name);
}

static void deliver(struct da_source *s, const struct da_event *e)
{
	bool suspect = da_miss_clock_suspect(&s->clock, e->ts_ns);

	if (s->verbose >= 2)
		debug_print(e);
	s->events++;
	s->delivered_any = true;
	/* a skipped call may be just before it or just after the entity it creates */
	if (suspect)
		da_pipeline_loss_point(s->p);
	da_pipeline_event(s->p, e);
	if (suspect)
		da_pipeline_loss_point(s->p);
}

static void read_misses(struct da_source *s, uint64_t before_ns);

/* seq `next` is lost: skip it */
static void skip_lost(struct da_source *s)
{
	/* before the first delivered event the pipeline has no base to see a gap from */
	if (!s->delivered_any)
		da_pipeline_lost(s->p, s->next, 1);
	s->gaps++;
	s->next++;
	s->gap_since = 0;
}

/* the records in seq order from `next` on, up to a gap or one taken after the last read */
static void deliver_ready(struct da_source *s)
{
	while (s->next < s->end && s->present[s->next & (WINDOW - 1)] &&
	       da_miss_clock_ready(&s->clock, s->slots[s->next & (WINDOW - 1)].ts_ns)) {
		s->present[s->next & (WINDOW - 1)] = false;
		deliver(s, &s->slots[s->next & (WINDOW - 1)]);
		s->next++;
		s->gap_since = 0;
	}
}

/*
 * Charge a missing seq to BPF's loss counter: true when the counter
 * accounts for one more.  The map is read (a system call) only when the
 * count last read is used up, not once per missing seq: a burst can lose
 * millions.
 */
static bool charge_gap(struct da_source *s)
{
	if (s->bpf_lost_seen <= s->gaps_charged)
		s->bpf_lost_seen = read_counter(s, DA_CTR_LOST);
	if (s->bpf_lost_seen <= s->gaps_charged)
		return false;
	s->gaps_charged++;
	return true;
}

/* Decide the gaps at the head of the window; force: nothing more will arrive. */
static void resolve_gaps(struct da_source *s, bool force)
{
	deliver_ready(s);
	/* a record at `next` waits for the next read of the miss counters, not a gap */
	while (s->next < s->end && !s->present[s->next & (WINDOW - 1)]) {
		/* not (yet) counted by BPF: maybe a record still in flight */
		if (!charge_gap(s) && !force) {
			uint64_t now = now_ns();

			if (!s->gap_since) {
				s->gap_since = now;
				return;
			}
			if (now - s->gap_since < GAP_TIMEOUT_NS)
				return;
		}
		skip_lost(s);
		deliver_ready(s);
	}
}

/* on_sample's answer for a record of the next batch: stop consuming (not an error) */
#define NEXT_BATCH (-EINPROGRESS)

static int on_sample(void *ctx, void *data, size_t size)
{
	struct da_source *s = ctx;
	struct da_event e;
	bool next_batch;

	if (size < sizeof(e)) {
		s->malformed++;
		return 0;
	}
	/*
	 * A record taken after the miss counters were read: a call skipped
	 * before it may not be counted yet.  It waits in the window (libbpf
	 * has consumed it) and the rest stays in the ring for the next batch.
	 */
	next_batch = !da_miss_clock_ready(&s->clock, ((const struct da_event *)data)->ts_ns);
	/*
	 * The usual case, in order with nothing held back: judged in place
	 * (records are 8-byte aligned, all struct da_event needs), not copied
	 * twice on the way.
	 */
	if (!next_batch && ((const struct da_event *)data)->seq == s->next && s->end <= s->next) {
		deliver(s, data);
		s->end = ++s->next;
		s->gap_since = 0;
		return 0;
	}
	memcpy(&e, data, sizeof(e));
	if (e.seq < s->next) {
		s->late++;
		return 0;
	}
	/* far ahead of a gap: the window is full, the oldest missing ones are lost */
	while (e.seq >= s->next + WINDOW) {
		if (s->present[s->next & (WINDOW - 1)]) {
			uint64_t ts = s->slots[s->next & (WINDOW - 1)].ts_ns, now = now_ns();

			/* the held ones were taken before now: a new read lets them go */
			if (!da_miss_clock_ready(&s->clock, ts))
				read_misses(s, now > ts ? now : ts);
			deliver_ready(s);
		} else {
			charge_gap(s);
			skip_lost(s);
		}
	}
	s->slots[e.seq & (WINDOW - 1)] = e;
	s->present[e.seq & (WINDOW - 1)] = true;
	if (e.seq + 1 > s->end)
		s->end = e.seq + 1;
	if (next_batch)
		return NEXT_BATCH;
	deliver_ready(s);
	return 0;
}

/*
 * A new batch: the records taken until now, judged after the misses
 * counted until now (read_misses), those held back by the last one first.
 */
static int consume_batch(struct da_source *s, uint64_t end_ns)
{
	int n;

	read_misses(s, end_ns);
	deliver_ready(s);
	n = ring_buffer__consume(s->rb);
	return n == NEXT_BATCH ? 0 : n;
}

struct da_source *da_source_new(struct da_live *live, struct da_pipeline *p, int verbose)
{
	struct da_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->live = live;
	s->p = p;
	s->verbose = verbose;
	s->counters_fd = da_live_counters_fd(live);
	s->slots = calloc(WINDOW, sizeof(*s->slots));
	s->present = calloc(WINDOW, sizeof(*s->present));
	s->rb = ring_buffer__new(da_live_ringbuf_fd(live), on_sample, s, NULL);
	if (!s->slots || !s->present || !s->rb) {
		da_source_free(s);
		return NULL;
	}
	return s;
}

/*
 * New recursion misses and kprobe misses (src/live/kprobe_misses.c): events
 * that exist nowhere, lost with no gap in seq.  A kretprobe counts the
 * return it will miss at the function's entry, before the return: like a
 * skipped call, it is counted by every read after the lost event.  Charged
 * before the records taken until before_ns are judged (read once
 * per batch, not per event).  Where a skipped call was among the records
 * is not known: each record taken before this read is judged between loss
 * points whenever it is delivered (src/core/miss_clock.h; the entities
 * alive then become partial, O(1) each), so a release, export, attach,
 * pin or unpin the kernel skipped is not judged as a use after release, a
 * leak or a missing pin.  A scope program destroyed at its module's unload
 * takes its count with it.
 */
static void read_misses(struct da_source *s, uint64_t before_ns)
{
	uint64_t misses = da_live_recursion_misses(s->live);
	uint64_t kprobe_misses = da_live_kprobe_misses(s->live);
	uint64_t count = 0;

	if (misses > s->misses_seen) {
		count += misses - s->misses_seen;
		s->misses_charged += misses - s->misses_seen;
	}
	if (kprobe_misses > s->kprobe_misses_seen) {
		count += kprobe_misses - s->kprobe_misses_seen;
		s->kprobe_misses_charged += kprobe_misses - s->kprobe_misses_seen;
	}
	da_pipeline_lost(s->p, s->next, count);
	s->misses_seen = misses;
	s->kprobe_misses_seen = kprobe_misses;
	da_miss_clock_read(&s->clock, before_ns, count ? now_ns() : 0, count > 0);
	if (!s->kprobe_misses_untold && da_live_kprobe_misses_untold(s->live)) {
		s->kprobe_misses_untold = true;
		da_pipeline_notice(s->p, DA_NOTICE_HOOK,
				   "kprobes attached and this kernel does not tell their misses "
				   "(before 6.7): a kretprobe return missed for want of an "
				   "instance is lost without a count");
	}
}

int da_source_poll(struct da_source *s, int timeout_ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ring_buffer__epoll_fd(s->rb), &ev, 1, timeout_ms);
	bool timed_out = n <= 0;

	if (n < 0 && errno != EINTR)
		return -errno;
	/*
	 * The BPF side wakes us only past a mark (src/live/loader.c,
	 * ring_wakeup()): what came in below it is read at the timeout, and
	 * the time that passed is told to the engine then (not only when
	 * nothing came: a steady trickle would starve the ticks).
	 */
	n = consume_batch(s, now_ns());
	if (n < 0)
		return n;
	resolve_gaps(s, false);
	/* the time the records judged so far cover: one held for the next read may be later */
	if (timed_out)
		da_pipeline_tick(s->p, s->clock.ready_until_ns);
	return n;
}

/* what the consumer costs: its CPU time over the whole run, per million events */
static void print_cpu(const struct da_source *s)
{
	struct rusage ru;
	double user, sys;

	if (getrusage(RUSAGE_SELF, &ru))
		return;
	user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, DA_TOOL_NAME ": CPU %.2f s user + %.2f s system", user, sys);
	if (s->events)
		fprintf(stderr, ", %.2f s per million events (start-up included)",
			(user + sys) * 1e6 / (double)s->events);
	fputc('\n', stderr);
}

void da_source_catch_up(struct da_source *s)
{
	consume_batch(s, now_ns());
	resolve_gaps(s, false);
}

void da_source_drain(struct da_source *s)
{
	uint64_t total;

	consume_batch(s, UINT64_MAX);
	resolve_gaps(s, true);
	/* seqs taken after the last record that arrived: reservations that failed */
	total = read_counter(s, DA_CTR_SEQ);
	if (total > s->end) {
		uint64_t count = total - s->end;

		da_pipeline_lost(s->p, s->end, count);
		s->gaps += count;
		s->gaps_charged += count;
		s->next = s->end = total;
	}
	if (s->gaps != read_counter(s, DA_CTR_LOST))
		da_pipeline_notice(s->p, DA_NOTICE_LOST,
				   "%llu events missing but the BPF side counted %llu drops "
				   "(%llu arrived too late to be judged in order)",
				   (unsigned long long)s->gaps,
				   (unsigned long long)read_counter(s, DA_CTR_LOST),
				   (unsigned long long)s->late);
	if (s->verbose) {
		fprintf(stderr,
			DA_TOOL_NAME ": %llu events delivered, %llu lost (BPF ring buffer drops: "
				     "%llu), %llu skipped by the kernel (recursion misses), %llu missed "
				     "by kprobes, %llu late, %llu malformed\n",
			(unsigned long long)s->events, (unsigned long long)s->gaps,
			(unsigned long long)read_counter(s, DA_CTR_LOST),
			(unsigned long long)s->misses_charged,
			(unsigned long long)s->kprobe_misses_charged,
			(unsigned long long)s->late, (unsigned long long)s->malformed);
		print_cpu(s);
	}
}

void da_source_free(struct da_source *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	free(s->slots);
	free(s->present);
	free(s);
}
