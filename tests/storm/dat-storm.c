// SPDX-License-Identifier: GPL-2.0
/*
 * dat-storm: the revoke storm, a seeded random exerciser of the real drivers
 * (docs/testing.md, "Revoke storm").  In the VFIO guest (tests/vfio/run.sh),
 * with the iommufd-built VFIO modules loaded and the ivshmem device BDF bound
 * to vfio-pci:
 *
 *   dat-storm --seed N --seconds S --bdf BDF [--threads T] [--round-ms MS]
 *             [--summary FILE] [--log FILE]
 *   dat-storm --round SEED --bdf BDF [--threads T] [--round-ms MS] [--log FILE]
 *
 * Rounds follow each other for S seconds, each in a child process of its own
 * with a seed drawn from N (printed, "round R seed X"): the child opens the
 * device cdev, binds it to a new iommufd, allocates an IOAS, and T threads,
 * each seeded from the round's seed, run random sequences of steps on
 * their own dma-bufs (64 KiB ranges of BAR 2): export, the test importer's
 * (tests/kmod/dat_importer.c) attach / attach-nocb / pin / map / unmap /
 * unpin / fence / detach / close, IOMMU_IOAS_MAP_FILE and IOMMU_IOAS_UNMAP,
 * revoke and un-revoke through the command register, VFIO_DEVICE_RESET,
 * closing the dma-buf.  At the end of a round what the threads left open
 * (importers, dma-bufs, the iommufd, the device) is closed in a random
 * order; or the parent kills the round's child mid-sequence (SIGKILL, at a
 * time drawn from N) and the kernel closes everything.  Beside the rounds a
 * child of its own churns udmabuf and system dma-heap buffers imported into
 * vgem through PRIME and mmapped, closed in a random order.
 *
 * The storm plays a correct user of a correct driver: a map, a pin, an
 * export and an IOAS map are only asked for while the memory is enabled,
 * under the lock the revoking steps take, so no refused access is the
 * storm's own doing (a refused one is counted: "map_refused").  Anything the
 * tool then reports at warning or above on the fixed drivers is a false
 * finding or a kernel bug.
 *
 *   dat-storm --fence-waiters N   (below: a kretprobe's misses, counted)
 *
 * --round SEED runs one round alone (no kill, no PRIME child): the steps
 * each thread draws are the same as in the storm that printed SEED (the
 * interleaving of the threads is the kernel's).  --log appends every step
 * ("round thread seq step result").  --summary writes the counters as
 * "key value" lines (tests/lib/storm_judge.py reads them).  Exit 0 when
 * the storm ran, 1 when its own setup failed (a round could not open the
 * device), 2 on usage errors.  Built static for the initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "../vfio/dat-vfio-uapi.h"
#include "../vm/dat-drivers.h"
#include "../vm/dat-rng.h"

#define MAX_THREADS 8
#define SLOTS 2			/* dma-bufs a thread holds at most */
#define BAR_RANGES 8		/* 64 KiB ranges of BAR 2 (4 MiB) a dma-buf may take */
#define MAX_SEQ_STEPS 40

/* ------------------------------------------------------------ counters */

/* what the storm did, shared by the parent, the rounds and the PRIME child */
#define STORM_COUNTERS(X)                                                                     \
	X(rounds) X(rounds_killed) X(rounds_failed) X(sequences) X(steps) X(exports)           \
	X(revokes) X(unrevokes) X(resets) X(device_closes) X(iommufd_closes) X(attaches)       \
	X(attach_refused) X(nocb_refused) X(nocb_accepted) X(pins) X(maps) X(map_refused) X(unmaps) X(unpins)   \
	X(fences) X(detaches) X(importer_closes) X(dmabuf_closes) X(map_files)                \
	X(map_file_refused) X(ioas_unmaps) X(pinned_at_revoke) X(prime_cycles) X(prime_imports)  \
	X(prime_mmaps) X(prime_errors) X(unexpected_errors)

struct storm_counts {
#define X(name) uint64_t name;
	STORM_COUNTERS(X)
#undef X
};

