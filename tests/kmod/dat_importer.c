// SPDX-License-Identifier: GPL-2.0
/*
 * dat_importer: an importer of dma-bufs exported by real drivers (VFIO), for
 * dmabuf-audit's real-driver suite (tests/vfio, docs/testing.md).  It
 * behaves as iommufd does with a VFIO dma-buf (drivers/iommu/iommufd/pages.c,
 * 7.3): a dynamic attach whose ops allow peer-to-peer and have an invalidate
 * callback, dma_buf_pin() under the reservation lock; and unlike iommufd it
 * also maps through dma_buf_map_attachment(), so the exporter's map and
 * unmap ops run too.  Its callback unmaps and remembers the revoke, as
 * iopt_revoke_notify() drops its IOMMU mappings.
 *
 * Userspace drives it through /sys/kernel/debug/dat_importer/ctl: each open
 * file is one importer; each write is one command, run in the writer's
 * context (the dma-buf fd is the writer's), returning the kernel's error:
 *
 *   attach FD BDF         dynamic attach, ops dat_vfio_importer_ops, for the
 *                         PCI device BDF (VFIO maps peer-to-peer only for a
 *                         PCI client; the exporting device itself is one)
 *   attach-nocb FD BDF    dynamic, peer-to-peer, no invalidate callback:
 *                         not revocable, 7.1+ VFIO refuses it
 *   attach-static FD BDF  dma_buf_attach(): static, VFIO refuses it
 *   pin | unpin           under the reservation lock
 *   map | unmap           dma_buf_map_attachment() / _unmap_, under the lock
 *   fence MS              "DMA": a BOOKKEEP fence that signals MS ms later
 *   detach                dma_buf_detach() and dma_buf_put()
 *
 * Closing the file undoes what is left (unmap, unpin, detach) after the
 * fences signalled.  Read gives "invalidations N revoked 0|1".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define DAT_CALLBACK invalidate_mappings
#else
#define DAT_CALLBACK move_notify
#endif

#define DAT_IMPORTER_FENCES 8

struct dat_importer_fence {
	struct dma_fence base; /* first: dma_fence_free() kfree_rcu()s it */
	spinlock_t lock;
	struct delayed_work signal_work;
};

struct dat_ext_importer {
	struct mutex lock; /* one command at a time */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct pci_dev *pdev;
	struct sg_table *sgt; /* live mapping, NULL when none */
	bool pinned;
	bool revoked; /* an invalidate came while mapped or pinned */
	unsigned int invalidations;
	unsigned int nfences;
	struct dat_importer_fence *fences[DAT_IMPORTER_FENCES];
};

static u64 dat_importer_fence_context;
static atomic64_t dat_importer_seqno = ATOMIC64_INIT(0);
static struct dentry *dat_importer_dir;

static const char *dat_importer_fence_name(struct dma_fence *f)
{
	return "dat_importer";
}

static const struct dma_fence_ops dat_importer_fence_ops = {
	.get_driver_name = dat_importer_fence_name,
	.get_timeline_name = dat_importer_fence_name,
};

static void dat_importer_fence_signal(struct work_struct *work)
{
	struct dat_importer_fence *f =
		container_of(to_delayed_work(work), struct dat_importer_fence, signal_work);

	dma_fence_signal(&f->base);
}

/* Like iopt_revoke_notify(): drop the mapping (the resv lock is held), remember. */
static void dat_vfio_importer_invalidate(struct dma_buf_attachment *attach)
{
	struct dat_ext_importer *imp = attach->importer_priv;

	imp->invalidations++;
	if (imp->sgt) {
		dma_buf_unmap_attachment(attach, imp->sgt, DMA_BIDIRECTIONAL);
		imp->sgt = NULL;
	}
	if (imp->pinned)
		imp->revoked = true;
}

/* The test policy names it a pinning importer (tests/vm/policy). */
const struct dma_buf_attach_ops dat_vfio_importer_ops = {
	.allow_peer2peer = true,
	.DAT_CALLBACK = dat_vfio_importer_invalidate,
};

