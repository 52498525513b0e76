#!/usr/bin/env bash
# tui_ssh.sh — perch watch over a real SSH connection: a private sshd on
# 127.0.0.1 (temporary host and user keys, its own config, a free port), a
# demo controlling canaries in one terminal, `ssh -tt ... perch watch` in
# another.  The screen arrives, a resize reaches it through SSH, and dropping
# the connection (the client killed) ends perch watch on the server side.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tui_lib.bash"
need ssh ssh-keygen
sshd=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd" ] || skip "missing sshd (make deps installs openssh-server)"
state=$TMP/state

# the server
ssh-keygen -q -t ed25519 -N '' -f "$TMP/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/user_key"
cp "$TMP/user_key.pub" "$TMP/authorized_keys"
chmod 600 "$TMP/authorized_keys"
port=$(free_port)
cat >"$TMP/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $TMP/host_key
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PrintMotd no
PrintLastLog no
CONF
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
"$sshd" -D -f "$TMP/sshd_config" -E "$TMP/sshd.log" &
sshd_pid=$!
at_exit "kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null"
wait_for test -s "$TMP/sshd.pid" || fail "sshd did not start: $(cat "$TMP/sshd.log")"

# the controller
session demo 120 40 "$TERM_ENV $PERCH_BIN demo --state-dir $state --speed 20"
WAIT_SECS=10 wait_for shows demo "checkout" || { dump demo; fail "the demo did not draw"; }

# the watcher, over SSH
cat >"$TMP/remote.sh" <<SCRIPT
echo \$\$ > $TMP/watch.pid
exec $TERM_ENV $PERCH_BIN watch --state-dir $state
SCRIPT
session ssh 120 40 "exec ssh -tt -i $TMP/user_key -p $port -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR $(id -un)@127.0.0.1 sh $TMP/remote.sh"
WAIT_SECS=15 wait_for shows ssh "READ-ONLY" || { dump ssh; cat "$TMP/sshd.log"; fail "no screen over ssh"; }
WAIT_SECS=10 wait_for shows ssh "checkout" || { dump ssh; fail "no canaries over ssh"; }
shows ssh "prometheus" || { dump ssh; fail "not the 120-column layout"; }
wpid=$(cat "$TMP/watch.pid")
kill -0 "$wpid" && grep -q perch "/proc/$wpid/cmdline" || fail "perch watch is not running"
at_exit "kill $wpid 2>/dev/null"

# a resize travels through ssh to perch watch
tm resize-window -t ssh -x 80 -y 24
WAIT_SECS=5 wait_for not shows ssh prometheus || { dump ssh; fail "the resize did not reach perch watch"; }
WAIT_SECS=5 wait_for shows ssh "READ-ONLY" || { dump ssh; fail "no redraw at 80x24"; }

# dropping the connection ends perch watch
kill -9 "$(tm display -p -t ssh '#{pane_pid}')"
WAIT_SECS=10 wait_for not kill -0 "$wpid" || fail "perch watch still runs after the connection dropped"
# the session's sshd ends too (and is reaped by the listener, not orphaned)
WAIT_SECS=5 wait_for not pgrep -P "$sshd_pid" || fail "the ssh session did not end"
keys demo q
WAIT_SECS=3 wait_for shows demo "quit perch?" && keys demo y
WAIT_SECS=5 wait_for dead demo || fail "demo did not quit"
exit 0
