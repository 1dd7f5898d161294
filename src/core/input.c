// SPDX-License-Identifier: GPL-2.0
/* Buffered, gzip-transparent input for replay; see input.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

#define CHUNK (256u << 10)
#define SMALL_READ (4u << 10)
/* a mapped window: large enough that remapping costs nothing per event */
#define MAP_WINDOW (8u << 20)

/* A regular file that does not start with the gzip magic (1f 8b). */
static bool is_plain_file(int fd)
{
	unsigned char magic[2];
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return false;
	return pread(fd, magic, sizeof(magic), 0) != sizeof(magic) || magic[0] != 0x1f ||
	       magic[1] != 0x8b;
}

int da_input_open(struct da_input *in, const char *path, char *err, size_t errlen)
{
	int fd;

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	if (!strcmp(path, "-")) {
		fd = dup(STDIN_FILENO);
		snprintf(in->name, sizeof(in->name), "standard input");
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(in->name, sizeof(in->name), "%s", path);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", in->name, strerror(errno));
		return -1;
	}
	if (is_plain_file(fd)) {
		/* zlib's transparent mode would copy every byte once more */
		in->fd = fd;
	} else if (!(in->gz = gzdopen(fd, "rb"))) {
		snprintf(err, errlen, "cannot read %s: %s", in->name,
			 strerror(errno ? errno : ENOMEM));
		close(fd);
		return -1;
	}
	if (in->gz)
		gzbuffer(in->gz, CHUNK);
	in->cap = CHUNK;
	in->buf = malloc(in->cap + 1);
	if (!in->buf) {
		snprintf(err, errlen, "out of memory");
		da_input_close(in);
		return -1;
	}
	return 0;
}

static int grow(struct da_input *in, size_t need)
{
	size_t cap = in->cap;
	unsigned char *b;

	while (cap < need)
		cap *= 2;
	b = realloc(in->buf, cap + 1);
	if (!b)
		return -1;
	in->buf = b;
	in->cap = cap;
	return 0;
}

/* zlib's message, without the "<fd:N>: " it puts before it */
static void gz_message(struct da_input *in, int errnum, const char *msg)
{
	const char *p;

	if (errnum == Z_ERRNO) {
		snprintf(in->error, sizeof(in->error), "%s", strerror(errno));
		return;
	}
	if (msg[0] == '<' && (p = strstr(msg, ">: ")))
		msg = p + 3;
	if (errnum == Z_BUF_ERROR)
		snprintf(in->error, sizeof(in->error), "compressed stream cut short (%s)", msg);
	else
		snprintf(in->error, sizeof(in->error), "corrupt compressed stream (%s)", msg);
}

/* read more at the end of the buffer; 1 data, 0 end of input, -1 error */
static int read_more(struct da_input *in)
{
	int n, errnum;
	const char *msg;
	size_t want;

	if (in->eof)
		return 0;
	if (in->start && in->start == in->end) {
		in->start = in->end = 0;
	} else if (in->end == in->cap && in->start) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == in->cap)
		return 1;	/* caller grows first */
	/*
	 * zlib drops what one gzread call decompressed when the stream turns
	 * out to be cut: small requests on compressed input keep that loss
	 * small, so the events just before a truncation are still judged.
	 */
	want = in->cap - in->end;
	if (in->fd >= 0) {
		ssize_t got;

		do
			got = read(in->fd, in->buf + in->end, want);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			snprintf(in->error, sizeof(in->error), "%s", strerror(errno));
			return -1;
		}
		if (got == 0) {
			in->eof = true;
			return 0;
		}
		in->end += (size_t)got;
		return 1;
	}
	if ((in->compressed || !in->offset) && want > SMALL_READ)
		want = SMALL_READ;
	n = gzread(in->gz, in->buf + in->end, (unsigned int)want);
	if (in->offset == 0 && in->start == 0 && in->end == 0)
		in->compressed = !gzdirect(in->gz);
	if (n < 0) {
		msg = gzerror(in->gz, &errnum);
		gz_message(in, errnum, msg);
		return -1;
	}
	if (n == 0) {
		/* zlib reports a cut gzip stream at the end, as an error */
		msg = gzerror(in->gz, &errnum);
		if (errnum != Z_OK) {
			gz_message(in, errnum, msg);
			return -1;
		}
		in->eof = true;
		return 0;
	}
	in->end += (size_t)n;
	return 1;
}

static uint64_t page_floor(uint64_t pos)
{
	return pos & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
}

/*
 * Map the window of the file that starts with the page holding pos and
 * holds at least need bytes from pos, or up to the end of the file (the
 * size is read again: a record still being written is read to its current
 * end, as read() would).  1 mapped, 0 nothing at pos, -1 error.  A file
 * truncated by another process while mapped raises SIGBUS: a replay needs
 * a file that is not being cut under it.
 */
