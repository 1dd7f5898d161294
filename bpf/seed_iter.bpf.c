// SPDX-License-Identifier: GPL-2.0
/*
 * Seeding: the dma-bufs that exist when the tool starts, read once after
 * the core hooks are attached (src/live/seed.c).  Per buffer one
 * seed_buffer record (exp_name, size, inode, resv), then one
 * seed_attachment record per attachment (device, importer ops and their
 * invalidate callback, peer2peer), walking dmabuf->attachments.
 *
 * Two iterators, one body:
 *   iter/dmabuf     (6.16+) every dma-buf of the system;
 *   iter/task_file  (older kernels) every open file of every task; a file
 *                   of the dma-buf pseudo-filesystem is a buffer, its
 *                   private_data the struct dma_buf.  Only buffers some
 *                   process holds an fd of are found this way; the loader
 *                   compares with debugfs' bufinfo and says what is missing.
 * The loader loads only the one the kernel has (bpf_program__set_autoload).
 *
 * The records go into the core object's ring buffer with sequence numbers
 * from its counter (the loader hands both over with bpf_map__reuse_fd):
 * the seed is then ordered exactly against the live events racing with it,
 * and the source, the recorder and the replay need no second path.  The
 * iterator's seq_file output carries only each seeded buffer's inode: the
 * loader reads it in small chunks, so read() returns every few buffers and
 * the ring buffer is drained in between instead of overflowing on a system
 * with many buffers; and it tells the loader which inodes were seeded.
 */
#include "common.bpf.h"

/* include/uapi/linux/magic.h: the dma-buf pseudo-filesystem */
#define DMA_BUF_MAGIC 0x444d4142
/* attachments walked per buffer; more are counted in seed_attachments_cut */
#define SEED_MAX_ATTACHMENTS 64

/* members the core types of kernel_types.h leave out (flavours: libbpf drops the suffix) */
struct list_head___seed {
	struct list_head___seed *next;
} __attribute__((preserve_access_index));

struct dma_buf___seed {
	struct list_head___seed attachments;
} __attribute__((preserve_access_index));

struct dma_buf_attachment___seed {
	struct list_head___seed node;
} __attribute__((preserve_access_index));

struct super_block___seed {
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct inode___seed {
	struct super_block___seed *i_sb;
} __attribute__((preserve_access_index));

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__dmabuf {
	struct bpf_iter_meta *meta;
	struct dma_buf *dmabuf;
} __attribute__((preserve_access_index));

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct file *file;
} __attribute__((preserve_access_index));

/* the core object's map, shared: fence waits on a seeded resv count */
#include "tracked_resv.bpf.h"

/* task_file: buffers already seeded (many fds and tasks share one buffer) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} seeded_bufs SEC(".maps");

/* buffers with more than SEED_MAX_ATTACHMENTS attachments, and buffers the dedup map missed */
__u64 seed_attachments_cut = 0;
__u64 seed_dedup_full = 0;

static __always_inline void seed_attachment(void *ctx, struct dma_buf *buf, __u64 resv,
					    struct dma_buf_attachment *attach)
{
	const struct dma_buf_attach_ops *ops = BPF_CORE_READ(attach, importer_ops);
	struct da_event *e = da_reserve(ctx, DA_OP_SEED_ATTACHMENT);

	if (!e)
		return;
	e->buf = (__u64)buf;
	e->attach = (__u64)attach;
	e->resv = resv;
	e->importer_ops = (__u64)ops;
	if (ops) {
		e->flags |= DA_F_DYNAMIC;
		e->invalidate_cb = da_invalidate_cb(ops);
	}
	if (BPF_CORE_READ(attach, peer2peer))
		e->flags |= DA_F_PEER2PEER;
	da_dev_name(BPF_CORE_READ(attach, dev), e->name, sizeof(e->name));
	da_submit(e);
}

/* one buffer: its record, its attachments', and its inode on the seq_file */
static __always_inline void seed_buffer(void *ctx, struct seq_file *seq, struct dma_buf *buf)
{
	struct dma_buf___seed *sbuf = (void *)buf;
	struct list_head___seed *head, *pos;
	__u64 resv = (__u64)BPF_CORE_READ(buf, resv);
	__u64 ino = BPF_CORE_READ(buf, file, f_inode, i_ino);
	__u64 node_off = bpf_core_field_offset(struct dma_buf_attachment___seed, node);
	struct da_event *e;
	__u8 one = 1;

	if (resv)
		bpf_map_update_elem(&tracked_resv, &resv, &one, BPF_ANY);
	e = da_reserve(ctx, DA_OP_SEED_BUFFER);
	if (e) {
		e->buf = (__u64)buf;
		e->resv = resv;
		e->size = BPF_CORE_READ(buf, size);
		e->ino = ino;
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), BPF_CORE_READ(buf, exp_name));
		da_submit(e);
	}
	bpf_seq_write(seq, &ino, sizeof(ino));

	head = (void *)buf + bpf_core_field_offset(struct dma_buf___seed, attachments);
	pos = BPF_CORE_READ(sbuf, attachments.next);
	for (int i = 0; i < SEED_MAX_ATTACHMENTS; i++) {
		if (!pos || pos == head)
			return;
		seed_attachment(ctx, buf, resv, (void *)pos - node_off);
		pos = BPF_CORE_READ(pos, next);
	}
	if (pos && pos != head)
		__sync_fetch_and_add(&seed_attachments_cut, 1);
}

SEC("iter/dmabuf")
int seed_dmabuf(struct bpf_iter__dmabuf *ctx)
{
	struct dma_buf *buf = ctx->dmabuf;

	if (buf)
		seed_buffer(ctx, ctx->meta->seq, buf);
	return 0;
}

SEC("iter/task_file")
int seed_task_file(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct inode___seed *inode;
	struct dma_buf *buf;
	__u8 one = 1;
	__u64 key;
	long err;

	if (!file)
		return 0;
	inode = (void *)BPF_CORE_READ(file, f_inode);
	if (!inode || BPF_CORE_READ(inode, i_sb, s_magic) != DMA_BUF_MAGIC)
		return 0;
	buf = BPF_CORE_READ(file, private_data);
	if (!buf)
		return 0;
	key = (__u64)buf;
	err = bpf_map_update_elem(&seeded_bufs, &key, &one, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another fd of the same buffer */)
		return 0;
	if (err)
		__sync_fetch_and_add(&seed_dedup_full, 1);
	seed_buffer(ctx, ctx->meta->seq, buf);
	return 0;
}
