// SPDX-License-Identifier: GPL-2.0
/*
 * The readers on bad input (issue 9's reproducers): a checksummed record
 * whose fields are out of their domain, LOST records, SCOPE and STACK
 * records, lax JSON pointers, lost notices, an endless first line, a gzip
 * file cut inside its first read, policy files that cannot be read into
 * memory; and the symbol and stack tables, which must stay linear and
 * bounded.  Each bad input must give exactly one clear error; the correct
 * twin of each must read to the end without one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "dmabuf_audit/policy.h"
#include "dmabuf_audit/record.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace_reader.h"
#include "tap.h"

static char tmp_path[64];

static const char *temp_name(const char *suffix)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test-readers-XXXXXX%s", suffix);
	fd = mkstemps(tmp_path, (int)strlen(suffix));
	if (fd < 0)
		return NULL;
	close(fd);
	return tmp_path;
}

static const char *write_text(const char *text, size_t len)
{
	const char *p = temp_name(".jsonl");
	FILE *f = p ? fopen(p, "w") : NULL;

	if (!f)
		return NULL;
	if (fwrite(text, 1, len, f) != len) {
		fclose(f);
		return NULL;
	}
	return fclose(f) ? NULL : p;
}

/*
 * Read a whole trace: 0 when it reads to its end, else -1 with the error in
 * err; *items counts the items read before.
 */
static int read_all(const char *path, unsigned int *items, char *err, size_t errlen)
{
	static struct da_record_item item;
	struct da_trace_info trace = { 0 };
	struct da_symbols *syms = da_symbols_new();
	struct da_trace_reader *r = da_trace_reader_open(path, err, errlen);
	int ret = -1;

	*items = 0;
	if (r && syms && !da_trace_reader_header(r, &trace, syms, err, errlen)) {
		while ((ret = da_trace_reader_next(r, &item, err, errlen)) > 0)
			(*items)++;
	}
	da_trace_reader_close(r);
	da_symbols_free(syms);
	return ret < 0 ? -1 : 0;
}

/* ---- binary records ---- */

static struct da_event good_event(uint64_t seq)
{
	struct da_event ev = { .seq = seq,
			       .ts_ns = 1000 * seq,
			       .op = DA_OP_EXPORT,
			       .buf = 0xb1000,
			       .resv = 0xc1000,
			       .pid = 7,
			       .tid = 7 };

	strcpy(ev.comm, "test");
	strcpy(ev.name, "vfio_pci_core");
	return ev;
}

/* a record with one scope named in its header, a good event, then ev; its byte offset */
static const char *write_record(const struct da_event *ev, uint64_t *ev_offset)
{
	struct da_trace_info trace = { .n_scopes = 1 };
	struct da_event first = good_event(1);
	const char *p = temp_name(".bin");
	struct da_record_writer *w;
	char err[256];
	struct stat st;

	strcpy(trace.scope_names[0], "vfio_pci_dma_buf_move");
	w = p ? da_record_writer_open(p, err, sizeof(err)) : NULL;
	if (!w)
		return NULL;
	da_record_write_header(w, &trace);
	da_record_write_event(w, &first);
	da_record_write_event(w, ev);
	if (da_record_writer_close(w, err, sizeof(err)) || stat(p, &st))
		return NULL;
	/* the last event is followed only by END (8 + 8 + 4 bytes) */
	*ev_offset = (uint64_t)st.st_size - 20 - (8 + sizeof(*ev) + 4);
	return p;
}

/* ev must be refused at its own byte offset, naming why */
static bool record_refuses(const struct da_event *ev, const char *why)
{
	char err[512], want[160];
	unsigned int items;
	uint64_t offset;
	const char *p = write_record(ev, &offset);
	int ret;

	CHECK(p);
	ret = read_all(p, &items, err, sizeof(err));
	unlink(p);
	snprintf(want, sizeof(want), "corrupt record at byte offset %llu: EVENT record: %s",
		 (unsigned long long)offset, why);
	if (ret != -1 || items != 1 || !strstr(err, want)) {
		printf("# ret %d, %u items, error \"%s\", wanted \"%s\"\n", ret, items, err, want);
		return false;
	}
	return true;
}

