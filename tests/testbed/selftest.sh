#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# selftest.sh — checks lib.sh itself inside the guest (fast: no podman).
#   tests/testbed/testbed.sh run tests/testbed/selftest.sh
# Covers check/check_fail return codes, wait_for bounds, asuser's environment,
# summary's output and return code, etc_snapshot/etc_compare, and
# tb_install_unroot against a mock `meson install --destdir` tarball built here.
set -u
. "$TESTBED_LIB"

section "check / check_fail / summary"
check "check passes on rc 0" true
( TB_PASS=0 TB_FAIL=0 TB_SKIP=0
  out=$(check "inner" false); [ $? = 1 ] && echo "$out" | grep -q '^FAIL: inner (rc=1)' ) &&
    pass "check returns 1 and prints FAIL on failure" || fail "check on failure"
( out=$(check "inner" bash -c 'for i in $(seq 30); do echo line$i; done; exit 3')
  echo "$out" | grep -q '    | line30' && ! echo "$out" | grep -q 'line15$' ) &&
    pass "check prints the last 15 output lines" || fail "check output tail"
check_fail "check_fail passes on non-zero" false
( out=$(check_fail inner true); [ $? = 1 ] ) && pass "check_fail fails on rc 0" || fail "check_fail on rc 0"
( TB_PASS=2 TB_FAIL=0 TB_SKIP=1; out=$(summary); rc=$?
  [ $rc = 0 ] && [ "$(echo "$out" | tail -n 1)" = "2 passed, 0 failed" ] &&
  [ "$(echo "$out" | tail -n 2 | head -n 1)" = "skipped: 1" ] ) && pass "summary: all passed -> rc 0" || fail "summary all passed"
( TB_PASS=2 TB_FAIL=1; out=$(summary) ) && fail "summary with a failure returned 0" || pass "summary: a failure -> rc 1"
( TB_PASS=0 TB_FAIL=0; out=$(summary) ) && fail "summary with no checks returned 0" || pass "summary: nothing checked -> rc 1"

section "wait_for"
t0=$SECONDS; wait_for 3 false 2>/dev/null; rc=$?
[ $rc = 1 ] && [ $((SECONDS - t0)) -ge 3 ] && [ $((SECONDS - t0)) -le 5 ] && pass "wait_for times out (rc 1, ~3 s)" || fail "wait_for timeout rc=$rc after $((SECONDS - t0))s"
rm -f /tmp/wf; (sleep 1; touch /tmp/wf) & t0=$SECONDS
check "wait_for succeeds once the condition holds" wait_for 10 test -e /tmp/wf
[ $((SECONDS - t0)) -le 4 ] && pass "wait_for returned early" || fail "wait_for took $((SECONDS - t0))s"

section "asuser"
useradd --system --create-home --home-dir /var/lib/selftest-u --shell /usr/sbin/nologin stu
check "asuser without a user manager: no XDG_RUNTIME_DIR" bash -c '[ "$(asuser stu sh -c "echo \$(id -un):\$PWD:\${XDG_RUNTIME_DIR-unset}:\$HOME")" = "stu:/tmp:unset:/var/lib/selftest-u" ]'
loginctl enable-linger stu
check "wait_user_manager" wait_user_manager stu 60
check "asuser with a user manager: session env" bash -c '[ "$(asuser stu sh -c "echo \$XDG_RUNTIME_DIR \$DBUS_SESSION_BUS_ADDRESS")" = "/run/user/$(id -u stu) unix:path=/run/user/$(id -u stu)/bus" ]'
check "asuser systemctl --user works" asuser stu systemctl --user is-system-running --wait
( asuser stu sh -c 'exit 5' ); [ $? = 5 ] && pass "asuser returns the command's exit code" || fail "asuser rc"

section "etc_snapshot / etc_compare"
check "etc_snapshot" etc_snapshot /tmp/snap
check "etc_compare right after: identical" etc_compare /tmp/snap
echo "stu:400000:65536" >> /etc/subuid
out=$(etc_compare /tmp/snap); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q '/etc/subuid changed' && ! echo "$out" | grep -q '/etc/passwd' &&
    pass "etc_compare names exactly the changed file" || { fail "etc_compare after a change (rc=$rc)"; echo "$out"; }
sed -i '$d' /etc/subuid
check "etc_compare after undo: identical again" etc_compare /tmp/snap

section "tb_install_unroot (mock install tree)"
D=$(mktemp -d)
mkdir -p $D/usr/lib/systemd/system $D/usr/lib/sysusers.d $D/usr/lib/tmpfiles.d $D/usr/share/polkit-1/actions $D/usr/bin
cat > $D/usr/lib/systemd/system/unroot-helper.socket <<'UNIT'
[Unit]
Description=mock unroot helper socket
[Socket]
ListenSequentialPacket=/run/unroot/mock-helper.sock
Accept=no
[Install]
WantedBy=sockets.target
UNIT
printf '[Service]\nExecStart=/bin/true\n' > $D/usr/lib/systemd/system/unroot-helper.service
echo 'g unroot-mock-admins -' > $D/usr/lib/sysusers.d/unroot-mock.conf
echo 'd /var/lib/unroot-mock 0750 root root -' > $D/usr/lib/tmpfiles.d/unroot-mock.conf
printf '#!/bin/sh\necho mock\n' > $D/usr/bin/unroot-mock; chmod 755 $D/usr/bin/unroot-mock
mkdir -p $D/lib/unroot-mock; echo x > $D/lib/unroot-mock/file   # merged-/usr trap
cat > $D/usr/share/polkit-1/actions/org.unroot.mock.policy <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <action id="org.unroot.mock.enroll">
    <description>mock</description><message>mock</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>auth_admin_keep</allow_active></defaults>
  </action>
</policyconfig>
XML
tar -C $D -cf /tmp/unroot-install.tar .
usr_mode=$(stat -c %a /usr)
tb_install_unroot /tmp/unroot-install.tar; rc=$?
[ $rc = 0 ] && pass "tb_install_unroot returns 0" || fail "tb_install_unroot rc=$rc"
check "binary installed" test -x /usr/bin/unroot-mock
check "/usr kept its mode" test "$(stat -c %a /usr)" = "$usr_mode"
check "/lib is still the merged-/usr symlink" bash -c 'test -L /lib && test -f /usr/lib/unroot-mock/file'
check "sysusers ran" getent group unroot-mock-admins
check "tmpfiles ran" test -d /var/lib/unroot-mock
check "unroot-helper.socket enabled and listening" bash -c 'systemctl is-enabled unroot-helper.socket && systemctl is-active unroot-helper.socket && test -S /run/unroot/mock-helper.sock'
check "polkit action visible" pkaction --action-id org.unroot.mock.enroll
systemctl disable --now unroot-helper.socket >/dev/null 2>&1
rm -f $D/usr/lib/systemd/system/unroot-helper.socket /usr/lib/systemd/system/unroot-helper.socket
systemctl daemon-reload; tar -C $D -cf /tmp/no-socket.tar .
out=$(tb_install_unroot /tmp/no-socket.tar); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q 'WARNING: unroot-helper.socket' && pass "missing socket unit: warning, rc 0" || { fail "missing socket unit (rc=$rc)"; echo "$out"; }
out=$(tb_install_unroot /nonexistent.tar); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q 'FAILED: no such tarball' && pass "missing tarball: FAILED, rc 1" || fail "missing tarball (rc=$rc)"

summary
