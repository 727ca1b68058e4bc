#!/usr/bin/env bash
# Build build/booktape_<version>_<arch>.deb from the staged `make install`
# (PREFIX=/usr): the three programs (stripped), man pages, systemd units
# and timers, the sysusers entry, schema and example configs. Depends comes
# from dpkg-shlibdeps on the binaries. The maintainer scripts create the
# user and directories and never start a recorder on their own; an upgrade
# restarts only the recorders that were running. lintian must report no
# error.
#
#   scripts/mkdeb.sh BUILD VERSION      (what `make deb` runs)
set -euo pipefail

build=${1:?usage: mkdeb.sh BUILD VERSION}
version=${2:?usage: mkdeb.sh BUILD VERSION}
here=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
work=$build/deb
# dpkg-shlibdeps expects the package's tree at debian/<package>.
root=$work/debian/booktape
out=$build/booktape_${version}_${arch}.deb
# Who answers for the package (make deb DEB_MAINTAINER="Name <addr>").
maintainer=${DEB_MAINTAINER:-booktape maintainers <booktape@example.org>}

rm -rf "$work"
mkdir -p "$root"
root=$(cd "$root" && pwd)
make -s -C "$here" BUILD="$build" VERSION="$version" PREFIX=/usr DESTDIR="$root" install >/dev/null

# booktapectl drives Ansible from an operator's machine: it is not part of
# what runs on a recorder host.
rm -f "$root/usr/bin/booktapectl"

for b in "$root"/usr/bin/booktape-*; do
	strip --remove-section=.comment --remove-section=.note --strip-unneeded "$b"
done
if [ -d "$root/usr/share/man" ]; then
	find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
fi

doc=$root/usr/share/doc/booktape
install -d -m 0755 "$doc"
cat >"$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: booktape

Files: *
Copyright: 2026 the booktape authors
License: booktape-no-license-yet
 The booktape project has not chosen a license yet; until it does, all
 rights are reserved by its authors.
EOF
# A native package's changelog: one entry for this build, dated by the
# last commit so that two builds of one tree are identical.
date=$(git -C "$here" log -1 --format=%cD 2>/dev/null || date -R)
printf 'booktape (%s) unstable; urgency=medium\n\n  * Built from the booktape tree (see its git log).\n\n -- %s  %s\n' \
	"$version" "$maintainer" "$date" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/copyright" "$doc/changelog.gz"

install -d -m 0755 "$root/DEBIAN"
printf 'Source: booktape\n\nPackage: booktape\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O debian/booktape/usr/bin/booktape-* | sed -n 's/^shlibs:Depends=//p')

size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: booktape
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $shlibs, systemd
Suggests: prometheus-node-exporter
Section: net
Priority: optional
Homepage: https://example.invalid/booktape
Description: crypto-exchange order-book recorder
 booktape records every order-book update of crypto exchanges, exactly as
 the exchange sent it, into hourly CSV files (booktape-recorder), seals
 each finished hour into a verified tar.gz (booktape-rotate) and ships the
 archives offsite, restoring them after a disaster (booktape-backup).
 .
 Recorders are systemd template units, booktape-recorder@NAME reading
 /etc/booktape/NAME.yml. Installing the package starts nothing.
EOF

for s in postinst prerm postrm; do
	install -m 0755 "$here/scripts/deb/$s" "$root/DEBIAN/$s"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs -d '\n' md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"

dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
# No lintian error is part of the contract; its warnings are shown.
if command -v lintian >/dev/null; then
	rc=0
	report=$(lintian --fail-on error "$out" 2>&1) || rc=$?
	printf '%s\n' "$report" | grep -v 'running with root privileges' >&2 || true
	if [ "$rc" -ne 0 ]; then
		echo "mkdeb: lintian reports errors in $out" >&2
		exit 1
	fi
fi
echo "$out"
