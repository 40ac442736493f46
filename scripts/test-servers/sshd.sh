#!/usr/bin/env bash
# An SFTP server for the tests: OpenSSH's sshd on 127.0.0.1:<port> with its own config and host key,
# key-only login for the user backrest-sftp (made if missing), sftp only (internal-sftp). The client
# key pair is generated here, its private half readable by postgres (who runs the worker).
#
#   sshd.sh start <dir> <port>   starts it (or finds it running) and writes <dir>/sshd.env:
#       SFTP_HOST SFTP_PORT SFTP_USER SFTP_PRIVATE_KEY SFTP_PUBLIC_KEY SFTP_KNOWN_HOSTS SFTP_ROOT
#     SFTP_ROOT is a directory owned by the user, for repositories.
#   sshd.sh stop <dir>           stops it and every session it started (safe in a trap, idempotent)
# Must run as root (sshd checks keys as root, and the user is created here).
set -eu
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start <dir> <port> | stop <dir>" >&2; exit 2; }
user=backrest-sftp

# sshd -D runs in the foreground as its own process; each connection is a tree under it
# (monitor, session, internal-sftp), all ended too: the server is gone, not only its listener.
descendants() {  # pid
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$c"
        echo "$c"
    done
}

stop() {
    local pid tree
    [ -f "$dir/sshd.pid" ] || return 0
    pid=$(cat "$dir/sshd.pid")
    if kill -0 "$pid" 2>/dev/null; then
        tree=$(descendants "$pid")
        kill "$pid" 2>/dev/null || true
        # shellcheck disable=SC2086
        [ -n "$tree" ] && kill $tree 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/sshd.pid"
    return 0
}

start() {
    local port=${3:?port}
    [ "$(id -u)" -eq 0 ] || { echo "sshd.sh must run as root" >&2; exit 2; }
    if [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; then return 0; fi
    mkdir -p "$dir" /run/sshd
    chmod 0755 "$dir"
    if ! id "$user" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir /var/lib/$user --shell /usr/sbin/nologin "$user" 2>/dev/null ||
            id "$user" >/dev/null  # another suite made it meanwhile
    fi
    # A "!" password marks the account locked, and sshd refuses locked accounts even for keys.
    usermod -p '*' "$user"
    local home
    home=$(getent passwd "$user" | cut -d: -f6)
    [ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "backrest-test-host" -f "$dir/host_key"
    [ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C "backrest-test-client" -f "$dir/client_key"
    chown postgres "$dir/client_key" "$dir/client_key.pub"
    chmod 0600 "$dir/client_key"
    # One authorized_keys per server, outside the user's home, so parallel suites do not share it.
    install -m 0644 "$dir/client_key.pub" "$dir/authorized_keys"
    mkdir -p "$dir/root"
    chown "$user" "$dir/root"
    chmod 0755 "$dir/root"
    cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile none
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $user
StrictModes no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
AllowTcpForwarding no
X11Forwarding no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
CONF
    printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1-2 "$dir/host_key.pub")" >"$dir/known_hosts"
    chmod 0644 "$dir/known_hosts"
    /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$dir/sshd.log" 2>&1 &
    echo $! >"$dir/sshd.pid"
    local i
    for i in $(seq 1 100); do
        if ssh-keyscan -T 1 -p "$port" 127.0.0.1 >/dev/null 2>&1; then break; fi
        kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null || { cat "$dir/sshd.log" >&2; exit 1; }
        sleep 0.1
    done
    cat >"$dir/sshd.env" <<ENV
SFTP_HOST=127.0.0.1
SFTP_PORT=$port
SFTP_USER=$user
SFTP_PRIVATE_KEY=$dir/client_key
SFTP_PUBLIC_KEY=$dir/client_key.pub
SFTP_KNOWN_HOSTS=$dir/known_hosts
SFTP_ROOT=$dir/root
ENV
    chmod 0644 "$dir/sshd.env"
}

case "$cmd" in
    start) start "$@" ;;
    stop) stop ;;
    *) echo "usage: $0 start <dir> <port> | stop <dir>" >&2; exit 2 ;;
esac