static bool record_good_events_read_to_the_end(void)
{
	struct da_event ev = good_event(2);
	struct da_event scope = good_event(3);
	char err[512] = "";
	unsigned int items;
	uint64_t offset;
	const char *p;

	ev.op = DA_OP_FENCE_WAIT;
	ev.usage = DA_USAGE_BOOKKEEP;
	ev.resv_held = DA_RESV_HELD;
	ev.flags = DA_F_INTR | DA_F_STACK;
	strcpy(ev.comm, "fifteen-chars-x"); /* fills comm up to its NUL */
	p = write_record(&ev, &offset);
	CHECK(p);
	CHECK(read_all(p, &items, err, sizeof(err)) == 0);
	unlink(p);
	CHECK(items == 2 && !err[0]);
	scope.op = DA_OP_SCOPE_EXIT;
	scope.fn = 0; /* the header's one scope */
	p = write_record(&scope, &offset);
	CHECK(p);
	CHECK(read_all(p, &items, err, sizeof(err)) == 0);
	unlink(p);
	return items == 2;
}

static bool record_refuses_out_of_range_events(void)
{
	struct da_event ev;

	ev = good_event(2), ev.op = 0;
	CHECK(record_refuses(&ev, "op 0 out of range (1-19)"));
	ev = good_event(2), ev.op = 200;
	CHECK(record_refuses(&ev, "op 200 out of range"));
	ev = good_event(2), ev.resv_held = 9;
	CHECK(record_refuses(&ev, "resv_held 9 out of range (0-2)"));
	ev = good_event(2), ev.op = DA_OP_INVALIDATE, ev.fn = 77;
	CHECK(record_refuses(&ev, "invalidate fn 77 out of range (0-1)"));
	ev = good_event(2), ev.op = DA_OP_FENCE_WAIT, ev.usage = 200;
	CHECK(record_refuses(&ev, "fence wait usage 200 out of range (0-3)"));
	ev = good_event(2), ev.op = DA_OP_SCOPE_ENTER, ev.fn = 250;
	CHECK(record_refuses(&ev, "scope slot 250 beyond the 1 scope named so far"));
	ev = good_event(2), ev.fn = 1;
	CHECK(record_refuses(&ev, "fn 1 on op export, which has none"));
	ev = good_event(2), memset(ev.comm, 'A', sizeof(ev.comm));
	CHECK(record_refuses(&ev, "comm without a terminating NUL"));
	ev = good_event(2), memset(ev.name, 'B', sizeof(ev.name));
	CHECK(record_refuses(&ev, "name without a terminating NUL"));
	ev = good_event(2), ev.flags = DA_F_PHYS; /* every flags bit has a meaning: this one on map only */
	CHECK(record_refuses(&ev, "phys flag on op export (map only)"));
	ev = good_event(2), ev.pad[1] = 1;
	CHECK(record_refuses(&ev, "padding bytes are not zero"));
	ev = good_event(2), ev.flags = DA_F_STACK, ev.stack_id = -14;
	CHECK(record_refuses(&ev, "stack flag with stack id -14"));
	ev = good_event(2), ev.seq = 1ull << 63;
	CHECK(record_refuses(&ev, "seq, ts_ns, ino, size or cgroup_id beyond 2^63-1"));
	ev = good_event(2), ev.cgroup_id = 1ull << 63;
	CHECK(record_refuses(&ev, "seq, ts_ns, ino, size or cgroup_id beyond 2^63-1"));
	return true;
}

/* a record whose second record is LOST, SCOPE or STACK; the error or "" */
enum extra { EXTRA_LOST, EXTRA_SCOPE, EXTRA_STACK };

