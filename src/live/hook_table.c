// SPDX-License-Identifier: GPL-2.0
/*
 * The hook table: per hook the kernel function that serves it (its names,
 * newest first, from the core's kernel function table), the op it
 * produces, whether it may be absent, and the programs of
 * bpf/dmabuf_audit.bpf.c for each mode.  Plus the kernel facts decided from
 * BTF (quirks, callback field name), the plans and what they offer the
 * rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "live.h"

const struct da_hook_def da_core_hooks[] = {
	{ .id = "export",
	  .func = DA_KF_EXPORT,
	  .op = DA_OP_EXPORT,
	  .at_return = true,
	  .fexit = "fexit_export",
	  .kretprobe = "kretprobe_export" },
	{ .id = "release",
	  .func = DA_KF_RELEASE,
	  .op = DA_OP_RELEASE,
	  .fentry = "fentry_release",
	  .kprobe = "kprobe_release" },
	/* dma_buf_attach() is a wrapper that calls dma_buf_dynamic_attach() */
	{ .id = "attach",
	  .func = DA_KF_DYNAMIC_ATTACH,
	  .op = DA_OP_ATTACH,
	  .at_return = true,
	  .fexit = "fexit_attach",
	  .kprobe = "kprobe_attach",
	  .kretprobe = "kretprobe_attach" },
	{ .id = "detach",
	  .func = DA_KF_DETACH,
	  .op = DA_OP_DETACH,
	  .fentry = "fentry_detach",
	  .kprobe = "kprobe_detach" },
	{ .id = "pin",
	  .func = DA_KF_PIN,
	  .op = DA_OP_PIN,
	  .at_return = true,
	  .fexit = "fexit_pin",
	  .kprobe = "kprobe_pin",
	  .kretprobe = "kretprobe_pin" },
	{ .id = "unpin",
	  .func = DA_KF_UNPIN,
	  .op = DA_OP_UNPIN,
	  .fentry = "fentry_unpin",
	  .kprobe = "kprobe_unpin" },
	{ .id = "map",
	  .func = DA_KF_MAP,
	  .op = DA_OP_MAP,
	  .at_return = true,
	  .fexit = "fexit_map",
	  .kprobe = "kprobe_map",
	  .kretprobe = "kretprobe_map" },
	/* the _unlocked variants: 6.2+, backported to later 6.1.y for map/unmap only */
	{ .id = "map_unlocked",
	  .func = DA_KF_MAP_UNLOCKED,
	  .why_absent = "not in this kernel (added in 6.2, backported to 6.1.54+)",
	  .op = DA_OP_MAP,
	  .optional = true,
	  .at_return = true,
	  .fentry = "fentry_map_unlocked",
	  .fexit = "fexit_map_unlocked",
	  .kprobe = "kprobe_map_unlocked",
	  .kretprobe = "kretprobe_map_unlocked" },
	{ .id = "unmap",
	  .func = DA_KF_UNMAP,
	  .op = DA_OP_UNMAP,
	  .fentry = "fentry_unmap",
	  .kprobe = "kprobe_unmap" },
	{ .id = "unmap_unlocked",
	  .func = DA_KF_UNMAP_UNLOCKED,
	  .why_absent = "not in this kernel (added in 6.2, backported to 6.1.54+)",
	  .op = DA_OP_UNMAP,
	  .optional = true,
	  .fentry = "fentry_unmap_unlocked",
	  .fexit = "fexit_unmap_unlocked",
	  .kprobe = "kprobe_unmap_unlocked",
	  .kretprobe = "kretprobe_unmap_unlocked" },
	{ .id = "vmap",
	  .func = DA_KF_VMAP,
	  .op = DA_OP_VMAP,
	  .at_return = true,
	  .fexit = "fexit_vmap",
	  .kprobe = "kprobe_vmap",
	  .kretprobe = "kretprobe_vmap" },
	{ .id = "vmap_unlocked",
	  .func = DA_KF_VMAP_UNLOCKED,
	  .why_absent = "not in this kernel (added in 6.2; 6.1 serialises vmap with dma_buf.lock)",
	  .op = DA_OP_VMAP,
	  .optional = true,
	  .at_return = true,
	  .fentry = "fentry_vmap_unlocked",
	  .fexit = "fexit_vmap_unlocked",
	  .kprobe = "kprobe_vmap_unlocked",
	  .kretprobe = "kretprobe_vmap_unlocked" },
	{ .id = "vunmap",
	  .func = DA_KF_VUNMAP,
	  .op = DA_OP_VUNMAP,
	  .fentry = "fentry_vunmap",
	  .kprobe = "kprobe_vunmap" },
	{ .id = "vunmap_unlocked",
	  .func = DA_KF_VUNMAP_UNLOCKED,
	  .why_absent =
		  "not in this kernel (added in 6.2; 6.1 serialises vunmap with dma_buf.lock)",
	  .op = DA_OP_VUNMAP,
	  .optional = true,
	  .fentry = "fentry_vunmap_unlocked",
	  .fexit = "fexit_vunmap_unlocked",
	  .kprobe = "kprobe_vunmap_unlocked",
	  .kretprobe = "kretprobe_vunmap_unlocked" },
	{ .id = "mmap",
	  .func = DA_KF_MMAP,
	  .op = DA_OP_MMAP,
	  .at_return = true,
	  .fexit = "fexit_mmap",
	  .kprobe = "kprobe_mmap",
	  .kretprobe = "kretprobe_mmap" },
	/* mmap() of the dma-buf fd (the file operation; drivers call dma_buf_mmap) */
	{ .id = "mmap_fd",
	  .func = DA_KF_MMAP_FD,
	  .why_absent = "not traceable in this kernel",
	  .op = DA_OP_MMAP,
	  .optional = true,
	  .at_return = true,
	  .fexit = "fexit_mmap_fd",
	  .kprobe = "kprobe_mmap_fd",
	  .kretprobe = "kretprobe_mmap_fd" },
	/* renamed in 7.1; the BPF side reads which name from the invalidate_fn knob */
	{ .id = "invalidate",
	  .func = DA_KF_INVALIDATE,
	  .op = DA_OP_INVALIDATE,
	  .fentry = "fentry_invalidate",
	  .kprobe = "kprobe_invalidate" },
	{ .id = "fence_wait",
	  .func = DA_KF_FENCE_WAIT,
	  .op = DA_OP_FENCE_WAIT,
	  .at_return = true,
	  .fexit = "fexit_fence_wait",
	  .kprobe = "kprobe_fence_wait",
	  .kretprobe = "kretprobe_fence_wait" },
	{ .id = "revocable_check",
	  .func = DA_KF_REVOCABLE_CHECK,
	  .why_absent = "not in this kernel (added in 7.1)",
	  .op = DA_OP_REVOCABLE_CHECK,
	  .optional = true,
	  .at_return = true,
	  .fexit = "fexit_revocable",
	  .kprobe = "kprobe_revocable",
	  .kretprobe = "kretprobe_revocable" },
	/* the end of a revoke's lock section; without it that deadline is not observed */
	{ .id = "resv_unlock",
	  .func = DA_KF_RESV_UNLOCK,
	  .why_absent = "ww_mutex_unlock is not traceable here",
	  .op = DA_OP_RESV_UNLOCK,
	  .optional = true,
	  .fentry = "fentry_resv_unlock",
	  .kprobe = "kprobe_resv_unlock" },
};
const unsigned int da_n_core_hooks = sizeof(da_core_hooks) / sizeof(da_core_hooks[0]);

