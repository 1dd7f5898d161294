// SPDX-License-Identifier: GPL-2.0
/*
 * Workload identity: cgroup ids named as paths, units, containers, pods
 * (cgroup.h).  The table is open addressing over a fixed array: a lookup
 * probes at most PROBE slots and never allocates, so the recorder may ask
 * about every event's cgroup.
 */
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/cgroup.h"

#define PROBE 8

struct cgroup_slot {
	uint64_t id;			/* 0: free */
	bool known;			/* path[] holds the path; else it could not be named */
	char path[DA_CGROUP_PATH_LEN];
	struct da_cgroup_parts parts;
};

struct da_cgroups {
	da_cgroup_resolver_fn resolve;
	void *ctx;
	unsigned int next_victim;	/* which slot of a full probe run to replace */
	struct cgroup_slot slots[DA_CGROUPS_SLOTS];
};

/* ------------------------------------------------------------------ paths */

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* a container id: 12 to 64 lower-case hex digits (runtimes use 64) */
static bool container_id(const char *s, size_t n)
{
	return n >= 12 && n <= 64 && all_hex(s, n);
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

static void copy_part(char *dst, size_t dstlen, const char *src, size_t n)
{
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * "<runtime>-<id>.scope" of the systemd cgroup driver; the runtimes' own
 * monitor processes (crio-conmon-, libpod-conmon-) are not the container.
 */
static bool scope_container(const char *c, size_t n, struct da_cgroup_parts *out)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-",
						 "libpod-" };

	if (!has_suffix(c, n, ".scope"))
		return false;
	for (unsigned int i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t p = strlen(prefixes[i]);
		size_t idn = n - p - strlen(".scope");

		if (n <= p + strlen(".scope") || strncmp(c, prefixes[i], p))
			continue;
		if (container_id(c + p, idn)) {
			copy_part(out->container, sizeof(out->container), c + p, idn);
			return true;
		}
	}
	return false;
}

/* a pod UID: 36 characters of hex digits and dashes ('_' in systemd slice names) */
static bool pod_uid(const char *s, size_t n, struct da_cgroup_parts *out)
{
	char uid[DA_CGROUP_POD_LEN];

	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i] == '_' ? '-' : s[i];

		if (ch != '-' && !all_hex(&ch, 1))
			return false;
		uid[i] = ch;
	}
	copy_part(out->pod, sizeof(out->pod), uid, n);
	return true;
}

/* kubepods-burstable-pod<uid>.slice (systemd driver) or pod<uid> under /kubepods (cgroupfs) */
static void kube_pod(const char *c, size_t n, bool under_kubepods, struct da_cgroup_parts *out)
{
	const char *p;

	if (!strncmp(c, "kubepods", 8) && has_suffix(c, n, ".slice")) {
		/* the last "-pod" of the component: the QoS class comes before it */
		for (p = c + n - strlen(".slice") - 4; p > c; p--)
			if (!strncmp(p, "-pod", 4))
				break;
		if (p > c)
			pod_uid(p + 4, (size_t)(c + n - strlen(".slice") - (p + 4)), out);
	} else if (under_kubepods && !strncmp(c, "pod", 3)) {
		pod_uid(c + 3, n - 3, out);
	}
}

void da_cgroup_parse(const char *path, struct da_cgroup_parts *out)
{
	const char *c = path, *prev = NULL;
	size_t prevn = 0;
	bool kubepods = false;

	memset(out, 0, sizeof(*out));
	while (c && *c) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (n) {
			if (has_suffix(c, n, ".service") || has_suffix(c, n, ".scope"))
				copy_part(out->unit, sizeof(out->unit), c, n);
			if (!strncmp(c, "kubepods", 8))
				kubepods = true;
			kube_pod(c, n, kubepods, out);
			if (!scope_container(c, n, out) && n == 64 && all_hex(c, n) &&
			    ((prev && prevn == 6 && !strncmp(prev, "docker", 6)) || out->pod[0]))
				/* cgroupfs driver: /docker/<id>, /kubepods/…/pod<uid>/<id> */
				copy_part(out->container, sizeof(out->container), c, n);
			prev = c;
			prevn = n;
		}
		c = slash ? slash + 1 : NULL;
	}
}

