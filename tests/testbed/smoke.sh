#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# smoke.sh — the test bed's acceptance test (a port of ../shared/tools/testbed/smoke.sh
# to lib.sh).  Runs as root INSIDE the guest:  tests/testbed/testbed.sh run tests/testbed/smoke.sh
# Exercises everything unroot needs from a real system (31 checks, 1 skip on podman 4.3.1):
#   1. useradd --system + /etc/subuid,/etc/subgid ranges + loginctl enable-linger
#      -> user@UID.service + a `systemctl --user` manager + user D-Bus
#   2. dbus system bus + polkitd: pkcheck (root checking a caller pid) with a
#      custom .policy action and a JS rules.d rule, and CheckAuthorization over D-Bus
#   3. rootless podman 4.3.1 with offline images (make-image.sh's podman import,
#      and `podman build FROM scratch`), containers from transient and installed
#      user units (quadlet-style Type=notify --sdnotify=conmon; a pod with
#      --infra-conmon-pidfile under %t), volume ownership through the subuid map
#   4. network: slirp4netns allow_host_loopback=true reaching the guest's
#      127.0.0.1, rootlessport publishing, and pasta (if supported)
# Also checks lib.sh's etc_snapshot/etc_compare around the whole run (expects a change).
set -u
. "${TESTBED_LIB:-$(dirname "$0")/lib.sh}"

section "system"
echo "kernel: $(uname -r)  virt: $(systemd-detect-virt 2>/dev/null)  cgroupfs: $(stat -fc %T /sys/fs/cgroup)"
echo "system state: $(systemctl is-system-running --wait 2>&1)"
systemctl --failed --no-legend --plain | sed 's/^/    failed unit: /'
check "dbus system bus active"   systemctl is-active dbus.service
check "systemd-logind active"    systemctl is-active systemd-logind.service
etc_snapshot /tmp/etc-before

section "1. system user, subuid/subgid, linger, user manager"
U=ctr1
useradd --system --create-home --home-dir /var/lib/unroot/$U --shell /usr/sbin/nologin "$U"
UID_=$(id -u $U)
# allocate ranges the way the root helper will (append lines; usermod works too)
echo "$U:300000:65536" >> /etc/subuid
echo "$U:300000:65536" >> /etc/subgid
check "subuid range present" grep -qx "$U:300000:65536" /etc/subuid
check "loginctl enable-linger" loginctl enable-linger "$U"
wait_user_manager "$U" 60
check "user@$UID_.service active" systemctl is-active user@$UID_.service
check "user bus socket exists" test -S /run/user/$UID_/bus
check "systemctl --user is-system-running" asuser $U systemctl --user is-system-running --wait
loginctl show-user "$U" -p Linger -p State | sed 's/^/    /'

section "2. polkit"
check "polkit.service active (dbus activated)" bash -c 'busctl call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Properties Get ss org.freedesktop.PolicyKit1.Authority BackendName >/dev/null && systemctl is-active polkit.service'
mkdir -p /usr/share/polkit-1/actions /etc/polkit-1/rules.d
cat > /usr/share/polkit-1/actions/org.example.unroot.policy <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <action id="org.example.unroot.migrate">
    <description>Migrate a container service to rootless</description>
    <message>Authentication is required to migrate a container service</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>auth_admin</allow_active></defaults>
  </action>
</policyconfig>
XML
cat > /etc/polkit-1/rules.d/50-unroot-smoke.rules <<'JS'
polkit.addRule(function(action, subject) {
    if (action.id == "org.example.unroot.migrate" && subject.isInGroup("smoke-admins"))
        return polkit.Result.YES;
});
JS
groupadd -f smoke-admins
useradd -m alice; useradd -m bob; usermod -aG smoke-admins alice
# polkitd reloads actions/rules via inotify
wait_for 10 pkaction --action-id org.example.unroot.migrate
check "pkaction sees custom action" pkaction --action-id org.example.unroot.migrate
check "pkcheck: root is authorized" pkcheck --action-id org.example.unroot.migrate --process $$
# root daemon checks a *caller's* process (what the helper does via CheckAuthorization)
runuser -u alice -- sleep 120 2>/dev/null & runuser -u bob -- sleep 120 2>/dev/null &
disown -a   # (runuser prints "Terminated" on stderr when they are killed below)
wait_for 10 bash -c 'pgrep -u alice -x sleep && pgrep -u bob -x sleep'
APID=$(pgrep -u alice -x sleep | head -1); BPID=$(pgrep -u bob -x sleep | head -1)
check "pkcheck: alice (in smoke-admins) authorized" pkcheck --action-id org.example.unroot.migrate --process "$APID"
check_fail "pkcheck: bob NOT authorized" pkcheck --action-id org.example.unroot.migrate --process "$BPID"
# the same over D-Bus, as a C daemon would call it (subject unix-process)
START=$(awk '{print $22}' /proc/$APID/stat)
check "CheckAuthorization via busctl" bash -c "busctl call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.PolicyKit1.Authority CheckAuthorization '(sa{sv})sa{ss}us' unix-process 3 pid u $APID start-time t $START uid i $(id -u alice) org.example.unroot.migrate 0 0 '' | grep -q '^(bba{ss}) true'"
pkill -u alice -x sleep; pkill -u bob -x sleep

