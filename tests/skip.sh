# shellcheck shell=bash
# skip REASON...: a test cannot run its subject (a tool or a privilege
# is missing). Outside CI it prints SKIP and returns, and the caller stops
# or goes on without that part. Under CI=true it is a failure and exits 1:
# CI installs everything the tests need (scripts/install-deps.sh), so a
# skip there means a part of the suite silently stopped testing anything.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: cannot run: $* (CI=true, where a skip is a failure)"
		exit 1
	fi
	echo "SKIP: $*"
}