/* ------------------------------------------------------------------ table */

struct da_cgroups *da_cgroups_new(void)
{
	return calloc(1, sizeof(struct da_cgroups));
}

void da_cgroups_free(struct da_cgroups *cg)
{
	free(cg);
}

void da_cgroups_set_resolver(struct da_cgroups *cg, da_cgroup_resolver_fn fn, void *ctx)
{
	cg->resolve = fn;
	cg->ctx = ctx;
}

static unsigned int home(uint64_t id)
{
	/* ids are inode numbers, mostly consecutive: mix before taking the bits */
	return (unsigned int)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) % DA_CGROUPS_SLOTS;
}

/* id's slot, or NULL; with `claim`, a slot for it (free, or the victim of a full run) */
static struct cgroup_slot *find(struct da_cgroups *cg, uint64_t id, bool claim)
{
	unsigned int h = home(id);
	struct cgroup_slot *s;

	for (unsigned int i = 0; i < PROBE; i++) {
		s = &cg->slots[(h + i) % DA_CGROUPS_SLOTS];
		if (s->id == id)
			return s;
		if (!s->id)
			return claim ? s : NULL;
	}
	if (!claim)
		return NULL;
	s = &cg->slots[(h + cg->next_victim++ % PROBE) % DA_CGROUPS_SLOTS];
	return s;
}

static void fill(struct cgroup_slot *s, uint64_t id, const char *path)
{
	s->id = id;
	s->known = path && path[0] == '/' && strlen(path) < sizeof(s->path);
	if (!s->known) {
		s->path[0] = '\0';
		memset(&s->parts, 0, sizeof(s->parts));
		return;
	}
	/* a directory name is the workload's choice: no control bytes reach an output */
	for (size_t i = 0; path[i]; i++)
		s->path[i] = (unsigned char)path[i] < 0x20 || path[i] == 0x7f ? '?' : path[i];
	s->path[strlen(path)] = '\0';
	da_cgroup_parse(s->path, &s->parts);
}

int da_cgroups_add(struct da_cgroups *cg, uint64_t id, const char *path)
{
	if (!id || path[0] != '/' || strlen(path) >= DA_CGROUP_PATH_LEN)
		return -1;
	fill(find(cg, id, true), id, path);
	return 0;
}

static struct cgroup_slot *lookup(struct da_cgroups *cg, uint64_t id, bool *fresh)
{
	struct cgroup_slot *s = find(cg, id, false);
	char path[DA_CGROUP_PATH_LEN];

	*fresh = false;
	if (s)
		return s;
	if (!cg->resolve)
		return NULL;
	s = find(cg, id, true);
	/* a cgroup that is gone is remembered as unknown: ids are not reused in a boot */
	fill(s, id, cg->resolve(cg->ctx, id, path, sizeof(path)) ? NULL : path);
	*fresh = s->known;
	return s;
}

const char *da_cgroups_path(struct da_cgroups *cg, uint64_t id, bool *fresh)
{
	struct cgroup_slot *s;

	*fresh = false;
	if (!cg || !id)
		return NULL;
	s = lookup(cg, id, fresh);
	return s && s->known ? s->path : NULL;
}

static const char *nonempty(const char *s)
{
	return s[0] ? s : NULL;
}

void da_cgroups_get(struct da_cgroups *cg, uint64_t id, struct da_cgroup_identity *out)
{
	struct cgroup_slot *s;
	bool fresh;

	memset(out, 0, sizeof(*out));
	out->id = id;
	if (!cg || !id)
		return;
	s = lookup(cg, id, &fresh);
	if (!s || !s->known)
		return;
	out->path = s->path;
	out->unit = nonempty(s->parts.unit);
	out->container = nonempty(s->parts.container);
	out->pod = nonempty(s->parts.pod);
}
