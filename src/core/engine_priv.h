/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Engine internals, shared by engine.c (event handling and rules),
 * engine_state.c (tables, lists, eviction, journal, names) and
 * engine_report.c (findings, evidence, notices).
 *
 * Everything is sized at da_engine_new: entities live in fixed arrays and
 * are linked by 32-bit indices (NIL = none), so the per-event path neither
 * allocates nor chases 64-bit pointers.  Hash tables are chained through the
 * entities themselves (bucket heads are indices).
 */
#ifndef DMABUF_AUDIT_ENGINE_PRIV_H
#define DMABUF_AUDIT_ENGINE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/engine.h"

#define NIL UINT32_MAX

#define DA_ENGINE_DEFAULT_BUFFERS 65536
#define DA_ENGINE_DEFAULT_ATTACHMENTS 131072
#define DA_ENGINE_DEFAULT_HISTORY 16
#define DA_ENGINE_DEFAULT_JOURNAL 65536
/* tasks with an open revoke scope or a pending revocable_check at once: at least */
#define DA_ENGINE_MIN_TASKS 1024
/* tids whose scope entry could not be tracked, remembered by hash */
#define DA_UNTRACKED_BITS 10
/* nested revoke scopes per task (7.3: cleanup -> move is 2) */
#define DA_SCOPE_DEPTH 8
/* buffers a scope remembers by name for its revoke-stalled message */
#define DA_SCOPE_NAMED 4
/* interned exporter and device names */
#define DA_ENGINE_MAX_NAMES 8192
/* distinct (importer_ops, invalidate callback) pairs */
#define DA_ENGINE_MAX_OPS 4096

/* An intrusive doubly linked list of entities of one array. */
struct dlink {
	uint32_t prev, next;
};

struct dlist {
	uint32_t head, tail;
	uint32_t count;
};

/* buffer flags */
#define BF_USED (1u << 0) /* slot holds an entity (live or dead) */
#define BF_LIVE (1u << 1) /* not released */
#define BF_LATE (1u << 2) /* first seen in mid-life */
#define BF_EVICTED (1u << 3) /* seen again after eviction */
#define BF_REVOKED (1u << 4) /* revoked, no un-revoke since */
#define BF_REF (1u << 5) /* used since the clock hand last passed */
#define BF_REVOKED_UNSCOPED (1u << 6) /* that revoke was outside any revoke scope */
#define BF_SEEDED (1u << 7) /* existed at start, read by the seed (not late): identity known */

/*
 * Two cache lines, aligned: everything the per-event path touches is in the
 * first, so an event costs one miss on its buffer.
 */
struct ebuf {
	uint64_t ptr;
	uint64_t resv;
	uint64_t jlast; /* journal position of its latest event, 0 = none */
	uint32_t serial; /* unique per buffer instance */
	uint32_t hnext; /* pointer hash chain */
	uint32_t rnext; /* resv hash chain (live buffers with a resv) */
	uint32_t atts; /* first live attachment */
	uint32_t pend; /* pending revoke awaiting a fence wait, NIL = none */
	uint32_t birth_epoch; /* loss epoch when first seen */
	uint16_t flags;
	uint16_t exporter; /* name id, 0 = unknown */
	uint32_t revoke_epoch; /* loss epoch at the revoke */
	uint64_t revoke_seq;
	/* second line: set once, read by findings */
	uint64_t ino;
	uint64_t size;
	uint64_t seq_mark; /* export (or first-seen) seq; release seq once dead */
	struct dlink lru; /* dead list (FIFO); .next links the free stack */
	uint32_t gen; /* instances seen at this address */
	uint32_t death_epoch; /* loss epoch at release */
	uint32_t revoke_tid; /* task that revoked it */
	uint64_t unrevoke_seq; /* its last un-revoke */
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct ebuf, ino) == 64, "hot buffer fields fit one cache line");
_Static_assert(sizeof(struct ebuf) == 128, "struct ebuf is two cache lines");

