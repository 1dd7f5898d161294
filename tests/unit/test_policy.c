// SPDX-License-Identifier: GPL-2.0
/*
 * The policy: built-in defaults, every directive of docs/policy.md, and
 * malformed files (error "FILE:LINE: problem", policy left unchanged).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmabuf_audit/policy.h"
#include "tap.h"

static char path[64];

/* write text to a fresh temporary file, return its name */
static const char *policy_file(const char *text, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test-policy-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

static int load(struct da_policy *pol, const char *text, char *err, size_t errlen)
{
	const char *p = policy_file(text, strlen(text));
	int ret;

	if (!p)
		return -2;
	ret = da_policy_load(pol, p, err, errlen);
	unlink(p);
	return ret;
}

static bool defaults(void)
{
	struct da_policy pol;
	const struct da_scope_spec *s;

	da_policy_init_default(&pol);
	for (int i = 0; i < DA_RULE__COUNT; i++) {
		CHECK(pol.rule_enabled[i]);
		CHECK(pol.rule_severity[i] == da_rules[i].severity);
	}
	CHECK(pol.rule_severity[DA_RULE_MISSING_FENCE_WAIT] == DA_SEV_CRITICAL);
	CHECK(pol.rule_severity[DA_RULE_PINNED_IMPORTER_LEFT_REVOKED] == DA_SEV_INFO);
	CHECK(pol.stub_callbacks.n == 1);
	CHECK(da_namelist_has(&pol.stub_callbacks, "ib_umem_dmabuf_unsupported_move_notify"));
	CHECK(pol.pinning_importers.n == 2);
	CHECK(da_namelist_has(&pol.pinning_importers, "iopt_dmabuf_attach_revoke_ops"));
	CHECK(da_namelist_has(&pol.pinning_importers, "ib_umem_dmabuf_attach_pinned_ops"));
	CHECK(pol.revoking_exporters.n == 3);
	CHECK(da_namelist_has(&pol.revoking_exporters, "vfio_pci_core"));
	CHECK(da_namelist_has(&pol.revoking_exporters, "ib_uverbs"));
	CHECK(da_namelist_has(&pol.revoking_exporters, "iommufd"));
	CHECK(!da_namelist_has(&pol.revoking_exporters, "amdgpu"));
	CHECK(!da_namelist_has(&pol.revoking_exporters, NULL));
	CHECK(pol.n_scopes == 3);
	s = da_policy_scope(&pol, "vfio_pci_dma_buf_move");
	CHECK(s && s->revoked_arg == 1);
	s = da_policy_scope(&pol, "vfio_pci_dma_buf_cleanup");
	CHECK(s && s->revoked_arg == -1);
	/* the iommufd selftest's mock exporter: (ucmd, fd, revoked) */
	s = da_policy_scope(&pol, "iommufd_test_dmabuf_revoke");
	CHECK(s && s->revoked_arg == 2);
	CHECK(!da_policy_scope(&pol, "vfio_pci_dma_buf_attach"));
	CHECK(pol.stall_threshold_ns == 1000000000ull);
	CHECK(pol.n_allow == 0);
	return true;
}

static bool every_directive(void)
{
	static const char text[] =
		"# dmabuf-audit policy for the test module\n"
		"\n"
		"rule missing-fence-wait off\n"
		"rule weak-fence-wait severity high   # v3 style waits are bugs here\n"
		"rule pin-leak on severity critical\n"
		"\trule   revoke-stalled   severity info\r\n"
		"stub-callback dat_stub_invalidate\n"
		"stub-callback dat_stub_invalidate\n" /* duplicates are kept once */
		"pinning-importer dat_pinned_ops\n"
		"revoking-exporter dmabuf_audit_test\n"
		"revoke-scope dat_exporter_revoke revoked-arg 1\n"
		"revoke-scope dat_exporter_cleanup\n"
		"revoke-scope vfio_pci_dma_buf_cleanup revoked-arg 2\n" /* updates */
		"stall-threshold-ms 250\n"
		"allow * comm kworker/*\n"
		"allow unbalanced-unpin device 0000:03:00.0\n"
		"allow resv-not-held exporter i915\n"
		"allow revoke-unhandled-importer importer some_ops\n"
		"allow pin-leak callback some_cb\n";
	struct da_policy pol;
	const struct da_scope_spec *s;
	char err[256] = "";

	da_policy_init_default(&pol);
	CHECK(load(&pol, text, err, sizeof(err)) == 0);
	CHECK(err[0] == 0);
	CHECK(!pol.rule_enabled[DA_RULE_MISSING_FENCE_WAIT]);
	CHECK(pol.rule_enabled[DA_RULE_WEAK_FENCE_WAIT]);
	CHECK(pol.rule_severity[DA_RULE_WEAK_FENCE_WAIT] == DA_SEV_HIGH);
	CHECK(pol.rule_enabled[DA_RULE_PIN_LEAK]);
	CHECK(pol.rule_severity[DA_RULE_PIN_LEAK] == DA_SEV_CRITICAL);
	CHECK(pol.rule_severity[DA_RULE_REVOKE_STALLED] == DA_SEV_INFO);
	CHECK(pol.rule_severity[DA_RULE_MAPPING_LEAK] == DA_SEV_HIGH); /* untouched */
	CHECK(pol.stub_callbacks.n == 2);
	CHECK(da_namelist_has(&pol.stub_callbacks, "dat_stub_invalidate"));
	CHECK(da_namelist_has(&pol.pinning_importers, "dat_pinned_ops"));
	CHECK(da_namelist_has(&pol.revoking_exporters, "dmabuf_audit_test"));
	CHECK(pol.n_scopes == 5);
	s = da_policy_scope(&pol, "dat_exporter_revoke");
	CHECK(s && s->revoked_arg == 1);
	s = da_policy_scope(&pol, "dat_exporter_cleanup");
	CHECK(s && s->revoked_arg == -1);
	s = da_policy_scope(&pol, "vfio_pci_dma_buf_cleanup");
	CHECK(s && s->revoked_arg == 2);
	CHECK(pol.stall_threshold_ns == 250000000ull);
	CHECK(pol.n_allow == 5);
	CHECK(pol.allow[0].rule == -1 && pol.allow[0].field == DA_ALLOW_COMM);
	CHECK(!strcmp(pol.allow[0].value, "kworker/*"));
	CHECK(pol.allow[1].rule == DA_RULE_UNBALANCED_UNPIN);
	CHECK(pol.allow[1].field == DA_ALLOW_DEVICE);
	CHECK(pol.allow[2].field == DA_ALLOW_EXPORTER);
	CHECK(pol.allow[3].field == DA_ALLOW_IMPORTER);
	CHECK(pol.allow[4].field == DA_ALLOW_CALLBACK);
	return true;
}

static bool wildcard_and_clear(void)
{
	static const char text[] = "rule * off\n"
				   "rule access-after-revoke on\n"
				   "rule * severity warning\n"
				   "clear stub-callbacks\n"
				   "clear pinning-importers\n"
				   "clear revoking-exporters\n"
				   "revoking-exporter my_exporter\n"
				   "clear revoke-scopes\n"
				   "revoke-scope my_revoke revoked-arg 3\n"
				   "allow * comm a\n"
				   "clear allow\n"
				   "stall-threshold-ms 0\n";
	struct da_policy pol;
	char err[256];

	da_policy_init_default(&pol);
	CHECK(load(&pol, text, err, sizeof(err)) == 0);
	for (int i = 0; i < DA_RULE__COUNT; i++) {
		CHECK(pol.rule_enabled[i] == (i == DA_RULE_ACCESS_AFTER_REVOKE));
		CHECK(pol.rule_severity[i] == DA_SEV_WARNING);
	}
	CHECK(pol.stub_callbacks.n == 0 && pol.pinning_importers.n == 0);
	CHECK(pol.revoking_exporters.n == 1);
	CHECK(pol.n_scopes == 1 && pol.scopes[0].revoked_arg == 3);
	CHECK(!strcmp(pol.scopes[0].function, "my_revoke"));
	CHECK(pol.n_allow == 0);
	CHECK(pol.stall_threshold_ns == 0);
	return true;
}

/* Each bad file: -1, "FILE:LINE: ..." naming the right line, policy unchanged. */
static bool bad_files(void)
{
	static const struct {
		const char *text;
		unsigned int line;
		const char *needle;
	} cases[] = {
		{ "frobnicate yes\n", 1, "unknown directive 'frobnicate'" },
		{ "# ok\nrule no-such-rule off\n", 2, "unknown rule 'no-such-rule'" },
		{ "rule pin-leak severity fatal\n", 1, "unknown severity 'fatal'" },
		{ "rule pin-leak\n", 1, "missing argument" },
		{ "rule pin-leak severity\n", 1, "missing severity" },
		{ "rule pin-leak on off\n", 1, "on/off given twice" },
		{ "rule pin-leak maybe\n", 1, "unexpected 'maybe'" },
		{ "stub-callback\n", 1, "missing argument" },
		{ "stub-callback a b\n", 1, "unexpected extra argument" },
		{ "pinning-importer\n", 1, "missing argument" },
		{ "revoking-exporter\n", 1, "missing argument" },
		{ "revoke-scope\n", 1, "missing argument" },
		{ "revoke-scope f revoked-arg\n", 1, "missing argument" },
		{ "revoke-scope f revoked-arg 0\n", 1, "revoked-arg must be" },
		{ "revoke-scope f revoked-arg 6\n", 1, "revoked-arg must be" },
		{ "revoke-scope f revoked-arg one\n", 1, "revoked-arg must be" },
		{ "revoke-scope f revoked 1\n", 1, "unexpected 'revoked'" },
		{ "stall-threshold-ms\n", 1, "missing argument" },
		{ "stall-threshold-ms -5\n", 1, "whole number of milliseconds" },
		{ "stall-threshold-ms 1.5\n", 1, "whole number of milliseconds" },
		{ "stall-threshold-ms 99999999999999999999\n", 1, "whole number" },
		{ "stall-threshold-ms 18446744073710\n", 1, "whole number" }, /* * 1e6 > 2^64 */
		{ "allow pin-leak host x\n", 1, "unknown allow field 'host'" },
		{ "severity pin-leak unit x.service fatal\n", 1, "unknown severity 'fatal'" },
		{ "severity * unit x.service\n", 1, "missing argument" },
		{ "severity * node x info\n", 1, "unknown severity field 'node'" },
		{ "clear severity\n", 1, "cannot clear 'severity'" },
		{ "allow pin-leak comm\n", 1, "missing argument" },
		{ "allow nope comm x\n", 1, "unknown rule 'nope'" },
		{ "clear everything\n", 1, "cannot clear 'everything'" },
		{ "rule a b c d e f g h i\n", 1, "too many words" },
		{ "stub-callback "
		  "a_name_that_is_far_too_long_for_a_kernel_symbol_in_this_policy_file_xx\n",
		  1, "too long" },
		/* good lines before a bad one are not applied either */
		{ "rule pin-leak off\nstall-threshold-ms 5\n\nrule pin-leak sev high\n", 4,
		  "unexpected 'sev'" },
	};
	struct da_policy pol, before;
	char err[256], prefix[80];

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p;
		int ret;

		da_policy_init_default(&pol);
		before = pol;
		p = policy_file(cases[i].text, strlen(cases[i].text));
		CHECK(p);
		err[0] = 0;
		ret = da_policy_load(&pol, p, err, sizeof(err));
		snprintf(prefix, sizeof(prefix), "%s:%u: ", p, cases[i].line);
		unlink(p);
		if (ret != -1 || strncmp(err, prefix, strlen(prefix)) ||
		    !strstr(err, cases[i].needle) || memcmp(&pol, &before, sizeof(pol))) {
			printf("# case %u: ret %d err '%s' (want '%s...%s')\n", i, ret, err, prefix,
			       cases[i].needle);
			return false;
		}
	}
	return true;
}

