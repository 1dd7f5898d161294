// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel addresses in the outputs: raw, hashed or hidden (addr.h).
 *
 * The hash is SipHash-2-4, the keyed hash the kernel itself uses for
 * hashed pointers and hash tables: a pseudo-random function, so without
 * the key (kept in this process only, never written anywhere) a value
 * tells nothing about the address, and with 64 bits two pointers of one
 * run collide with negligible odds.  It is 40 lines and has published test
 * vectors (tests/unit/test_identity.c); no library of the build dependencies
 * offers it (OpenSSL's EVP_MAC "SIPHASH" would add libcrypto to a program
 * that does not otherwise need it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "dmabuf_audit/addr.h"

static enum da_addr_mode addr_mode = DA_ADDR_RAW;
static uint8_t addr_key[DA_ADDR_KEY_LEN];
static bool addr_key_set;

static const char *const mode_names[] = {
	[DA_ADDR_RAW] = "raw",
	[DA_ADDR_HASHED] = "hashed",
	[DA_ADDR_NONE] = "none",
};

int da_addr_mode_parse(const char *s)
{
	for (unsigned int i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(s, mode_names[i]))
			return (int)i;
	return -1;
}

const char *da_addr_mode_name(enum da_addr_mode mode)
{
	return (unsigned int)mode < sizeof(mode_names) / sizeof(mode_names[0]) ?
		       mode_names[mode] : "?";
}

void da_addr_set_key(const uint8_t key[DA_ADDR_KEY_LEN])
{
	memcpy(addr_key, key, DA_ADDR_KEY_LEN);
	addr_key_set = true;
}

int da_addr_set_mode(enum da_addr_mode mode)
{
	if (mode == DA_ADDR_HASHED && !addr_key_set) {
		size_t got = 0;

		while (got < DA_ADDR_KEY_LEN) {
			ssize_t n = getrandom(addr_key + got, DA_ADDR_KEY_LEN - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			got += (size_t)n;
		}
		addr_key_set = true;
	}
	addr_mode = mode;
	return 0;
}

enum da_addr_mode da_addr_get_mode(void)
{
	return addr_mode;
}

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return x;
}

uint64_t da_siphash24(const uint8_t key[DA_ADDR_KEY_LEN], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v[4] = { k0 ^ UINT64_C(0x736f6d6570736575), k1 ^ UINT64_C(0x646f72616e646f6d),
			  k0 ^ UINT64_C(0x6c7967656e657261), k1 ^ UINT64_C(0x7465646279746573) };
	uint64_t last = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(in + i);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

const char *da_addr_fmt(char *buf, size_t len, uint64_t v)
{
	uint8_t bytes[8];

	if (addr_mode == DA_ADDR_RAW) {
		snprintf(buf, len, "0x%" PRIx64, v);
		return buf;
	}
	if (!v) {
		snprintf(buf, len, "NULL");
		return buf;
	}
	if (addr_mode == DA_ADDR_NONE) {
		snprintf(buf, len, "hidden");
		return buf;
	}
	/* the address as 8 little-endian bytes, whatever the host's order */
	for (int i = 0; i < 8; i++)
		bytes[i] = (uint8_t)(v >> (8 * i));
	snprintf(buf, len, DA_ADDR_HASH_PREFIX "%016" PRIx64,
		 da_siphash24(addr_key, bytes, sizeof(bytes)));
	return buf;
}

const char *da_addr_str(unsigned int slot, uint64_t v)
{
	static char bufs[8][DA_ADDR_STR_LEN];

	slot &= 7;
	return da_addr_fmt(bufs[slot], sizeof(bufs[slot]), v);
}
