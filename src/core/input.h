/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: buffered input for the trace readers, plain or gzip (zlib's
 * gz* API reads both, so the format is detected by content, not by name),
 * with the byte offset of every position so errors can name it.
 */
#ifndef DMABUF_AUDIT_INPUT_H
#define DMABUF_AUDIT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>

#define DA_INPUT_MAX_LINE (16u << 20)

struct da_input {
	gzFile gz;		/* gzip, or a stream that may be (pipes) */
	int fd;			/* a plain regular file, read directly: -1 when gz */
	char name[256];		/* for messages: the path, or "standard input" */
	unsigned char *buf;
	size_t cap;
	size_t start, end;	/* unread bytes: buf[start..end) */
	uint64_t offset;	/* offset of buf[start] in the (uncompressed) stream */
	bool eof;
	bool compressed;	/* known after the first read */
	char error[256];	/* read error, "" if none */
	/*
	 * Mapped (da_input_map): buf is a read-only window of the file at
	 * file offset map_off, cap its length; start and end index it as above.
	 */
	bool mapped;
	uint64_t map_off;
	size_t window;		/* the length a window is mapped with */
};

/* "-" = standard input.  0, or -1 with a message in err. */
int da_input_open(struct da_input *in, const char *path, char *err, size_t errlen);
/*
 * Make n bytes available at da_input_ptr (n <= cap).  Returns the number
 * available: n, or less at the end of the input; -1 on a read error
 * (message in in->error).
 */
ssize_t da_input_fill_more(struct da_input *in, size_t n);
static inline ssize_t da_input_fill(struct da_input *in, size_t n)
{
	/* the usual case, once per record: the bytes are there already */
	if (in->end - in->start >= n)
		return (ssize_t)n;
	return da_input_fill_more(in, n);
}
static inline const unsigned char *da_input_ptr(const struct da_input *in)
{
	return in->buf + in->start;
}
static inline void da_input_consume(struct da_input *in, size_t n)
{
	in->start += n;
	in->offset += n;
}
/*
 * Next line without its '\n' (NUL-terminated in place, valid until the
 * next call).  1, 0 at end of input, -1 on a read error or a line longer
 * than DA_INPUT_MAX_LINE (message in in->error).
 */
int da_input_line(struct da_input *in, char **line, size_t *len);
void da_input_close(struct da_input *in);
/*
 * Read a plain regular file from here on through a read-only memory window
 * that slides along it (no copy into a buffer; the resident memory stays
 * about one window, whatever the file's size).  For the binary record: the
 * data stays read-only, so da_input_line must not be used after it.  Gzip,
 * pipes, files mmap refuses and files no larger than one window stay
 * buffered.  window 0 = the default (8 MiB).
 */
void da_input_map(struct da_input *in, size_t window);

/* record.c: a record reader over an input the trace reader opened and sniffed (takes it over) */
struct da_record_reader *da_record_reader_from_input(struct da_input *in);

#endif /* DMABUF_AUDIT_INPUT_H */
