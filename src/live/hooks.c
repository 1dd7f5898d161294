// SPDX-License-Identifier: GPL-2.0
/*
 * The hook table: per hook the kernel functions that can serve it (in
 * preference order), the op it produces, whether it may be absent, and the
 * programs of bpf/dmabuf_audit.bpf.c for each mode.  Plus the kernel facts
 * decided from BTF (quirks, callback field name).  This file and
 * bpf/kernel_types.h are the only places that know about kernel versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <jansson.h>

#include "hooks.h"

const struct da_hook_def da_core_hooks[] = {
	{ .id = "export",
	  .candidates = { "dma_buf_export" },
	  .op = DA_OP_EXPORT,
	  .at_return = true,
	  .fexit = "fexit_export",
	  .kretprobe = "kretprobe_export" },
	{ .id = "release",
	  .candidates = { "dma_buf_release" },
	  .op = DA_OP_RELEASE,
	  .fentry = "fentry_release",
	  .kprobe = "kprobe_release" },
	/* dma_buf_attach() is a wrapper that calls dma_buf_dynamic_attach() */
	{ .id = "attach",
	  .candidates = { "dma_buf_dynamic_attach" },
	  .op = DA_OP_ATTACH,
	  .at_return = true,
	  .fexit = "fexit_attach",
	  .kprobe = "kprobe_attach",
	  .kretprobe = "kretprobe_attach" },
	{ .id = "detach",
	  .candidates = { "dma_buf_detach" },
	  .op = DA_OP_DETACH,
	  .fentry = "fentry_detach",
	  .kprobe = "kprobe_detach" },
	{ .id = "pin",
	  .candidates = { "dma_buf_pin" },
	  .op = DA_OP_PIN,
	  .at_return = true,
	  .fexit = "fexit_pin",
	  .kprobe = "kprobe_pin",
	  .kretprobe = "kretprobe_pin" },
	{ .id = "unpin",
	  .candidates = { "dma_buf_unpin" },
	  .op = DA_OP_UNPIN,
	  .fentry = "fentry_unpin",
	  .kprobe = "kprobe_unpin" },
	{ .id = "map",
	  .candidates = { "dma_buf_map_attachment" },
	  .op = DA_OP_MAP,
	  .at_return = true,
	  .fexit = "fexit_map",
	  .kprobe = "kprobe_map",
	  .kretprobe = "kretprobe_map" },
	/* the _unlocked variants: 6.2+, backported to later 6.1.y for map/unmap only */
	{ .id = "map_unlocked",
	  .candidates = { "dma_buf_map_attachment_unlocked" },
	  .why_absent = "not in this kernel (added in 6.2, backported to 6.1.54+)",
	  .op = DA_OP_MAP,
	  .optional = true,
	  .at_return = true,
	  .fentry = "fentry_map_unlocked",
	  .fexit = "fexit_map_unlocked",
	  .kprobe = "kprobe_map_unlocked",
	  .kretprobe = "kretprobe_map_unlocked" },
	{ .id = "unmap",
	  .candidates = { "dma_buf_unmap_attachment" },
	  .op = DA_OP_UNMAP,
	  .fentry = "fentry_unmap",
	  .kprobe = "kprobe_unmap" },
	{ .id = "unmap_unlocked",
	  .candidates = { "dma_buf_unmap_attachment_unlocked" },
	  .why_absent = "not in this kernel (added in 6.2, backported to 6.1.54+)",
	  .op = DA_OP_UNMAP,
	  .optional = true,
	  .fentry = "fentry_unmap_unlocked",
	  .fexit = "fexit_unmap_unlocked",
	  .kprobe = "kprobe_unmap_unlocked",
	  .kretprobe = "kretprobe_unmap_unlocked" },
	{ .id = "vmap",
	  .candidates = { "dma_buf_vmap" },
	  .op = DA_OP_VMAP,
	  .at_return = true,
	  .fexit = "fexit_vmap",
	  .kprobe = "kprobe_vmap",
	  .kretprobe = "kretprobe_vmap" },
	{ .id = "vmap_unlocked",
	  .candidates = { "dma_buf_vmap_unlocked" },
	  .why_absent = "not in this kernel (added in 6.2; 6.1 serialises vmap with dma_buf.lock)",
	  .op = DA_OP_VMAP,
	  .optional = true,
	  .at_return = true,
	  .fentry = "fentry_vmap_unlocked",
	  .fexit = "fexit_vmap_unlocked",
	  .kprobe = "kprobe_vmap_unlocked",
	  .kretprobe = "kretprobe_vmap_unlocked" },
	{ .id = "vunmap",
	  .candidates = { "dma_buf_vunmap" },
	  .op = DA_OP_VUNMAP,
	  .fentry = "fentry_vunmap",
	  .kprobe = "kprobe_vunmap" },
	{ .id = "vunmap_unlocked",
	  .candidates = { "dma_buf_vunmap_unlocked" },
	  .why_absent =
		  "not in this kernel (added in 6.2; 6.1 serialises vunmap with dma_buf.lock)",
	  .op = DA_OP_VUNMAP,
	  .optional = true,
	  .fentry = "fentry_vunmap_unlocked",
	  .fexit = "fexit_vunmap_unlocked",
	  .kprobe = "kprobe_vunmap_unlocked",
	  .kretprobe = "kretprobe_vunmap_unlocked" },
	{ .id = "mmap",
	  .candidates = { "dma_buf_mmap" },
	  .op = DA_OP_MMAP,
	  .at_return = true,
	  .fexit = "fexit_mmap",
	  .kprobe = "kprobe_mmap",
	  .kretprobe = "kretprobe_mmap" },
	/* mmap() of the dma-buf fd (the file operation; drivers call dma_buf_mmap) */
	{ .id = "mmap_fd",
	  .candidates = { "dma_buf_mmap_internal" },
	  .why_absent = "not traceable in this kernel",
	  .op = DA_OP_MMAP,
	  .optional = true,
	  .at_return = true,
	  .fexit = "fexit_mmap_fd",
	  .kprobe = "kprobe_mmap_fd",
	  .kretprobe = "kretprobe_mmap_fd" },
	/* renamed in 7.1; the BPF side reads which one from the invalidate_fn knob */
	{ .id = "invalidate",
	  .candidates = { "dma_buf_invalidate_mappings", "dma_buf_move_notify" },
	  .op = DA_OP_INVALIDATE,
	  .fentry = "fentry_invalidate",
	  .kprobe = "kprobe_invalidate" },
	{ .id = "fence_wait",
	  .candidates = { "dma_resv_wait_timeout" },
	  .op = DA_OP_FENCE_WAIT,
	  .at_return = true,
	  .fexit = "fexit_fence_wait",
	  .kprobe = "kprobe_fence_wait",
	  .kretprobe = "kretprobe_fence_wait" },
	{ .id = "revocable_check",
	  .candidates = { "dma_buf_attach_revocable" },
	  .why_absent = "not in this kernel (added in 7.1)",
	  .op = DA_OP_REVOCABLE_CHECK,
	  .optional = true,
	  .at_return = true,
	  .fexit = "fexit_revocable",
	  .kprobe = "kprobe_revocable",
	  .kretprobe = "kretprobe_revocable" },
	/* the end of a revoke's lock section; without it that deadline is not observed */
	{ .id = "resv_unlock",
	  .candidates = { "ww_mutex_unlock" },
	  .why_absent = "ww_mutex_unlock is not traceable here",
	  .op = DA_OP_RESV_UNLOCK,
	  .optional = true,
	  .fentry = "fentry_resv_unlock",
	  .kprobe = "kprobe_resv_unlock" },
};
const unsigned int da_n_core_hooks = sizeof(da_core_hooks) / sizeof(da_core_hooks[0]);

