#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A lane run in the background by make check, and waited for where its
# results are needed.
#   lane-wait.sh --start BASE CMD...   run CMD in the background, output in
#                                      BASE.log; BASE.pending exists while it runs
#   lane-wait.sh BASE                  wait until BASE.pending is gone (at most
#                                      LANE_WAIT_MAX seconds, default 5400),
#                                      then print BASE.log once
# Without BASE.pending (nothing started, or already waited for) the wait
# returns at once.
set -uo pipefail
if [ "${1:-}" = --start ]; then
	base=$2
	shift 2
	rm -f "$base.log" "$base.shown"
	echo $$ >"$base.pending"
	(
		"$@" >"$base.log" 2>&1
		echo "# $(basename "$base") exit $? at $(date +%T)" >>"$base.log"
		rm -f "$base.pending"
	) </dev/null >/dev/null 2>&1 &
	echo "$(basename "$base"): started in the background ($*); log $base.log"
	exit 0
fi
base=$1
max=${LANE_WAIT_MAX:-5400}
start=$(date +%s)
while [ -e "$base.pending" ]; do
	if [ $(( $(date +%s) - start )) -ge "$max" ]; then
		echo "$(basename "$base"): still running after ${max}s; going on without it" >&2
		exit 1
	fi
	sleep 5
done
if [ -f "$base.log" ] && [ ! -e "$base.shown" ]; then
	waited=$(( $(date +%s) - start ))
	echo "$(basename "$base"): done (waited ${waited}s here):"
	cat "$base.log"
	touch "$base.shown"
fi
exit 0
