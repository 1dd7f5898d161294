// SPDX-License-Identifier: GPL-2.0
/* The rule catalogue; see include/dmabuf_audit/rules.h and docs/rules.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dmabuf_audit/event.h"
#include "dmabuf_audit/rules.h"

#define B(op) DA_OP_BIT(DA_OP_##op)
#define ACCESS (B(MAP) | B(VMAP) | B(MMAP))

const struct da_rule_info da_rules[DA_RULE__COUNT] = {
	[DA_RULE_ACCESS_AFTER_REVOKE] = {
		DA_RULE_ACCESS_AFTER_REVOKE, "access-after-revoke", DA_SEV_CRITICAL,
		B(INVALIDATE), ACCESS, 0, false,
		"map, vmap or mmap of a revoked buffer succeeded before any un-revoke" },
	[DA_RULE_ACCESS_ATTEMPT_AFTER_REVOKE] = {
		DA_RULE_ACCESS_ATTEMPT_AFTER_REVOKE, "access-attempt-after-revoke", DA_SEV_WARNING,
		B(INVALIDATE), ACCESS, 0, false,
		"map, vmap or mmap of a revoked buffer was attempted (and refused)" },
	[DA_RULE_MISSING_FENCE_WAIT] = {
		DA_RULE_MISSING_FENCE_WAIT, "missing-fence-wait", DA_SEV_CRITICAL,
		B(INVALIDATE) | B(FENCE_WAIT), 0, 0, false,
		"a revoke was not followed by a fence wait on the buffer's resv before its deadline" },
	[DA_RULE_WEAK_FENCE_WAIT] = {
		DA_RULE_WEAK_FENCE_WAIT, "weak-fence-wait", DA_SEV_WARNING,
		B(INVALIDATE) | B(FENCE_WAIT), 0, 0, false,
		"the fence wait after a revoke did not use DMA_RESV_USAGE_BOOKKEEP" },
	[DA_RULE_FENCE_WAIT_INCOMPLETE] = {
		DA_RULE_FENCE_WAIT_INCOMPLETE, "fence-wait-incomplete", DA_SEV_WARNING,
		B(INVALIDATE) | B(FENCE_WAIT), 0, 0, false,
		"the fence wait after a revoke timed out or was interrupted and the exporter went on" },
	[DA_RULE_REVOKE_UNHANDLED_IMPORTER] = {
		DA_RULE_REVOKE_UNHANDLED_IMPORTER, "revoke-unhandled-importer", DA_SEV_CRITICAL,
		B(INVALIDATE) | B(ATTACH), 0, DA_CAP_INVALIDATE_CB, false,
		"a revoke reached a pinned or mapped importer that cannot handle it" },
	[DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED] = {
		DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED, "non-revocable-importer-accepted", DA_SEV_HIGH,
		B(ATTACH), 0, DA_CAP_INVALIDATE_CB, false,
		"a revoking exporter let a non-revocable importer attach or pin" },
	[DA_RULE_PINNING_IMPORTER_MISSING_PIN] = {
		DA_RULE_PINNING_IMPORTER_MISSING_PIN, "pinning-importer-missing-pin", DA_SEV_HIGH,
		B(ATTACH) | B(PIN) | B(UNPIN) | B(MAP), 0, 0, true,
		"a pinning importer mapped an attachment it had not pinned" },
	[DA_RULE_PIN_LEAK] = {
		DA_RULE_PIN_LEAK, "pin-leak", DA_SEV_HIGH,
		B(ATTACH) | B(DETACH) | B(PIN) | B(UNPIN), 0, 0, true,
		"an attachment was detached (or its buffer released) while still pinned" },
	[DA_RULE_UNBALANCED_UNPIN] = {
		DA_RULE_UNBALANCED_UNPIN, "unbalanced-unpin", DA_SEV_HIGH,
		B(ATTACH) | B(PIN) | B(UNPIN), 0, 0, true,
		"unpin of an attachment whose pin count is zero" },
	[DA_RULE_MAPPING_LEAK] = {
		DA_RULE_MAPPING_LEAK, "mapping-leak", DA_SEV_HIGH,
		B(ATTACH) | B(DETACH) | B(MAP) | B(UNMAP), 0, 0, true,
		"an attachment was detached while a mapping it obtained was never unmapped" },
	[DA_RULE_UNBALANCED_UNMAP] = {
		DA_RULE_UNBALANCED_UNMAP, "unbalanced-unmap", DA_SEV_HIGH,
		B(ATTACH) | B(MAP) | B(UNMAP), 0, 0, true,
		"unmap of an sg_table that no live map of that attachment returned" },
	[DA_RULE_RESV_NOT_HELD] = {
		DA_RULE_RESV_NOT_HELD, "resv-not-held", DA_SEV_HIGH,
		0, B(INVALIDATE) | B(PIN) | B(UNPIN) | B(MAP) | B(UNMAP) | B(VMAP) | B(VUNMAP),
		DA_CAP_RESV_OWNER, false,
		"invalidate, pin, unpin or a locked map/unmap/vmap/vunmap without the reservation lock" },
	[DA_RULE_REVOKE_STALLED] = {
		DA_RULE_REVOKE_STALLED, "revoke-stalled", DA_SEV_WARNING,
		B(SCOPE_ENTER) | B(SCOPE_EXIT), 0, DA_CAP_REVOKE_SCOPE, false,
		"a revoke scope lasted longer than the threshold" },
	[DA_RULE_USE_AFTER_RELEASE] = {
		DA_RULE_USE_AFTER_RELEASE, "use-after-release", DA_SEV_CRITICAL,
		B(EXPORT) | B(RELEASE) | B(ATTACH) | B(DETACH), 0, 0, true,
		"an operation named a buffer after its release or an attachment after its detach" },
	[DA_RULE_PINNED_IMPORTER_LEFT_REVOKED] = {
		DA_RULE_PINNED_IMPORTER_LEFT_REVOKED, "pinned-importer-left-revoked", DA_SEV_INFO,
		B(INVALIDATE) | B(PIN) | B(SCOPE_ENTER) | B(MAP) | B(DETACH), 0, DA_CAP_REVOKE_SCOPE,
		false,
		"a pinned attachment revoked and un-revoked never mapped again before its end" },
};

/*
 * The journal's MESSAGE_ID of each rule's findings: 128-bit IDs made once
 * (systemd-id128 new) and never changed, because journalctl queries, alerts
 * and the catalog (packaging/dmabuf-audit.catalog) match them.  Listed
 * in docs/rules.md; tests/service/run.py checks the three agree.
 */
