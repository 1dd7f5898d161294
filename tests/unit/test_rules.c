// SPDX-License-Identifier: GPL-2.0
/*
 * Pure policy of the core outside the engine's rules: which rules a kernel
 * can enforce (`hooks`), the exit status of an audit, the bound on the
 * engine's tables, and the tracer's own frames dropped from --stacks.
 */
#include <stdio.h>
#include <string.h>

#include "dmabuf_audit/pipeline.h"
#include "dmabuf_audit/rules.h"
#include "tap.h"

#define OPS_ALL ((1u << DA_OP__COUNT) - 2)
#define CAPS_ALL (DA_CAP_RESV_OWNER | DA_CAP_INVALIDATE_CB | DA_CAP_REVOKE_SCOPE)

static const char *why(enum da_rule r, const struct da_kernel_offer *offer)
{
	static char buf[256];

	return da_rule_unenforceable(&da_rules[r], offer, buf, sizeof(buf));
}

static bool all_enforceable_with_everything(void)
{
	struct da_kernel_offer offer = { .ops = OPS_ALL, .caps = CAPS_ALL, .live = true };

	for (unsigned int r = 0; r < DA_RULE__COUNT; r++)
		CHECK(!strcmp(why(r, &offer), ""));
	return true;
}

static bool missing_ops_named(void)
{
	struct da_kernel_offer offer = {
		.ops = OPS_ALL & ~(DA_OP_BIT(DA_OP_FENCE_WAIT) | DA_OP_BIT(DA_OP_INVALIDATE)),
		.caps = CAPS_ALL,
		.live = true,
	};

	CHECK(!strcmp(why(DA_RULE_MISSING_FENCE_WAIT, &offer),
		      "no attached hook for: invalidate fence_wait"));
	offer.live = false;
	CHECK(!strcmp(why(DA_RULE_WEAK_FENCE_WAIT, &offer),
		      "no available hook for: invalidate fence_wait"));
	/* pin-leak needs neither */
	CHECK(!strcmp(why(DA_RULE_PIN_LEAK, &offer), ""));
	return true;
}

static bool any_of_access_ops(void)
{
	uint32_t access = DA_OP_BIT(DA_OP_MAP) | DA_OP_BIT(DA_OP_VMAP) | DA_OP_BIT(DA_OP_MMAP);
	struct da_kernel_offer offer = { .ops = OPS_ALL & ~access, .caps = CAPS_ALL, .live = true };

	CHECK(!strcmp(why(DA_RULE_ACCESS_AFTER_REVOKE, &offer),
		      "no attached hook for any of the access ops"));
	offer.ops |= DA_OP_BIT(DA_OP_MMAP);
	CHECK(!strcmp(why(DA_RULE_ACCESS_AFTER_REVOKE, &offer), ""));
	return true;
}

static bool missing_caps_named(void)
{
	struct da_kernel_offer offer = { .ops = OPS_ALL, .live = true, .scopes_pending = true };

	CHECK(!strcmp(why(DA_RULE_RESV_NOT_HELD, &offer),
		      "the reservation lock owner is not readable (PREEMPT_RT)"));
	CHECK(!strcmp(why(DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED, &offer),
		      "struct dma_buf_attach_ops has no invalidate callback field"));
	CHECK(!strcmp(why(DA_RULE_REVOKE_STALLED, &offer),
		      "no revoke scope hook attached (module hooks resolve when their module "
		      "loads)"));
	offer.live = false;
	offer.scopes_pending = false;
	CHECK(!strcmp(why(DA_RULE_REVOKE_STALLED, &offer), "no revoke scope hook in vmlinux"));
	/* several reasons, "; "-separated */
	offer.ops = 0;
	CHECK(!strcmp(why(DA_RULE_REVOKE_STALLED, &offer),
		      "no available hook for: scope_enter scope_exit; no revoke scope hook in "
		      "vmlinux"));
	return true;
}

static bool reason_truncated_safely(void)
{
	struct da_kernel_offer offer = { 0 };
	char small[12];

	da_rule_unenforceable(&da_rules[DA_RULE_RESV_NOT_HELD], &offer, small, sizeof(small));
	CHECK(!strcmp(small, "no availabl"));
	return true;
}

