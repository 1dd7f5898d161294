// SPDX-License-Identifier: GPL-2.0
/*
 * Findings and notices: the evidence a finding carries (buffer, attachment,
 * the buffer's recent history from the journal), handed to the finding
 * stage (finding_stage.c: rule switch, allow-list, severity, counts), and
 * the closing notices about what was not judged.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "engine_report.h"

const char *eng_scope_name(const struct da_engine *eng, unsigned int slot)
{
	if (eng->trace && slot < eng->trace->n_scopes && eng->trace->scope_names[slot][0])
		return eng->trace->scope_names[slot];
	return "revoke scope";
}

const char *eng_buf_label(const struct da_engine *eng, const struct ebuf *b, uint64_t ptr,
			  char *out, size_t len)
{
	const char *exp = b ? eng_name_str(eng, b->exporter) : NULL;
	const char *seeded = b && (b->flags & BF_SEEDED) ? ", seeded" : "";

	if (b && b->ino)
		snprintf(out, len, "ino %" PRIu64 " (%s%s)", b->ino, exp ? exp : "exporter unknown",
			 seeded);
	else
		snprintf(out, len, "%s (%s)", da_addr_str(6, b ? b->ptr : ptr),
			 exp ? exp : "first seen mid-life");
	return out;
}

const char *eng_att_label(struct da_engine *eng, const struct eatt *a, uint64_t ptr, char *out,
			  size_t len)
{
	const char *dev = a ? eng_name_str(eng, a->dev) : NULL;
	const char *ops = NULL;

	if (!a || !(a->flags & AF_KNOWN)) {
		snprintf(out, len, "attachment %s%s", da_addr_str(6, a ? a->ptr : ptr),
			 dev ? "" : " (importer unknown)");
		return out;
	}
	if (att_importer_ops(eng, a))
		ops = da_symbols_lookup(eng->syms, att_importer_ops(eng, a));
	if (!att_importer_ops(eng, a))
		snprintf(out, len, "attachment %s (dev %s, static importer)", da_addr_str(6, a->ptr),
			 dev ? dev : "?");
	else if (ops)
		snprintf(out, len, "attachment %s (dev %s, %s)", da_addr_str(6, a->ptr), dev ? dev : "?",
			 ops);
	else
		snprintf(out, len, "attachment %s (dev %s, importer ops %s)", da_addr_str(6, a->ptr),
			 dev ? dev : "?", da_addr_str(7, att_importer_ops(eng, a)));
	return out;
}

void eng_fctx_from_event(struct fctx *fc, const struct da_event *ev, struct ebuf *buf,
			 struct eatt *att)
{
	memset(fc, 0, sizeof(*fc));
	fc->buf = buf;
	fc->att = att;
	fc->trigger = ev;
	fc->seq = ev->seq;
	fc->ts = ev->ts_ns;
	fc->pid = ev->pid;
	fc->tid = ev->tid;
	fc->comm = ev->comm;
	fc->cgroup_id = ev->cgroup_id;
}

static inline bool jpos_valid(const struct da_engine *eng, uint64_t pos)
{
	return pos && pos <= eng->jcount && pos + eng->jmask + 1 > eng->jcount;
}

/*
 * The buffer's last hlen events by walking its back-links, plus the scope
 * enter/exit of a revoke when still in the journal; oldest first.
 */
static void collect_history(struct da_engine *eng, const struct fctx *fc, struct da_finding *f)
{
	uint64_t *pos = eng->hist_pos, p;
	unsigned int n = 0, i, j;

	f->history_truncated = false;
	p = fc->buf ? fc->buf->jlast : 0;
	while (p && n < eng->hlen) {
		if (!jpos_valid(eng, p)) {
			f->history_truncated = true;
			break;
		}
		pos[n++] = p;
		p = eng->jprev[(p - 1) & eng->jmask];
	}
	for (i = 0; i < 2; i++) {
		uint64_t x = fc->extra_jpos[i];
		bool dup = false;

		if (!jpos_valid(eng, x))
			continue;
		for (j = 0; j < n; j++)
			dup |= pos[j] == x;
		if (!dup)
			pos[n++] = x;
	}
	/* insertion sort, ascending: n is small */
	for (i = 1; i < n; i++) {
		uint64_t x = pos[i];

		for (j = i; j > 0 && pos[j - 1] > x; j--)
			pos[j] = pos[j - 1];
		pos[j] = x;
	}
	for (i = 0; i < n; i++)
		eng->hist[i] = &eng->jev[(pos[i] - 1) & eng->jmask];
	f->n_history = n;
	f->history = eng->hist;
}