/* attachment flags */
#define AF_USED (1u << 0)
#define AF_LIVE (1u << 1) /* not detached */
#define AF_LATE (1u << 2)
#define AF_EVICTED (1u << 3)
#define AF_KNOWN (1u << 4) /* attach event seen: importer fields valid */
#define AF_DYNAMIC (1u << 5)
#define AF_P2P (1u << 6)
#define AF_STUB_CB (1u << 7) /* callback in policy->stub_callbacks */
#define AF_PINNING (1u << 8) /* importer ops in policy->pinning_importers */
#define AF_RC_KNOWN (1u << 9) /* kernel's dma_buf_attach_revocable() answer seen */
#define AF_RC_REVOCABLE (1u << 10) /* ... and it was true */
#define AF_REVOKED_PINNED (1u << 11) /* pinned when its buffer was revoked */
#define AF_NONREV_REPORTED (1u << 12) /* non-revocable-importer-accepted said once */
#define AF_MAPS_UNTRACKED (1u << 13) /* a mapping did not fit the table */
#define AF_ENDED_BY_RELEASE (1u << 14) /* died with its buffer, not by detach */
#define AF_REF (1u << 15) /* used since the clock hand last passed */
#define AF_LOST_PARTIAL (1u << 16) /* was alive across a loss (set when it dies) */
#define AF_SEEDED (1u << 17) /* existed at start, read by the seed (not late) */
/* attached, not yet pinned nor mapped: a revoke now is in the attach-then-pin window */
#define AF_PREPIN (1u << 18)
/* revoked in that window, then pinned: its first refused map is how it learns */
#define AF_REVOKED_PREPIN (1u << 19)
/*
 * attached while its buffer was revoked: no revoke ever reached it, so its
 * first refused access is how it learns (check_access)
 */
#define AF_ATTACHED_REVOKED (1u << 21)
/* revoked while pinned, un-revoked, not mapped since: pinned-importer-left-revoked */
#define AF_LEFT_REVOKED (1u << 20)

/* One cache line, aligned. */
struct eatt {
	uint64_t ptr;
	uint64_t seq_mark; /* attach (or first-seen) seq; detach seq once dead */
	uint32_t buf; /* buffer index ... */
	uint32_t buf_serial; /* ... valid while bufs[buf].serial matches */
	uint32_t hnext;
	uint32_t maps; /* first live mapping */
	uint32_t flags;
	uint32_t epoch; /* loss epoch at birth; at death once dead */
	struct dlink blink; /* the buffer's live attachments */
	struct dlink lru; /* dead list (FIFO); .next links the free stack */
	uint16_t pins; /* saturates: then the attachment is partial */
	uint16_t gen;
	uint16_t dev; /* name id */
	uint16_t ops; /* (importer_ops, callback) id, 0 = neither */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct eatt) == 64, "struct eatt is one cache line");

/* an importer's ops table and callback, shared by all its attachments */
struct eops {
	uint64_t importer_ops;
	uint64_t invalidate_cb;
	uint32_t hnext;
	uint32_t pad;
};

/* one live sg_table of one attachment, with how many maps returned it */
struct emap {
	uint64_t sgt;
	uint32_t att;
	uint32_t count;
	uint32_t hnext;
	struct dlink alink; /* the attachment's mappings; .next links the free stack */
	uint32_t pad;
};

/* pending flags */
#define PF_WAITED (1u << 0) /* some fence wait seen */
#define PF_BOOKKEEP (1u << 1) /* a BOOKKEEP wait seen */
#define PF_DONE (1u << 2) /* some wait returned > 0 */

/* A revoke that still needs a fence wait before its deadline. */
struct epend {
	uint64_t inv_seq;
	uint64_t inv_ts;
	uint32_t buf, buf_serial;
	uint32_t scope_id; /* 0 = not inside a scope */
	uint32_t scope_task; /* task index and depth of that scope */
	uint32_t scope_depth;
	uint32_t epoch; /* loss epoch at the invalidate */
	struct dlink slink; /* the scope's pending list; .next links the free stack */
	uint32_t pid, tid;
	uint64_t cgroup_id; /* of the revoking task */
	int64_t last_ret; /* of the strongest wait */
	/*
	 * the attachments the revoke reached holding a pin or a mapping
	 * (saturating), how many of them pinning importers holding a pin, and
	 * the ops id of one of those: the evidence of a missing wait none of
	 * their DMA outlives (in the padding the struct had: its size stays)
	 */
	uint16_t pinned_ops;
	uint8_t reached, reached_pinned;
	uint8_t flags;
	uint8_t max_usage; /* strongest usage waited with */
	uint8_t fn;
	char comm[DA_COMM_LEN];
};

