/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's tables (private to src/core/engine*.c; tests/repo/check.py
 * holds it so): struct da_engine, with its entities (engine_entities.h),
 * and the inline lookups of the per-event path.  What engine_state.c does with them is
 * engine_state.h, what engine_report.c does is engine_report.h.
 *
 * Everything is sized at da_engine_new: entities live in fixed arrays and
 * are linked by 32-bit indices (NIL = none), so the per-event path neither
 * allocates nor chases 64-bit pointers.  Hash tables are chained through the
 * entities themselves (bucket heads are indices).
 */
#ifndef DMABUF_AUDIT_ENGINE_TABLES_H
#define DMABUF_AUDIT_ENGINE_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/engine.h"
#include "engine_entities.h"

#define NIL UINT32_MAX

#define DA_ENGINE_DEFAULT_BUFFERS 65536
#define DA_ENGINE_DEFAULT_ATTACHMENTS 131072
#define DA_ENGINE_DEFAULT_HISTORY 16
#define DA_ENGINE_DEFAULT_JOURNAL 65536
/* tasks with an open revoke scope or a pending revocable_check at once: at least */
#define DA_ENGINE_MIN_TASKS 1024
/* tids whose scope entry could not be tracked, remembered by hash */
#define DA_UNTRACKED_BITS 10
/* interned exporter and device names */
#define DA_ENGINE_MAX_NAMES 8192
/* distinct (importer_ops, invalidate callback) pairs */
#define DA_ENGINE_MAX_OPS 4096

struct da_engine {
	const struct da_policy *pol;
	struct da_symbols *syms;
	const struct da_trace_info *trace;
	struct da_engine_output out;
	uint32_t quirks;

	/* buffers */
	struct ebuf *bufs;
	uint32_t nbufs;
	uint32_t *bhash, *rhash;
	unsigned int bbits;
	uint32_t b_free; /* free stack: the last freed is reused first, still cached */
	struct dlist b_dead;
	uint32_t b_hand; /* clock hand for evicting live buffers */
	uint32_t nlive_bufs;

	/* attachments */
	struct eatt *atts;
	uint32_t natts;
	uint32_t *ahash;
	unsigned int abits;
	uint32_t a_free;
	struct dlist a_dead;
	uint32_t a_hand;
	uint32_t nlive_atts;

	/* mappings */
	struct emap *maps;
	uint32_t nmaps;
	uint32_t *mhash;
	unsigned int mbits;
	uint32_t m_free;

	/* pending revokes */
	struct epend *pends;
	uint32_t npends;
	uint32_t p_free;

	/* tasks with scopes or pending revocable checks */
	struct etask *tasks;
	uint32_t ntasks;
	uint32_t *thash;
	unsigned int tbits;
	struct dlist t_free, t_active;
	/* per tid hash: scope entries we could not track (table full) */
	uint32_t untracked[1u << DA_UNTRACKED_BITS];
	/* per tid hash: seq of the last scope exit whose entry was never seen */
	uint64_t unmatched_exit[1u << DA_UNTRACKED_BITS];

	/* interned (importer_ops, callback) pairs; id 0 is (0, 0) */
	struct eops *ops;
	uint32_t nops;
	uint32_t *ophash;
	unsigned int opbits;

	/* interned names; id 0 is "unknown" */
	struct ename *names;
	uint32_t nnames;
	uint32_t *nhash;
	unsigned int nbits;

	/* recently evicted pointers: seen again = partial "evicted", not "late" */
	uint64_t *evicted_bufs, *evicted_atts;
	uint32_t evicted_mask;

	/* journal of the last events, with per-buffer back-links */
	struct da_event *jev;
	uint64_t *jprev;
	uint64_t jcount; /* events appended; positions are 1..jcount */
	uint64_t jmask;
	uint32_t hlen;
	const struct da_event **hist; /* scratch for one finding's history */
	uint64_t *hist_pos;

