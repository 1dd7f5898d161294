// SPDX-License-Identifier: GPL-2.0
/*
 * The finding stage (include/dmabuf_audit/finding_stage.h): rule switch,
 * workload, allow-list, severity, counts, repeats, in that order, once for
 * every output.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/finding_stage.h"
#include "dmabuf_audit/service.h"

struct da_finding_stage {
	struct da_finding_stage_config cfg;
	struct da_suppress *repeats;
	struct da_finding_counts counts;
};

struct da_finding_stage *da_finding_stage_new(const struct da_finding_stage_config *cfg)
{
	struct da_finding_stage *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->cfg = *cfg;
	st->counts.max_severity = -1;
	st->repeats = da_suppress_new();
	if (!st->repeats) {
		free(st);
		return NULL;
	}
	return st;
}

void da_finding_stage_free(struct da_finding_stage *st)
{
	if (!st)
		return;
	da_suppress_free(st->repeats);
	free(st);
}

/*
 * A cgroup pattern matches the path or a leading part of it that ends
 * before a '/': "/system.slice" matches every unit under it.
 */
static bool cgroup_match(const char *pattern, const char *path)
{
	char part[DA_CGROUP_PATH_LEN];
	size_t n;

	if (!fnmatch(pattern, path, 0))
		return true;
	n = strnlen(path, sizeof(part) - 1);
	memcpy(part, path, n);
	part[n] = '\0';
	/* shorter and shorter: cut at each '/' from the end */
	for (size_t i = n; i-- > 1;) {
		if (part[i] != '/')
			continue;
		part[i] = '\0';
		if (!fnmatch(pattern, part, 0))
			return true;
	}
	return false;
}

/* the value of a finding's field that allow and severity entries match */
static const char *match_value(const struct da_finding *f, enum da_allow_field field)
{
	switch (field) {
	case DA_ALLOW_EXPORTER:
		return f->buffer.exporter;
	case DA_ALLOW_IMPORTER:
		return f->has_attachment ? f->attachment.importer_ops_sym : NULL;
	case DA_ALLOW_CALLBACK:
		return f->has_attachment ? f->attachment.invalidate_cb_sym : NULL;
	case DA_ALLOW_DEVICE:
		return f->has_attachment ? f->attachment.dev : NULL;
	case DA_ALLOW_COMM:
		return f->comm;
	case DA_ALLOW_UNIT:
		return f->cgroup.unit;
	case DA_ALLOW_CGROUP:
		return f->cgroup.path;
	case DA_ALLOW_CONTAINER:
		return f->cgroup.container;
	case DA_ALLOW_POD:
		return f->cgroup.pod;
	}
	return NULL;
}

/* the first entry of list[n] for `rule` that f matches, or NULL */
static const struct da_allow *first_match(const struct da_allow *list, unsigned int n,
					  enum da_rule rule, const struct da_finding *f)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct da_allow *m = &list[i];
		const char *value = match_value(f, m->field);

		if (m->rule >= 0 && m->rule != (int)rule)
			continue;
		if (!value)
			continue;
		if (m->field == DA_ALLOW_CGROUP ? cgroup_match(m->value, value) :
						  !fnmatch(m->value, value, 0))
			return m;
	}
	return NULL;
}

static uint64_t suppress_window_ns(const struct da_finding_stage *st)
{
	const struct da_policy *pol = st->cfg.policy;

	return pol->suppress_window_set ? pol->suppress_window_ns :
					  st->cfg.default_suppress_window_ns;
}

/* counted whatever happens to it next; true when it is a repeat held back */
static bool count_and_hold(struct da_finding_stage *st, struct da_finding *f)
{
	struct da_finding_counts *c = &st->counts;

	c->by_rule_severity[f->rule][f->severity]++;
	if ((int)f->severity > c->max_severity)
		c->max_severity = (int)f->severity;
	if (!da_suppress_check(st->repeats, f, f->ts_ns, suppress_window_ns(st), &f->repeats))
		return false;
	c->repeats_held++;
	c->repeats_by_rule[f->rule]++;
	return true;
}

void da_finding_stage_take(void *stage, const struct da_finding *judged)
{
	struct da_finding_stage *st = stage;
	const struct da_policy *pol = st->cfg.policy;
	struct da_finding f = *judged;
	const struct da_allow *m;

	if ((unsigned int)f.rule >= DA_RULE__COUNT || !pol->rule_enabled[f.rule])
		return;
	/* named here: the allow-list, the severity entries and every output need it */
	da_cgroups_get(st->cfg.cgroups, judged->cgroup.id, &f.cgroup);
	if (pol->n_allow && first_match(pol->allow, pol->n_allow, f.rule, &f)) {
		st->counts.allowed++;
		return;
	}
	f.severity = pol->rule_severity[f.rule];
	m = pol->n_severity ? first_match(pol->severity, pol->n_severity, f.rule, &f) : NULL;
	if (m)
		f.severity = m->severity;
	if ((unsigned int)f.severity >= DA_SEV__COUNT || count_and_hold(st, &f))
		return;
	if (st->cfg.report)
		st->cfg.report(st->cfg.ctx, &f);
}

const struct da_finding_counts *da_finding_stage_counts(const struct da_finding_stage *st)
{
	return &st->counts;
}

void da_finding_stage_summary(const struct da_finding_stage *st, struct da_summary *sum)
{
	const struct da_finding_counts *c = &st->counts;

	sum->suppressed = c->allowed;
	sum->repeats_held = c->repeats_held;
	memset(sum->findings, 0, sizeof(sum->findings));
	memset(sum->by_rule, 0, sizeof(sum->by_rule));
	for (int r = 0; r < DA_RULE__COUNT; r++) {
		for (int s = 0; s < DA_SEV__COUNT; s++) {
			sum->findings[s] += c->by_rule_severity[r][s];
			sum->by_rule[r] += c->by_rule_severity[r][s];
		}
	}
}

int da_exit_status(const struct da_opts *opts, int max_severity)
{
	if (max_severity >= 0 && max_severity >= (int)opts->fail_on)
		return opts->error_exitcode;
	return DA_EXIT_OK;
}
