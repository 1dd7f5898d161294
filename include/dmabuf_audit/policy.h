/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy: which rules run and at which severity, the lists that classify
 * importers and exporters, revoke scopes, thresholds, allow-lists.
 * Format and defaults: docs/policy.md.
 */
#ifndef DMABUF_AUDIT_POLICY_H
#define DMABUF_AUDIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/rules.h"
#include "dmabuf_audit/trace.h"

#define DA_POLICY_MAX_NAMES 64
#define DA_POLICY_MAX_ALLOW 64
#define DA_POLICY_VALUE_LEN 256

struct da_namelist {
	unsigned int n;
	char names[DA_POLICY_MAX_NAMES][DA_FUNC_LEN];
};

/* A revoke scope: a kernel function during which an exporter revokes. */
struct da_scope_spec {
	char function[DA_FUNC_LEN];
	/*
	 * Index (0-based) of the function's bool "revoked" argument, or -1 when
	 * it has none (the scope always revokes, e.g. vfio_pci_dma_buf_cleanup).
	 * The scope object is always argument 0.
	 */
	int revoked_arg;
};

enum da_allow_field {
	DA_ALLOW_EXPORTER,	/* exporter name (exp_name) */
	DA_ALLOW_IMPORTER,	/* importer ops symbol */
	DA_ALLOW_CALLBACK,	/* invalidate callback symbol */
	DA_ALLOW_DEVICE,	/* attachment device name */
	DA_ALLOW_COMM,		/* task comm */
	/* the task's workload (include/dmabuf_audit/cgroup.h) */
	DA_ALLOW_UNIT,		/* systemd unit: the last *.service / *.scope of the cgroup */
	DA_ALLOW_CGROUP,	/* cgroup path, or a leading part of it ("/system.slice") */
	DA_ALLOW_CONTAINER,	/* container id */
	DA_ALLOW_POD,		/* Kubernetes pod UID */
};

/*
 * Findings of `rule` (or of every rule when rule < 0) whose field matches:
 * an allow entry suppresses them, a severity entry reports them at `severity`.
 */
struct da_allow {
	int rule;
	enum da_allow_field field;
	/* a pattern: a container id (64 characters) or a cgroup path fits */
	char value[DA_POLICY_VALUE_LEN];
	enum da_severity severity;	/* severity entries only */
};

struct da_policy {
	bool rule_enabled[DA_RULE__COUNT];
	enum da_severity rule_severity[DA_RULE__COUNT];
	struct da_namelist stub_callbacks;	/* callbacks that do not handle invalidation */
	struct da_namelist pinning_importers;	/* importer ops that cannot fault: must pin */
	struct da_namelist revoking_exporters;	/* exp_name of exporters that revoke */
	unsigned int n_scopes;
	struct da_scope_spec scopes[DA_MAX_SCOPES];
	uint64_t stall_threshold_ns;		/* revoke-stalled threshold, default 1 s */
	unsigned int n_allow;
	struct da_allow allow[DA_POLICY_MAX_ALLOW];
	/* severity RULE FIELD VALUE SEV: the first that matches sets the severity */
	unsigned int n_severity;
	struct da_allow severity[DA_POLICY_MAX_ALLOW];
	/*
	 * suppress-window SECONDS: repeats of a finding held back for that
	 * long (include/dmabuf_audit/service.h); unset, `watch` takes
	 * DA_SUPPRESS_WINDOW_DEFAULT_S and `run`/`replay` report every one.
	 */
	bool suppress_window_set;
	uint64_t suppress_window_ns;
};

#define DA_SUPPRESS_WINDOW_DEFAULT_S 600

/* The built-in policy (docs/rules.md defaults). */
void da_policy_init_default(struct da_policy *pol);
/*
 * Apply a policy file on top of *pol.  0 on success; -1 with a message in
 * err naming the file, line and problem; *pol is then unchanged.
 */
int da_policy_load(struct da_policy *pol, const char *path, char *err, size_t errlen);
bool da_namelist_has(const struct da_namelist *list, const char *name);
/* the name of an allow/severity field ("exporter", "unit"), "?" when unknown */
const char *da_allow_field_name(enum da_allow_field field);
/* the scope spec for a function name, or NULL */
const struct da_scope_spec *da_policy_scope(const struct da_policy *pol, const char *function);

#endif /* DMABUF_AUDIT_POLICY_H */