static bool record_with(enum extra kind, uint64_t a, uint64_t b, const char *want)
{
	struct da_trace_info trace = { 0 };
	const char *frames[] = { "vfio_pci_core_write+0x10", "" };
	const char *p = temp_name(".bin");
	struct da_record_writer *w;
	char err[512] = "";
	unsigned int items;
	int ret;

	w = p ? da_record_writer_open(p, err, sizeof(err)) : NULL;
	CHECK(w);
	da_record_write_header(w, &trace);
	if (kind == EXTRA_LOST)
		da_record_write_lost(w, a, b);
	else if (kind == EXTRA_SCOPE)
		da_record_write_scope(w, (unsigned int)a, "vfio_pci_dma_buf_move");
	else
		da_record_write_stack(w, (int32_t)a, frames, (unsigned int)b);
	CHECK(!da_record_writer_close(w, err, sizeof(err)));
	ret = read_all(p, &items, err, sizeof(err));
	unlink(p);
	if (!want[0] ? ret == 0 && items == 1 : ret == -1 && items == 0 && strstr(err, want))
		return true;
	printf("# ret %d, %u items, error \"%s\", wanted \"%s\"\n", ret, items, err, want);
	return false;
}

static bool record_lost_scope_stack_validated(void)
{
	/* 16-byte file header, then the HEADER record of an empty trace */
	CHECK(record_with(EXTRA_LOST, 4, 2, ""));
	CHECK(record_with(EXTRA_LOST, 4, 0, ": LOST record: a loss of 0 events"));
	CHECK(record_with(EXTRA_LOST, UINT64_MAX - 15, 1ull << 63,
			  ": LOST record: seq 18446744073709551600 + 9223372036854775808 lost"
			  " events goes beyond 2^63-1"));
	CHECK(record_with(EXTRA_LOST, 0, (1ull << 63) + 1, "goes beyond 2^63-1"));
	CHECK(record_with(EXTRA_LOST, 0, 1ull << 63, "goes beyond 2^63-1"));
	CHECK(record_with(EXTRA_LOST, 1, INT64_MAX, "goes beyond 2^63-1"));
	CHECK(record_with(EXTRA_LOST, 0, INT64_MAX, ""));
	CHECK(record_with(EXTRA_SCOPE, 0, 0, ""));
	CHECK(record_with(EXTRA_SCOPE, 5, 0, ": SCOPE record: scope slot 5 (0 named so far)"));
	CHECK(record_with(EXTRA_STACK, 3, 1, ""));
	CHECK(record_with(EXTRA_STACK, -1, 1, ": STACK record whose fields do not fill"));
	CHECK(record_with(EXTRA_STACK, 3, 2, ": STACK record whose fields do not fill"));
	return true;
}

/* ---- tables ---- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool symbols_intern_is_linear(void)
{
	struct da_symbols *syms = da_symbols_new();
	enum { N = 200000 };
	uint64_t first = 0, addr;
	char name[32];
	double t0 = seconds();

	CHECK(syms);
	CHECK(!da_symbols_add(syms, 0xffffffff81000000ull, "iopt_revoke_notify"));
	CHECK(da_symbols_intern(syms, "iopt_revoke_notify") == 0xffffffff81000000ull);
	for (unsigned int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "ops_%u", i);
		addr = da_symbols_intern(syms, name);
		CHECK(addr);
		if (!i)
			first = addr;
	}
	/* a scan per name (before the index) took minutes for this many names */
	CHECK(seconds() - t0 < 3.0);
	CHECK(da_symbols_intern(syms, "ops_0") == first);
	CHECK(!strcmp(da_symbols_lookup(syms, first), "ops_0"));
	/* a renamed address is no longer found under its old name */
	CHECK(!da_symbols_add(syms, first, "renamed"));
	CHECK(da_symbols_intern(syms, "renamed") == first);
	CHECK(da_symbols_intern(syms, "ops_0") != first);
	da_symbols_free(syms);
	return true;
}