static int map_window(struct da_input *in, uint64_t pos, size_t need)
{
	uint64_t off = page_floor(pos), len = in->window;
	struct stat st;
	void *p;

	if (fstat(in->fd, &st)) {
		snprintf(in->error, sizeof(in->error), "%s", strerror(errno));
		return -1;
	}
	if ((uint64_t)st.st_size <= pos)
		return 0;
	if (len < pos - off + need)
		len = pos - off + need;
	if (len > (uint64_t)st.st_size - off)
		len = (uint64_t)st.st_size - off;
	/* the old window first: the resident pages never exceed one window */
	if (in->mapped) {
		munmap(in->buf, in->cap);
		in->buf = NULL;
		in->cap = in->start = in->end = 0;
	}
	p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, in->fd, (off_t)off);
	if (p == MAP_FAILED) {
		snprintf(in->error, sizeof(in->error), "cannot map the file: %s", strerror(errno));
		return -1;
	}
	if (!in->mapped)
		free(in->buf);
	in->buf = p;
	in->cap = (size_t)len;
	in->map_off = off;
	in->start = (size_t)(pos - off);
	in->end = (size_t)len;
	in->mapped = true;
	/* the next window's pages are read from disk while this one is decoded */
	posix_fadvise(in->fd, (off_t)(off + len), (off_t)in->window, POSIX_FADV_WILLNEED);
	return 1;
}

void da_input_map(struct da_input *in, size_t window)
{
	struct stat st;

	if (in->fd < 0 || in->mapped || getenv("DMABUF_AUDIT_NO_MMAP"))
		return;
	in->window = window ? window : MAP_WINDOW;
	/* a file that fits one window is read in a few calls: a mapping buys nothing */
	if (fstat(in->fd, &st) || (uint64_t)st.st_size <= in->window)
		return;
	/* mmap refused (a file system without it): the buffered reads go on */
	if (map_window(in, in->offset, in->end - in->start) < 0)
		in->error[0] = '\0';
}

/* the mapped input: the next window once the current one runs short */
static ssize_t fill_mapped(struct da_input *in, size_t n)
{
	if (in->end - in->start < n && map_window(in, in->offset, n) < 0)
		return -1;
	return (ssize_t)(in->end - in->start < n ? in->end - in->start : n);
}

ssize_t da_input_fill_more(struct da_input *in, size_t n)
{
	if (in->mapped)
		return fill_mapped(in, n);
	while (in->end - in->start < n) {
		int r;

		if (in->start + n > in->cap) {
			if (n > in->cap && grow(in, n)) {
				snprintf(in->error, sizeof(in->error), "out of memory");
				return -1;
			}
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		r = read_more(in);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	return (ssize_t)(in->end - in->start < n ? in->end - in->start : n);
}

int da_input_line(struct da_input *in, char **line, size_t *len)
{
	size_t scanned = 0;

	if (in->mapped) {
		/* lines are cut in place: a read-only window cannot be */
		snprintf(in->error, sizeof(in->error), "line read from a mapped input");
		return -1;
	}
	for (;;) {
		unsigned char *nl = memchr(in->buf + in->start + scanned, '\n',
					   in->end - in->start - scanned);
		int r;

		if (nl) {
			size_t n = (size_t)(nl - (in->buf + in->start));

			*nl = '\0';
			*line = (char *)in->buf + in->start;
			*len = n;
			da_input_consume(in, n + 1);
			return 1;
		}
		scanned = in->end - in->start;
		if (scanned >= DA_INPUT_MAX_LINE) {
			snprintf(in->error, sizeof(in->error), "line longer than %u bytes",
				 DA_INPUT_MAX_LINE);
			return -1;
		}
		if (in->end == in->cap) {
			if (in->start) {
				memmove(in->buf, in->buf + in->start, scanned);
				in->end = scanned;
				in->start = 0;
			} else if (grow(in, in->cap * 2)) {
				snprintf(in->error, sizeof(in->error), "out of memory");
				return -1;
			}
		}
		r = read_more(in);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (!scanned)
				return 0;
			/* last line without '\n' */
			in->buf[in->end] = '\0';
			*line = (char *)in->buf + in->start;
			*len = scanned;
			da_input_consume(in, scanned);
			return 1;
		}
	}
}

void da_input_close(struct da_input *in)
{
	if (in->gz)
		gzclose(in->gz);
	if (in->fd >= 0)
		close(in->fd);
	if (in->mapped && in->buf)
		munmap(in->buf, in->cap);
	else if (!in->mapped)
		free(in->buf);
	memset(in, 0, sizeof(*in));
	in->fd = -1;
}
