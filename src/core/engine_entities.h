/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's entities (private to src/core/engine*.c): buffers,
 * attachments, importer ops, mappings, pending revokes, revoke scopes,
 * tasks and names, each a fixed-size record in an array of
 * struct da_engine (engine_tables.h), linked by 32-bit indices, with the
 * flags that make up its state; and the counters that become the closing
 * notices.
 */
#ifndef DMABUF_AUDIT_ENGINE_ENTITIES_H
#define DMABUF_AUDIT_ENGINE_ENTITIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/event.h"

/* nested revoke scopes per task (7.3: cleanup -> move is 2) */
#define DA_SCOPE_DEPTH 8
/* buffers a scope remembers by name for its revoke-stalled message */
#define DA_SCOPE_NAMED 4

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
	uint32_t rc_epoch; /* loss epoch at the check: a loss since, the answer may be another call's */
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

#endif /* DMABUF_AUDIT_ENGINE_ENTITIES_H */
