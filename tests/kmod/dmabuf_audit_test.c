// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf_audit_test: a test module for dmabuf-audit, in the spirit of the
 * kernel's bpf_testmod.  It drives the REAL dma-buf core (dma_buf_export,
 * dma_buf_attach / dma_buf_dynamic_attach, dma_buf_pin, dma_buf_map_attachment,
 * dma_buf_move_notify / dma_buf_invalidate_mappings, dma_resv_wait_timeout...)
 * with small exporters and importers of its own, and injects exactly one
 * breach of the revoke contract per scenario (plus correct flows that must
 * produce no finding at all).
 *
 * A scenario is started from userspace by writing its name to
 * /sys/kernel/debug/dmabuf_audit_test/run (tests/vm/dat-trigger.c does it);
 * the write runs the scenario to completion in the writer's context and
 * returns an error when the scenario could not do what it is meant to do
 * (e.g. a fence wait that was supposed to really wait did not).  The list of
 * scenarios is in .../list.  Each scenario releases everything it created,
 * so scenarios do not bleed into each other.
 *
 * Exporters (exp_name says which; tests/vm/policy names them):
 *   dat_revoker  revoking exporter modelled on VFIO PCI 7.1+: pin/unpin ops
 *                (dynamic), refuses non-revocable importers (7.1+ through
 *                dma_buf_attach_revocable(), before through its own check),
 *                map fails with -ENODEV once revoked; revoke = take the resv
 *                lock, mark revoked, invalidate, wait for the fences with
 *                BOOKKEEP, unlock, wait for the importers to unmap.  Revoke and
 *                un-revoke run inside the scope functions dat_exporter_revoke()
 *                and dat_exporter_cleanup().
 *   dat_lenient  the same revoke path, but accepts any importer: used to show
 *                revokes reaching importers that cannot handle them without
 *                the exporter also being blamed for accepting them.
 *   dat_mover    dynamic exporter that only moves (GPU-like), never revokes.
 *   dat_plain    static exporter (no pin op).
 *
 * Importers (the attachment's device names them in findings):
 *   dat-dynamic  dynamic, its invalidate callback drops the mapping; maps
 *                again when it needs the buffer; adds a BOOKKEEP fence per map.
 *   dat-pinned   iommufd-like pinning importer (dat_pinned_importer_ops):
 *                dynamic attach, dma_buf_pin under the resv lock, map, fence;
 *                callback unmaps and never maps again (stays pinned).
 *   dat-static   dma_buf_attach, the _unlocked map/unmap.
 *   dat-stub     dynamic, callback that does nothing (like RDMA's
 *                ib_umem_dmabuf_unsupported_move_notify before 7.1).
 *   dat-slow     dynamic, callback defers the unmap by 1.8 s (stalls a revoke).
 *
 * Kernel differences are handled here with LINUX_VERSION_CODE: the callback
 * and notifier were renamed in 7.1 (move_notify -> invalidate_mappings,
 * dma_buf_move_notify -> dma_buf_invalidate_mappings), 7.1 added
 * dma_buf_attach_revocable(), the DMA_BUF namespace became a string in 6.13.
 * Debian's 6.x kernels build without CONFIG_DMABUF_MOVE_NOTIFY: the core then
 * pins a dynamic exporter itself on every map by a dynamic importer (calling
 * the exporter's pin op directly) and unpins through dma_buf_unpin() on unmap.
 *
 * use-after-release is deliberately not injected: naming a detached
 * attachment or a released dma_buf means passing freed memory to the core,
 * which corrupts or crashes the guest and would poison every later scenario.
 * The rule is covered by the engine's unit tests and the replay traces.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/iosys-map.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define DAT_CALLBACK invalidate_mappings
#define dat_invalidate(dmabuf) dma_buf_invalidate_mappings(dmabuf)
#else
#define DAT_CALLBACK move_notify
#define dat_invalidate(dmabuf) dma_buf_move_notify(dmabuf)
#endif

/*
 * Revoke scopes are named in the test policy and hooked by dmabuf-audit:
 * they must stay real, out-of-line functions with their own symbol and
 * their original argument order (no constprop/isra clones).
 */
#define DAT_SCOPE noinline __attribute__((__noipa__))

struct dat_exporter;
void dat_exporter_revoke(struct dat_exporter *exp, bool revoked);
void dat_exporter_cleanup(struct dat_exporter *exp);

/* how long things take, in milliseconds */
#define DAT_FENCE_MS 400 /* importer "DMA" in flight after a map */
#define DAT_LATE_FENCE_MS 800 /* a fence the exporter must not outlive */
#define DAT_WAIT_MS 5000 /* bound of a "complete" fence wait (VFIO: none) */
#define DAT_SHORT_WAIT_MS 20 /* the fence-wait-incomplete exporter */
#define DAT_DRAIN_MS 250 /* wait for importers to unmap, default */
#define DAT_SLOW_UNMAP_MS 1800 /* dat-slow unmaps this long after the invalidate */
#define DAT_STALL_DRAIN_MS 5000 /* drain bound of the stalled revoke */

#define DAT_MAX_FENCES 8

enum dat_wait_mode {
	DAT_WAIT_BOOKKEEP = 0, /* correct: every fence, until done */
	DAT_WAIT_NONE, /* bug: VFIO before 7.1 */
	DAT_WAIT_KERNEL, /* bug: the series' v3 waited with KERNEL usage */
	DAT_WAIT_SHORT, /* bug: gives up after DAT_SHORT_WAIT_MS */
};

struct dat_exporter {
	struct dma_buf *dmabuf;
	const char *name;
	bool revoking; /* map fails once revoked */
	bool checks_importers; /* attach refuses non-revocable importers */
	bool revoked; /* written under the resv lock */
	/* injected bugs */
	bool bug_map_after_revoke;
	bool bug_accept_nonrevocable;
	enum dat_wait_mode wait;
	unsigned int drain_ms;
	long last_wait_ret; /* what the revoke's fence wait returned */
	unsigned long scope_ms; /* how long the last revoke scope took */
	int pins; /* the exporter's own pin count (resv lock) */
	atomic_t live_maps;
	wait_queue_head_t drain_wq;
	struct mutex maps_lock;
	struct list_head maps; /* struct dat_map */
	struct page *page;
};

struct dat_map {
	struct list_head node;
	struct dma_buf_attachment *attach;
	struct sg_table sgt;
};

struct dat_fence {
	struct dma_fence base; /* first: dma_fence_free() kfree_rcu()s it */
	spinlock_t lock;
	struct delayed_work signal_work;
};

enum dat_importer_kind {
	DAT_IMP_DYNAMIC = 0,
	DAT_IMP_PINNED,
	DAT_IMP_STATIC,
	DAT_IMP_STUB,
	DAT_IMP_SLOW,
	DAT_IMP__COUNT,
};

struct dat_scn;

struct dat_importer {
	struct dat_scn *scn;
	struct dat_exporter *exp;
	enum dat_importer_kind kind;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt; /* live mapping, NULL when none */
	bool revoked; /* dat-pinned: got an invalidate, will not map again */
	unsigned int invalidations;
	struct delayed_work unmap_work; /* dat-slow */
};

/* one scenario run */
struct dat_scn {
	const char *name;
	int status; /* first failure of the scenario itself */
	unsigned int nfences;
	struct dat_fence *fences[DAT_MAX_FENCES];
};

static struct platform_device *dat_devs[DAT_IMP__COUNT];
static const char *const dat_dev_names[DAT_IMP__COUNT] = {
	[DAT_IMP_DYNAMIC] = "dat-dynamic", [DAT_IMP_PINNED] = "dat-pinned",
	[DAT_IMP_STATIC] = "dat-static",   [DAT_IMP_STUB] = "dat-stub",
	[DAT_IMP_SLOW] = "dat-slow",
};

static u64 dat_fence_context;
static atomic64_t dat_fence_seqno = ATOMIC64_INIT(0);
static DEFINE_MUTEX(dat_run_lock);
static struct dentry *dat_dir;

#define dat_fail(s, fmt, ...)                                      \
	do {                                                       \
		pr_err("%s: " fmt "\n", (s)->name, ##__VA_ARGS__); \
		if (!(s)->status)                                  \
			(s)->status = -EPROTO;                     \
	} while (0)

/* ------------------------------------------------------------------ fences */

static const char *dat_fence_driver_name(struct dma_fence *f)
{
	return "dmabuf_audit_test";
}

static const char *dat_fence_timeline_name(struct dma_fence *f)
{
	return "dat-dma";
}

static const struct dma_fence_ops dat_fence_ops = {
	.get_driver_name = dat_fence_driver_name,
	.get_timeline_name = dat_fence_timeline_name,
};

static void dat_fence_signal_work(struct work_struct *work)
{
	struct dat_fence *f = container_of(to_delayed_work(work), struct dat_fence, signal_work);

	dma_fence_signal(&f->base);
}

/*
 * The importer's "DMA" on the buffer: a fence in the reservation object that
 * signals ms later.  Called with the resv lock held.  The scenario keeps a
 * reference and waits for the signal before it ends.
 */
static struct dat_fence *dat_start_dma(struct dat_scn *s, struct dma_resv *resv,
				       enum dma_resv_usage usage, unsigned int ms)
{
	struct dat_fence *f;
	int ret;

	if (s->nfences == DAT_MAX_FENCES) {
		dat_fail(s, "too many fences");
		return NULL;
	}
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f) {
		dat_fail(s, "no memory for a fence");
		return NULL;
	}
	spin_lock_init(&f->lock);
	INIT_DELAYED_WORK(&f->signal_work, dat_fence_signal_work);
	dma_fence_init(&f->base, &dat_fence_ops, &f->lock, dat_fence_context,
		       atomic64_inc_return(&dat_fence_seqno));
	ret = dma_resv_reserve_fences(resv, 1);
	if (ret) {
		dat_fail(s, "dma_resv_reserve_fences: %d", ret);
		dma_fence_put(&f->base);
		return NULL;
	}
	dma_resv_add_fence(resv, &f->base, usage);
	s->fences[s->nfences++] = f;
	schedule_delayed_work(&f->signal_work, msecs_to_jiffies(ms));
	return f;
}

static void dat_finish_fences(struct dat_scn *s)
{
	unsigned int i;

	for (i = 0; i < s->nfences; i++) {
		flush_delayed_work(&s->fences[i]->signal_work);
		dma_fence_put(&s->fences[i]->base);
	}
	s->nfences = 0;
}

/* -------------------------------------------------------------- exporters */

static bool dat_attach_revocable(struct dma_buf_attachment *attach)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
	return dma_buf_attach_revocable(attach);
#else
	/* what 7.1's dma_buf_attach_revocable() checks: a dynamic importer */
	return attach->importer_ops && attach->importer_ops->move_notify;
#endif
}

static int dat_exp_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct dat_exporter *exp = dmabuf->priv;
	bool revocable;

	if (!exp->checks_importers)
		return 0;
	if (READ_ONCE(exp->revoked))
		return -ENODEV;
	revocable = dat_attach_revocable(attach);
	if (!revocable && !exp->bug_accept_nonrevocable)
		return -EOPNOTSUPP;
	return 0;
}