section "3. rootless podman (as $U, inside its user manager)"
echo "podman: $(podman --version)"
check "podman import (offline image, make-image.sh)" tb_make_image $U
cp /var/cache/testbed/bb.tar /tmp/bb.tar; chmod 644 /tmp/bb.tar
mkdir -p /tmp/ctx; cp /tmp/bb.tar /tmp/ctx/; printf 'FROM scratch\nADD bb.tar /\nCMD ["/bin/sh"]\n' > /tmp/ctx/Containerfile; chmod -R a+rX /tmp/ctx
check "podman build FROM scratch (offline)" asuser $U podman build --pull=never -t localhost/bb2:latest /tmp/ctx
asuser $U podman info --format 'info: cgroups={{.Host.CgroupsVersion}} manager={{.Host.CgroupManager}} driver={{.Store.GraphDriverName}} netbackend={{.Host.NetworkBackend}} rootless={{.Host.Security.Rootless}}' 2>&1 | sed 's/^/    /'
check "podman run --pull=never (uid 0 maps to $UID_ + subuid)" bash -c "asuser $U podman run --rm --pull=never localhost/bb cat /proc/self/uid_map | tr -s ' ' | grep -q '^ *1 300000 65536'"
check "podman run of built image" asuser $U podman run --rm --pull=never localhost/bb2 true
# transient unit in the user manager
check "systemd-run --user --wait podman run" asuser $U systemd-run --user --wait --collect --unit=smoke-transient -p Delegate=yes podman run --rm --pull=never --cgroups=split localhost/bb echo hi
# installed unit, quadlet-style (what podman 4.4+'s quadlet would generate)
UD=/var/lib/unroot/$U/.config/systemd/user; mkdir -p $UD
cat > $UD/web.service <<'UNIT'
[Unit]
Description=quadlet-style rootless container
[Service]
Environment=PODMAN_SYSTEMD_UNIT=%n
KillMode=mixed
Delegate=yes
Type=notify
NotifyAccess=all
TimeoutStartSec=300
ExecStart=/usr/bin/podman run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm --cgroups=split --sdnotify=conmon -d --pull=never -p 127.0.0.1:18081:8080 localhost/bb httpd -f -p 8080 -h /www
ExecStop=/usr/bin/podman rm -f -i -t 1 --cidfile=%t/%N.cid
ExecStopPost=-/usr/bin/podman rm -f -i --cidfile=%t/%N.cid
ExecStopPost=-rm -f %t/%N.cid
[Install]
WantedBy=default.target
UNIT
# pod unit in `podman generate systemd --new` style, with --infra-conmon-pidfile
cat > $UD/pod-p1.service <<'UNIT'
[Unit]
Description=rootless pod p1
Wants=pod-p1-c1.service
Before=pod-p1-c1.service
[Service]
Environment=PODMAN_SYSTEMD_UNIT=%n
Restart=on-failure
TimeoutStartSec=300
TimeoutStopSec=70
ExecStartPre=/bin/rm -f %t/pod-p1.pid %t/pod-p1.pod-id
ExecStartPre=/usr/bin/podman pod create --infra-conmon-pidfile %t/pod-p1.pid --pod-id-file %t/pod-p1.pod-id --exit-policy=stop --replace --name p1
ExecStart=/usr/bin/podman pod start --pod-id-file %t/pod-p1.pod-id
ExecStop=/usr/bin/podman pod stop --ignore --pod-id-file %t/pod-p1.pod-id -t 1
ExecStopPost=/usr/bin/podman pod rm --ignore -f --pod-id-file %t/pod-p1.pod-id
PIDFile=%t/pod-p1.pid
Type=forking
[Install]
WantedBy=default.target
UNIT
cat > $UD/pod-p1-c1.service <<'UNIT'
[Unit]
Description=container c1 in pod p1
BindsTo=pod-p1.service
After=pod-p1.service
[Service]
Environment=PODMAN_SYSTEMD_UNIT=%n
Restart=on-failure
TimeoutStartSec=300
TimeoutStopSec=70
ExecStartPre=/bin/rm -f %t/%n.ctr-id
ExecStart=/usr/bin/podman run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm --sdnotify=conmon --replace -d --pull=never --pod-id-file %t/pod-p1.pod-id --name c1 localhost/bb sleep 1000
ExecStop=/usr/bin/podman stop --ignore -t 1 --cidfile=%t/%n.ctr-id
ExecStopPost=/usr/bin/podman rm -f --ignore -t 1 --cidfile=%t/%n.ctr-id
Type=notify
NotifyAccess=all
UNIT
chown -R $U: /var/lib/unroot/$U/.config
check "daemon-reload (user)" asuser $U systemctl --user daemon-reload
check "start web.service (Type=notify, --sdnotify=conmon)" asuser $U systemctl --user start web.service
check "web.service active" asuser $U systemctl --user is-active web.service
# busybox wget -T segfaults in 1.35: bound it with timeout instead
check "rootlessport: host 127.0.0.1:18081 -> container httpd" bash -c 'timeout 20 busybox wget -qO- http://127.0.0.1:18081/ | grep -q "hello from container"'
check "start pod-p1.service (pod + infra-conmon-pidfile)" asuser $U systemctl --user start pod-p1.service
check "infra conmon pidfile in XDG_RUNTIME_DIR" test -s /run/user/$UID_/pod-p1.pid
check "start pod-p1-c1.service (container in pod, Type=notify)" asuser $U systemctl --user start pod-p1-c1.service
check "pod-p1-c1.service active" asuser $U systemctl --user is-active pod-p1-c1.service
asuser $U podman pod ps 2>&1 | sed 's/^/    /'
asuser $U podman ps -a --format '{{.Names}} {{.Status}} {{.Image}}' 2>&1 | sed 's/^/    /'
check "stop pod-p1.service" asuser $U systemctl --user stop pod-p1.service
check "stop web.service" asuser $U systemctl --user stop web.service
# volume dir chowned by the root helper to the container user's subuid range
mkdir -p /srv/unroot/$U/data; chown 300000:300000 /srv/unroot/$U/data   # container uid 1 -> 300000
check "volume written by container uid 1 is owned by host uid 300000" bash -c "asuser $U podman run --rm --pull=never --user 1:1 -v /srv/unroot/$U/data:/data localhost/bb touch /data/f && test \$(stat -c %u /srv/unroot/$U/data/f) = 300000"

