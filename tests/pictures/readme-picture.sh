#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# readme-picture.sh BIN RECORD PNG: the README's picture of a finding
# (`make readme-picture`): RECORD replayed as --format html, rendered by
# headless Chromium (Debian's chromium) into PNG.
set -eu
bin=$1 record=$2 png=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
"$bin" replay "$record" --format html -o "$work/report.html" || status=$?
# 1: the record has findings, which is what the picture shows
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
	echo "readme-picture: replay of $record failed (exit $status)" >&2
	exit 1
fi
chromium --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$work/profile" --hide-scrollbars \
	--screenshot="$work/shot.png" --window-size=1200,700 \
	"file://$work/report.html" 2>/dev/null
mv "$work/shot.png" "$png"
echo "wrote $png ($(wc -c <"$png") bytes)"
