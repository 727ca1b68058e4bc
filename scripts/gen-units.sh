#!/bin/sh
# Generate the systemd units for one installation layout: every
# scripts/systemd/*.in with @BINDIR@ and @SYSCONFDIR@ substituted, and
# the other unit files as they are, installed 0644 into OUTDIR.
# `make install` (and so a package built from its staged tree) and the
# unit tests use this one script, so what is tested is what is shipped.
# usage: gen-units.sh OUTDIR BINDIR SYSCONFDIR
set -eu
if [ $# -ne 3 ]; then
	echo "usage: gen-units.sh OUTDIR BINDIR SYSCONFDIR" >&2
	exit 2
fi
out=$1 bindir=$2 sysconfdir=$3
src=$(dirname "$0")/systemd
for v in "$bindir" "$sysconfdir"; do
	case $v in
	/*) ;;
	*)
		echo "gen-units.sh: '$v' is not an absolute path" >&2
		exit 2
		;;
	esac
	if printf '%s' "$v" | grep -q '[|&\\]'; then
		echo "gen-units.sh: '$v': |, & and \\ are not supported" >&2
		exit 2
	fi
done
install -d -m 0755 "$out"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "$src"/*.in; do
	sed -e "s|@BINDIR@|$bindir|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" "$f" >"$tmp"
	if grep -n '@[A-Z_]*@' "$tmp" >&2; then
		echo "gen-units.sh: $f: unknown @VARIABLE@ above" >&2
		exit 1
	fi
	name=$(basename "$f" .in)
	install -m 0644 "$tmp" "$out/$name"
done
for f in "$src"/*.service "$src"/*.timer; do
	[ -e "$f" ] || continue
	install -m 0644 "$f" "$out/"
done
