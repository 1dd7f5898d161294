// SPDX-License-Identifier: GPL-2.0
/*
 * Seeding: the dma-bufs that exist when `watch` or `run` start (seed.h).
 * The BPF side is bpf/seed_iter.bpf.c; its records go into the core
 * object's ring buffer, with the core object's sequence numbers, so the
 * live source delivers them in order with the events racing with them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "dmabuf_audit/bufinfo.h"
#include "live.h"
#include "seed_iter.skel.h"

#define DEBUGFS_DIR "/sys/kernel/debug"
#define BUFINFO DEBUGFS_DIR "/dma_buf/bufinfo"
/* inodes read per read() of the iterator: the ring buffer is drained in between */
#define SEED_CHUNK 64
/* buffers named in the notice about those the seed could not find */
#define SEED_NAMED 4

struct seed_run {
	struct da_live_trace *t;
	struct seed_iter_bpf *skel;
	uint64_t *inos; /* inodes of the buffers seeded, as the iterator wrote them */
	size_t n_inos, cap_inos;
	bool mounted; /* debugfs was mounted by us */
};

const char *da_seed_source_name(enum da_seed_source source)
{
	switch (source) {
	case DA_SEED_BPF_ITER:
		return "bpf-iter";
	case DA_SEED_DEBUGFS:
		return "debugfs";
	default:
		return "none";
	}
}

static bool btf_has_struct(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) >= 0;
}

static bool debugfs_mounted(void)
{
	struct statfs st;

	return !statfs(DEBUGFS_DIR, &st) && st.f_type == DEBUGFS_MAGIC;
}

void da_seed_plan_decide(const struct btf *btf, const struct da_opts *opts, bool live,
			 struct da_seed_plan *plan)
{
	static const char listing[] =
		"no dma-buf iterator before 6.16: " BUFINFO " lists every buffer, the "
		"task_file BPF iterator gives the pointer of each one a process holds open";
	int err = 0;

	memset(plan, 0, sizeof(*plan));
	if (opts->no_seed) {
		snprintf(plan->why, sizeof(plan->why), "--no-seed");
	} else if (btf_has_struct(btf, "bpf_iter__dmabuf")) {
		plan->source = DA_SEED_BPF_ITER;
		snprintf(plan->why, sizeof(plan->why),
			 "iter/dmabuf: every buffer, its attachments and their importers");
	} else if (!btf_has_struct(btf, "bpf_iter__task_file")) {
		snprintf(plan->why, sizeof(plan->why),
			 "neither the dma-buf nor the task_file BPF iterator in this kernel");
	} else if (!live) {
		/* another machine's debugfs cannot be known from its BTF */
		plan->source = DA_SEED_DEBUGFS;
		snprintf(plan->why, sizeof(plan->why), "%s; where debugfs is mounted or mountable",
			 listing);
	} else if (!access(BUFINFO, R_OK)) {
		plan->source = DA_SEED_DEBUGFS;
		snprintf(plan->why, sizeof(plan->why), "%s", listing);
	} else if (err = errno, !debugfs_mounted()) {
		plan->source = DA_SEED_DEBUGFS;
		snprintf(plan->why, sizeof(plan->why),
			 "%s; debugfs is not mounted: watch and run mount it at " DEBUGFS_DIR
			 " to read it and unmount it after",
			 listing);
	} else {
		snprintf(plan->why, sizeof(plan->why), BUFINFO " is not readable: %s",
			 strerror(err));
	}
}

/* ---- the BPF iterators ---- */