/* peer-to-peer but no callback: dma_buf_attach_revocable() is false */
const struct dma_buf_attach_ops dat_nocb_importer_ops = {
	.allow_peer2peer = true,
};

static int dat_importer_attach(struct dat_ext_importer *imp, const char *how, int fd,
			       unsigned int domain, unsigned int bus, unsigned int slot,
			       unsigned int fn)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct pci_dev *pdev;

	if (imp->attach)
		return -EBUSY;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENXIO;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf)) {
		pci_dev_put(pdev);
		return PTR_ERR(dmabuf);
	}
	if (!strcmp(how, "attach"))
		attach = dma_buf_dynamic_attach(dmabuf, &pdev->dev, &dat_vfio_importer_ops, imp);
	else if (!strcmp(how, "attach-nocb"))
		attach = dma_buf_dynamic_attach(dmabuf, &pdev->dev, &dat_nocb_importer_ops, imp);
	else
		attach = dma_buf_attach(dmabuf, &pdev->dev);
	if (IS_ERR(attach)) {
		dma_buf_put(dmabuf);
		pci_dev_put(pdev);
		return PTR_ERR(attach);
	}
	imp->dmabuf = dmabuf;
	imp->attach = attach;
	imp->pdev = pdev;
	imp->revoked = false;
	return 0;
}

static int dat_importer_fence(struct dat_ext_importer *imp, unsigned int ms)
{
	struct dma_resv *resv = imp->dmabuf->resv;
	struct dat_importer_fence *f;
	int ret;

	if (imp->nfences == DAT_IMPORTER_FENCES)
		return -ENOSPC;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	spin_lock_init(&f->lock);
	INIT_DELAYED_WORK(&f->signal_work, dat_importer_fence_signal);
	dma_fence_init(&f->base, &dat_importer_fence_ops, &f->lock, dat_importer_fence_context,
		       atomic64_inc_return(&dat_importer_seqno));
	dma_resv_lock(resv, NULL);
	ret = dma_resv_reserve_fences(resv, 1);
	if (!ret)
		dma_resv_add_fence(resv, &f->base, DMA_RESV_USAGE_BOOKKEEP);
	dma_resv_unlock(resv);
	if (ret) {
		dma_fence_put(&f->base);
		return ret;
	}
	imp->fences[imp->nfences++] = f;
	schedule_delayed_work(&f->signal_work, msecs_to_jiffies(ms));
	return 0;
}

/* pin, unpin, map, unmap: under the reservation lock, as iommufd does */
static int dat_importer_locked_op(struct dat_ext_importer *imp, const char *op)
{
	struct dma_resv *resv = imp->dmabuf->resv;
	struct sg_table *sgt;
	int ret = 0;

	dma_resv_lock(resv, NULL);
	if (!strcmp(op, "pin")) {
		ret = imp->pinned ? -EBUSY : dma_buf_pin(imp->attach);
		imp->pinned = imp->pinned || !ret;
	} else if (!strcmp(op, "unpin")) {
		if (imp->pinned)
			dma_buf_unpin(imp->attach);
		ret = imp->pinned ? 0 : -EINVAL;
		imp->pinned = false;
	} else if (!strcmp(op, "map")) {
		sgt = imp->sgt ? ERR_PTR(-EBUSY) :
				 dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt))
			ret = PTR_ERR(sgt);
		else
			imp->sgt = sgt;
	} else if (!strcmp(op, "unmap")) {
		if (imp->sgt)
			dma_buf_unmap_attachment(imp->attach, imp->sgt, DMA_BIDIRECTIONAL);
		ret = imp->sgt ? 0 : -EINVAL;
		imp->sgt = NULL;
	} else {
		ret = -EINVAL;
	}
	dma_resv_unlock(resv);
	return ret;
}

