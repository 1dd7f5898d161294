// SPDX-License-Identifier: GPL-2.0
/*
 * dat-prime [--hold] [--status FILE] udmabuf|heap
 *
 * Real drivers only, no project code in the kernel: create a dma-buf with
 * udmabuf (memfd -> dma-buf) or the system dma-heap, import it into vgem
 * through PRIME (DRM_IOCTL_PRIME_FD_TO_HANDLE: dma_buf_attach, and on kernels
 * before 7.x an immediate map), mmap the dma-buf fd for CPU access (vgem
 * refuses mmap offsets for imported objects), then close everything (unmap,
 * detach, release).  Prints and, with --status,
 * writes "ok ino N" (N = the buffer's inode number, the id dmabuf-audit
 * shows) so the host can find this buffer's events in the trace.
 * Exit 0 on success, 1 on failure.  Built static for the initramfs.
 *
 * --hold: once imported, write the status and wait for SIGTERM before the
 * rest (the buffer and vgem's attachment then exist before a dmabuf-audit
 * started meanwhile: its seed, tests/vm/expect/seed-real-udmabuf.json).
 *
 * The few DRM uAPI structures used are declared here (stable ABI) so the
 * build needs no libdrm headers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dat-drivers.h"

static const char *status_path;
static volatile sig_atomic_t released;

static void on_term(int sig __attribute__((unused)))
{
	released = 1;
}

/* --hold: say the buffer is ready, then wait for SIGTERM */
static void hold(unsigned long ino)
{
	struct sigaction sa = { .sa_handler = on_term };
	sigset_t block, old;
	FILE *f;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &sa, NULL);
	if (status_path && (f = fopen(status_path, "w"))) {
		fprintf(f, "held ino %lu\n", ino);
		fclose(f);
	}
	while (!released)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static int fail(const char *what)
{
	int err = errno;
	FILE *f;

	fprintf(stderr, "dat-prime: %s: %s\n", what, strerror(err));
	if (status_path && (f = fopen(status_path, "w"))) {
		fprintf(f, "error %d %s: %s\n", err, what, strerror(err));
		fclose(f);
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct dat_drm_prime_handle prime = { 0 };
	struct dat_drm_gem_close gclose = { 0 };
	const char *src;
	struct stat st;
	int buf, drm;
	bool held = false;
	void *p;
	FILE *f;

	if (argc > 1 && !strcmp(argv[1], "--hold")) {
		held = true;
		argc--;
		argv++;
	}
	if (argc == 4 && !strcmp(argv[1], "--status")) {
		status_path = argv[2];
		src = argv[3];
	} else if (argc == 2) {
		src = argv[1];
	} else {
		fprintf(stderr, "usage: dat-prime [--hold] [--status FILE] udmabuf|heap\n");
		return 2;
	}
	if (!strcmp(src, "udmabuf"))
		buf = udmabuf_create("dat-prime");
	else if (!strcmp(src, "heap"))
		buf = heap_create();
	else {
		fprintf(stderr, "dat-prime: unknown source %s\n", src);
		return 2;
	}
	if (buf < 0)
		return fail(src);
	if (fstat(buf, &st))
		return fail("fstat of the dma-buf");
	drm = open_vgem();
	if (drm < 0)
		return fail("no vgem device in /dev/dri");
	prime.fd = buf;
	if (ioctl(drm, DAT_DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		return fail("DRM_IOCTL_PRIME_FD_TO_HANDLE");
	if (held)
		hold((unsigned long)st.st_ino);
	/* CPU access while imported: mmap of the dma-buf fd */
	p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (p == MAP_FAILED)
		return fail("mmap of the dma-buf");
	memset(p, 0x5a, BUF_SIZE);
	munmap(p, BUF_SIZE);
	gclose.handle = prime.handle;
	if (ioctl(drm, DAT_DRM_IOCTL_GEM_CLOSE, &gclose))
		return fail("DRM_IOCTL_GEM_CLOSE");
	close(drm);
	close(buf);
	printf("dat-prime: %s buffer ino %lu exported, imported by vgem, mapped, released\n", src,
	       (unsigned long)st.st_ino);
	if (status_path && (f = fopen(status_path, "w"))) {
		fprintf(f, "ok ino %lu\n", (unsigned long)st.st_ino);
		fclose(f);
	}
	return 0;
}
