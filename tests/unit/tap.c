// SPDX-License-Identifier: GPL-2.0
/* The TAP runner of the unit tests; see tap.h. */
#include "tap.h"

int tap_run(const struct tap_test *tests, unsigned int n)
{
	int failed = 0;

	printf("1..%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		bool ok;

		/* a test that crashes leaves the lines before it */
		fflush(stdout);
		ok = tests[i].fn();
		printf("%sok %u - %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		failed += !ok;
	}
	fflush(stdout);
	return failed ? 1 : 0;
}
