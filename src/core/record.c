// SPDX-License-Identifier: GPL-2.0
/*
 * The binary trace record: writer (--record) and reader (replay).  Layout in
 * include/dmabuf_audit/record.h and docs/output.md.
 *
 * The writer frames each record with its length and a checksum, so the
 * reader can say exactly where a file is cut or damaged and still hand over
 * every record before that point.  Writing goes through a buffer; a ".gz"
 * name goes through gzwrite.  Reading an EVENT is a copy of sizeof(struct
 * da_event) bytes and one checksum: replaying a record runs at millions of
 * events per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/record.h"
#include "errorf.h"
#include "input.h"
#include "outfile.h"

#define WBUF (256u << 10)

/*
 * Record checksums.  Format version 1 used zlib's crc32 (CRC-32/IEEE);
 * version 2 uses CRC-32C (Castagnoli), which x86-64 computes in hardware
 * (the SSE4.2 crc32 instruction, 8 bytes at a time).  zlib's crc32 was half
 * of replay's time; CRC-32C catches the same damage (every burst up to 32
 * bits, any odd number of flipped bits).  No Debian package ships a static
 * CRC-32C library, so it is computed here: the instruction where the CPU
 * has it, a byte-wise table otherwise.  The reader keeps version 1.
 */
#define CRC32C_POLY 0x82f63b78u	/* reflected Castagnoli polynomial */

typedef uint32_t (*checksum_fn)(uint32_t crc, const void *data, size_t len);

static uint32_t crc32c_table[256];

static uint32_t crc32c_soft(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * The instruction's latency (3 cycles), not its throughput (1 a cycle),
 * bounds one chain of crc32 instructions: two lanes of CRC32C_LANE bytes
 * are computed side by side and joined.  Without the inversions, CRC-32C
 * is linear: crc(s, A B) = Z(crc(s, A)) ^ crc(0, B), Z the crc of
 * CRC32C_LANE zero bytes, a linear map applied as 4 byte tables.  An EVENT
 * record's type, length and payload (176 bytes) are exactly two lanes.
 */
#define CRC32C_LANE 88u
static uint32_t crc32c_lane_zeros[4][256];

/* the raw crc (no inversions) after n zero bytes */
static uint32_t crc32c_zeros(uint32_t crc, size_t n)
{
	while (n--)
		crc = crc32c_table[crc & 0xff] ^ (crc >> 8);
	return crc;
}

static void crc32c_lane_init(void)
{
	for (unsigned int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++)
			crc32c_lane_zeros[k][b] = crc32c_zeros(b << (8 * k), CRC32C_LANE);
}

static inline uint32_t crc32c_lane_shift(uint32_t c)
{
	return crc32c_lane_zeros[0][c & 0xff] ^ crc32c_lane_zeros[1][(c >> 8) & 0xff] ^
	       crc32c_lane_zeros[2][(c >> 16) & 0xff] ^ crc32c_lane_zeros[3][c >> 24];
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data,
								size_t len)
{
	const unsigned char *p = data;
	uint64_t c = ~crc & 0xffffffffu;
	uint32_t c32;

	for (; len >= 2 * CRC32C_LANE; len -= 2 * CRC32C_LANE, p += 2 * CRC32C_LANE) {
		uint64_t a = c, b = 0;

		for (unsigned int i = 0; i < CRC32C_LANE; i += 8) {
			uint64_t va, vb;

			memcpy(&va, p + i, sizeof(va));
			memcpy(&vb, p + CRC32C_LANE + i, sizeof(vb));
			a = __builtin_ia32_crc32di(a, va);
			b = __builtin_ia32_crc32di(b, vb);
		}
		c = crc32c_lane_shift((uint32_t)a) ^ (uint32_t)b;
	}
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c = __builtin_ia32_crc32di(c, v);
	}
	c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return ~c32;
}
#endif

static uint32_t zlib_crc32(uint32_t crc, const void *data, size_t len)
{
	return (uint32_t)crc32_z(crc, data, len);
}

/* the checksum of a record format version */
static checksum_fn record_checksum(uint32_t version)
{
	static checksum_fn crc32c;

	if (version < 2)
		return zlib_crc32;
	if (!crc32c) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
			crc32c_table[i] = c;
		}
		crc32c_lane_init();
		/* DA_RECORD_SOFT_CRC: the tests check the table path against the instruction */
#if defined(__x86_64__)
		crc32c = __builtin_cpu_supports("sse4.2") && !getenv("DA_RECORD_SOFT_CRC") ?
				 crc32c_sse42 :
				 crc32c_soft;
#else
		/* other architectures (the arm64 build): the table */
		crc32c = crc32c_soft;
#endif
	}
	return crc32c;
}

struct da_record_writer {
	char path[256];
	FILE *file;		/* plain */
	gzFile gz;		/* ".gz" */
	unsigned char *buf;
	size_t len;
	uint64_t events;
	checksum_fn checksum;
	int error;		/* errno of the first failure */
	char errmsg[160];
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

struct da_record_writer *da_record_writer_open(const char *path, char *err, size_t errlen)
{
	struct da_record_writer *w = calloc(1, sizeof(*w));
	uint32_t hdr[2] = { DA_RECORD_VERSION, 0 };
	int fd;