static bool stacks_are_hashed_and_bounded(void)
{
	struct da_stacks *t = da_stacks_new();
	const char *frames[2] = { "a+0x1", "b+0x2" }, *out[4];
	static char big[200000];
	const char *bigp = big;
	unsigned int i;

	CHECK(t);
	for (i = 0; i < DA_STACKS_MAX; i++)
		CHECK(da_stacks_set(t, (int32_t)i * 7 - 1000, frames, 2) == 0);
	CHECK(da_stacks_set(t, 1 << 30, frames, 1) == -ENOSPC);
	/* an id already there is replaced, not added */
	CHECK(da_stacks_set(t, -1000, frames + 1, 1) == 0);
	CHECK(da_stacks_resolve(t, -1000, out, 4) == 1 && !strcmp(out[0], "b+0x2"));
	CHECK(da_stacks_resolve(t, 6000, out, 4) == 2 && !strcmp(out[1], "b+0x2"));
	CHECK(da_stacks_resolve(t, 5, out, 4) == 0);
	da_stacks_free(t);

	t = da_stacks_new();
	CHECK(t);
	memset(big, 'x', sizeof(big) - 1);
	for (i = 0; (size_t)(i + 1) * sizeof(big) <= DA_STACKS_MAX_BYTES; i++)
		CHECK(da_stacks_set(t, (int32_t)i, &bigp, 1) == 0);
	CHECK(da_stacks_set(t, (int32_t)i, &bigp, 1) == -ENOSPC);
	CHECK(da_stacks_set(t, 0, frames, 1) == 0); /* replacing frees the old bytes */
	CHECK(da_stacks_set(t, (int32_t)i, &bigp, 1) == 0);
	da_stacks_free(t);
	return true;
}

/* ---- JSON Lines ---- */

static bool jsonl_error(const char *text, const char *want)
{
	const char *p = write_text(text, strlen(text));
	char err[512] = "";
	unsigned int items;
	int ret;

	CHECK(p);
	ret = read_all(p, &items, err, sizeof(err));
	unlink(p);
	if (!want[0] ? ret == 0 : ret == -1 && strstr(err, want))
		return true;
	printf("# ret %d, error \"%s\", wanted \"%s\"\n", ret, err, want ? want : "none");
	return false;
}

#define EXPORT(buf) "{\"op\":\"export\",\"buf\":" buf ",\"resv\":\"0xc1000\",\"ret\":0}\n"

static bool jsonl_pointers_are_strict(void)
{
	CHECK(jsonl_error(EXPORT("\"0xb1000\""), ""));
	CHECK(jsonl_error(EXPORT("\"0XFFFFFFFFFFFFFFFF\""), ""));
	CHECK(jsonl_error(EXPORT("4096"), ""));
	CHECK(jsonl_error(EXPORT("\"0x-1\""),
			  "line 1: 'buf': \"0x-1\" is not a pointer (\"0x\" and 1 to 16 hex"
			  " digits)"));
	CHECK(jsonl_error(EXPORT("\"0x 2\""), "'buf': \"0x 2\" is not a pointer"));
	CHECK(jsonl_error(EXPORT("\"0x0x5\""), "'buf': \"0x0x5\" is not a pointer"));
	CHECK(jsonl_error(EXPORT("\"0x+7\""), "'buf': \"0x+7\" is not a pointer"));
	CHECK(jsonl_error(EXPORT("\"0x\""), "'buf': \"0x\" is not a pointer"));
	CHECK(jsonl_error(EXPORT("\"0x10000000000000000\""), "is not a pointer"));
	CHECK(jsonl_error(EXPORT("-16"), "'buf' must be a pointer, not the negative integer -16"));
	CHECK(jsonl_error("{\"op\":\"attach\",\"buf\":\"0xb1000\",\"attach\":\"0xa1000\","
			  "\"importer_ops\":\"0x-1\",\"ret\":0}\n",
			  "'importer_ops': \"0x-1\" is not a pointer"));
	return true;
}

#define LOST(first, count)                                                              \
	"{\"type\":\"notice\",\"kind\":\"lost\",\"message\":\"m\",\"first_seq\":" first \
	",\"count\":" count ",\"seq_gap\":false}\n"

static bool jsonl_lost_notices_validated(void)
{
	CHECK(jsonl_error(LOST("4", "2"), ""));
	CHECK(jsonl_error(LOST("4", "0"), "line 1: lost notice: a loss of 0 events"));
	CHECK(jsonl_error(LOST("9223372036854775807", "2"), "lost events goes beyond 2^63-1"));
	CHECK(jsonl_error(LOST("1", "9223372036854775807"), "lost events goes beyond 2^63-1"));
	CHECK(jsonl_error(LOST("0", "9223372036854775807"), ""));
	CHECK(jsonl_error(LOST("-16", "2"), "line 1: a lost notice without non-negative integer"));
	CHECK(jsonl_error(LOST("4", "-9223372036854775808"), "without non-negative integer"));
	return true;
}

