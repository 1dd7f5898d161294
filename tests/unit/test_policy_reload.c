// SPDX-License-Identifier: GPL-2.0
/*
 * A policy reloaded under a running engine (SIGHUP in `watch`,
 * da_engine_policy_reloaded in src/core/engine_state.c): the lists that
 * classify attachments when they are first seen apply to the attachments
 * already alive, and the engine's state (the attachment, its history) is
 * kept.
 */
#include <string.h>

#include "dmabuf_audit/service.h"
#include "trace_builder.h"

#define OPS "dat_pinned_importer_ops"

/* an importer attached before the reload, mapped after it without a pin */
static bool attach_map(struct tb *tb, bool reclassify)
{
	CHECK(tb_begin(tb));
	tb_export(tb, T1, BUF1, RESV1, "amdgpu", 1);
	tb_attach(tb, T2, BUF1, ATT1, "iommu", OPS, "dat_invalidate", 0);
	/* the new policy names its ops as a pinning importer: replaced in place */
	strcpy(tb->pol.pinning_importers.names[tb->pol.pinning_importers.n++], OPS);
	if (reclassify)
		da_engine_policy_reloaded(tb->eng);
	tb_map(tb, T2, BUF1, ATT1, SGT1, true, HELD, 0);
	tb_unmap(tb, T2, BUF1, ATT1, SGT1, true, HELD);
	tb_detach(tb, T2, BUF1, ATT1);
	tb_finish(tb);
	return true;
}

static bool live_attachment_reclassified(void)
{
	struct tb tb;

	CHECK(attach_map(&tb, true));
	CHECK(TB_EXPECT(&tb, E(PINNING_IMPORTER_MISSING_PIN, HIGH, BUF1, ATT1)));
	CHECK(!strcmp(tb.find[0].importer_sym, OPS));
	tb_free(&tb);
	return true;
}

/* the control: without it the attachment keeps the class it was given */
static bool without_reclassify_quiet(void)
{
	struct tb tb;

	CHECK(attach_map(&tb, false));
	CHECK(TB_EXPECT_NONE(&tb));
	tb_free(&tb);
	return true;
}

TAP_MAIN(TAP_TEST(live_attachment_reclassified), TAP_TEST(without_reclassify_quiet))
