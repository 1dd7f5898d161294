/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The workload behind an event: its cgroup v2 id (bpf_get_current_cgroup_id()
 * in struct da_event) named as a path, a systemd unit, a container and a
 * Kubernetes pod.  docs/output.md "Workload identity".
 *
 * Live runs resolve an id once, through a resolver (src/live/cgroup.c:
 * open_by_handle_at on the cgroup2 mount), and keep it in a fixed table;
 * the recorder writes what it resolved (CGROUP records) so that a replay
 * names the same workloads.  Lookups are O(1) and never allocate.
 */
#ifndef DMABUF_AUDIT_CGROUP_H
#define DMABUF_AUDIT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a path longer than this is kept as unknown (the id still shows) */
#define DA_CGROUP_PATH_LEN 384
/* the longest container id kept: Docker, containerd, CRI-O, podman use 64 hex digits */
#define DA_CGROUP_ID_LEN 72
/* a pod UID: 36 characters */
#define DA_CGROUP_POD_LEN 40

/* Every string is NULL when unknown or absent. */
struct da_cgroup_identity {
	uint64_t id;			/* 0: no cgroup (seed records, old traces) */
	const char *path;		/* "/system.slice/docker-<id>.scope" */
	const char *unit;		/* the last *.service or *.scope component */
	const char *container;		/* container id, when the path carries one */
	const char *pod;		/* Kubernetes pod UID (dashes), when it carries one */
};

/* The parts of a path (da_cgroup_parse), in caller buffers. */
struct da_cgroup_parts {
	char unit[DA_CGROUP_PATH_LEN];
	char container[DA_CGROUP_ID_LEN];
	char pod[DA_CGROUP_POD_LEN];
};

/*
 * Unit, container id and pod UID named by a cgroup v2 path (empty strings
 * for what it does not carry).  Patterns: docker-<id>.scope, /docker/<id>,
 * cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope,
 * /kubepods…/pod<uid> or kubepods…-pod<uid>.slice (the systemd driver's
 * '_' read as '-').
 */
void da_cgroup_parse(const char *path, struct da_cgroup_parts *out);

/* the path of cgroup id into path[len]: 0, or -1 when it cannot be named */
typedef int (*da_cgroup_resolver_fn)(void *ctx, uint64_t id, char *path, size_t len);

struct da_cgroups;

/* slots: the distinct cgroups kept (a full table replaces the oldest of a probe run) */
#define DA_CGROUPS_SLOTS 512

struct da_cgroups *da_cgroups_new(void);
void da_cgroups_free(struct da_cgroups *cg);
void da_cgroups_set_resolver(struct da_cgroups *cg, da_cgroup_resolver_fn fn, void *ctx);
/* the path of id, known from a record (replay); 0 or -1 (not an absolute path, too long) */
int da_cgroups_add(struct da_cgroups *cg, uint64_t id, const char *path);
/*
 * The identity of id (resolved at the first call, then from the table).
 * With cg NULL or id 0 only the id is filled.  The strings stay valid until
 * the next call on cg.
 */
void da_cgroups_get(struct da_cgroups *cg, uint64_t id, struct da_cgroup_identity *out);
/*
 * id's path if it is known or can be resolved now, else NULL; *fresh is
 * set when it was resolved by this call (the recorder writes it then).
 */
const char *da_cgroups_path(struct da_cgroups *cg, uint64_t id, bool *fresh);

#endif /* DMABUF_AUDIT_CGROUP_H */
