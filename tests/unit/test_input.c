// SPDX-License-Identifier: GPL-2.0
/*
 * The mapped input (src/core/input.c, da_input_map): a plain file read
 * through a window that slides along it must give the same bytes, offsets,
 * ends and errors as the buffered reads, across window boundaries, for a
 * request longer than a window, and for a file that grows while it is read;
 * a file no larger than one window is not mapped.
 * A binary record larger than the default window must read back whole, and
 * a cut one must give the buffered reader's error, word for word.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmabuf_audit/record.h"
#include "input.h"
#include "tap.h"

#define SMALL_WINDOW (64u << 10)

static char tmp_path[64];

static const char *temp_file(void)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test-input-XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0)
		return NULL;
	close(fd);
	return tmp_path;
}

static unsigned char pattern_byte(uint64_t off)
{
	return (unsigned char)(off * 2654435761u >> 13);
}

static bool append_pattern(const char *path, uint64_t from, size_t n)
{
	FILE *f = fopen(path, "ab");
	bool ok;

	if (!f)
		return false;
	for (size_t i = 0; i < n; i++)
		fputc(pattern_byte(from + i), f);
	ok = !ferror(f);
	return fclose(f) == 0 && ok;
}

/* reads n bytes at the input's position and checks them against the pattern */
static bool take(struct da_input *in, size_t n)
{
	const unsigned char *p;
	uint64_t off = in->offset;

	if (da_input_fill(in, n) != (ssize_t)n)
		return false;
	p = da_input_ptr(in);
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern_byte(off + i))
			return false;
	da_input_consume(in, n);
	return true;
}

/* reads in steps that cross windows at every alignment, then one longer than a window */
static bool mapped_reads_match_the_file(void)
{
	const char *path = temp_file();
	size_t total = 5 * SMALL_WINDOW + 12345, steps[] = { 7, 4096, 1000, 65535, 3 };
	struct da_input in;
	char err[256];
	unsigned int i = 0;

	CHECK(path && append_pattern(path, 0, total));
	CHECK(da_input_open(&in, path, err, sizeof(err)) == 0);
	CHECK(take(&in, 64)); /* what the sniffing reads, before the switch */
	da_input_map(&in, SMALL_WINDOW);
	CHECK(in.mapped);
	while (in.offset + 2 * SMALL_WINDOW < total)
		CHECK(take(&in, steps[i++ % 5]));
	CHECK(take(&in, SMALL_WINDOW + 1000)); /* longer than a window */
	/* the end: what is left, then nothing */
	CHECK(da_input_fill(&in, 1u << 20) == (ssize_t)(total - in.offset));
	CHECK(take(&in, total - in.offset));
	CHECK(da_input_fill(&in, 1) == 0);
	CHECK(in.offset == total && !in.error[0]);
	da_input_close(&in);
	unlink(path);
	return true;
}

/* a file still being written is read to its current end, as read() would */
static bool mapped_file_that_grows(void)
{
	const char *path = temp_file();
	struct da_input in;
	char err[256];

	CHECK(path && append_pattern(path, 0, 3 * SMALL_WINDOW));
	CHECK(da_input_open(&in, path, err, sizeof(err)) == 0);
	da_input_map(&in, SMALL_WINDOW);
	CHECK(in.mapped);
	CHECK(take(&in, 3 * SMALL_WINDOW - 10));
	CHECK(da_input_fill(&in, 100) == 10);
	CHECK(append_pattern(path, 3 * SMALL_WINDOW, 5000));
	CHECK(take(&in, 5010));
	CHECK(da_input_fill(&in, 1) == 0);
	da_input_close(&in);
	unlink(path);
	return true;
}

/* DMABUF_AUDIT_NO_MMAP keeps the buffered reads (the bench compares both) */
static bool no_mmap_stays_buffered(void)
{
	const char *path = temp_file();
	struct da_input in;
	char err[256];

	CHECK(path && append_pattern(path, 0, 3 * SMALL_WINDOW));
	CHECK(da_input_open(&in, path, err, sizeof(err)) == 0);
	setenv("DMABUF_AUDIT_NO_MMAP", "1", 1);
	da_input_map(&in, SMALL_WINDOW);
	unsetenv("DMABUF_AUDIT_NO_MMAP");
	CHECK(!in.mapped);
	CHECK(take(&in, 3 * SMALL_WINDOW));
	CHECK(da_input_fill(&in, 1) == 0);
	da_input_close(&in);
	unlink(path);
	return true;
}