	if (!w || !(w->buf = malloc(WBUF))) {
		snprintf(err, errlen, "out of memory");
		free(w);
		return NULL;
	}
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->checksum = record_checksum(DA_RECORD_VERSION);
	/* 0600: the record keeps raw kernel addresses (as sensitive as kallsyms) */
	fd = da_outfile_open(path, "--record", false, 0600, err, errlen);
	if (fd < 0) {
		free(w->buf);
		free(w);
		return NULL;
	}
	/* level 1: a live trace must not wait for the compressor */
	if (ends_with(path, ".gz"))
		w->gz = gzdopen(fd, "wb1");
	else
		w->file = fdopen(fd, "wb");
	if (!w->gz && !w->file) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno ? errno : ENOMEM));
		close(fd);
		free(w->buf);
		free(w);
		return NULL;
	}
	memcpy(w->buf, DA_RECORD_MAGIC, DA_RECORD_MAGIC_LEN);
	memcpy(w->buf + DA_RECORD_MAGIC_LEN, hdr, sizeof(hdr));
	w->len = DA_RECORD_FILE_HEADER_LEN;
	return w;
}

const char *da_record_writer_path(const struct da_record_writer *w)
{
	return w->path;
}

static void set_error(struct da_record_writer *w, int errnum, const char *what)
{
	if (w->error)
		return;
	w->error = errnum ? errnum : EIO;
	snprintf(w->errmsg, sizeof(w->errmsg), "%s", what ? what : strerror(w->error));
}

static int flush_buf(struct da_record_writer *w)
{
	if (!w->len || w->error)
		return w->error ? -1 : 0;
	if (w->gz) {
		if (gzwrite(w->gz, w->buf, (unsigned int)w->len) != (int)w->len) {
			int errnum;
			const char *msg = gzerror(w->gz, &errnum);

			set_error(w, errnum == Z_ERRNO ? errno : EIO,
				  errnum == Z_ERRNO ? NULL : msg);
		}
	} else if (fwrite(w->buf, 1, w->len, w->file) != w->len) {
		set_error(w, errno, NULL);
	}
	w->len = 0;
	return w->error ? -1 : 0;
}

/* append one framed record: type, length, payload (in pieces), crc */
struct piece {
	const void *p;
	size_t n;
};

static int put_record(struct da_record_writer *w, uint32_t type, const struct piece *pieces,
		      unsigned int n_pieces)
{
	uint32_t len = 0, crc;
	uint32_t head[2];
	size_t total;

	if (w->error)
		return -1;
	for (unsigned int i = 0; i < n_pieces; i++)
		len += (uint32_t)pieces[i].n;
	if (len > DA_RECORD_MAX_LEN) {
		set_error(w, EINVAL, "record too long");
		return -1;
	}
	total = sizeof(head) + len + sizeof(crc);
	if (w->len + total > WBUF && flush_buf(w))
		return -1;
	head[0] = type;
	head[1] = len;
	crc = w->checksum(0, head, sizeof(head));
	for (unsigned int i = 0; i < n_pieces; i++)
		if (pieces[i].n)
			crc = w->checksum(crc, pieces[i].p, pieces[i].n);
	memcpy(w->buf + w->len, head, sizeof(head));
	w->len += sizeof(head);
	for (unsigned int i = 0; i < n_pieces; i++) {
		memcpy(w->buf + w->len, pieces[i].p, pieces[i].n);
		w->len += pieces[i].n;
	}
	memcpy(w->buf + w->len, &crc, sizeof(crc));
	w->len += sizeof(crc);
	return 0;
}

/* a growable scratch payload for records with strings */
struct payload {
	unsigned char data[8192];
	size_t n;
	bool overflow;
};

static void pl_put(struct payload *pl, const void *p, size_t n)
{
	if (pl->n + n > sizeof(pl->data)) {
		pl->overflow = true;
		return;
	}
	memcpy(pl->data + pl->n, p, n);
	pl->n += n;
}

static void pl_u32(struct payload *pl, uint32_t v)
{
	pl_put(pl, &v, sizeof(v));
}

static void pl_str(struct payload *pl, const char *s, size_t max)
{
	uint16_t n = (uint16_t)strnlen(s, max < 65535 ? max : 65535);

	pl_put(pl, &n, sizeof(n));
	pl_put(pl, s, n);
}

static int put_payload(struct da_record_writer *w, uint32_t type, const struct payload *pl)
{
	struct piece pc = { pl->data, pl->n };

	if (pl->overflow) {
		set_error(w, EINVAL, "record too long");
		return -1;
	}
	return put_record(w, type, &pc, 1);
}

