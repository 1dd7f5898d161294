// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what `hooks --btf FILE` does with a BTF file from
 * anywhere (src/cmd/hooks.c): libbpf parses it, da_btf_check judges it,
 * and the BTF readers of src/live/hook_table.c (kernel facts, the plan of every
 * hook) run on it whatever the check said, so they are proven to stand on
 * their own: no NULL name, no endless walk, no read outside the file (a
 * file with misaligned records, which the check refuses first, excepted).
 */
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "dmabuf_audit/policy.h"
#include "live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct da_hook_plan plans[DA_MAX_HOOKS];
	static struct da_opts opts;
	static bool ready;
	struct da_kernel_facts facts;
	struct btf *btf;
	char err[256];
	unsigned int n;

	if (!ready) {
		da_policy_init_default(&opts.policy);
		ready = true;
	}
	btf = btf__new(data, size);
	if (!btf)
		return 0;
	if (da_btf_check(btf, err, sizeof(err)) && !memchr(err, '\0', sizeof(err)))
		abort();
	/* misaligned records are refused by the check; reading them at all is undefined */
	if (!da_btf_aligned(btf)) {
		btf__free(btf);
		return 0;
	}
	da_kernel_facts_from_btf(btf, &facts);
	n = da_plan_from_btf(btf, &opts, plans);
	if (n > DA_MAX_HOOKS)
		abort();
	btf__free(btf);
	return 0;
}
