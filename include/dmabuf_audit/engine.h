/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine: per-buffer and per-attachment state machines and the rules of
 * docs/rules.md.  Pure C: no libbpf, no I/O.  Live mode and replay feed it
 * the same decoded events in seq order; it reports findings and notices
 * through callbacks.  The per-event path is O(1) and allocation-free: all
 * tables are sized at creation.
 */
#ifndef DMABUF_AUDIT_ENGINE_H
#define DMABUF_AUDIT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "dmabuf_audit/cgroup.h"
#include "dmabuf_audit/event.h"
#include "dmabuf_audit/policy.h"
#include "dmabuf_audit/rules.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace.h"

struct da_engine;

/* The buffer a finding is about, as users see it. */
struct da_finding_buffer {
	uint64_t ptr;
	uint64_t ino;			/* 0 when unknown (buffer first seen mid-life) */
	uint64_t size;			/* 0 when unknown */
	const char *exporter;		/* exp_name, NULL when unknown */
	bool seeded;			/* existed at start: known from the seed, not its export */
};

struct da_finding_attachment {
	uint64_t ptr;
	const char *dev;		/* device name, NULL when unknown */
	uint64_t importer_ops;		/* 0 = static importer (or unknown, see known) */
	const char *importer_ops_sym;	/* NULL when not resolved */
	uint64_t invalidate_cb;
	const char *invalidate_cb_sym;
	bool known;			/* attach event (or seed) seen: importer fields are valid */
	bool seeded;			/* existed at start: known from the seed, not its attach */
};

struct da_finding {
	enum da_rule rule;
	enum da_severity severity;	/* set by the finding stage (the policy's) */
	/* the event that triggered it (for deadlines: the event that hit the deadline) */
	const struct da_event *trigger;	/* NULL at end of trace */
	uint64_t seq;
	uint64_t ts_ns;
	uint32_t pid;
	uint32_t tid;
	const char *comm;
	/* the task's workload (cgroup.h): the engine sets the id, the finding stage the rest */
	struct da_cgroup_identity cgroup;
	struct da_finding_buffer buffer;
	bool has_attachment;
	struct da_finding_attachment attachment;
	const char *message;		/* one line */
	/* the buffer's last events, oldest first (the journal may hold fewer) */
	unsigned int n_history;
	const struct da_event *const *history;
	bool history_truncated;		/* older events were evicted from the journal */
	/* set by the pipeline, not the engine, when --stacks is on */
	unsigned int n_stack;
	const char *const *stack;
	/* set by the finding stage: repeats held back since the last report of its kind */
	uint64_t repeats;
};

enum da_notice_kind {
	DA_NOTICE_PARTIAL,		/* an entity is partial: not judged by history rules */
	DA_NOTICE_LOST,			/* events were lost */
	DA_NOTICE_EVICTED,		/* a table was full: an entity was evicted */
	DA_NOTICE_HOOK,			/* a hook is missing or not attached */
	DA_NOTICE_INPUT,		/* something about the input worth knowing */
};

/*
 * Callbacks run inside da_engine_feed/lost/tick/finish.  A finding is as
 * the engine judged it, before the policy's verdict: its consumer is the
 * finding stage (finding_stage.h), which decides whether it is reported.  Every pointer in a
 * finding (trigger, message, names, history) is valid only until the
 * callback returns: copy what must outlive it.
 */
struct da_engine_output {
	void *ctx;
	void (*finding)(void *ctx, const struct da_finding *finding);
	void (*notice)(void *ctx, enum da_notice_kind kind, const char *message);
};

struct da_engine_config {
	const struct da_policy *policy;		/* required */
	struct da_symbols *symbols;		/* may be NULL: nothing is named */
	const struct da_trace_info *trace;	/* may be NULL: no quirks, no scope names */
	struct da_engine_output output;
	uint32_t max_buffers;			/* 0 = default (65536) */
	uint32_t max_attachments;		/* 0 = default (131072) */
	uint32_t history_len;			/* events per finding, 0 = default (16) */
	uint32_t journal_len;			/* events kept for evidence, 0 = default (65536) */
};