int da_record_write_header(struct da_record_writer *w, const struct da_trace_info *trace)
{
	struct payload *pl = calloc(1, sizeof(*pl));
	unsigned int n_hooks = trace->n_hooks < DA_MAX_HOOKS ? trace->n_hooks : DA_MAX_HOOKS;
	unsigned int n_scopes = trace->n_scopes < DA_MAX_SCOPES ? trace->n_scopes : DA_MAX_SCOPES;
	int ret;

	if (!pl) {
		set_error(w, ENOMEM, NULL);
		return -1;
	}
	pl_u32(pl, DA_RECORD_BYTE_ORDER);
	pl_u32(pl, sizeof(struct da_event));
	pl_u32(pl, trace->quirks);
	pl_u32(pl, n_hooks);
	pl_u32(pl, n_scopes);
	pl_str(pl, DA_VERSION, 64);
	pl_str(pl, trace->kernel, sizeof(trace->kernel));
	for (unsigned int i = 0; i < n_hooks; i++) {
		const struct da_hook_status *h = &trace->hooks[i];
		uint8_t attached = h->attached;

		pl_str(pl, h->function, sizeof(h->function));
		pl_str(pl, h->mode, sizeof(h->mode));
		pl_put(pl, &attached, 1);
		pl_str(pl, h->reason, sizeof(h->reason));
	}
	for (unsigned int i = 0; i < n_scopes; i++)
		pl_str(pl, trace->scope_names[i], DA_FUNC_LEN);
	/* version 3: where and when it was recorded */
	pl_str(pl, trace->host, sizeof(trace->host));
	pl_str(pl, trace->boot_id, sizeof(trace->boot_id));
	pl_u32(pl, trace->has_realtime);
	pl_put(pl, &trace->realtime_offset_ns, sizeof(trace->realtime_offset_ns));
	ret = put_payload(w, DA_REC_HEADER, pl);
	free(pl);
	return ret;
}

int da_record_write_event(struct da_record_writer *w, const struct da_event *ev)
{
	struct piece pc = { ev, sizeof(*ev) };

	w->events++;
	return put_record(w, DA_REC_EVENT, &pc, 1);
}

int da_record_write_symbol(struct da_record_writer *w, uint64_t addr, const char *name)
{
	uint16_t n = (uint16_t)strnlen(name, 4096);
	struct piece pc[3] = { { &addr, sizeof(addr) }, { &n, sizeof(n) }, { name, n } };

	return put_record(w, DA_REC_SYMBOL, pc, 3);
}

int da_record_write_cgroup(struct da_record_writer *w, uint64_t id, const char *path)
{
	uint16_t n = (uint16_t)strnlen(path, 4096);
	struct piece pc[3] = { { &id, sizeof(id) }, { &n, sizeof(n) }, { path, n } };

	return put_record(w, DA_REC_CGROUP, pc, 3);
}

int da_record_write_lost(struct da_record_writer *w, uint64_t first_seq, uint64_t count)
{
	uint64_t v[2] = { first_seq, count };
	struct piece pc = { v, sizeof(v) };

	return put_record(w, DA_REC_LOST, &pc, 1);
}

int da_record_write_stack(struct da_record_writer *w, int32_t stack_id, const char *const *frames,
			  unsigned int n)
{
	struct payload *pl = calloc(1, sizeof(*pl));
	int ret;

	if (!pl) {
		set_error(w, ENOMEM, NULL);
		return -1;
	}
	if (n > DA_RECORD_MAX_FRAMES)
		n = DA_RECORD_MAX_FRAMES;
	pl_put(pl, &stack_id, sizeof(stack_id));
	pl_u32(pl, n);
	for (unsigned int i = 0; i < n; i++)
		pl_str(pl, frames[i] ? frames[i] : "?", 256);
	ret = put_payload(w, DA_REC_STACK, pl);
	free(pl);
	return ret;
}

int da_record_write_scope(struct da_record_writer *w, unsigned int slot, const char *name)
{
	uint32_t s = slot;
	uint16_t n = (uint16_t)strnlen(name, DA_FUNC_LEN);
	struct piece pc[3] = { { &s, sizeof(s) }, { &n, sizeof(n) }, { name, n } };

	return put_record(w, DA_REC_SCOPE, pc, 3);
}

int da_record_write_tick(struct da_record_writer *w, uint64_t now_ns)
{
	struct piece pc = { &now_ns, sizeof(now_ns) };

	return put_record(w, DA_REC_TICK, &pc, 1);
}

int da_record_writer_close(struct da_record_writer *w, char *err, size_t errlen)
{
	uint64_t events = w->events;
	struct piece pc = { &events, sizeof(events) };
	int ret = 0;

	put_record(w, DA_REC_END, &pc, 1);
	flush_buf(w);
	if (w->gz) {
		int r = gzclose(w->gz);

		if (r != Z_OK)
			set_error(w, r == Z_ERRNO ? errno : EIO,
				  r == Z_ERRNO ? NULL : "compression failed");
	} else if (w->file) {
		if (fflush(w->file) || ferror(w->file))
			set_error(w, errno, NULL);
		if (fclose(w->file))
			set_error(w, errno, NULL);
	}
	if (w->error) {
		snprintf(err, errlen, "cannot write %s: %s", w->path, w->errmsg);
		ret = -1;
	}
	free(w->buf);
	free(w);
	return ret;
}

/* ------------------------------------------------------------ event domain */

/*
 * What a well-formed event holds: the BPF side zeroes every event before
 * filling it (bpf/common.bpf.h), and the JSON reader builds events from
 * names, so any value outside these domains is damage or forgery.  Checked
 * for every event a reader hands over, so that a checksummed but invalid
 * record is refused instead of being judged as "DMA_RESV_USAGE_unknown".
 */
