/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzers' input as a file: the readers read paths (and gzip through
 * zlib), so each input is written to one memfd and opened by its
 * /proc/self/fd path, which gives a fresh read offset every time.
 */
#ifndef DMABUF_AUDIT_FUZZ_INPUT_H
#define DMABUF_AUDIT_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static inline const char *fuzz_input_path(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz input");
		abort();
	}
	return path;
}

#endif /* DMABUF_AUDIT_FUZZ_INPUT_H */