static bool exit_status(void)
{
	struct da_opts opts = { .fail_on = DA_SEV_HIGH, .error_exitcode = 7 };

	CHECK(da_exit_status(&opts, -1) == 0);
	CHECK(da_exit_status(&opts, DA_SEV_WARNING) == 0);
	CHECK(da_exit_status(&opts, DA_SEV_HIGH) == 7);
	CHECK(da_exit_status(&opts, DA_SEV_CRITICAL) == 7);
	opts.fail_on = DA_SEV_INFO;
	CHECK(da_exit_status(&opts, DA_SEV_INFO) == 7);
	return true;
}

static bool table_bounds(void)
{
	struct da_policy pol;
	struct da_engine_config cfg = { .policy = &pol };
	struct da_engine_bytes b;
	struct da_engine *eng;

	da_policy_init_default(&pol);
	da_engine_table_bytes(&cfg, &b);
	CHECK(b.total < 64ull << 20 && b.total > b.buffers + b.attachments + b.history);
	eng = da_engine_new(&cfg);
	CHECK(eng);
	da_engine_free(eng);
	/* refused before anything is allocated: this returns at once */
	cfg.max_attachments = 2000000000;
	da_engine_table_bytes(&cfg, &b);
	CHECK(b.total > DA_ENGINE_MAX_TABLE_BYTES && b.attachments > b.buffers);
	CHECK(!da_engine_new(&cfg));
	cfg.max_attachments = 0;
	cfg.history_len = UINT32_MAX;
	da_engine_table_bytes(&cfg, &b);
	CHECK(b.history > b.buffers && b.history > b.attachments);
	CHECK(!da_engine_new(&cfg));
	cfg.history_len = 0;
	cfg.max_buffers = 10000000;
	CHECK(!da_engine_new(&cfg));
	return true;
}

static bool tracer_frames_dropped(void)
{
	const char *fentry[] = { "bpf_prog_3a1f0c2b4d5e6f70_fexit_map+0x9e",
				 "bpf_trampoline_6442520186+0x5b", "vfio_pci_core_write+0x4c",
				 "vfs_write+0xf2" };
	const char *kprobe[] = { "dma_buf_move_notify+0x5", "vfio_pci_dma_buf_move+0x80" };
	const char *mid[] = { "foo+0x1", "bpf_prog_6deef7357e7b4530_x+0x2" };
	const char *all[] = { "bpf_prog_6deef7357e7b4530+0x2" };
	/* the kernel's own bpf_prog_*() functions are not ours */
	const char *kernel[] = { "bpf_prog_realloc+0x10", "bpf_trampoline_link_prog+0x4",
				 "bpf_prog_6deef7357e7b453_x+0x2" };
	const char *hex[] = { "0xffffffffc0001234", "vfs_write+0xf2" };

	CHECK(da_stack_drop_tracer_frames(fentry, 4) == 2);
	CHECK(!strcmp(fentry[0], "vfio_pci_core_write+0x4c") &&
	      !strcmp(fentry[1], "vfs_write+0xf2"));
	/* kprobe stacks start at the probed function: nothing to drop */
	CHECK(da_stack_drop_tracer_frames(kprobe, 2) == 2 &&
	      !strcmp(kprobe[0], "dma_buf_move_notify+0x5"));
	/* only leading frames: a BPF program further down is the kernel's business */
	CHECK(da_stack_drop_tracer_frames(mid, 2) == 2);
	CHECK(da_stack_drop_tracer_frames(all, 1) == 0);
	for (unsigned int i = 0; i < 3; i++)
		CHECK(da_stack_drop_tracer_frames(&kernel[i], 1) == 1);
	CHECK(da_stack_drop_tracer_frames(hex, 2) == 2);
	CHECK(da_stack_drop_tracer_frames(hex, 0) == 0);
	return true;
}

TAP_MAIN(TAP_TEST(all_enforceable_with_everything), TAP_TEST(missing_ops_named),
	 TAP_TEST(any_of_access_ops), TAP_TEST(missing_caps_named),
	 TAP_TEST(reason_truncated_safely), TAP_TEST(exit_status), TAP_TEST(table_bounds),
	 TAP_TEST(tracer_frames_dropped))
