/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule catalogue: stable IDs (docs/rules.md),
 * default severities, and what each rule needs to observe.  One table, used
 * by the engine, the policy parser, `hooks` (enforceability) and the
 * KTAP/JUnit sinks (one test per rule).
 */
#ifndef DMABUF_AUDIT_RULES_H
#define DMABUF_AUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum da_severity {
	DA_SEV_INFO = 0,
	DA_SEV_WARNING,
	DA_SEV_HIGH,
	DA_SEV_CRITICAL,
	DA_SEV__COUNT,
};

enum da_rule {
	DA_RULE_ACCESS_AFTER_REVOKE = 0,
	DA_RULE_ACCESS_ATTEMPT_AFTER_REVOKE,
	DA_RULE_MISSING_FENCE_WAIT,
	DA_RULE_WEAK_FENCE_WAIT,
	DA_RULE_FENCE_WAIT_INCOMPLETE,
	DA_RULE_REVOKE_UNHANDLED_IMPORTER,
	DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED,
	DA_RULE_PINNING_IMPORTER_MISSING_PIN,
	DA_RULE_PIN_LEAK,
	DA_RULE_UNBALANCED_UNPIN,
	DA_RULE_MAPPING_LEAK,
	DA_RULE_UNBALANCED_UNMAP,
	DA_RULE_RESV_NOT_HELD,
	DA_RULE_REVOKE_STALLED,
	DA_RULE_USE_AFTER_RELEASE,
	DA_RULE_PINNED_IMPORTER_LEFT_REVOKED,
	DA_RULE__COUNT,
};

/*
 * What a rule needs from the kernel beyond hooked functions.  `hooks`
 * reports a rule "not enforceable here" when a needed op has no attached
 * hook or a needed capability is missing.
 */
#define DA_CAP_RESV_OWNER	(1u << 0)	/* resv->lock.base.owner readable (non-RT) */
#define DA_CAP_INVALIDATE_CB	(1u << 1)	/* attach ops callback field readable */
#define DA_CAP_REVOKE_SCOPE	(1u << 2)	/* at least one revoke scope hook attachable */

struct da_rule_info {
	enum da_rule id;
	const char *name;		/* stable ID, e.g. "missing-fence-wait" */
	enum da_severity severity;	/* default severity */
	uint32_t needs_ops;		/* bitmask of (1u << enum da_op): all needed */
	uint32_t needs_any_ops;		/* at least one of these (0 = none needed) */
	uint32_t needs_caps;		/* DA_CAP_* */
	bool needs_full_history;	/* not judged on partial entities */
	const char *summary;		/* one line: fires when */
};

extern const struct da_rule_info da_rules[DA_RULE__COUNT];
/* the journal's MESSAGE_ID per rule: 32 lower-case hex digits, stable across versions */
extern const char *const da_rule_message_ids[DA_RULE__COUNT];

/* What a kernel offers the rules: from the hooks attached (live) or available (BTF). */
struct da_kernel_offer {
	uint32_t ops;		/* DA_OP_BIT()s that a hook produces */
	uint32_t caps;		/* DA_CAP_* the kernel has */
	bool scopes_pending;	/* revoke scope hooks wait for their module to load */
	bool live;		/* ops are "attached" (live) rather than "available" (BTF) */
};

/*
 * Why rule r cannot be enforced with what the kernel offers: every missing
 * op and capability, in words, "; "-separated (e.g. "no attached hook for:
 * fence_wait").  "" when it can.  Returns buf.
 */
const char *da_rule_unenforceable(const struct da_rule_info *r,
				  const struct da_kernel_offer *offer, char *buf, size_t len);

const char *da_severity_name(enum da_severity sev);
/* returns 0 and sets *out, or -1 for an unknown name */
int da_severity_parse(const char *name, enum da_severity *out);
/* returns the rule or -1 for an unknown ID */
int da_rule_lookup(const char *name);

#endif /* DMABUF_AUDIT_RULES_H */