#define DA_F_KNOWN                                                                        \
	(DA_F_DYNAMIC | DA_F_PEER2PEER | DA_F_LOCKED | DA_F_INTR | DA_F_REVOKED |         \
	 DA_F_HAS_REVOKED | DA_F_STACK | DA_F_PHYS)

/* fn: the invalidate function, a scope slot, or 0 for the other ops */
static int check_event_fn(const struct da_event *ev, unsigned int n_scopes, char *why, size_t len)
{
	unsigned int n_fn;

	/* the names are counted only for the op that has them (the per-event path) */
	if (ev->op == DA_OP_INVALIDATE && ev->fn >= (n_fn = da_kfunc_n_names(DA_KF_INVALIDATE)))
		return da_errorf(why, len, "invalidate fn %u out of range (0-%u)", ev->fn,
				 n_fn - 1);
	if ((ev->op == DA_OP_SCOPE_ENTER || ev->op == DA_OP_SCOPE_EXIT) && ev->fn >= n_scopes)
		return da_errorf(why, len, "scope slot %u beyond the %u scope%s named so far",
				 ev->fn, n_scopes, n_scopes == 1 ? "" : "s");
	if (ev->op == DA_OP_MAP && (ev->flags & DA_F_PHYS)) {
		if (ev->fn >= DA_PHYS_MAP_FUNCS)
			return da_errorf(why, len, "phys map fn %u out of range (0-%u)", ev->fn,
					 DA_PHYS_MAP_FUNCS - 1);
		return 0;
	}
	if (ev->op != DA_OP_INVALIDATE && ev->op != DA_OP_SCOPE_ENTER &&
	    ev->op != DA_OP_SCOPE_EXIT && ev->fn)
		return da_errorf(why, len, "fn %u on op %s, which has none", ev->fn,
				 da_op_name(ev->op));
	return 0;
}

int da_event_check(const struct da_event *ev, unsigned int n_scopes, char *why, size_t len)
{
	if (ev->op == DA_OP_NONE || ev->op >= DA_OP__COUNT)
		return da_errorf(why, len, "op %u out of range (1-%u)", ev->op, DA_OP__COUNT - 1);
	if (ev->flags & ~DA_F_KNOWN)
		return da_errorf(why, len, "unknown flags bits 0x%x", ev->flags & ~DA_F_KNOWN);
	if ((ev->flags & DA_F_PHYS) && ev->op != DA_OP_MAP)
		return da_errorf(why, len, "phys flag on op %s (map only)", da_op_name(ev->op));
	if (ev->resv_held > DA_RESV_HELD)
		return da_errorf(why, len, "resv_held %u out of range (0-%u)", ev->resv_held,
				 DA_RESV_HELD);
	if (ev->usage > DA_USAGE_BOOKKEEP)
		return da_errorf(why, len, "fence wait usage %u out of range (0-%u)", ev->usage,
				 DA_USAGE_BOOKKEEP);
	if (check_event_fn(ev, n_scopes, why, len))
		return -1;
	if (ev->pad[0] || ev->pad[1] || ev->pad[2])
		return da_errorf(why, len, "padding bytes are not zero");
	/* a NUL in the last byte (the usual case) spares the search */
	if (ev->comm[sizeof(ev->comm) - 1] && !memchr(ev->comm, '\0', sizeof(ev->comm)))
		return da_errorf(why, len, "comm without a terminating NUL");
	if (ev->name[sizeof(ev->name) - 1] && !memchr(ev->name, '\0', sizeof(ev->name)))
		return da_errorf(why, len, "name without a terminating NUL");
	if ((ev->flags & DA_F_STACK) && ev->stack_id < 0)
		return da_errorf(why, len, "stack flag with stack id %d", ev->stack_id);
	/* JSON integers are signed 64-bit: what is written must read back */
	if (ev->seq > INT64_MAX || ev->ts_ns > INT64_MAX || ev->ino > INT64_MAX ||
	    ev->size > INT64_MAX || ev->cgroup_id > INT64_MAX)
		return da_errorf(why, len, "seq, ts_ns, ino, size or cgroup_id beyond 2^63-1");
	return 0;
}

int da_lost_check(uint64_t first_seq, uint64_t count, char *why, size_t len)
{
	if (!count)
		return da_errorf(why, len, "a loss of 0 events");
	/* both, and the seq after the loss, must read back from JSON's signed integers */
	if (first_seq > INT64_MAX || count > (uint64_t)INT64_MAX - first_seq)
		return da_errorf(why, len,
				 "seq %" PRIu64 " + %" PRIu64 " lost events goes beyond 2^63-1",
				 first_seq, count);
	return 0;
}

/* ------------------------------------------------------------------ reader */

struct da_record_reader {
	struct da_input in;
	uint64_t events;
	uint64_t record_offset;		/* of the record being read */
	checksum_fn checksum;		/* of the file's format version */
	uint32_t version;		/* the file's format version */
	unsigned int n_scopes;		/* named so far: HEADER, then SCOPE records */
	uint32_t event_len;		/* an EVENT's payload in the file's format version */
	bool ended;
	char strings[DA_RECORD_MAX_LEN + 1];	/* NUL-terminated copies for item strings */
};

