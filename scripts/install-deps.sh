#!/usr/bin/env bash
# Install every Debian package booktape needs to build, test and run.
# Idempotent: packages already present are left alone by apt-get.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config
	libwebsockets-dev libssl-dev libcsv-dev libarchive-dev libyaml-dev
	zlib1g-dev libcurl4-openssl-dev libsystemd-dev
	# tests
	check prometheus prometheus-node-exporter prometheus-alertmanager
	openssh-server openssh-client curl python3 python3-boto3 faketime procps
	iproute2 util-linux openssl systemd tar gzip
	# make host-check: Debian 12 test hosts booted with systemd-nspawn
	# (tests/fleet/lib-fleet.sh, ../shared/reference/FLEET.md)
	systemd-container mmdebstrap iptables
	# lint
	clang-format cppcheck shellcheck clang-tidy pyflakes3 ansible-lint
	# make deb, make fleet-check (Debian 12 test hosts under systemd-nspawn,
	# driven by Ansible; ansible-core 2.14 comes with Debian's ansible)
	dpkg-dev fakeroot lintian ansible ansible-core apt-utils
	# make fuzz (clang + libFuzzer), make valgrind-check
	clang libclang-rt-14-dev valgrind
)

if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
else
	sudo=
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (a parallel build on the same machine)
# rather than fail on its lock.
lock=(-o DPkg::Lock::Timeout=600)
$sudo apt-get "${lock[@]}" update -qq
# --no-install-recommends keeps CI lean; services are started by the
# tests themselves, never by the package's maintainer scripts.
$sudo apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}"