	uint32_t epoch; /* incremented at each loss */
	uint32_t next_serial;
	uint32_t next_scope_id;
	uint64_t clean_live[2]; /* non-partial entities born in this epoch */
	uint64_t last_ts;
	uint64_t last_seq;
	uint64_t stall_next; /* earliest revoke-stalled deadline */
	bool finished;

	struct da_summary sum; /* what the engine counts; findings: the finding stage */
	struct enotes notes;
	char msg[1024];
};

/* ---- inline helpers for the hot path ---- */

static inline uint32_t hash_ptr(uint64_t x, unsigned int bits)
{
	return (uint32_t)((x * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

static inline bool rule_on(const struct da_engine *eng, enum da_rule rule)
{
	return eng->pol->rule_enabled[rule];
}

static inline uint32_t buf_find(const struct da_engine *eng, uint64_t ptr)
{
	uint32_t i = eng->bhash[hash_ptr(ptr, eng->bbits)];

	while (i != NIL && eng->bufs[i].ptr != ptr)
		i = eng->bufs[i].hnext;
	return i;
}

static inline uint32_t att_find(const struct da_engine *eng, uint64_t ptr)
{
	uint32_t i = eng->ahash[hash_ptr(ptr, eng->abits)];

	while (i != NIL && eng->atts[i].ptr != ptr)
		i = eng->atts[i].hnext;
	return i;
}

/* the attachment's buffer, or NIL when that buffer instance is gone */
static inline uint32_t att_buf(const struct da_engine *eng, const struct eatt *a)
{
	if (a->buf != NIL && eng->bufs[a->buf].serial == a->buf_serial &&
	    (eng->bufs[a->buf].flags & BF_USED))
		return a->buf;
	return NIL;
}

/* Partial: not seen from its start, or alive across a loss of events. */
static inline bool buf_partial(const struct da_engine *eng, const struct ebuf *b)
{
	if (b->flags & (BF_LATE | BF_EVICTED | BF_SEEDED))
		return true;
	return b->birth_epoch != ((b->flags & BF_LIVE) ? eng->epoch : b->death_epoch);
}

static inline bool att_partial(const struct da_engine *eng, const struct eatt *a)
{
	if (a->flags & (AF_LATE | AF_EVICTED | AF_MAPS_UNTRACKED | AF_LOST_PARTIAL | AF_SEEDED))
		return true;
	return (a->flags & AF_LIVE) && a->epoch != eng->epoch;
}

/*
 * Seeded and partial for no other reason: what happened to it before the
 * start is unknown, but every event of its life since was seen.  Rules whose
 * verdict holds whatever came before (docs/rules.md "Seeded entities")
 * judge it; those that need its whole history (balances) do not.
 */
static inline bool buf_seeded_whole(const struct da_engine *eng, const struct ebuf *b)
{
	if ((b->flags & (BF_SEEDED | BF_LATE | BF_EVICTED)) != BF_SEEDED)
		return false;
	return b->birth_epoch == ((b->flags & BF_LIVE) ? eng->epoch : b->death_epoch);
}

static inline bool att_seeded_whole(const struct da_engine *eng, const struct eatt *a)
{
	if ((a->flags & (AF_SEEDED | AF_LATE | AF_EVICTED | AF_MAPS_UNTRACKED | AF_LOST_PARTIAL)) !=
	    AF_SEEDED)
		return false;
	return !(a->flags & AF_LIVE) || a->epoch == eng->epoch;
}

static inline uint64_t att_importer_ops(const struct da_engine *eng, const struct eatt *a)
{
	return eng->ops[a->ops].importer_ops;
}

static inline uint64_t att_callback(const struct da_engine *eng, const struct eatt *a)
{
	return eng->ops[a->ops].invalidate_cb;
}

/* an interned exporter or device name; NULL for id 0 ("unknown") */
static inline const char *eng_name_str(const struct da_engine *eng, uint16_t id)
{
	return id ? eng->names[id].name : NULL;
}

#endif /* DMABUF_AUDIT_ENGINE_TABLES_H */
