// SPDX-License-Identifier: GPL-2.0
/*
 * The live session: decide every hook (BTF FUNC present? fentry attachable?
 * else kprobe? else absent, with the reason), configure the core object
 * (bpf/dmabuf_audit.bpf.c) before load, load, attach, and attach the revoke
 * scope hooks (bpf/scope.bpf.c, one instance per scope function) now or
 * when their module loads.  One cleanup path; nothing is pinned, so closing
 * the session (or the process dying) detaches everything.
 *
 * Model: libbpf-bootstrap's bootstrap (open -> configure -> load -> attach)
 * and libbpf-tools' trace_helpers.c (fentry_can_attach, kprobe_exists).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "dmabuf_audit.skel.h"
#include "ksym_name.skel.h"
#include "live.h"
#include "scope.skel.h"

#define DA_MAX_LINKS 64
/*
 * module BTF appears a little after the module, its functions in ftrace's
 * list a little after kallsyms: checks to wait before using kprobes, or
 * before calling a function absent
 */
#define DA_BTF_WAIT_POLLS 10

struct live_scope {
	struct scope_bpf *skel;
	struct bpf_link *entry, *exit;
	int btf_waits;
	/* kprobe on a module function: the module instance it was armed in */
	uint64_t module_instance;
};

struct da_live {
	const struct da_opts *opts;
	struct da_trace_info *info;
	struct btf *vmlinux_btf;
	struct da_kernel_facts facts;
	struct da_ksyms *ksyms;
	struct da_symbols *syms;
	struct dmabuf_audit_bpf *skel;
	struct bpf_link *links[DA_MAX_LINKS];
	unsigned int n_links;
	struct da_hook_plan plans[DA_MAX_HOOKS];
	unsigned int n_plans, n_core;
	struct live_scope scopes[DA_MAX_HOOKS];
	uint64_t modules_hash;
	bool scopes_waiting;
	bool ksyms_stale; /* modules changed (or our programs came) since kallsyms was read */
	bool ftrace_stale; /* modules changed since the ftrace list was read */
	/* the core hooks were planned from BTF and the ftrace list, without a probe each */
	bool core_unprobed;
	bool probe_each_hook; /* after a refusal of such a plan: as before, a probe each */
	/* module BTF parsed so far (split on vmlinux), by module name */
	struct {
		char name[DA_FUNC_LEN];
		struct btf *btf;
	} mod_btf[DA_MAX_LINKS];
	unsigned int n_mod_btf;
	/* what the kernel said when a tracing program was refused (for the message) */
	int fentry_refusal;
	bool kprobes_supported;
	__u32 ring_bytes;   /* the ring buffer's size (ringbuf_size()) */
	__u32 wakeup_bytes; /* the BPF side's wakeup mark (ring_wakeup()) */
	bool bench_mirror;  /* every hook program returns at once (bench_mirror()) */
	char *filter_functions; /* available_filter_functions, NULL if unreadable */
	/* kallsyms asked of the kernel (bpf/ksym_name.bpf.c), loaded when first needed */
	struct ksym_name_bpf *ksym_prog;
	bool ksym_prog_refused; /* then /proc/kallsyms is read instead */
	char ksym_answer[192];
	/* --stacks symbolization buffers */
	char frames[DA_STACK_DEPTH][160];
};

