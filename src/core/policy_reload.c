// SPDX-License-Identifier: GPL-2.0
/*
 * A policy reloaded under a running engine (SIGHUP): the engine reads most
 * of the policy at each event (rules on/off, severities, allow-list,
 * thresholds), but classifies names and attachments once, when it first
 * sees them.  Classify again what is alive so that the new lists apply to
 * it too; the entities themselves, their history and the counters stay.
 */
#include "dmabuf_audit/service.h"
#include "engine_priv.h"

void da_engine_policy_reloaded(struct da_engine *eng)
{
	for (uint32_t i = 1; i < eng->nnames; i++) {
		eng->names[i].flags &= ~NF_REVOKING_POLICY;
		if (da_namelist_has(&eng->pol->revoking_exporters, eng->names[i].name))
			eng->names[i].flags |= NF_REVOKING_POLICY;
	}
	for (uint32_t i = 0; i < eng->natts; i++) {
		struct eatt *a = &eng->atts[i];
		const struct eops *ops;

		if (!(a->flags & AF_LIVE) || !(a->flags & AF_KNOWN) || a->ops >= eng->nops)
			continue;
		ops = &eng->ops[a->ops];
		a->flags &= ~(AF_STUB_CB | AF_PINNING);
		if (ops->invalidate_cb &&
		    da_namelist_has(&eng->pol->stub_callbacks,
				    da_symbols_lookup(eng->syms, ops->invalidate_cb)))
			a->flags |= AF_STUB_CB;
		if (ops->importer_ops &&
		    da_namelist_has(&eng->pol->pinning_importers,
				    da_symbols_lookup(eng->syms, ops->importer_ops)))
			a->flags |= AF_PINNING;
	}
}