static void dat_exp_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct dat_exporter *exp = dmabuf->priv;
	struct dat_map *m, *tmp;

	/* mappings the importer leaked: the exporter frees them */
	mutex_lock(&exp->maps_lock);
	list_for_each_entry_safe (m, tmp, &exp->maps, node) {
		if (m->attach != attach)
			continue;
		pr_info("%s: detach of %s with a live mapping: freeing it\n", exp->name,
			dev_name(attach->dev));
		list_del(&m->node);
		sg_free_table(&m->sgt);
		kfree(m);
		atomic_dec(&exp->live_maps);
	}
	mutex_unlock(&exp->maps_lock);
	wake_up_all(&exp->drain_wq);
}

static int dat_exp_pin(struct dma_buf_attachment *attach)
{
	struct dat_exporter *exp = attach->dmabuf->priv;

	exp->pins++;
	return 0;
}

static void dat_exp_unpin(struct dma_buf_attachment *attach)
{
	struct dat_exporter *exp = attach->dmabuf->priv;

	if (!exp->pins) {
		pr_info("%s: unpin with no pin outstanding: ignored\n", exp->name);
		return;
	}
	exp->pins--;
}

static struct sg_table *dat_exp_map(struct dma_buf_attachment *attach, enum dma_data_direction dir)
{
	struct dat_exporter *exp = attach->dmabuf->priv;
	struct dat_map *m;
	int ret;

	if (exp->revoking && exp->revoked && !exp->bug_map_after_revoke)
		return ERR_PTR(-ENODEV);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(&m->sgt, 1, GFP_KERNEL);
	if (ret) {
		kfree(m);
		return ERR_PTR(ret);
	}
	/* no device DMA happens: the sg_table only has to be well formed */
	sg_set_page(m->sgt.sgl, exp->page, PAGE_SIZE, 0);
	m->attach = attach;
	mutex_lock(&exp->maps_lock);
	list_add(&m->node, &exp->maps);
	mutex_unlock(&exp->maps_lock);
	atomic_inc(&exp->live_maps);
	return &m->sgt;
}

static void dat_exp_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
			  enum dma_data_direction dir)
{
	struct dat_exporter *exp = attach->dmabuf->priv;
	struct dat_map *m, *found = NULL;

	mutex_lock(&exp->maps_lock);
	list_for_each_entry (m, &exp->maps, node) {
		if (&m->sgt == sgt) {
			found = m;
			break;
		}
	}
	if (found && found->attach != attach) {
		/* tolerated so the unbalanced-unmap scenario cannot crash */
		pr_info("%s: %s unmapped an sg_table of %s: ignored\n", exp->name,
			dev_name(attach->dev), dev_name(found->attach->dev));
		found = NULL;
	} else if (found) {
		list_del(&found->node);
	} else {
		pr_info("%s: unmap of an unknown sg_table: ignored\n", exp->name);
	}
	mutex_unlock(&exp->maps_lock);
	if (!found)
		return;
	sg_free_table(&found->sgt);
	kfree(found);
	if (atomic_dec_and_test(&exp->live_maps))
		wake_up_all(&exp->drain_wq);
}

static void dat_exp_release(struct dma_buf *dmabuf)
{
	struct dat_exporter *exp = dmabuf->priv;
	struct dat_map *m, *tmp;

	list_for_each_entry_safe (m, tmp, &exp->maps, node) {
		list_del(&m->node);
		sg_free_table(&m->sgt);
		kfree(m);
	}
	__free_page(exp->page);
	kfree(exp);
}