static struct storm_counts *counts;

#define COUNT(name) __atomic_add_fetch(&counts->name, 1, __ATOMIC_RELAXED)

/* ------------------------------------------------------------ options */

static struct {
	uint64_t seed;
	int seconds, threads, round_ms;
	const char *bdf, *summary, *log;
} opt = { .threads = 3, .round_ms = 4000 };

static int log_fd = -1;

/* a seed of its own for each round and thread, drawn from their parent's */
static uint64_t seed_of(uint64_t parent, uint64_t index)
{
	uint64_t s = parent ^ (index * 0xd1b54a32d192ed03ull);

	return rng_next(&s);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one line of the step log (one write: O_APPEND keeps lines whole) */
static void step_log(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	int n;

	if (log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_fd, line, n) < 0)
		log_fd = -1;
}

/* ------------------------------------------------------------ the round's device */

struct round {
	uint64_t seed;
	unsigned int index;
	int dev, iommufd;
	uint32_t ioas;
	uint64_t config;
	int64_t deadline;
	pthread_mutex_t lock;	/* revoking steps vs. accesses */
	int memory_on;		/* under lock: the memory bit as last written */
	int pinned_now;		/* under lock: pinned imports and IOAS mappings alive */
};

static int round_open(struct round *r)
{
	struct dat_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct dat_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", opt.bdf);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) && strncmp(d->d_name, "vfio", 4))
		;
	if (d)
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->d_name);
	closedir(dir);
	if (!d)
		return -1;
	r->dev = open(path, O_RDWR | O_CLOEXEC);
	r->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	bind.iommufd = r->iommufd;
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (r->dev < 0 || r->iommufd < 0 || ioctl(r->dev, DAT_VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(r->dev, VFIO_DEVICE_GET_REGION_INFO, &reg) ||
	    ioctl(r->iommufd, DAT_IOMMU_IOAS_ALLOC, &ioas)) {
		fprintf(stderr, "dat-storm: round %u: opening %s: %s\n", r->index, path,
			strerror(errno));
		return -1;
	}
	r->config = reg.offset;
	r->ioas = ioas.out_ioas_id;
	return 0;
}

/* the memory bit, read back from the device (a reset may change it) */
static int memory_get(struct round *r)
{
	uint16_t cmd = 0;

	if (pread(r->dev, &cmd, sizeof(cmd), (off_t)(r->config + PCI_COMMAND)) != sizeof(cmd))
		return -1;
	return !!(cmd & PCI_COMMAND_MEMORY);
}

/* under r->lock: set or clear the memory bit (un-revoke / revoke) */
static int memory_set(struct round *r, int on)
{
	uint16_t cmd = 0;

	if (pread(r->dev, &cmd, sizeof(cmd), (off_t)(r->config + PCI_COMMAND)) != sizeof(cmd))
		return -1;
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	if (pwrite(r->dev, &cmd, sizeof(cmd), (off_t)(r->config + PCI_COMMAND)) != sizeof(cmd))
		return -1;
	r->memory_on = on;
	return 0;
}

/* ------------------------------------------------------------ a thread's objects */

struct slot {
	int dmabuf;		/* -1: none (or closed) */
	int ctl;		/* the importer, -1: none */
	int pinned, ioas_mapped;
	int nocb; /* the importer has no invalidate callback (a bug variant accepted it) */
	uint64_t iova;
};

struct worker {
	struct round *r;
	unsigned int id, seq;
	uint64_t rng;
	struct slot slot[SLOTS];
};