static bool jsonl_endless_first_line_is_line_1(void)
{
	size_t n = (16u << 20) + 100;
	char *text = malloc(n + 1);
	const char *p;
	char err[512] = "";
	unsigned int items;
	int ret;

	CHECK(text);
	memset(text, ' ', n);
	text[0] = '{';
	text[n] = '\0';
	p = write_text(text, n);
	free(text);
	CHECK(p);
	ret = read_all(p, &items, err, sizeof(err));
	unlink(p);
	CHECK(ret == -1);
	CHECK(strstr(err, ": line 1: read error: line longer than 16777216 bytes"));
	return true;
}

/* a gzip file cut inside its first read: 10 bytes of gzip header, 10 of deflate */
static bool gzip_cut_in_first_read(void)
{
	const char *p = temp_name(".gz");
	char path[64], err[512] = "", line[80];
	struct da_trace_reader *r;
	gzFile gz;
	struct stat st;

	CHECK(p);
	snprintf(path, sizeof(path), "%s", p);
	gz = gzopen(path, "wb");
	CHECK(gz);
	for (unsigned int i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), EXPORT("\"0x%x\""), 0x1000 + i);
		gzputs(gz, line);
	}
	CHECK(gzclose(gz) == Z_OK);
	CHECK(!stat(path, &st) && truncate(path, 20) == 0);
	r = da_trace_reader_open(path, err, sizeof(err));
	unlink(path);
	CHECK(!r);
	CHECK(strstr(err, ": read error at byte offset 0 of the uncompressed stream: compressed"
			  " stream cut short"));
	return true;
}

/* ---- policy files ---- */

static bool policy_reader_refuses_unreadable_lines(void)
{
	static char text[8192];
	struct da_policy pol;
	char err[512] = "";
	const char *p;

	da_policy_init_default(&pol);
	/* the device that never ends: refused at its first byte */
	CHECK(da_policy_load(&pol, "/dev/zero", err, sizeof(err)) == -1);
	CHECK(!strcmp(err, "/dev/zero:1: NUL byte in line (not a text file?)"));
	/* a good line, then a line of NUL bytes: nothing applied */
	memcpy(text, "rule pin-leak off\n", 18);
	p = write_text(text, sizeof(text));
	CHECK(p);
	CHECK(da_policy_load(&pol, p, err, sizeof(err)) == -1);
	unlink(p);
	CHECK(strstr(err, ":2: NUL byte in line") && pol.rule_enabled[DA_RULE_PIN_LEAK]);
	/* a line longer than the bound */
	memset(text, ' ', sizeof(text));
	p = write_text(text, sizeof(text));
	CHECK(p);
	CHECK(da_policy_load(&pol, p, err, sizeof(err)) == -1);
	unlink(p);
	CHECK(strstr(err, ":1: line longer than 4096 bytes"));
	/* the longest line allowed, and a last line without '\n' */
	memcpy(text + 4096, "\nrule pin-leak off", 18);
	p = write_text(text, 4096 + 18);
	CHECK(p);
	CHECK(da_policy_load(&pol, p, err, sizeof(err)) == 0);
	unlink(p);
	CHECK(!pol.rule_enabled[DA_RULE_PIN_LEAK]);
	return true;
}

TAP_MAIN(TAP_TEST(record_good_events_read_to_the_end), TAP_TEST(record_refuses_out_of_range_events),
	 TAP_TEST(record_lost_scope_stack_validated), TAP_TEST(symbols_intern_is_linear),
	 TAP_TEST(stacks_are_hashed_and_bounded), TAP_TEST(jsonl_pointers_are_strict),
	 TAP_TEST(jsonl_lost_notices_validated), TAP_TEST(jsonl_endless_first_line_is_line_1),
	 TAP_TEST(gzip_cut_in_first_read), TAP_TEST(policy_reader_refuses_unreadable_lines))