/* where known revoke scope functions live: VFIO's revoke path (vfio-pci-core, 6.19+) */
const struct da_known_scope da_known_scopes[] = {
	{ "vfio_pci_dma_buf_move", "vfio_pci_core" },
	{ "vfio_pci_dma_buf_cleanup", "vfio_pci_core" },
};
const unsigned int da_n_known_scopes = sizeof(da_known_scopes) / sizeof(da_known_scopes[0]);

bool da_btf_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* the member `name` of struct `type`, or NULL */
static const struct btf_member *btf_member(const struct btf *btf, const char *type,
					   const char *name)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id <= 0)
		return NULL;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name))
			return m;
	return NULL;
}

/* name of the struct a member has as its type (through typedefs) */
static const char *member_type_name(const struct btf *btf, const struct btf_member *m)
{
	const struct btf_type *t = btf__type_by_id(btf, m->type);

	while (t && btf_is_typedef(t))
		t = btf__type_by_id(btf, t->type);
	return t ? btf__name_by_offset(btf, t->name_off) : "";
}

void da_kernel_facts_from_btf(const struct btf *btf, struct da_kernel_facts *facts)
{
	const struct btf_member *base;

	memset(facts, 0, sizeof(*facts));
	if (!btf) {
		facts->quirks = DA_QUIRK_NO_RESV_OWNER;
		return;
	}
	/* 6.1: struct dma_buf still has its own mutex (removed in 6.2) */
	if (btf_member(btf, "dma_buf", "lock"))
		facts->quirks |= DA_QUIRK_LEGACY_LOCKING;
	/* PREEMPT_RT: ww_mutex.base is an rt_mutex, whose owner is elsewhere */
	base = btf_member(btf, "ww_mutex", "base");
	facts->resv_owner = base && !strcmp(member_type_name(btf, base), "mutex") &&
			    btf_member(btf, "mutex", "owner");
	if (!facts->resv_owner)
		facts->quirks |= DA_QUIRK_NO_RESV_OWNER;
	if (btf_member(btf, "dma_buf_attach_ops", "invalidate_mappings"))
		facts->callback_field = "invalidate_mappings";
	else if (btf_member(btf, "dma_buf_attach_ops", "move_notify"))
		facts->callback_field = "move_notify";
}