/* CPU access to the backing page; refused once revoked, like map */
static int dat_exp_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct dat_exporter *exp = dmabuf->priv;

	if (exp->revoking && exp->revoked && !exp->bug_map_after_revoke)
		return -ENODEV;
	iosys_map_set_vaddr(map, page_address(exp->page));
	return 0;
}

static void dat_exp_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
}

static const struct dma_buf_ops dat_dynamic_exporter_ops = {
	.attach = dat_exp_attach,
	.detach = dat_exp_detach,
	.pin = dat_exp_pin,
	.unpin = dat_exp_unpin,
	.map_dma_buf = dat_exp_map,
	.unmap_dma_buf = dat_exp_unmap,
	.vmap = dat_exp_vmap,
	.vunmap = dat_exp_vunmap,
	.release = dat_exp_release,
};

static const struct dma_buf_ops dat_static_exporter_ops = {
	.attach = dat_exp_attach,
	.detach = dat_exp_detach,
	.map_dma_buf = dat_exp_map,
	.unmap_dma_buf = dat_exp_unmap,
	.vmap = dat_exp_vmap,
	.vunmap = dat_exp_vunmap,
	.release = dat_exp_release,
};

/* exp_name values: the test policy (tests/vm/policy) names dat_revoker */
#define DAT_REVOKER "dat_revoker"
#define DAT_LENIENT "dat_lenient"
#define DAT_MOVER "dat_mover"
#define DAT_PLAIN "dat_plain"

static struct dat_exporter *dat_exporter_new(struct dat_scn *s, const char *name)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dat_exporter *exp;
	struct dma_buf *dmabuf;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		goto nomem;
	exp->page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!exp->page) {
		kfree(exp);
		goto nomem;
	}
	exp->name = name;
	exp->revoking = !strcmp(name, DAT_REVOKER) || !strcmp(name, DAT_LENIENT);
	/* the lenient exporter refuses no importer: that is its point */
	exp->checks_importers = !strcmp(name, DAT_REVOKER);
	exp->drain_ms = DAT_DRAIN_MS;
	atomic_set(&exp->live_maps, 0);
	init_waitqueue_head(&exp->drain_wq);
	mutex_init(&exp->maps_lock);
	INIT_LIST_HEAD(&exp->maps);

	exp_info.exp_name = name;
	exp_info.ops =
		strcmp(name, DAT_PLAIN) ? &dat_dynamic_exporter_ops : &dat_static_exporter_ops;
	exp_info.size = PAGE_SIZE;
	exp_info.flags = O_RDWR;
	exp_info.priv = exp;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		dat_fail(s, "dma_buf_export(%s): %ld", name, PTR_ERR(dmabuf));
		__free_page(exp->page);
		kfree(exp);
		return NULL;
	}
	exp->dmabuf = dmabuf;
	return exp;
nomem:
	dat_fail(s, "no memory for exporter %s", name);
	return NULL;
}

/* Drop the exporter's reference; the dma_buf release op frees *exp. */
static void dat_exporter_put(struct dat_exporter *exp)
{
	if (exp)
		dma_buf_put(exp->dmabuf);
}

static long dat_exporter_wait(struct dat_exporter *exp)
{
	struct dma_resv *resv = exp->dmabuf->resv;

	switch (exp->wait) {
	case DAT_WAIT_BOOKKEEP:
		return dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false,
					     msecs_to_jiffies(DAT_WAIT_MS));
	case DAT_WAIT_KERNEL:
		return dma_resv_wait_timeout(resv, DMA_RESV_USAGE_KERNEL, false,
					     msecs_to_jiffies(DAT_WAIT_MS));
	case DAT_WAIT_SHORT:
		return dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false,
					     msecs_to_jiffies(DAT_SHORT_WAIT_MS));
	case DAT_WAIT_NONE:
	default:
		return 1;
	}
}

/*
 * Revoke (revoked = true) or un-revoke (false) the exporter's buffer, the
 * way vfio_pci_dma_buf_move() does in 7.3: under the resv lock mark it
 * revoked, invalidate every mapping, wait for the fences; unlock; then wait
 * for the importers to unmap (VFIO waits without bound; bounded here so a
 * broken importer cannot hang the guest).  Idempotent like VFIO's.
 * A revoke scope of the test policy: `revoke-scope dat_exporter_revoke
 * revoked-arg 1`.
 */
DAT_SCOPE void dat_exporter_revoke(struct dat_exporter *exp, bool revoked)
{
	struct dma_resv *resv = exp->dmabuf->resv;
	unsigned long start = jiffies;

	if (READ_ONCE(exp->revoked) == revoked)
		return;
	dma_resv_lock(resv, NULL);
	if (revoked)
		exp->revoked = true;
	dat_invalidate(exp->dmabuf);
	exp->last_wait_ret = dat_exporter_wait(exp);
	dma_resv_unlock(resv);
	if (revoked) {
		wait_event_timeout(exp->drain_wq, atomic_read(&exp->live_maps) == 0,
				   msecs_to_jiffies(exp->drain_ms));
	} else {
		dma_resv_lock(resv, NULL);
		exp->revoked = false;
		dma_resv_unlock(resv);
	}
	exp->scope_ms = jiffies_to_msecs(jiffies - start);
}

/*
 * Teardown of the exporter's side, like vfio_pci_dma_buf_cleanup() in 7.3:
 * delegates to the revoke.  A revoke scope without a revoked argument:
 * `revoke-scope dat_exporter_cleanup`.
 */
DAT_SCOPE void dat_exporter_cleanup(struct dat_exporter *exp)
{
	dat_exporter_revoke(exp, true);
}

/* ---------------------------------------------------------------- importers */

static void dat_dynamic_invalidate(struct dma_buf_attachment *attach)
{
	struct dat_importer *imp = attach->importer_priv;

	/* the exporter holds the resv lock: unmap with the locked variant */
	imp->invalidations++;
	if (imp->sgt) {
		dma_buf_unmap_attachment(attach, imp->sgt, DMA_BIDIRECTIONAL);
		imp->sgt = NULL;
	}
}

static void dat_pinned_invalidate(struct dma_buf_attachment *attach)
{
	struct dat_importer *imp = attach->importer_priv;

	/* like iopt_revoke_notify(): unmap, remember, stay pinned */
	dat_dynamic_invalidate(attach);
	imp->revoked = true;
}

static void dat_slow_invalidate(struct dma_buf_attachment *attach)
{
	struct dat_importer *imp = attach->importer_priv;

	imp->invalidations++;
	schedule_delayed_work(&imp->unmap_work, msecs_to_jiffies(DAT_SLOW_UNMAP_MS));
}

/* Does nothing, like RDMA's ib_umem_dmabuf_unsupported_move_notify(). */
static void dat_stub_invalidate(struct dma_buf_attachment *attach)
{
	struct dat_importer *imp = attach->importer_priv;

	imp->invalidations++;
}

/* The test policy names these symbols (pinning-importer, stub-callback). */
const struct dma_buf_attach_ops dat_dynamic_importer_ops = {
	.allow_peer2peer = true,
	.DAT_CALLBACK = dat_dynamic_invalidate,
};

const struct dma_buf_attach_ops dat_pinned_importer_ops = {
	.allow_peer2peer = true,
	.DAT_CALLBACK = dat_pinned_invalidate,
};

const struct dma_buf_attach_ops dat_slow_importer_ops = {
	.allow_peer2peer = true,
	.DAT_CALLBACK = dat_slow_invalidate,
};

