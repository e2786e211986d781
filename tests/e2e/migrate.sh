#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# agentctl migrate plan|apply|rollback end to end on one root Quadlet service in the test bed
# (podman 4.3.1, systemd 252). The twelve-service scenario of issue 5 is its own test; this one
# checks the command's mechanics on a service with every kind of step:
#   a localhost/ image only in root's store, a podman secret, a data directory owned by container
#   uids 1000 and 999, an environment value pointing at the root bridge gateway, a health check.
# Sections: plan; a failing step (undo, root service back, every inode as before); apply killed
# halfway and re-run (completes); the rootless service (owners seen inside, rewrites, secret, port,
# health); rollback (root service back, files byte-identical, every inode's owner and mode as before).
set -u
. "${TESTBED_LIB:-./lib.sh}"

SVC=mig-web
ACC=container-web
DATA=/srv/unroot/$SVC
Q=/etc/containers/systemd
PORT=18088
REC=/var/lib/unroot/migrate/$SVC/record.json
SNAP=/tmp/migrate-snap

section "install unroot"
if ! check "install the freshly built unroot" tb_install_unroot ./unroot-install.tar; then
        summary; exit 1
fi
echo "podman: $(podman --version); systemd: $(systemctl --version | head -1)"
# Root's Quadlet files become root units through the translator as the system generator
# (Debian 12's podman 4.3 has no Quadlet).
mkdir -p /etc/systemd/system-generators
ln -sf /usr/libexec/unroot-quadlet /etc/systemd/system-generators/podman-system-generator
check "offline image localhost/bb in root's store" tb_make_image

section "the root service"
mkdir -p $Q $DATA/db
echo "hello from $SVC" > $DATA/index.html
echo "row 1" > $DATA/db/table
chown 1000:1000 $DATA/index.html
chown -R 999:999 $DATA/db
chmod 0750 $DATA/db
chmod 0640 $DATA/db/table
printf 'tok-123' | podman secret create mig-token - >/dev/null
cat > $Q/$SVC.container <<EOF
# a web service as root ran it
[Container]
Image=localhost/bb:latest
Exec=httpd -f -p 8080 -h /data
Volume=$DATA:/data
Environment=DB_HOST=10.88.0.1 DB_PORT=5432
Secret=mig-token,type=env,target=TOKEN
PublishPort=127.0.0.1:$PORT:8080
HealthCmd=wget -q -O /dev/null http://127.0.0.1:8080/
HealthInterval=5s
StopTimeout=1

[Service]
Restart=on-failure
EOF
cp -p $Q/$SVC.container /tmp/orig.container
systemctl daemon-reload
check "root unit generated" systemctl cat $SVC.service
check "root service starts" systemctl start $SVC.service
check "root service answers" wait_for 60 bash -c "timeout 10 busybox wget -qO- http://127.0.0.1:$PORT/ | grep -q 'hello from'"

snapshot() { # every inode's path, owner, group, mode, and every file's checksum
        (cd $DATA && find . -printf '%p %U %G %m\n' | sort && find . -type f -exec sha256sum {} + | sort -k2)
}
snapshot > $SNAP
sed 's/^/    | /' $SNAP

section "plan"
out=$(agentctl migrate plan $SVC --to $ACC 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "plan exits 0" || fail "plan exits $rc"
for s in "enroll 'container-web'" "$DATA" "localhost/bb:latest (Pull=never)" "podman secret mig-token" \
         "DB_HOST=host.containers.internal" "slirp4netns:allow_host_loopback=true" "Nothing blocks the move."; do
        case $out in *"$s"*) pass "plan shows: $s" ;; *) fail "plan does not show: $s" ;; esac
done
agentctl migrate plan $SVC --to $ACC --json > /tmp/plan.json 2>&1
# (no python3 in the guest)
check "plan --json: one object, ok, the service" bash -c "head -c 1 /tmp/plan.json | grep -q '{' &&
        grep -q '\"ok\":true' /tmp/plan.json && grep -q '\"service\":\"mig-web\"' /tmp/plan.json"
check_fail "plan changed nothing: no record" test -e $REC
check "plan changed nothing: root service active" systemctl is-active -q $SVC.service
check_fail "plan of an unknown service fails" agentctl migrate plan nosuch --to $ACC
check_fail "plan of a bad name fails" agentctl migrate plan 'a/b' --to $ACC

section "apply with a failing step (podman as the account cannot run)"
out=$(UNROOT_SETPRIV=/bin/false agentctl migrate apply $SVC --to $ACC 2>&1); rc=$?
echo "$out" | tail -n 15 | sed 's/^/    | /'
[ $rc != 0 ] && pass "apply fails (exit $rc)" || fail "apply succeeded with a broken step"
check "the account was enrolled" id $ACC
check "record: state rolled-back" grep -q '"state":"rolled-back"' $REC
check "record: the error is kept" grep -q '"error":"step images failed' $REC
check "root file back, byte for byte" cmp $Q/$SVC.container /tmp/orig.container
check "root service active again" wait_for 60 systemctl is-active -q $SVC.service
check "root service answers again" wait_for 60 bash -c "timeout 10 busybox wget -qO- http://127.0.0.1:$PORT/ | grep -q 'hello from'"
check "every inode as before" bash -c "diff <(cd $DATA && find . -printf '%p %U %G %m\n' | sort && find . -type f -exec sha256sum {} + | sort -k2) $SNAP"

