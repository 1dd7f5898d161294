/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TAP runner every tests/unit program uses: a test is a function that
 * returns true when it passed; CHECK() returns false with the failed
 * condition as a "# " diagnostic; TAP_MAIN() is the program's main().
 */
#ifndef DMABUF_AUDIT_TAP_H
#define DMABUF_AUDIT_TAP_H

#include <stdbool.h>
#include <stdio.h>

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			return false;                                                     \
		}                                                                         \
	} while (0)

struct tap_test {
	const char *name;
	bool (*fn)(void);
};
#define TAP_TEST(f)   \
	{             \
#f, f \
	}
/* runs every test, prints the plan and one line each; returns the exit status */
int tap_run(const struct tap_test *tests, unsigned int n);

/* main() running the tests given, in order: TAP_MAIN(TAP_TEST(a), TAP_TEST(b)) */
#define TAP_MAIN(...)                                                    \
	int main(void)                                                   \
	{                                                                \
		static const struct tap_test tests[] = { __VA_ARGS__ };  \
                                                                         \
		return tap_run(tests, sizeof(tests) / sizeof(tests[0])); \
	}

#endif /* DMABUF_AUDIT_TAP_H */