static int open_seed_object(struct seed_run *r, enum da_seed_source source)
{
	struct bpf_object *core = da_live_object(r->t->live);
	static const char *const shared[] = { "events", "counters", "tracked_resv", "stacks",
					      "followed" };
	int ret;

	r->skel = seed_iter_bpf__open();
	if (!r->skel)
		return -errno;
	for (unsigned int i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(r->skel->obj, shared[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(core, shared[i]);

		if (!mine || !theirs)
			return -ENOENT;
		ret = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
		if (ret)
			return ret;
	}
	bpf_program__set_autoload(r->skel->progs.seed_dmabuf, source == DA_SEED_BPF_ITER);
	bpf_program__set_autoload(r->skel->progs.seed_task_file, source == DA_SEED_DEBUGFS);
	return seed_iter_bpf__load(r->skel);
}

static int keep_inos(struct seed_run *r, const uint64_t *inos, size_t n)
{
	if (r->n_inos + n > r->cap_inos) {
		size_t cap = r->cap_inos ? 2 * r->cap_inos : 1024;
		void *g;

		while (cap < r->n_inos + n)
			cap *= 2;
		g = realloc(r->inos, cap * sizeof(*r->inos));
		if (!g)
			return -ENOMEM;
		r->inos = g;
		r->cap_inos = cap;
	}
	memcpy(r->inos + r->n_inos, inos, n * sizeof(*inos));
	r->n_inos += n;
	return 0;
}

/*
 * Run the iterator: each read() returns after SEED_CHUNK buffers (8 bytes
 * of inode each), and the ring buffer is drained before the next, so a
 * system with many buffers does not overflow it.
 */
static int run_iterator(struct seed_run *r, struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	uint64_t chunk[SEED_CHUNK];
	ssize_t got;
	int fd, ret = 0;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		ret = -errno;
		bpf_link__destroy(link);
		return ret;
	}
	while ((got = read(fd, chunk, sizeof(chunk))) > 0 || (got < 0 && errno == EINTR)) {
		if (got < 0)
			continue;
		ret = keep_inos(r, chunk, (size_t)got / sizeof(chunk[0]));
		if (ret)
			break;
		da_source_poll(r->t->src, 0);
	}
	if (got < 0)
		ret = -errno;
	close(fd);
	bpf_link__destroy(link);
	da_source_poll(r->t->src, 0);
	return ret;
}

/* ---- bufinfo ---- */

/* the whole file as a string, NULL with errno on failure */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len = 0, cap = 1 << 16, n;
	char *text = NULL, *grown;
	int err = 0;

	if (!f)
		return NULL;
	for (;;) {
		grown = realloc(text, cap);
		if (!grown) {
			err = ENOMEM;
			break;
		}
		text = grown;
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (len < cap - 1) {
			err = ferror(f) ? EIO : 0;
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (err) {
		free(text);
		errno = err;
		return NULL;
	}
	text[len] = '\0';
	return text;
}

/* read and parse bufinfo, mounting debugfs for the time of the read if it is not */
static int read_bufinfo(struct seed_run *r, struct da_bufinfo *info, char *err, size_t len)
{
	char *text;
	int ret;

	if (access(BUFINFO, R_OK) && !debugfs_mounted()) {
		if (mount("debugfs", DEBUGFS_DIR, "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL)) {
			snprintf(err, len, "debugfs is not mounted and mounting it failed: %s",
				 strerror(errno));
			return -1;
		}
		r->mounted = true;
	}
	text = slurp(BUFINFO);
	if (!text) {
		snprintf(err, len, "cannot read " BUFINFO ": %s", strerror(errno));
		ret = -1;
	} else {
		ret = da_bufinfo_parse(text, info, err, len);
	}
	free(text);
	if (r->mounted && umount(DEBUGFS_DIR))
		da_pipeline_notice(r->t->p, DA_NOTICE_INPUT,
				   "seed: mounted debugfs at " DEBUGFS_DIR
				   " but could not unmount it: %s",
				   strerror(errno));
	return ret;
}

static bool ino_seeded(const struct seed_run *r, uint64_t ino)
{
	for (size_t i = 0; i < r->n_inos; i++)
		if (r->inos[i] == ino)
			return true;
	return false;
}

/* the buffers bufinfo lists that the task_file iterator did not find: pointer unknown */
static void notice_unmatched(struct seed_run *r, const struct da_bufinfo *info)
{
	char list[512] = "";
	size_t used = 0, missing = 0;

	for (size_t i = 0; i < info->n; i++) {
		const struct da_bufinfo_buf *b = &info->bufs[i];

		if (ino_seeded(r, b->ino))
			continue;
		if (++missing <= SEED_NAMED && used < sizeof(list) - 1)
			used += snprintf(list + used, sizeof(list) - used,
					 "%sino %" PRIu64 " (%s, %" PRIu64 " bytes, %u device%s)",
					 missing > 1 ? ", " : "", b->ino, b->exp_name, b->size,
					 b->n_devs, b->n_devs == 1 ? "" : "s");
	}
	if (missing > SEED_NAMED && used < sizeof(list) - 1)
		snprintf(list + used, sizeof(list) - used, " and %zu more", missing - SEED_NAMED);
	if (missing)
		da_pipeline_notice(
			r->t->p, DA_NOTICE_PARTIAL,
			"seed: %zu of the %zu buffers " BUFINFO
			" lists were found held open by no process (only by the kernel or a mapping, or released meanwhile): their pointer is unknown, events naming them show them first seen mid-life: %s",
			missing, info->n, list);
}

/* ---- the run ---- */

static int seed_debugfs(struct seed_run *r, struct da_seed_plan *plan)
{
	struct da_bufinfo info;
	char err[256];
	int ret;

	/* listed first: a buffer the iterator then misses was released or not held open */
	if (read_bufinfo(r, &info, err, sizeof(err))) {
		snprintf(plan->why, sizeof(plan->why), "%s", err);
		return -1;
	}
	ret = open_seed_object(r, DA_SEED_DEBUGFS);
	if (!ret)
		ret = run_iterator(r, r->skel->progs.seed_task_file);
	if (ret) {
		snprintf(plan->why, sizeof(plan->why), "the task_file iterator failed: %s",
			 strerror(-ret));
		da_bufinfo_free(&info);
		return -1;
	}
	notice_unmatched(r, &info);
	if (r->skel->bss->seed_dedup_full)
		da_pipeline_notice(
			r->t->p, DA_NOTICE_INPUT,
			"seed: %llu buffers were seeded more than once (dedup table full)",
			(unsigned long long)r->skel->bss->seed_dedup_full);
	da_bufinfo_free(&info);
	return 0;
}

void da_seed_run(struct da_live_trace *t, const struct da_opts *opts, struct da_seed_plan *plan)
{
	struct seed_run r = { .t = t };
	int ret = 0;

	da_seed_plan_decide(da_live_btf(t->live), opts, true, plan);
	if (plan->source == DA_SEED_BPF_ITER) {
		ret = open_seed_object(&r, plan->source);
		if (!ret)
			ret = run_iterator(&r, r.skel->progs.seed_dmabuf);
		if (ret)
			snprintf(plan->why, sizeof(plan->why), "the dma-buf iterator failed: %s",
				 strerror(-ret));
	} else if (plan->source == DA_SEED_DEBUGFS) {
		ret = seed_debugfs(&r, plan);
	}
	if (ret)
		plan->source = DA_SEED_NONE;
	if (plan->source == DA_SEED_NONE && !opts->no_seed)
		da_pipeline_notice(
			t->p, DA_NOTICE_INPUT,
			"no seed: %s; buffers that existed before the start are first seen mid-life",
			plan->why);
	else if (plan->source != DA_SEED_NONE && r.skel->bss->seed_attachments_cut)
		da_pipeline_notice(
			t->p, DA_NOTICE_PARTIAL,
			"seed: %llu buffers have more attachments than the seed walks (64): the rest are first seen mid-life",
			(unsigned long long)r.skel->bss->seed_attachments_cut);
	seed_iter_bpf__destroy(r.skel);
	free(r.inos);
}