section "apply killed halfway, then run again"
agentctl migrate apply $SVC --to $ACC > /tmp/apply1.log 2>&1 &
pid=$!
# the record of the failed attempt is there already: wait for this attempt's
wait_for 120 grep -qE '"state":"applying","step":"(stop-root|shift|images|secrets|install|start)"' $REC
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
echo "    killed at: $(grep -o '"state":"[^"]*","step":"[^"]*"' $REC)"
check "record says applying" grep -q '"state":"applying"' $REC
out=$(agentctl migrate apply $SVC --to $ACC 2>&1); rc=$?
echo "$out" | tail -n 20 | sed 's/^/    | /'
[ $rc = 0 ] && pass "the re-run completes (exit 0)" || fail "the re-run exits $rc"
check "record: state applied, step healthy" grep -q '"state":"applied","step":"healthy"' $REC
for t in ownership-shift image-copy pull-never host-loopback address-rewrite secret-recreate; do
        check "record: technique $t" grep -q "\"$t\"" $REC
done

section "the rootless service"
UIDA=$(id -u $ACC)
SUB=$(awk -F: -v u=$ACC '$1 == u { print $2 }' /etc/subuid)
HOMEA=$(getent passwd $ACC | cut -d: -f6)
check_fail "root file gone" test -e $Q/$SVC.container
check "byte copy kept in orig/" cmp /var/lib/unroot/migrate/$SVC/orig/$SVC.container /tmp/orig.container
check "record dir is root:root 0700" bash -c "[ \"\$(stat -c '%U %G %a' /var/lib/unroot/migrate/$SVC)\" = 'root root 700' ]"
check "account's file owned by the account" bash -c "[ \"\$(stat -c %U $HOMEA/.config/containers/systemd/$SVC.container)\" = $ACC ]"
check "rewritten: Pull=never" grep -qx 'Pull=never' $HOMEA/.config/containers/systemd/$SVC.container
check_fail "root's unit is gone" systemctl is-active -q $SVC.service
check "user unit active" asuser $ACC systemctl --user is-active -q $SVC.service
check "rootless service answers on 127.0.0.1" wait_for 60 bash -c "timeout 10 busybox wget -qO- http://127.0.0.1:$PORT/ | grep -q 'hello from'"
check "index.html: host owner subuid+999" bash -c "[ \$(stat -c %u $DATA/index.html) = $((SUB + 999)) ]"
check "data root: host owner the account" bash -c "[ \$(stat -c %u $DATA) = $UIDA ]"
check "db/table: host owner subuid+998" bash -c "[ \$(stat -c %u $DATA/db/table) = $((SUB + 998)) ]"
inside=$(asuser $ACC podman exec systemd-$SVC sh -c 'stat -c "%u %g %a %n" /data /data/index.html /data/db /data/db/table; echo "DB_HOST=$DB_HOST TOKEN=$TOKEN"' 2>&1)
echo "$inside" | sed 's/^/    | /'
check "inside: owners as under root" bash -c "printf '%s\n' \"$inside\" | grep -qx '1000 1000 644 /data/index.html' &&
        printf '%s\n' \"$inside\" | grep -qx '999 999 750 /data/db' && printf '%s\n' \"$inside\" | grep -qx '999 999 640 /data/db/table' &&
        printf '%s\n' \"$inside\" | grep -qx '0 0 755 /data'"
check "inside: gateway rewritten, secret recreated" bash -c "printf '%s\n' \"$inside\" | grep -qx 'DB_HOST=host.containers.internal TOKEN=tok-123'"
check "checksums unchanged" bash -c "diff <(cd $DATA && find . -type f -exec sha256sum {} + | sort -k2) <(grep -E '^[0-9a-f]{64} ' $SNAP)"
check_fail "apply again is refused (already migrated)" agentctl migrate apply $SVC --to $ACC
check_fail "plan again is refused (already migrated)" agentctl migrate plan $SVC --to $ACC

section "rollback"
out=$(agentctl migrate rollback $SVC 2>&1); rc=$?
echo "$out" | tail -n 15 | sed 's/^/    | /'
[ $rc = 0 ] && pass "rollback exits 0" || fail "rollback exits $rc"
check "record: state rolled-back" grep -q '"state":"rolled-back"' $REC
check "root file back, byte for byte" cmp $Q/$SVC.container /tmp/orig.container
check "root file's mode and owner" bash -c "[ \"\$(stat -c '%U %G %a %Y' $Q/$SVC.container)\" = \"\$(stat -c '%U %G %a %Y' /tmp/orig.container)\" ]"
check_fail "account's file removed" test -e $HOMEA/.config/containers/systemd/$SVC.container
check_fail "user unit gone" asuser $ACC systemctl --user is-active -q $SVC.service
check "root service active" wait_for 60 systemctl is-active -q $SVC.service
check "root service answers" wait_for 60 bash -c "timeout 10 busybox wget -qO- http://127.0.0.1:$PORT/ | grep -q 'hello from'"
check "every inode's owner and mode as before the migration" bash -c "diff <(cd $DATA && find . -printf '%p %U %G %m\n' | sort && find . -type f -exec sha256sum {} + | sort -k2) $SNAP"
check_fail "rollback again is refused" agentctl migrate rollback $SVC
check "plan works again after rollback" agentctl migrate plan $SVC --to $ACC

summary