/* one importer command; returns 0 or the errno */
static int imp_cmd(int ctl, const char *fmt, ...)
{
	char line[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return write(ctl, line, strlen(line)) < 0 ? errno : 0;
}

static void unexpected(struct worker *w, const char *step, int err)
{
	COUNT(unexpected_errors);
	fprintf(stderr, "dat-storm: round %u thread %u: %s: %s\n", w->r->index, w->id, step,
		strerror(err));
}

static void logged(struct worker *w, const char *step, int slot, int err)
{
	COUNT(steps);
	step_log("r%u t%u s%u %s%d %s", w->r->index, w->id, w->seq, step, slot,
		 err ? strerrorname_np(err) ?: "?" : "ok");
}

static int step_export(struct worker *w, struct slot *s)
{
	struct dat_feature_dma_buf f = {
		.hdr = { .argsz = sizeof(f), .flags = VFIO_DEVICE_FEATURE_GET | DAT_FEATURE_DMA_BUF },
		.region_index = DAT_BAR,
		.open_flags = O_RDWR | O_CLOEXEC,
		.nr_ranges = 1,
	};
	int err = 0;

	f.ranges[0].offset = (uint64_t)rng_below(&w->rng, BAR_RANGES) * DAT_DMABUF_LEN;
	f.ranges[0].length = DAT_DMABUF_LEN;
	pthread_mutex_lock(&w->r->lock);
	if (w->r->memory_on) {
		s->dmabuf = ioctl(w->r->dev, VFIO_DEVICE_FEATURE, &f);
		err = s->dmabuf < 0 ? errno : 0;
	} else {
		err = EAGAIN; /* revoked now: a correct user waits */
	}
	pthread_mutex_unlock(&w->r->lock);
	if (!err)
		COUNT(exports);
	else if (err != EAGAIN)
		unexpected(w, "export", err);
	return err;
}

/*
 * attach (1 in 8: attach-nocb, which the fixed VFIO refuses), at any time:
 * while the memory is disabled VFIO refuses it too (-ENODEV), which is no
 * access to judge
 */
static int step_attach(struct worker *w, struct slot *s)
{
	int nocb = rng_below(&w->rng, 8) == 0, err;

	s->ctl = open("/sys/kernel/debug/dat_importer/ctl", O_RDWR | O_CLOEXEC);
	if (s->ctl < 0) {
		unexpected(w, "open importer", errno);
		return errno;
	}
	err = imp_cmd(s->ctl, "%s %d %s", nocb ? "attach-nocb" : "attach", s->dmabuf, opt.bdf);
	if (nocb && err == EOPNOTSUPP)
		COUNT(nocb_refused);
	else if (nocb && !err)
		COUNT(nocb_accepted);
	else if (!err)
		COUNT(attaches);
	else if (err == ENODEV)
		COUNT(attach_refused); /* revoked now: VFIO refuses new importers */
	else
		unexpected(w, "attach", err);
	if (err) {
		close(s->ctl);
		s->ctl = -1;
	}
	s->nocb = nocb && !err;
	return err;
}

/* pin or map: only while the memory is enabled (see the header) */
static int step_access(struct worker *w, struct slot *s, int pin)
{
	int err;

	/*
	 * An importer without callback is never told to unmap: a mapping of
	 * its would hang the next revoke for good (VFIO waits for the unmap).
	 */
	if (!pin && s->nocb)
		return EAGAIN;
	/*
	 * The test policy names the importer a pinning one (tests/vm/policy):
	 * like iommufd it maps only what it pinned (a map without the pin is
	 * pinning-importer-missing-pin, rightly).
	 */
	if (!pin && !s->pinned)
		return EAGAIN;
	pthread_mutex_lock(&w->r->lock);
	if (!w->r->memory_on) {
		pthread_mutex_unlock(&w->r->lock);
		return EAGAIN;
	}
	err = imp_cmd(s->ctl, pin ? "pin" : "map");
	if (pin && !err) {
		s->pinned = 1;
		w->r->pinned_now++;
	}
	pthread_mutex_unlock(&w->r->lock);
	if (!err)
		pin ? COUNT(pins) : COUNT(maps);
	else if (err == ENODEV || err == EPERM)
		COUNT(map_refused);
	else if (err != EBUSY)	/* pinned or mapped already */
		unexpected(w, pin ? "pin" : "map", err);
	return err;
}

static void unpinned(struct worker *w, struct slot *s)
{
	if (!s->pinned)
		return;
	s->pinned = 0;
	pthread_mutex_lock(&w->r->lock);
	w->r->pinned_now--;
	pthread_mutex_unlock(&w->r->lock);
}

static int step_map_file(struct worker *w, struct slot *s)
{
	struct dat_ioas_map_file map = {
		.size = sizeof(map),
		.flags = DAT_IOAS_MAP_FIXED_IOVA | DAT_IOAS_MAP_READABLE | DAT_IOAS_MAP_WRITEABLE,
		.ioas_id = w->r->ioas, .fd = s->dmabuf, .length = DAT_DMABUF_LEN, .iova = s->iova,
	};
	int err = 0;

	pthread_mutex_lock(&w->r->lock);
	if (!w->r->memory_on)
		err = EAGAIN;
	else if (ioctl(w->r->iommufd, DAT_IOMMU_IOAS_MAP_FILE, &map))
		err = errno;
	if (!err) {
		s->ioas_mapped = 1;
		w->r->pinned_now++;
	}
	pthread_mutex_unlock(&w->r->lock);
	if (!err)
		COUNT(map_files);
	else if (err == ENODEV || err == EPERM)
		COUNT(map_file_refused);
	else if (err != EAGAIN)
		unexpected(w, "IOMMU_IOAS_MAP_FILE", err);
	return err;
}

static int step_ioas_unmap(struct worker *w, struct slot *s)
{
	struct dat_ioas_unmap unmap = { .size = sizeof(unmap), .ioas_id = w->r->ioas,
					.iova = s->iova, .length = DAT_DMABUF_LEN };
	int err = ioctl(w->r->iommufd, DAT_IOMMU_IOAS_UNMAP, &unmap) ? errno : 0;

	s->ioas_mapped = 0;
	pthread_mutex_lock(&w->r->lock);
	w->r->pinned_now--;
	pthread_mutex_unlock(&w->r->lock);
	if (!err)
		COUNT(ioas_unmaps);
	else
		unexpected(w, "IOMMU_IOAS_UNMAP", err);
	return err;
}

/* revoke (memory off), un-revoke (memory on) or VFIO_DEVICE_RESET */
static int step_revoking(struct worker *w, int what)
{
	struct round *r = w->r;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	if (what == 2) {
		err = ioctl(r->dev, VFIO_DEVICE_RESET) ? errno : 0;
		r->memory_on = memory_get(r) == 1;
	} else if (memory_set(r, what)) {
		err = errno;
	}
	if (!err && what != 1)
		__atomic_add_fetch(&counts->pinned_at_revoke, r->pinned_now, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->lock);
	if (err)
		unexpected(w, what == 2 ? "VFIO_DEVICE_RESET" : "command register", err);
	else
		what == 2 ? COUNT(resets) : what ? COUNT(unrevokes) : COUNT(revokes);
	return err;
}

/* the importer lets go: detach, or close its file (the module undoes the rest) */
static void importer_end(struct worker *w, struct slot *s, int by_close)
{
	if (!by_close) {
		int err = imp_cmd(s->ctl, "detach");

		err ? unexpected(w, "detach", err) : COUNT(detaches);
	} else {
		COUNT(importer_closes);
	}
	close(s->ctl);
	s->ctl = -1;
	unpinned(w, s);
}

static void dmabuf_close(struct slot *s)
{
	close(s->dmabuf);
	s->dmabuf = -1;
	COUNT(dmabuf_closes);
}

/* one step on slot i, drawn among those that make sense now */
static void step(struct worker *w)
{
	int i = rng_below(&w->rng, SLOTS), roll = rng_below(&w->rng, 100), err = 0;
	struct slot *s = &w->slot[i];
	const char *name;

	if (roll < 8) {
		name = roll < 3 ? "revoke" : roll < 6 ? "unrevoke" : "reset";
		err = step_revoking(w, roll < 3 ? 0 : roll < 6 ? 1 : 2);
	} else if (s->dmabuf < 0 && s->ctl < 0 && !s->ioas_mapped) {
		name = "export";
		err = step_export(w, s);
	} else if (s->ctl < 0 && s->dmabuf >= 0 && roll < 50) {
		name = "attach";
		err = step_attach(w, s);
	} else if (!s->ioas_mapped && s->dmabuf >= 0 && roll < 65) {
		name = "mapfile";
		err = step_map_file(w, s);
	} else if (s->ioas_mapped && roll < 72) {
		name = "ioasunmap";
		err = step_ioas_unmap(w, s);
	} else if (s->ctl >= 0 && roll < 80) {
		name = roll < 74 ? "pin" : "map";
		err = step_access(w, s, roll < 74);
	} else if (s->ctl >= 0 && roll < 88) {
		static const char *const ops[] = { "unmap", "unpin", "fence" };
		unsigned int op = rng_below(&w->rng, 3);

		name = ops[op];
		if (op == 2)
			err = imp_cmd(s->ctl, "fence %u", 10 + rng_below(&w->rng, 190));
		else
			err = imp_cmd(s->ctl, "%s", ops[op]);
		if (op == 1)
			unpinned(w, s);
		if (!err)
			op == 0 ? COUNT(unmaps) : op == 1 ? COUNT(unpins) : COUNT(fences);
	} else if (s->ctl >= 0 && roll < 94) {
		name = roll < 91 ? "detach" : "impclose";
		importer_end(w, s, roll >= 91);
	} else if (s->dmabuf >= 0) {
		name = "close";
		dmabuf_close(s);
	} else {
		name = "idle";
	}
	logged(w, name, i, err);
}

/* a sequence's end: what is left goes, in a random order, or stays for the round's end */
static void sequence_end(struct worker *w, int leave)
{
	for (int i = 0; i < SLOTS && !leave; i++) {
		struct slot *s = &w->slot[i];
		unsigned int order = rng_below(&w->rng, 3);

		for (unsigned int k = 0; k < 3; k++) {
			unsigned int what = (order + k) % 3;

			if (what == 0 && s->ctl >= 0)
				importer_end(w, s, rng_below(&w->rng, 2));
			else if (what == 1 && s->ioas_mapped)
				step_ioas_unmap(w, s);
			else if (what == 2 && s->dmabuf >= 0)
				dmabuf_close(s);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (now_ms() < w->r->deadline) {
		unsigned int n = 1 + rng_below(&w->rng, MAX_SEQ_STEPS);

		COUNT(sequences);
		w->seq++;
		for (unsigned int k = 0; k < n && now_ms() < w->r->deadline; k++)
			step(w);
		sequence_end(w, now_ms() >= w->r->deadline && rng_below(&w->rng, 2));
	}
	return NULL;
}

/* the fds left at the round's end, closed in a random order: importers,
 * dma-bufs, the iommufd and the device */
static void round_close(struct round *r, struct worker *w, uint64_t *rng)
{
	int fds[MAX_THREADS * SLOTS * 2 + 2], n = 0;

	for (int t = 0; t < opt.threads; t++)
		for (int i = 0; i < SLOTS; i++) {
			if (w[t].slot[i].ctl >= 0)
				fds[n++] = w[t].slot[i].ctl;
			if (w[t].slot[i].dmabuf >= 0)
				fds[n++] = w[t].slot[i].dmabuf;
		}
	fds[n++] = r->iommufd;
	fds[n++] = r->dev;
	for (int k = n - 1; k > 0; k--) {
		int j = rng_below(rng, k + 1), tmp = fds[k];

		fds[k] = fds[j];
		fds[j] = tmp;
	}
	for (int k = 0; k < n; k++) {
		if (fds[k] == r->dev)
			COUNT(device_closes);
		else if (fds[k] == r->iommufd)
			COUNT(iommufd_closes);
		close(fds[k]);
	}
	step_log("r%u close-all %d fds", r->index, n);
}

/* one round (in its own process): returns the exit status */
static int run_round(uint64_t seed, unsigned int index)
{
	struct round r = { .seed = seed, .index = index };
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	uint64_t rng = seed;

	if (round_open(&r))
		return 1;
	pthread_mutex_init(&r.lock, NULL);
	pthread_mutex_lock(&r.lock);
	r.memory_on = memory_get(&r) == 1 || !memory_set(&r, 1);
	pthread_mutex_unlock(&r.lock);
	r.deadline = now_ms() + opt.round_ms;
	for (int t = 0; t < opt.threads; t++) {
		w[t] = (struct worker){ .r = &r, .id = t, .rng = seed_of(seed, t + 1) };
		for (int i = 0; i < SLOTS; i++)
			w[t].slot[i] = (struct slot){ .dmabuf = -1, .ctl = -1,
						      .iova = DAT_IOVA + (uint64_t)(t * SLOTS + i) *
								DAT_DMABUF_LEN };
		if (pthread_create(&tid[t], NULL, worker_main, &w[t])) {
			fprintf(stderr, "dat-storm: pthread_create failed\n");
			return 1;
		}
	}
	for (int t = 0; t < opt.threads; t++)
		pthread_join(tid[t], NULL);
	round_close(&r, w, &rng);
	return 0;
}

/* ------------------------------------------------------------ PRIME churn */

/* udmabuf or a heap buffer, imported into vgem, mmapped; closed in a random order */
static void prime_cycle(uint64_t *rng, int drm)
{
	struct dat_drm_prime_handle prime = { 0 };
	struct dat_drm_gem_close gclose = { 0 };
	int buf = rng_below(rng, 2) ? udmabuf_create("dat-storm") : heap_create();
	void *p = MAP_FAILED;

	if (buf < 0) {
		COUNT(prime_errors);
		return;
	}
	prime.fd = buf;
	if (drm < 0)
		COUNT(prime_errors); /* no vgem */
	else if (rng_below(rng, 4) == 0)
		; /* not imported this time */
	else if (ioctl(drm, DAT_DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
		COUNT(prime_errors);
	else
		COUNT(prime_imports);
	if (rng_below(rng, 2)) {
		p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
		if (p == MAP_FAILED)
			COUNT(prime_errors);
		else
			memset(p, 0x5a, BUF_SIZE), COUNT(prime_mmaps);
	}
	if (rng_below(rng, 2)) {
		close(buf);
		buf = -1;
	}
	if (prime.handle) {
		gclose.handle = prime.handle;
		if (ioctl(drm, DAT_DRM_IOCTL_GEM_CLOSE, &gclose))
			COUNT(prime_errors);
	}
	if (p != MAP_FAILED)
		munmap(p, BUF_SIZE);
	if (buf >= 0)
		close(buf);
	COUNT(prime_cycles);
}

static void prime_churn(uint64_t seed, int64_t deadline)
{
	uint64_t rng = seed;
	int drm = open_vgem();

	while (now_ms() < deadline) {
		prime_cycle(&rng, drm);
		if (rng_below(&rng, 64) == 0 && drm >= 0) {
			close(drm); /* vgem closed and opened again now and then */
			drm = open_vgem();
		}
		usleep(1000 * rng_below(&rng, 20));
	}
}

/* ------------------------------------------------------------ fence waiters */

/*
 * --fence-waiters N: N threads wait at once in dma_resv_wait_timeout() (a
 * hooked function, the fence_wait hook) on a vgem buffer's unsignalled
 * fence, through DMA_BUF_IOCTL_SYNC, until the fence is signalled.  Under
 * `watch --mode kprobe` the hook is a kretprobe with max(10, 2 * possible
 * CPUs) instances (register_kretprobe()): the returns of the waiters that
 * found none in use are missed, and the tool must count them as lost
 * (src/live/kprobe_misses.c); under fexit no kprobe miss is counted.  Prints
 * "waiters N", "maxactive M" (what the kernel gives a kretprobe here),
 * "returned K" (the waits that ended).
 */
struct dat_drm_mode_create_dumb {
	uint32_t height, width, bpp, flags;
	uint32_t handle, pitch;
	uint64_t size;
};

struct dat_vgem_fence_attach {
	uint32_t handle, flags, out_fence, pad;
};

struct dat_vgem_fence_signal {
	uint32_t fence, flags;
};

struct dat_dma_buf_sync {
	uint64_t flags;
};

#define DAT_DRM_IOCTL_MODE_CREATE_DUMB _IOWR('d', 0xb2, struct dat_drm_mode_create_dumb)
#define DAT_DRM_IOCTL_PRIME_HANDLE_TO_FD _IOWR('d', 0x2d, struct dat_drm_prime_handle)
/* DRM_COMMAND_BASE 0x40: vgem's FENCE_ATTACH 0x01, FENCE_SIGNAL 0x02 (include/uapi/drm/vgem_drm.h) */
#define DAT_VGEM_IOCTL_FENCE_ATTACH _IOWR('d', 0x41, struct dat_vgem_fence_attach)
#define DAT_VGEM_IOCTL_FENCE_SIGNAL _IOW('d', 0x42, struct dat_vgem_fence_signal)
#define DAT_VGEM_FENCE_WRITE 0x1
#define DAT_DMA_BUF_IOCTL_SYNC _IOW('b', 0, struct dat_dma_buf_sync)
#define DAT_DMA_BUF_SYNC_START_RW 3 /* DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW */
#define MAX_WAITERS 64

static int waiters_buf = -1;
static int waiters_entered, waiters_returned;

static void *fence_waiter(void *arg)
{
	struct dat_dma_buf_sync sync = { .flags = DAT_DMA_BUF_SYNC_START_RW };

	__atomic_add_fetch(&waiters_entered, 1, __ATOMIC_RELAXED);
	/* begin_cpu_access waits for the buffer's write fence (interruptible, unbounded) */
	if (!ioctl(waiters_buf, DAT_DMA_BUF_IOCTL_SYNC, &sync))
		__atomic_add_fetch(&waiters_returned, 1, __ATOMIC_RELAXED);
	return arg;
}

/* max(10, 2 * possible CPUs): a kretprobe's instances when nobody sets maxactive */
static int kretprobe_maxactive(void)
{
	int first, last, cpus = 0;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	/* "0-3" or "0-1,4-5" */
	while (f && fscanf(f, "%d", &first) == 1) {
		last = first;
		if (fscanf(f, "-%d", &last) != 1)
			last = first;
		cpus += last - first + 1;
		if (fgetc(f) != ',')
			break;
	}
	if (f)
		fclose(f);
	return 2 * cpus > 10 ? 2 * cpus : 10;
}

static int fence_waiters(int n)
{
	struct dat_drm_mode_create_dumb bo = { .height = 16, .width = 256, .bpp = 32 };
	struct dat_drm_prime_handle prime = { 0 };
	struct dat_vgem_fence_attach fence = { 0 };
	struct dat_vgem_fence_signal signal = { 0 };
	pthread_t threads[MAX_WAITERS];
	int drm = open_vgem(), started = 0;

	if (drm < 0 || ioctl(drm, DAT_DRM_IOCTL_MODE_CREATE_DUMB, &bo)) {
		perror("dat-storm: vgem buffer");
		return 1;
	}
	prime.handle = fence.handle = bo.handle;
	prime.flags = O_CLOEXEC | O_RDWR;
	fence.flags = DAT_VGEM_FENCE_WRITE;
	if (ioctl(drm, DAT_DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ||
	    ioctl(drm, DAT_VGEM_IOCTL_FENCE_ATTACH, &fence)) {
		perror("dat-storm: vgem export or fence");
		return 1;
	}
	waiters_buf = prime.fd;
	for (; started < n; started++)
		if (pthread_create(&threads[started], NULL, fence_waiter, NULL))
			break;
	/* every waiter inside its wait (TCG is slow) before the fence signals */
	while (__atomic_load_n(&waiters_entered, __ATOMIC_RELAXED) < started)
		usleep(10000);
	usleep(2000000);
	signal.fence = fence.out_fence;
	if (ioctl(drm, DAT_VGEM_IOCTL_FENCE_SIGNAL, &signal))
		perror("dat-storm: vgem fence signal");
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	printf("waiters %d\nmaxactive %d\nreturned %d\n", started, kretprobe_maxactive(),
	       waiters_returned);
	close(prime.fd);
	close(drm);
	return started == n && waiters_returned == n ? 0 : 1;
}

/* ------------------------------------------------------------ the storm */

/* fork a round; kill it at kill_ms (0: never); returns 1 if it was killed */
static int round_fork(uint64_t seed, unsigned int index, int64_t kill_ms)
{
	int64_t t0 = now_ms();
	int status, killed = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(run_round(seed, index));
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (kill_ms && now_ms() - t0 >= kill_ms && !killed) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		usleep(10000);
	}
	if (killed)
		COUNT(rounds_killed);
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		COUNT(rounds_failed);
	return killed;
}

static void write_summary(int64_t ms)
{
	FILE *f = opt.summary ? fopen(opt.summary, "w") : stdout;

	if (!f)
		return;
	fprintf(f, "seed %llu\nthreads %d\nround_ms %d\nms %lld\n", (unsigned long long)opt.seed,
		opt.threads, opt.round_ms, (long long)ms);
#define X(name) fprintf(f, #name " %llu\n", (unsigned long long)counts->name);
	STORM_COUNTERS(X)
#undef X
	if (f != stdout)
		fclose(f);
}

static int storm(void)
{
	int64_t t0 = now_ms(), deadline = t0 + (int64_t)opt.seconds * 1000;
	uint64_t rng = opt.seed;
	pid_t prime = fork();

	if (prime == 0) {
		prime_churn(seed_of(opt.seed, 0), deadline);
		_exit(0);
	}
	printf("dat-storm: seed %llu, %d s, %d threads, rounds of %d ms\n",
	       (unsigned long long)opt.seed, opt.seconds, opt.threads, opt.round_ms);
	for (unsigned int index = 1; now_ms() < deadline; index++) {
		uint64_t seed = seed_of(opt.seed, 1000 + index);
		int64_t kill_ms = rng_below(&rng, 4) == 0 ?
			opt.round_ms / 4 + rng_below(&rng, opt.round_ms / 2) : 0;

		printf("round %u seed %llu%s\n", index, (unsigned long long)seed,
		       kill_ms ? " (killed)" : "");
		fflush(stdout);
		COUNT(rounds);
		round_fork(seed, index, kill_ms);
	}
	if (prime > 0)
		waitpid(prime, NULL, 0);
	write_summary(now_ms() - t0);
	return counts->rounds_failed == counts->rounds ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dat-storm --seed N --seconds S --bdf BDF [--threads T]"
			" [--round-ms MS] [--summary FILE] [--log FILE]\n"
			"       dat-storm --round SEED --bdf BDF [--threads T] [--round-ms MS]"
			" [--log FILE]\n"
			"       dat-storm --fence-waiters N\n");
	exit(2);
}

static uint64_t number(const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "dat-storm: bad number '%s'\n", s);
		usage();
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t round_seed = 0;
	int one_round = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "--fence-waiters"))
			return fence_waiters(number(v, MAX_WAITERS));
		else if (!strcmp(a, "--seed"))
			opt.seed = number(v, UINT64_MAX);
		else if (!strcmp(a, "--round"))
			round_seed = number(v, UINT64_MAX), one_round = 1;
		else if (!strcmp(a, "--seconds"))
			opt.seconds = number(v, 86400);
		else if (!strcmp(a, "--threads"))
			opt.threads = number(v, MAX_THREADS);
		else if (!strcmp(a, "--round-ms"))
			opt.round_ms = number(v, 600000);
		else if (!strcmp(a, "--bdf"))
			opt.bdf = v;
		else if (!strcmp(a, "--summary"))
			opt.summary = v;
		else if (!strcmp(a, "--log"))
			opt.log = v;
		else
			usage();
		i++;
	}
	if (!opt.bdf || opt.threads < 1 || opt.round_ms < 100 || (!one_round && opt.seconds < 1))
		usage();
	counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (counts == MAP_FAILED)
		return 1;
	if (opt.log)
		log_fd = open(opt.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (one_round) {
		int rc = run_round(round_seed, 0);

		write_summary(0);
		return rc;
	}
	return storm();
}