const char *const da_rule_message_ids[DA_RULE__COUNT] = {
	[DA_RULE_ACCESS_AFTER_REVOKE] = "8945c7ae30d0403ca7f7baa14f4500b4",
	[DA_RULE_ACCESS_ATTEMPT_AFTER_REVOKE] = "b45560dbb9e04ff58d92f27e3a696304",
	[DA_RULE_MISSING_FENCE_WAIT] = "947a239f980f4e5a845248a770028578",
	[DA_RULE_WEAK_FENCE_WAIT] = "ccaa6092af354d8c84fdb5d7380f60d3",
	[DA_RULE_FENCE_WAIT_INCOMPLETE] = "1a9cf9e4879b4313bfe70f0b335c1c6e",
	[DA_RULE_REVOKE_UNHANDLED_IMPORTER] = "42740a25c42943baac6b4e8e9e03b822",
	[DA_RULE_NON_REVOCABLE_IMPORTER_ACCEPTED] = "cbec2d683c524c98b87e39cbf203850c",
	[DA_RULE_PINNING_IMPORTER_MISSING_PIN] = "60d787ec5f054c6182f5c7f7ee25ac56",
	[DA_RULE_PIN_LEAK] = "7d29f808eedd4ae0a7f6a509940c194a",
	[DA_RULE_UNBALANCED_UNPIN] = "d66840e9342948a6ab639cef1002f8f0",
	[DA_RULE_MAPPING_LEAK] = "b74b2b0a531b4e2c8a4a7ec46b7df82c",
	[DA_RULE_UNBALANCED_UNMAP] = "df803982170c4a068f0ac89d8392cd3f",
	[DA_RULE_RESV_NOT_HELD] = "b07567e6d0f44c8e90361e45e0cd8f69",
	[DA_RULE_REVOKE_STALLED] = "fa2ca04033074c49adf7b3446423d2c0",
	[DA_RULE_USE_AFTER_RELEASE] = "ce263cb4adec43459d24f9bfbc6acd70",
	[DA_RULE_PINNED_IMPORTER_LEFT_REVOKED] = "f5b3ed5202b24c03bc1cc715862adc37",
};

static const char *const severity_names[DA_SEV__COUNT] = {
	[DA_SEV_INFO] = "info",
	[DA_SEV_WARNING] = "warning",
	[DA_SEV_HIGH] = "high",
	[DA_SEV_CRITICAL] = "critical",
};

const char *da_severity_name(enum da_severity sev)
{
	return (unsigned int)sev < DA_SEV__COUNT ? severity_names[sev] : "?";
}

int da_severity_parse(const char *name, enum da_severity *out)
{
	for (int i = 0; i < DA_SEV__COUNT; i++) {
		if (!strcmp(name, severity_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

int da_rule_lookup(const char *name)
{
	for (int i = 0; i < DA_RULE__COUNT; i++)
		if (!strcmp(name, da_rules[i].name))
			return i;
	return -1;
}

struct text {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void append(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n;
}

static const char *sep(const struct text *t)
{
	return t->used ? "; " : "";
}

const char *da_rule_unenforceable(const struct da_rule_info *r, const struct da_kernel_offer *offer,
				  char *buf, size_t len)
{
	const char *have = offer->live ? "attached" : "available";
	uint32_t missing = r->needs_ops & ~offer->ops;
	struct text t = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	if (missing) {
		append(&t, "no %s hook for:", have);
		for (unsigned int op = 0; op < DA_OP__COUNT; op++)
			if (missing & DA_OP_BIT(op))
				append(&t, " %s", da_op_name(op));
	}
	if (r->needs_any_ops && !(r->needs_any_ops & offer->ops))
		append(&t, "%sno %s hook for any of the access ops", sep(&t), have);
	if ((r->needs_caps & DA_CAP_RESV_OWNER) && !(offer->caps & DA_CAP_RESV_OWNER))
		append(&t, "%sthe reservation lock owner is not readable (PREEMPT_RT)", sep(&t));
	if ((r->needs_caps & DA_CAP_INVALIDATE_CB) && !(offer->caps & DA_CAP_INVALIDATE_CB))
		append(&t, "%sstruct dma_buf_attach_ops has no invalidate callback field", sep(&t));
	if ((r->needs_caps & DA_CAP_REVOKE_SCOPE) && !(offer->caps & DA_CAP_REVOKE_SCOPE))
		append(&t, "%sno revoke scope hook %s%s", sep(&t),
		       offer->live ? "attached" : "in vmlinux",
		       offer->scopes_pending ? " (module hooks resolve when their module loads)" :
					       "");
	return buf;
}
