# shellcheck shell=bash
# Start a throw-away OpenSSH sshd on 127.0.0.1 for the backup tests.
# Source this file, then call:
#   sshd_setup DIR          keys, sshd_config, known_hosts under DIR
#   sshd_start DIR [HOSTKEY] start on a free port (SSHD_PORT), wait for it
#   sshd_stop               stop the one we started (by pid)
# The server runs as the current user (root in CI: PermitRootLogin
# prohibit-password), with StrictModes off and internal-sftp.

SSHD_PID=
SSHD_PORT=

free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

sshd_setup() {
	local d=$1
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" -C host1
	ssh-keygen -q -t ed25519 -N '' -f "$d/host2_ed25519" -C host2
	ssh-keygen -q -t ed25519 -N '' -f "$d/id_ed25519" -C booktape-test
	cp "$d/id_ed25519.pub" "$d/authorized_keys"
	chmod 600 "$d/authorized_keys"
}

sshd_config() {
	local d=$1 hostkey=$2
	cat >"$d/sshd_config" <<CONF
HostKey $hostkey
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $d/sshd.pid
Subsystem sftp internal-sftp
LogLevel ERROR
MaxStartups 50
CONF
}

# sshd_start DIR [HOSTKEY]: (re)start on SSHD_PORT (a new free port when
# unset) and write DIR/known_hosts for the host key it was first started with.
sshd_start() {
	local d=$1 hostkey=${2:-$1/host_ed25519}
	[ -n "$SSHD_PORT" ] || SSHD_PORT=$(free_port)
	sshd_config "$d" "$hostkey"
	mkdir -p /run/sshd 2>/dev/null || true
	/usr/sbin/sshd -D -e -f "$d/sshd_config" -p "$SSHD_PORT" \
		-o ListenAddress=127.0.0.1 2>>"$d/sshd.log" &
	SSHD_PID=$!
	for _ in $(seq 1 50); do
		if ssh-keyscan -p "$SSHD_PORT" -t ed25519 127.0.0.1 \
			>"$d/keyscan" 2>/dev/null && [ -s "$d/keyscan" ]; then
			break
		fi
		sleep 0.1
	done
	[ -s "$d/keyscan" ] || { echo "sshd did not start" >&2; cat "$d/sshd.log" >&2; return 1; }
	# known_hosts is made once, from the genuine host key.
	[ -s "$d/known_hosts" ] || printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" \
		"$(cut -d' ' -f1-2 "$d/host_ed25519.pub")" >"$d/known_hosts"
}

sshd_stop() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null || true
		wait "$SSHD_PID" 2>/dev/null || true
		SSHD_PID=
	fi
}
