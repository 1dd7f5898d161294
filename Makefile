# SPDX-License-Identifier: GPL-2.0
# dmabuf-audit — see README.md.
#
#   make deps     install the build and test dependencies (Debian packages)
#   make          install missing build dependencies, then build
#                 build/dmabuf-audit (static, BPF skeleton embedded); one line
#                 per step, V=1 prints the full command lines
#   make check    unit, replay, bad-input, command-line, service (journal,
#                 sd_notify, metrics; a private systemd-journald), metrics (promtool,
#                 node_exporter, Prometheus on 127.0.0.1), image (the OCI image, podman run,
#                 the DaemonSet), pictures (Perfetto trace,
#                 HTML in headless Chromium), nested KTAP read by the kernel's
#                 kunit.py, fuzz smoke, repository self-check and guest-plan
#                 (make vmtest-plan) tests: no kernel needed
#   make readme-picture   docs/demo-finding.png, the README's picture of the demo's finding
#   make test     everything CI runs: deps, build, check, hooks --btf on
#                 Debian kernels, package tests, guest tests on $(CI_KERNELS),
#                 and beside them the soak test
#   make vmtest KERNELS="6.1 6.12 7.3"   guest scenario suite
#                 (also 6.12-rt, 6.12-newest, sid, 7.3-arm64: docs/testing.md)
#   make vmtest-full   the guest suite on every kernel of $(FULL_KERNELS),
#                 then make vmtest-iommufd-selftest IOMMUFD_SELFTEST_ARGS=--full
#                 and make vmtest-storm
#   make vmtest-iommufd-selftest   the upstream iommufd selftest under run in
#                 a 7.3 kernel of our own (tests/vm/build-kernel.sh)
#   make vmtest-storm   the long revoke storm and one per VFIO bug variant in
#                 the 7.3 VFIO guest (tests/storm)
#   make soak     watch as a service for 10 minutes in a 6.12 guest
#                 (tests/vm/soak.sh)
#   make ARCH=arm64    the static arm64 binary, cross-built: build/arm64/
#   make arm64         the same; make all-arches builds both
#   make demo     boot a guest and watch dmabuf-audit catch a revoke bug
#   make bench    engine/replay throughput and memory
#   make bench-live KERNEL=6.12   cost per hooked call in a guest kernel:
#                 floor, empty fentry/fexit pair, watch (fentry, kprobe,
#                 --stacks); docs/performance.md
#   make bench-startup KERNEL=6.12   start-up of run -- CMD against bpftrace
#                 and libbpf-tools' opensnoop in the same guest boot
#   make fuzz     libFuzzer targets for the record, JSON Lines and policy
#                 readers and the BTF reader of hooks --btf (build/fuzz/);
#                 make fuzz-smoke runs each briefly
#   make deb      build/dmabuf-audit_VERSION_ARCH.deb (ARCH=arm64: cross-built,
#                 build/arm64/dmabuf-audit_VERSION_arm64.deb): the binary linked
#                 against the shared libraries (build/dyn/), unit, policy, man
#                 page, completion, docs (packaging/)
#   make install  PREFIX=/usr/local DESTDIR= : the same files for other systems
#   make image    build/dmabuf-audit_VERSION_ARCH.oci(.tar): an OCI image from
#                 scratch of the static binary (docs/operations.md); make image-tests
#   make package-tests   unit verify, make deb, dpkg -i/-r/--purge, lintian,
#                 man page, make install (root; run by make test)
#   make package-guest-test   the unit's sandbox under systemd in a guest