struct da_summary {
	uint64_t events;		/* events fed */
	uint64_t lost;			/* events lost (seq gaps and counted drops) */
	uint64_t buffers;		/* distinct buffers seen */
	uint64_t attachments;		/* distinct attachments seen */
	uint64_t partial;		/* entities (buffers + attachments) judged partial */
	uint64_t partial_late;		/*   ... first seen in mid-life */
	uint64_t partial_lost;		/*   ... alive when events were lost */
	uint64_t partial_evicted;	/*   ... seen again after eviction */
	uint64_t partial_seeded;	/*   ... existed at start, read by the seed */
	uint64_t seeded_buffers;	/* buffers seeded (of partial_seeded) */
	uint64_t evicted;		/* entities evicted because a table was full */
	/* about findings, set by the finding stage (da_finding_stage_summary), not the engine */
	uint64_t suppressed;		/* findings dropped by the policy's allow-list */
	uint64_t repeats_held;		/* held back by suppress-window */
	uint64_t findings[DA_SEV__COUNT];
	uint64_t by_rule[DA_RULE__COUNT];
};

/*
 * Memory the engine's tables take for a configuration, by the setting that
 * sizes them (max_buffers, max_attachments, history_len and the journal),
 * and in all.  The engine allocates it all at creation.
 */
struct da_engine_bytes {
	uint64_t buffers;
	uint64_t attachments;
	uint64_t history;
	uint64_t total;		/* the above and the fixed tables */
};

void da_engine_table_bytes(const struct da_engine_config *cfg, struct da_engine_bytes *out);

/*
 * The most the tables may take: a fixed bound, so that a mistyped size is
 * refused at once rather than paging the machine for minutes.  The default
 * sizes take about 37 MiB; docs/design.md "Engine".
 */
#define DA_ENGINE_MAX_TABLE_BYTES (1ull << 30)

/* NULL when an allocation fails or the tables would exceed DA_ENGINE_MAX_TABLE_BYTES. */
struct da_engine *da_engine_new(const struct da_engine_config *cfg);
void da_engine_free(struct da_engine *eng);

/* Does the engine judge events of this op (every op but DA_OP_NONE)? */
bool da_engine_handles_op(unsigned int op);

/* Feed one event; events come in seq order. */
void da_engine_feed(struct da_engine *eng, const struct da_event *ev);
/*
 * A hint, for a caller that holds events ahead of the one it feeds: start
 * loading the hash buckets (`entities` false) or the entities themselves
 * (true, once the buckets had time to arrive) that `ev` will look up.
 * Changes nothing; the lookups are memory bound on large traces, and this
 * lets the misses of several events overlap.
 */
void da_engine_prefetch(const struct da_engine *eng, const struct da_event *ev, bool entities);
/*
 * How many events ahead of the one being fed to prefetch the buckets, then
 * the entities: about one memory latency of engine work, measured with
 * make bench.
 */
#define DA_ENGINE_PREFETCH_BUCKETS 16
#define DA_ENGINE_PREFETCH_ENTITIES 8
/*
 * The third stage, closer still: the entity a hash chain holds second (a
 * chain's head is the entity only about half the time in a full table).
 */
void da_engine_prefetch_chains(const struct da_engine *eng, const struct da_event *ev);
#define DA_ENGINE_PREFETCH_CHAINS 4
/*
 * `count` events starting at `first_seq` were lost: every live entity's
 * history now has a gap.
 */
void da_engine_lost(struct da_engine *eng, uint64_t first_seq, uint64_t count);
/*
 * A loss already counted (da_engine_lost) happened somewhere around the next
 * event, place unknown: the entities alive now are partial, as after a loss,
 * without counting another one.
 */
void da_engine_loss_point(struct da_engine *eng);
/* Time passed without events (live mode): time-based rules (revoke-stalled). */
void da_engine_tick(struct da_engine *eng, uint64_t now_ns);
/* End of trace: judge every pending deadline. */
void da_engine_finish(struct da_engine *eng);
void da_engine_summary(const struct da_engine *eng, struct da_summary *out);
/* the engine's live entities and table sizes */
void da_engine_occupancy(const struct da_engine *eng, uint64_t *buffers_live,
			 uint64_t *buffers_capacity, uint64_t *attachments_live,
			 uint64_t *attachments_capacity);
/*
 * The engine's policy (the struct it was given) was replaced in place:
 * classify the live names and attachments again by the new lists.
 */
void da_engine_policy_reloaded(struct da_engine *eng);

#endif /* DMABUF_AUDIT_ENGINE_H */
