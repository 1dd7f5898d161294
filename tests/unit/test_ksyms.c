// SPDX-License-Identifier: GPL-2.0
/*
 * The kallsyms table of the live side (src/live/ksyms.c), read from text
 * shaped as /proc/kallsyms prints it: names and modules cut out in place,
 * arm64's mapping symbols and .L labels skipped, lines that are not a
 * symbol skipped, exact and nearest look-ups, "which module has this
 * function", and the all-zero addresses of kptr_restrict.  ksyms.c needs
 * no libbpf: it is built in here, its parser (static) called directly.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/live/ksyms.c"
#include "tap.h"

/* a name looked up is the one expected (NULL: unknown) */
static bool same(const char *got, const char *want)
{
	return got && !strcmp(got, want);
}

static struct da_ksyms *parse(const char *text)
{
	char *copy = strdup(text);

	return copy ? ksyms_parse(copy, strlen(copy)) : NULL;
}

/* out of address order (modules come after vmlinux, bpf symbols anywhere) */
static const char unsorted[] =
	"ffffffff81002000 T dma_buf_export\n"
	"ffffffff81001000 t helper_before\n"
	"ffffffffc0001000 t dat_exporter_revoke\t[dmabuf_audit_test]\n"
	"ffffffffc0001000 t $x\t[dmabuf_audit_test]\n"
	"ffffffffc0002000 d dat_importer_ops\t[dmabuf_audit_test]\n"
	"ffffffffc0002000 d $d.3\t[dmabuf_audit_test]\n"
	"ffffffffc0003000 t dat_exporter_cleanup\t[dmabuf_audit_test]\n"
	"ffffffff81003000 t .Ltmp7\n"
	"ffffffff81003000 D some_data\n"
	"ffffffff81003000 T at_same_address\n"
	"not a symbol line\n"
	"ffffffff81004000 T\n"
	"ffffffff81005000 T last_of_vmlinux";

static bool looks_up_by_address(void)
{
	struct da_ksyms *ks = parse(unsorted);
	uint64_t off = 0;

	CHECK(ks && !da_ksyms_restricted(ks));
	/* 8 symbols: no mapping symbol, no label, no malformed line */
	CHECK(ks->n == 8);
	CHECK(same(da_ksyms_exact(ks, 0xffffffff81002000ull), "dma_buf_export"));
	/* an ops table: its name, not the arm64 mapping symbol at its address */
	CHECK(same(da_ksyms_exact(ks, 0xffffffffc0002000ull), "dat_importer_ops"));
	/* equal addresses: the text symbol first */
	CHECK(same(da_ksyms_exact(ks, 0xffffffff81003000ull), "at_same_address"));
	CHECK(!da_ksyms_exact(ks, 0xffffffff81002001ull));
	CHECK(same(da_ksyms_nearest(ks, 0xffffffff81002010ull, &off), "dma_buf_export"));
	CHECK(off == 0x10);
	/* a data symbol is no function: the text symbol below it is */
	CHECK(same(da_ksyms_nearest(ks, 0xffffffffc0002008ull, &off), "dat_exporter_revoke"));
	CHECK(off == 0x1008);
	/* past the last symbol: unknown */
	CHECK(!da_ksyms_nearest(ks, 0xffffffffc0003008ull, &off));
	da_ksyms_free(ks);
	return true;
}

static bool finds_functions_and_modules(void)
{
	struct da_ksyms *ks = parse(unsorted);
	char module[64] = "x";

	CHECK(ks);
	CHECK(da_ksyms_has_func(ks, "dat_exporter_revoke", module, sizeof(module)));
	CHECK(!strcmp(module, "dmabuf_audit_test"));
	CHECK(da_ksyms_has_func(ks, "dma_buf_export", module, sizeof(module)));
	CHECK(!strcmp(module, ""));
	/* the last line has no newline */
	CHECK(da_ksyms_has_func(ks, "last_of_vmlinux", NULL, 0));
	/* data is no function; a mapping symbol and a label are no symbol */
	CHECK(!da_ksyms_has_func(ks, "some_data", NULL, 0));
	CHECK(!da_ksyms_has_func(ks, "dat_importer_ops", NULL, 0));
	CHECK(!da_ksyms_has_func(ks, "$x", NULL, 0));
	CHECK(!da_ksyms_has_func(ks, ".Ltmp7", NULL, 0));
	CHECK(!da_ksyms_has_func(ks, "dma_buf_expor", NULL, 0));
	da_ksyms_free(ks);
	return true;
}

/* in address order already (vmlinux as the kernel lists it): the same answers */
static bool sorted_input_is_kept(void)
{
	struct da_ksyms *ks = parse("ffffffff81001000 t a_first\n"
				    "ffffffff81002000 T b_second\n"
				    "ffffffff81002000 D b_data\n"
				    "ffffffff81003000 T c_third\t[mod]\n");
	uint64_t off = 0;

	CHECK(ks && ks->n == 4);
	CHECK(same(da_ksyms_exact(ks, 0xffffffff81002000ull), "b_second"));
	CHECK(same(da_ksyms_nearest(ks, 0xffffffff81002004ull, &off), "b_second") && off == 4);
	da_ksyms_free(ks);
	return true;
}

/* kptr_restrict: every address reads 0; names unknown, presence still known */
static bool restricted_addresses(void)
{
	struct da_ksyms *ks = parse("0000000000000000 T dma_buf_export\n"
				    "0000000000000000 t dat_exporter_revoke\t[dmabuf_audit_test]\n");
	uint64_t off = 0;

	CHECK(ks && da_ksyms_restricted(ks));
	CHECK(!da_ksyms_exact(ks, 0));
	CHECK(!da_ksyms_nearest(ks, 0x10, &off));
	CHECK(da_ksyms_has_func(ks, "dat_exporter_revoke", NULL, 0));
	da_ksyms_free(ks);
	/* no table at all (kallsyms unreadable): every look-up says unknown */
	CHECK(da_ksyms_restricted(NULL) && !da_ksyms_exact(NULL, 1));
	CHECK(!da_ksyms_has_func(NULL, "dma_buf_export", NULL, 0));
	return true;
}

static bool empty_text(void)
{
	struct da_ksyms *ks = parse("");

	CHECK(ks && ks->n == 0 && da_ksyms_restricted(ks));
	CHECK(!da_ksyms_has_func(ks, "x", NULL, 0));
	da_ksyms_free(ks);
	return true;
}

TAP_MAIN(TAP_TEST(looks_up_by_address), TAP_TEST(finds_functions_and_modules),
	 TAP_TEST(sorted_input_is_kept), TAP_TEST(restricted_addresses), TAP_TEST(empty_text))