uint32_t da_plan_ops(const struct da_hook_plan *plans, unsigned int n, bool live)
{
	uint32_t ops = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct da_hook_plan *p = &plans[i];
		bool ok = live ? p->attached : (p->mode == DA_HM_FENTRY || p->mode == DA_HM_KPROBE);

		if (!ok)
			continue;
		if (p->def)
			ops |= DA_OP_BIT(p->def->op);
		else
			ops |= DA_OP_BIT(DA_OP_SCOPE_ENTER) | DA_OP_BIT(DA_OP_SCOPE_EXIT);
	}
	return ops;
}

const char *da_plan_mode_name(const struct da_hook_plan *plan)
{
	bool ret = plan->def ? plan->def->at_return : false;

	switch (plan->mode) {
	case DA_HM_FENTRY:
		return ret ? "fexit" : "fentry";
	case DA_HM_KPROBE:
		return ret ? "kretprobe" : "kprobe";
	case DA_HM_MODULE:
		return "module";
	default:
		return "absent";
	}
}

void da_plan_to_trace(const struct da_hook_plan *plans, unsigned int n,
		      const struct da_kernel_facts *facts, struct da_trace_info *info)
{
	info->quirks = facts->quirks;
	info->n_hooks = 0;
	for (unsigned int i = 0; i < n && info->n_hooks < DA_MAX_HOOKS; i++) {
		struct da_hook_status *h = &info->hooks[info->n_hooks++];

		snprintf(h->function, sizeof(h->function), "%s", plans[i].function);
		snprintf(h->mode, sizeof(h->mode), "%s", da_plan_mode_name(&plans[i]));
		h->attached = plans[i].attached;
		snprintf(h->reason, sizeof(h->reason), "%s",
			 plans[i].attached ? "" : plans[i].reason);
	}
}

unsigned int da_plan_scope_hooks(const struct da_policy *pol, struct da_trace_info *info,
				 struct da_hook_plan *plans, unsigned int max)
{
	const char *names[DA_MAX_SCOPES];
	int revoked[DA_MAX_SCOPES];
	unsigned int n = 0, out = 0;

