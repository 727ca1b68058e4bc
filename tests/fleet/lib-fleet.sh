# shellcheck shell=bash
# lib-fleet.sh: throw-away Debian 12 test hosts with systemd as PID 1,
# booted on this machine with systemd-nspawn on a private bridge
# (../shared/reference/FLEET.md has the facts this follows). Sourced by
# the real-host tests; needs root. Typical use:
#
#	. tests/fleet/lib-fleet.sh
#	fleet_init                      # sandbox dir, EXIT trap
#	fleet_image libcurl4            # base image (+ packages), cached
#	fleet_bridge                    # bridge $FLEET_BR, address $FLEET_GW
#	fleet_boot h1 h2                # overlay roots, boot, wait for systemd
#	fleet_run h1 systemctl is-system-running
#	fleet_sh h1 'journalctl -b -p err --no-pager'
#	fleet_authorize_key h1 ~/.ssh/id_ed25519.pub; fleet_wait_ssh h1
#
# Functions: fleet_init, fleet_image [PKG...], fleet_bridge, fleet_boot
# NAME..., fleet_run NAME CMD..., fleet_sh NAME SCRIPT, fleet_ip NAME,
# fleet_root NAME (its root seen from here: copy files in), fleet_copy_in,
# fleet_leader NAME (its PID 1 here, for nsenter), fleet_wait NAME,
# fleet_authorize_key NAME PUBKEY, fleet_wait_ssh NAME, fleet_stop NAME,
# fleet_on_exit CMD. Host names are 1-6 of [a-z0-9-]; they are also each
# host's hostname, and every host's /etc/hosts knows the others booted
# before or with it, and fleet-gw (this machine).
#
# Everything started is stopped by fleet_cleanup, which fleet_init
# installs as the EXIT trap: hosts by the nspawn PID recorded at boot
# (never by name), then the overlay mounts, the bridge, the firewall
# rules and the cgroups. Add your own clean-up with fleet_on_exit; it
# runs first, in reverse order of registration.
#
# Settings (environment):
#	FLEET_CACHE   where base images are kept (/var/cache/booktape-fleet),
#	              one directory per package list and build recipe
#	FLEET_KEEP=1  keep the hosts' logs in $FLEET_DIR (not deleted)
#
# Results: FLEET_IMAGE (image root), FLEET_BR, FLEET_NET (e.g.
# 10.213.4), FLEET_GW ($FLEET_NET.1, this machine on the bridge: serve
# anything the hosts must reach here), FLEET_DIR (logs, host roots).

FLEET_CACHE=${FLEET_CACHE:-/var/cache/booktape-fleet}
FLEET_SUITE=bookworm
# What FLEET.md's hosts carry: enough for Ansible over SSH, plus curl.
FLEET_BASE_PKGS=(systemd systemd-sysv dbus openssh-server python3 python3-apt
	iproute2 sudo procps curl ca-certificates)
# Extra systemd-nspawn arguments for every host booted from now on,
# e.g. FLEET_NSPAWN_ARGS+=(--bind-ro=/srv/debs).
FLEET_NSPAWN_ARGS=()

FLEET_DIR=
FLEET_HOSTS=()
FLEET_EXIT_HOOKS=()
FLEET_IPT_RULES=()
FLEET_BR=
FLEET_NET=
FLEET_GW=
declare -A FLEET_IP=()

fleet_log() {
	printf 'fleet: %s\n' "$*" >&2
}

fleet_die() {
	fleet_log "$*"
	exit 1
}

