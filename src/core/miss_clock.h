/* SPDX-License-Identifier: GPL-2.0 */
/*
 * When the live source (src/live/source.c) may judge a record, and when it
 * must judge it as if events were lost around it, given the kernel's
 * recursion misses: calls a program of ours was not let see, which take no
 * seq and are known only as a count read now and then.
 *
 * A call skipped at time t is counted by every read of the counters after
 * t, and the records that follow it (of the same task, or ordered after it
 * by a lock) were taken after t.  Two rules follow, both on the record's
 * own clock (ts_ns, bpf_ktime_get_ns(): CLOCK_MONOTONIC like ours), never
 * on the batch that happens to deliver it:
 *
 *  - ready: a record is judged only once the counters were read after it
 *    was taken, so a call skipped before it is counted first;
 *  - suspect: a record taken before a read that found new misses may come
 *    before or after a skipped call, whenever it is delivered.  It is
 *    judged between two loss points: the entities alive before it and the
 *    one it creates become partial.
 *
 * The second rule is what a rule on the batch got wrong: a record can be
 * taken before a read and delivered batches later (held in the reorder
 * window behind a seq a preempted task took but had not committed yet, or
 * in the ring behind its reservation), after a read that found nothing
 * new; the miss was charged while the entity it concerned did not exist
 * yet for the engine.  That preempted task is typically the very reason
 * for the miss: it holds the program's per-CPU recursion guard.
 *
 * Header only and O(1): the unit tests check the rules without libbpf.
 */
#ifndef DMABUF_AUDIT_MISS_CLOCK_H
#define DMABUF_AUDIT_MISS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct da_miss_clock {
	uint64_t ready_until_ns; /* the clock just before the last read of the counters */
	uint64_t suspect_until_ns; /* ... just after the last read that found new misses */
};

/*
 * A read of the miss counters, between before_ns and after_ns on the
 * records' clock (before_ns UINT64_MAX: the last read, everything is ready).
 */
static inline void da_miss_clock_read(struct da_miss_clock *c, uint64_t before_ns,
				      uint64_t after_ns, bool new_misses)
{
	c->ready_until_ns = before_ns;
	if (new_misses)
		c->suspect_until_ns = after_ns > before_ns ? after_ns : before_ns;
}

static inline bool da_miss_clock_ready(const struct da_miss_clock *c, uint64_t ts_ns)
{
	return ts_ns <= c->ready_until_ns;
}

static inline bool da_miss_clock_suspect(const struct da_miss_clock *c, uint64_t ts_ns)
{
	return ts_ns <= c->suspect_until_ns;
}

#endif
