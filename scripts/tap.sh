# SPDX-License-Identifier: GPL-2.0
# Sourced by the lane scripts that print TAP (scripts/dkms-install.sh,
# scripts/dkms-in-root.sh): ok STATUS DESCRIPTION [LOG] prints the next
# "ok N" or "not ok N" line, with LOG's last TAP_LOG_LINES (default 25)
# lines as comments on failure; n counts the tests, rc becomes 1 on a
# failure.
n=0 rc=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || tail -"${TAP_LOG_LINES:-25}" "$3" | sed 's/^/# /'
		rc=1
	fi
}
