#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench.sh BIN  (make bench)
#
# Throughput and memory of the engine: builds tests/bench/bench_engine.c
# against the core library (no Makefile rule needed) and runs it on one
# core.  BENCH_EVENTS sets the number of generated events (default 10
# million, about 1.7 GB of memory for the events themselves).
# Not a timed test: it prints numbers; it fails only if the build fails or
# the engine reports a finding on the (correct) generated workload.
# BIN (build/dmabuf-audit) is for the replay leg, added later.
set -eu
build=${BUILD:-build}
cc=${CC:-gcc}
events=${BENCH_EVENTS:-10000000}
out=$build/bench/bench_engine

mkdir -p "$build/bench"
$cc -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	-Iinclude -Isrc/core -o "$out" tests/bench/bench_engine.c \
	"$build/libdmabuf-audit-core.a" -ljansson -lz
"$out" "$events"
