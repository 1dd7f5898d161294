// SPDX-License-Identifier: GPL-2.0
/* Event sequences for the engine tests; see trace_builder.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_builder.h"

static void on_finding(void *ctx, const struct da_finding *f)
{
	struct tb *tb = ctx;
	struct tb_finding *c;

	if (tb->nfind >= TB_MAX_FINDINGS) {
		tb->overflow = true;
		return;
	}
	c = &tb->find[tb->nfind++];
	memset(c, 0, sizeof(*c));
	c->rule = f->rule;
	c->severity = f->severity;
	c->seq = f->seq;
	c->ts = f->ts_ns;
	c->pid = f->pid;
	c->tid = f->tid;
	if (f->comm)
		snprintf(c->comm, sizeof(c->comm), "%s", f->comm);
	c->buf = f->buffer.ptr;
	c->ino = f->buffer.ino;
	c->size = f->buffer.size;
	c->buf_seeded = f->buffer.seeded;
	if (f->buffer.exporter)
		snprintf(c->exporter, sizeof(c->exporter), "%s", f->buffer.exporter);
	c->has_att = f->has_attachment;
	if (f->has_attachment) {
		c->att = f->attachment.ptr;
		c->att_known = f->attachment.known;
		c->att_seeded = f->attachment.seeded;
		if (f->attachment.dev)
			snprintf(c->dev, sizeof(c->dev), "%s", f->attachment.dev);
		if (f->attachment.importer_ops_sym)
			snprintf(c->importer_sym, sizeof(c->importer_sym), "%s",
				 f->attachment.importer_ops_sym);
		if (f->attachment.invalidate_cb_sym)
			snprintf(c->cb_sym, sizeof(c->cb_sym), "%s",
				 f->attachment.invalidate_cb_sym);
	}
	snprintf(c->message, sizeof(c->message), "%s", f->message ? f->message : "");
	c->has_trigger = f->trigger != NULL;
	c->n_history = f->n_history;
	c->history_truncated = f->history_truncated;
	for (unsigned int i = 0; i < f->n_history && i < TB_MAX_HISTORY; i++) {
		c->history_seq[i] = f->history[i]->seq;
		c->history_op[i] = f->history[i]->op;
	}
}

/* as the pipeline does: what the engine judged goes to the finding stage */
static void on_engine_finding(void *ctx, const struct da_finding *f)
{
	struct tb *tb = ctx;

	da_finding_stage_take(tb->stage, f);
}

static void on_notice(void *ctx, enum da_notice_kind kind, const char *message)
{
	struct tb *tb = ctx;

	if (tb->nnotice >= TB_MAX_NOTICES) {
		tb->overflow = true;
		return;
	}
	tb->notices[tb->nnotice].kind = kind;
	snprintf(tb->notices[tb->nnotice++].text, sizeof(tb->notices[0].text), "%s", message);
}

void tb_init(struct tb *tb)
{
	memset(tb, 0, sizeof(*tb));
	da_policy_init_default(&tb->pol);
	tb->syms = da_symbols_new();
	snprintf(tb->trace.kernel, sizeof(tb->trace.kernel), "test");
	snprintf(tb->trace.source, sizeof(tb->trace.source), "unit");
	tb->seq = 1;
	tb->ts = 1000000000ull;
	tb->cfg.policy = &tb->pol;
	tb->cfg.symbols = tb->syms;
	tb->cfg.trace = &tb->trace;
	tb->cfg.output.ctx = tb;
	tb->cfg.output.finding = on_engine_finding;
	tb->cfg.output.notice = on_notice;
}

bool tb_policy(struct tb *tb, const char *text)
{
	char path[] = "/tmp/tb-policy-XXXXXX", err[256];
	int fd = mkstemp(path);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	if (ok && da_policy_load(&tb->pol, path, err, sizeof(err))) {
		printf("# policy: %s\n", err);
		ok = false;
	}
	unlink(path);
	return ok;
}