struct da_record_reader *da_record_reader_open(const char *path, char *err, size_t errlen)
{
	struct da_record_reader *r;
	struct da_input in;

	if (da_input_open(&in, path, err, errlen))
		return NULL;
	r = da_record_reader_from_input(&in);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		da_input_close(&in);
	}
	return r;
}

void da_record_reader_close(struct da_record_reader *r)
{
	if (!r)
		return;
	da_input_close(&r->in);
	free(r);
}

uint64_t da_record_reader_events(const struct da_record_reader *r)
{
	return r->events;
}

static const char *const type_names[DA_REC__COUNT] = {
	[DA_REC_HEADER] = "HEADER", [DA_REC_EVENT] = "EVENT", [DA_REC_SYMBOL] = "SYMBOL",
	[DA_REC_LOST] = "LOST",	    [DA_REC_STACK] = "STACK", [DA_REC_SCOPE] = "SCOPE",
	[DA_REC_TICK] = "TICK",	    [DA_REC_END] = "END",	  [DA_REC_CGROUP] = "CGROUP",
};

/* payload length of the fixed-size records; 0 = variable, up to DA_RECORD_MAX_LEN */
static const uint32_t fixed_len[DA_REC__COUNT] = {
	[DA_REC_EVENT] = sizeof(struct da_event),
	[DA_REC_LOST] = 16,
	[DA_REC_TICK] = 8,
	[DA_REC_END] = 8,
};

static const char *tname(uint32_t type)
{
	return type && type < DA_REC__COUNT ? type_names[type] : "unknown";
}

static const char *where(const struct da_record_reader *r)
{
	return r->in.compressed ? " of the uncompressed stream" : "";
}

/* "corrupt record at byte offset N: <what>" for the record being read */
static int corrupt(const struct da_record_reader *r, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int corrupt(const struct da_record_reader *r, char *err, size_t errlen, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s: corrupt record at byte offset %llu%s: ", r->in.name,
			 (unsigned long long)r->record_offset, where(r));
	va_list ap;

	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int read_error(const struct da_record_reader *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: read error at byte offset %llu%s: %s", r->in.name,
		 (unsigned long long)r->in.offset, where(r), r->in.error);
	return -1;
}

/* how far ahead of the record being read its input is prefetched (bytes) */
#ifndef RECORD_READ_AHEAD
#define RECORD_READ_AHEAD 2048
#endif

/* a cursor over one record's payload */
struct cursor {
	const unsigned char *p;
	size_t n, pos;
	bool bad;
};

static void cur_get(struct cursor *c, void *dst, size_t n)
{
	if (c->bad || c->pos + n > c->n) {
		c->bad = true;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p + c->pos, n);
	c->pos += n;
}

static uint32_t cur_u32(struct cursor *c)
{
	uint32_t v;

	cur_get(c, &v, sizeof(v));
	return v;
}

static uint64_t cur_u64(struct cursor *c)
{
	uint64_t v;

	cur_get(c, &v, sizeof(v));
	return v;
}

/*
 * A string into dst, NUL-terminated.  One that does not fit dst, or holds a
 * NUL byte, makes the cursor bad: no name is silently cut or changed.
 */
static void cur_str(struct cursor *c, char *dst, size_t dstlen)
{
	uint16_t n;

	cur_get(c, &n, sizeof(n));
	if (c->bad || c->pos + n > c->n || n >= dstlen || memchr(c->p + c->pos, '\0', n)) {
		c->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, c->p + c->pos, n);
	dst[n] = '\0';
	c->pos += n;
}

/* the record's 8-byte type and length, checked against the type */
static int read_record_head(struct da_record_reader *r, uint32_t *type, uint32_t *len, char *err,
			    size_t errlen)
{
	uint32_t head[2], want;
	ssize_t got = da_input_fill(&r->in, sizeof(head));

	if (got < 0)
		return read_error(r, err, errlen);
	if (got == 0)
		return 0;
	if ((size_t)got < sizeof(head)) {
		uint32_t t = 0;

		if (got >= 4)
			memcpy(&t, da_input_ptr(&r->in), sizeof(t));
		snprintf(err, errlen,
			 "%s: truncated at byte offset %llu%s: %s%srecord cut inside its 8-byte"
			 " type and length, after %zd bytes",
			 r->in.name, (unsigned long long)r->record_offset, where(r),
			 t && t < DA_REC__COUNT ? tname(t) : "", t && t < DA_REC__COUNT ? " " : "",
			 got);
		return -1;
	}
	memcpy(head, da_input_ptr(&r->in), sizeof(head));
	*type = head[0];
	*len = head[1];
	if (*type == 0 || *type >= DA_REC__COUNT)
		return corrupt(r, err, errlen, "unknown record type %u", *type);
	want = *type == DA_REC_EVENT ? r->event_len : fixed_len[*type];
	if ((want && *len != want) || *len > DA_RECORD_MAX_LEN)
		return corrupt(r, err, errlen, "%s record with length %u (expected %s%u)",
			       tname(*type), *len, want ? "" : "at most ",
			       want ? want : DA_RECORD_MAX_LEN);
	return 1;
}

