// SPDX-License-Identifier: GPL-2.0
/*
 * `hooks`: which hooks this kernel (or the kernel of a BTF file) offers,
 * in which mode, and which rules are enforceable with them.  Text (a table
 * for people) or, with --format json, one JSON object (docs/output.md
 * "hooks").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "../live/live.h"

/* what `hooks` prints about one kernel */
struct hooks_view {
	const char *kernel; /* uname -r, NULL for a BTF file */
	const char *source; /* "live" or "btf:FILE" */
	const struct da_hook_plan *plans;
	unsigned int n;
	const struct da_kernel_facts *facts;
	bool live;
	struct da_seed_plan seed; /* how watch/run enumerate the buffers existing at start */
};

static const char *view_note(const struct hooks_view *v)
{
	return v->live ? "modes as attached on this kernel" :
			 "from BTF: fentry/fexit when the FUNC record exists; "
			 "attachability is proven only on the live kernel";
}

static const char *hook_id(const struct da_hook_plan *p)
{
	return p->def ? p->def->id : "scope";
}

static json_t *json_str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *hook_json(const struct da_hook_plan *p)
{
	json_t *h = json_object();

	json_object_set_new(h, "hook", json_string(hook_id(p)));
	json_object_set_new(h, "kind", json_string(da_hook_is_phys_map(p->def) ? "module" :
						   p->def			   ? "core" :
										     "scope"));
	json_object_set_new(h, "function", json_string(p->function));
	json_object_set_new(h, "module", json_str_or_null(p->module));
	json_object_set_new(h, "mode", json_string(da_plan_mode_name(p)));
	json_object_set_new(h, "available", json_boolean(da_plan_usable(p, false)));
	json_object_set_new(h, "attached", json_boolean(p->attached));
	json_object_set_new(h, "optional", json_boolean(p->def ? p->def->optional : true));
	json_object_set_new(h, "reason", json_string(p->reason));
	return h;
}

static json_t *view_json(const struct hooks_view *v, const struct da_kernel_offer *offer)
{
	json_t *root = json_object(), *hooks = json_array(), *rules = json_array();
	json_t *quirks = json_array();
	char reason[256];

	if (v->facts->quirks & DA_QUIRK_LEGACY_LOCKING)
		json_array_append_new(quirks, json_string("legacy-locking"));
	if (v->facts->quirks & DA_QUIRK_NO_RESV_OWNER)
		json_array_append_new(quirks, json_string("no-resv-owner"));
	json_object_set_new(root, "type", json_string("hooks"));
	json_object_set_new(root, "tool", json_string(DA_TOOL_NAME));
	json_object_set_new(root, "version", json_string(DA_VERSION));
	json_object_set_new(root, "kernel", json_str_or_null(v->kernel));
	json_object_set_new(root, "source", json_string(v->source));
	json_object_set_new(root, "live", json_boolean(v->live));
	json_object_set_new(root, "note", json_string(view_note(v)));
	json_object_set_new(root, "quirks", quirks);
	json_object_set_new(root, "callback_field", json_str_or_null(v->facts->callback_field));
	json_object_set_new(root, "resv_owner", json_boolean(v->facts->resv_owner));
	json_object_set_new(root, "kprobe_misses_counted", json_boolean(v->facts->kprobe_missed));
	json_object_set_new(root, "seed_source", json_string(da_seed_source_name(v->seed.source)));
	json_object_set_new(root, "seed_reason", json_string(v->seed.why));
	for (unsigned int i = 0; i < v->n; i++)
		json_array_append_new(hooks, hook_json(&v->plans[i]));
	json_object_set_new(root, "hooks", hooks);
	for (unsigned int r = 0; r < DA_RULE__COUNT; r++) {
		json_t *o = json_object();

		da_rule_unenforceable(&da_rules[r], offer, reason, sizeof(reason));
		json_object_set_new(o, "rule", json_string(da_rules[r].name));
		json_object_set_new(o, "enforceable", json_boolean(!reason[0]));
		json_object_set_new(o, "reason", json_string(reason));
		json_array_append_new(rules, o);
	}
	json_object_set_new(root, "rules", rules);
	return root;
}

static int print_json(FILE *out, const struct hooks_view *v, const struct da_kernel_offer *offer)
{
	json_t *root = view_json(v, offer);
	char *text = json_dumps(root, JSON_COMPACT);

	json_decref(root);
	if (!text)
		return -1;
	fprintf(out, "%s\n", text);
	free(text);
	return ferror(out) ? -1 : 0;
}

static const char *hook_status(const struct da_hook_plan *p, bool live)
{
	if (p->attached)
		return "attached";
	if (p->mode == DA_HM_MODULE)
		return "";
	if (p->mode != DA_HM_ABSENT)
		return live ? "not attached" : "available";
	return p->def && p->def->optional ? "absent (optional)" : "ABSENT";
}