/*
 * iommufd's map path: the exporter's helper that gives iommufd a buffer's
 * physical ranges, hooked when its module loads (programs in
 * bpf/scope.bpf.c), indexed like da_phys_map_funcs (the event's fn): VFIO's
 * in vfio-pci-core (6.19+), and the iommufd selftest's mock exporter's in
 * iommufd.ko itself (only with CONFIG_IOMMUFD_TEST).
 */
const struct da_hook_def da_phys_map_hooks[DA_PHYS_MAP_FUNCS] = {
	{ .id = "iommufd_map",
	  .func = DA_KF_VFIO_IOMMUFD_MAP,
	  .why_absent = "not in this kernel (VFIO's dma-buf export, 6.19+)",
	  .op = DA_OP_MAP,
	  .optional = true,
	  .at_return = true },
	{ .id = "iommufd_test_map",
	  .func = DA_KF_IOMMUFD_TEST_MAP,
	  .why_absent = "not in this kernel (iommufd's selftest exporter: CONFIG_IOMMUFD_TEST, 7.1+)",
	  .op = DA_OP_MAP,
	  .optional = true,
	  .at_return = true },
};

bool da_hook_is_phys_map(const struct da_hook_def *def)
{
	return def >= da_phys_map_hooks && def < da_phys_map_hooks + DA_PHYS_MAP_FUNCS;
}