# fleet_init: check the tools, make $FLEET_DIR, install the EXIT trap.
fleet_init() {
	local t
	[ "$(id -u)" -eq 0 ] || fleet_die "test hosts need root"
	for t in systemd-nspawn mmdebstrap nsenter ip iptables flock mount; do
		command -v "$t" >/dev/null ||
			fleet_die "'$t' missing: run scripts/install-deps.sh"
	done
	FLEET_DIR=$(mktemp -d /var/tmp/booktape-fleet.XXXXXX)
	# Short and unique per run: it names machines, veths, the bridge
	# and cgroups, so parallel runs on one machine never collide.
	FLEET_TAG=$(printf '%04x' $(($$ % 65536)))
	trap fleet_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# fleet_on_exit CMD...: run CMD (eval'ed) at clean-up, before the hosts stop.
fleet_on_exit() {
	FLEET_EXIT_HOOKS+=("$*")
}

# The image recipe: run by mmdebstrap on the finished root ($1). Part of
# the cache key, so editing it rebuilds the image.
fleet__customize() {
	local root=$1
	# nspawn supplies a machine id per host.
	: >"$root/etc/machine-id"
	# Unique SSH host keys per host, made at first boot.
	rm -f "$root"/etc/ssh/ssh_host_*
	mkdir -p "$root/etc/systemd/system/ssh.service.d"
	printf '%s\n' '[Service]' 'ExecStartPre=' \
		'ExecStartPre=/usr/bin/ssh-keygen -A' \
		'ExecStartPre=/usr/sbin/sshd -t' \
		>"$root/etc/systemd/system/ssh.service.d/fleet-keygen.conf"
	chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
	# No route out: nothing should try the network in the background.
	chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer \
		e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
}

# The host's Debian sources (the three bookworm suites), for mmdebstrap.
fleet__sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] && grep -qs "$FLEET_SUITE" "$f" && printf '%s\n' "$f"
	done
}