static bool limits(void)
{
	struct da_policy pol, before;
	char *text = malloc(65536), err[256];
	size_t used = 0;

	CHECK(text);
	/* 64 names fit (1 default + 63 new), the 65th does not */
	for (int i = 0; i < DA_POLICY_MAX_NAMES; i++)
		used += sprintf(text + used, "stub-callback cb_%d\n", i);
	da_policy_init_default(&pol);
	before = pol;
	CHECK(load(&pol, text, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":64: too many stub-callback names (at most 64, the built-in defaults"
		      " included; 'clear stub-callbacks' first makes room)"));
	CHECK(!memcmp(&pol, &before, sizeof(pol)));

	used = 0;
	for (int i = 0; i < DA_MAX_SCOPES - 2; i++)
		used += sprintf(text + used, "revoke-scope scope_%d\n", i);
	CHECK(load(&pol, text, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":14: too many revoke scopes (at most 16, the built-in defaults included;"
		      " 'clear revoke-scopes' first makes room)"));

	used = 0;
	for (int i = 0; i <= DA_POLICY_MAX_ALLOW; i++)
		used += sprintf(text + used, "allow * comm task_%d\n", i);
	CHECK(load(&pol, text, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":65: too many allow entries (at most 64)"));
	CHECK(!memcmp(&pol, &before, sizeof(pol)));
	free(text);
	return true;
}

static bool unreadable_and_binary(void)
{
	static const char nul_text[] = "rule pin-leak off\nrule\0 x\n";
	struct da_policy pol, before;
	const char *p;
	char err[256];

	da_policy_init_default(&pol);
	before = pol;
	CHECK(da_policy_load(&pol, "/nonexistent/policy", err, sizeof(err)) == -1);
	CHECK(!strcmp(err,
		      "/nonexistent/policy: cannot open policy file: No such file or directory"));
	p = policy_file(nul_text, sizeof(nul_text) - 1);
	CHECK(p);
	CHECK(da_policy_load(&pol, p, err, sizeof(err)) == -1);
	unlink(p);
	CHECK(strstr(err, ":2: NUL byte"));
	CHECK(!memcmp(&pol, &before, sizeof(pol)));
	/* an empty file changes nothing */
	CHECK(load(&pol, "", err, sizeof(err)) == 0);
	CHECK(!memcmp(&pol, &before, sizeof(pol)));
	return true;
}

TAP_MAIN(TAP_TEST(defaults), TAP_TEST(every_directive), TAP_TEST(wildcard_and_clear),
	 TAP_TEST(bad_files), TAP_TEST(limits), TAP_TEST(unreadable_and_binary))