bool tb_start(struct tb *tb)
{
	struct da_finding_stage_config stage = {
		.policy = &tb->pol, .cgroups = tb->cgroups, .ctx = tb, .report = on_finding,
	};

	tb->trace.quirks = tb->quirks;
	tb->stage = da_finding_stage_new(&stage);
	tb->eng = tb->stage ? da_engine_new(&tb->cfg) : NULL;
	return tb->eng != NULL;
}

void tb_summary(const struct tb *tb, struct da_summary *sum)
{
	da_engine_summary(tb->eng, sum);
	da_finding_stage_summary(tb->stage, sum);
}

int tb_max_severity(const struct tb *tb)
{
	return da_finding_stage_counts(tb->stage)->max_severity;
}

void tb_finish(struct tb *tb)
{
	da_engine_finish(tb->eng);
}

void tb_free(struct tb *tb)
{
	da_engine_free(tb->eng);
	da_finding_stage_free(tb->stage);
	da_symbols_free(tb->syms);
	tb->eng = NULL;
	tb->stage = NULL;
	tb->syms = NULL;
}

uint64_t tb_sym(struct tb *tb, const char *name)
{
	return name ? da_symbols_intern(tb->syms, name) : 0;
}

uint64_t tb_resv_of(struct tb *tb, uint64_t buf)
{
	for (unsigned int i = tb->nbufs; i-- > 0;)
		if (tb->buf_ptr[i] == buf)
			return tb->buf_resv[i];
	return buf + 0x100; /* the convention for buffers not exported in the test */
}

struct da_event tb_event(struct tb *tb, uint32_t tid, enum da_op op)
{
	struct da_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.op = op;
	ev.tid = tid;
	ev.pid = tb->pid ? tb->pid : tid;
	ev.cpu = tb->cpu;
	ev.cgroup_id = tb->cgroup;
	snprintf(ev.comm, sizeof(ev.comm), "task%u", tid);
	return ev;
}

void tb_feed(struct tb *tb, struct da_event *ev)
{
	ev->seq = tb->seq++;
	ev->ts_ns = tb->ts;
	tb->ts += 1000; /* 1 us per event */
	da_engine_feed(tb->eng, ev);
}

void tb_advance(struct tb *tb, uint64_t ns)
{
	tb->ts += ns;
}

void tb_lost(struct tb *tb, uint64_t count)
{
	da_engine_lost(tb->eng, tb->seq, count);
	tb->seq += count;
}

void tb_tick(struct tb *tb)
{
	da_engine_tick(tb->eng, tb->ts);
}

static struct da_event buf_event(struct tb *tb, uint32_t tid, enum da_op op, uint64_t buf)
{
	struct da_event ev = tb_event(tb, tid, op);

	ev.buf = buf;
	ev.resv = tb_resv_of(tb, buf);
	return ev;
}

void tb_export(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t resv, const char *exporter,
	       uint64_t ino)
{
	struct da_event ev = tb_event(tb, tid, DA_OP_EXPORT);

	if (tb->nbufs < TB_MAX_BUFS) {
		tb->buf_ptr[tb->nbufs] = buf;
		tb->buf_resv[tb->nbufs++] = resv;
	}
	ev.buf = buf;
	ev.resv = resv;
	ev.ino = ino;
	ev.size = 4096;
	snprintf(ev.name, sizeof(ev.name), "%s", exporter);
	tb_feed(tb, &ev);
}

/* the seed runs in the tool's own task */
#define TB_SEED_TID 999

void tb_seed_buffer(struct tb *tb, uint64_t buf, uint64_t resv, const char *exporter,
		    uint64_t ino, uint64_t size)
{
	struct da_event ev = tb_event(tb, TB_SEED_TID, DA_OP_SEED_BUFFER);

	if (tb->nbufs < TB_MAX_BUFS) {
		tb->buf_ptr[tb->nbufs] = buf;
		tb->buf_resv[tb->nbufs++] = resv;
	}
	ev.buf = buf;
	ev.resv = resv;
	ev.ino = ino;
	ev.size = size;
	snprintf(ev.name, sizeof(ev.name), "%s", exporter);
	tb_feed(tb, &ev);
}