/*
 * Read one framed record.  On success the payload is at *payload (valid
 * until the next read) and 1 is returned; 0 at a clean end of input before
 * any byte of a record; -1 with err.
 */
static int read_record(struct da_record_reader *r, uint32_t *type, const unsigned char **payload,
		       uint32_t *len, char *err, size_t errlen)
{
	size_t total;
	uint32_t crc;
	ssize_t got;
	int ret;

	r->record_offset = r->in.offset;
	total = 8 + r->event_len + sizeof(crc);
	/* the usual record: an EVENT, all of whose bytes are there already */
	if (r->in.end - r->in.start >= total) {
		uint32_t head[2];

		memcpy(head, da_input_ptr(&r->in), sizeof(head));
		if (head[0] == DA_REC_EVENT && head[1] == r->event_len && r->event_len) {
			*type = DA_REC_EVENT;
			*len = r->event_len;
			goto whole;
		}
	}
	ret = read_record_head(r, type, len, err, errlen);
	if (ret <= 0)
		return ret;
	total = 8 + *len + sizeof(crc);
	got = da_input_fill(&r->in, total);
	if (got < 0)
		return read_error(r, err, errlen);
	if ((size_t)got < total) {
		snprintf(err, errlen,
			 "%s: truncated at byte offset %llu%s: %s record needs %zu bytes, only %zd"
			 " left",
			 r->in.name, (unsigned long long)r->record_offset, where(r), tname(*type),
			 total, got);
		return -1;
	}
whole:
	/*
	 * The input's bytes come from the page cache, not yet in any CPU
	 * cache, and the hardware prefetcher stops at every 4 KiB page: ask
	 * for the bytes a few records ahead now, so reading them later does
	 * not wait.  Each record asks for as many bytes as it spans, so the
	 * windows of consecutive records join without a gap.
	 */
	for (size_t ahead = 0; ahead < total; ahead += 64)
		__builtin_prefetch(da_input_ptr(&r->in) + RECORD_READ_AHEAD + ahead);
	*payload = da_input_ptr(&r->in) + 8;
	memcpy(&crc, *payload + *len, sizeof(crc));
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* the fuzzers skip the checksum to reach the decoding behind it */
	if (r->checksum(0, da_input_ptr(&r->in), 8 + *len) != crc)
		return corrupt(r, err, errlen, "checksum mismatch (%s record, length %u)",
			       tname(*type), *len);
#endif
	da_input_consume(&r->in, total);
	return 1;
}

/* magic and format version; picks the checksum */
static int read_file_header(struct da_record_reader *r, char *err, size_t errlen)
{
	uint32_t file_hdr[2];
	ssize_t got = da_input_fill(&r->in, DA_RECORD_FILE_HEADER_LEN);

	if (got < 0)
		return read_error(r, err, errlen);
	if (got < DA_RECORD_MAGIC_LEN &&
	    !memcmp(da_input_ptr(&r->in), DA_RECORD_MAGIC, (size_t)got)) {
		snprintf(err, errlen, "%s: truncated at byte offset %zd: the magic is cut short",
			 r->in.name, got);
		return -1;
	}
	if (got < DA_RECORD_MAGIC_LEN ||
	    memcmp(da_input_ptr(&r->in), DA_RECORD_MAGIC, DA_RECORD_MAGIC_LEN)) {
		snprintf(err, errlen,
			 "%s: not a " DA_TOOL_NAME " record: wrong magic at byte offset 0"
			 " (expected \"" DA_RECORD_MAGIC "\")",
			 r->in.name);
		return -1;
	}
	if (got < DA_RECORD_FILE_HEADER_LEN) {
		snprintf(err, errlen, "%s: truncated at byte offset %zd: file header cut short",
			 r->in.name, got);
		return -1;
	}
	memcpy(file_hdr, da_input_ptr(&r->in) + DA_RECORD_MAGIC_LEN, sizeof(file_hdr));
	if (file_hdr[0] > DA_RECORD_VERSION &&
	    __builtin_bswap32(file_hdr[0]) <= DA_RECORD_VERSION) {
		snprintf(err, errlen,
			 "%s: recorded on a host of the other byte order (format version %u"
			 " byte-swapped); replay it on a host like the one that recorded it",
			 r->in.name, __builtin_bswap32(file_hdr[0]));
		return -1;
	}
	if (file_hdr[0] > DA_RECORD_VERSION) {
		snprintf(err, errlen,
			 "%s: written by a newer " DA_TOOL_NAME " (record format version %u; this"
			 " is " DA_VERSION ", which reads up to version %u): replay it with a newer"
			 " " DA_TOOL_NAME,
			 r->in.name, file_hdr[0], DA_RECORD_VERSION);
		return -1;
	}
	if (file_hdr[0] == 0 || file_hdr[1] != 0) {
		snprintf(err, errlen, "%s: corrupt file header: record format version %u, flags %u"
			 " (expected flags 0)", r->in.name, file_hdr[0], file_hdr[1]);
		return -1;
	}
	r->checksum = record_checksum(file_hdr[0]);
	r->version = file_hdr[0];
	/* versions 1 and 2 have no cgroup_id: their events are read as 0 there */
	r->event_len = file_hdr[0] >= 3 ? sizeof(struct da_event) : DA_EVENT_V2_SIZE;
	da_input_consume(&r->in, DA_RECORD_FILE_HEADER_LEN);
	return 0;
}