static void dat_importer_finish_fences(struct dat_ext_importer *imp)
{
	for (unsigned int i = 0; i < imp->nfences; i++) {
		flush_delayed_work(&imp->fences[i]->signal_work);
		dma_fence_put(&imp->fences[i]->base);
	}
	imp->nfences = 0;
}

static void dat_importer_detach(struct dat_ext_importer *imp)
{
	if (!imp->attach)
		return;
	dat_importer_finish_fences(imp);
	if (imp->sgt)
		dat_importer_locked_op(imp, "unmap");
	if (imp->pinned)
		dat_importer_locked_op(imp, "unpin");
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	pci_dev_put(imp->pdev);
	imp->attach = NULL;
	imp->dmabuf = NULL;
	imp->pdev = NULL;
}

static int dat_importer_command(struct dat_ext_importer *imp, char *line)
{
	unsigned int domain, bus, slot, fn, ms;
	char cmd[16];
	int fd;

	if (sscanf(line, "%15s", cmd) != 1)
		return -EINVAL;
	if (!strncmp(cmd, "attach", 6)) {
		if (sscanf(line, "%*s %d %x:%x:%x.%x", &fd, &domain, &bus, &slot, &fn) != 5)
			return -EINVAL;
		return dat_importer_attach(imp, cmd, fd, domain, bus, slot, fn);
	}
	if (!imp->attach)
		return -ENOTCONN;
	if (!strcmp(cmd, "fence")) {
		if (sscanf(line, "%*s %u", &ms) != 1)
			return -EINVAL;
		return dat_importer_fence(imp, ms);
	}
	if (!strcmp(cmd, "detach")) {
		dat_importer_detach(imp);
		return 0;
	}
	return dat_importer_locked_op(imp, cmd);
}

static int dat_importer_open(struct inode *inode, struct file *file)
{
	struct dat_ext_importer *imp = kzalloc(sizeof(*imp), GFP_KERNEL);

	if (!imp)
		return -ENOMEM;
	mutex_init(&imp->lock);
	file->private_data = imp;
	return 0;
}

static ssize_t dat_importer_write(struct file *file, const char __user *ubuf, size_t len,
				  loff_t *ppos)
{
	struct dat_ext_importer *imp = file->private_data;
	char line[96];
	size_t n = min(len, sizeof(line) - 1);
	int ret;

	if (copy_from_user(line, ubuf, n))
		return -EFAULT;
	line[n] = '\0';
	mutex_lock(&imp->lock);
	ret = dat_importer_command(imp, strim(line));
	mutex_unlock(&imp->lock);
	return ret ? ret : len;
}

static ssize_t dat_importer_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct dat_ext_importer *imp = file->private_data;
	char text[64];
	int n;

	mutex_lock(&imp->lock);
	n = scnprintf(text, sizeof(text), "invalidations %u revoked %d\n", imp->invalidations,
		      imp->revoked);
	mutex_unlock(&imp->lock);
	return simple_read_from_buffer(ubuf, len, ppos, text, n);
}

static int dat_importer_release(struct inode *inode, struct file *file)
{
	struct dat_ext_importer *imp = file->private_data;

	dat_importer_detach(imp);
	kfree(imp);
	return 0;
}

static const struct file_operations dat_importer_fops = {
	.owner = THIS_MODULE,
	.open = dat_importer_open,
	.write = dat_importer_write,
	.read = dat_importer_read,
	.release = dat_importer_release,
	.llseek = default_llseek,
};

static int __init dat_importer_init(void)
{
	dat_importer_fence_context = dma_fence_context_alloc(1);
	dat_importer_dir = debugfs_create_dir("dat_importer", NULL);
	debugfs_create_file("ctl", 0600, dat_importer_dir, NULL, &dat_importer_fops);
	return 0;
}

static void __exit dat_importer_exit(void)
{
	debugfs_remove_recursive(dat_importer_dir);
}

module_init(dat_importer_init);
module_exit(dat_importer_exit);
MODULE_DESCRIPTION("dmabuf-audit test importer of real drivers' dma-bufs (iommufd-like)");
MODULE_LICENSE("GPL");
