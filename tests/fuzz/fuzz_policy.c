// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the policy file reader and parser (policy.c).  A file
 * that fails must leave the policy exactly as it was; one that loads must
 * give a policy within its bounds.
 */
#include <string.h>

#include "dmabuf_audit/policy.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct da_policy pol, before;
	char err[512];

	da_policy_init_default(&pol);
	before = pol;
	if (da_policy_load(&pol, fuzz_input_path(data, size), err, sizeof(err))) {
		if (memcmp(&pol, &before, sizeof(pol)) || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (pol.stub_callbacks.n > DA_POLICY_MAX_NAMES || pol.n_allow > DA_POLICY_MAX_ALLOW)
		abort();
	return 0;
}
