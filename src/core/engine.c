// SPDX-License-Identifier: GPL-2.0
/*
 * The engine: per-buffer and per-attachment state machines and the rules of
 * docs/rules.md.  Events arrive in seq order; each is copied into the
 * journal (the evidence), resolved to its buffer/attachment (creating a
 * partial entity when it was born before the observer), and judged.
 *
 * Invalidate classification, deadlines of the fence-wait rules and the
 * partial/loss semantics are described in docs/rules.md; the comments here
 * say why the code is shaped the way it is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "engine_report.h"
#include "engine_state.h"

/* ------------------------------------------------------------------------ */
/* Small helpers */

/*
 * Which name of f the traced kernel has: the one its hook was attached to
 * (the trace's hook list), else the newest.
 */
static unsigned int traced_version(const struct da_engine *eng, enum da_kfunc f)
{
	unsigned int n = da_kfunc_n_names(f);

	for (unsigned int v = n; eng->trace && v-- > 0;)
		for (unsigned int i = 0; i < eng->trace->n_hooks; i++)
			if (!strcmp(eng->trace->hooks[i].function, da_kfunc_name(f, v)))
				return v;
	return n ? n - 1 : 0;
}

/* the kernel function an event was produced by, as findings name it */
static const char *call_name(const struct da_engine *eng, const struct da_event *ev)
{
	int version;
	enum da_kfunc f = da_op_call(ev, &version);
	const char *name;

	if (f == DA_KF_NONE)
		return da_op_name(ev->op);
	name = da_kfunc_name(f, version >= 0 ? (unsigned int)version : traced_version(eng, f));
	return name ? name : "?";
}