CC ?= gcc
CLANG ?= clang
# ARCH=arm64: cross-build everything for arm64 into build/arm64/ (make deb ARCH=arm64: the
# arm64 package). Without ARCH= the BPF programs are built for the machine the C compiler
# builds for (uname -m while there is no compiler yet): a native arm64 build gets arm64 ones.
ARCH ?=
ifeq ($(ARCH),)
CC_TARGET := $(shell $(CC) -dumpmachine 2>/dev/null || uname -m)
ifneq ($(filter aarch64%,$(CC_TARGET)),)
BPF_TARGET_ARCH := arm64
else ifneq ($(filter x86_64%,$(CC_TARGET)),)
BPF_TARGET_ARCH := x86
else
$(error $(CC) builds for $(CC_TARGET): only x86_64 and arm64 (aarch64) are built)
endif
else ifneq ($(filter arm64 aarch64,$(ARCH)),)
override ARCH := arm64
BUILD ?= build/arm64
ifeq ($(origin CC),default)
CC := aarch64-linux-gnu-gcc
endif
BPF_TARGET_ARCH := arm64
else ifneq ($(filter x86 x86_64 amd64,$(ARCH)),)
BPF_TARGET_ARCH := x86
else
$(error ARCH=$(ARCH): only x86_64 (amd64) and arm64 (aarch64) are built)
endif
BPFTOOL ?= bpftool
PYTHON ?= python3
BUILD ?= build
VERSION := 0.1.0

# Kernels the CI suite boots (make test); vmtest-full adds the rest.
CI_KERNELS ?= 6.1 6.12 7.3
KERNELS ?= $(CI_KERNELS)
# 6.12-rt: PREEMPT_RT; 6.12-newest and sid: the newest 6.12.y and sid's
# newest kernel, picked by version at fetch time; 7.3-arm64: the arm64 guest
# (tests/vm/fetch-kernel.sh names them)
FULL_KERNELS ?= 6.1 6.12 7.3 6.12-rt 6.12-newest sid 7.3-arm64

# Debian packages, by name (make deps).
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjansson-dev \
	gcc make pkg-config python3 qemu-system-x86 busybox-static cpio dwarves \
	debootstrap xz-utils zstd kmod libclang-rt-14-dev chromium \
	systemd python3-prometheus-client patch prometheus prometheus-node-exporter \
	podman runc python3-yaml
# the arm64 cross build and guest (make ARCH=arm64, vmtest of an -arm64 series); qemu-user
# runs the arm64 package's binary in the package tests
DEPS_ARM64 := gcc-aarch64-linux-gnu libc6-dev-arm64-cross libbpf-dev:arm64 libelf-dev:arm64 \
	zlib1g-dev:arm64 libjansson-dev:arm64 qemu-system-arm qemu-user
ifeq ($(ARCH),arm64)
DEPS += $(DEPS_ARM64)
endif

# Quiet by default: one line per step ("  CC  src/core/engine.c"); V=1 shows the
# full command lines.
V ?= 0
ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-6s %s\n' '$(1)' '$(2)';
endif

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -DDA_VERSION='"$(VERSION)"' \
	-Iinclude -I$(BUILD)
LDLIBS_CORE := -ljansson -lz
LDLIBS_LIVE := -lbpf -lelf -lz -ljansson
STATIC ?= -static

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_TARGET_ARCH) -Wall -Wno-unused-function \
	-Iinclude -Ibpf

