// SPDX-License-Identifier: GPL-2.0
/*
 * Repeats held back per suppression window (src/core/suppress.c): the
 * window's edges, keys, a clock that goes back, and a full table, which
 * reports rather than holds back without counting.
 */
#include <stdio.h>
#include <string.h>

#include "dmabuf_audit/service.h"
#include "tap.h"

#define S 1000000000ull

static struct da_finding finding(enum da_rule rule, const char *exporter, uint64_t ops,
				 const char *dev)
{
	struct da_finding f;

	memset(&f, 0, sizeof(f));
	f.rule = rule;
	f.buffer.exporter = exporter;
	if (ops || dev) {
		f.has_attachment = true;
		f.attachment.importer_ops = ops;
		f.attachment.dev = dev;
	}
	return f;
}

static bool window_edges(void)
{
	struct da_suppress *s = da_suppress_new();
	struct da_finding f = finding(DA_RULE_MISSING_FENCE_WAIT, "vfio_pci_core", 0, NULL);
	uint64_t rep = 99;

	CHECK(s);
	CHECK(!da_suppress_check(s, &f, 10 * S, 60 * S, &rep) && rep == 0);
	CHECK(da_suppress_check(s, &f, 10 * S, 60 * S, &rep));
	CHECK(da_suppress_check(s, &f, 70 * S - 1, 60 * S, &rep));
	/* exactly one window later: reported with the two held back */
	CHECK(!da_suppress_check(s, &f, 70 * S, 60 * S, &rep) && rep == 2);
	CHECK(da_suppress_check(s, &f, 71 * S, 60 * S, &rep));
	/* a clock that went back stays in the window */
	CHECK(da_suppress_check(s, &f, 5 * S, 60 * S, &rep));
	CHECK(!da_suppress_check(s, &f, 200 * S, 60 * S, &rep) && rep == 2);
	/* window 0 (a reloaded policy): every one reported, the first with what was held back */
	CHECK(da_suppress_check(s, &f, 201 * S, 60 * S, &rep));
	CHECK(!da_suppress_check(s, &f, 202 * S, 0, &rep) && rep == 1);
	CHECK(!da_suppress_check(s, &f, 202 * S, 0, &rep) && rep == 0);
	/* a window again: it starts at the last report */
	CHECK(da_suppress_check(s, &f, 203 * S, 60 * S, &rep));
	CHECK(!da_suppress_check(s, &f, 262 * S, 60 * S, &rep) && rep == 1);
	/* window 0 on a key never seen: reported, no slot taken */
	struct da_finding other = finding(DA_RULE_PIN_LEAK, "udmabuf", 0, NULL);
	CHECK(!da_suppress_check(s, &other, 300 * S, 0, &rep) && rep == 0);
	CHECK(!da_suppress_check(s, &other, 300 * S, 60 * S, &rep) && rep == 0);
	CHECK(da_suppress_check(s, &other, 301 * S, 60 * S, &rep));
	CHECK(da_suppress_overflow(s) == 0);
	da_suppress_free(s);
	return true;
}

static bool keys(void)
{
	struct da_suppress *s = da_suppress_new();
	struct da_finding base = finding(DA_RULE_MAPPING_LEAK, "udmabuf", 0x1000, "vgem");
	struct da_finding others[] = {
		finding(DA_RULE_PIN_LEAK, "udmabuf", 0x1000, "vgem"),
		finding(DA_RULE_MAPPING_LEAK, "vfio_pci_core", 0x1000, "vgem"),
		finding(DA_RULE_MAPPING_LEAK, "udmabuf", 0x2000, "vgem"),
		finding(DA_RULE_MAPPING_LEAK, "udmabuf", 0x1000, "mlx5_0"),
		finding(DA_RULE_MAPPING_LEAK, NULL, 0x1000, "vgem"),
		finding(DA_RULE_MAPPING_LEAK, "udmabuf", 0, NULL),
	};
	struct da_finding same = base;
	uint64_t rep;

	CHECK(s);
	CHECK(!da_suppress_check(s, &base, 0, 600 * S, &rep));
	for (unsigned int i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		CHECK(!da_suppress_check(s, &others[i], 1, 600 * S, &rep));
	/* another buffer, task or message: the same key */
	same.buffer.ptr = 0xb2000;
	same.pid = 42;
	same.message = "another";
	CHECK(da_suppress_check(s, &same, 2, 600 * S, &rep));
	da_suppress_free(s);
	return true;
}

static bool full_table(void)
{
	struct da_suppress *s = da_suppress_new();
	char names[DA_SUPPRESS_SLOTS][16];
	unsigned int reported = 0, n = DA_SUPPRESS_SLOTS / 4 * 3;
	uint64_t rep;

	CHECK(s);
	for (unsigned int i = 0; i < n + 10; i++) {
		struct da_finding f;

		snprintf(names[i], sizeof(names[i]), "dev%u", i);
		f = finding(DA_RULE_PIN_LEAK, "udmabuf", 0, names[i]);
		reported += !da_suppress_check(s, &f, 0, 600 * S, &rep);
	}
	CHECK(reported == n + 10);
	CHECK(da_suppress_overflow(s) == 10);
	/* the keys it holds still hold back; a new one is still reported */
	{
		struct da_finding kept = finding(DA_RULE_PIN_LEAK, "udmabuf", 0, names[0]);
		struct da_finding extra = finding(DA_RULE_PIN_LEAK, "udmabuf", 0, names[n + 5]);

		CHECK(da_suppress_check(s, &kept, 1, 600 * S, &rep));
		CHECK(!da_suppress_check(s, &extra, 1, 600 * S, &rep));
		CHECK(da_suppress_overflow(s) == 11);
	}
	da_suppress_free(s);
	return true;
}

TAP_MAIN(TAP_TEST(window_edges), TAP_TEST(keys), TAP_TEST(full_table))