const struct dma_buf_attach_ops dat_stub_importer_ops = {
	.allow_peer2peer = true,
	.DAT_CALLBACK = dat_stub_invalidate,
};

static void dat_slow_unmap_work(struct work_struct *work)
{
	struct dat_importer *imp =
		container_of(to_delayed_work(work), struct dat_importer, unmap_work);
	struct dma_resv *resv = imp->attach->dmabuf->resv;

	dma_resv_lock(resv, NULL);
	if (imp->sgt) {
		dma_buf_unmap_attachment(imp->attach, imp->sgt, DMA_BIDIRECTIONAL);
		imp->sgt = NULL;
	}
	dma_resv_unlock(resv);
}

/* Attach; on failure returns the error and no importer. */
static struct dat_importer *dat_importer_attach(struct dat_scn *s, struct dat_exporter *exp,
						enum dat_importer_kind kind,
						const struct dma_buf_attach_ops *ops, int *err)
{
	struct device *dev = &dat_devs[kind]->dev;
	struct dma_buf_attachment *attach;
	struct dat_importer *imp;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp) {
		*err = -ENOMEM;
		return NULL;
	}
	imp->scn = s;
	imp->exp = exp;
	imp->kind = kind;
	INIT_DELAYED_WORK(&imp->unmap_work, dat_slow_unmap_work);
	if (kind == DAT_IMP_STATIC)
		attach = dma_buf_attach(exp->dmabuf, dev);
	else
		attach = dma_buf_dynamic_attach(exp->dmabuf, dev, ops, imp);
	if (IS_ERR(attach)) {
		*err = PTR_ERR(attach);
		kfree(imp);
		return NULL;
	}
	imp->attach = attach;
	*err = 0;
	return imp;
}

static const struct dma_buf_attach_ops *dat_default_ops(enum dat_importer_kind kind)
{
	switch (kind) {
	case DAT_IMP_PINNED:
		return &dat_pinned_importer_ops;
	case DAT_IMP_STUB:
		return &dat_stub_importer_ops;
	case DAT_IMP_SLOW:
		return &dat_slow_importer_ops;
	case DAT_IMP_STATIC:
		return NULL;
	case DAT_IMP_DYNAMIC:
	default:
		return &dat_dynamic_importer_ops;
	}
}

/* attach that must succeed */
static struct dat_importer *dat_import(struct dat_scn *s, struct dat_exporter *exp,
				       enum dat_importer_kind kind)
{
	struct dat_importer *imp;
	int err;

	if (!exp)
		return NULL;
	imp = dat_importer_attach(s, exp, kind, dat_default_ops(kind), &err);
	if (!imp)
		dat_fail(s, "%s: attach to %s failed: %d", dat_dev_names[kind], exp->name, err);
	return imp;
}

static int dat_pin(struct dat_importer *imp)
{
	struct dma_resv *resv = imp->attach->dmabuf->resv;
	int ret;

	dma_resv_lock(resv, NULL);
	ret = dma_buf_pin(imp->attach);
	dma_resv_unlock(resv);
	return ret;
}

static void dat_unpin(struct dat_importer *imp)
{
	struct dma_resv *resv = imp->attach->dmabuf->resv;

	dma_resv_lock(resv, NULL);
	dma_buf_unpin(imp->attach);
	dma_resv_unlock(resv);
}

/*
 * Map the buffer for the importer's device; dynamic importers then start
 * "DMA": a fence of `usage` that signals fence_ms later (0: no fence).
 * Returns 0 or the map's error.
 */
static int dat_map(struct dat_importer *imp, enum dma_resv_usage usage, unsigned int fence_ms)
{
	struct dma_resv *resv = imp->attach->dmabuf->resv;
	struct sg_table *sgt;

	if (imp->kind == DAT_IMP_STATIC) {
		sgt = dma_buf_map_attachment_unlocked(imp->attach, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		imp->sgt = sgt;
		return 0;
	}
	dma_resv_lock(resv, NULL);
	sgt = dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		dma_resv_unlock(resv);
		return PTR_ERR(sgt);
	}
	imp->sgt = sgt;
	if (fence_ms)
		dat_start_dma(imp->scn, resv, usage, fence_ms);
	dma_resv_unlock(resv);
	return 0;
}

static void dat_must_map(struct dat_scn *s, struct dat_importer *imp, unsigned int fence_ms)
{
	int ret;

	if (!imp)
		return;
	ret = dat_map(imp, DMA_RESV_USAGE_BOOKKEEP, fence_ms);
	if (ret)
		dat_fail(s, "%s: map failed: %d", dat_dev_names[imp->kind], ret);
}

static void dat_unmap_sgt(struct dat_importer *imp, struct sg_table *sgt)
{
	struct dma_resv *resv = imp->attach->dmabuf->resv;

	if (imp->kind == DAT_IMP_STATIC) {
		dma_buf_unmap_attachment_unlocked(imp->attach, sgt, DMA_BIDIRECTIONAL);
		return;
	}
	dma_resv_lock(resv, NULL);
	dma_buf_unmap_attachment(imp->attach, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(resv);
}

static void dat_unmap(struct dat_importer *imp)
{
	if (!imp || !imp->sgt)
		return;
	dat_unmap_sgt(imp, imp->sgt);
	imp->sgt = NULL;
}

static void dat_detach(struct dat_importer *imp)
{
	if (!imp)
		return;
	cancel_delayed_work_sync(&imp->unmap_work);
	dma_buf_detach(imp->attach->dmabuf, imp->attach);
	kfree(imp);
}

/* unmap, unpin when pinned, detach: the importer's correct teardown */
static void dat_release_importer(struct dat_importer *imp, bool pinned)
{
	if (!imp)
		return;
	dat_unmap(imp);
	if (pinned)
		dat_unpin(imp);
	dat_detach(imp);
}

/* the pinning importer's import: attach, pin, map (iopt_map_dmabuf in 7.1+) */
static struct dat_importer *dat_import_pinned(struct dat_scn *s, struct dat_exporter *exp)
{
	struct dat_importer *imp = dat_import(s, exp, DAT_IMP_PINNED);
	int ret;

	if (!imp)
		return NULL;
	ret = dat_pin(imp);
	if (ret) {
		dat_fail(s, "dat-pinned: dma_buf_pin: %d", ret);
		dat_detach(imp);
		return NULL;
	}
	if (dat_map(imp, DMA_RESV_USAGE_WRITE, DAT_FENCE_MS)) {
		dat_fail(s, "dat-pinned: map failed");
		dat_unpin(imp);
		dat_detach(imp);
		return NULL;
	}
	return imp;
}

static bool dat_fence_signaled(struct dat_scn *s, unsigned int i)
{
	return i < s->nfences && dma_fence_is_signaled(&s->fences[i]->base);
}

/* ---------------------------------------------------------------- scenarios */

/* access-after-revoke: the exporter forgot to refuse maps once revoked */
static void scn_access_after_revoke(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;
	int ret;

	if (!exp)
		return;
	exp->bug_map_after_revoke = true;
	imp = dat_import(s, exp, DAT_IMP_DYNAMIC);
	dat_must_map(s, imp, DAT_FENCE_MS);
	dat_exporter_revoke(exp, true);
	if (imp) {
		ret = dat_map(imp, DMA_RESV_USAGE_BOOKKEEP, 0);
		if (ret)
			dat_fail(s, "the buggy exporter refused the map: %d", ret);
	}
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/* access-attempt-after-revoke: the importer maps again after a revoke */
static void scn_access_attempt_after_revoke(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;
	int ret;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_DYNAMIC);
	dat_must_map(s, imp, DAT_FENCE_MS);
	dat_exporter_revoke(exp, true);
	if (imp) {
		ret = dat_map(imp, DMA_RESV_USAGE_BOOKKEEP, 0);
		if (ret != -ENODEV)
			dat_fail(s, "map after revoke returned %d, expected -ENODEV", ret);
	}
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/*
 * A revoke by an exporter with wait mode `wait`; the importer's fence is
 * still pending when the scope ends unless the exporter really waited.
 */
static void dat_revoke_with_wait(struct dat_scn *s, enum dat_wait_mode wait)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	exp->wait = wait;
	imp = dat_import(s, exp, DAT_IMP_DYNAMIC);
	dat_must_map(s, imp, DAT_LATE_FENCE_MS);
	dat_exporter_revoke(exp, true);
	/* the race is real: the importer's DMA was still in flight */
	if (s->nfences && dat_fence_signaled(s, 0))
		dat_fail(s, "the fence had signaled before the revoke ended (guest too slow?)");
	if (wait == DAT_WAIT_SHORT && exp->last_wait_ret != 0)
		dat_fail(s, "the short wait returned %ld, expected 0 (timed out)",
			 exp->last_wait_ret);
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

static void scn_missing_fence_wait(struct dat_scn *s)
{
	dat_revoke_with_wait(s, DAT_WAIT_NONE);
}

static void scn_weak_fence_wait(struct dat_scn *s)
{
	dat_revoke_with_wait(s, DAT_WAIT_KERNEL);
}

static void scn_fence_wait_incomplete(struct dat_scn *s)
{
	dat_revoke_with_wait(s, DAT_WAIT_SHORT);
}

/* revoke-unhandled-importer: the revoke reaches an importer of `kind` */
static void dat_revoke_reaching(struct dat_scn *s, enum dat_importer_kind kind)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_LENIENT);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, kind);
	dat_must_map(s, imp, kind == DAT_IMP_STATIC ? 0 : DAT_FENCE_MS);
	dat_exporter_revoke(exp, true);
	if (imp && !imp->sgt)
		dat_fail(s, "the importer dropped its mapping: the bug did not happen");
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