# fleet_image [PKG...]: the base image plus PKG..., built once with
# mmdebstrap (about a minute) and kept under $FLEET_CACHE, keyed by the
# package list and the recipe. Sets FLEET_IMAGE to its root directory.
fleet_image() {
	local pkgs key dir tmp srcs start
	pkgs=$(printf '%s\n' "${FLEET_BASE_PKGS[@]}" "$@" | sort -u | paste -sd,)
	key=$( {
		echo "suite $FLEET_SUITE"
		echo "pkgs $pkgs"
		declare -f fleet__customize
	} | sha256sum | cut -c1-16)
	dir=$FLEET_CACHE/base-$key
	mkdir -p "$FLEET_CACHE"
	exec {_fleet_lock}>"$FLEET_CACHE/.lock"
	flock "$_fleet_lock"
	if [ ! -e "$dir/.complete" ]; then
		mapfile -t srcs < <(fleet__sources)
		[ "${#srcs[@]}" -gt 0 ] || fleet_die "no $FLEET_SUITE apt sources on this machine"
		rm -rf "$dir" "$dir.tmp"
		fleet_log "building base image $key ($pkgs)"
		start=$(date +%s)
		tmp=$dir.tmp
		if ! mmdebstrap --quiet --mode=root --format=directory \
			--variant=minbase --include="$pkgs" \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-include=/usr/share/doc/*/copyright' \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			--customize-hook="$(declare -f fleet__customize); fleet__customize \"\$1\"" \
			"$FLEET_SUITE" "$tmp" "${srcs[@]}" >"$FLEET_DIR/mmdebstrap.log" 2>&1; then
			tail -n 30 "$FLEET_DIR/mmdebstrap.log" >&2
			rm -rf "$tmp"
			flock -u "$_fleet_lock"
			fleet_die "mmdebstrap failed"
		fi
		touch "$tmp/.complete"
		mv "$tmp" "$dir"
		fleet_log "base image built in $(($(date +%s) - start)) s"
	fi
	touch "$dir.used"
	# Images nobody used for two weeks are an old recipe or package list.
	find "$FLEET_CACHE" -maxdepth 1 -name 'base-*.used' -mtime +14 -printf '%f\n' |
		while read -r u; do
			rm -rf "${FLEET_CACHE:?}/${u%.used}" "${FLEET_CACHE:?}/$u"
		done
	flock -u "$_fleet_lock"
	FLEET_IMAGE=$dir
}

# fleet_bridge: a bridge on a free 10.213.N.0/24, this machine at .1.
fleet_bridge() {
	local n used
	exec {_fleet_netlock}>"$FLEET_CACHE/.net.lock"
	flock "$_fleet_netlock"
	used=$(ip -4 -o addr show; ip -4 route show)
	for n in $(seq 0 254); do
		case $used in *"10.213.$n."*) continue ;; esac
		FLEET_NET=10.213.$n
		break
	done
	[ -n "$FLEET_NET" ] || fleet_die "no free 10.213.N.0/24"
	FLEET_BR=btf-$FLEET_TAG
	FLEET_GW=$FLEET_NET.1
	ip link add "$FLEET_BR" type bridge || fleet_die "cannot create bridge"
	ip addr add "$FLEET_GW/24" dev "$FLEET_BR"
	ip link set "$FLEET_BR" up
	flock -u "$_fleet_netlock"
	# With br_netfilter loaded, bridged traffic crosses iptables.
	fleet__ipt FORWARD -i "$FLEET_BR" -o "$FLEET_BR" -j ACCEPT
	fleet__ipt INPUT -i "$FLEET_BR" -j ACCEPT
}

fleet__ipt() {
	iptables -w -I "$@" || fleet_die "iptables -I $* failed"
	FLEET_IPT_RULES+=("$*")
}

# fleet_root NAME: the host's root directory as seen from this machine.
fleet_root() {
	printf '%s\n' "$FLEET_DIR/hosts/$1/root"
}

# fleet_ip NAME: the host's address on the bridge.
fleet_ip() {
	printf '%s\n' "${FLEET_IP[$1]}"
}

# fleet_leader NAME: the host's PID 1, as a PID of this machine. After
# a reboot (nspawn restarted by fleet__start's loop) it is found again.
fleet_leader() {
	local h=$FLEET_DIR/hosts/$1 p
	[ -d "$h" ] || return 1
	p=$(cat "$h/leader" 2>/dev/null) || p=
	if [ -z "$p" ] || ! grep -Eq '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null; then
		fleet__find_leader "$1" || return 1
		p=$(cat "$h/leader")
	fi
	echo "$p"
}

# Prepare NAME's overlay root and its network and name files.
fleet__prepare() {
	local name=$1 ip=$2 h=$FLEET_DIR/hosts/$1 other
	mkdir -p "$h/upper" "$h/work" "$h/root"
	mount -t overlay overlay \
		-o "lowerdir=$FLEET_IMAGE,upperdir=$h/upper,workdir=$h/work" \
		"$h/root" || fleet_die "overlay mount for $name failed"
	echo "$name" >"$h/root/etc/hostname"
	{
		echo "127.0.0.1 localhost"
		echo "127.0.1.1 $name"
		echo "$FLEET_GW fleet-gw"
		for other in "${!FLEET_IP[@]}"; do
			echo "${FLEET_IP[$other]} $other"
		done
	} >"$h/root/etc/hosts"
	mkdir -p "$h/root/etc/systemd/network"
	printf '%s\n' '[Match]' 'Name=host0' '' '[Network]' "Address=$ip/24" \
		'LinkLocalAddressing=no' 'IPv6AcceptRA=no' \
		>"$h/root/etc/systemd/network/10-host0.network"
}

# Start NAME's nspawn in its own cgroup (FLEET.md: two nspawns from one
# cgroup share a payload), restarting it when the host reboots (133).
fleet__start() {
	local name=$1 h=$FLEET_DIR/hosts/$1 machine=b$FLEET_TAG-$1
	(
		local cg d
		cg=booktape-fleet-$FLEET_TAG-$name
		for d in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
			[ -e "$d/cgroup.procs" ] || continue
			mkdir -p "$d/$cg"
			echo "$BASHPID" >"$d/$cg/cgroup.procs"
			echo "$d/$cg" >>"$h/cgroups"
		done
		while :; do
			systemd-nspawn -q -D "$h/root" -M "$machine" --hostname="$name" \
				--register=no --keep-unit --network-bridge="$FLEET_BR" \
				--resolv-conf=off --link-journal=no --console=read-only \
				"${FLEET_NSPAWN_ARGS[@]}" -b &
			echo $! >"$h/nspawn.pid"
			rc=0
			wait $! || rc=$?
			echo "nspawn exited $rc"
			if [ "$rc" -ne 133 ] || [ -e "$h/stop" ]; then
				break
			fi
		done
	) </dev/null >>"$h/console.log" 2>&1 &
	echo $! >"$h/loop.pid"
}

# Find the host's PID 1: the process whose innermost PID is 1 among the
# descendants of its nspawn.
fleet__find_leader() {
	local h=$FLEET_DIR/hosts/$1 np p kids i
	rm -f "$h/leader"
	for i in $(seq 1 150); do
		np=$(cat "$h/nspawn.pid" 2>/dev/null) || np=
		if [ -n "$np" ]; then
			kids=$(pgrep -P "$np" || true)
			for p in $kids $(for k in $kids; do pgrep -P "$k"; done); do
				if grep -Eq '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null; then
					echo "$p" >"$h/leader"
					return 0
				fi
			done
		fi
		sleep 0.1
	done
	fleet_die "host $1 did not start (see $h/console.log)"
}

# fleet_wait NAME [SECONDS]: until the host's systemd has finished
# booting (running or degraded). Early calls fail with "Failed to
# connect to bus": that is retried.
fleet_wait() {
	local name=$1 t=${2:-60} i state
	for i in $(seq 1 $((t * 5))); do
		state=$(fleet_run "$name" systemctl is-system-running 2>/dev/null) || true
		case $state in
		running) return 0 ;;
		degraded)
			fleet_log "$name degraded: $(fleet_run "$name" systemctl --failed --no-legend --plain | awk '{print $1}' | paste -sd' ')"
			return 0
			;;
		esac
		sleep 0.2
	done
	fleet_die "host $name not up after $t s (state '$state')"
}

# fleet_boot NAME...: prepare and boot hosts (addresses .11 and up in
# order of booting), wait until each one's systemd is up.
fleet_boot() {
	local name n
	[ -n "$FLEET_IMAGE" ] || fleet_die "fleet_boot before fleet_image"
	[ -n "$FLEET_BR" ] || fleet_die "fleet_boot before fleet_bridge"
	for name in "$@"; do
		[[ $name =~ ^[a-z][a-z0-9-]{0,5}$ ]] ||
			fleet_die "host name '$name': 1-6 of [a-z0-9-] (it names a veth)"
		n=$((11 + ${#FLEET_IP[@]}))
		FLEET_IP[$name]=$FLEET_NET.$n
	done
	for name in "$@"; do
		fleet__prepare "$name" "${FLEET_IP[$name]}"
		FLEET_HOSTS+=("$name")
		fleet__start "$name"
	done
	for name in "$@"; do
		fleet__find_leader "$name"
	done
	for name in "$@"; do
		fleet_wait "$name"
		fleet__wait_address "$name"
	done
}

# systemd-networkd sets host0's address a moment after boot.
fleet__wait_address() {
	local i
	for i in $(seq 1 50); do
		fleet_run "$1" ip -4 -o addr show dev host0 2>/dev/null |
			grep -q " ${FLEET_IP[$1]}/" && return 0
		sleep 0.2
	done
	fleet_die "host $1 has no address ${FLEET_IP[$1]} on host0"
}

# fleet_run NAME CMD...: run CMD in the host (all its namespaces), with
# a clean environment; stdin, stdout and stderr are the caller's.
fleet_run() {
	local leader
	leader=$(fleet_leader "$1") || fleet_die "no host $1"
	shift
	nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 SYSTEMD_COLORS=0 "$@"
}

# fleet_sh NAME SCRIPT: run a bash script in the host, `set -e` on.
fleet_sh() {
	local name=$1
	shift
	fleet_run "$name" bash -ec "$*"
}

# fleet_copy_in NAME SRC DEST: copy a file or tree (cp -a) into the host.
fleet_copy_in() {
	local root
	root=$(fleet_root "$1")
	mkdir -p "$(dirname "$root/$3")"
	cp -a "$2" "$root/$3"
}

# fleet_authorize_key NAME PUBKEY_FILE: let that key log in as root over
# SSH (the image's sshd allows root by key only), e.g. for Ansible.
fleet_authorize_key() {
	local root
	root=$(fleet_root "$1")
	install -d -m 0700 "$root/root/.ssh"
	cat "$2" >>"$root/root/.ssh/authorized_keys"
	chmod 0600 "$root/root/.ssh/authorized_keys"
}

# fleet_wait_ssh NAME [SECONDS]: until the host's sshd accepts connections.
fleet_wait_ssh() {
	local i
	for i in $(seq 1 $((${2:-30} * 5))); do
		fleet_run "$1" systemctl is-active -q ssh.service 2>/dev/null &&
			timeout 1 bash -c "exec 3<>/dev/tcp/${FLEET_IP[$1]}/22" 2>/dev/null &&
			return 0
		sleep 0.2
	done
	fleet_die "no sshd on $1 after ${2:-30} s"
}

# fleet_stop NAME: power the host off (SIGTERM to its nspawn asks
# systemd to shut down), kill it after 20 s, then unmount its root.
fleet_stop() {
	local name=$1 h=$FLEET_DIR/hosts/$1 np loop leader i cg
	[ -d "$h" ] || return 0
	touch "$h/stop"
	np=$(cat "$h/nspawn.pid" 2>/dev/null) || np=
	loop=$(cat "$h/loop.pid" 2>/dev/null) || loop=
	leader=$(cat "$h/leader" 2>/dev/null) || leader=
	[ -n "$np" ] && kill -TERM "$np" 2>/dev/null
	for i in $(seq 1 100); do
		if [ -z "$loop" ] || ! kill -0 "$loop" 2>/dev/null; then
			break
		fi
		sleep 0.2
	done
	if [ -n "$loop" ] && kill -0 "$loop" 2>/dev/null; then
		fleet_log "host $name did not power off: killing it"
		# The PID namespace dies with its PID 1.
		[ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
		[ -n "$np" ] && kill -KILL "$np" 2>/dev/null
		sleep 0.5
		kill -KILL "$loop" 2>/dev/null
	fi
	wait "$loop" 2>/dev/null
	if [ -e "$h/cgroups" ]; then
		while read -r cg; do
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		done <"$h/cgroups"
	fi
	for i in 1 2 3 4 5; do
		mountpoint -q "$h/root" || break
		umount "$h/root" 2>/dev/null || umount -l "$h/root"
	done
	rm -f "$h/nspawn.pid" "$h/loop.pid"
}

# fleet_cleanup: the EXIT trap. Keeps the exit status of the script.
fleet_cleanup() {
	local rc=$? i name rule h
	set +e
	trap - EXIT INT TERM
	for ((i = ${#FLEET_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${FLEET_EXIT_HOOKS[$i]}"
	done
	for name in "${FLEET_HOSTS[@]}"; do
		fleet_stop "$name"
	done
	for rule in "${FLEET_IPT_RULES[@]}"; do
		# shellcheck disable=SC2086 # a rule is words
		iptables -w -D $rule 2>/dev/null
	done
	[ -n "$FLEET_BR" ] && ip link del "$FLEET_BR" 2>/dev/null
	if [ -n "$FLEET_DIR" ] && [ -d "$FLEET_DIR" ]; then
		for h in "$FLEET_DIR"/hosts/*/root; do
			mountpoint -q "$h" 2>/dev/null && fleet_log "still mounted: $h" && FLEET_KEEP=1
		done
		if [ "${FLEET_KEEP:-0}" = 1 ]; then
			fleet_log "kept $FLEET_DIR"
		else
			rm -rf "$FLEET_DIR"
		fi
	fi
	exit "$rc"
}