static int libbpf_print_verbose(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static int libbpf_print_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

void da_live_set_verbose(int verbose)
{
	libbpf_set_print(verbose ? libbpf_print_verbose : libbpf_print_quiet);
}

/* ---- what the kernel offers ---- */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, len = 0;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (len < cap - 1) {
			if (ferror(f)) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		cap *= 2;
		char *grown = realloc(buf, cap);

		if (!grown)
			free(buf);
		buf = grown;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static bool kprobes_supported(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", R_OK) ||
	       !access("/sys/kernel/tracing/kprobe_events", W_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", W_OK);
}

/*
 * The line "name" or "name [module]" of available_filter_functions; with
 * `module`, the module it names ("" for vmlinux).
 */
static bool filter_find(const char *list, const char *name, char *module, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = strstr(list, name); p; p = strstr(p + 1, name)) {
		const char *mod;

		if ((p != list && p[-1] != '\n') || (p[n] != '\n' && p[n] != ' ' && p[n]))
			continue;
		if (module && len) {
			mod = p[n] == ' ' && p[n + 1] == '[' ? p + n + 2 : NULL;
			snprintf(module, len, "%.*s", mod ? (int)strcspn(mod, "]\n") : 0,
				 mod ? mod : "");
		}
		return true;
	}
	return false;
}

static bool filter_has(const char *list, const char *name)
{
	return filter_find(list, name, NULL, 0);
}

/* the ftrace list, NULL when tracefs is not there (read at start, and after module changes) */
static void refresh_ftrace(struct da_live *l)
{
	free(l->filter_functions);
	l->filter_functions = read_file("/sys/kernel/tracing/available_filter_functions");
	if (!l->filter_functions)
		l->filter_functions =
			read_file("/sys/kernel/debug/tracing/available_filter_functions");
	l->ftrace_stale = false;
}

/* kallsyms, read only when something needs it (docs/performance.md "Start-up") */
static void refresh_ksyms(struct da_live *l)
{
	struct da_ksyms *fresh = da_ksyms_load();

	if (fresh) {
		da_ksyms_free(l->ksyms);
		l->ksyms = fresh;
	}
	l->ksyms_stale = false;
}

static const struct da_ksyms *need_ksyms(struct da_live *l)
{
	if (!l->ksyms || l->ksyms_stale)
		refresh_ksyms(l);
	return l->ksyms;
}

/* the kallsyms program, loaded on first use; NULL when the kernel refuses it */
static struct ksym_name_bpf *ksym_prog(struct da_live *l)
{
	if (!l->ksym_prog && !l->ksym_prog_refused) {
		l->ksym_prog = ksym_name_bpf__open_and_load();
		l->ksym_prog_refused = !l->ksym_prog;
	}
	return l->ksym_prog;
}

static int ksym_run(struct da_live *l, struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	if (!bpf_prog_test_run_opts(bpf_program__fd(prog), &run))
		return 0;
	/* refused now, refused every time: kallsyms from here on */
	ksym_name_bpf__destroy(l->ksym_prog);
	l->ksym_prog = NULL;
	l->ksym_prog_refused = true;
	return -1;
}

/*
 * The symbol that starts at addr, as the kernel names it: 0 with *name
 * (NULL when no symbol starts there), -1 when the kernel cannot be asked.
 */
static int kernel_symbol_at(struct da_live *l, uint64_t addr, const char **name)
{
	struct ksym_name_bpf *k = ksym_prog(l);
	char *offset;

	if (!k)
		return -1;
	k->bss->ksym_addr = addr;
	k->bss->ksym_text[0] = '\0';
	if (ksym_run(l, k->progs.ksym_name))
		return -1;
	snprintf(l->ksym_answer, sizeof(l->ksym_answer), "%s", k->bss->ksym_text);
	/* "name+0x0/0x40 [module]"; an address in no symbol prints as a number */
	offset = strstr(l->ksym_answer, "+0x0/");
	*name = NULL;
	if (offset && offset != l->ksym_answer) {
		*offset = '\0';
		*name = l->ksym_answer;
	}
	return 0;
}

/* is `name` a function of this kernel: asked of the kernel, else found in kallsyms */
static bool kernel_has_function(struct da_live *l, const char *name)
{
	struct ksym_name_bpf *k = ksym_prog(l);

	if (k && strlen(name) < sizeof(k->bss->ksym_query)) {
		memset(k->bss->ksym_query, 0, sizeof(k->bss->ksym_query));
		memcpy(k->bss->ksym_query, name, strlen(name));
		k->bss->ksym_err = -1;
		if (!ksym_run(l, k->progs.ksym_lookup) &&
		    (k->bss->ksym_err == 0 || k->bss->ksym_err == -ENOENT))
			return k->bss->ksym_err == 0 && k->bss->ksym_found;
	}
	return da_ksyms_has_func(need_ksyms(l), name, NULL, 0);
}

/* kprobe_exists(): traceable per ftrace when we can read its list, else in kallsyms */
static bool kprobe_target_exists(struct da_live *l, const char *func)
{
	if (!l->kprobes_supported)
		return false;
	if (l->ftrace_stale)
		refresh_ftrace(l);
	if (l->filter_functions)
		return filter_has(l->filter_functions, func);
	return da_ksyms_has_func(need_ksyms(l), func, NULL, 0);
}

/*
 * fentry_can_attach(): load a two-instruction tracing program for `func`
 * and attach it.  Returns 0 or -errno (EPERM on kernels that refuse
 * tracing programs, e.g. the build machine's).
 */
static int probe_fentry(struct da_live *l, const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id = btf__find_by_name_kind(l->vmlinux_btf, func, BTF_KIND_FUNC);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id > 0 ? id : 0);
	int prog, link, err = 0;

	if (id <= 0)
		return -ENOENT;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "da_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return -errno;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		err = -errno;
	else
		close(link);
	close(prog);
	return err;
}

/* ---- planning ---- */

/*
 * A function with a BTF FUNC record that ftrace can trace takes a
 * trampoline: planned fentry without probe_fentry(), whose attach and
 * detach cost the start-up two RCU-tasks grace periods per hook (most of
 * it under QEMU, docs/performance.md "Start-up").  Should the kernel
 * still refuse (no trampolines on this architecture, lockdown), the load
 * or the attach fails and da_live_open() plans again with a probe per hook.
 */
static bool fentry_vouched(const struct da_live *l, const char *func)
{
	return !l->probe_each_hook && l->fentry_refusal != -EPERM && l->fentry_refusal != -EACCES &&
	       l->filter_functions && filter_has(l->filter_functions, func);
}

static void plan_core_hook(struct da_live *l, const struct da_hook_def *def, struct da_hook_plan *p)
{
	enum da_attach_mode mode = l->opts->mode;
	unsigned int n = da_kfunc_n_names(def->func);
	const char *func = NULL;
	bool in_btf = false, kprobe_ok = false;
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->def = def;
	p->revoked_arg = -1;
	p->slot = -1;
	/* the newest name first: a renamed function is found under the name this kernel has */
	for (unsigned int v = n; v-- > 0;) {
		const char *name = da_kfunc_name(def->func, v);

		in_btf = da_btf_has_func(l->vmlinux_btf, name);
		kprobe_ok = kprobe_target_exists(l, name);
		if (in_btf || kprobe_ok || kernel_has_function(l, name)) {
			func = name;
			p->version = v;
			break;
		}
	}
	if (!func) {
		p->version = n - 1;
		snprintf(p->function, sizeof(p->function), "%s", da_kfunc_name(def->func, n - 1));
		snprintf(p->reason, sizeof(p->reason), "%s",
			 def->why_absent ? def->why_absent : "not in this kernel");
		return;
	}
	snprintf(p->function, sizeof(p->function), "%s", func);
	p->in_btf = in_btf;

	if (mode != DA_MODE_KPROBE && in_btf && fentry_vouched(l, func)) {
		p->mode = DA_HM_FENTRY;
		l->core_unprobed = true;
		return;
	}
	if (mode != DA_MODE_KPROBE && in_btf) {
		/* one refusal of tracing programs as such answers for every hook */
		err = l->fentry_refusal == -EPERM || l->fentry_refusal == -EACCES ?
			      l->fentry_refusal :
			      probe_fentry(l, func);
		if (!err) {
			p->mode = DA_HM_FENTRY;
			return;
		}
		if (err == -EPERM || err == -EACCES || err == -EINVAL || err == -EOPNOTSUPP)
			if (!l->fentry_refusal)
				l->fentry_refusal = err;
	}
	if (mode != DA_MODE_FENTRY && kprobe_ok) {
		p->mode = DA_HM_KPROBE;
		if (err)
			snprintf(p->reason, sizeof(p->reason),
				 "fentry refused (%s): kprobe fallback", strerror(-err));
		return;
	}
	if (mode == DA_MODE_FENTRY && !in_btf)
		snprintf(p->reason, sizeof(p->reason), "no BTF FUNC record: fentry impossible");
	else if (err)
		snprintf(p->reason, sizeof(p->reason), "fentry refused: %s%s", strerror(-err),
			 mode == DA_MODE_FENTRY ? "" :
			 !l->kprobes_supported	? "; no kprobe support in this kernel" :
						  "; not a kprobe target either");
	else if (!l->kprobes_supported)
		snprintf(p->reason, sizeof(p->reason), "no kprobe support in this kernel");
	else
		snprintf(p->reason, sizeof(p->reason), "not traceable (not in the ftrace list)");
}

/* ---- the core object ---- */

static int add_link(struct da_live *l, struct bpf_link *link)
{
	if (!link)
		return -errno;
	if (l->n_links == DA_MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	l->links[l->n_links++] = link;
	return 0;
}

static struct bpf_program *prog_by_name(struct bpf_object *obj, const char *name)
{
	return name ? bpf_object__find_program_by_name(obj, name) : NULL;
}

/* the programs a plan loads, entry program first */
static void plan_progs(struct da_live *l, const struct da_hook_plan *p, struct bpf_program **entry,
		       struct bpf_program **exit)
{
	struct bpf_object *obj = l->skel->obj;

	*entry = *exit = NULL;
	if (p->mode == DA_HM_FENTRY) {
		*entry = prog_by_name(obj, p->def->fentry);
		*exit = prog_by_name(obj, p->def->fexit);
	} else if (p->mode == DA_HM_KPROBE) {
		*entry = prog_by_name(obj, p->def->kprobe);
		*exit = prog_by_name(obj, p->def->kretprobe);
	}
}

/*
 * The ring buffer's size: DA_RINGBUF_SIZE, or DMABUF_AUDIT_RINGBUF_SIZE
 * (bytes, a power of two from one page to 1 GiB) for tests that force
 * losses with a tiny ring and for measuring which size a workload needs
 * (docs/performance.md).  0 and a message when the value is refused.
 */
static __u32 ringbuf_size(char *err, size_t errlen)
{
	const char *env = getenv("DMABUF_AUDIT_RINGBUF_SIZE");
	unsigned long long val;
	long page = sysconf(_SC_PAGESIZE);
	char *end;

	if (!env)
		return DA_RINGBUF_SIZE;
	errno = 0;
	val = strtoull(env, &end, 10);
	if (errno || end == env || *end || val < (unsigned long long)page || val > (1ull << 30) ||
	    (val & (val - 1))) {
		snprintf(
			err, errlen,
			"DMABUF_AUDIT_RINGBUF_SIZE=%s: the ring buffer size must be a power of two "
			"from %ld to 1073741824 bytes",
			env, page);
		return 0;
	}
	return (__u32)val;
}

/*
 * When the BPF side wakes the consumer: by default once the unread data
 * crosses a quarter of the ring, the poll timeout doing the rest (a wakeup
 * per record costs the hooked call an irq_work and a cross-CPU wakeup;
 * docs/performance.md).  DMABUF_AUDIT_RING_WAKEUP=always restores the
 * kernel's default, a number sets the mark in bytes.  -1 with a message
 * when the value is refused.
 */
static long long ring_wakeup(__u32 ring, char *err, size_t errlen)
{
	const char *env = getenv("DMABUF_AUDIT_RING_WAKEUP");
	unsigned long long val;
	char *end;

	if (!env)
		return ring / 4;
	if (!strcmp(env, "always"))
		return 0;
	errno = 0;
	val = strtoull(env, &end, 10);
	if (errno || end == env || *end || !val || val > ring) {
		snprintf(err, errlen,
			 "DMABUF_AUDIT_RING_WAKEUP=%s: 'always' or a number of bytes from 1 to the"
			 " ring buffer size (%u)",
			 env, ring);
		return -1;
	}
	return (long long)val;
}

/*
 * DMABUF_AUDIT_BENCH_MIRROR=1, for make bench-live only: the same programs
 * on the same attach points, each returning at once (bpf/common.bpf.h), so
 * that what our program bodies add is measured apart from what attaching
 * there costs.  Nothing is audited: said on standard error, never silently.
 */
static int bench_mirror(struct da_live *l, char *err, size_t errlen)
{
	if (da_env_switch("DMABUF_AUDIT_BENCH_MIRROR", "every program returns at once",
			  &l->bench_mirror, err, errlen))
		return -1;
	if (l->bench_mirror)
		fprintf(stderr, DA_TOOL_NAME ": DMABUF_AUDIT_BENCH_MIRROR=1: every program returns"
				" at once, nothing is audited (a benchmark's setting)\n");
	return 0;
}

/* the environment's settings, checked before anything is probed or loaded */
static int environment_settings(struct da_live *l, char *err, size_t errlen)
{
	long long wakeup;

	if (bench_mirror(l, err, errlen))
		return -1;

	l->ring_bytes = ringbuf_size(err, errlen);
	if (!l->ring_bytes)
		return -1;
	wakeup = ring_wakeup(l->ring_bytes, err, errlen);
	if (wakeup < 0)
		return -1;
	l->wakeup_bytes = (__u32)wakeup;
	return 0;
}

static int configure_core(struct da_live *l, char *err, size_t errlen)
{
	__u32 ring = l->ring_bytes;
	struct bpf_program *prog;
	int ret;

	bpf_object__for_each_program(prog, l->skel->obj) bpf_program__set_autoload(prog, false);
	for (unsigned int i = 0; i < l->n_core; i++) {
		struct da_hook_plan *p = &l->plans[i];
		struct bpf_program *progs[2];

		plan_progs(l, p, &progs[0], &progs[1]);
		for (int k = 0; k < 2; k++) {
			if (!progs[k])
				continue;
			bpf_program__set_autoload(progs[k], true);
			if (p->mode != DA_HM_FENTRY)
				continue;
			ret = bpf_program__set_attach_target(progs[k], 0, p->function);
			if (ret) {
				snprintf(err, errlen, "cannot target %s for hook %s: %s",
					 p->function, p->def->id, strerror(-ret));
				return -1;
			}
		}
		/* events say which name was called: enum da_invalidate_fn is the name's index */
		if (p->def->func == DA_KF_INVALIDATE)
			l->skel->rodata->invalidate_fn = (__u8)p->version;
	}
	bpf_program__set_autoload(l->skel->progs.follow_fork, l->opts->follow);
	l->skel->rodata->filter_tgid = l->opts->pid > 0 ? (__u32)l->opts->pid : 0;
	l->skel->rodata->filter_follow = l->opts->follow;
	l->skel->rodata->capture_stacks = l->opts->stacks;
	l->skel->rodata->wakeup_bytes = l->wakeup_bytes;
	l->skel->rodata->bench_mirror = l->bench_mirror;
	l->skel->rodata->resv_owner_readable = l->facts.resv_owner;
	bpf_map__set_max_entries(l->skel->maps.events, ring);
	if (l->opts->stacks)
		bpf_map__set_max_entries(l->skel->maps.stacks, DA_STACK_ENTRIES);
	return 0;
}

static int attach_core(struct da_live *l, char *err, size_t errlen)
{
	int ret;

	for (unsigned int i = 0; i < l->n_core; i++) {
		struct da_hook_plan *p = &l->plans[i];
		struct bpf_program *progs[2];

		plan_progs(l, p, &progs[0], &progs[1]);
		for (int k = 0; k < 2; k++) {
			if (!progs[k])
				continue;
			if (p->mode == DA_HM_FENTRY)
				ret = add_link(l, bpf_program__attach(progs[k]));
			else
				ret = add_link(l, bpf_program__attach_kprobe(progs[k], k == 1,
									     p->function));
			if (ret) {
				snprintf(p->reason, sizeof(p->reason), "attach failed: %s",
					 strerror(-ret));
				snprintf(err, errlen, "cannot attach %s to %s (hook %s): %s",
					 bpf_program__name(progs[k]), p->function, p->def->id,
					 strerror(-ret));
				return -1;
			}
		}
		p->attached = p->mode == DA_HM_FENTRY || p->mode == DA_HM_KPROBE;
	}
	if (l->opts->follow) {
		ret = add_link(l, bpf_program__attach(l->skel->progs.follow_fork));
		if (ret) {
			snprintf(err, errlen, "cannot attach the fork tracepoint for --follow: %s",
				 strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/* ---- scope hooks ---- */

/*
 * Which instance of a module is loaded (coming or live): the inode of
 * /sys/module/NAME, new on every load; 0 when it is not loaded or is going.
 */
static uint64_t module_instance(const char *name)
{
	char path[64 + DA_FUNC_LEN], state[16] = "";
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(state, sizeof(state), f) || !strcmp(state, "going\n")) {
		fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

static void detach_scope(struct live_scope *s)
{
	bpf_link__destroy(s->entry);
	bpf_link__destroy(s->exit);
	scope_bpf__destroy(s->skel);
	s->entry = s->exit = NULL;
	s->skel = NULL;
}

/*
 * The programs of a module hook (scope.bpf.c) for a plan and a mode: a
 * revoke scope's entry and exit, or the map hook's (p->def: iommufd's map
 * path), whose fexit needs no entry program.  The others are not loaded.
 */
static void module_hook_programs(struct scope_bpf *skel, const struct da_hook_plan *p,
				 bool kprobe, struct bpf_program **entry, struct bpf_program **exit)
{
	struct bpf_program *all[] = {
		skel->progs.scope_fentry,  skel->progs.scope_fexit,	skel->progs.scope_kprobe,
		skel->progs.scope_kretprobe, skel->progs.phys_map_fexit, skel->progs.phys_map_kprobe,
		skel->progs.phys_map_kretprobe,
	};

	if (p->def) {
		*entry = kprobe ? skel->progs.phys_map_kprobe : NULL;
		*exit = kprobe ? skel->progs.phys_map_kretprobe : skel->progs.phys_map_fexit;
	} else {
		*entry = kprobe ? skel->progs.scope_kprobe : skel->progs.scope_fentry;
		*exit = kprobe ? skel->progs.scope_kretprobe : skel->progs.scope_fexit;
	}
	for (unsigned int i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		bpf_program__set_autoload(all[i], all[i] == *entry || all[i] == *exit);
}

static int try_attach_scope(struct da_live *l, struct da_hook_plan *p, struct live_scope *s,
			    bool kprobe)
{
	struct bpf_program *entry, *exit;
	struct bpf_map *shared[][2] = {
		{ NULL, l->skel->maps.events },
		{ NULL, l->skel->maps.counters },
		{ NULL, l->skel->maps.stacks },
		{ NULL, l->skel->maps.followed },
	};
	int ret;

	s->skel = scope_bpf__open();
	if (!s->skel)
		return -errno;
	shared[0][0] = s->skel->maps.events;
	shared[1][0] = s->skel->maps.counters;
	shared[2][0] = s->skel->maps.stacks;
	shared[3][0] = s->skel->maps.followed;
	for (unsigned int i = 0; i < 4; i++) {
		ret = bpf_map__reuse_fd(shared[i][0], bpf_map__fd(shared[i][1]));
		if (ret)
			goto fail;
	}
	s->skel->rodata->scope_slot = (__u8)p->slot;
	s->skel->rodata->revoked_arg = p->revoked_arg;
	s->skel->rodata->filter_tgid = l->opts->pid > 0 ? (__u32)l->opts->pid : 0;
	s->skel->rodata->filter_follow = l->opts->follow;
	s->skel->rodata->capture_stacks = l->opts->stacks;
	s->skel->rodata->wakeup_bytes = l->wakeup_bytes;
	s->skel->rodata->bench_mirror = l->bench_mirror;
	s->skel->rodata->resv_owner_readable = l->facts.resv_owner;
	module_hook_programs(s->skel, p, kprobe, &entry, &exit);
	if (!kprobe) {
		ret = entry ? bpf_program__set_attach_target(entry, 0, p->function) : 0;
		if (!ret)
			ret = bpf_program__set_attach_target(exit, 0, p->function);
		if (ret)
			goto fail;
	}
	ret = scope_bpf__load(s->skel);
	if (ret)
		goto fail;
	if (kprobe) {
		s->entry = bpf_program__attach_kprobe(entry, false, p->function);
		s->exit = s->entry ? bpf_program__attach_kprobe(exit, true, p->function) : NULL;
	} else {
		/* the map hook has no entry program: its exit link stands for both */
		s->entry = entry ? bpf_program__attach(entry) : NULL;
		s->exit = s->entry || !entry ? bpf_program__attach(exit) : NULL;
	}
	if ((entry && !s->entry) || !s->exit) {
		ret = -errno;
		goto fail;
	}
	s->module_instance = kprobe && p->module[0] ? module_instance(p->module) : 0;
	return 0;
fail:
	detach_scope(s);
	return ret < 0 ? ret : -EINVAL;
}

/* the split BTF of a loaded module, parsed once; NULL while it has none (yet) */
static struct btf *module_btf(struct da_live *l, const char *module)
{
	char path[64 + DA_FUNC_LEN];
	struct btf *btf;

	for (unsigned int i = 0; i < l->n_mod_btf; i++)
		if (!strcmp(l->mod_btf[i].name, module))
			return l->mod_btf[i].btf;
	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	if (access(path, R_OK) || l->n_mod_btf == DA_MAX_LINKS)
		return NULL;
	btf = btf__parse_split(path, l->vmlinux_btf);
	if (!btf)
		return NULL;
	snprintf(l->mod_btf[l->n_mod_btf].name, DA_FUNC_LEN, "%s", module);
	l->mod_btf[l->n_mod_btf++].btf = btf;
	return btf;
}

/*
 * The ftrace list names the module of a traceable function: only that
 * module's BTF is read (a trampoline needs ftrace anyway).  -1 when there
 * is no list to ask.
 */
static int find_in_listed_module_btf(struct da_live *l, const char *func, char *module,
				     size_t len, bool *missing_btf)
{
	char listed[DA_FUNC_LEN];
	struct btf *btf;

	if (l->ftrace_stale)
		refresh_ftrace(l);
	if (!l->filter_functions)
		return -1;
	if (!filter_find(l->filter_functions, func, listed, sizeof(listed)) || !listed[0])
		return 0;
	btf = module_btf(l, listed);
	*missing_btf = !btf;
	if (!btf || !da_btf_has_func(btf, func))
		return 0;
	snprintf(module, len, "%s", listed);
	return 1;
}

/* the loaded module whose BTF has `func`, and whether some module has no BTF yet */
static bool find_in_module_btf(struct da_live *l, const char *func, char *module, size_t len,
			       bool *missing_btf)
{
	int listed = find_in_listed_module_btf(l, func, module, len, missing_btf);
	char *text, *line, *save = NULL;
	bool found = false;

	if (listed >= 0)
		return listed;
	*missing_btf = false;
	text = read_file("/proc/modules");
	if (!text)
		return false;
	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[DA_FUNC_LEN];
		struct btf *btf;

		if (sscanf(line, "%63s", name) != 1)
			continue;
		btf = module_btf(l, name);
		if (!btf)
			*missing_btf = true;
		else if (da_btf_has_func(btf, func)) {
			snprintf(module, len, "%s", name);
			found = true;
		}
	}
	free(text);
	return found;
}

/*
 * How a module hook is attached.  A function of vmlinux follows --mode like
 * the core hooks.  A function in a module follows --module-mode: by default
 * a kprobe, because a trampoline holds a reference on the module it is in
 * (the kernel takes it when the tracing program is attached to module BTF)
 * and `rmmod` then fails with EAGAIN for as long as we run, while a kprobe
 * takes none and is killed by the kernel when its module goes
 * (disarm_unloaded_scopes() re-arms it on the next load).
 */
static enum da_attach_mode module_hook_mode(const struct da_live *l, bool in_vmlinux)
{
	const struct da_opts *o = l->opts;

	if (in_vmlinux || o->mode == DA_MODE_KPROBE)
		return o->mode;
	return o->module_mode == DA_MODULE_FENTRY ? o->mode : DA_MODE_KPROBE;
}

/* what `hooks` says about an attached module hook: does it hold its module */
static void module_hook_attached(struct da_hook_plan *p, enum da_hook_mode how)
{
	p->mode = how;
	p->attached = true;
	p->reason[0] = '\0';
	if (!p->module[0])
		return;
	if (how == DA_HM_KPROBE)
		snprintf(p->reason, sizeof(p->reason),
			 "does not hold module %s (re-armed when it is loaded again)", p->module);
	else
		snprintf(p->reason, sizeof(p->reason),
			 "holds module %s: rmmod fails while attached (--module-mode fentry)",
			 p->module);
}

/*
 * Is the function of a module hook in the running kernel, and in which
 * module.  The ftrace list, read at the start anyway, names the module of
 * every traceable function; kallsyms (5 MB of text) is read only when the
 * list has no line for it and its module may be loaded.  A function in no
 * BTF and not in the list cannot be hooked now: it waits for its module.
 */
static bool locate_function(struct da_live *l, const struct da_hook_plan *p, char *module,
			    size_t len)
{
	if (l->ftrace_stale)
		refresh_ftrace(l);
	if (l->filter_functions) {
		if (filter_find(l->filter_functions, p->function, module, len))
			return true;
		if (p->module[0] && !module_instance(p->module))
			return false;
	}
	return da_ksyms_has_func(need_ksyms(l), p->function, module, len);
}

/*
 * Attach a scope hook whose function is present now (vmlinux, or a loaded
 * module).  Returns true when it is settled (attached or definitely not).
 * Not inlined: in check_scopes() GCC's -Wrestrict takes p->reason and
 * p->module, two fields of one plan in l->plans[i], for overlapping.
 */
static __attribute__((noinline)) bool resolve_scope(struct da_live *l, struct da_hook_plan *p,
						  struct live_scope *s)
{
	char module[DA_FUNC_LEN] = "";
	bool in_vmlinux = da_btf_has_func(l->vmlinux_btf, p->function);
	enum da_attach_mode mode = module_hook_mode(l, in_vmlinux);
	bool in_btf = in_vmlinux, missing_btf = false;
	int err = 0;

	if (!in_btf && mode != DA_MODE_KPROBE)
		in_btf = find_in_module_btf(l, p->function, module, sizeof(module), &missing_btf);
	if (!in_btf) {
		/* no BTF has it: a module without BTF (yet), or its module is not loaded */
		if (!locate_function(l, p, module, sizeof(module))) {
			if (!p->def || !p->module[0] || !module_instance(p->module))
				return false;
			/*
			 * The map hook's module is loaded without it (a kernel before
			 * 6.19), unless the module came after kallsyms was read: it is
			 * in kallsyms once it is in sysfs, so read it again to be sure
			 * (seen on a slow arm64 guest while VFIO's modules loaded).
			 */
			refresh_ksyms(l);
			if (!da_ksyms_has_func(l->ksyms, p->function, module, sizeof(module))) {
				p->mode = DA_HM_ABSENT;
				snprintf(p->reason, sizeof(p->reason), "module %s: %s", p->module,
					 p->def->why_absent);
				return true;
			}
		}
		/* module BTF appears a little after the module */
		if (mode != DA_MODE_KPROBE && missing_btf && s->btf_waits++ < DA_BTF_WAIT_POLLS)
			return false;
	}
	if (module[0])
		snprintf(p->module, sizeof(p->module), "%s", module);
	else if (in_vmlinux)
		p->module[0] = '\0'; /* the module built in: nothing to hold, nothing to unload */
	p->in_btf = in_btf;
	if (mode != DA_MODE_KPROBE && in_btf) {
		err = try_attach_scope(l, p, s, false);
		if (!err) {
			module_hook_attached(p, DA_HM_FENTRY);
			return true;
		}
	}
	if (mode != DA_MODE_FENTRY) {
		if (kprobe_target_exists(l, p->function)) {
			int kerr = try_attach_scope(l, p, s, true);

			if (!kerr) {
				module_hook_attached(p, DA_HM_KPROBE);
				return true;
			}
			err = kerr;
		} else if (module[0] && !err && s->btf_waits++ < DA_BTF_WAIT_POLLS) {
			/*
			 * A coming module's functions are in kallsyms before ftrace
			 * lists them (its records are enabled in prepare_coming_module(),
			 * after complete_formation()): seen after a reload of
			 * vfio_pci_core on a loaded guest.  Ask again next check.
			 */
			l->ftrace_stale = true;
			return false;
		}
	}
	p->mode = DA_HM_ABSENT;
	snprintf(p->reason, sizeof(p->reason), "%s%s: %s%s", module[0] ? "module " : "vmlinux",
		 module, err ? strerror(-err) : "no BTF and no kprobe",
		 !in_vmlinux && mode == DA_MODE_KPROBE && l->opts->mode != DA_MODE_KPROBE ?
			 " (--module-mode fentry: a trampoline, which holds the module)" :
			 "");
	return true;
}

static void forget_module_btf(struct da_live *l, const char *module)
{
	for (unsigned int i = 0; i < l->n_mod_btf; i++) {
		if (strcmp(l->mod_btf[i].name, module))
			continue;
		btf__free(l->mod_btf[i].btf);
		l->mod_btf[i] = l->mod_btf[--l->n_mod_btf];
		return;
	}
}

/*
 * A kprobe does not hold its module: when the module goes, the kprobe is
 * left dead and a later load of the module does not revive it.  So a scope
 * kprobed in a module that is gone, or that is another instance (unloaded
 * and loaded again between two checks), is detached and waits for the
 * module again.  (fentry holds the module: it cannot go while attached.)
 */
static bool disarm_unloaded_scopes(struct da_live *l, struct da_pipeline *p)
{
	bool any = false;

	/* without sysfs instances cannot be told apart: leave the kprobes be */
	if (access("/sys/module", X_OK))
		return false;
	for (unsigned int i = l->n_core; i < l->n_plans; i++) {
		struct da_hook_plan *plan = &l->plans[i];
		struct live_scope *s = &l->scopes[i];
		char module[DA_FUNC_LEN];
		uint64_t now;

		if (!plan->attached || plan->mode != DA_HM_KPROBE || !plan->module[0])
			continue;
		now = module_instance(plan->module);
		if (now && now == s->module_instance)
			continue;
		snprintf(module, sizeof(module), "%s", plan->module);
		detach_scope(s);
		s->btf_waits = 0;
		forget_module_btf(l, module);
		plan->attached = false;
		plan->mode = DA_HM_MODULE;
		snprintf(plan->reason, sizeof(plan->reason), "module %s: resolved when loaded",
			 module);
		l->ksyms_stale = true;
		l->ftrace_stale = true;
		any = true;
		if (p)
			da_pipeline_notice(p, DA_NOTICE_HOOK,
					   "%s hook %s detached: module %s %s; attached"
					   " again when it loads",
					   plan->def ? "map" : "revoke scope", plan->function, module,
					   now ? "was unloaded and loaded again" : "was unloaded");
	}
	return any;
}

static uint64_t modules_hash(void)
{
	char *text = read_file("/proc/modules");
	uint64_t h = 1469598103934665603ull;

	if (!text)
		return 0;
	/* name, size and state: a module going Loading -> Live changes it too */
	for (const char *c = text; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	free(text);
	return h;
}

static void check_scopes(struct da_live *l, struct da_pipeline *p)
{
	l->scopes_waiting = false;
	for (unsigned int i = l->n_core; i < l->n_plans; i++) {
		struct da_hook_plan *plan = &l->plans[i];

		if (plan->mode != DA_HM_MODULE)
			continue;
		if (!resolve_scope(l, plan, &l->scopes[i])) {
			l->scopes_waiting |= l->scopes[i].btf_waits > 0;
			continue;
		}
		if (p && plan->attached)
			da_pipeline_notice(p, DA_NOTICE_HOOK, "%s hook %s attached (%s, module %s)",
					   plan->def ? "map" : "revoke scope", plan->function,
					   da_plan_mode_name(plan),
					   plan->module[0] ? plan->module : "vmlinux");
		else if (p)
			da_pipeline_notice(p, DA_NOTICE_HOOK, "%s hook %s not attached: %s",
					   plan->def ? "map" : "revoke scope", plan->function,
					   plan->reason);
	}
	da_plan_to_trace(l->plans, l->n_plans, &l->facts, l->info);
}

void da_live_check_modules(struct da_live *l, struct da_pipeline *p)
{
	uint64_t h = modules_hash();
	/* a reload between two checks may leave /proc/modules as it was */
	bool disarmed = disarm_unloaded_scopes(l, p);

	if (h == l->modules_hash && !l->scopes_waiting && !disarmed)
		return;
	/* kallsyms is large: read again only when a name is needed (kprobes, symbols) */
	if (h != l->modules_hash) {
		l->modules_hash = h;
		l->ksyms_stale = true;
		l->ftrace_stale = true;
	}
	check_scopes(l, p);
}

/* ---- symbols ---- */

static const char *resolve_symbol(void *ctx, uint64_t addr)
{
	struct da_live *l = ctx;
	const char *name;

	if (!kernel_symbol_at(l, addr, &name))
		return name;
	if (!l->ksyms)
		refresh_ksyms(l);
	name = da_ksyms_exact(l->ksyms, addr);
	/* an ops table of a module loaded since kallsyms was read */
	if (!name && l->ksyms_stale) {
		refresh_ksyms(l);
		name = da_ksyms_exact(l->ksyms, addr);
	}
	return name;
}

unsigned int da_live_resolve_stack(void *ctx, int32_t stack_id, const char **frames,
				   unsigned int max)
{
	struct da_live *l = ctx;
	__u64 ips[DA_STACK_DEPTH] = { 0 };
	unsigned int n = 0;
	uint32_t key = (uint32_t)stack_id;

	if (stack_id < 0 || bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.stacks), &key, ips))
		return 0;
	/* our own programs and trampolines are in kallsyms only since we loaded them */
	if (l->ksyms_stale)
		refresh_ksyms(l);
	for (unsigned int i = 0; i < DA_STACK_DEPTH && n < max && ips[i]; i++) {
		uint64_t off = 0;
		const char *name = da_ksyms_nearest(l->ksyms, ips[i], &off);

		if (name)
			snprintf(l->frames[n], sizeof(l->frames[n]), "%s+0x%llx", name,
				 (unsigned long long)off);
		else
			snprintf(l->frames[n], sizeof(l->frames[n]), "0x%llx",
				 (unsigned long long)ips[i]);
		frames[n] = l->frames[n];
		n++;
	}
	return n;
}

/* ---- the session ---- */

/* where an installed host finds what the kernel needs (no repository at hand) */
#define DA_REFUSAL_SEE "See man dmabuf-audit, REQUIREMENTS."

static void refusal_message(struct da_live *l, char *err, size_t errlen)
{
	const char *mode = l->opts->mode == DA_MODE_KPROBE ? "kprobe" : "fentry";

	if (l->fentry_refusal && l->opts->mode != DA_MODE_KPROBE)
		snprintf(
			err, errlen,
			"the kernel refused to load BPF tracing programs (fentry): %s%s.\n"
			"  Check: root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN); kernel lockdown "
			"(/sys/kernel/security/lockdown); a kernel with BTF and BPF tracing "
			"(CONFIG_DEBUG_INFO_BTF, CONFIG_BPF_EVENTS, CONFIG_FUNCTION_TRACER or "
			"CONFIG_KPROBES).\n"
			"  " DA_REFUSAL_SEE,
			strerror(-l->fentry_refusal),
			l->kprobes_supported || l->opts->mode == DA_MODE_FENTRY ?
				"" :
				", and it has no kprobe support for a fallback");
	else
		snprintf(err, errlen,
			 "no dma-buf hook could be attached in %s mode%s.\n"
			 "  Run `dmabuf-audit hooks` for the reason per hook.\n"
			 "  " DA_REFUSAL_SEE,
			 l->opts->mode == DA_MODE_AUTO ? "auto" : mode,
			 l->kprobes_supported ? "" : " (the kernel has no kprobe support)");
}

/* plan every core hook; how many can be attached */
static unsigned int plan_core_hooks(struct da_live *l)
{
	unsigned int planned = 0;

	for (unsigned int i = 0; i < da_n_core_hooks; i++) {
		plan_core_hook(l, &da_core_hooks[i], &l->plans[i]);
		planned += l->plans[i].mode != DA_HM_ABSENT;
	}
	l->n_core = da_n_core_hooks;
	return planned;
}

/* open, configure, load and attach the core object as planned */
static int start_core(struct da_live *l, unsigned int planned, char *err, size_t errlen)
{
	int ret;

	if (!planned) {
		refusal_message(l, err, errlen);
		return -1;
	}
	l->skel = dmabuf_audit_bpf__open();
	if (!l->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	if (configure_core(l, err, errlen))
		return -1;
	da_timing_mark("open");
	ret = dmabuf_audit_bpf__load(l->skel);
	if (ret) {
		if (ret == -EPERM || ret == -EACCES) {
			l->fentry_refusal = ret;
			refusal_message(l, err, errlen);
		} else {
			snprintf(err, errlen,
				 "the kernel refused the BPF programs: %s (run with -v for the "
				 "verifier log)",
				 strerror(-ret));
		}
		return -1;
	}
	da_timing_mark("load");
	ret = attach_core(l, err, errlen);
	da_timing_mark("attach");
	return ret;
}

/* undo start_core(): links and object */
static void stop_core(struct da_live *l)
{
	for (unsigned int i = 0; i < l->n_links; i++)
		bpf_link__destroy(l->links[i]);
	l->n_links = 0;
	dmabuf_audit_bpf__destroy(l->skel);
	l->skel = NULL;
}

int da_live_open(const struct da_opts *opts, struct da_trace_info *info, struct da_live **out,
		 char *err, size_t errlen)
{
	struct da_live *l = calloc(1, sizeof(*l));
	struct utsname uts;
	unsigned int planned = 0;
	int ret;

	/* the caller owns the session from here on, and closes it on failure too */
	*out = l;
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (da_timing_setting(err, errlen))
		return -1;
	da_timing_mark("start");
	da_live_set_verbose(opts->verbose);
	l->opts = opts;
	l->info = info;
	if (!uname(&uts))
		snprintf(info->kernel, sizeof(info->kernel), "%s", uts.release);
	snprintf(info->source, sizeof(info->source), "live");
	da_trace_info_this_host(info);
	if (environment_settings(l, err, errlen))
		return -1;

	l->vmlinux_btf = btf__load_vmlinux_btf();
	/* CO-RE needs it in every mode */
	if (!l->vmlinux_btf) {
		snprintf(err, errlen,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s): CO-RE needs "
			 "CONFIG_DEBUG_INFO_BTF=y",
			 strerror(errno));
		return -1;
	}
	da_timing_mark("btf");
	da_kernel_facts_from_btf(l->vmlinux_btf, &l->facts);
	da_timing_mark("btf-facts");
	/* kallsyms is read when first needed (need_ksyms()): most starts need none */
	l->kprobes_supported = kprobes_supported();
	refresh_ftrace(l);
	da_timing_mark("ftrace-list");
	l->modules_hash = modules_hash();
	l->syms = da_symbols_new();
	if (!l->syms) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	da_symbols_set_resolver(l->syms, resolve_symbol, l);

	planned = plan_core_hooks(l);
	l->n_plans = l->n_core + da_plan_scope_hooks(&opts->policy, info, l->plans + l->n_core,
						     DA_MAX_HOOKS - l->n_core);
	da_plan_to_trace(l->plans, l->n_plans, &l->facts, info);
	da_timing_mark("plan");
	ret = start_core(l, planned, err, errlen);
	if (ret && l->core_unprobed) {
		/* refused what BTF and the ftrace list vouched for: a probe per hook, as before */
		stop_core(l);
		l->probe_each_hook = true;
		l->core_unprobed = false;
		l->fentry_refusal = 0;
		planned = plan_core_hooks(l);
		ret = start_core(l, planned, err, errlen);
	}
	da_plan_to_trace(l->plans, l->n_plans, &l->facts, info);
	if (ret)
		return -1;
	check_scopes(l, NULL);
	da_timing_mark("module-hooks");
	/* name our programs and trampolines in --stacks frames: read kallsyms again when needed */
	l->ksyms_stale = true;
	return 0;
}

void da_live_detach(struct da_live *l)
{
	for (unsigned int i = l->n_core; i < l->n_plans; i++) {
		bpf_link__destroy(l->scopes[i].entry);
		bpf_link__destroy(l->scopes[i].exit);
		l->scopes[i].entry = l->scopes[i].exit = NULL;
	}
	for (unsigned int i = 0; i < l->n_links; i++)
		bpf_link__destroy(l->links[i]);
	l->n_links = 0;
}

void da_live_close(struct da_live *l)
{
	if (!l)
		return;
	da_live_detach(l);
	for (unsigned int i = l->n_core; i < l->n_plans; i++)
		detach_scope(&l->scopes[i]);
	dmabuf_audit_bpf__destroy(l->skel);
	ksym_name_bpf__destroy(l->ksym_prog);
	for (unsigned int i = 0; i < l->n_mod_btf; i++)
		btf__free(l->mod_btf[i].btf);
	btf__free(l->vmlinux_btf);
	da_ksyms_free(l->ksyms);
	da_symbols_free(l->syms);
	free(l->filter_functions);
	free(l);
}

const struct da_hook_plan *da_live_plans(const struct da_live *l, unsigned int *n)
{
	*n = l->n_plans;
	return l->plans;
}

const struct da_kernel_facts *da_live_facts(const struct da_live *l)
{
	return &l->facts;
}

struct da_symbols *da_live_symbols(struct da_live *l)
{
	return l->syms;
}

int da_live_follow(struct da_live *l, int pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.followed), &key, &one, BPF_ANY))
		return -errno;
	return 0;
}

int da_live_ringbuf_fd(const struct da_live *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

int da_live_counters_fd(const struct da_live *l)
{
	return bpf_map__fd(l->skel->maps.counters);
}

/* the recursion misses of one object's loaded programs */
static uint64_t object_misses(struct bpf_object *obj)
{
	struct bpf_program *prog;
	uint64_t misses = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			misses += info.recursion_misses;
	}
	return misses;
}

/*
 * Calls the kernel did not let a program of ours see: it skips a tracing
 * program entered again on a CPU where it is already running (a task
 * preempted inside it, under PREEMPT_LAZY or a full preemption model, or
 * a kprobe while another BPF program runs there).  Those events never
 * took a seq: a loss no gap shows (src/live/source.c charges it).
 */
uint64_t da_live_recursion_misses(const struct da_live *l)
{
	uint64_t misses = object_misses(l->skel->obj);

	for (unsigned int i = 0; i < l->n_plans; i++)
		if (l->scopes[i].skel)
			misses += object_misses(l->scopes[i].skel->obj);
	return misses;
}

/* the misses of one link, when it is a kprobe's (0 otherwise) */
static uint64_t link_kprobe_misses(const struct bpf_link *link)
{
	uint64_t missed = 0;

	if (!link || da_kprobe_link_missed(bpf_link__fd(link), &missed) <= 0)
		return 0;
	return missed;
}

/*
 * Calls our kprobes and kretprobes missed (src/live/kprobe_misses.c): a
 * return the kernel had no kretprobe instance for, a probe hit while
 * another ran on its CPU.  Like a recursion miss, the call took no seq.
 * 0 where the kernel does not tell (before 6.7: da_live_kprobe_misses_untold())
 * and where nothing is a kprobe (no system call then).  A module hook
 * detached at its module's unload takes its count with it.
 */
uint64_t da_live_kprobe_misses(const struct da_live *l)
{
	uint64_t misses = 0;
	bool core_kprobes = false;

	if (!l->facts.kprobe_missed)
		return 0;
	for (unsigned int i = 0; i < l->n_core; i++)
		core_kprobes |= l->plans[i].attached && l->plans[i].mode == DA_HM_KPROBE;
	for (unsigned int i = 0; core_kprobes && i < l->n_links; i++)
		misses += link_kprobe_misses(l->links[i]);
	for (unsigned int i = l->n_core; i < l->n_plans; i++) {
		if (!l->scopes[i].skel || !l->plans[i].attached ||
		    l->plans[i].mode != DA_HM_KPROBE)
			continue;
		misses += link_kprobe_misses(l->scopes[i].entry);
		misses += link_kprobe_misses(l->scopes[i].exit);
	}
	return misses;
}

bool da_live_kprobe_misses_untold(const struct da_live *l)
{
	if (l->facts.kprobe_missed)
		return false;
	for (unsigned int i = 0; i < l->n_plans; i++)
		if (l->plans[i].attached && l->plans[i].mode == DA_HM_KPROBE)
			return true;
	return false;
}

struct bpf_object *da_live_object(const struct da_live *l)
{
	return l->skel->obj;
}

const struct btf *da_live_btf(const struct da_live *l)
{
	return l->vmlinux_btf;
}