/* a file no larger than one window is read as before: a mapping would buy nothing */
static bool small_file_stays_buffered(void)
{
	const char *path = temp_file();
	struct da_input in;
	char err[256];

	CHECK(path && append_pattern(path, 0, SMALL_WINDOW));
	CHECK(da_input_open(&in, path, err, sizeof(err)) == 0);
	da_input_map(&in, SMALL_WINDOW);
	CHECK(!in.mapped);
	CHECK(take(&in, SMALL_WINDOW));
	CHECK(da_input_fill(&in, 1) == 0);
	da_input_close(&in);
	unlink(path);
	return true;
}

/* a record of 120 000 events of 188 bytes framed: 22.6 MB, two 8 MiB default windows and more */
#define BIG_EVENTS 120000u

static bool write_big_record(const char *path)
{
	struct da_trace_info trace = { 0 };
	struct da_record_writer *w;
	struct da_event ev = { 0 };
	char err[256];

	w = da_record_writer_open(path, err, sizeof(err));
	if (!w)
		return false;
	da_record_write_header(w, &trace);
	for (uint32_t i = 0; i < BIG_EVENTS; i++) {
		ev.seq = i + 1;
		ev.ts_ns = 1000 + i;
		ev.op = i & 1 ? DA_OP_RELEASE : DA_OP_EXPORT;
		ev.buf = 0xffff888000000000ull + (uint64_t)(i / 2) * 4096;
		ev.tid = 100 + i % 7;
		snprintf(ev.comm, sizeof(ev.comm), "task%u", i % 7);
		da_record_write_event(w, &ev);
	}
	return da_record_writer_close(w, err, sizeof(err)) == 0;
}

/* every event, in order; the error of the reading, "" if it ended cleanly */
static bool read_record(const char *path, uint64_t *events, char *err, size_t errlen)
{
	struct da_trace_info trace = { 0 };
	struct da_record_item *item = malloc(sizeof(*item));
	struct da_record_reader *r = da_record_reader_open(path, err, errlen);
	int ret = -1;

	*events = 0;
	err[0] = '\0';
	if (!r || !item || da_record_read_header(r, &trace, err, errlen)) {
		da_record_reader_close(r);
		free(item);
		return false;
	}
	while ((ret = da_record_next(r, item, err, errlen)) > 0)
		if (item->type == DA_REC_EVENT && item->event.seq == *events + 1)
			(*events)++;
	da_record_reader_close(r);
	free(item);
	if (ret == 0)
		err[0] = '\0';
	return true;
}

static bool big_record_mapped_and_buffered(void)
{
	const char *path = temp_file();
	char err_map[512], err_buf[512];
	uint64_t n_map, n_buf;

	CHECK(path && write_big_record(path));
	CHECK(read_record(path, &n_map, err_map, sizeof(err_map)));
	CHECK(n_map == BIG_EVENTS && !err_map[0]);
	/* cut inside the last records: the same error either way */
	CHECK(truncate(path, 16 * 1024 * 1024 + 100 * 176 + 50) == 0);
	CHECK(read_record(path, &n_map, err_map, sizeof(err_map)));
	setenv("DMABUF_AUDIT_NO_MMAP", "1", 1);
	CHECK(read_record(path, &n_buf, err_buf, sizeof(err_buf)));
	unsetenv("DMABUF_AUDIT_NO_MMAP");
	printf("# cut record: %" PRIu64 " events, %s\n", n_map, err_map);
	/* the events of the first two windows, then some of the third */
	CHECK(n_map == n_buf && n_map > 16 * 1024 * 1024 / (sizeof(struct da_event) + 12));
	CHECK(strstr(err_map, ": truncated at byte offset ") != NULL);
	CHECK(!strcmp(err_map, err_buf));
	unlink(path);
	return true;
}

TAP_MAIN(TAP_TEST(mapped_reads_match_the_file), TAP_TEST(mapped_file_that_grows),
	 TAP_TEST(no_mmap_stays_buffered), TAP_TEST(small_file_stays_buffered),
	 TAP_TEST(big_record_mapped_and_buffered))
