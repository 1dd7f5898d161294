/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live side (src/live), for the commands (src/cmd): the hook table, the
 * plan that decides per hook which kernel function and which mode
 * (fentry/fexit, kprobe, absent) and the kernel facts (hook_table.c), the
 * live session (loader.c), the ring buffer source (source.c), the kallsyms
 * resolver (ksyms.c) and a live trace put together from them (trace.c).
 *
 * Kernel function names are in the core's kernel function table
 * (da_kfuncs, src/core/event.c); which of them a kernel has is decided here
 * from BTF; the BPF side's field differences are in bpf/kernel_types.h.
 */
#ifndef DMABUF_AUDIT_LIVE_H
#define DMABUF_AUDIT_LIVE_H

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

/* ---- workload identity (cgroup.c): a da_cgroup_resolver_fn for this host ---- */
int da_live_cgroup_resolve(void *ctx, uint64_t id, char *path, size_t len);

/* ---- the hook table ---- */

struct da_hook_def {
	const char *id; /* "map_unlocked" */
	/* the kernel function: its names (da_kfuncs) are the candidates, newest first */
	enum da_kfunc func;
	const char *why_absent; /* when no candidate exists */
	unsigned int op; /* enum da_op produced */
	bool optional; /* absent is normal on some kernels */
	bool at_return; /* the event is emitted at return */
	/* programs of bpf/dmabuf_audit.bpf.c; NULL = not needed in that mode */
	const char *fentry, *fexit, *kprobe, *kretprobe;
};

extern const struct da_hook_def da_core_hooks[];
extern const unsigned int da_n_core_hooks;
/* the map hooks of iommufd's map path (by da_phys_map_funcs index), module hooks planned with the scopes */
extern const struct da_hook_def da_phys_map_hooks[DA_PHYS_MAP_FUNCS];
bool da_hook_is_phys_map(const struct da_hook_def *def);

/* ---- the plan ---- */

enum da_hook_mode {
	DA_HM_ABSENT = 0,
	DA_HM_FENTRY, /* fentry and/or fexit */
	DA_HM_KPROBE, /* kprobe and/or kretprobe */
	DA_HM_MODULE, /* scope in a module that is not loaded: resolved when it loads */
};

struct da_hook_plan {
	const struct da_hook_def *def; /* NULL for a scope hook; module hooks past the core */
	char function[DA_FUNC_LEN]; /* the chosen kernel function */
	unsigned int version; /* core hooks: which name of def->func (da_kfunc_name) */
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
	/* a kprobe link's info reports the probe's misses (6.7+): da_kprobe_link_missed() */
	bool kprobe_missed;
};

void da_kernel_facts_from_btf(const struct btf *btf, struct da_kernel_facts *facts);

/* where struct bpf_link_info has perf_event.kprobe.missed (uapi, 6.7+), in bytes */
#define DA_KPROBE_LINK_MISSED_OFFSET 48
/*
 * The misses of a kprobe or kretprobe link (src/live/kprobe_misses.c; read
 * only when facts.kprobe_missed): 1 and *missed set, 0 for a link of
 * another kind, -errno when the kernel refuses.
 */
int da_kprobe_link_missed(int link_fd, uint64_t *missed);
bool da_btf_has_func(const struct btf *btf, const char *name);
/*
 * A BTF from a file checked before it is read (btf_check.c): every name
 * offset and type id in range, no cycle of typedefs or modifiers.  0, or
 * -1 with err saying which type is wrong.
 */
int da_btf_check(const struct btf *btf, char *err, size_t errlen);
/* its type records can be read in place (libbpf 1.1 does not check the offsets' alignment) */
bool da_btf_aligned(const struct btf *btf);

/*
 * Module hooks: the policy's scopes (by default VFIO's), each planned as
 * "module: resolved when loaded" with its slot in info->scope_names, then
 * iommufd's map hooks (def in da_phys_map_hooks, slot = the map's fn).  Returns the number of
 * plans written.
 */
unsigned int da_plan_scope_hooks(const struct da_policy *pol, struct da_trace_info *info,
				 struct da_hook_plan *plans, unsigned int max);

/*
 * Plan every hook from a BTF alone (`hooks --btf`): a hook is available
 * when a name of its function has a FUNC record.  Returns the number of
 * plans written (at most DA_MAX_HOOKS).
 */
unsigned int da_plan_from_btf(const struct btf *btf, const struct da_opts *opts,
			      struct da_hook_plan *plans);

/* can the plan's hook be used: attached (live), or available (BTF) */
bool da_plan_usable(const struct da_hook_plan *plan, bool live);

/* what the plans offer the rules (da_rule_unenforceable) */
void da_plan_offer(const struct da_hook_plan *plans, unsigned int n,
		   const struct da_kernel_facts *facts, bool live, struct da_kernel_offer *offer);

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

/* libbpf's messages on stderr with -v, else none (our messages say what went wrong) */
void da_live_set_verbose(int verbose);