	/* the policy's scopes (its defaults are VFIO's; `clear revoke-scopes` removes them) */
	for (unsigned int i = 0; i < pol->n_scopes && n < DA_MAX_SCOPES; i++) {
		names[n] = pol->scopes[i].function;
		revoked[n++] = pol->scopes[i].revoked_arg;
	}
	for (unsigned int i = 0; i < n && out < max; i++) {
		struct da_hook_plan *p = &plans[out++];

		memset(p, 0, sizeof(*p));
		snprintf(p->function, sizeof(p->function), "%s", names[i]);
		p->revoked_arg = revoked[i];
		p->slot = da_trace_scope_slot(info, names[i]);
		for (unsigned int k = 0; k < da_n_known_scopes; k++)
			if (!strcmp(names[i], da_known_scopes[k].function))
				snprintf(p->module, sizeof(p->module), "%s",
					 da_known_scopes[k].module);
		p->mode = DA_HM_MODULE;
		if (p->module[0])
			snprintf(p->reason, sizeof(p->reason), "module %s: resolved when loaded",
				 p->module);
		else
			snprintf(p->reason, sizeof(p->reason),
				 "not loaded: resolved when its module loads");
	}
	return out;
}

/* ---- `hooks` output ---- */

static const char *hook_id(const struct da_hook_plan *p)
{
	return p->def ? p->def->id : "scope";
}

static bool plan_usable(const struct da_hook_plan *p, bool live)
{
	return live ? p->attached : (p->mode == DA_HM_FENTRY || p->mode == DA_HM_KPROBE);
}

/* why rule r is not enforceable, or "" */
static void rule_reason(const struct da_rule_info *r, const struct da_hook_plan *plans,
			unsigned int n, const struct da_kernel_facts *facts, bool live, char *buf,
			size_t len)
{
	uint32_t ops = da_plan_ops(plans, n, live);
	uint32_t missing = r->needs_ops & ~ops;
	size_t used = 0;

	buf[0] = '\0';
#define APPEND(...)                                                                    \
	do {                                                                           \
		if (used < len)                                                        \
			used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__); \
	} while (0)
	if (missing) {
		APPEND("no %s hook for:", live ? "attached" : "available");
		for (unsigned int op = 0; op < DA_OP__COUNT; op++)
			if (missing & DA_OP_BIT(op))
				APPEND(" %s", da_op_name(op));
	}
	if (r->needs_any_ops && !(r->needs_any_ops & ops))
		APPEND("%sno %s hook for any of the access ops", used ? "; " : "",
		       live ? "attached" : "available");
	if ((r->needs_caps & DA_CAP_RESV_OWNER) && !facts->resv_owner)
		APPEND("%sthe reservation lock owner is not readable (PREEMPT_RT)",
		       used ? "; " : "");
	if ((r->needs_caps & DA_CAP_INVALIDATE_CB) && !facts->callback_field)
		APPEND("%sstruct dma_buf_attach_ops has no invalidate callback field",
		       used ? "; " : "");
	if (r->needs_caps & DA_CAP_REVOKE_SCOPE) {
		bool any = false, pending = false;

		for (unsigned int i = 0; i < n; i++) {
			if (plans[i].def)
				continue;
			any |= plan_usable(&plans[i], live);
			pending |= plans[i].mode == DA_HM_MODULE;
		}
		if (!any)
			APPEND("%sno revoke scope hook %s%s", used ? "; " : "",
			       live ? "attached" : "in vmlinux",
			       pending ? " (module hooks resolve when their module loads)" : "");
	}
#undef APPEND
}

static json_t *json_str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