void tb_seed_attachment(struct tb *tb, uint64_t buf, uint64_t att, const char *dev,
			const char *ops_sym, const char *cb_sym)
{
	struct da_event ev = tb_event(tb, TB_SEED_TID, DA_OP_SEED_ATTACHMENT);

	ev.buf = buf;
	ev.attach = att;
	ev.resv = tb_resv_of(tb, buf);
	if (ops_sym) {
		ev.importer_ops = tb_sym(tb, ops_sym);
		ev.flags |= DA_F_DYNAMIC;
	}
	if (cb_sym)
		ev.invalidate_cb = tb_sym(tb, cb_sym);
	snprintf(ev.name, sizeof(ev.name), "%s", dev);
	tb_feed(tb, &ev);
}

void tb_export_ret(struct tb *tb, uint32_t tid, uint64_t buf, int ret)
{
	struct da_event ev = tb_event(tb, tid, DA_OP_EXPORT);

	ev.buf = buf;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_release(struct tb *tb, uint32_t tid, uint64_t buf)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_RELEASE, buf);

	tb_feed(tb, &ev);
}

void tb_attach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, const char *dev,
	       const char *ops_sym, const char *cb_sym, int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_ATTACH, buf);

	ev.attach = att;
	ev.importer_ops = tb_sym(tb, ops_sym);
	ev.invalidate_cb = tb_sym(tb, cb_sym);
	if (ops_sym)
		ev.flags |= DA_F_DYNAMIC | DA_F_PEER2PEER;
	ev.ret = ret;
	snprintf(ev.name, sizeof(ev.name), "%s", dev);
	tb_feed(tb, &ev);
}

void tb_detach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_DETACH, buf);

	ev.attach = att;
	tb_feed(tb, &ev);
}

void tb_pin(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, enum da_resv_held held,
	    int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_PIN, buf);

	ev.attach = att;
	ev.resv_held = held;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_unpin(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, enum da_resv_held held)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_UNPIN, buf);

	ev.attach = att;
	ev.resv_held = held;
	tb_feed(tb, &ev);
}

void tb_map(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, uint64_t sgt, bool locked,
	    enum da_resv_held held, int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_MAP, buf);

	ev.attach = att;
	ev.sgt = ret ? 0 : sgt;
	ev.flags = locked ? DA_F_LOCKED : 0;
	ev.resv_held = held;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_phys_map(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_MAP, buf);

	ev.attach = att;
	ev.flags = DA_F_LOCKED | DA_F_PHYS;
	ev.resv_held = DA_RESV_HELD;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_phys_map_fn(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, unsigned int fn,
		    int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_MAP, buf);

	ev.attach = att;
	ev.flags = DA_F_LOCKED | DA_F_PHYS;
	ev.fn = (uint8_t)fn;
	ev.resv_held = DA_RESV_HELD;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_unmap(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, uint64_t sgt, bool locked,
	      enum da_resv_held held)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_UNMAP, buf);

	ev.attach = att;
	ev.sgt = sgt;
	ev.flags = locked ? DA_F_LOCKED : 0;
	ev.resv_held = held;
	tb_feed(tb, &ev);
}

void tb_vmap(struct tb *tb, uint32_t tid, uint64_t buf, bool locked, enum da_resv_held held,
	     int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_VMAP, buf);

	ev.flags = locked ? DA_F_LOCKED : 0;
	ev.resv_held = held;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_vunmap(struct tb *tb, uint32_t tid, uint64_t buf, bool locked, enum da_resv_held held)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_VUNMAP, buf);

	ev.flags = locked ? DA_F_LOCKED : 0;
	ev.resv_held = held;
	tb_feed(tb, &ev);
}

void tb_mmap(struct tb *tb, uint32_t tid, uint64_t buf, int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_MMAP, buf);

	ev.ret = ret;
	tb_feed(tb, &ev);
}

void tb_invalidate(struct tb *tb, uint32_t tid, uint64_t buf, enum da_resv_held held)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_INVALIDATE, buf);

	ev.resv_held = held;
	ev.fn = DA_FN_INVALIDATE_MAPPINGS;
	tb_feed(tb, &ev);
}

