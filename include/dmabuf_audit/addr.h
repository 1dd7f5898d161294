/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a kernel address is shown (--addresses raw|hashed|none).
 *
 * Every output that names a kernel pointer (text, JSON Lines, KTAP, JUnit,
 * the journal, HTML, Perfetto, finding messages) formats it with
 * da_addr_fmt(), so one process-wide setting decides whether the real
 * address leaves the host.  hashed is SipHash-2-4 of the address under a
 * 128-bit key drawn from getrandom() when the mode is set: the same pointer
 * gives the same value for the whole run (a buffer's history still
 * correlates), another run gives another value, and the address cannot be
 * recovered from it.  docs/output.md "Kernel addresses".
 */
#ifndef DMABUF_AUDIT_ADDR_H
#define DMABUF_AUDIT_ADDR_H

#include <stddef.h>
#include <stdint.h>

enum da_addr_mode {
	DA_ADDR_RAW = 0,	/* "0xffff8881..." as the kernel has it */
	DA_ADDR_HASHED,		/* "h:" and 16 hex digits of the keyed hash */
	DA_ADDR_NONE,		/* "hidden": not even a correlating value */
};

#define DA_ADDR_KEY_LEN 16
/* the longest form and its NUL: "0x" + 16 digits, "h:" + 16 digits */
#define DA_ADDR_STR_LEN 20
/* the prefix of a hashed value, which no raw address or number starts with */
#define DA_ADDR_HASH_PREFIX "h:"

/* "raw", "hashed" or "none" → the mode, -1 otherwise */
int da_addr_mode_parse(const char *s);
const char *da_addr_mode_name(enum da_addr_mode mode);
/*
 * Set the mode; entering hashed draws a fresh key from getrandom() unless
 * one was given with da_addr_set_key().  0, or -1 (errno) when no random
 * key could be had: the caller must not fall back to raw.
 */
int da_addr_set_mode(enum da_addr_mode mode);
enum da_addr_mode da_addr_get_mode(void);
/* a fixed key (tests); the next da_addr_set_mode keeps it */
void da_addr_set_key(const uint8_t key[DA_ADDR_KEY_LEN]);

/*
 * v in the current mode, into buf (at least DA_ADDR_STR_LEN bytes); returns
 * buf.  0 is a NULL pointer, not an address: "0x0" in raw mode (as before),
 * "NULL" in the others.
 */
const char *da_addr_fmt(char *buf, size_t len, uint64_t v);
/*
 * The same through a static buffer per slot (0..7): several in one printf,
 * each with its own slot.  Slots 6 and 7 belong to the engine's labels
 * (eng_buf_label, eng_att_label), which are often arguments of the same
 * printf as another pointer.
 */
const char *da_addr_str(unsigned int slot, uint64_t v);

/* SipHash-2-4 (Aumasson and Bernstein) of len bytes */
uint64_t da_siphash24(const uint8_t key[DA_ADDR_KEY_LEN], const void *data, size_t len);

#endif /* DMABUF_AUDIT_ADDR_H */