int da_hooks_print(FILE *out, enum da_format format, const char *kernel, const char *source,
		   const struct da_hook_plan *plans, unsigned int n,
		   const struct da_kernel_facts *facts, bool live)
{
	const char *note = live ? "modes as attached on this kernel" :
				  "from BTF: fentry/fexit when the FUNC record exists; "
				  "attachability is proven only on the live kernel";
	char reason[256];

	if (format == DA_FMT_JSON) {
		json_t *root = json_object(), *hooks = json_array(), *rules = json_array();
		json_t *quirks = json_array();
		char *text;

		if (facts->quirks & DA_QUIRK_LEGACY_LOCKING)
			json_array_append_new(quirks, json_string("legacy-locking"));
		if (facts->quirks & DA_QUIRK_NO_RESV_OWNER)
			json_array_append_new(quirks, json_string("no-resv-owner"));
		json_object_set_new(root, "type", json_string("hooks"));
		json_object_set_new(root, "tool", json_string(DA_TOOL_NAME));
		json_object_set_new(root, "version", json_string(DA_VERSION));
		json_object_set_new(root, "kernel", json_str_or_null(kernel));
		json_object_set_new(root, "source", json_string(source));
		json_object_set_new(root, "live", json_boolean(live));
		json_object_set_new(root, "note", json_string(note));
		json_object_set_new(root, "quirks", quirks);
		json_object_set_new(root, "callback_field",
				    json_str_or_null(facts->callback_field));
		json_object_set_new(root, "resv_owner", json_boolean(facts->resv_owner));
		for (unsigned int i = 0; i < n; i++) {
			const struct da_hook_plan *p = &plans[i];
			json_t *h = json_object();

			json_object_set_new(h, "hook", json_string(hook_id(p)));
			json_object_set_new(h, "kind", json_string(p->def ? "core" : "scope"));
			json_object_set_new(h, "function", json_string(p->function));
			json_object_set_new(h, "module", json_str_or_null(p->module));
			json_object_set_new(h, "mode", json_string(da_plan_mode_name(p)));
			json_object_set_new(h, "available", json_boolean(plan_usable(p, false)));
			json_object_set_new(h, "attached", json_boolean(p->attached));
			json_object_set_new(h, "optional",
					    json_boolean(p->def ? p->def->optional : true));
			json_object_set_new(h, "reason", json_string(p->reason));
			json_array_append_new(hooks, h);
		}
		json_object_set_new(root, "hooks", hooks);
		for (unsigned int r = 0; r < DA_RULE__COUNT; r++) {
			json_t *o = json_object();

			rule_reason(&da_rules[r], plans, n, facts, live, reason, sizeof(reason));
			json_object_set_new(o, "rule", json_string(da_rules[r].name));
			json_object_set_new(o, "enforceable", json_boolean(!reason[0]));
			json_object_set_new(o, "reason", json_string(reason));
			json_array_append_new(rules, o);
		}
		json_object_set_new(root, "rules", rules);
		text = json_dumps(root, JSON_COMPACT);
		json_decref(root);
		if (!text)
			return -1;
		fprintf(out, "%s\n", text);
		free(text);
		return ferror(out) ? -1 : 0;
	}

	fprintf(out, "kernel:   %s\n", kernel && *kernel ? kernel : "(unknown: BTF file)");
	fprintf(out, "source:   %s (%s)\n", source, note);
	fprintf(out, "quirks:   %s%s%s\n",
		facts->quirks & DA_QUIRK_LEGACY_LOCKING ? "legacy-locking (dma_buf.lock, 6.1) " :
							  "",
		facts->quirks & DA_QUIRK_NO_RESV_OWNER ? "no-resv-owner (PREEMPT_RT) " : "",
		facts->quirks ? "" : "none");
	fprintf(out, "callback: dma_buf_attach_ops.%s\n\n",
		facts->callback_field ? facts->callback_field : "(none found)");
	fprintf(out, "%-16s %-34s %-10s %s\n", "HOOK", "FUNCTION", "MODE", "STATUS");
	for (unsigned int i = 0; i < n; i++) {
		const struct da_hook_plan *p = &plans[i];
		const char *status;

		if (p->attached)
			status = "attached";
		else if (p->mode == DA_HM_MODULE)
			status = "";
		else if (p->mode != DA_HM_ABSENT)
			status = live ? "not attached" : "available";
		else
			status = p->def && p->def->optional ? "absent (optional)" : "ABSENT";
		fprintf(out, "%-16s %-34s %-10s %s%s%s\n", hook_id(p), p->function,
			da_plan_mode_name(p), status, *status && p->reason[0] ? ": " : "",
			p->reason);
	}
	fprintf(out, "\n%-34s %s\n", "RULE", "ENFORCEABLE");
	for (unsigned int r = 0; r < DA_RULE__COUNT; r++) {
		rule_reason(&da_rules[r], plans, n, facts, live, reason, sizeof(reason));
		fprintf(out, "%-34s %s%s\n", da_rules[r].name, reason[0] ? "no: " : "yes", reason);
	}
	return ferror(out) ? -1 : 0;
}