void tb_fence_wait(struct tb *tb, uint32_t tid, uint64_t resv, enum da_resv_usage usage, long ret)
{
	struct da_event ev = tb_event(tb, tid, DA_OP_FENCE_WAIT);

	ev.resv = resv;
	ev.usage = usage;
	ev.ret = ret;
	ev.timeout = ~0ull >> 1;
	tb_feed(tb, &ev);
}

void tb_revocable_check(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att, int ret)
{
	struct da_event ev = buf_event(tb, tid, DA_OP_REVOCABLE_CHECK, buf);

	ev.attach = att;
	ev.ret = ret;
	tb_feed(tb, &ev);
}

static void scope_event(struct tb *tb, uint32_t tid, enum da_op op, const char *fn, int revoked,
			uint64_t obj)
{
	struct da_event ev = tb_event(tb, tid, op);
	int slot = da_trace_scope_slot(&tb->trace, fn);

	ev.fn = slot < 0 ? 0 : (uint8_t)slot;
	ev.importer_ops = obj;
	if (revoked >= 0)
		ev.flags |= DA_F_HAS_REVOKED | (revoked ? DA_F_REVOKED : 0);
	tb_feed(tb, &ev);
}

void tb_scope_enter(struct tb *tb, uint32_t tid, const char *fn, int revoked, uint64_t obj)
{
	scope_event(tb, tid, DA_OP_SCOPE_ENTER, fn, revoked, obj);
}

void tb_scope_exit(struct tb *tb, uint32_t tid, const char *fn, int revoked)
{
	scope_event(tb, tid, DA_OP_SCOPE_EXIT, fn, revoked, 0);
}

void tb_resv_unlock(struct tb *tb, uint32_t tid, uint64_t resv)
{
	struct da_event ev = tb_event(tb, tid, DA_OP_RESV_UNLOCK);

	ev.resv = resv;
	tb_feed(tb, &ev);
}

/* ------------------------------------------------------------------------ */

void tb_dump(struct tb *tb)
{
	for (unsigned int i = 0; i < tb->nfind; i++) {
		const struct tb_finding *f = &tb->find[i];

		printf("#   finding %u: %s %s buf 0x%" PRIx64 " att 0x%" PRIx64 " seq %" PRIu64
		       ": %s\n",
		       i, da_rules[f->rule].name, da_severity_name(f->severity), f->buf, f->att,
		       f->seq, f->message);
	}
	for (unsigned int i = 0; i < tb->nnotice; i++)
		printf("#   notice %u (kind %d): %s\n", i, tb->notices[i].kind,
		       tb->notices[i].text);
}

bool tb_expect_exact(struct tb *tb, const struct tb_expect *exp, unsigned int n)
{
	bool used[TB_MAX_FINDINGS] = { false }, ok = true;

	if (tb->overflow) {
		printf("# more findings or notices than the test can hold\n");
		return false;
	}
	for (unsigned int i = 0; i < n; i++) {
		bool found = false;

		for (unsigned int j = 0; j < tb->nfind && !found; j++) {
			const struct tb_finding *f = &tb->find[j];

			if (used[j] || f->rule != exp[i].rule || f->buf != exp[i].buf ||
			    f->severity != exp[i].severity || f->has_att != (exp[i].att != 0) ||
			    (exp[i].att && f->att != exp[i].att))
				continue;
			used[j] = found = true;
		}
		if (!found) {
			printf("# missing: %s %s buf 0x%" PRIx64 " att 0x%" PRIx64 "\n",
			       da_rules[exp[i].rule].name, da_severity_name(exp[i].severity),
			       exp[i].buf, exp[i].att);
			ok = false;
		}
	}
	for (unsigned int j = 0; j < tb->nfind; j++) {
		if (!used[j]) {
			printf("# unexpected: %s %s buf 0x%" PRIx64 " att 0x%" PRIx64 ": %s\n",
			       da_rules[tb->find[j].rule].name,
			       da_severity_name(tb->find[j].severity), tb->find[j].buf,
			       tb->find[j].att, tb->find[j].message);
			ok = false;
		}
	}
	/* the summary must agree with what was reported */
	if (tb->eng) {
		struct da_summary sum;
		uint64_t total = 0;

		tb_summary(tb, &sum);
		for (int s = 0; s < DA_SEV__COUNT; s++)
			total += sum.findings[s];
		if (total != tb->nfind) {
			printf("# summary counts %" PRIu64 " findings, %u reported\n", total,
			       tb->nfind);
			ok = false;
		}
	}
	if (!ok)
		tb_dump(tb);
	return ok;
}