/* scope flags */
#define SF_REVOKED (1u << 0) /* DA_F_REVOKED */
#define SF_HAS_REVOKED (1u << 1) /* DA_F_HAS_REVOKED */
#define SF_STALL_REPORTED (1u << 2)

struct escope {
	uint64_t obj; /* first argument of the scope function */
	uint64_t start_ts;
	uint64_t start_seq;
	uint64_t enter_jpos;
	uint32_t id;
	uint32_t epoch;
	struct dlist pends; /* pendings whose deadline is this scope's exit */
	uint32_t named_buf[DA_SCOPE_NAMED];
	uint32_t named_serial[DA_SCOPE_NAMED];
	uint32_t n_named;
	uint32_t n_invalidated;
	uint8_t slot;
	uint8_t flags;
};

struct etask {
	uint32_t tid, pid;
	uint32_t hnext;
	struct dlink alink; /* active list (open scopes) or free list */
	uint32_t depth; /* open scopes, may exceed DA_SCOPE_DEPTH */
	bool active;
	/* revocable_check seen, waiting for the attach event of that pointer */
	bool rc_valid;
	bool rc_revocable;
	uint64_t rc_attach;
	uint64_t cgroup_id;
	char comm[DA_COMM_LEN];
	struct escope scopes[DA_SCOPE_DEPTH];
};

/* name flags */
#define NF_REVOKING_POLICY (1u << 0)
#define NF_REVOKING_LEARNED (1u << 1)

struct ename {
	char name[DA_NAME_LEN];
	uint32_t hnext;
	uint32_t flags;
};

/* counters that become notices at da_engine_finish */
struct enotes {
	uint64_t late[2], lost[2], evicted_seen[2]; /* [0] buffers, [1] attachments */
	uint64_t seeded[2];
	uint64_t evicted[2];
	bool evict_told[3]; /* buffers, attachments, mappings */
	uint64_t maps_dropped;
	uint64_t pins_saturated;
	uint64_t fence_unjudged_loss;
	uint64_t fence_unjudged_evicted;
	uint64_t fence_untracked; /* pending table full */
	uint64_t fence_in_open_scope; /* scope still open at the end */
	uint64_t access_unjudged; /* revoke verdicts skipped after a loss */
	uint64_t unknown_ops;
	uint64_t replaced[2];
	uint64_t scopes_untracked;
	uint64_t invalidates_unclassified;
	uint64_t scope_exit_unmatched;
	uint64_t stalls_unjudged; /* scopes open across a loss */
	uint64_t names_full;
	uint64_t ops_full;
};

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

/* ---- engine_state.c ---- */
int eng_state_init(struct da_engine *eng, const struct da_engine_config *cfg);
void eng_state_free(struct da_engine *eng);

void eng_dlist_init(struct dlist *l);
#define DLINK(base, i, field) (&(base)[i].field)
/* generic list operations over an entity array: link at byte offset `off` */
void eng_dl_push_tail(void *base, size_t stride, size_t off, struct dlist *l, uint32_t i);
void eng_dl_remove(void *base, size_t stride, size_t off, struct dlist *l, uint32_t i);
uint32_t eng_dl_pop_head(void *base, size_t stride, size_t off, struct dlist *l);

uint64_t eng_journal_append(struct da_engine *eng, const struct da_event *ev);
void eng_journal_link(struct da_engine *eng, struct ebuf *b, uint64_t jpos);

uint16_t eng_name_intern(struct da_engine *eng, const char *name, size_t maxlen);
/* id of the pair; -1 when the table is full */
int eng_ops_intern(struct da_engine *eng, uint64_t importer_ops, uint64_t invalidate_cb);
static inline const char *eng_name_str(const struct da_engine *eng, uint16_t id)
{
	return id ? eng->names[id].name : NULL;
}