static void scn_revoke_static_importer(struct dat_scn *s)
{
	dat_revoke_reaching(s, DAT_IMP_STATIC);
}

static void scn_revoke_stub_importer(struct dat_scn *s)
{
	dat_revoke_reaching(s, DAT_IMP_STUB);
}

/* non-revocable-importer-accepted: the revoking exporter skips its check */
static void scn_non_revocable_accepted(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	exp->bug_accept_nonrevocable = true;
	imp = dat_import(s, exp, DAT_IMP_STATIC);
	dat_detach(imp);
	dat_exporter_put(exp);
}

/* correct exporter: the same static importer is refused */
static void scn_ok_refuse_nonrevocable(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;
	int err;

	if (!exp)
		return;
	imp = dat_importer_attach(s, exp, DAT_IMP_STATIC, NULL, &err);
	if (imp) {
		dat_fail(s, "the revoking exporter accepted a static importer");
		dat_detach(imp);
	} else if (err != -EOPNOTSUPP) {
		dat_fail(s, "attach returned %d, expected -EOPNOTSUPP", err);
	}
	dat_exporter_put(exp);
}

/* pinning-importer-missing-pin: iommufd before the "Add dma_buf_pin()" patch */
static void scn_pinning_importer_missing_pin(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_PINNED);
	if (imp && dat_map(imp, DMA_RESV_USAGE_WRITE, DAT_FENCE_MS))
		dat_fail(s, "map failed");
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/* pin-leak: detach while still pinned ("Don't we need an explicit unpin?") */
static void scn_pin_leak(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_PINNED);
	if (imp && dat_pin(imp))
		dat_fail(s, "dma_buf_pin failed");
	dat_detach(imp);
	dat_exporter_put(exp);
}

/* unbalanced-unpin: one unpin too many (the exporter's op tolerates it) */
static void scn_unbalanced_unpin(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_PINNED);
	if (imp) {
		if (dat_pin(imp))
			dat_fail(s, "dma_buf_pin failed");
		dat_unpin(imp);
		dat_unpin(imp);
	}
	dat_detach(imp);
	dat_exporter_put(exp);
}

/* mapping-leak: detach with a live mapping (the exporter frees it) */
static void scn_mapping_leak(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_PLAIN);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_STATIC);
	dat_must_map(s, imp, 0);
	dat_detach(imp);
	dat_exporter_put(exp);
}

/* unbalanced-unmap: an importer unmaps the sg_table of another attachment */
static void scn_unbalanced_unmap(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_PLAIN);
	struct dat_importer *a, *b;

	if (!exp)
		return;
	a = dat_import(s, exp, DAT_IMP_STATIC);
	b = dat_import(s, exp, DAT_IMP_STATIC);
	dat_must_map(s, a, 0);
	dat_must_map(s, b, 0);
	if (a && b && a->sgt)
		dat_unmap_sgt(b, a->sgt);
	dat_release_importer(a, false);
	dat_release_importer(b, false);
	dat_exporter_put(exp);
}

/* resv-not-held: a move notified without the reservation lock */
static void scn_resv_not_held(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_MOVER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_DYNAMIC);
	/* dma_resv_assert_held() is lockdep-only: this really runs */
	dat_invalidate(exp->dmabuf);
	if (imp && !imp->invalidations)
		dat_fail(s, "the importer's callback was not called");
	dat_detach(imp);
	dat_exporter_put(exp);
}

