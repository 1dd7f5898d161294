// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/dma_buf/bufinfo as Debian's 6.1 and 6.12 kernels print
 * it (dma_buf_debug_show()): every field of a buffer, its devices, and the
 * malformed files the seed must refuse rather than half-read.
 */
#include <string.h>

#include "dmabuf_audit/bufinfo.h"
#include "tap.h"

/* every field kind: a device, a fence line, a name with a tab */
static const char two_buffers[] =
	"\nDma-buf Objects:\n"
	"size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n"
	"00065536\t00000002\t000a801f\t00000003\tudmabuf\t00000011\t<none>\n"
	"\tAttached Devices:\n"
	"\tvgem\n"
	"Total 1 devices attached\n"
	"\n"
	"00004096\t00000002\t000a801f\t00000001\tdmabuf_audit_test\t00000012\tmy name\twith tab\n"
	"\tbookkeep fence:dmabuf_audit_test timeline seq 3 unsignalled\n"
	"\tAttached Devices:\n"
	"Total 0 devices attached\n"
	"\n"
	"\nTotal 2 objects, 69632 bytes\n";

static bool parses_every_field(void)
{
	struct da_bufinfo info;
	const struct da_bufinfo_buf *b;
	char err[256] = "";

	CHECK(da_bufinfo_parse(two_buffers, &info, err, sizeof(err)) == 0);
	CHECK(info.n == 2 && info.total_objects == 2);
	b = da_bufinfo_find(&info, 11);
	CHECK(b && b->size == 65536 && b->flags == 2 && b->mode == 0xa801f && b->count == 3);
	CHECK(!strcmp(b->exp_name, "udmabuf") && b->n_devs == 1 && !strcmp(b->devs[0], "vgem"));
	CHECK(b->n_fences == 0);
	b = da_bufinfo_find(&info, 12);
	CHECK(b && b->size == 4096 && !strcmp(b->exp_name, "dmabuf_audit_test"));
	CHECK(b->n_devs == 0 && b->n_fences == 1);
	CHECK(!da_bufinfo_find(&info, 17));
	da_bufinfo_free(&info);
	return true;
}

/* the seed case's guests, verbatim: 6.12 (mode 00080007) and 7.3 (02080007) */
static const char guest_6_12[] =
	"\nDma-buf Objects:\n"
	"size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n"
	"00004096\t00000002\t00080007\t00000001\tdat_lenient\t00000003\t<none>\n"
	"\tAttached Devices:\n"
	"Total 0 devices attached\n"
	"\n"
	"00004096\t00000002\t00080007\t00000002\tdat_revoker\t00000002\t<none>\n"
	"\tAttached Devices:\n"
	"\tdat-dynamic\n"
	"Total 1 devices attached\n"
	"\n"
	"\n"
	"Total 2 objects, 8192 bytes\n";

static bool parses_the_guests_output(void)
{
	struct da_bufinfo info;
	const struct da_bufinfo_buf *b;
	char err[256] = "", text[sizeof(guest_6_12)], *mode;

	for (int k = 0; k < 2; k++) {
		memcpy(text, guest_6_12, sizeof(text));
		/* 7.3 prints the same but for the file mode's FMODE_ bits */
		for (mode = text; k && (mode = strstr(mode, "\t00080007\t")); mode++)
			memcpy(mode + 1, "02080007", 8);
		CHECK(da_bufinfo_parse(text, &info, err, sizeof(err)) == 0);
		CHECK(info.n == 2 && info.total_objects == 2);
		b = da_bufinfo_find(&info, 2);
		CHECK(b && !strcmp(b->exp_name, "dat_revoker") && b->size == 4096 && b->count == 2);
		CHECK(b->mode == (k ? 0x2080007u : 0x80007u) && b->flags == 2);
		CHECK(b->n_devs == 1 && !strcmp(b->devs[0], "dat-dynamic"));
		b = da_bufinfo_find(&info, 3);
		CHECK(b && !strcmp(b->exp_name, "dat_lenient") && b->n_devs == 0 && b->count == 1);
		da_bufinfo_free(&info);
	}
	return true;
}

static bool empty_list(void)
{
	struct da_bufinfo info;
	char err[256] = "";

	CHECK(da_bufinfo_parse("\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \t"
			       "exp_name\tino     \tname\n\nTotal 0 objects, 0 bytes\n",
			       &info, err, sizeof(err)) == 0);
	CHECK(info.n == 0 && info.total_objects == 0);
	da_bufinfo_free(&info);
	return true;
}

static bool refuses(const char *text, const char *want)
{
	struct da_bufinfo info;
	char err[256] = "";

	CHECK(da_bufinfo_parse(text, &info, err, sizeof(err)) == -1);
	if (strcmp(err, want)) {
		printf("# got \"%s\", wanted \"%s\"\n", err, want);
		return false;
	}
	CHECK(info.n == 0 && !info.bufs);
	return true;
}

#define HEAD "\nDma-buf Objects:\nsize\tflags\tmode\tcount\texp_name\tino\tname\n"

static bool refuses_malformed(void)
{
	CHECK(refuses("hello\n", "line 1: not the \"Dma-buf Objects:\" header"));
	CHECK(refuses(HEAD "00004096\t00000002\n", "line 4: a buffer line has 2 fields, not 7"));
	CHECK(refuses(HEAD "00004096\t0000000z\t0\t1\tx\t5\t<none>\n",
		      "line 4: a buffer line's size, flags, mode, count or ino is not a number"));
	CHECK(refuses(HEAD "00004096\t2\t0\t1\tx\t5\t<none>\n\tAttached Devices:\n\tvgem\n"
			   "Total 2 devices attached\n",
		      "line 7: 2 devices said, 1 listed"));
	CHECK(refuses(HEAD "00004096\t2\t0\t1\tx\t5\t<none>\n\tsomething\n",
		      "line 5: unexpected line in buffer ino 5"));
	CHECK(refuses(HEAD "\nTotal 1 objects, 4096 bytes\n", "line 5: 1 objects said, 0 listed"));
	CHECK(refuses(HEAD "00004096\t2\t0\t1\tx\t5\t<none>\n\tAttached Devices:\n",
		      "line 6: cut short: no \"Total N objects\" line"));
	return true;
}

TAP_MAIN(TAP_TEST(parses_every_field), TAP_TEST(parses_the_guests_output), TAP_TEST(empty_list),
	 TAP_TEST(refuses_malformed))