/*
 * Plan, load and attach every hook; info is filled.  Returns 0, or -1 with
 * a message for the user in err (what was refused, why it may be, what to
 * do).  Either way *out is the session (NULL only when it could not be
 * allocated) and the caller closes it with da_live_close(): one owner, one
 * cleanup path.  After a failure its plans say how far it got (`hooks`
 * prints them; none when the kernel has no BTF).
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
/* the core BPF object (its maps are shared with the seed, seed.c) and the kernel's BTF */
struct bpf_object *da_live_object(const struct da_live *live);
/* program invocations the kernel skipped (recursion misses), all programs together */
uint64_t da_live_recursion_misses(const struct da_live *live);
/* calls our kprobes and kretprobes missed (6.7+; 0 before), all together */
uint64_t da_live_kprobe_misses(const struct da_live *live);
/* a kprobe is attached and the kernel does not tell its misses (before 6.7) */
bool da_live_kprobe_misses_untold(const struct da_live *live);
const struct btf *da_live_btf(const struct da_live *live);
unsigned int da_live_resolve_stack(void *ctx, int32_t stack_id, const char **frames,
				   unsigned int max);

/* ---- the ring buffer source (source.c) ---- */

struct da_source;

struct da_source *da_source_new(struct da_live *live, struct da_pipeline *p, int verbose);
/* Poll up to timeout_ms; deliver events in seq order.  <0 on a fatal error. */
int da_source_poll(struct da_source *src, int timeout_ms);
/*
 * Consume what the ring holds now, in seq order, without waiting; the
 * hooks stay attached.  What happened before a SIGHUP is judged and
 * written before the reload and the reopen.
 */
void da_source_catch_up(struct da_source *src);
/* Consume everything left, resolve the remaining gaps, report tail losses. */
void da_source_drain(struct da_source *src);
void da_source_free(struct da_source *src);

/* ---- seeding (seed.c) ---- */

/*
 * Seeding: at the start of `watch` and `run`, after the hooks are
 * attached, enumerate the dma-bufs that already exist and hand them to the
 * engine as seed_buffer / seed_attachment records, so that they are
 * "seeded" rather than "first seen mid-life".
 *
 * Sources, best first:
 *   bpf-iter  the dma-buf BPF iterator (iter/dmabuf, 6.16+): every buffer,
 *             its pointer, exporter, size, inode, resv, and every
 *             attachment's device and importer ops;
 *   debugfs   /sys/kernel/debug/dma_buf/bufinfo lists every buffer (no
 *             pointer); the task_file BPF iterator finds the pointer, resv
 *             and attachments of each buffer a process holds an fd of, and
 *             they are matched by inode.  Buffers only the kernel or a
 *             mapping holds stay unknown, and are named in a notice;
 *   none      neither (or --no-seed): old buffers are first seen mid-life.
 */
enum da_seed_source {
	DA_SEED_NONE = 0,
	DA_SEED_BPF_ITER,
	DA_SEED_DEBUGFS,
};

struct da_seed_plan {
	enum da_seed_source source;
	char why[320];
};

/* "bpf-iter", "debugfs", "none" */
const char *da_seed_source_name(enum da_seed_source source);

/*
 * Which source this kernel offers: from its BTF, and with `live` also from
 * this machine's debugfs (hooks --btf cannot know another machine's).
 */
void da_seed_plan_decide(const struct btf *btf, const struct da_opts *opts, bool live,
			 struct da_seed_plan *plan);

/* ---- a live trace: session, pipeline and source (trace.c) ---- */

struct da_live_trace {
	struct da_trace_info info;
	struct da_live *live;
	struct da_pipeline *p;
	struct da_source *src;
	uint64_t next_module_check;
	struct da_seed_plan seed; /* what seeded it */
	bool first_event_seen; /* for DMABUF_AUDIT_TIMING */
};

/*
 * Set up in this order: session, pipeline (live: findings as they happen,
 * else a report at the end), report header, notices for hooks that are
 * not attached, source.  -1 with a message in err, everything freed.
 */
int da_live_trace_open(struct da_live_trace *t, const struct da_opts *opts, bool live, char *err,
		       size_t errlen);
/* one poll round (and a look for new modules now and then); <0 fatal, message in err */
int da_live_trace_poll(struct da_live_trace *t, char *err, size_t errlen);
/* what the ring holds now, before a SIGHUP's reload (da_source_catch_up) */
void da_live_trace_catch_up(struct da_live_trace *t);
/*
 * Detach, drain, write the report, free.  *max_severity is the highest
 * severity found (-1 = none); returns -1 when the report or the record
 * could not be written (the message is on stderr).
 */
int da_live_trace_finish(struct da_live_trace *t, int *max_severity);
/* --follow: follow CMD's process from now on; -errno */
int da_live_trace_follow(struct da_live_trace *t, int pid);

/*
 * Seed the live trace: run the planned source, its records go through the
 * ring buffer into t's source (drained as they come).  Never fatal: what
 * could not be seeded is said in notices on t's pipeline.  *plan is what
 * was planned (and, if it failed, why).
 */
void da_seed_run(struct da_live_trace *t, const struct da_opts *opts, struct da_seed_plan *plan);

/* ---- start-up timing (timing.c): DMABUF_AUDIT_TIMING=1 ---- */

/*
 * An on/off environment variable: unset, empty or 0 is off, 1 on; anything
 * else is refused, -1 with "NAME=VALUE: 1 (meaning) or 0"
 */
int da_env_switch(const char *name, const char *meaning, bool *on, char *err, size_t errlen);
/* read DMABUF_AUDIT_TIMING (da_env_switch) */
int da_timing_setting(char *err, size_t errlen);
bool da_timing_enabled(void);
/* the phase that just ended, on stderr with CLOCK_MONOTONIC ns (nothing when off) */
void da_timing_mark(const char *phase);

#endif /* DMABUF_AUDIT_LIVE_H */
