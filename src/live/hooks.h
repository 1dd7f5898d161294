/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/live: the hook table (hooks.c), the plan that decides per
 * hook which kernel function and which mode (fentry/fexit, kprobe, absent),
 * the kernel quirks, the live session (loader.c), the ring buffer source
 * (source.c) and the kallsyms resolver (ksyms.c).
 *
 * Every kernel-version difference of the userspace side is decided in
 * hooks.c from BTF; the BPF side's are in bpf/kernel_types.h.
 */
#ifndef DMABUF_AUDIT_LIVE_HOOKS_H
#define DMABUF_AUDIT_LIVE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/event.h"
#include "dmabuf_audit/pipeline.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace.h"

struct btf;

/* ---- the hook table ---- */

#define DA_HOOK_MAX_CANDIDATES 3

struct da_hook_def {
	const char *id; /* "map_unlocked" */
	const char *candidates[DA_HOOK_MAX_CANDIDATES]; /* kernel functions, preferred first */
	const char *why_absent; /* when no candidate exists */
	unsigned int op; /* enum da_op produced */
	bool optional; /* absent is normal on some kernels */
	bool at_return; /* the event is emitted at return */
	/* programs of bpf/dmabuf_audit.bpf.c; NULL = not needed in that mode */
	const char *fentry, *fexit, *kprobe, *kretprobe;
};

extern const struct da_hook_def da_core_hooks[];
extern const unsigned int da_n_core_hooks;

/* revoke scope functions known to live in a module (for `hooks` and notices) */
struct da_known_scope {
	const char *function;
	const char *module;
};
extern const struct da_known_scope da_known_scopes[];
extern const unsigned int da_n_known_scopes;

/* ---- the plan ---- */

enum da_hook_mode {
	DA_HM_ABSENT = 0,
	DA_HM_FENTRY, /* fentry and/or fexit */
	DA_HM_KPROBE, /* kprobe and/or kretprobe */
	DA_HM_MODULE, /* scope in a module that is not loaded: resolved when it loads */
};

struct da_hook_plan {
	const struct da_hook_def *def; /* NULL for a scope hook */
	char function[DA_FUNC_LEN]; /* the chosen kernel function */
	char module[DA_FUNC_LEN]; /* scope hooks: module name, "" when vmlinux/unknown */
	enum da_hook_mode mode;
	bool attached;
	bool in_btf; /* a BTF FUNC record exists */
	char reason[128]; /* why absent / not attached / how decided */
	/* scope hooks */
	int revoked_arg;
	int slot;
};

/* What BTF says about the kernel (decided once, used by hooks and the loader). */
struct da_kernel_facts {
	uint32_t quirks; /* DA_QUIRK_* */
	const char *callback_field; /* "invalidate_mappings", "move_notify" or NULL */
	bool resv_owner; /* resv->lock.base.owner readable */
};

void da_kernel_facts_from_btf(const struct btf *btf, struct da_kernel_facts *facts);
bool da_btf_has_func(const struct btf *btf, const char *name);

/*
 * Scope hooks: the policy's scopes (by default VFIO's), each planned as
 * "module: resolved when loaded" with its slot in info->scope_names.
 * Returns the number of plans written.
 */
unsigned int da_plan_scope_hooks(const struct da_policy *pol, struct da_trace_info *info,
				 struct da_hook_plan *plans, unsigned int max);

/* `hooks` output: the plans and which rules are enforceable (text or one JSON object) */
int da_hooks_print(FILE *out, enum da_format format, const char *kernel, const char *source,
		   const struct da_hook_plan *plans, unsigned int n,
		   const struct da_kernel_facts *facts, bool live);

/* ops whose hook is attached (live) or available (--btf), as DA_OP_BIT()s */
uint32_t da_plan_ops(const struct da_hook_plan *plans, unsigned int n, bool live);

/* da_hook_status.mode: "fentry", "fexit", "kprobe", "kretprobe", "absent" or "module" */
const char *da_plan_mode_name(const struct da_hook_plan *plan);

/* Fill info->hooks, quirks and scope names from the plans. */
void da_plan_to_trace(const struct da_hook_plan *plans, unsigned int n,
		      const struct da_kernel_facts *facts, struct da_trace_info *info);

/* ---- kallsyms (ksyms.c) ---- */

struct da_ksyms;

struct da_ksyms *da_ksyms_load(void); /* NULL when /proc/kallsyms is unreadable */
void da_ksyms_free(struct da_ksyms *ks);
bool da_ksyms_restricted(const struct da_ksyms *ks); /* addresses hidden (kptr_restrict) */
/* exact address -> name (ops tables, callbacks), or NULL */
const char *da_ksyms_exact(const struct da_ksyms *ks, uint64_t addr);
/* the function containing addr: name and offset, NULL when unknown */
const char *da_ksyms_nearest(const struct da_ksyms *ks, uint64_t addr, uint64_t *offset);
/* is `name` a text symbol; *module gets its module ("" for vmlinux) */
bool da_ksyms_has_func(const struct da_ksyms *ks, const char *name, char *module, size_t len);

/* ---- the live session (loader.c) ---- */

struct da_live;

/*
 * Plan, load and attach every hook.  On success *out is the session with
 * info filled.  On failure returns -1 with a message for the user in err
 * (what was refused, why it may be, what to do); *out is still set when
 * the plans are worth printing (`hooks`), else NULL.
 */
int da_live_open(const struct da_opts *opts, struct da_trace_info *info, struct da_live **out,
		 char *err, size_t errlen);
/* detach every hook, keep the maps (to drain the ring buffer) */
void da_live_detach(struct da_live *live);
void da_live_close(struct da_live *live);
const struct da_hook_plan *da_live_plans(const struct da_live *live, unsigned int *n);
const struct da_kernel_facts *da_live_facts(const struct da_live *live);
struct da_symbols *da_live_symbols(struct da_live *live);
/* --follow: follow this process (and its descendants from now on) */
int da_live_follow(struct da_live *live, int pid);
/* re-read kallsyms and attach scope hooks whose module appeared; notices go to p */
void da_live_check_modules(struct da_live *live, struct da_pipeline *p);
int da_live_ringbuf_fd(const struct da_live *live);
int da_live_counters_fd(const struct da_live *live);
unsigned int da_live_resolve_stack(void *ctx, int32_t stack_id, const char **frames,
				   unsigned int max);

/* ---- the ring buffer source (source.c) ---- */

struct da_source;

struct da_source *da_source_new(struct da_live *live, struct da_pipeline *p, int verbose);
/* Poll up to timeout_ms; deliver events in seq order.  <0 on a fatal error. */
int da_source_poll(struct da_source *src, int timeout_ms);
/* Consume everything left, resolve the remaining gaps, report tail losses. */
void da_source_drain(struct da_source *src);
void da_source_free(struct da_source *src);

#endif /* DMABUF_AUDIT_LIVE_HOOKS_H */