static void emit_v(struct da_engine *eng, enum da_rule rule, const struct fctx *fc, const char *fmt,
		   va_list ap)
{
	struct da_finding f;

	memset(&f, 0, sizeof(f));
	vsnprintf(eng->msg, sizeof(eng->msg), fmt, ap);

	f.rule = rule;
	/* its severity, workload and fate are the finding stage's (finding_stage.c) */
	f.trigger = fc->trigger;
	f.seq = fc->seq;
	f.ts_ns = fc->ts;
	f.pid = fc->pid;
	f.tid = fc->tid;
	f.comm = fc->comm;
	f.cgroup.id = fc->cgroup_id;
	f.buffer.ptr = fc->buf ? fc->buf->ptr : fc->buf_ptr;
	if (fc->buf) {
		f.buffer.ino = fc->buf->ino;
		f.buffer.size = fc->buf->size;
		f.buffer.exporter = eng_name_str(eng, fc->buf->exporter);
		f.buffer.seeded = fc->buf->flags & BF_SEEDED;
	}
	if (fc->att || fc->att_ptr) {
		const struct eatt *a = fc->att;

		f.has_attachment = true;
		f.attachment.ptr = a ? a->ptr : fc->att_ptr;
		if (a) {
			f.attachment.dev = eng_name_str(eng, a->dev);
			f.attachment.known = a->flags & AF_KNOWN;
			f.attachment.seeded = a->flags & AF_SEEDED;
			if (f.attachment.known) {
				f.attachment.importer_ops = att_importer_ops(eng, a);
				f.attachment.invalidate_cb = att_callback(eng, a);
				f.attachment.importer_ops_sym =
					da_symbols_lookup(eng->syms, f.attachment.importer_ops);
				f.attachment.invalidate_cb_sym =
					da_symbols_lookup(eng->syms, f.attachment.invalidate_cb);
			}
		}
	}
	f.message = eng->msg;
	collect_history(eng, fc, &f);
	if (eng->out.finding)
		eng->out.finding(eng->out.ctx, &f);
}

void eng_emit(struct da_engine *eng, enum da_rule rule, const struct fctx *fc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_v(eng, rule, fc, fmt, ap);
	va_end(ap);
}

void eng_emit_event(struct da_engine *eng, enum da_rule rule, const struct da_event *ev,
		    struct ebuf *buf, struct eatt *att, const char *fmt, ...)
{
	struct fctx fc;
	va_list ap;

	eng_fctx_from_event(&fc, ev, buf, att);
	va_start(ap, fmt);
	emit_v(eng, rule, &fc, fmt, ap);
	va_end(ap);
}

void eng_notice(struct da_engine *eng, enum da_notice_kind kind, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!eng->out.notice)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	eng->out.notice(eng->out.ctx, kind, text);
}

/* "3 buffers and 1 attachment", "2 attachments" */
static const char *entities(char *out, size_t len, uint64_t nbuf, uint64_t natt)
{
	char b[40] = "", a[40] = "";

	if (nbuf)
		snprintf(b, sizeof(b), "%" PRIu64 " buffer%s", nbuf, nbuf == 1 ? "" : "s");
	if (natt)
		snprintf(a, sizeof(a), "%" PRIu64 " attachment%s", natt, natt == 1 ? "" : "s");
	snprintf(out, len, "%s%s%s", b, nbuf && natt ? " and " : "", a);
	return out;
}

static const char not_judged[] =
	"leaks, balances, use-after-release and pinning-importer-missing-pin are not judged for them";