/* revoke-stalled: an importer takes 1.8 s to unmap after the invalidate */
static void scn_revoke_stalled(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	exp->drain_ms = DAT_STALL_DRAIN_MS;
	imp = dat_import(s, exp, DAT_IMP_SLOW);
	dat_must_map(s, imp, DAT_FENCE_MS);
	dat_exporter_revoke(exp, true);
	if (exp->scope_ms < 1000)
		dat_fail(s, "the revoke took %lu ms, expected > 1000", exp->scope_ms);
	/*
	 * The drain ends inside the importer's unmap (the exporter's unmap
	 * callback wakes it): let the work finish before looking at its
	 * mapping, or a slow guest would unmap it a second time below.
	 */
	if (atomic_read(&exp->live_maps))
		dat_fail(s, "the slow importer never unmapped");
	if (imp)
		flush_delayed_work(&imp->unmap_work);
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/* pinned-importer-left-revoked: un-revoke while a pinned importer stays revoked */
static void scn_pinned_importer_left_revoked(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import_pinned(s, exp);
	dat_exporter_revoke(exp, true);
	if (imp && !imp->revoked)
		dat_fail(s, "the pinned importer was not invalidated");
	dat_exporter_revoke(exp, false);
	dat_release_importer(imp, true);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/* correct: a GPU-like move; the dynamic importer maps again */
static void scn_ok_dynamic_move(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_MOVER);
	struct dma_resv *resv;
	struct dat_importer *imp;

	if (!exp)
		return;
	resv = exp->dmabuf->resv;
	imp = dat_import(s, exp, DAT_IMP_DYNAMIC);
	dat_must_map(s, imp, DAT_FENCE_MS);
	dma_resv_lock(resv, NULL);
	dat_invalidate(exp->dmabuf);
	dma_resv_unlock(resv);
	if (imp && imp->sgt)
		dat_fail(s, "the importer kept its mapping after the move");
	dat_must_map(s, imp, DAT_FENCE_MS);
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/* correct: VFIO 7.3-like revoke with a pinned and a dynamic importer */
static void dat_ok_revoke(struct dat_scn *s, bool through_cleanup)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *pinned, *dyn;

	if (!exp)
		return;
	pinned = dat_import_pinned(s, exp);
	dyn = dat_import(s, exp, DAT_IMP_DYNAMIC);
	dat_must_map(s, dyn, DAT_FENCE_MS);
	if (through_cleanup)
		dat_exporter_cleanup(exp);
	else
		dat_exporter_revoke(exp, true);
	/* the BOOKKEEP wait really waited for the importers' DMA */
	if (exp->last_wait_ret <= 0)
		dat_fail(s, "the fence wait returned %ld", exp->last_wait_ret);
	if (s->nfences != 2 || !dat_fence_signaled(s, 0) || !dat_fence_signaled(s, 1))
		dat_fail(s, "the revoke ended before the importers' fences signaled");
	if (pinned && (pinned->sgt || !pinned->revoked))
		dat_fail(s, "the pinned importer still has its mapping");
	if (dyn && dyn->sgt)
		dat_fail(s, "the dynamic importer still has its mapping");
	/* teardown: the exporter's cleanup (already revoked: nothing to do) */
	dat_exporter_cleanup(exp);
	dat_release_importer(pinned, true);
	dat_release_importer(dyn, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

static void scn_ok_revoke(struct dat_scn *s)
{
	dat_ok_revoke(s, false);
}

static void scn_ok_cleanup_revoke(struct dat_scn *s)
{
	dat_ok_revoke(s, true);
}

/* correct: static import, map, unmap, detach (static and dynamic exporter) */
static void dat_ok_static(struct dat_scn *s, const char *exporter)
{
	struct dat_exporter *exp = dat_exporter_new(s, exporter);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_STATIC);
	dat_must_map(s, imp, 0);
	dat_release_importer(imp, false);
	dat_exporter_put(exp);
}

static void scn_ok_static(struct dat_scn *s)
{
	dat_ok_static(s, DAT_PLAIN);
}

static void scn_ok_static_dynamic_exporter(struct dat_scn *s)
{
	dat_ok_static(s, DAT_MOVER);
}

/* correct: revoke, un-revoke, then the importer maps again */
static void scn_ok_unrevoke_map(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import(s, exp, DAT_IMP_DYNAMIC);
	dat_must_map(s, imp, DAT_FENCE_MS);
	dat_exporter_revoke(exp, true);
	dat_exporter_revoke(exp, false);
	dat_must_map(s, imp, DAT_FENCE_MS);
	dat_release_importer(imp, false);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/* correct: the pinning importer pins, maps, unmaps, unpins, detaches */
static void scn_ok_pinned_import(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	struct dat_importer *imp;

	if (!exp)
		return;
	imp = dat_import_pinned(s, exp);
	dat_release_importer(imp, true);
	dat_finish_fences(s);
	dat_exporter_put(exp);
}

/*
 * vmap the way the kernel in use wants it: 6.2+ under the caller's resv lock
 * (locked variant) and through the _unlocked variant; 6.1 serialises vmap
 * with dma_buf.lock itself, so the caller takes nothing.
 */
static int dat_vmap_cycle(struct dat_scn *s, struct dat_exporter *exp, bool unlocked)
{
	struct iosys_map map;
	int ret;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	if (unlocked) {
		ret = dma_buf_vmap_unlocked(exp->dmabuf, &map);
		if (!ret)
			dma_buf_vunmap_unlocked(exp->dmabuf, &map);
		return ret;
	}
	dma_resv_lock(exp->dmabuf->resv, NULL);
	ret = dma_buf_vmap(exp->dmabuf, &map);
	if (!ret)
		dma_buf_vunmap(exp->dmabuf, &map);
	dma_resv_unlock(exp->dmabuf->resv);
#else
	if (unlocked)
		return 0;	/* no _unlocked variant before 6.2 */
	ret = dma_buf_vmap(exp->dmabuf, &map);
	if (!ret)
		dma_buf_vunmap(exp->dmabuf, &map);
#endif
	return ret;
}

/* access-after-revoke through vmap: the exporter hands out a CPU mapping */
static void scn_access_after_revoke_vmap(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	int ret;

	if (!exp)
		return;
	exp->bug_map_after_revoke = true;
	ret = dat_vmap_cycle(s, exp, false);
	if (ret)
		dat_fail(s, "vmap before the revoke failed: %d", ret);
	dat_exporter_revoke(exp, true);
	ret = dat_vmap_cycle(s, exp, false);
	if (ret)
		dat_fail(s, "the buggy exporter refused the vmap: %d", ret);
	dat_exporter_put(exp);
}

/* correct: vmap/vunmap, locked and unlocked, on a buffer nobody revoked */
static void scn_ok_vmap(struct dat_scn *s)
{
	struct dat_exporter *exp = dat_exporter_new(s, DAT_REVOKER);
	int ret;

	if (!exp)
		return;
	ret = dat_vmap_cycle(s, exp, false);
	if (!ret)
		ret = dat_vmap_cycle(s, exp, true);
	if (ret)
		dat_fail(s, "vmap failed: %d", ret);
	dat_exporter_put(exp);
}

struct dat_scenario {
	const char *name;
	void (*run)(struct dat_scn *s);
};

/* names: tests/vm/expect/NAME.json holds what dmabuf-audit must report */
static const struct dat_scenario dat_scenarios[] = {
	{ "access-after-revoke", scn_access_after_revoke },
	{ "access-attempt-after-revoke", scn_access_attempt_after_revoke },
	{ "access-after-revoke-vmap", scn_access_after_revoke_vmap },
	{ "missing-fence-wait", scn_missing_fence_wait },
	{ "weak-fence-wait", scn_weak_fence_wait },
	{ "fence-wait-incomplete", scn_fence_wait_incomplete },
	{ "revoke-static-importer", scn_revoke_static_importer },
	{ "revoke-stub-importer", scn_revoke_stub_importer },
	{ "non-revocable-importer-accepted", scn_non_revocable_accepted },
	{ "pinning-importer-missing-pin", scn_pinning_importer_missing_pin },
	{ "pin-leak", scn_pin_leak },
	{ "unbalanced-unpin", scn_unbalanced_unpin },
	{ "mapping-leak", scn_mapping_leak },
	{ "unbalanced-unmap", scn_unbalanced_unmap },
	{ "resv-not-held", scn_resv_not_held },
	{ "revoke-stalled", scn_revoke_stalled },
	{ "pinned-importer-left-revoked", scn_pinned_importer_left_revoked },
	{ "ok-dynamic-move", scn_ok_dynamic_move },
	{ "ok-revoke", scn_ok_revoke },
	{ "ok-cleanup-revoke", scn_ok_cleanup_revoke },
	{ "ok-static", scn_ok_static },
	{ "ok-static-dynamic-exporter", scn_ok_static_dynamic_exporter },
	{ "ok-unrevoke-map", scn_ok_unrevoke_map },
	{ "ok-pinned-import", scn_ok_pinned_import },
	{ "ok-refuse-nonrevocable", scn_ok_refuse_nonrevocable },
	{ "ok-vmap", scn_ok_vmap },
};

/* ------------------------------------------------------------------ debugfs */

static ssize_t dat_run_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[64], *name;
	size_t n = min(len, sizeof(buf) - 1);
	struct dat_scn s = {};
	unsigned int i;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	name = strim(buf);
	for (i = 0; i < ARRAY_SIZE(dat_scenarios); i++)
		if (!strcmp(name, dat_scenarios[i].name))
			break;
	if (i == ARRAY_SIZE(dat_scenarios))
		return -ENOENT;

	mutex_lock(&dat_run_lock);
	s.name = dat_scenarios[i].name;
	pr_info("%s: start\n", s.name);
	dat_scenarios[i].run(&s);
	dat_finish_fences(&s);
	pr_info("%s: end, status %d\n", s.name, s.status);
	mutex_unlock(&dat_run_lock);
	return s.status ? s.status : len;
}

static int dat_list_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dat_scenarios); i++)
		seq_printf(m, "%s\n", dat_scenarios[i].name);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dat_list);

