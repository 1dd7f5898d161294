// SPDX-License-Identifier: GPL-2.0
/*
 * What leaves the host about a finding: kernel addresses (--addresses:
 * SipHash-2-4, the three modes) and the workload's identity (the cgroup
 * path parser, the table of resolved ids, the policy matching on unit,
 * cgroup, container and pod).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/cgroup.h"
#include "tap.h"
#include "trace_builder.h"

#define DOCKER_ID "3f2a9c1d5e7b8a60112233445566778899aabbccddeeff00112233445566aabb"
#define POD_UID "0b3c5d6e-7f80-4912-a3b4-c5d6e7f80912"
#define POD_UID_ "0b3c5d6e_7f80_4912_a3b4_c5d6e7f80912"

static const uint8_t key_a[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t key_b[16] = { 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };

/* the reference vectors of the SipHash paper (key 00..0f, message 00..len-1) */
static bool siphash_reference_vectors(void)
{
	uint8_t msg[16];

	for (int i = 0; i < 16; i++)
		msg[i] = (uint8_t)i;
	CHECK(da_siphash24(key_a, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
	CHECK(da_siphash24(key_a, msg, 1) == UINT64_C(0x74f839c593dc67fd));
	CHECK(da_siphash24(key_a, msg, 8) == UINT64_C(0x93f5f5799a932462));
	CHECK(da_siphash24(key_a, msg, 15) == UINT64_C(0xa129ca6149be45e5));
	return true;
}

static bool is_hashed_form(const char *s)
{
	if (strncmp(s, "h:", 2) || strlen(s) != 18)
		return false;
	for (int i = 2; i < 18; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* hashed: "h:" + 16 digits, stable under one key, another under another key, never the address */
static bool hashed_stable_within_key(void)
{
	char a1[DA_ADDR_STR_LEN], a2[DA_ADDR_STR_LEN], b1[DA_ADDR_STR_LEN], c1[DA_ADDR_STR_LEN];
	const uint64_t p = UINT64_C(0xffff888104a1c000), q = p + 0x40;

	da_addr_set_key(key_a);
	CHECK(da_addr_set_mode(DA_ADDR_HASHED) == 0);
	da_addr_fmt(a1, sizeof(a1), p);
	da_addr_fmt(a2, sizeof(a2), p);
	da_addr_fmt(c1, sizeof(c1), q);
	CHECK(is_hashed_form(a1));
	CHECK(!strcmp(a1, a2));		/* same pointer, same key: same value */
	CHECK(strcmp(a1, c1));		/* a neighbour: another value */
	CHECK(!strstr(a1, "ffff888104a1c000") && !strstr(a1, "0x"));
	CHECK(!strcmp(da_addr_fmt(a2, sizeof(a2), 0), "NULL"));
	da_addr_set_key(key_b);
	da_addr_fmt(b1, sizeof(b1), p);
	CHECK(is_hashed_form(b1) && strcmp(a1, b1));	/* another key (run): another value */
	return true;
}

static bool raw_and_none_modes(void)
{
	char buf[DA_ADDR_STR_LEN];

	CHECK(da_addr_set_mode(DA_ADDR_RAW) == 0);
	CHECK(!strcmp(da_addr_fmt(buf, sizeof(buf), UINT64_C(0xffff888104a1c000)),
		      "0xffff888104a1c000"));
	CHECK(!strcmp(da_addr_fmt(buf, sizeof(buf), 0), "0x0"));
	CHECK(da_addr_set_mode(DA_ADDR_NONE) == 0);
	CHECK(!strcmp(da_addr_fmt(buf, sizeof(buf), UINT64_C(0xffff888104a1c000)), "hidden"));
	CHECK(!strcmp(da_addr_fmt(buf, sizeof(buf), UINT64_C(0xffff888104a1c040)), "hidden"));
	CHECK(!strcmp(da_addr_fmt(buf, sizeof(buf), 0), "NULL"));
	CHECK(da_addr_mode_parse("hashed") == DA_ADDR_HASHED && da_addr_mode_parse("raw") == 0 &&
	      da_addr_mode_parse("none") == DA_ADDR_NONE && da_addr_mode_parse("Raw") < 0 &&
	      da_addr_mode_parse("") < 0);
	CHECK(da_addr_set_mode(DA_ADDR_RAW) == 0);
	return true;
}

struct parse_case {
	const char *path, *unit, *container, *pod;
};

static const struct parse_case parse_cases[] = {
	/* systemd services and sessions: a unit, no container */
	{ "/system.slice/sshd.service", "sshd.service", "", "" },
	{ "/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", "" },
	{ "/system.slice/vfio-worker@2.service", "vfio-worker@2.service", "", "" },
	{ "/", "", "", "" },
	/* Docker, systemd driver and cgroupfs driver */
	{ "/system.slice/docker-" DOCKER_ID ".scope", "docker-" DOCKER_ID ".scope", DOCKER_ID, "" },
	{ "/docker/" DOCKER_ID, "", DOCKER_ID, "" },
	/* containerd (nerdctl, Kubernetes), CRI-O, podman */
	{ "/system.slice/cri-containerd-" DOCKER_ID ".scope", "cri-containerd-" DOCKER_ID ".scope",
	  DOCKER_ID, "" },
	{ "/machine.slice/libpod-" DOCKER_ID ".scope", "libpod-" DOCKER_ID ".scope", DOCKER_ID,
	  "" },
	{ "/machine.slice/libpod-conmon-" DOCKER_ID ".scope", "libpod-conmon-" DOCKER_ID ".scope",
	  "", "" },
	/* Kubernetes, systemd driver: the pod UID's '_' read as '-' */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID_
	  ".slice/cri-containerd-" DOCKER_ID ".scope",
	  "cri-containerd-" DOCKER_ID ".scope", DOCKER_ID, POD_UID },
	{ "/kubepods.slice/kubepods-pod" POD_UID_ ".slice/crio-" DOCKER_ID ".scope",
	  "crio-" DOCKER_ID ".scope", DOCKER_ID, POD_UID },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_UID_
	  ".slice/crio-conmon-" DOCKER_ID ".scope",
	  "crio-conmon-" DOCKER_ID ".scope", "", POD_UID },
	/* Kubernetes, cgroupfs driver */
	{ "/kubepods/burstable/pod" POD_UID "/" DOCKER_ID, "", DOCKER_ID, POD_UID },
	/* look-alikes: not a container id (not hex, too short), not a pod (wrong length) */
	{ "/system.slice/docker-notanid.scope", "docker-notanid.scope", "", "" },
	{ "/system.slice/docker-abc.scope", "docker-abc.scope", "", "" },
	{ "/kubepods.slice/kubepods-pod1234.slice", "", "", "" },
	{ "/home/" DOCKER_ID, "", "", "" },
};

static bool cgroup_path_patterns(void)
{
	struct da_cgroup_parts parts;
	bool ok = true;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		da_cgroup_parse(c->path, &parts);
		if (strcmp(parts.unit, c->unit) || strcmp(parts.container, c->container) ||
		    strcmp(parts.pod, c->pod)) {
			printf("# %s: unit '%s' container '%s' pod '%s'\n", c->path, parts.unit,
			       parts.container, parts.pod);
			ok = false;
		}
	}
	return ok;
}

static unsigned int resolves;

static int fake_resolver(void *ctx, uint64_t id, char *path, size_t len)
{
	(void)ctx;
	resolves++;
	if (id == 77)
		return -1; /* gone */
	snprintf(path, len, "/system.slice/docker-" DOCKER_ID ".scope");
	if (id == 99)
		snprintf(path, len, "/system.slice/evil\n\033[2Jname.service");
	return 0;
}

/* resolved once per id, remembered (also when gone), bounded, control bytes cleaned */
static bool cgroup_table(void)
{
	struct da_cgroups *cg = da_cgroups_new();
	struct da_cgroup_identity id;
	bool fresh;

	CHECK(cg);
	da_cgroups_get(cg, 5, &id); /* no resolver: the id only */
	CHECK(id.id == 5 && !id.path && !id.unit);
	CHECK(da_cgroups_add(cg, 6, "/system.slice/a.service") == 0);
	CHECK(da_cgroups_add(cg, 7, "relative") == -1);
	da_cgroups_get(cg, 6, &id);
	CHECK(id.path && !strcmp(id.path, "/system.slice/a.service") &&
	      !strcmp(id.unit, "a.service") && !id.container && !id.pod);

	da_cgroups_set_resolver(cg, fake_resolver, NULL);
	resolves = 0;
	CHECK(da_cgroups_path(cg, 42, &fresh) && fresh);
	CHECK(da_cgroups_path(cg, 42, &fresh) && !fresh);
	da_cgroups_get(cg, 42, &id);
	CHECK(resolves == 1 && id.container && !strcmp(id.container, DOCKER_ID));
	CHECK(!da_cgroups_path(cg, 77, &fresh) && !da_cgroups_path(cg, 77, &fresh));
	CHECK(resolves == 2);
	da_cgroups_get(cg, 99, &id);
	CHECK(id.path && !strchr(id.path, '\n') && !strchr(id.path, '\033'));
	CHECK(!da_cgroups_path(cg, 0, &fresh));
	/* many more ids than slots: every lookup still answers, the table stays its size */
	for (uint64_t i = 1000; i < 1000 + 4 * DA_CGROUPS_SLOTS; i++)
		CHECK(da_cgroups_path(cg, i, &fresh));
	da_cgroups_get(cg, 1000, &id);
	CHECK(id.container && !strcmp(id.container, DOCKER_ID));
	da_cgroups_free(cg);
	return true;
}

/* a revoke without a fence wait by a task of cgroup `cgid`, under `policy` */
static bool judge_in_cgroup(struct tb *tb, struct da_cgroups *cg, uint64_t cgid,
			    const char *policy)
{
	tb_init(tb);
	if (policy && !tb_policy(tb, policy))
		return false;
	tb->cgroups = cg;
	tb->cgroup = cgid;
	if (!tb_start(tb))
		return false;
	tb_vfio_export(tb, BUF1, RESV1);
	tb_gpu_attach(tb, T2, BUF1, ATT1);
	tb_vfio_revoke_begin(tb, BUF1, 1);
	tb_vfio_revoke_end(tb, 1);
	tb_finish(tb);
	return true;
}

static bool policy_matches_workload(void)
{
	struct da_cgroups *cg = da_cgroups_new();
	struct da_summary sum;
	struct tb tb;

	CHECK(cg);
	CHECK(da_cgroups_add(cg, 10, "/system.slice/docker-" DOCKER_ID ".scope") == 0);
	CHECK(da_cgroups_add(cg, 11, "/system.slice/vfio-worker.service") == 0);

	/* no policy: the finding, at its default severity */
	CHECK(judge_in_cgroup(&tb, cg, 11, NULL));
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0)));
	tb_free(&tb);
	/* allowed by unit */
	CHECK(judge_in_cgroup(&tb, cg, 11, "allow * unit vfio-worker.service\n"));
	CHECK(TB_EXPECT_NONE(&tb));
	tb_summary(&tb, &sum);
	CHECK(sum.suppressed == 1);
	tb_free(&tb);
	/* the correct twin: another unit is not allowed */
	CHECK(judge_in_cgroup(&tb, cg, 10, "allow * unit vfio-worker.service\n"));
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0)));
	tb_free(&tb);
	/* cgroup prefix, at a '/' only */
	CHECK(judge_in_cgroup(&tb, cg, 10, "allow missing-fence-wait cgroup /system.slice\n"));
	CHECK(TB_EXPECT_NONE(&tb));
	tb_free(&tb);
	CHECK(judge_in_cgroup(&tb, cg, 10, "allow missing-fence-wait cgroup /system.sl\n"));
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0)));
	tb_free(&tb);
	/* a severity by container; not for a task in no container */
	CHECK(judge_in_cgroup(&tb, cg, 10, "severity * container 3f2a9c1d* info\n"));
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, INFO, BUF1, 0)));
	tb_free(&tb);
	CHECK(judge_in_cgroup(&tb, cg, 11, "severity * container 3f2a9c1d* info\n"));
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0)));
	tb_free(&tb);
	/* a task whose cgroup cannot be named matches no workload pattern */
	CHECK(judge_in_cgroup(&tb, cg, 12, "allow * cgroup /*\n"));
	CHECK(TB_EXPECT(&tb, E(MISSING_FENCE_WAIT, CRITICAL, BUF1, 0)));
	tb_free(&tb);
	da_cgroups_free(cg);
	return true;
}

TAP_MAIN(TAP_TEST(siphash_reference_vectors), TAP_TEST(hashed_stable_within_key),
	 TAP_TEST(raw_and_none_modes),
	 TAP_TEST(cgroup_path_patterns), TAP_TEST(cgroup_table),
	 TAP_TEST(policy_matches_workload))