/* the hooks and scopes of the HEADER payload, after its fixed fields */
static void decode_header_tables(struct cursor *c, struct da_trace_info *trace)
{
	for (unsigned int i = 0; i < trace->n_hooks; i++) {
		struct da_hook_status *h = &trace->hooks[i];
		uint8_t attached;

		cur_str(c, h->function, sizeof(h->function));
		cur_str(c, h->mode, sizeof(h->mode));
		cur_get(c, &attached, 1);
		if (attached > 1)
			c->bad = true;
		h->attached = attached;
		cur_str(c, h->reason, sizeof(h->reason));
	}
	for (unsigned int i = 0; i < trace->n_scopes && !c->bad; i++) {
		cur_str(c, trace->scope_names[i], DA_FUNC_LEN);
		if (!trace->scope_names[i][0])
			c->bad = true;
	}
}

static int decode_header(struct da_record_reader *r, const unsigned char *payload, uint32_t len,
			 struct da_trace_info *trace, char *err, size_t errlen)
{
	struct cursor c = { payload, len, 0, false };
	uint32_t bom = cur_u32(&c), evsize = cur_u32(&c);
	char version[65];

	if (bom != DA_RECORD_BYTE_ORDER) {
		snprintf(err, errlen,
			 "%s: recorded on a host of the other byte order; replay it on a host"
			 " like the one that recorded it",
			 r->in.name);
		return -1;
	}
	if (evsize != r->event_len) {
		snprintf(err, errlen,
			 "%s: events were recorded with a %u-byte event layout, this build reads %u"
			 " bytes in this record format version: use the " DA_TOOL_NAME
			 " build that recorded it",
			 r->in.name, evsize, r->event_len);
		return -1;
	}
	memset(trace, 0, sizeof(*trace));
	trace->quirks = cur_u32(&c);
	trace->n_hooks = cur_u32(&c);
	trace->n_scopes = cur_u32(&c);
	if (trace->n_hooks > DA_MAX_HOOKS || trace->n_scopes > DA_MAX_SCOPES ||
	    (trace->quirks & ~(DA_QUIRK_LEGACY_LOCKING | DA_QUIRK_NO_RESV_OWNER))) {
		snprintf(err, errlen,
			 "%s: corrupt HEADER record at byte offset %llu: %u hooks, %u scopes,"
			 " quirks 0x%x", r->in.name, (unsigned long long)r->record_offset,
			 trace->n_hooks, trace->n_scopes, trace->quirks);
		return -1;
	}
	cur_str(&c, version, sizeof(version));
	cur_str(&c, trace->kernel, sizeof(trace->kernel));
	decode_header_tables(&c, trace);
	if (r->version >= 3) {
		cur_str(&c, trace->host, sizeof(trace->host));
		cur_str(&c, trace->boot_id, sizeof(trace->boot_id));
		trace->has_realtime = cur_u32(&c) == 1;
		trace->realtime_offset_ns = (int64_t)cur_u64(&c);
	}
	if (c.bad || c.pos != c.n) {
		snprintf(err, errlen,
			 "%s: corrupt HEADER record at byte offset %llu: its fields do not fill"
			 " its %u bytes (or a string does not fit its field)",
			 r->in.name, (unsigned long long)r->record_offset, len);
		return -1;
	}
	r->n_scopes = trace->n_scopes;
	return 0;
}

int da_record_read_header(struct da_record_reader *r, struct da_trace_info *trace, char *err,
			  size_t errlen)
{
	const unsigned char *payload;
	uint32_t type, len;
	int ret;

	if (read_file_header(r, err, errlen))
		return -1;
	ret = read_record(r, &type, &payload, &len, err, errlen);
	if (ret <= 0) {
		if (ret == 0)
			snprintf(err, errlen,
				 "%s: truncated at byte offset %llu: no HEADER record after the"
				 " file header",
				 r->in.name, (unsigned long long)r->in.offset);
		return -1;
	}
	if (type != DA_REC_HEADER)
		return corrupt(r, err, errlen, "expected the HEADER record, found %s",
			       tname(type));
	return decode_header(r, payload, len, trace, err, errlen);
}

static int decode_event(struct da_record_reader *r, const unsigned char *payload,
			struct da_record_item *item, char *err, size_t errlen)
{
	char why[128];

	/*
	 * A constant length in the usual case: the compiler copies inline in
	 * 16-byte moves, which the checks below read back from the store
	 * buffer at once (the library's copy left them waiting on it).
	 */
	if (r->event_len == sizeof(item->event)) {
		memcpy(&item->event, payload, sizeof(item->event));
	} else {
		memset(&item->event, 0, sizeof(item->event));
		memcpy(&item->event, payload, r->event_len);
	}
	if (da_event_check(&item->event, r->n_scopes, why, sizeof(why)))
		return corrupt(r, err, errlen, "EVENT record: %s", why);
	r->events++;
	return 1;
}