static const struct file_operations dat_run_fops = {
	.owner = THIS_MODULE,
	.write = dat_run_write,
	.llseek = noop_llseek,
};

/* ------------------------------------------------------------------ seed */

/*
 * Buffers older than the tool, for dmabuf-audit's seed (tests/vm/expect/
 * seed-revoke.json; the guest's /init drives it through .../seed):
 *   "hold"    export a dat_revoker buffer, attach dat-dynamic and map it (no
 *             fence), and export a dat_lenient buffer only the module holds;
 *             the revoker's fd is installed in the writing process (O_CLOEXEC),
 *             and a read of the same open file then gives its number;
 *   "revoke"  (the tool running) unmap the mapping made before, map again
 *             with DMA in flight, revoke without a fence wait (the
 *             missing-fence-wait bug), detach;
 *   "drop"    drop the module's references (the holder then closes its fd).
 */
struct dat_seed {
	struct dat_scn scn;
	struct dat_exporter *revoker, *kernel_only;
	struct dat_importer *imp;
	int fd;
};

static struct dat_seed dat_seed = { .fd = -1 };

static void dat_seed_drop(void)
{
	struct dat_seed *sd = &dat_seed;

	if (sd->imp)
		dat_release_importer(sd->imp, false);
	dat_exporter_put(sd->revoker);
	dat_exporter_put(sd->kernel_only);
	sd->imp = NULL;
	sd->revoker = sd->kernel_only = NULL;
	sd->fd = -1;
}

static int dat_seed_hold(void)
{
	struct dat_seed *sd = &dat_seed;

	if (sd->revoker)
		return -EBUSY;
	memset(&sd->scn, 0, sizeof(sd->scn));
	sd->scn.name = "seed-hold";
	sd->revoker = dat_exporter_new(&sd->scn, DAT_REVOKER);
	sd->kernel_only = dat_exporter_new(&sd->scn, DAT_LENIENT);
	if (!sd->revoker || !sd->kernel_only)
		goto fail;
	sd->revoker->wait = DAT_WAIT_NONE;
	sd->imp = dat_import(&sd->scn, sd->revoker, DAT_IMP_DYNAMIC);
	if (!sd->imp || dat_map(sd->imp, DMA_RESV_USAGE_BOOKKEEP, 0))
		goto fail;
	/* the fd takes a reference of its own: the module keeps its own */
	get_dma_buf(sd->revoker->dmabuf);
	sd->fd = dma_buf_fd(sd->revoker->dmabuf, O_CLOEXEC);
	if (sd->fd < 0) {
		dma_buf_put(sd->revoker->dmabuf);
		goto fail;
	}
	return 0;
fail:
	dat_seed_drop();
	return sd->scn.status ? sd->scn.status : -ENOMEM;
}

static int dat_seed_revoke(void)
{
	struct dat_seed *sd = &dat_seed;
	struct dat_scn s = { .name = "seed-revoke" };

	if (!sd->imp)
		return -ENOENT;
	sd->imp->scn = &s;
	dat_unmap(sd->imp); /* mapped before the tool started: its map was never seen */
	dat_must_map(&s, sd->imp, DAT_LATE_FENCE_MS);
	dat_exporter_revoke(sd->revoker, true);
	if (s.nfences && dat_fence_signaled(&s, 0))
		dat_fail(&s, "the fence had signaled before the revoke ended (guest too slow?)");
	dat_release_importer(sd->imp, false);
	sd->imp = NULL;
	dat_finish_fences(&s);
	return s.status;
}

static ssize_t dat_seed_write(struct file *file, const char __user *ubuf, size_t len,
			      loff_t *ppos)
{
	char buf[16], *cmd;
	size_t n = min(len, sizeof(buf) - 1);
	int ret;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	cmd = strim(buf);
	mutex_lock(&dat_run_lock);
	if (!strcmp(cmd, "hold")) {
		ret = dat_seed_hold();
	} else if (!strcmp(cmd, "revoke")) {
		ret = dat_seed_revoke();
	} else if (!strcmp(cmd, "drop")) {
		dat_seed_drop();
		ret = 0;
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&dat_run_lock);
	return ret ? ret : len;
}

static ssize_t dat_seed_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", dat_seed.fd);

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations dat_seed_fops = {
	.owner = THIS_MODULE,
	.write = dat_seed_write,
	.read = dat_seed_read,
	.llseek = noop_llseek,
};

/* ------------------------------------------------------------------ bench */

/*
 * The benchmark entry (make bench-live, tools/bench-live.sh): a tight loop
 * of N iterations of each hot path, timed here with ktime so the figure is
 * the kernel's own cost per operation with whatever is attached at the
 * moment (nothing, an empty fentry/fexit pair, dmabuf-audit, bpftrace).
 * Write "N" to .../bench to run every path, "N PATH" to run one; read
 * .../bench for one line per path run: "NAME N TOTAL_NS" (or "NAME error
 * ERRNO").
 */
#define DAT_BENCH_MAX_N 10000000
#define DAT_BENCH_RESCHED 256 /* let the tool's consumer run on a shared CPU */

struct dat_bench {
	struct dat_scn *scn;
	struct dat_exporter *exp; /* dat_revoker (dynamic) */
	struct dat_exporter *plain; /* dat_plain (static) */
	struct dat_importer *dyn; /* dynamic importer of exp */
	struct dat_importer *stat; /* static importer of plain */
	struct dma_resv other; /* a ww_mutex that is no dma-buf's */
};

struct dat_bench_path {
	const char *name;
	/* one iteration; 0 or -errno */
	int (*step)(struct dat_bench *b);
};

static int dat_bench_attach_detach(struct dat_bench *b)
{
	struct dma_buf_attachment *a;

	a = dma_buf_dynamic_attach(b->exp->dmabuf, &dat_devs[DAT_IMP_DYNAMIC]->dev,
				   &dat_dynamic_importer_ops, b->dyn);
	if (IS_ERR(a))
		return PTR_ERR(a);
	dma_buf_detach(b->exp->dmabuf, a);
	return 0;
}

