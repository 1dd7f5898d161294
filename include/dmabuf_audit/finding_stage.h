/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The finding stage: the one place after the engine where a finding's fate
 * is decided (docs/design.md "The finding stage").  The engine judges
 * events and hands every finding it makes to the stage, which in order:
 *
 *   1. drops it when its rule is off (the engine also skips evaluating an
 *      off rule where it can: that saves work, the verdict is made here);
 *   2. names the task's workload (cgroup path, unit, container, pod);
 *   3. drops it when an allow entry matches, counted as "suppressed";
 *   4. gives it its severity: the rule's, or the first severity entry that
 *      matches;
 *   5. counts it by rule and severity, and the highest severity, which the
 *      exit status is decided from (da_exit_status);
 *   6. holds it back when it repeats within the suppress-window, counted;
 *   7. reports the rest to its caller (the pipeline's sinks).
 *
 * Pure C, no I/O; per finding no allocation.
 */
#ifndef DMABUF_AUDIT_FINDING_STAGE_H
#define DMABUF_AUDIT_FINDING_STAGE_H

#include <stdint.h>

#include "dmabuf_audit/cgroup.h"
#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/policy.h"

struct da_finding_stage;

struct da_finding_stage_config {
	/* rules on/off, severities, allow-lists, suppress-window; may be replaced in place */
	const struct da_policy *policy;
	/* names the workload of a finding's task; NULL: cgroups by id only */
	struct da_cgroups *cgroups;
	/* repeats held back for this long when the policy sets no suppress-window; 0: none */
	uint64_t default_suppress_window_ns;
	/* where a finding that passed every step goes */
	void *ctx;
	void (*report)(void *ctx, const struct da_finding *f);
};

/* What the stage counted: every figure of the summary that is about findings. */
struct da_finding_counts {
	uint64_t allowed; /* dropped by an allow entry (the summary's "suppressed") */
	/* every finding not allowed (held back or not), by rule and the severity it was given */
	uint64_t by_rule_severity[DA_RULE__COUNT][DA_SEV__COUNT];
	uint64_t repeats_held; /* held back by suppress-window */
	uint64_t repeats_by_rule[DA_RULE__COUNT];
	int max_severity; /* of the findings counted; -1 when there is none */
};

/* NULL when out of memory */
struct da_finding_stage *da_finding_stage_new(const struct da_finding_stage_config *cfg);
void da_finding_stage_free(struct da_finding_stage *st);

/*
 * A finding as the engine judged it (f->cgroup.id set, its severity not
 * yet decided): the engine's output.finding, with the stage as its ctx.
 */
void da_finding_stage_take(void *stage, const struct da_finding *f);

const struct da_finding_counts *da_finding_stage_counts(const struct da_finding_stage *st);
/* the summary's figures about findings: suppressed, repeats_held, findings, by_rule */
void da_finding_stage_summary(const struct da_finding_stage *st, struct da_summary *sum);

/*
 * The exit status of a finished audit (docs/output.md "Exit status"):
 * opts->error_exitcode when a finding reached opts->fail_on, else 0.
 * max_severity is the counts' (what da_pipeline_end gives; -1 = none).
 */
int da_exit_status(const struct da_opts *opts, int max_severity);

#endif /* DMABUF_AUDIT_FINDING_STAGE_H */