section "4. networking to the host's loopback"
mkdir -p /srv/www; echo "hello from host loopback" > /srv/www/index.html
systemd-run --unit=smoke-hostweb --collect busybox httpd -f -p 127.0.0.1:18080 -h /srv/www
wait_for 10 bash -c 'timeout 5 busybox wget -qO- http://127.0.0.1:18080/'
check "host service on 127.0.0.1:18080 up" bash -c 'timeout 20 busybox wget -qO- http://127.0.0.1:18080/ | grep -q "host loopback"'
check "slirp4netns allow_host_loopback=true -> 10.0.2.2:18080" asuser $U podman run --rm --pull=never --network slirp4netns:allow_host_loopback=true localhost/bb timeout 20 wget -qO- http://10.0.2.2:18080/
if asuser $U podman run --help 2>/dev/null | grep -q pasta; then
  check "pasta network" asuser $U podman run --rm --pull=never --network pasta localhost/bb true
else
  skip "pasta: podman $(podman --version | awk '{print $3}') has no --network pasta (added in podman 4.4)"
fi
systemctl stop smoke-hostweb.service

section "lib.sh self-check (not counted)"
if etc_compare /tmp/etc-before >/tmp/etc-diff 2>&1; then
    echo "    etc_compare: UNEXPECTED: no change seen after useradd"; TB_FAIL=$((TB_FAIL + 1))
else
    echo "    etc_compare saw the expected changes:"; grep '^etc_compare' /tmp/etc-diff | sed 's/^/      /'
fi
etc_snapshot /tmp/etc-after
etc_compare /tmp/etc-after || { echo "    etc_compare: UNEXPECTED difference right after a snapshot"; TB_FAIL=$((TB_FAIL + 1)); }
cp /tmp/etc-diff "$TESTBED_ARTIFACTS/" 2>/dev/null || true

summary