bool da_btf_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* a name from BTF, "" when its offset is outside the strings (btf__name_by_offset gives NULL) */
static const char *btf_name(const struct btf *btf, __u32 off)
{
	const char *name = btf__name_by_offset(btf, off);

	return name ? name : "";
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
	if (!t || !btf_is_struct(t))
		return NULL;
	m = btf_members(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf_name(btf, m->name_off), name))
			return m;
	return NULL;
}

/*
 * A kernel's typedef chains are a few links long; a longer one is a cycle
 * or a crafted file (hooks --btf reads files from anywhere).
 */
#define BTF_MAX_TYPEDEF_CHAIN 32

/* name of the struct a member has as its type (through typedefs), "" if none */
static const char *member_type_name(const struct btf *btf, const struct btf_member *m)
{
	const struct btf_type *t = btf__type_by_id(btf, m->type);

	for (unsigned int n = 0; t && btf_is_typedef(t); n++) {
		if (n == BTF_MAX_TYPEDEF_CHAIN)
			return "";
		t = btf__type_by_id(btf, t->type);
	}
	return t ? btf_name(btf, t->name_off) : "";
}

/* a struct or union type, through typedefs and modifiers (bounded: a crafted file) */
static const struct btf_type *composite_type(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	for (unsigned int n = 0; t && (btf_is_typedef(t) || btf_is_mod(t)); n++) {
		if (n == BTF_MAX_TYPEDEF_CHAIN)
			return NULL;
		t = btf__type_by_id(btf, t->type);
	}
	return t && btf_is_composite(t) ? t : NULL;
}

/*
 * The member `name` of struct or union `t`, looked for in its anonymous
 * members too, as C names them; *bits: its offset from the start of `t`.
 * depth bounds the search in a crafted file.
 */
static const struct btf_member *find_member(const struct btf *btf, const struct btf_type *t,
					    const char *name, __u32 *bits, unsigned int depth)
{
	const struct btf_member *m = btf_members(t);

	for (unsigned int i = 0; i < btf_vlen(t); i++, m++) {
		__u32 off = btf_member_bit_offset(t, i);
		const struct btf_type *inner;
		const struct btf_member *found;

		if (m->name_off) {
			if (strcmp(btf_name(btf, m->name_off), name))
				continue;
			*bits = off;
			return m;
		}
		inner = composite_type(btf, m->type);
		if (!inner || !depth)
			continue;
		found = find_member(btf, inner, name, bits, depth - 1);
		if (found) {
			*bits += off;
			return found;
		}
	}
	return NULL;
}

/*
 * Whether a kprobe link's info tells its misses: struct bpf_link_info has
 * perf_event.kprobe.missed (6.7+), where src/live/kprobe_misses.c reads it.
 */