int tb_find(struct tb *tb, enum da_rule rule)
{
	for (unsigned int i = 0; i < tb->nfind; i++)
		if (tb->find[i].rule == rule)
			return (int)i;
	return -1;
}

bool tb_has_notice(struct tb *tb, enum da_notice_kind kind, const char *needle)
{
	for (unsigned int i = 0; i < tb->nnotice; i++)
		if (tb->notices[i].kind == kind && strstr(tb->notices[i].text, needle))
			return true;
	return false;
}

bool tb_begin(struct tb *tb)
{
	tb_init(tb);
	return tb_start(tb);
}

bool tb_end_expect_none(struct tb *tb)
{
	bool ok;

	tb_finish(tb);
	ok = TB_EXPECT_NONE(tb);
	tb_free(tb);
	return ok;
}

bool tb_end_expect_one(struct tb *tb, struct tb_expect e, const char *message_part)
{
	bool ok;

	tb_finish(tb);
	ok = tb_expect_exact(tb, &e, 1);
	if (ok && !strstr(tb->find[0].message, message_part)) {
		printf("# the finding's message lacks \"%s\": %s\n", message_part,
		       tb->find[0].message);
		ok = false;
	}
	tb_free(tb);
	return ok;
}

/* ------------------------------------------------------------------------ */

void tb_vfio_export(struct tb *tb, uint64_t buf, uint64_t resv)
{
	tb_export(tb, T1, buf, resv, "vfio_pci_core", buf >> 12 & 0xffff);
}

void tb_gpu_attach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att)
{
	tb_attach(tb, tid, buf, att, "0000:03:00.0", "amdgpu_dma_buf_attach_ops",
		  "amdgpu_dma_buf_move_notify", 0);
}

void tb_iommufd_attach(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att)
{
	tb_attach(tb, tid, buf, att, "iommu", "iopt_dmabuf_attach_revoke_ops", "iopt_revoke_notify",
		  0);
}

void tb_iommufd_import(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att)
{
	tb_revocable_check(tb, tid, buf, att, 1);
	tb_iommufd_attach(tb, tid, buf, att);
	tb_pin(tb, tid, buf, att, HELD, 0);
}

void tb_vfio_revoke_begin(struct tb *tb, uint64_t buf, int revoked)
{
	tb_scope_enter(tb, T1, MOVE, revoked, VDEV);
	tb_invalidate(tb, T1, buf, HELD);
}

void tb_vfio_revoke_end(struct tb *tb, int revoked)
{
	tb_scope_exit(tb, T1, MOVE, revoked);
}

void tb_vfio_revoke(struct tb *tb, uint64_t buf, uint64_t resv, int revoked)
{
	tb_vfio_revoke_begin(tb, buf, revoked);
	tb_fence_wait(tb, T1, resv, DA_USAGE_BOOKKEEP, 1);
	tb_resv_unlock(tb, T1, resv);
	tb_vfio_revoke_end(tb, revoked);
}

void tb_iommufd_test_export(struct tb *tb, uint64_t buf, uint64_t resv)
{
	tb_export(tb, T1, buf, resv, "iommufd", buf >> 12 & 0xffff);
}

void tb_iommufd_test_revoke(struct tb *tb, uint64_t buf, uint64_t resv, int revoked)
{
	tb_scope_enter(tb, T1, IOMMUFD_TEST_REVOKE, revoked, UCMD);
	tb_invalidate(tb, T1, buf, HELD);
	tb_resv_unlock(tb, T1, resv);
	tb_scope_exit(tb, T1, IOMMUFD_TEST_REVOKE, revoked);
}

void tb_detach_release(struct tb *tb, uint32_t tid, uint64_t buf, uint64_t att)
{
	tb_detach(tb, tid, buf, att);
	tb_release(tb, tid, buf);
}
