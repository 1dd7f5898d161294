/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The binary trace record (--record FILE, read back by `replay FILE`).
 * Format and rationale: docs/output.md.  In short:
 *
 *   file    := magic[8] "DABUFREC", u32 version, u32 flags (0), record*
 *   record  := u32 type, u32 length, payload[length], u32 checksum
 *
 * The checksum covers type, length and payload: CRC-32C (Castagnoli) since
 * version 2, zlib's CRC-32 in version 1 (still read).  Version 3 adds the
 * host, boot ID and realtime offset to HEADER (versions 1 and 2 still read:
 * without them).  Integers are in the byte
 * order of the writing host (x86_64: little-endian); the HEADER record
 * carries a byte-order mark and sizeof(struct da_event), so a record from a
 * host of the other order or from a build with a different event layout is
 * refused with a clear message instead of being misread.  A file whose name
 * ends in ".gz" is written through zlib's gz* API; the reader detects
 * gzip by content.  The first record is HEADER, the last END (the writer's
 * event count): a file without END was cut short.
 */
#ifndef DMABUF_AUDIT_RECORD_H
#define DMABUF_AUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/event.h"
#include "dmabuf_audit/trace.h"

#define DA_RECORD_MAGIC "DABUFREC"
#define DA_RECORD_MAGIC_LEN 8
/* bump together with any change to the records below or to struct da_event */
#define DA_RECORD_VERSION 3	/* 3: struct da_event with cgroup_id, CGROUP records; host, boot ID, realtime offset in HEADER */
/* file header: magic, u32 version, u32 flags */
#define DA_RECORD_FILE_HEADER_LEN 16
#define DA_RECORD_BYTE_ORDER 0x01020304u
/* no record is longer: a larger length is corruption, not data */
#define DA_RECORD_MAX_LEN (1u << 20)
#define DA_RECORD_MAX_FRAMES 127

enum da_record_type {
	DA_REC_HEADER = 1,	/* u32 byte order, u32 event size, u32 quirks, u32 n_hooks,
				 * u32 n_scopes, str version, str kernel,
				 * n_hooks x (str function, str mode, u8 attached, str reason),
				 * n_scopes x str name            (str = u16 length + bytes)
				 * version 3 on: str host, str boot_id, u32 has_realtime,
				 * s64 realtime_offset_ns */
	DA_REC_EVENT = 2,	/* struct da_event, as is */
	DA_REC_SYMBOL = 3,	/* u64 address, str name */
	DA_REC_LOST = 4,	/* u64 first_seq, u64 count: a loss that left no seq gap */
	DA_REC_STACK = 5,	/* s32 stack id, u32 n, n x str "symbol+0xoff" */
	DA_REC_SCOPE = 6,	/* u32 slot, str name: a scope slot named after the header */
	DA_REC_TICK = 7,	/* u64 now_ns: live time passing without events */
	DA_REC_END = 8,		/* u64 events written */
	DA_REC_CGROUP = 9,	/* u64 cgroup id, str path under the cgroup2 mount ("/system.slice/x.service") */
	DA_REC__COUNT,
};

/* ---- writer ---- */

struct da_record_writer;

/* NULL with a message in err (e.g. "cannot create t.bin: Permission denied") */
struct da_record_writer *da_record_writer_open(const char *path, char *err, size_t errlen);
/* Each returns 0 or -1; an error is sticky and reported by close. */
int da_record_write_header(struct da_record_writer *w, const struct da_trace_info *trace);
int da_record_write_event(struct da_record_writer *w, const struct da_event *ev);
int da_record_write_symbol(struct da_record_writer *w, uint64_t addr, const char *name);
int da_record_write_lost(struct da_record_writer *w, uint64_t first_seq, uint64_t count);
int da_record_write_stack(struct da_record_writer *w, int32_t stack_id, const char *const *frames,
			  unsigned int n);
int da_record_write_scope(struct da_record_writer *w, unsigned int slot, const char *name);
int da_record_write_tick(struct da_record_writer *w, uint64_t now_ns);
int da_record_write_cgroup(struct da_record_writer *w, uint64_t id, const char *path);
/*
 * Write END, flush and close; frees w.  0, or -1 with a message in err
 * (any earlier write error, or the close failing: disk full shows here).
 */
int da_record_writer_close(struct da_record_writer *w, char *err, size_t errlen);
const char *da_record_writer_path(const struct da_record_writer *w);

/* ---- what the readers accept (record and JSON Lines alike) ---- */

/*
 * 0 when every field of ev is within its domain (known op, flags, enum
 * values, fn a slot among the n_scopes named so far, NUL-terminated comm and
 * name, zero padding, 64-bit values that JSON can carry); else -1 with the
 * field and its value in why.
 */
int da_event_check(const struct da_event *ev, unsigned int n_scopes, char *why, size_t len);
/* 0 for a loss of count >= 1 events from first_seq with first_seq + count <= 2^63-1; else -1 + why */
int da_lost_check(uint64_t first_seq, uint64_t count, char *why, size_t len);

/* ---- reader ---- */

struct da_record_reader;

struct da_record_item {
	enum da_record_type type;
	struct da_event event;		/* EVENT */
	uint64_t addr;			/* SYMBOL; CGROUP: the id */
	const char *name;		/* SYMBOL, SCOPE, CGROUP (path): valid until the next call */
	uint64_t first_seq, count;	/* LOST; END: count = events written */
	int32_t stack_id;		/* STACK */
	unsigned int n_frames;
	const char *frames[DA_RECORD_MAX_FRAMES];	/* STACK: valid until the next call */
	unsigned int slot;		/* SCOPE */
	uint64_t now_ns;		/* TICK */
};

/* Open FILE ("-": standard input), plain or gzip. NULL + err. */
struct da_record_reader *da_record_reader_open(const char *path, char *err, size_t errlen);
/* Read the file header and the HEADER record into *trace. 0, or -1 + err. */
int da_record_read_header(struct da_record_reader *r, struct da_trace_info *trace, char *err,
			  size_t errlen);
/*
 * The next record after the header.  1 with *item filled, 0 after a
 * verified END record (and nothing after it), -1 with a message in err that
 * names the byte offset and what was wrong (truncated, checksum, unknown
 * type, bad length, a field outside its domain, event count mismatch).
 */
int da_record_next(struct da_record_reader *r, struct da_record_item *item, char *err,
		   size_t errlen);
uint64_t da_record_reader_events(const struct da_record_reader *r);
void da_record_reader_close(struct da_record_reader *r);

#endif /* DMABUF_AUDIT_RECORD_H */