static void decode_stack(struct da_record_reader *r, struct cursor *c, struct da_record_item *item)
{
	size_t used = 0;

	cur_get(c, &item->stack_id, sizeof(item->stack_id));
	item->n_frames = cur_u32(c);
	if (item->n_frames > DA_RECORD_MAX_FRAMES || item->stack_id < 0)
		c->bad = true;
	for (unsigned int i = 0; i < item->n_frames && !c->bad; i++) {
		char *dst = r->strings + used;

		/* a frame is at most 256 characters (the writer's bound), never empty */
		cur_str(c, dst, 257);
		if (!dst[0])
			c->bad = true;
		item->frames[i] = dst;
		used += strlen(dst) + 1;
	}
}

/* the END record: the event count matches, and nothing follows */
static int decode_end(struct da_record_reader *r, struct da_record_item *item, char *err,
		      size_t errlen)
{
	ssize_t more;

	if (item->count != r->events) {
		snprintf(err, errlen,
			 "%s: inconsistent END record at byte offset %llu%s: the writer wrote %llu"
			 " events, %llu were read",
			 r->in.name, (unsigned long long)r->record_offset, where(r),
			 (unsigned long long)item->count, (unsigned long long)r->events);
		return -1;
	}
	more = da_input_fill(&r->in, 1);
	if (more < 0) {
		snprintf(err, errlen, "%s: read error at byte offset %llu%s after the END record: %s",
			 r->in.name, (unsigned long long)r->in.offset, where(r), r->in.error);
		return -1;
	}
	if (more > 0) {
		snprintf(err, errlen, "%s: unexpected data at byte offset %llu%s after the END record",
			 r->in.name, (unsigned long long)r->in.offset, where(r));
		return -1;
	}
	r->ended = true;
	return 0;
}

/* the fields of a SYMBOL, LOST, STACK, SCOPE, TICK or END payload, with their domains */
static int decode_fields(struct da_record_reader *r, struct cursor *c, struct da_record_item *item,
			 char *why, size_t whylen)
{
	switch (item->type) {
	case DA_REC_SYMBOL:
		item->addr = cur_u64(c);
		cur_str(c, r->strings, sizeof(r->strings));
		item->name = r->strings;
		if (!c->bad && (!item->addr || !item->name[0]))
			return da_errorf(why, whylen, "a symbol needs an address and a name");
		break;
	case DA_REC_LOST:
		item->first_seq = cur_u64(c);
		item->count = cur_u64(c);
		return da_lost_check(item->first_seq, item->count, why, whylen);
	case DA_REC_STACK:
		decode_stack(r, c, item);
		break;
	case DA_REC_SCOPE:
		item->slot = cur_u32(c);
		cur_str(c, r->strings, DA_FUNC_LEN);
		item->name = r->strings;
		/* a slot is renamed, or the next one is named */
		if (!c->bad && (item->slot > r->n_scopes || item->slot >= DA_MAX_SCOPES ||
				!item->name[0]))
			return da_errorf(why, whylen, "scope slot %u (%u named so far)", item->slot,
					 r->n_scopes);
		if (item->slot == r->n_scopes)
			r->n_scopes++;
		break;
	case DA_REC_CGROUP:
		item->addr = cur_u64(c);
		cur_str(c, r->strings, sizeof(r->strings));
		item->name = r->strings;
		if (!c->bad && (!item->addr || item->name[0] != '/'))
			return da_errorf(why, whylen, "a cgroup needs an id and an absolute path");
		break;
	case DA_REC_TICK:
		item->now_ns = cur_u64(c);
		if (item->now_ns > INT64_MAX)
			return da_errorf(why, whylen, "time beyond 2^63-1 ns");
		break;
	case DA_REC_END:
		item->count = cur_u64(c);
		break;
	default:
		break;
	}
	return 0;
}

int da_record_next(struct da_record_reader *r, struct da_record_item *item, char *err,
		   size_t errlen)
{
	const unsigned char *payload;
	uint32_t type, len;
	struct cursor c;
	char why[160];
	int ret;

	if (r->ended)
		return 0;
	ret = read_record(r, &type, &payload, &len, err, errlen);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		snprintf(err, errlen,
			 "%s: truncated at byte offset %llu%s: the file ends without an END record"
			 " (%llu events read; the writer stopped before closing it)",
			 r->in.name, (unsigned long long)r->in.offset, where(r),
			 (unsigned long long)r->events);
		return -1;
	}
	item->type = type;
	if (type == DA_REC_EVENT)
		return decode_event(r, payload, item, err, errlen);
	if (type == DA_REC_HEADER)
		return corrupt(r, err, errlen, "a second HEADER record");
	c = (struct cursor){ payload, len, 0, false };
	if (decode_fields(r, &c, item, why, sizeof(why)))
		return corrupt(r, err, errlen, "%s record: %s", tname(type), why);
	if (c.bad || c.pos != c.n)
		return corrupt(r, err, errlen,
			       "%s record whose fields do not fill its %u bytes (or a string does"
			       " not fit its field)", tname(type), len);
	if (type == DA_REC_END)
		return decode_end(r, item, err, errlen);
	return 1;
}

struct da_record_reader *da_record_reader_from_input(struct da_input *in)
{
	struct da_record_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->in = *in;
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	da_input_map(&r->in, 0);
	return r;
}