static int dat_bench_map_unmap(struct dat_bench *b)
{
	struct dma_resv *resv = b->exp->dmabuf->resv;
	struct sg_table *sgt;

	dma_resv_lock(resv, NULL);
	sgt = dma_buf_map_attachment(b->dyn->attach, DMA_BIDIRECTIONAL);
	if (!IS_ERR(sgt))
		dma_buf_unmap_attachment(b->dyn->attach, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(resv);
	return PTR_ERR_OR_ZERO(sgt);
}

static int dat_bench_map_unmap_unlocked(struct dat_bench *b)
{
	struct sg_table *sgt;

	sgt = dma_buf_map_attachment_unlocked(b->stat->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	dma_buf_unmap_attachment_unlocked(b->stat->attach, sgt, DMA_BIDIRECTIONAL);
	return 0;
}

static int dat_bench_pin_unpin(struct dat_bench *b)
{
	struct dma_resv *resv = b->exp->dmabuf->resv;
	int ret;

	dma_resv_lock(resv, NULL);
	ret = dma_buf_pin(b->dyn->attach);
	if (!ret)
		dma_buf_unpin(b->dyn->attach);
	dma_resv_unlock(resv);
	return ret;
}

static int dat_bench_vmap_vunmap(struct dat_bench *b)
{
	return dat_vmap_cycle(b->scn, b->plain, false);
}

static int dat_bench_vmap_vunmap_unlocked(struct dat_bench *b)
{
	return dat_vmap_cycle(b->scn, b->plain, true);
}

/* a revoke scope (invalidate + BOOKKEEP fence wait) and the un-revoke */
static int dat_bench_revoke(struct dat_bench *b)
{
	dat_exporter_revoke(b->exp, true);
	if (b->exp->last_wait_ret <= 0)
		return -ETIMEDOUT;
	dat_exporter_revoke(b->exp, false);
	return 0;
}

/* a ww_mutex lock/unlock that has nothing to do with dma-buf */
static int dat_bench_ww_mutex(struct dat_bench *b)
{
	int ret = dma_resv_lock(&b->other, NULL);

	if (!ret)
		dma_resv_unlock(&b->other);
	return ret;
}

static const struct dat_bench_path dat_bench_paths[] = {
	{ "attach-detach", dat_bench_attach_detach },
	{ "map-unmap", dat_bench_map_unmap },
	{ "map-unmap-unlocked", dat_bench_map_unmap_unlocked },
	{ "pin-unpin", dat_bench_pin_unpin },
	{ "vmap-vunmap", dat_bench_vmap_vunmap },
	{ "vmap-vunmap-unlocked", dat_bench_vmap_vunmap_unlocked },
	{ "revoke", dat_bench_revoke },
	{ "ww-mutex", dat_bench_ww_mutex },
};

static char dat_bench_out[1024];
static size_t dat_bench_len;

static void dat_bench_run_path(struct dat_bench *b, const struct dat_bench_path *path,
			       unsigned int n)
{
	size_t room = sizeof(dat_bench_out) - dat_bench_len;
	unsigned int i;
	int ret = 0;
	u64 t0, t1;

	t0 = ktime_get_ns();
	for (i = 0; i < n && !ret; i++) {
		ret = path->step(b);
		if (i % DAT_BENCH_RESCHED == DAT_BENCH_RESCHED - 1)
			cond_resched();
	}
	t1 = ktime_get_ns();
	if (ret)
		dat_bench_len += scnprintf(dat_bench_out + dat_bench_len, room, "%s error %d\n",
					   path->name, ret);
	else
		dat_bench_len += scnprintf(dat_bench_out + dat_bench_len, room, "%s %u %llu\n",
					   path->name, n, t1 - t0);
}

/* N iterations of the path named `only` (every path when NULL) */
static int dat_bench_run(unsigned int n, const char *only)
{
	struct dat_scn s = { .name = "bench" };
	struct dat_bench b = { .scn = &s };
	unsigned int i, ran = 0;

	dat_bench_len = 0;
	dat_bench_out[0] = '\0';
	b.exp = dat_exporter_new(&s, DAT_REVOKER);
	b.plain = dat_exporter_new(&s, DAT_PLAIN);
	b.dyn = b.exp ? dat_import(&s, b.exp, DAT_IMP_DYNAMIC) : NULL;
	b.stat = b.plain ? dat_import(&s, b.plain, DAT_IMP_STATIC) : NULL;
	dma_resv_init(&b.other);
	if (!s.status) {
		/* the exporter's drain after a revoke: nothing is mapped, so no wait */
		b.exp->drain_ms = 0;
		for (i = 0; i < ARRAY_SIZE(dat_bench_paths); i++) {
			if (only && strcmp(only, dat_bench_paths[i].name))
				continue;
			dat_bench_run_path(&b, &dat_bench_paths[i], n);
			ran++;
		}
	}
	dma_resv_fini(&b.other);
	dat_detach(b.stat);
	dat_detach(b.dyn);
	dat_exporter_put(b.plain);
	dat_exporter_put(b.exp);
	return s.status ? s.status : ran ? 0 : -ENOENT;
}

/* "N" or "N PATH" */
static ssize_t dat_bench_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[64], *path;
	size_t cut = min(len, sizeof(buf) - 1);
	unsigned int n;
	int ret;

	if (copy_from_user(buf, ubuf, cut))
		return -EFAULT;
	buf[cut] = '\0';
	path = strim(buf);
	ret = kstrtouint(strsep(&path, " "), 10, &n);
	if (ret)
		return ret;
	if (!n || n > DAT_BENCH_MAX_N)
		return -EINVAL;
	if (path)
		path = strim(path);
	mutex_lock(&dat_run_lock);
	ret = dat_bench_run(n, path && *path ? path : NULL);
	mutex_unlock(&dat_run_lock);
	return ret ? ret : len;
}

static ssize_t dat_bench_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&dat_run_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, dat_bench_out, dat_bench_len);
	mutex_unlock(&dat_run_lock);
	return ret;
}

static const struct file_operations dat_bench_fops = {
	.owner = THIS_MODULE,
	.write = dat_bench_write,
	.read = dat_bench_read,
	.llseek = default_llseek,
};

static void dat_unregister_devs(void)
{
	int i;

	for (i = 0; i < DAT_IMP__COUNT; i++)
		if (!IS_ERR_OR_NULL(dat_devs[i]))
			platform_device_unregister(dat_devs[i]);
}

static int __init dat_init(void)
{
	int i;

	for (i = 0; i < DAT_IMP__COUNT; i++) {
		dat_devs[i] = platform_device_register_simple(dat_dev_names[i], PLATFORM_DEVID_NONE,
							      NULL, 0);
		if (IS_ERR(dat_devs[i])) {
			int err = PTR_ERR(dat_devs[i]);

			dat_unregister_devs();
			return err;
		}
	}
	dat_fence_context = dma_fence_context_alloc(1);
	dat_dir = debugfs_create_dir("dmabuf_audit_test", NULL);
	debugfs_create_file("run", 0200, dat_dir, NULL, &dat_run_fops);
	debugfs_create_file("list", 0444, dat_dir, NULL, &dat_list_fops);
	debugfs_create_file("bench", 0600, dat_dir, NULL, &dat_bench_fops);
	debugfs_create_file("seed", 0600, dat_dir, NULL, &dat_seed_fops);
	pr_info("loaded: %zu scenarios\n", ARRAY_SIZE(dat_scenarios));
	return 0;
}

static void __exit dat_exit(void)
{
	mutex_lock(&dat_run_lock);
	dat_seed_drop();
	mutex_unlock(&dat_run_lock);
	debugfs_remove_recursive(dat_dir);
	dat_unregister_devs();
}

module_init(dat_init);
module_exit(dat_exit);
MODULE_DESCRIPTION("dmabuf-audit test module: drives the dma-buf core with injected bugs");
MODULE_LICENSE("GPL");
