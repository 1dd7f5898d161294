// SPDX-License-Identifier: GPL-2.0
/*
 * The cleaning rule for strings from a trace or the kernel (sink_common.c,
 * docs/output.md "Strings from the trace"): text keeps valid UTF-8 and
 * nothing that moves a terminal or starts a line; JSON keeps the control
 * characters (escaped) and replaces only what is not UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "tap.h"

static bool cleans_to(const char *in, size_t dstlen, const char *want)
{
	char out[64];

	da_clean_str(out, dstlen, in, strlen(in));
	if (strcmp(out, want)) {
		printf("# '%s' cleaned to '%s', want '%s'\n", in, out, want);
		return false;
	}
	return true;
}

static bool text_rule(void)
{
	CHECK(cleans_to("udmabuf", 64, "udmabuf"));
	CHECK(cleans_to("a\nnot ok 9\r", 64, "a?not ok 9?"));
	CHECK(cleans_to("\x1b[2J\x7f", 64, "?[2J?"));
	/* C1 (U+009B, a CSI on terminals) is a control character; U+00A0 and é are not */
	CHECK(cleans_to("x\xc2\x9b" "31m\xc2\xa0\xc3\xa9", 64, "x?31m\xc2\xa0\xc3\xa9"));
	/* not UTF-8: a lone continuation, an overlong '/', a surrogate, past U+10FFFF, cut */
	CHECK(cleans_to("\x80|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82", 64,
			"?|??|???|????|??"));
	CHECK(cleans_to("\xf0\x9f\x98\x80", 64, "\xf0\x9f\x98\x80"));
	/* a character that does not fit whole is not cut: the output stays UTF-8 */
	CHECK(cleans_to("ab\xc3\xa9", 4, "ab"));
	CHECK(cleans_to("abc", 1, ""));
	return true;
}

static bool json_rule(void)
{
	json_t *j = da_json_str("a\n\xff\xc3\xa9", SIZE_MAX);

	CHECK(j && json_is_string(j));
	CHECK(!strcmp(json_string_value(j), "a\n?\xc3\xa9"));
	json_decref(j);
	j = da_json_str("", SIZE_MAX);
	CHECK(json_is_null(j));
	json_decref(j);
	return true;
}

TAP_MAIN(TAP_TEST(text_rule), TAP_TEST(json_rule))