/* "N <what>": a notice about a count, when there is something to count */
static void count_notice(struct da_engine *eng, enum da_notice_kind kind, uint64_t count,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void count_notice(struct da_engine *eng, enum da_notice_kind kind, uint64_t count,
			 const char *fmt, ...)
{
	char what[480];
	va_list ap;

	if (!count)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	eng_notice(eng, kind, "%" PRIu64 " %s", count, what);
}

/* entities not judged by the history rules, one notice per reason */
static void partial_notices(struct da_engine *eng, const struct enotes *n)
{
	char e[96];

	if (n->late[0] || n->late[1])
		eng_notice(eng, DA_NOTICE_PARTIAL,
			   "%s first seen in mid-life (they existed before tracing began): %s",
			   entities(e, sizeof(e), n->late[0], n->late[1]), not_judged);
	if (n->seeded[0] || n->seeded[1])
		eng_notice(
			eng, DA_NOTICE_PARTIAL,
			"%s seeded at start (they existed before tracing began; exporter, size, inode and importers read by the seed): pins and mappings made before are unknown, so unbalanced unpins and unmaps and pinning-importer-missing-pin are not judged for them",
			entities(e, sizeof(e), n->seeded[0], n->seeded[1]));
	if (n->lost[0] || n->lost[1])
		eng_notice(eng, DA_NOTICE_PARTIAL, "%s alive when events were lost: %s",
			   entities(e, sizeof(e), n->lost[0], n->lost[1]), not_judged);
	if (n->evicted_seen[0] || n->evicted_seen[1])
		eng_notice(eng, DA_NOTICE_PARTIAL,
			   "%s seen again after eviction from a full table: %s",
			   entities(e, sizeof(e), n->evicted_seen[0], n->evicted_seen[1]),
			   not_judged);
}

/* what did not fit the engine's fixed tables */
static void table_notices(struct da_engine *eng, const struct enotes *n)
{
	char e[96];

	if (n->evicted[0] || n->evicted[1])
		eng_notice(
			eng, DA_NOTICE_EVICTED,
			"%s evicted because a table was full (buffers %u, attachments %u): raise --max-buffers / --max-attachments",
			entities(e, sizeof(e), n->evicted[0], n->evicted[1]), eng->nbufs,
			eng->natts);
	count_notice(
		eng, DA_NOTICE_EVICTED, n->maps_dropped,
		"mappings did not fit the mapping table (%u entries): their attachments are partial",
		eng->nmaps);
	count_notice(eng, DA_NOTICE_INPUT, n->pins_saturated,
		     "pins went beyond a pin count of 65535: those attachments are partial");
}

/* revokes whose fence wait was not judged */
static void fence_notices(struct da_engine *eng, const struct enotes *n)
{
	count_notice(
		eng, DA_NOTICE_LOST, n->fence_unjudged_loss,
		"revokes were not judged for a fence wait: events were lost while the wait was pending");
	count_notice(
		eng, DA_NOTICE_EVICTED, n->fence_unjudged_evicted,
		"revokes were not judged for a fence wait: their buffer was evicted from a full table");
	count_notice(
		eng, DA_NOTICE_INPUT, n->fence_in_open_scope,
		"revokes were inside revoke scopes still open at the end of the trace: their fence wait was not judged");
	count_notice(
		eng, DA_NOTICE_INPUT, n->fence_untracked,
		"revokes were not checked for a fence wait: more than %u revokes were pending at once",
		eng->npends);
	count_notice(
		eng, DA_NOTICE_LOST, n->access_unjudged,
		"verdicts about revoked buffers (access after revoke, pinned importers left revoked) were not made: events were lost since the revoke (an un-revoke or detach may have been missed)");
}

/* revoke scopes that could not be followed */
static void scope_notices(struct da_engine *eng, const struct enotes *n)
{
	count_notice(
		eng, DA_NOTICE_INPUT, n->scopes_untracked,
		"revoke scope entries were not tracked (more than %u tasks or %u nested scopes): invalidates inside them were not classified",
		eng->ntasks, DA_SCOPE_DEPTH);
	count_notice(
		eng, DA_NOTICE_INPUT, n->invalidates_unclassified,
		"invalidates by tasks inside untracked revoke scopes were not classified (no move/revoke verdicts on them)");
	count_notice(
		eng, DA_NOTICE_LOST, n->stalls_unjudged,
		"revoke scopes were open when events were lost (their exit may be in the gap): not judged for revoke-stalled");
	count_notice(
		eng, DA_NOTICE_INPUT, n->scope_exit_unmatched,
		"revoke scope exits had no matching entry (entered before tracing began, or the entry was lost)");
}

/* importers and names beyond what the engine interns */
static void interned_notices(struct da_engine *eng, const struct enotes *n)
{
	count_notice(
		eng, DA_NOTICE_INPUT, n->ops_full,
		"attachments have an unknown importer: more than %d distinct importer ops/callback pairs",
		DA_ENGINE_MAX_OPS - 1);
	count_notice(eng, DA_NOTICE_INPUT, n->names_full,
		     "exporter/device names were not kept: more than %d distinct names",
		     DA_ENGINE_MAX_NAMES - 1);
}

/* in a fixed order: a replay gives the notices of the live run in the same order */
void eng_final_notices(struct da_engine *eng)
{
	const struct enotes *n = &eng->notes;
	char e[96];

	partial_notices(eng, n);
	table_notices(eng, n);
	fence_notices(eng, n);
	if (n->replaced[0] || n->replaced[1])
		eng_notice(
			eng, DA_NOTICE_INPUT,
			"%s were replaced by a new export/attach at the same address without their release/detach being seen",
			entities(e, sizeof(e), n->replaced[0], n->replaced[1]));
	scope_notices(eng, n);
	interned_notices(eng, n);
}
