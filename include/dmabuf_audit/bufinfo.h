/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /sys/kernel/debug/dma_buf/bufinfo, the seed's listing on kernels without
 * the dma-buf BPF iterator (before 6.16).  Its format, from
 * drivers/dma-buf/dma-buf.c dma_buf_debug_show() (6.1 .. 7.x):
 *
 *	\nDma-buf Objects:
 *	size\tflags\tmode\tcount\texp_name\tino\tname      (a header line)
 *	%08zu\t%08x\t%08x\t%08ld\t%s\t%08lu\t%s           (one per buffer)
 *	\t<usage> fence:<driver> <timeline> seq N [un]signalled   (0..n)
 *	\tAttached Devices:
 *	\t<dev_name>                                     (0..n)
 *	Total N devices attached
 *
 *	Total N objects, N bytes
 *
 * It names no struct dma_buf pointer: events cannot be matched to it
 * directly (src/live/seed.c matches by inode).  Pure parsing, no I/O, so the
 * unit tests run it on the real kernels' output.
 */
#ifndef DMABUF_AUDIT_BUFINFO_H
#define DMABUF_AUDIT_BUFINFO_H

#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/event.h"

/* attached device names kept per buffer; the count is exact */
#define DA_BUFINFO_DEVS 4

struct da_bufinfo_buf {
	uint64_t size;
	uint32_t flags;		/* file->f_flags */
	uint32_t mode;		/* file->f_mode */
	uint64_t count;		/* file_count(): references to the buffer's file */
	uint64_t ino;
	char exp_name[DA_NAME_LEN];
	unsigned int n_fences;
	unsigned int n_devs;
	char devs[DA_BUFINFO_DEVS][DA_NAME_LEN];
};

struct da_bufinfo {
	struct da_bufinfo_buf *bufs;
	size_t n;
	uint64_t total_objects;	/* the "Total N objects" line */
};

/*
 * Parse the whole file.  0, or -1 with what is wrong (and at which line) in
 * err; *out is then empty.  Free with da_bufinfo_free().
 */
int da_bufinfo_parse(const char *text, struct da_bufinfo *out, char *err, size_t errlen);
void da_bufinfo_free(struct da_bufinfo *info);
/* the buffer with inode ino, or NULL */
const struct da_bufinfo_buf *da_bufinfo_find(const struct da_bufinfo *info, uint64_t ino);

#endif /* DMABUF_AUDIT_BUFINFO_H */