/* eviction is CLOCK: a use only sets a bit in an entity already in cache */
static inline void eng_buf_touch(struct da_engine *eng, uint32_t bi)
{
	eng->bufs[bi].flags |= BF_REF;
}

static inline void eng_att_touch(struct da_engine *eng, uint32_t ai)
{
	eng->atts[ai].flags |= AF_REF;
}

static inline uint32_t eng_map_bucket(const struct da_engine *eng, uint64_t sgt)
{
	/* by sg_table alone, so the bucket can be fetched before the attachment is known */
	return hash_ptr(sgt, eng->mbits);
}
uint32_t eng_buf_new(struct da_engine *eng, uint64_t ptr, uint32_t gen, uint16_t partial_flag);
uint32_t eng_att_new(struct da_engine *eng, uint64_t ptr, uint32_t bi, uint32_t gen,
		     uint32_t partial_flag);
uint16_t eng_buf_partial_reason(struct da_engine *eng, uint64_t ptr);
uint32_t eng_att_partial_reason(struct da_engine *eng, uint64_t ptr);
void eng_buf_set_resv(struct da_engine *eng, struct ebuf *b, uint64_t resv);
void eng_buf_kill(struct da_engine *eng, uint32_t bi, uint64_t seq);
void eng_att_kill(struct da_engine *eng, uint32_t ai, uint64_t seq);
void eng_buf_free(struct da_engine *eng, uint32_t bi);
void eng_att_free(struct da_engine *eng, uint32_t ai);
void eng_entity_clean_gone(struct da_engine *eng, int kind, uint32_t birth_epoch, bool partial);
/* an entity of kind first seen mid-life was in the seed after all: count it seeded */
void eng_count_late_seeded(struct da_engine *eng, int kind);

int eng_map_add(struct da_engine *eng, uint32_t ai, uint64_t sgt);
/* 1 when a live mapping of sgt was dropped, 0 when there was none */
int eng_map_del(struct da_engine *eng, uint32_t ai, uint64_t sgt);
void eng_maps_free_all(struct da_engine *eng, struct eatt *a);

uint32_t eng_pend_alloc(struct da_engine *eng);
void eng_pend_release(struct da_engine *eng, uint32_t pi);

uint32_t eng_task_find(const struct da_engine *eng, uint32_t tid);
uint32_t eng_task_get(struct da_engine *eng, const struct da_event *ev);
void eng_task_put(struct da_engine *eng, uint32_t ti);

/* ---- engine_report.c ---- */
struct fctx {
	const struct da_event *trigger; /* NULL: end of trace or tick */
	uint64_t seq, ts;
	uint32_t pid, tid;
	const char *comm;
	uint64_t cgroup_id;
	uint64_t buf_ptr;
	const struct ebuf *buf; /* NULL when unknown */
	uint64_t att_ptr; /* 0: no attachment */
	const struct eatt *att; /* NULL when unknown */
	uint64_t extra_jpos[2]; /* scope enter/exit to show with the history */
};

void eng_fctx_from_event(struct fctx *fc, const struct da_event *ev, struct ebuf *buf,
			 struct eatt *att);
void eng_emit(struct da_engine *eng, enum da_rule rule, const struct fctx *fc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* eng_emit with the context of the event ev (buf, att: its entities, or NULL) */
void eng_emit_event(struct da_engine *eng, enum da_rule rule, const struct da_event *ev,
		    struct ebuf *buf, struct eatt *att, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void eng_notice(struct da_engine *eng, enum da_notice_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_final_notices(struct da_engine *eng);
/* "ino 42 (vfio_pci_core)" or "0xffff... (first seen mid-life)" */
const char *eng_buf_label(const struct da_engine *eng, const struct ebuf *b, uint64_t ptr,
			  char *out, size_t len);
const char *eng_att_label(struct da_engine *eng, const struct eatt *a, uint64_t ptr, char *out,
			  size_t len);
const char *eng_scope_name(const struct da_engine *eng, unsigned int slot);

#endif /* DMABUF_AUDIT_ENGINE_PRIV_H */