static const char *usage_upper(unsigned int usage)
{
	static const char *const names[] = { "KERNEL", "WRITE", "READ", "BOOKKEEP" };

	return usage < 4 ? names[usage] : "unknown";
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static bool exporter_revoking(const struct da_engine *eng, const struct ebuf *b)
{
	return b->exporter &&
	       (eng->names[b->exporter].flags & (NF_REVOKING_POLICY | NF_REVOKING_LEARNED));
}

static const char *exporter_revoking_why(const struct da_engine *eng, const struct ebuf *b)
{
	if (eng->names[b->exporter].flags & NF_REVOKING_POLICY)
		return "a revoking exporter by policy";
	return "seen revoking a pinned attachment earlier";
}

/* what makes the importer unable to handle a revoke, or NULL when it can */
static const char *unhandled_reason(struct da_engine *eng, const struct eatt *a, char *out,
				    size_t len)
{
	if (!(a->flags & AF_KNOWN))
		return NULL;
	if (!(a->flags & AF_DYNAMIC))
		return "a static importer: the invalidate skips it and its DMA goes on";
	if (!att_callback(eng, a))
		return "a dynamic importer without an invalidate callback: the invalidate skips it";
	if (a->flags & AF_STUB_CB) {
		const char *sym = da_symbols_lookup(eng->syms, att_callback(eng, a));

		snprintf(out, len, "its invalidate callback %s is a stub that does not stop DMA",
			 sym ? sym : "?");
		return out;
	}
	return NULL;
}

/* 1 revocable, 0 not, -1 unknown (importer not seen attaching, no kernel answer) */
static int att_revocable(const struct da_engine *eng, const struct eatt *a)
{
	if (a->flags & AF_RC_KNOWN)
		return !!(a->flags & AF_RC_REVOCABLE);
	if (!(a->flags & AF_KNOWN))
		return -1;
	return (a->flags & AF_DYNAMIC) && att_callback(eng, a) && !(a->flags & AF_STUB_CB);
}

static struct escope *innermost_scope(struct da_engine *eng, uint32_t ti)
{
	struct etask *t;

	if (ti == NIL)
		return NULL;
	t = &eng->tasks[ti];
	if (!t->depth || t->depth > DA_SCOPE_DEPTH)
		return NULL;
	return &t->scopes[t->depth - 1];
}

/* ------------------------------------------------------------------------ */
/* Resolving an event to its entities */

/*
 * The buffer an event names, live or released; with `create`, an unknown
 * pointer becomes a partial live buffer (it was exported before we looked,
 * or evicted).  Links the event into the buffer's history.
 */
static uint32_t resolve_buf(struct da_engine *eng, const struct da_event *ev, uint64_t jpos,
			    bool create)
{
	struct ebuf *b;
	uint32_t bi;

	if (!ev->buf)
		return NIL;
	bi = buf_find(eng, ev->buf);
	if (bi == NIL) {
		if (!create)
			return NIL;
		bi = eng_buf_new(eng, ev->buf, 1, eng_buf_partial_reason(eng, ev->buf));
		eng->bufs[bi].seq_mark = ev->seq;
	}
	b = &eng->bufs[bi];
	if (b->flags & BF_LIVE) {
		eng_buf_set_resv(eng, b, ev->resv);
		eng_buf_touch(eng, bi);
	}
	eng_journal_link(eng, b, jpos);
	return bi;
}

static void uar_buffer(struct da_engine *eng, const struct da_event *ev, struct ebuf *b)
{
	struct fctx fc;
	char bl[96];

	/* a partial buffer, or a loss since its release (the reuse may be lost) */
	if (!rule_on(eng, DA_RULE_USE_AFTER_RELEASE) ||
	    (buf_partial(eng, b) && !buf_seeded_whole(eng, b)) || b->death_epoch != eng->epoch)
		return;
	eng_fctx_from_event(&fc, ev, b, NULL);
	if (ev->attach) {
		uint32_t ai = att_find(eng, ev->attach);

		fc.att_ptr = ev->attach;
		fc.att = ai != NIL ? &eng->atts[ai] : NULL;
	}
	eng_emit(eng, DA_RULE_USE_AFTER_RELEASE, &fc,
		 "%s names buffer %s, released at seq %" PRIu64
		 " and not exported again at that address since",
		 call_name(eng, ev), eng_buf_label(eng, b, ev->buf, bl, sizeof(bl)), b->seq_mark);
}

static void uar_attachment(struct da_engine *eng, const struct da_event *ev, struct eatt *a,
			   uint32_t bi)
{
	struct fctx fc;
	char al[160];

	if (!rule_on(eng, DA_RULE_USE_AFTER_RELEASE) ||
	    (att_partial(eng, a) && !att_seeded_whole(eng, a)) || a->epoch != eng->epoch)
		return;
	eng_fctx_from_event(&fc, ev, bi != NIL ? &eng->bufs[bi] : NULL, a);
	fc.buf_ptr = ev->buf;
	eng_emit(eng, DA_RULE_USE_AFTER_RELEASE, &fc,
		 "%s names %s, %s at seq %" PRIu64 " and not attached again at that address since",
		 call_name(eng, ev), eng_att_label(eng, a, a->ptr, al, sizeof(al)),
		 (a->flags & AF_ENDED_BY_RELEASE) ? "gone with its buffer's release" : "detached",
		 a->seq_mark);
}

/*
 * The live buffer an op names (see resolve_buf), or NIL: the event names no
 * buffer, or one that was released (use after release reported).
 */
static inline uint32_t resolve_live_buf(struct da_engine *eng, const struct da_event *ev,
					uint64_t jpos)
{
	uint32_t bi = resolve_buf(eng, ev, jpos, true);

	if (bi != NIL && !(eng->bufs[bi].flags & BF_LIVE)) {
		uar_buffer(eng, ev, &eng->bufs[bi]);
		return NIL;
	}
	return bi;
}

/*
 * The live attachment an attachment op names (and its buffer).  An unknown
 * pointer becomes a partial attachment of the event's buffer.  Returns NULL
 * when there is nothing further to judge (no pointers, or use after release
 * reported).
 */
static struct eatt *resolve_att(struct da_engine *eng, const struct da_event *ev, uint64_t jpos,
				uint32_t *pbi, uint32_t *pai)
{
	uint32_t ai = ev->attach ? att_find(eng, ev->attach) : NIL, bi;
	struct eatt *a;

	if (ai == NIL) {
		bi = resolve_live_buf(eng, ev, jpos);
		if (bi == NIL || !ev->attach)
			return NULL;
		ai = eng_att_new(eng, ev->attach, bi, 1, eng_att_partial_reason(eng, ev->attach));
		eng->atts[ai].seq_mark = ev->seq;
		bi = eng->atts[ai].buf;
	} else {
		a = &eng->atts[ai];
		bi = att_buf(eng, a);
		if (bi != NIL) {
			eng_journal_link(eng, &eng->bufs[bi], jpos);
			eng_buf_touch(eng, bi);
		}
		if (!(a->flags & AF_LIVE)) {
			uar_attachment(eng, ev, a, bi);
			return NULL;
		}
		eng_att_touch(eng, ai);
	}
	*pbi = bi;
	*pai = ai;
	return &eng->atts[ai];
}

/* a mapping or a pin that could not be counted: its balances are unknown now */
static void mark_untracked(struct da_engine *eng, struct eatt *a, bool mapping)
{
	if (mapping)
		eng->notes.maps_dropped++;
	else
		eng->notes.pins_saturated++;
	if (att_partial(eng, a)) {
		a->flags |= AF_MAPS_UNTRACKED;
		return;
	}
	eng_entity_clean_gone(eng, 1, a->epoch, false);
	a->flags |= AF_MAPS_UNTRACKED;
	eng->sum.partial++;
	eng->sum.partial_evicted++;
}

/* ------------------------------------------------------------------------ */
/* Point-in-time rules */

static void check_resv(struct da_engine *eng, const struct da_event *ev, struct ebuf *b,
		       struct eatt *a)
{
	char bl[96];

	if (ev->resv_held != DA_RESV_NOT_HELD || !rule_on(eng, DA_RULE_RESV_NOT_HELD) ||
	    (eng->quirks & DA_QUIRK_NO_RESV_OWNER))
		return;
	if (eng->quirks & DA_QUIRK_LEGACY_LOCKING) {
		/* 6.1: vmap used dmabuf->lock; map/unmap asserted the resv for dynamic only */
		if (ev->op == DA_OP_VMAP || ev->op == DA_OP_VUNMAP)
			return;
		if ((ev->op == DA_OP_MAP || ev->op == DA_OP_UNMAP) &&
		    !(a && (a->flags & AF_KNOWN) && (a->flags & AF_DYNAMIC)))
			return;
	}
	eng_emit_event(
		eng, DA_RULE_RESV_NOT_HELD, ev, b, a,
		"%s on buffer %s ran without the calling task (tid %u) holding the buffer's reservation lock (resv %s)",
		call_name(eng, ev), eng_buf_label(eng, b, b->ptr, bl, sizeof(bl)), ev->tid,
		da_addr_str(1, b->resv));
}

/*
 * Is the buffer's revoke state still known?  Not when events were lost
 * since the revoke (an un-revoke may be among them), nor when a revoke made
 * outside any scope was followed by the exit of a scope we never saw that
 * task enter: the invalidate was inside it after all (its entry was lost,
 * or tracing began inside it) and may have been an un-revoke.
 */
static bool revoke_uncertain(const struct da_engine *eng, const struct ebuf *b)
{
	if (b->revoke_epoch != eng->epoch)
		return true;
	return (b->flags & BF_REVOKED_UNSCOPED) &&
	       eng->unmatched_exit[hash_ptr(b->revoke_tid, DA_UNTRACKED_BITS)] > b->revoke_seq;
}

/* revoke_uncertain(), counted as a verdict about a revoked buffer not made */
static bool revoke_unjudged(struct da_engine *eng, const struct ebuf *b)
{
	if (!revoke_uncertain(eng, b))
		return false;
	eng->notes.access_unjudged++;
	return true;
}

static void check_access(struct da_engine *eng, const struct da_event *ev, struct ebuf *b,
			 struct eatt *a, bool success)
{
	enum da_rule rule =
		success ? DA_RULE_ACCESS_AFTER_REVOKE : DA_RULE_ACCESS_ATTEMPT_AFTER_REVOKE;
	char bl[96];

	if (!(b->flags & BF_REVOKED) && !(a && (a->flags & AF_REVOKED_PINNED)))
		return;
	/*
	 * The attach-then-pin window: a pinning importer (iommufd) attaches,
	 * then pins and maps under the lock.  A revoke in between reached an
	 * attachment that held nothing; its first map, refused, is how it
	 * learns.  Only that one: the next attempt is judged.
	 */
	if (!success && a && (a->flags & AF_REVOKED_PREPIN) && a->pins) {
		a->flags &= ~AF_REVOKED_PREPIN;
		return;
	}
	/*
	 * Attached after the revoke (iommufd maps a revoked buffer again: a new
	 * attachment per IOMMU_IOAS_MAP_FILE): no revoke reached it, so the
	 * refusal is the first it hears of it.  Only its first attempt.
	 */
	if (!success && a && (a->flags & AF_ATTACHED_REVOKED)) {
		a->flags &= ~AF_ATTACHED_REVOKED;
		return;
	}
	if (!rule_on(eng, rule))
		return;
	if (revoke_unjudged(eng, b))
		return;
	eng_buf_label(eng, b, b->ptr, bl, sizeof(bl));
	if (success)
		eng_emit_event(
			eng, rule, ev, b, a,
			"%s succeeded on buffer %s, revoked at seq %" PRIu64
			" with no un-revoke since: the exporter handed out access to a revoked buffer",
			call_name(eng, ev), bl, b->revoke_seq);
	else
		eng_emit_event(eng, rule, ev, b, a,
			       "%s on buffer %s, revoked at seq %" PRIu64
			       ", was attempted and refused (ret %" PRId64
			       "): the importer does not treat the revoke as final",
			       call_name(eng, ev), bl, b->revoke_seq, (int64_t)ev->ret);
}

static void check_nonrevocable(struct da_engine *eng, const struct da_event *ev, struct ebuf *b,
			       struct eatt *a)
{
	char bl[96], al[160], why[128];
	const char *reason;

	if (!rule_on(eng, DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED) ||
	    (a->flags & AF_NONREV_REPORTED) || !exporter_revoking(eng, b) || att_revocable(eng, a))
		return; /* att_revocable: 1 = fine, -1 = unknown, no verdict */
	a->flags |= AF_NONREV_REPORTED;
	if (a->flags & AF_RC_KNOWN)
		reason = "the kernel's dma_buf_attach_revocable() returned false for it";
	else
		reason = unhandled_reason(eng, a, why, sizeof(why));
	eng_emit_event(
		eng, DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED, ev, b, a,
		"%s of buffer %s succeeded for non-revocable %s (%s); exporter %s is %s and must refuse it (-EOPNOTSUPP)",
		call_name(eng, ev), eng_buf_label(eng, b, b->ptr, bl, sizeof(bl)),
		eng_att_label(eng, a, a->ptr, al, sizeof(al)), reason ? reason : "not revocable",
		eng_name_str(eng, b->exporter), exporter_revoking_why(eng, b));
}

/* ------------------------------------------------------------------------ */
/* Pending revokes: the fence-wait rules */

/* the attachments a revoke reached holding a pin or a mapping */
struct reached {
	uint8_t n, pinned; /* saturate: n at UINT8_MAX claims nothing */
	uint16_t pinned_ops;
};

static void reached_add(struct reached *r, const struct eatt *a)
{
	if (r->n < UINT8_MAX)
		r->n++;
	if (!(a->flags & AF_PINNING) || !a->pins || r->pinned == UINT8_MAX)
		return;
	if (!r->pinned++)
		r->pinned_ops = a->ops;
}

/*
 * What a missing fence wait leaves at risk.  When every attachment the
 * revoke reached is a pinning importer holding a pin (iommufd, RDMA's pinned
 * umem): those cannot fault and stop their DMA inside the invalidate
 * callback (iommufd's iopt_revoke_notify() unmaps its IOMMU domains before
 * it returns), so none of their DMA outlives the revoke.  The exporter
 * still breaks the contract (7.1: wait for the fences after invalidating),
 * and any other user of the resv's fences is not covered; a policy line
 * allows the finding where that is known to be harmless.
 */
static const char *missing_wait_impact(struct da_engine *eng, const struct epend *p,
				       const struct ebuf *b, char *out, size_t len)
{
	uint64_t ops_ptr = eng->ops[p->pinned_ops].importer_ops;
	bool one = p->reached == 1;
	const char *ops;

	if (!p->reached || p->reached == UINT8_MAX || p->reached != p->reached_pinned)
		return "DMA through the old mappings may still be in flight";
	ops = da_symbols_lookup(eng->syms, ops_ptr);
	snprintf(out, len,
		 "the %u attachment%s it reached %s pinning importer%s (%s) that unmap%s"
		 " synchronously in the invalidate callback, so no DMA of theirs outlives the"
		 " revoke: harmless for them, still a deviation from the contract"
		 " (allow it with 'allow missing-fence-wait exporter %s')",
		 p->reached, one ? "" : "s", one ? "is a" : "are", one ? "" : "s",
		 ops ? ops : da_addr_str(2, ops_ptr), one ? "s" : "",
		 b && b->exporter ? eng_name_str(eng, b->exporter) : "NAME");
	return out;
}

/*
 * What ended a pending revoke's time to wait, completing "before ...".  It
 * follows from the event that reached the deadline (none: the end of the
 * trace), so it is written only when a revoke is judged, never per event.
 */
static const char *deadline_text(struct da_engine *eng, const struct da_event *trigger,
				 char *out, size_t len)
{
	if (!trigger)
		return "the end of the trace";
	switch (trigger->op) {
	case DA_OP_SCOPE_EXIT:
		snprintf(out, len, "the exit of %s (seq %" PRIu64 ")",
			 eng_scope_name(eng, trigger->fn), (uint64_t)trigger->seq);
		break;
	case DA_OP_EXPORT:
		snprintf(out, len, "its address was reused by a new export (seq %" PRIu64 ")",
			 (uint64_t)trigger->seq);
		break;
	case DA_OP_RELEASE:
		snprintf(out, len, "the buffer was released (seq %" PRIu64 ")",
			 (uint64_t)trigger->seq);
		break;
	case DA_OP_DETACH:
		snprintf(out, len, "attachment %s was detached (seq %" PRIu64 ")",
			 da_addr_str(2, trigger->attach), (uint64_t)trigger->seq);
		break;
	case DA_OP_RESV_UNLOCK:
		snprintf(out, len, "the reservation lock was released (seq %" PRIu64 ")",
			 (uint64_t)trigger->seq);
		break;
	default:
		snprintf(out, len, "%s (seq %" PRIu64 ")", call_name(eng, trigger),
			 (uint64_t)trigger->seq);
		break;
	}
	return out;
}

/*
 * Judge a pending revoke at its deadline, reached by `trigger` (NULL: the
 * end of the trace); `exit_jpos` is the journal position of the scope exit
 * (0 if none).
 */
static void judge_pending(struct da_engine *eng, uint32_t pi, const struct da_event *trigger,
			  uint64_t enter_jpos, uint64_t exit_jpos)
{
	struct epend *p = &eng->pends[pi];
	struct ebuf *b = NULL;
	char bl[96], what[256], dl[160], why[320];
	const char *deadline;
	struct fctx fc;

	if (p->buf != NIL && eng->bufs[p->buf].serial == p->buf_serial)
		b = &eng->bufs[p->buf];
	if (p->epoch != eng->epoch) {
		eng->notes.fence_unjudged_loss++;
		eng_pend_release(eng, pi);
		return;
	}
	memset(&fc, 0, sizeof(fc));
	fc.trigger = trigger;
	fc.seq = trigger ? trigger->seq : eng->last_seq;
	fc.ts = trigger ? trigger->ts_ns : eng->last_ts;
	/* the culprit is the task that revoked, whoever hit the deadline */
	fc.pid = p->pid;
	fc.tid = p->tid;
	fc.comm = p->comm;
	fc.cgroup_id = p->cgroup_id;
	fc.buf = b;
	fc.extra_jpos[0] = enter_jpos;
	fc.extra_jpos[1] = exit_jpos;
	deadline = deadline_text(eng, trigger, dl, sizeof(dl));
	snprintf(what, sizeof(what), "the revoke of buffer %s by %s at seq %" PRIu64,
		 eng_buf_label(eng, b, 0, bl, sizeof(bl)), da_invalidate_fn_name(p->fn),
		 p->inv_seq);

	if (!(p->flags & PF_WAITED)) {
		eng_emit(eng, DA_RULE_MISSING_FENCE_WAIT, &fc,
			 "%s was not followed by any fence wait on its resv %s"
			 " before %s: %s",
			 what, da_addr_str(1, b ? b->resv : 0), deadline,
			 missing_wait_impact(eng, p, b, why, sizeof(why)));
	} else {
		if (!(p->flags & PF_BOOKKEEP))
			eng_emit(
				eng, DA_RULE_WEAK_FENCE_WAIT, &fc,
				"the fence waits after %s before %s used at most DMA_RESV_USAGE_%s, not BOOKKEEP: fences of other usages may still be running",
				what, deadline, usage_upper(p->max_usage));
		/* a successful BOOKKEEP wait resolves at once, so BOOKKEEP here never finished */
		if ((p->flags & PF_BOOKKEEP) || !(p->flags & PF_DONE))
			eng_emit(eng, DA_RULE_FENCE_WAIT_INCOMPLETE, &fc,
				 "the DMA_RESV_USAGE_%s fence wait after %s %s (ret %" PRId64
				 ") and the exporter went on before %s",
				 usage_upper(p->max_usage), what,
				 p->last_ret == 0 ? "timed out" : "was interrupted", p->last_ret,
				 deadline);
	}
	eng_pend_release(eng, pi);
}

/* the deadline of a revoke outside any scope: unlock, detach or release */
static void deadline_unscoped(struct da_engine *eng, struct ebuf *b, const struct da_event *ev)
{
	if (b->pend != NIL && !eng->pends[b->pend].scope_id)
		judge_pending(eng, b->pend, ev, 0, 0);
}

static void start_pending(struct da_engine *eng, const struct da_event *ev, uint32_t bi,
			  uint32_t ti, struct escope *s, const struct reached *reached)
{
	struct ebuf *b = &eng->bufs[bi];
	struct epend *p;
	uint32_t pi;

	if (!rule_on(eng, DA_RULE_MISSING_FENCE_WAIT) && !rule_on(eng, DA_RULE_WEAK_FENCE_WAIT) &&
	    !rule_on(eng, DA_RULE_FENCE_WAIT_INCOMPLETE))
		return;
	/* the newest revoke needs a wait after it: start over */
	if (b->pend != NIL)
		eng_pend_release(eng, b->pend);
	pi = eng_pend_alloc(eng);
	if (pi == NIL) {
		eng->notes.fence_untracked++;
		return;
	}
	p = &eng->pends[pi];
	p->inv_seq = ev->seq;
	p->inv_ts = ev->ts_ns;
	p->buf = bi;
	p->buf_serial = b->serial;
	p->epoch = eng->epoch;
	p->pid = ev->pid;
	p->tid = ev->tid;
	p->cgroup_id = ev->cgroup_id;
	p->fn = ev->fn;
	p->reached = reached->n;
	p->reached_pinned = reached->pinned;
	p->pinned_ops = reached->pinned_ops;
	memcpy(p->comm, ev->comm, sizeof(p->comm));
	if (s) {
		p->scope_id = s->id;
		p->scope_task = ti;
		p->scope_depth = (uint32_t)(s - eng->tasks[ti].scopes);
		eng_dl_push_tail(eng->pends, sizeof(struct epend), offsetof(struct epend, slink),
				 &s->pends, pi);
	}
	b->pend = pi;
}

/* ------------------------------------------------------------------------ */
/* Invalidate: move, revoke or un-revoke */

static void on_revoke(struct da_engine *eng, const struct da_event *ev, uint32_t bi, uint32_t ti,
		      struct escope *s, const char *how)
{
	struct ebuf *b = &eng->bufs[bi];
	struct reached reached = { 0 };
	bool any_pinned = false;
	char bl[96], al[160], why[128];
	uint32_t ai;

	b->flags = (b->flags & ~BF_REVOKED_UNSCOPED) | BF_REVOKED | (s ? 0 : BF_REVOKED_UNSCOPED);
	b->revoke_seq = ev->seq;
	b->revoke_epoch = eng->epoch;
	b->revoke_tid = ev->tid;
	for (ai = b->atts; ai != NIL; ai = eng->atts[ai].blink.next) {
		struct eatt *a = &eng->atts[ai];
		const char *reason;
		struct fctx fc;

		if (a->pins) {
			a->flags |= AF_REVOKED_PINNED;
			any_pinned = true;
		}
		if (a->flags & AF_PREPIN)
			a->flags |= AF_REVOKED_PREPIN;
		if (!a->pins && a->maps == NIL)
			continue;
		reached_add(&reached, a);
		if (!rule_on(eng, DA_RULE_REVOKE_UNHANDLED_IMPORTER))
			continue;
		reason = unhandled_reason(eng, a, why, sizeof(why));
		if (!reason)
			continue;
		eng_fctx_from_event(&fc, ev, b, a);
		fc.extra_jpos[0] = s ? s->enter_jpos : 0;
		eng_emit(
			eng, DA_RULE_REVOKE_UNHANDLED_IMPORTER, &fc,
			"the revoke of buffer %s at seq %" PRIu64
			" (%s) reached %s, %s, which is %s; it keeps DMA to memory the exporter is taking away",
			eng_buf_label(eng, b, b->ptr, bl, sizeof(bl)), (uint64_t)ev->seq, how,
			eng_att_label(eng, a, a->ptr, al, sizeof(al)),
			a->pins ? "pinned" : "mapped", reason);
	}
	/* an exporter that revokes pinned importers is a revoking exporter from now on */
	if (any_pinned && b->exporter)
		eng->names[b->exporter].flags |= NF_REVOKING_LEARNED;
	start_pending(eng, ev, bi, ti, s, &reached);
}

/*
 * An un-revoke: attachments revoked while pinned may map again now.  Whether
 * they do is known only later: pinned-importer-left-revoked is judged when
 * the attachment ends (judge_left_revoked), not here.
 */
static void on_unrevoke(struct da_engine *eng, const struct da_event *ev, struct ebuf *b)
{
	uint32_t ai;

	for (ai = b->atts; ai != NIL; ai = eng->atts[ai].blink.next) {
		struct eatt *a = &eng->atts[ai];

		if (!(a->flags & AF_REVOKED_PINNED))
			continue;
		a->flags &= ~AF_REVOKED_PINNED;
		if (rule_on(eng, DA_RULE_PINNED_IMPORTER_LEFT_REVOKED) && !revoke_unjudged(eng, b))
			a->flags |= AF_LEFT_REVOKED;
	}
	b->unrevoke_seq = ev->seq;
	b->flags &= ~BF_REVOKED;
}

/*
 * The end of an attachment (ev: its detach or its buffer's release; NULL:
 * the end of the trace) that was revoked while pinned and has not mapped
 * since the un-revoke that followed.
 */
static void judge_left_revoked(struct da_engine *eng, const struct da_event *ev, struct ebuf *b,
			       struct eatt *a)
{
	char bl[96], al[160];
	struct fctx fc;

	if (!(a->flags & AF_LEFT_REVOKED))
		return;
	a->flags &= ~AF_LEFT_REVOKED;
	if (att_partial(eng, a)) /* a map may be in a gap */
		return;
	if (ev) {
		eng_fctx_from_event(&fc, ev, b, a);
	} else {
		memset(&fc, 0, sizeof(fc));
		fc.seq = eng->last_seq;
		fc.ts = eng->last_ts;
		fc.comm = "";
		fc.buf_ptr = b->ptr;
		fc.buf = b;
		fc.att_ptr = a->ptr;
		fc.att = a;
	}
	eng_emit(
		eng, DA_RULE_PINNED_IMPORTER_LEFT_REVOKED, &fc,
		"%s, revoked while pinned, never mapped buffer %s again after its un-revoke at seq %" PRIu64
		" (%s): a pinned importer may treat a revoke as final",
		eng_att_label(eng, a, a->ptr, al, sizeof(al)),
		eng_buf_label(eng, b, b->ptr, bl, sizeof(bl)), b->unrevoke_seq,
		!ev ? "still attached at the end of the trace" :
		ev->op == DA_OP_DETACH ? "until its detach" : "until the buffer's release");
}

static void on_invalidate(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi = resolve_live_buf(eng, ev, jpos), ti, ai;
	struct escope *s;
	struct ebuf *b;
	char how[128];

	if (bi == NIL)
		return;
	b = &eng->bufs[bi];
	check_resv(eng, ev, b, NULL);

	ti = eng_task_find(eng, ev->tid);
	s = innermost_scope(eng, ti);
	/*
	 * A scope we could not track (table full, nested too deep) may be an
	 * un-revoke: guessing would turn correct maps into access-after-revoke.
	 */
	/* a scope opened before a loss may have ended in the gap */
	if ((ti != NIL && eng->tasks[ti].depth > DA_SCOPE_DEPTH) ||
	    (!s && eng->untracked[hash_ptr(ev->tid, DA_UNTRACKED_BITS)]) ||
	    (s && s->epoch != eng->epoch)) {
		eng->notes.invalidates_unclassified++;
		/* whether it is still revoked is now unknown, as after a loss */
		if (b->flags & BF_REVOKED)
			b->revoke_epoch = UINT32_MAX;
		return;
	}
	if (s) {
		if (s->n_named < DA_SCOPE_NAMED) {
			s->named_buf[s->n_named] = bi;
			s->named_serial[s->n_named++] = b->serial;
		}
		s->n_invalidated++;
		if ((s->flags & SF_HAS_REVOKED) && !(s->flags & SF_REVOKED)) {
			on_unrevoke(eng, ev, b);
			return;
		}
		snprintf(how, sizeof(how), "in %s", eng_scope_name(eng, s->slot));
		on_revoke(eng, ev, bi, ti, s, how);
		return;
	}
	for (ai = b->atts; ai != NIL; ai = eng->atts[ai].blink.next)
		if (eng->atts[ai].pins)
			break;
	if (ai != NIL) {
		on_revoke(eng, ev, bi, NIL, NULL, "it reached a pinned attachment");
	} else if (exporter_revoking(eng, b)) {
		snprintf(how, sizeof(how), "exporter %s is %s", eng_name_str(eng, b->exporter),
			 exporter_revoking_why(eng, b));
		on_revoke(eng, ev, bi, NIL, NULL, how);
	}
	/* else a move: the importers may map again */
}

/* ------------------------------------------------------------------------ */
/* Revoke scopes and revoke-stalled */

static void report_stall(struct da_engine *eng, uint32_t ti, uint32_t d,
			 const struct da_event *trigger, uint64_t now)
{
	struct etask *t = &eng->tasks[ti];
	struct escope *s = &t->scopes[d], *inner;
	uint32_t top = t->depth < DA_SCOPE_DEPTH ? t->depth : DA_SCOPE_DEPTH;
	uint32_t nmapped = 0, nbufs = 0;
	char list[512] = "", inside[96] = "", al[160];
	size_t used = 0;
	struct fctx fc;

	memset(&fc, 0, sizeof(fc));
	fc.trigger = trigger;
	fc.seq = trigger ? trigger->seq : eng->last_seq;
	fc.ts = now;
	fc.pid = t->pid;
	fc.tid = t->tid;
	fc.comm = t->comm;
	fc.cgroup_id = t->cgroup_id;
	fc.extra_jpos[0] = s->enter_jpos;
	/* the buffers invalidated in this scope and the ones nested in it */
	for (uint32_t k = d; k < top; k++) {
		struct escope *sk = &t->scopes[k];

		sk->flags |= SF_STALL_REPORTED;
		nbufs += sk->n_invalidated;
		for (uint32_t j = 0; j < sk->n_named; j++) {
			uint32_t bi = sk->named_buf[j], ai;

			if (eng->bufs[bi].serial != sk->named_serial[j])
				continue;
			if (!fc.buf)
				fc.buf = &eng->bufs[bi];
			if (!(eng->bufs[bi].flags & BF_LIVE))
				continue;
			for (ai = eng->bufs[bi].atts; ai != NIL; ai = eng->atts[ai].blink.next) {
				struct eatt *a = &eng->atts[ai];

				if (a->maps == NIL)
					continue;
				if (!nmapped++)
					fc.att = a;
				if (nmapped > 4 || used >= sizeof(list) - 1)
					continue;
				used += snprintf(list + used, sizeof(list) - used,
						 "%s%s sgt %s", nmapped > 1 ? ", " : "",
						 eng_att_label(eng, a, a->ptr, al, sizeof(al)),
						 da_addr_str(1, eng->maps[a->maps].sgt));
			}
		}
	}
	inner = &t->scopes[top - 1];
	if (inner != s)
		snprintf(inside, sizeof(inside), ", now inside %s",
			 eng_scope_name(eng, inner->slot));
	if (nmapped > 4 && used < sizeof(list) - 1)
		snprintf(list + used, sizeof(list) - used, " and %u more", nmapped - 4);
	eng_emit(eng, DA_RULE_REVOKE_STALLED, &fc,
		 "%s (tid %u, object %s) has been open %" PRIu64 " ms since seq %" PRIu64
		 "%s (threshold %" PRIu64 " ms); %s%s",
		 eng_scope_name(eng, s->slot), t->tid, da_addr_str(1, s->obj),
		 (now - s->start_ts) / 1000000, s->start_seq, inside, eng->pol->stall_threshold_ns / 1000000,
		 nmapped ? "still mapped: " :
			   (nbufs ? "no attachment of the buffers it invalidated is mapped" :
				    "it has not invalidated any buffer yet"),
		 list);
}

static void check_stalls(struct da_engine *eng, const struct da_event *trigger, uint64_t now)
{
	uint64_t thr = eng->pol->stall_threshold_ns, next = UINT64_MAX;

	if (!rule_on(eng, DA_RULE_REVOKE_STALLED)) {
		eng->stall_next = UINT64_MAX;
		return;
	}
	for (uint32_t ti = eng->t_active.head; ti != NIL; ti = eng->tasks[ti].alink.next) {
		struct etask *t = &eng->tasks[ti];
		uint32_t top = t->depth < DA_SCOPE_DEPTH ? t->depth : DA_SCOPE_DEPTH;

		for (uint32_t d = 0; d < top; d++) {
			struct escope *s = &t->scopes[d];
			uint64_t deadline = sat_add(s->start_ts, thr);

			if (s->flags & SF_STALL_REPORTED)
				continue;
			if (s->epoch != eng->epoch) {
				/* opened before a loss: its exit may be in the gap */
				s->flags |= SF_STALL_REPORTED;
				eng->notes.stalls_unjudged++;
				continue;
			}
			if (now > deadline) {
				report_stall(eng, ti, d, trigger, now);
				break; /* the scopes nested in it were reported with it */
			}
			if (deadline < next)
				next = deadline;
		}
	}
	eng->stall_next = next;
}

static void on_scope_enter(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t ti = eng_task_get(eng, ev);
	struct etask *t;
	struct escope *s;

	if (ti == NIL) {
		eng->notes.scopes_untracked++;
		eng->untracked[hash_ptr(ev->tid, DA_UNTRACKED_BITS)]++;
		return;
	}
	t = &eng->tasks[ti];
	t->pid = ev->pid;
	t->cgroup_id = ev->cgroup_id;
	memcpy(t->comm, ev->comm, sizeof(t->comm));
	if (t->depth >= DA_SCOPE_DEPTH) {
		t->depth++;
		eng->notes.scopes_untracked++;
		eng_task_put(eng, ti);
		return;
	}
	s = &t->scopes[t->depth++];
	memset(s, 0, sizeof(*s));
	s->obj = ev->importer_ops;
	s->start_ts = ev->ts_ns;
	s->start_seq = ev->seq;
	s->enter_jpos = jpos;
	s->id = eng->next_scope_id++;
	if (!eng->next_scope_id)
		eng->next_scope_id = 1;
	s->epoch = eng->epoch;
	s->slot = ev->fn;
	if (ev->flags & DA_F_REVOKED)
		s->flags |= SF_REVOKED;
	if (ev->flags & DA_F_HAS_REVOKED)
		s->flags |= SF_HAS_REVOKED;
	eng_dlist_init(&s->pends);
	if (rule_on(eng, DA_RULE_REVOKE_STALLED)) {
		uint64_t deadline = sat_add(s->start_ts, eng->pol->stall_threshold_ns);

		if (deadline < eng->stall_next)
			eng->stall_next = deadline;
	}
	eng_task_put(eng, ti);
}

/* Close the innermost scope of a task: its pending revokes reach their deadline. */
static void pop_scope(struct da_engine *eng, uint32_t ti, const struct da_event *ev, uint64_t jpos)
{
	struct etask *t = &eng->tasks[ti];
	struct escope *s = &t->scopes[t->depth - 1];

	while (s->pends.head != NIL)
		judge_pending(eng, s->pends.head, ev, s->enter_jpos, jpos);
	if (t->depth >= 2) {
		struct escope *parent = &t->scopes[t->depth - 2];

		for (uint32_t j = 0; j < s->n_named && parent->n_named < DA_SCOPE_NAMED; j++) {
			parent->named_buf[parent->n_named] = s->named_buf[j];
			parent->named_serial[parent->n_named++] = s->named_serial[j];
		}
		parent->n_invalidated += s->n_invalidated;
	}
	t->depth--;
}

/* a scope exit with no tracked entry: of a scope we could not track, or unmatched */
static void scope_exit_untracked(struct da_engine *eng, const struct da_event *ev)
{
	uint32_t h = hash_ptr(ev->tid, DA_UNTRACKED_BITS);

	if (eng->untracked[h]) {
		eng->untracked[h]--;
	} else {
		eng->notes.scope_exit_unmatched++;
		eng->unmatched_exit[h] = ev->seq;
	}
}

static void on_scope_exit(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t ti = eng_task_find(eng, ev->tid), d;
	struct etask *t;

	if (ti == NIL || !eng->tasks[ti].depth) {
		scope_exit_untracked(eng, ev);
		return;
	}
	t = &eng->tasks[ti];
	if (t->depth > DA_SCOPE_DEPTH) {
		t->depth--;
		return;
	}
	/* the matching entry; scopes above it lost their exit and close with it */
	for (d = t->depth; d > 0 && t->scopes[d - 1].slot != ev->fn; d--)
		;
	if (!d) {
		scope_exit_untracked(eng, ev);
		return;
	}
	while (t->depth >= d)
		pop_scope(eng, ti, ev, jpos);
	eng_task_put(eng, ti);
}

/* ------------------------------------------------------------------------ */
/* Lifecycle ops */

/*
 * Another buffer took the address of buffer bi (its release was not seen):
 * a pending revoke of the old one is judged now, the old one is freed, and
 * the generation the new one gets is returned.
 */
static uint32_t buf_retire(struct da_engine *eng, uint32_t bi, const struct da_event *ev)
{
	struct ebuf *b = &eng->bufs[bi];
	uint32_t gen = b->gen + 1;

	if (b->flags & BF_LIVE)
		eng->notes.replaced[0]++;
	if (b->pend != NIL)
		judge_pending(eng, b->pend, ev, 0, 0);
	eng_buf_free(eng, bi);
	return gen;
}

static void on_export(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi, gen = 1;
	struct ebuf *b;

	if (ev->ret || !ev->buf)
		return; /* failed export: nothing was created */
	bi = buf_find(eng, ev->buf);
	if (bi != NIL)
		gen = buf_retire(eng, bi, ev);
	bi = eng_buf_new(eng, ev->buf, gen, 0);
	b = &eng->bufs[bi];
	b->ino = ev->ino;
	b->size = ev->size;
	b->seq_mark = ev->seq;
	b->exporter = eng_name_intern(eng, ev->name, sizeof(ev->name));
	eng_buf_set_resv(eng, b, ev->resv);
	eng_journal_link(eng, b, jpos);
}

static void on_release(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi = resolve_live_buf(eng, ev, jpos), ai;
	char bl[96], al[160];
	struct ebuf *b;

	if (bi == NIL)
		return;
	b = &eng->bufs[bi];
	deadline_unscoped(eng, b, ev);
	for (ai = b->atts; ai != NIL; ai = eng->atts[ai].blink.next) {
		struct eatt *a = &eng->atts[ai];

		a->flags |= AF_ENDED_BY_RELEASE;
		judge_left_revoked(eng, ev, b, a);
		/* pins counted since a seed are at most the real count: a leak is a leak */
		if (!a->pins || (att_partial(eng, a) && !att_seeded_whole(eng, a)) ||
		    !rule_on(eng, DA_RULE_PIN_LEAK))
			continue;
		eng_emit_event(
			eng, DA_RULE_PIN_LEAK, ev, b, a,
			"buffer %s was released while %s was still attached with pin count %u (attached at seq %" PRIu64
			")",
			eng_buf_label(eng, b, b->ptr, bl, sizeof(bl)),
			eng_att_label(eng, a, a->ptr, al, sizeof(al)), a->pins, a->seq_mark);
	}
	eng_buf_kill(eng, bi, ev->seq);
}

/*
 * The importer of an attach or seed_attachment event: device, importer ops,
 * callback and what the policy says of them.  False when the ops table is
 * full (the importer stays unknown).
 */
static bool att_learn_importer(struct da_engine *eng, struct eatt *a, const struct da_event *ev)
{
	int ops;

	a->dev = eng_name_intern(eng, ev->name, sizeof(ev->name));
	ops = eng_ops_intern(eng, ev->importer_ops, ev->invalidate_cb);
	if (ops < 0)
		return false;
	a->ops = (uint16_t)ops;
	a->flags |= AF_KNOWN;
	if (ev->importer_ops || (ev->flags & DA_F_DYNAMIC))
		a->flags |= AF_DYNAMIC;
	if (ev->flags & DA_F_PEER2PEER)
		a->flags |= AF_P2P;
	if (ev->invalidate_cb && da_namelist_has(&eng->pol->stub_callbacks,
						 da_symbols_lookup(eng->syms, ev->invalidate_cb)))
		a->flags |= AF_STUB_CB;
	if (ev->importer_ops && da_namelist_has(&eng->pol->pinning_importers,
						da_symbols_lookup(eng->syms, ev->importer_ops)))
		a->flags |= AF_PINNING;
	return true;
}

/*
 * An attach names its buffer by address, and (since the BPF side reads it)
 * by inode: another inode than the known buffer's at that address means the
 * known one's release and this one's export were never seen (calls the
 * kernel skipped: the storm's vgem import of a udmabuf at the address of a
 * VFIO buffer).  The known buffer is gone; this one is new and partial,
 * its exporter unknown, so nothing is judged on the other's identity.
 */
static void buf_check_identity(struct da_engine *eng, const struct da_event *ev)
{
	uint32_t bi = ev->ino && ev->buf ? buf_find(eng, ev->buf) : NIL, gen;

	if (bi == NIL || !eng->bufs[bi].ino || eng->bufs[bi].ino == ev->ino)
		return;
	gen = buf_retire(eng, bi, ev);
	bi = eng_buf_new(eng, ev->buf, gen, eng_buf_partial_reason(eng, ev->buf));
	eng->bufs[bi].ino = ev->ino;
	eng->bufs[bi].seq_mark = ev->seq;
}

static void on_attach(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t ti = eng_task_find(eng, ev->tid), bi, ai, gen = 1;
	bool rc_known = false, rc_revocable = false;
	struct ebuf *b;
	struct eatt *a;

	/* the exporter's ->attach asked dma_buf_attach_revocable() just before */
	if (ti != NIL && eng->tasks[ti].rc_valid) {
		struct etask *t = &eng->tasks[ti];

		/*
		 * Not across a loss: the storm's seed 4264936374 lost a
		 * refused attach and the next call's check at the same
		 * reused address, pairing one call's "false" with the
		 * other's success (docs/findings/README.md).
		 */
		if (t->rc_attach == ev->attach && t->rc_epoch == eng->epoch) {
			rc_known = true;
			rc_revocable = t->rc_revocable;
		}
		t->rc_valid = false;
		eng_task_put(eng, ti);
	}
	buf_check_identity(eng, ev);
	bi = resolve_live_buf(eng, ev, jpos);
	if (bi == NIL)
		return;
	b = &eng->bufs[bi];
	if (!b->ino)
		b->ino = ev->ino; /* first seen here: later attaches are checked against it */
	if (ev->ret || !ev->attach)
		return; /* refused: in the buffer's history only */
	ai = att_find(eng, ev->attach);
	if (ai != NIL) {
		gen = eng->atts[ai].gen + 1;
		if (eng->atts[ai].flags & AF_LIVE)
			eng->notes.replaced[1]++;
		eng_att_free(eng, ai);
	}
	ai = eng_att_new(eng, ev->attach, bi, gen, 0);
	a = &eng->atts[ai];
	a->seq_mark = ev->seq;
	if (!att_learn_importer(eng, a, ev))
		return; /* table full: the importer stays unknown, no verdict needs it */
	/* seen attaching: not pinned nor mapped yet (a seeded one's past is unknown) */
	a->flags |= AF_PREPIN;
	if ((b->flags & BF_REVOKED) && !revoke_uncertain(eng, b))
		a->flags |= AF_ATTACHED_REVOKED;
	if (rc_known)
		a->flags |= AF_RC_KNOWN | (rc_revocable ? AF_RC_REVOCABLE : 0);
	check_nonrevocable(eng, ev, b, a);
}

static void on_revocable_check(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t ai = ev->attach ? att_find(eng, ev->attach) : NIL, ti;

	resolve_buf(eng, ev, jpos, true);
	if (ai != NIL && (eng->atts[ai].flags & AF_LIVE)) {
		struct eatt *a = &eng->atts[ai];

		a->flags = (a->flags & ~AF_RC_REVOCABLE) | AF_RC_KNOWN |
			   (ev->ret ? AF_RC_REVOCABLE : 0);
		return;
	}
	/* inside the exporter's ->attach: the attach event of this pointer follows */
	ti = eng_task_get(eng, ev);
	if (ti == NIL)
		return;
	eng->tasks[ti].rc_valid = true;
	eng->tasks[ti].rc_attach = ev->attach;
	eng->tasks[ti].rc_revocable = ev->ret != 0;
	eng->tasks[ti].rc_epoch = eng->epoch;
	eng_task_put(eng, ti);
}

static void on_detach(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	char al[160], list[384] = "";
	uint32_t bi, ai;
	struct ebuf *b;
	struct fctx fc;
	struct eatt *a = resolve_att(eng, ev, jpos, &bi, &ai);

	if (!a)
		return;
	b = &eng->bufs[bi];
	deadline_unscoped(eng, b, ev);
	judge_left_revoked(eng, ev, b, a);
	/* seeded: pins and mappings counted since the seed are real ones (docs/rules.md) */
	if (!att_partial(eng, a) || att_seeded_whole(eng, a)) {
		eng_fctx_from_event(&fc, ev, b, a);
		if (a->pins && rule_on(eng, DA_RULE_PIN_LEAK))
			eng_emit(eng, DA_RULE_PIN_LEAK, &fc,
				 "%s was detached with pin count %u (attached at seq %" PRIu64
				 "): a dma_buf_unpin() is missing",
				 eng_att_label(eng, a, a->ptr, al, sizeof(al)), a->pins,
				 a->seq_mark);
		if (a->maps != NIL && rule_on(eng, DA_RULE_MAPPING_LEAK)) {
			unsigned int n = 0;
			size_t used = 0;

			for (uint32_t mi = a->maps; mi != NIL; mi = eng->maps[mi].alink.next) {
				n++;
				if (n <= 6 && used < sizeof(list) - 1)
					used += snprintf(
						list + used, sizeof(list) - used,
						"%s%s%s", n > 1 ? ", " : "",
						da_addr_str(1, eng->maps[mi].sgt),
						eng->maps[mi].count > 1 ? " (mapped twice+)" : "");
			}
			if (n > 6 && used < sizeof(list) - 1)
				snprintf(list + used, sizeof(list) - used, " and %u more", n - 6);
			eng_emit(eng, DA_RULE_MAPPING_LEAK, &fc,
				 "%s was detached with %u sg_table%s still mapped: %s",
				 eng_att_label(eng, a, a->ptr, al, sizeof(al)), n,
				 n == 1 ? "" : "s", list);
		}
	}
	eng_att_kill(eng, ai, ev->seq);
}

/* ------------------------------------------------------------------------ */
/* Seeding: what existed at start (src/live/seed.c) */

/*
 * The live buffer a seed record names.  An event may have named it between
 * the attach and the seed (it was made late then): it is seeded, its
 * events since are kept.  A buffer seen exported since the start is kept
 * as it is.
 */
static uint32_t seed_buf(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi = buf_find(eng, ev->buf), gen = 1;
	struct ebuf *b;

	if (bi != NIL && (eng->bufs[bi].flags & BF_LIVE)) {
		b = &eng->bufs[bi];
		if (b->flags & BF_LATE) {
			b->flags = (b->flags & ~BF_LATE) | BF_SEEDED;
			eng_count_late_seeded(eng, 0);
		}
	} else {
		if (bi != NIL) {
			gen = eng->bufs[bi].gen + 1;
			eng_buf_free(eng, bi);
		}
		bi = eng_buf_new(eng, ev->buf, gen, BF_SEEDED);
		b = &eng->bufs[bi];
		b->seq_mark = ev->seq;
	}
	eng_buf_set_resv(eng, b, ev->resv);
	eng_journal_link(eng, b, jpos);
	return bi;
}

static void on_seed_buffer(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	struct ebuf *b;

	if (!ev->buf)
		return;
	b = &eng->bufs[seed_buf(eng, ev, jpos)];
	if (!(b->flags & BF_SEEDED))
		return;
	if (!b->ino)
		b->ino = ev->ino;
	if (!b->size)
		b->size = ev->size;
	if (!b->exporter)
		b->exporter = eng_name_intern(eng, ev->name, sizeof(ev->name));
}

static void on_seed_attachment(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi, ai, gen = 1;
	struct eatt *a;

	if (!ev->buf || !ev->attach)
		return;
	bi = seed_buf(eng, ev, jpos);
	ai = att_find(eng, ev->attach);
	if (ai != NIL && (eng->atts[ai].flags & AF_LIVE)) {
		a = &eng->atts[ai];
		if (!(a->flags & AF_LATE))
			return; /* attached since the start: its attach event said it all */
		a->flags = (a->flags & ~AF_LATE) | AF_SEEDED;
		eng_count_late_seeded(eng, 1);
	} else {
		if (ai != NIL) {
			gen = eng->atts[ai].gen + 1;
			eng_att_free(eng, ai);
		}
		ai = eng_att_new(eng, ev->attach, bi, gen, AF_SEEDED);
		a = &eng->atts[ai];
		a->seq_mark = ev->seq;
	}
	/* a full ops table leaves the importer unknown (counted for a notice) */
	if (!(a->flags & AF_KNOWN))
		att_learn_importer(eng, a, ev);
}

/* ------------------------------------------------------------------------ */
/* Pin, map and CPU access */

static void on_pin(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi, ai;
	struct eatt *a = resolve_att(eng, ev, jpos, &bi, &ai);

	if (!a)
		return;
	check_resv(eng, ev, &eng->bufs[bi], a);
	if (ev->ret)
		return;
	a->flags &= ~AF_PREPIN; /* the attach-then-pin window closes */
	if (a->pins == UINT16_MAX)
		mark_untracked(eng, a, false); /* beyond counting: partial from now on */
	else
		a->pins++;
	check_nonrevocable(eng, ev, &eng->bufs[bi], a);
}

static void on_unpin(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi, ai;
	char al[160];
	struct eatt *a = resolve_att(eng, ev, jpos, &bi, &ai);

	if (!a)
		return;
	check_resv(eng, ev, &eng->bufs[bi], a);
	if (a->pins) {
		a->pins--;
		return;
	}
	if (att_partial(eng, a) || !rule_on(eng, DA_RULE_UNBALANCED_UNPIN))
		return;
	eng_emit_event(
		eng, DA_RULE_UNBALANCED_UNPIN, ev, &eng->bufs[bi], a,
		"dma_buf_unpin() of %s whose pin count is already 0 (attached at seq %" PRIu64 ")",
		eng_att_label(eng, a, a->ptr, al, sizeof(al)), a->seq_mark);
}

/*
 * A map through the exporter's private helper (DA_F_PHYS: iommufd's
 * vfio_pci_dma_buf_iommufd_map) returns 0 and no sg_table, and no unmap
 * follows: the importer drops it in its invalidate callback.  It is an
 * access like any map, but not a mapping to balance.
 */
static void on_map(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	bool phys = ev->flags & DA_F_PHYS;
	bool success = !ev->ret && (ev->sgt || phys);
	uint32_t bi, ai;
	char al[160], what[64];
	struct eatt *a = resolve_att(eng, ev, jpos, &bi, &ai);

	if (!a)
		return;
	if (ev->flags & DA_F_LOCKED)
		check_resv(eng, ev, &eng->bufs[bi], a);
	check_access(eng, ev, &eng->bufs[bi], a, success);
	if (!success)
		return;
	a->flags &= ~(AF_LEFT_REVOKED | AF_PREPIN | AF_REVOKED_PREPIN | AF_ATTACHED_REVOKED);
	if ((a->flags & AF_PINNING) && !a->pins && !att_partial(eng, a) &&
	    rule_on(eng, DA_RULE_PINNING_IMPORTER_MISSING_PIN)) {
		if (phys)
			snprintf(what, sizeof(what), "its physical ranges (%s)", call_name(eng, ev));
		else
			snprintf(what, sizeof(what), "it (sgt %s)", da_addr_str(1, ev->sgt));
		eng_emit_event(
			eng, DA_RULE_PINNING_IMPORTER_MISSING_PIN, ev, &eng->bufs[bi], a,
			"pinning importer %s mapped %s without dma_buf_pin(): it cannot fault, so a revoke would look like a move to the exporter",
			eng_att_label(eng, a, a->ptr, al, sizeof(al)), what);
	}
	if (!phys && eng_map_add(eng, ai, ev->sgt))
		mark_untracked(eng, a, true);
}

static void on_unmap(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi, ai;
	char al[160];
	struct eatt *a = resolve_att(eng, ev, jpos, &bi, &ai);

	if (!a)
		return;
	if (ev->flags & DA_F_LOCKED)
		check_resv(eng, ev, &eng->bufs[bi], a);
	if (eng_map_del(eng, ai, ev->sgt) || att_partial(eng, a) ||
	    !rule_on(eng, DA_RULE_UNBALANCED_UNMAP))
		return;
	eng_emit_event(
		eng, DA_RULE_UNBALANCED_UNMAP, ev, &eng->bufs[bi], a,
		"%s of sg_table %s"
		" on %s, which has no live mapping of it (never returned by its map, or already unmapped)",
		call_name(eng, ev), da_addr_str(1, ev->sgt),
		eng_att_label(eng, a, a->ptr, al, sizeof(al)));
}

/* vmap, vunmap, mmap: CPU access to the buffer, no attachment */
static void on_cpu_access(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t bi = resolve_live_buf(eng, ev, jpos);
	struct ebuf *b;

	if (bi == NIL)
		return;
	b = &eng->bufs[bi];
	if (ev->op != DA_OP_MMAP && (ev->flags & DA_F_LOCKED))
		check_resv(eng, ev, b, NULL);
	if (ev->op != DA_OP_VUNMAP)
		check_access(eng, ev, b, NULL, ev->ret == 0);
}

/* ------------------------------------------------------------------------ */
/* Fence waits and the reservation unlock */

static void on_fence_wait(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	uint32_t first = NIL, first_pending = NIL;

	if (!ev->resv)
		return;
	for (uint32_t bi = eng->rhash[hash_ptr(ev->resv, eng->bbits)]; bi != NIL;
	     bi = eng->bufs[bi].rnext) {
		struct ebuf *b = &eng->bufs[bi];
		struct epend *p;

		if (b->resv != ev->resv)
			continue;
		if (first == NIL)
			first = bi;
		if (b->pend == NIL)
			continue;
		if (first_pending == NIL)
			first_pending = bi;
		p = &eng->pends[b->pend];
		if (!(p->flags & PF_WAITED) || ev->usage >= p->max_usage) {
			p->max_usage = ev->usage;
			p->last_ret = ev->ret;
		}
		p->flags |= PF_WAITED;
		if (ev->usage == DA_USAGE_BOOKKEEP)
			p->flags |= PF_BOOKKEEP;
		if (ev->ret > 0)
			p->flags |= PF_DONE;
		if (ev->usage == DA_USAGE_BOOKKEEP && ev->ret > 0)
			eng_pend_release(eng, b->pend); /* every fence has signalled */
	}
	if (first_pending != NIL)
		first = first_pending;
	if (first != NIL)
		eng_journal_link(eng, &eng->bufs[first], jpos);
}

static void on_resv_unlock(struct da_engine *eng, const struct da_event *ev, uint64_t jpos)
{
	bool linked = false;

	if (!ev->resv)
		return;
	for (uint32_t bi = eng->rhash[hash_ptr(ev->resv, eng->bbits)]; bi != NIL;
	     bi = eng->bufs[bi].rnext) {
		struct ebuf *b = &eng->bufs[bi];

		if (b->resv != ev->resv)
			continue;
		if (!linked || b->pend != NIL) {
			eng_journal_link(eng, b, jpos);
			linked = true;
		}
		deadline_unscoped(eng, b, ev);
	}
}

/* ------------------------------------------------------------------------ */
/* API */

struct da_engine *da_engine_new(const struct da_engine_config *cfg)
{
	struct da_engine *eng;

	if (!cfg || !cfg->policy)
		return NULL;
	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return NULL;
	eng->pol = cfg->policy;
	eng->syms = cfg->symbols;
	eng->trace = cfg->trace;
	eng->out = cfg->output;
	eng->quirks = cfg->trace ? cfg->trace->quirks : 0;
	eng->stall_next = UINT64_MAX;
	if (eng_state_init(eng, cfg)) {
		da_engine_free(eng);
		return NULL;
	}
	return eng;
}

void da_engine_free(struct da_engine *eng)
{
	if (!eng)
		return;
	eng_state_free(eng);
	free(eng);
}

void da_engine_prefetch(const struct da_engine *eng, const struct da_event *ev, bool entities)
{
	uint32_t ab = hash_ptr(ev->attach, eng->abits), bb = hash_ptr(ev->buf, eng->bbits);
	uint32_t mb = eng_map_bucket(eng, ev->sgt), i;

	if (!entities) {
		if (ev->attach)
			__builtin_prefetch(&eng->ahash[ab]);
		if (ev->buf)
			__builtin_prefetch(&eng->bhash[bb]);
		if (ev->sgt)
			__builtin_prefetch(&eng->mhash[mb]);
		return;
	}
	if (ev->attach && (i = eng->ahash[ab]) != NIL)
		__builtin_prefetch(&eng->atts[i]);
	if (ev->buf && (i = eng->bhash[bb]) != NIL)
		__builtin_prefetch(&eng->bufs[i]);
	if (ev->sgt && (i = eng->mhash[mb]) != NIL)
		__builtin_prefetch(&eng->maps[i]);
}

void da_engine_prefetch_chains(const struct da_engine *eng, const struct da_event *ev)
{
	uint32_t i;

	/* a chain's head arrived with the previous stage; the entry is often the next one */
	if (ev->attach && (i = eng->ahash[hash_ptr(ev->attach, eng->abits)]) != NIL &&
	    eng->atts[i].ptr != ev->attach && (i = eng->atts[i].hnext) != NIL)
		__builtin_prefetch(&eng->atts[i]);
	if (ev->buf && (i = eng->bhash[hash_ptr(ev->buf, eng->bbits)]) != NIL &&
	    eng->bufs[i].ptr != ev->buf && (i = eng->bufs[i].hnext) != NIL)
		__builtin_prefetch(&eng->bufs[i]);
}

typedef void (*op_handler)(struct da_engine *eng, const struct da_event *ev, uint64_t jpos);

/* per op, what judges its events: one row per op, checked by tests/unit/test_ops.c */
static const op_handler handlers[DA_OP__COUNT] = {
	[DA_OP_EXPORT] = on_export,
	[DA_OP_RELEASE] = on_release,
	[DA_OP_ATTACH] = on_attach,
	[DA_OP_DETACH] = on_detach,
	[DA_OP_PIN] = on_pin,
	[DA_OP_UNPIN] = on_unpin,
	[DA_OP_MAP] = on_map,
	[DA_OP_UNMAP] = on_unmap,
	[DA_OP_VMAP] = on_cpu_access,
	[DA_OP_VUNMAP] = on_cpu_access,
	[DA_OP_MMAP] = on_cpu_access,
	[DA_OP_INVALIDATE] = on_invalidate,
	[DA_OP_FENCE_WAIT] = on_fence_wait,
	[DA_OP_REVOCABLE_CHECK] = on_revocable_check,
	[DA_OP_SCOPE_ENTER] = on_scope_enter,
	[DA_OP_SCOPE_EXIT] = on_scope_exit,
	[DA_OP_RESV_UNLOCK] = on_resv_unlock,
	[DA_OP_SEED_BUFFER] = on_seed_buffer,
	[DA_OP_SEED_ATTACHMENT] = on_seed_attachment,
};

bool da_engine_handles_op(unsigned int op)
{
	return op < DA_OP__COUNT && handlers[op];
}

void da_engine_feed(struct da_engine *eng, const struct da_event *ev)
{
	uint64_t jpos;

	/*
	 * The lookups below are chains of cache misses (bucket, entity, the
	 * attachment's buffer, its mapping).  Start the chains of the
	 * attachment, the buffer and the sg_table side by side: the CPU waits
	 * for them once instead of one after the other.
	 */
	da_engine_prefetch(eng, ev, true);
	eng->sum.events++;
	eng->last_seq = ev->seq;
	if (ev->ts_ns > eng->last_ts)
		eng->last_ts = ev->ts_ns;
	jpos = eng_journal_append(eng, ev);
	if (ev->ts_ns > eng->stall_next)
		check_stalls(eng, ev, ev->ts_ns);

	if (ev->op < DA_OP__COUNT && handlers[ev->op]) {
		handlers[ev->op](eng, ev, jpos);
	} else if (!eng->notes.unknown_ops++) {
		eng_notice(eng, DA_NOTICE_INPUT,
			   "event seq %" PRIu64 " has unknown op %u: ignored (and any like it)",
			   (uint64_t)ev->seq, ev->op);
	}
}

/*
 * Every entity alive now has a gap in its history.  Those born since the
 * previous loss (and not partial already) become partial; older ones
 * already are.  The epoch makes the per-entity test O(1) later.
 */
static void loss_now(struct da_engine *eng)
{
	eng->notes.lost[0] += eng->clean_live[0];
	eng->notes.lost[1] += eng->clean_live[1];
	eng->sum.partial_lost += eng->clean_live[0] + eng->clean_live[1];
	eng->sum.partial += eng->clean_live[0] + eng->clean_live[1];
	eng->clean_live[0] = eng->clean_live[1] = 0;
	eng->epoch++;
}

void da_engine_lost(struct da_engine *eng, uint64_t first_seq, uint64_t count)
{
	if (!count)
		return;
	eng->sum.lost += count;
	loss_now(eng);
}

void da_engine_loss_point(struct da_engine *eng)
{
	loss_now(eng);
}

void da_engine_tick(struct da_engine *eng, uint64_t now_ns)
{
	if (now_ns > eng->stall_next)
		check_stalls(eng, NULL, now_ns);
}

static int cmp_pend_seq(const void *x, const void *y, void *ctx)
{
	const struct epend *pends = ctx;
	uint64_t a = pends[*(const uint32_t *)x].inv_seq, b = pends[*(const uint32_t *)y].inv_seq;

	return a < b ? -1 : a > b;
}

void da_engine_finish(struct da_engine *eng)
{
	uint32_t *order, n = 0;

	if (eng->finished)
		return;
	eng->finished = true;
	/*
	 * Revokes still waiting for a fence wait.  Outside a scope the end of
	 * the trace is their deadline.  Inside a scope that is still open the
	 * deadline (its exit) has not come: the wait may be next, e.g. when
	 * watch is stopped mid-revoke; revoke-stalled covers scopes that hang.
	 */
	order = malloc(sizeof(*order) * eng->npends);
	for (uint32_t bi = 0; bi < eng->nbufs; bi++) {
		uint32_t pi = eng->bufs[bi].pend;

		if (!(eng->bufs[bi].flags & BF_USED) || pi == NIL)
			continue;
		if (eng->pends[pi].scope_id) {
			if (eng->pends[pi].epoch != eng->epoch)
				eng->notes.fence_unjudged_loss++;
			else
				eng->notes.fence_in_open_scope++;
			eng_pend_release(eng, pi);
			continue;
		}
		if (order)
			order[n++] = pi;
		else
			judge_pending(eng, pi, NULL, 0, 0);
	}
	if (order) {
		qsort_r(order, n, sizeof(*order), cmp_pend_seq, eng->pends);
		for (uint32_t i = 0; i < n; i++)
			judge_pending(eng, order[i], NULL, 0, 0);
		free(order);
	}
	/* pinned attachments still left revoked at the end of the trace */
	for (uint32_t bi = 0; bi < eng->nbufs; bi++) {
		struct ebuf *b = &eng->bufs[bi];

		if ((b->flags & (BF_USED | BF_LIVE)) != (BF_USED | BF_LIVE))
			continue;
		for (uint32_t ai = b->atts; ai != NIL; ai = eng->atts[ai].blink.next)
			judge_left_revoked(eng, NULL, b, &eng->atts[ai]);
	}
	eng_final_notices(eng);
}

void da_engine_summary(const struct da_engine *eng, struct da_summary *out)
{
	*out = eng->sum;
}

void da_engine_occupancy(const struct da_engine *eng, uint64_t *buffers_live,
			 uint64_t *buffers_capacity, uint64_t *attachments_live,
			 uint64_t *attachments_capacity)
{
	*buffers_live = eng->nlive_bufs;
	*buffers_capacity = eng->nbufs;
	*attachments_live = eng->nlive_atts;
	*attachments_capacity = eng->natts;
}