static bool kprobe_link_missed_readable(const struct btf *btf)
{
	static const char *const path[] = { "perf_event", "kprobe", "missed" };
	int id = btf__find_by_name_kind(btf, "bpf_link_info", BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	__u32 offset = 0;

	for (unsigned int i = 0; t && i < sizeof(path) / sizeof(path[0]); i++) {
		const struct btf_member *m;
		__u32 bits;

		if (!btf_is_composite(t))
			return false;
		m = find_member(btf, t, path[i], &bits, 4);
		if (!m)
			return false;
		offset += bits;
		t = i + 1 < sizeof(path) / sizeof(path[0]) ? composite_type(btf, m->type) : t;
	}
	return t && offset == DA_KPROBE_LINK_MISSED_OFFSET * 8;
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
	/*
	 * The reservation lock's owner: a mutex's owner word, or on PREEMPT_RT
	 * (ww_mutex.base is an rt_mutex) rtmutex.owner; the BPF side reads
	 * whichever CO-RE finds (bpf/common.bpf.h da_resv_owner).
	 */
	base = btf_member(btf, "ww_mutex", "base");
	facts->resv_owner = base && !strcmp(member_type_name(btf, base), "mutex") &&
			    btf_member(btf, "mutex", "owner");
	if (base && !strcmp(member_type_name(btf, base), "rt_mutex"))
		facts->resv_owner = btf_member(btf, "rt_mutex", "rtmutex") &&
				    btf_member(btf, "rt_mutex_base", "owner");
	if (!facts->resv_owner)
		facts->quirks |= DA_QUIRK_NO_RESV_OWNER;
	if (btf_member(btf, "dma_buf_attach_ops", "invalidate_mappings"))
		facts->callback_field = "invalidate_mappings";
	else if (btf_member(btf, "dma_buf_attach_ops", "move_notify"))
		facts->callback_field = "move_notify";
	facts->kprobe_missed = kprobe_link_missed_readable(btf);
}

bool da_plan_usable(const struct da_hook_plan *p, bool live)
{
	return live ? p->attached : (p->mode == DA_HM_FENTRY || p->mode == DA_HM_KPROBE);
}

void da_plan_offer(const struct da_hook_plan *plans, unsigned int n,
		   const struct da_kernel_facts *facts, bool live, struct da_kernel_offer *offer)
{
	memset(offer, 0, sizeof(*offer));
	offer->live = live;
	if (facts->resv_owner)
		offer->caps |= DA_CAP_RESV_OWNER;
	if (facts->callback_field)
		offer->caps |= DA_CAP_INVALIDATE_CB;
	for (unsigned int i = 0; i < n; i++) {
		const struct da_hook_plan *p = &plans[i];

		if (!p->def)
			offer->scopes_pending |= p->mode == DA_HM_MODULE;
		if (!da_plan_usable(p, live))
			continue;
		if (p->def) {
			offer->ops |= DA_OP_BIT(p->def->op);
		} else {
			offer->ops |= DA_OP_BIT(DA_OP_SCOPE_ENTER) | DA_OP_BIT(DA_OP_SCOPE_EXIT);
			offer->caps |= DA_CAP_REVOKE_SCOPE;
		}
	}
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
	const char *module;

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
		module = da_kfunc_module(names[i]);
		if (module)
			snprintf(p->module, sizeof(p->module), "%s", module);
		p->mode = DA_HM_MODULE;
		if (p->module[0])
			snprintf(p->reason, sizeof(p->reason), "module %s: resolved when loaded",
				 p->module);
		else
			snprintf(p->reason, sizeof(p->reason),
				 "not loaded: resolved when its module loads");
	}
	for (unsigned int i = 0; i < DA_PHYS_MAP_FUNCS && out < max; i++) {
		const struct da_hook_def *def = &da_phys_map_hooks[i];
		struct da_hook_plan *p = &plans[out++];

		memset(p, 0, sizeof(*p));
		p->def = def;
		p->slot = (int)i; /* the map event's fn */
		p->revoked_arg = -1;
		snprintf(p->function, sizeof(p->function), "%s", da_kfunc_name(def->func, 0));
		snprintf(p->module, sizeof(p->module), "%s", da_kfuncs[def->func].module);
		p->mode = DA_HM_MODULE;
		snprintf(p->reason, sizeof(p->reason), "module %s: resolved when loaded", p->module);
	}
	return out;
}

/* ---- planning from a BTF file (`hooks --btf`) ---- */

static void plan_core_from_btf(const struct btf *btf, const struct da_opts *opts,
			       const struct da_hook_def *def, struct da_hook_plan *p)
{
	unsigned int n = da_kfunc_n_names(def->func);

	memset(p, 0, sizeof(*p));
	p->def = def;
	p->slot = -1;
	p->revoked_arg = -1;
	p->version = n - 1;
	for (unsigned int v = n; v-- > 0;) {
		if (da_btf_has_func(btf, da_kfunc_name(def->func, v))) {
			p->version = v;
			p->in_btf = true;
			p->mode = opts->mode == DA_MODE_KPROBE ? DA_HM_KPROBE : DA_HM_FENTRY;
			break;
		}
	}
	snprintf(p->function, sizeof(p->function), "%s", da_kfunc_name(def->func, p->version));
	if (!p->in_btf)
		snprintf(p->reason, sizeof(p->reason), "%s",
			 def->why_absent ? def->why_absent : "not in this kernel");
}

unsigned int da_plan_from_btf(const struct btf *btf, const struct da_opts *opts,
			      struct da_hook_plan *plans)
{
	struct da_trace_info info = { 0 };
	unsigned int n = 0;

	for (unsigned int i = 0; i < da_n_core_hooks && n < DA_MAX_HOOKS; i++)
		plan_core_from_btf(btf, opts, &da_core_hooks[i], &plans[n++]);
	n += da_plan_scope_hooks(&opts->policy, &info, plans + n, DA_MAX_HOOKS - n);
	/* a scope function built into vmlinux is visible in the BTF */
	for (unsigned int i = da_n_core_hooks; i < n; i++) {
		if (da_btf_has_func(btf, plans[i].function)) {
			plans[i].mode = DA_HM_FENTRY;
			plans[i].in_btf = true;
			plans[i].module[0] = '\0';
			plans[i].reason[0] = '\0';
		}
	}
	return n;
}