static int print_text(FILE *out, const struct hooks_view *v, const struct da_kernel_offer *offer)
{
	const struct da_kernel_facts *facts = v->facts;
	char reason[256];

	fprintf(out, "kernel:   %s\n", v->kernel && *v->kernel ? v->kernel : "(unknown: BTF file)");
	fprintf(out, "source:   %s (%s)\n", v->source, view_note(v));
	fprintf(out, "quirks:   %s%s%s\n",
		facts->quirks & DA_QUIRK_LEGACY_LOCKING ? "legacy-locking (dma_buf.lock, 6.1) " :
							  "",
		facts->quirks & DA_QUIRK_NO_RESV_OWNER ? "no-resv-owner (PREEMPT_RT) " : "",
		facts->quirks ? "" : "none");
	fprintf(out, "callback: dma_buf_attach_ops.%s\n",
		facts->callback_field ? facts->callback_field : "(none found)");
	fprintf(out, "kprobe misses: %s\n",
		facts->kprobe_missed ? "counted as lost (the kprobe links' info, 6.7+)" :
				       "not told by this kernel (before 6.7): not counted");
	fprintf(out, "seed source: %s (%s)\n\n", da_seed_source_name(v->seed.source),
		v->seed.why);
	fprintf(out, "%-16s %-34s %-10s %s\n", "HOOK", "FUNCTION", "MODE", "STATUS");
	for (unsigned int i = 0; i < v->n; i++) {
		const struct da_hook_plan *p = &v->plans[i];
		const char *status = hook_status(p, v->live);

		fprintf(out, "%-16s %-34s %-10s %s%s%s\n", hook_id(p), p->function,
			da_plan_mode_name(p), status, *status && p->reason[0] ? ": " : "",
			p->reason);
	}
	fprintf(out, "\n%-34s %s\n", "RULE", "ENFORCEABLE");
	for (unsigned int r = 0; r < DA_RULE__COUNT; r++) {
		da_rule_unenforceable(&da_rules[r], offer, reason, sizeof(reason));
		fprintf(out, "%-34s %s%s\n", da_rules[r].name, reason[0] ? "no: " : "yes", reason);
	}
	return ferror(out) ? -1 : 0;
}

static int print_view(const struct hooks_view *v, enum da_format format)
{
	struct da_kernel_offer offer;
	int ret;

	da_plan_offer(v->plans, v->n, v->facts, v->live, &offer);
	ret = format == DA_FMT_JSON ? print_json(stdout, v, &offer) : print_text(stdout, v, &offer);
	return fflush(stdout) || ret ? -1 : 0;
}

/* hooks --btf FILE: answer for another kernel from its BTF, loading nothing */
static int hooks_from_btf(struct da_opts *opts)
{
	struct da_hook_plan plans[DA_MAX_HOOKS];
	struct da_kernel_facts facts;
	struct hooks_view v = { .plans = plans, .facts = &facts };
	char source[300], why[128];
	struct btf *btf;

	da_live_set_verbose(opts->verbose);
	btf = btf__parse(opts->btf, NULL);
	if (!btf) {
		libbpf_strerror(errno, why, sizeof(why));
		fprintf(stderr,
			DA_TOOL_NAME
			" hooks: cannot read BTF from %s: %s (expected a raw BTF blob "
			"such as /sys/kernel/btf/vmlinux or a vmlinux ELF with .BTF)\n",
			opts->btf, why);
		return DA_EXIT_USAGE;
	}
	if (da_btf_check(btf, why, sizeof(why))) {
		fprintf(stderr, DA_TOOL_NAME " hooks: malformed BTF in %s: %s\n", opts->btf, why);
		btf__free(btf);
		return DA_EXIT_USAGE;
	}
	v.source = source;
	da_kernel_facts_from_btf(btf, &facts);
	v.n = da_plan_from_btf(btf, opts, plans);
	da_seed_plan_decide(btf, opts, false, &v.seed);
	btf__free(btf);
	snprintf(source, sizeof(source), "btf:%s", opts->btf);
	return print_view(&v, opts->format) ? DA_EXIT_USAGE : DA_EXIT_OK;
}

int da_cmd_hooks(struct da_opts *opts)
{
	struct da_trace_info info = { 0 };
	struct da_live *live = NULL;
	struct hooks_view v = { .kernel = info.kernel, .source = "live", .live = true };
	char err[1024];
	int ret, status = 0;

	if (opts->format != DA_FMT_TEXT && opts->format != DA_FMT_JSON) {
		fprintf(stderr, DA_TOOL_NAME " hooks: --format must be text or json\n");
		return DA_EXIT_USAGE;
	}
	if (opts->btf)
		return hooks_from_btf(opts);
	/* the live answer is what watch would do: load and attach, then let go */
	ret = da_live_open(opts, &info, &live, err, sizeof(err));
	if (live) {
		v.plans = da_live_plans(live, &v.n);
		v.facts = da_live_facts(live);
		if (da_live_btf(live))
			da_seed_plan_decide(da_live_btf(live), opts, true, &v.seed);
		else
			snprintf(v.seed.why, sizeof(v.seed.why), "this kernel has no BTF");
	}
	/* the plans say why, as far as the session got */
	if (v.n)
		status = print_view(&v, opts->format);
	if (ret)
		fprintf(stderr, DA_TOOL_NAME " hooks: %s\n", err);
	da_live_close(live);
	return ret || status ? DA_EXIT_USAGE : DA_EXIT_OK;
}