CORE_SRCS := $(wildcard src/core/*.c)
# the service pieces (journal, sd_notify, the metrics file): no libbpf, used by watch and replay
SERVICE_SRCS := $(wildcard src/service/*.c)
LIVE_SRCS := $(wildcard src/live/*.c)
CMD_SRCS := $(wildcard src/cmd/*.c)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
CORE_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
SERVICE_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SERVICE_SRCS))
LIVE_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIVE_SRCS))
CMD_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CMD_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TEST_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))

BIN := $(BUILD)/dmabuf-audit
CORE_LIB := $(BUILD)/libdmabuf-audit-core.a

.PHONY: all binary deps check test vmtest vmtest-full vmtest-plan vmtest-storm demo bench format lint clean \
	test-hooks-btf test-summary unit replay-tests badinput-tests fuzz fuzz-smoke \
	repo-check cli-tests ktap-tests pictures-tests readme-picture bench-live bench-startup service-tests metrics-tests \
	churn-rss dynamic install deb package-tests package-guest-test arm64 all-arches image image-tests

# A plain `make` on a fresh machine installs what is missing first (or says
# what to install when it cannot); the build itself runs in a sub-make so
# that nothing is compiled before the headers are there.
all: deps
	@$(MAKE) --no-print-directory binary

# (a recipe of its own, so that an up-to-date tree prints nothing)
binary: $(BIN)
	@:

deps:
	@tools/install-deps.sh $(DEPS)

# header dependencies come from the compiler (-MMD -MP: a removed header is no error);
# an object without its .d (built before, or the .d lost) is rebuilt, not trusted
DEPFLAGS = -MMD -MP
UNTRACKED_OBJS := $(foreach o,$(wildcard $(BUILD)/obj/*/*.o $(BUILD)/obj/*.o $(BUILD)/bpf/*.o),\
	$(if $(wildcard $(o:.o=.d)),,$(o)))
$(UNTRACKED_OBJS): FORCE
FORCE:
.PHONY: FORCE

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj/core $(BUILD)/obj/service $(BUILD)/obj/live $(BUILD)/obj/cmd
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# live code embeds the BPF skeletons
$(LIVE_OBJS) $(CMD_OBJS): $(SKELS)

$(BUILD)/obj/core $(BUILD)/obj/service $(BUILD)/obj/live $(BUILD)/obj/cmd $(BUILD)/bpf $(BUILD)/tests:
	@mkdir -p $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$<)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# the library without libbpf: the core and the service pieces (the pipeline writes the metrics file)
$(CORE_LIB): $(CORE_OBJS) $(SERVICE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(CMD_OBJS) $(LIVE_OBJS) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(STATIC) -o $@ $(BUILD)/obj/main.o $(CMD_OBJS) $(LIVE_OBJS) $(CORE_LIB) $(LDLIBS_LIVE)

# Unit tests link the core library only: proof that the engine needs no libbpf.
# (compiled and linked in one step from several sources, where -MMD would keep
# the last source's headers only: they depend on every header they may include)
$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPERS) $(CORE_LIB) \
		$(wildcard tests/unit/*.h include/dmabuf_audit/*.h src/core/*.h) | $(BUILD)/tests
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Isrc/core -o $@ $< $(TEST_HELPERS) $(CORE_LIB) $(LDLIBS_CORE)

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*.d $(BUILD)/bpf/*.d)
# kept (make would delete them as intermediates of the skeletons)
.SECONDARY: $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))

unit: $(UNIT_BINS)
	@tools/run-suite.sh unit $(UNIT_BINS)

replay-tests: $(BIN)
	@tools/run-suite.sh replay tests/replay/run.py $(BIN)

badinput-tests: $(BIN)
	@tools/run-suite.sh badinput tests/badinput/run.py $(BIN)

# the metrics file and the shipped alert rules in the real engines: promtool (check metrics,
# test rules), node_exporter's textfile collector and a Prometheus firing the alert, all on
# 127.0.0.1 (tests/metrics/run.sh; docs/operations.md)
metrics-tests: $(BIN)
	@tools/run-suite.sh metrics tests/metrics/run.sh $(BIN)

# the command line as users meet it: options, refused values, exit status
cli-tests: $(BIN)
	@tools/run-suite.sh cli tests/cli/run.sh $(BIN)

# the service behaviour of watch through replay (the journal's native
# protocol on a socket of the test's own and in the real systemd-journald,
# repeats, metrics, stats) and sd_notify; Debian's python3, which has
# python3-prometheus-client's strict OpenMetrics parser
SERVICE_PYTHON ?= /usr/bin/python3
NOTIFY_TEST := $(BUILD)/tests/service/test_notify

$(NOTIFY_TEST): tests/service/test_notify.c src/service/systemd.h $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Isrc/service -o $@ $< $(CORE_LIB) $(LDLIBS_CORE)

service-tests: $(BIN) $(NOTIFY_TEST)
	@tools/run-suite.sh service $(SERVICE_PYTHON) tests/service/run.py $(BIN) $(NOTIFY_TEST)

# nested KTAP (run --format ktap -- CMD) read by the kernel's own kunit.py from
# linux-source-7.3 (tests/vm/kunit-parser.sh); nest-replay makes run's calls with a replay
# as the audit, as run cannot attach on the build machine (tests/ktap/run.sh)
NEST_REPLAY := $(BUILD)/tests/ktap/nest-replay

$(NEST_REPLAY): tests/ktap/nest_replay.c include/dmabuf_audit/ktap_nest.h $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(CORE_LIB) $(LDLIBS_CORE)

ktap-tests: $(BIN) $(NEST_REPLAY)
	@tools/run-suite.sh ktap tests/ktap/run.sh $(BIN) $(NEST_REPLAY)

# --format perfetto / --timeline and --format html: the trace's structure on
# every replay trace and guest record, the HTML as headless Chromium renders it
pictures-tests: $(BIN)
	@tools/run-suite.sh pictures $(PYTHON) tests/pictures/run.py $(BIN)

# The README's picture: the demo's bug recorded in a real 7.3 guest, as HTML
readme-picture: $(BIN)
	@tests/pictures/readme-picture.sh $(BIN) tests/replay/fixtures/7.3-missing-fence-wait.rec \
		docs/demo-finding.png

# libFuzzer targets: the core readers built with clang's fuzzer and
# sanitizers; FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION skips record checksums
# so mutations reach the decoding behind them.
FUZZ := $(BUILD)/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -std=gnu11 -D_GNU_SOURCE \
	-DDA_VERSION='"$(VERSION)"' -Iinclude -Itests/fuzz
FUZZ_OBJS := $(patsubst src/core/%.c,$(FUZZ)/obj/%.o,$(CORE_SRCS)) \
	$(patsubst src/%.c,$(FUZZ)/obj/%.o,$(SERVICE_SRCS))
# seconds each target runs in make fuzz-smoke (and so in make check)
FUZZ_SMOKE_SECONDS ?= 15

$(FUZZ)/obj:
	@mkdir -p $@

$(FUZZ)/obj/%.o: src/core/%.c | $(FUZZ)/obj
	$(call msg,CC-FUZZ,$<)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h $(FUZZ_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJS) $(LDLIBS_CORE)

# the BTF reader of `hooks --btf` (src/live), linked with the system's libbpf
FUZZ_LIVE_OBJS := $(FUZZ)/obj/live/hook_table.o $(FUZZ)/obj/live/btf_check.o

$(FUZZ)/obj/live $(FUZZ)/obj/service:
	@mkdir -p $@

$(FUZZ)/obj/service/%.o: src/service/%.c | $(FUZZ)/obj/service
	$(call msg,CC-FUZZ,$<)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/obj/live/%.o: src/live/%.c | $(FUZZ)/obj/live
	$(call msg,CC-FUZZ,$<)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/fuzz_btf: tests/fuzz/fuzz_btf.c $(FUZZ_OBJS) $(FUZZ_LIVE_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Isrc/live -o $@ $< $(FUZZ_LIVE_OBJS) $(FUZZ_OBJS) $(LDLIBS_LIVE)

fuzz: $(FUZZ_TARGETS)

-include $(wildcard $(FUZZ)/obj/*.d $(FUZZ)/obj/live/*.d $(FUZZ)/obj/service/*.d)

# kept between builds (make would delete them as intermediates)
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_LIVE_OBJS)

fuzz-smoke: fuzz $(BIN)
	@tools/run-suite.sh fuzz tests/fuzz/run.sh $(FUZZ) $(FUZZ_SMOKE_SECONDS) $(BIN)

# Docs and comments point only at files in the repository; no C function
# outside tests/ over 100 lines; src/core, src/service and src/live never
# include or call into src/cmd; no include cycle.
# the call-cycle check reads the objects of src/ (nm), so it builds them first
repo-check: $(BIN)
	@tools/run-suite.sh repo $(PYTHON) tests/repo/check.py . $(BUILD)/obj

# make check: no kernel needed
check: unit replay-tests badinput-tests cli-tests service-tests metrics-tests image-tests \
	pictures-tests repo-check fuzz-smoke churn-rss ktap-tests iommufd-selftest-check vmtest-plan \
	storm-judge-tests

# the iommufd selftest guest's judge (tests/iommufd-selftest/check.py) on made-up guest
# results: the expected one passes, each broken one fails (no kernel)
.PHONY: iommufd-selftest-check
iommufd-selftest-check: $(BIN)
	@tools/run-suite.sh iommufd-selftest-check tests/iommufd-selftest/selfcheck.sh $(BIN)

# every guest make vmtest / vmtest-full would boot gets a binary the same make run builds for
# its architecture (tests/vm/plan_check.py: make -n and tests/vm/vmtest.sh --plan, no guest)
vmtest-plan:
	@tools/run-suite.sh vmtest-plan $(PYTHON) tests/vm/plan_check.py

# the revoke storm's judge on made-up storms (tests/storm/test_storm_judge.py)
.PHONY: storm-judge-tests
storm-judge-tests:
	@tools/run-suite.sh storm-judge $(PYTHON) tests/storm/test_storm_judge.py

# the soak's memory question without a kernel: VmRSS of replay under churn (tests/soak/churn_rss.py)
churn-rss: $(BIN)
	@tools/run-suite.sh churn-rss $(PYTHON) tests/soak/churn_rss.py $(BIN)

test-hooks-btf: $(BIN)
	@tools/run-suite.sh hooks-btf tests/hooks/run.sh $(BIN)

# the arm64 binary (cross-built) that an -arm64 guest series runs
ARM64_BIN := build/arm64/dmabuf-audit
arm64:
	@$(MAKE) --no-print-directory ARCH=arm64 all

all-arches: all arm64

vmtest: $(BIN) $(if $(filter %-arm64,$(KERNELS)),arm64)
	@DA_BIN_ARM64=$(ARM64_BIN) tools/run-suite.sh vmtest tests/vm/vmtest.sh $(BIN) $(KERNELS)

vmtest-full: $(BIN) $(if $(filter %-arm64,$(FULL_KERNELS)),arm64)
	@DA_BIN_ARM64=$(ARM64_BIN) VMTEST_ARM64_SCENARIOS=all \
		tools/run-suite.sh vmtest-full tests/vm/vmtest.sh $(BIN) \
		$(FULL_KERNELS)
	@$(MAKE) --no-print-directory vmtest-iommufd-selftest IOMMUFD_SELFTEST_ARGS=--full
	@$(MAKE) --no-print-directory vmtest-storm

# the revoke storm (tests/storm): the long one on the fixed drivers and one per bug variant
# in the 7.3 VFIO guest, whose time limit grows to match (also the end of vmtest-full; make
# test runs the short one, 75 s, in its 7.3 VFIO guest)
STORM_KERNEL ?= 7.3
vmtest-storm: $(BIN) $(if $(filter %-arm64,$(STORM_KERNEL)),arm64)
	@DA_BIN_ARM64=$(ARM64_BIN) VMTEST_ONLY=vfio \
		VMTEST_STORM_SECONDS=$${VMTEST_STORM_SECONDS:-480} \
		VMTEST_STORM_VARIANT_SECONDS=$${VMTEST_STORM_VARIANT_SECONDS:-90} \
		VMTEST_TIMEOUT=$${VMTEST_TIMEOUT:-2400} \
		tools/run-suite.sh vmtest-storm tests/vm/vmtest.sh $(BIN) $(STORM_KERNEL)

# the upstream iommufd selftest under run --format ktap, in a guest booting a
# 7.3 kernel of our own with CONFIG_IOMMUFD_TEST (tests/vm/build-kernel.sh: built
# once, about an hour on two cores, so not in make test); docs/testing.md
.PHONY: vmtest-iommufd-selftest
vmtest-iommufd-selftest: $(BIN)
	@tools/run-suite.sh iommufd-selftest tests/vm/vm-iommufd-selftest.sh $(BIN) \
		$(IOMMUFD_SELFTEST_ARGS)

# the soak test (tests/vm/soak.sh): watch as a service for SOAK_SECONDS (600) in
# a 6.12 guest under churn, injected bugs, SIGHUP reloads and reopens
.PHONY: soak
soak: $(BIN)
	@tools/run-suite.sh soak tests/vm/soak.sh $(BIN)

# What CI runs (.ci/run): every suite runs even when one fails, then one
# summary line "N passed, N failed" and the exit status.
# A step that fails without a suite saying so (a test that does not
# compile) is counted as one failed test of its own.
test:
	@rm -rf $(BUILD)/test-results
	@$(MAKE) --no-print-directory all
	-@$(MAKE) --no-print-directory -k check || $(call step_failed,check)
	-@$(MAKE) --no-print-directory test-hooks-btf || $(call step_failed,test-hooks-btf)
	-@$(MAKE) --no-print-directory package-tests || $(call step_failed,package-tests)
	-@tests/vm/soak.sh $(BIN) --build-only || $(call step_failed,soak-build)
	-@{ tools/run-suite.sh soak tests/vm/soak.sh $(BIN) --boot-only >$(BUILD)/soak.log 2>&1 & \
	   soak=$$!; \
	   $(MAKE) --no-print-directory package-guest-test || $(call step_failed,package-guest-test); \
	   VMTEST_STORM_SECONDS=$${VMTEST_STORM_SECONDS:-75} \
	   $(MAKE) --no-print-directory vmtest KERNELS="$(CI_KERNELS)" || $(call step_failed,vmtest); \
	   wait $$soak || $(call step_failed,soak); cat $(BUILD)/soak.log; }
	@tools/test-summary.sh $(BUILD)/test-results

step_failed = { mkdir -p $(BUILD)/test-results; echo "not ok - make $(1) failed" | \
	tee -a $(BUILD)/test-results/make.tap; }

test-summary:
	@tools/test-summary.sh $(BUILD)/test-results

# The first command on a fresh machine: dependencies, build, then the guest.
demo: all
	@tools/demo.sh $(BIN)

bench: $(BIN) $(CORE_LIB)
	@tools/bench.sh $(BIN)

# the live benchmark (tools/bench-live.sh): a guest boot, one kernel
KERNEL ?= 6.12
BENCH_LIVE := $(BUILD)/bench-live

$(BENCH_LIVE):
	@mkdir -p $@

$(BENCH_LIVE)/empty_pair.bpf.o: tests/bench/empty_pair.bpf.c | $(BENCH_LIVE)
	$(call msg,BPF,$<)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_LIVE)/empty_pair.skel.h: $(BENCH_LIVE)/empty_pair.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BENCH_LIVE)/empty-pair: tests/bench/empty-pair.c $(BENCH_LIVE)/empty_pair.skel.h
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_LIVE) $(STATIC) -o $@ $< $(LDLIBS_LIVE)

# the start-up setting's stopwatch (tests/bench/startup-clock.c), packed with the bench
$(BENCH_LIVE)/startup-clock: tests/bench/startup-clock.c | $(BENCH_LIVE)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(STATIC) -o $@ $<

bench-live: $(BIN) $(BENCH_LIVE)/empty-pair $(BENCH_LIVE)/startup-clock
	@tools/bench-live.sh $(BIN) $(BENCH_LIVE)/empty-pair $(KERNEL)

# start-up only (docs/performance.md "Start-up"): against Debian's bpftrace and
# libbpf-tools' opensnoop, in the same boot
BENCH_STARTUP_DEPS := bpftrace libbpf-tools
bench-startup: $(BIN) $(BENCH_LIVE)/empty-pair $(BENCH_LIVE)/startup-clock
	@tools/install-deps.sh $(BENCH_STARTUP_DEPS)
	@BENCH_SETTINGS="$${BENCH_SETTINGS:-startup}" BENCH_BPFTRACE=$${BENCH_BPFTRACE:-/usr/bin/bpftrace} \
		BENCH_LIBBPF_TOOL=$${BENCH_LIBBPF_TOOL:-/usr/sbin/opensnoop} \
		tools/bench-live.sh $(BIN) $(BENCH_LIVE)/empty-pair $(KERNEL)

# Packaging (packaging/: the shipped files, the scripts that build the .deb and the
# image). The package and `make install` take the binary linked against the shared
# libbpf, libelf, zlib and jansson (their security fixes reach it), built in
# $(BUILD)/dyn; the static $(BIN) stays the default output, for initramfs and
# containers (make install INSTALL_BIN=$(BIN)).
PACKAGE_DEPS := dpkg-dev debhelper lintian systemd man-db groff-base
DYN_BUILD := $(BUILD)/dyn
DYN_BIN := $(DYN_BUILD)/dmabuf-audit
# compiler and linker flags of the dynamic build (debian/rules passes dpkg-buildflags')
DYN_CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/dmabuf-audit
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# journalctl --update-catalog reads it (systemd's dpkg trigger runs that for the package)
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share/dmabuf-audit
INSTALL_BIN ?= $(DYN_BIN)

# a sub-make with its own build folder: the same rules, no -static
dynamic: $(DYN_BIN)

$(DYN_BIN): FORCE
	@CFLAGS="$(DYN_CFLAGS)" $(MAKE) --no-print-directory BUILD=$(DYN_BUILD) STATIC= $@

FORCE:

# The unit's paths follow SBINDIR and SYSCONFDIR. An existing policy is kept:
# it is the administrator's file.
install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(SBINDIR)/dmabuf-audit
	install -D -m 0644 docs/dmabuf-audit.8 $(DESTDIR)$(MANDIR)/man8/dmabuf-audit.8
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's#/usr/sbin/dmabuf-audit#$(SBINDIR)/dmabuf-audit#' \
		-e 's#/etc/dmabuf-audit/#$(SYSCONFDIR)/dmabuf-audit/#' \
		packaging/dmabuf-audit.service >$(DESTDIR)$(SYSTEMDUNITDIR)/dmabuf-audit.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/dmabuf-audit.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/dmabuf-audit/policy ]; then \
		echo "install: kept $(DESTDIR)$(SYSCONFDIR)/dmabuf-audit/policy"; \
	else \
		echo "install -D -m 0644 packaging/policy $(DESTDIR)$(SYSCONFDIR)/dmabuf-audit/policy"; \
		install -D -m 0644 packaging/policy $(DESTDIR)$(SYSCONFDIR)/dmabuf-audit/policy; \
	fi
	install -D -m 0644 packaging/dmabuf-audit.bash $(DESTDIR)$(BASHCOMPDIR)/dmabuf-audit
	install -D -m 0644 packaging/dmabuf-audit.rules.yml \
		$(DESTDIR)$(DATADIR)/prometheus/dmabuf-audit.rules.yml
	install -D -m 0644 packaging/dmabuf-audit.catalog \
		$(DESTDIR)$(CATALOGDIR)/dmabuf-audit.catalog
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 $(wildcard docs/*.md) docs/demo-finding.png $(DESTDIR)$(DOCDIR)/docs/

# ARCH=arm64 on another machine: the arm64 package, cross-built (dpkg-buildpackage -a arm64)
deb: deps
	@tools/install-deps.sh $(PACKAGE_DEPS)
	@packaging/build-deb.sh $(BUILD) $(ARCH)

# The OCI image, from scratch: the static $(BIN), the default policy and the alert rules,
# written by hand per the OCI image spec (no daemon, no base image, no download);
# docs/operations.md. ARCH=arm64: the arm64 image of build/arm64/dmabuf-audit.
IMAGE_ARCH := $(if $(filter arm64,$(BPF_TARGET_ARCH)),arm64,amd64)
IMAGE := $(BUILD)/dmabuf-audit_$(VERSION)_$(IMAGE_ARCH).oci
image: $(BIN)
	@$(PYTHON) packaging/build-image.py $(BIN) $(VERSION) $(IMAGE_ARCH) $(IMAGE)

# the image's contents, and podman run of it where podman can run (tests/image/run.sh)
image-tests: image
	@tools/run-suite.sh image tests/image/run.sh $(IMAGE) $(BIN)

# needs root (dpkg -i); leaves the host as it found it
package-tests: $(BIN)
	@tools/install-deps.sh $(PACKAGE_DEPS)
	@tools/run-suite.sh package tests/package/run.sh $(BIN)

# the package (make deb, installed with dpkg -i) and its unit under a real
# systemd (PID 1) in a 6.12 guest: BPF loads and attaches under the sandbox, a
# finding reaches journald with its MESSAGE_ID and the workload's unit, stop and
# restart semantics. About 4 minutes; the Debian 12 root with systemd is
# debootstrapped once into the cache.
PACKAGE_GUEST_KERNEL ?= 6.12
package-guest-test: $(BIN)
	@tools/install-deps.sh $(PACKAGE_DEPS)
	@tools/run-suite.sh package-guest tests/package/systemd-guest.sh $(BIN) $(PACKAGE_GUEST_KERNEL)

format:
	clang-format -i $(wildcard src/*.c src/*/*.c include/*/*.h bpf/*.c bpf/*.h tests/unit/*.c tests/unit/*.h tests/kmod/*.c tests/vm/*.c)

lint:
	cppcheck --quiet --std=c11 -Iinclude src tests/unit

clean:
	rm -rf $(BUILD)
