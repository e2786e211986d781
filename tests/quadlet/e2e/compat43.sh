#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest side (Debian 12, podman 4.3.1): unroot-quadlet installed as a *user generator* must
# detect podman 4.3 by itself and emit units that start there, one representative file per
# must-type (.container, .volume, .network, .pod, .image) plus .build and .kube. User units for
# podman < 5.3 wait for the network through unroot's own unroot-wait-online.service.
set -u
. "$TESTBED_LIB"
U=qx

section "setup"
echo "podman: $(podman --version)"
install -m 0755 "$TESTBED_IN/unroot-quadlet" /usr/local/libexec-unroot-quadlet
mkdir -p /etc/systemd/user-generators
# the name contains "user": podman's rule for user mode
ln -sf /usr/local/libexec-unroot-quadlet /etc/systemd/user-generators/unroot-quadlet-user-generator
# the wait unit, as a package installs it (ExecStart= points at the installed program)
install -m 0755 "$TESTBED_IN/unroot-wait-online" /usr/local/libexec-unroot-wait-online
mkdir -p /etc/systemd/user
sed 's|@libexecdir@/unroot-wait-online|/usr/local/libexec-unroot-wait-online|' \
        "$TESTBED_IN/unroot-wait-online.service.in" > /etc/systemd/user/unroot-wait-online.service
check "create user $U" useradd -m -s /bin/bash $U
check "enable linger" loginctl enable-linger $U
check "user manager up" wait_user_manager $U 90
check "offline image localhost/bb" tb_make_image $U
HOME_U=$(getent passwd $U | cut -d: -f6)
UID_U=$(id -u $U)
check "docker-archive of the image" asuser $U podman save -o "$HOME_U/bb-archive.tar" localhost/bb:latest

Q=$HOME_U/.config/containers/systemd
mkdir -p "$Q/ctx"
cat > "$Q/web.container" <<'UNIT'
[Unit]
Description=web (busybox httpd)
[Container]
Image=localhost/bb:latest
Pull=never
Network=web.network
Volume=web-data.volume:/data
PublishPort=127.0.0.1:18090:8080
Environment=GREETING=hello
Label=app=web
HealthCmd=true
HealthInterval=30s
Exec=httpd -f -p 8080 -h /www
[Install]
WantedBy=default.target
UNIT
cat > "$Q/web-data.volume" <<'UNIT'
[Volume]
Label=app=web
UNIT
cat > "$Q/web.network" <<'UNIT'
[Network]
Subnet=10.89.29.0/24
Gateway=10.89.29.1
Label=app=web
UNIT
cat > "$Q/app.pod" <<'UNIT'
[Pod]
PodName=app
Network=web.network
UNIT
cat > "$Q/member.container" <<'UNIT'
[Container]
Image=localhost/bb:latest
Pull=never
Pod=app.pod
Exec=sleep 1000
UNIT
cat > "$Q/bb.image" <<UNIT
[Image]
Image=docker-archive:$HOME_U/bb-archive.tar
UNIT
cat > "$Q/custom.build" <<'UNIT'
[Build]
ImageTag=localhost/custom:latest
SetWorkingDirectory=unit
File=ctx/Containerfile
Pull=never
UNIT
printf 'FROM localhost/bb:latest\nRUN echo built > /built\n' > "$Q/ctx/Containerfile"
cat > "$Q/site.kube" <<'UNIT'
[Kube]
Yaml=site.yaml
UNIT
cat > "$Q/site.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: site
spec:
  containers:
  - name: sleeper
    image: localhost/bb:latest
    command: ["sleep", "1000"]
YAML
chown -R $U: "$HOME_U/.config"

section "generate (daemon-reload runs the generator)"
check "daemon-reload" asuser $U systemctl --user daemon-reload
G=/run/user/$UID_U/systemd/generator
ls -l $G 2>&1 | sed 's/^/    /'
for s in web web-data-volume web-network app-pod member bb-image custom-build site; do
        check "generated $s.service" test -s $G/$s.service
done
check "podman 4.3 detected: no volume create --ignore" bash -c "! grep -q -- '--ignore' $G/web-data-volume.service"
check "volume unit uses the exists-or-create form" grep -q 'volume exists systemd-web-data' $G/web-data-volume.service
check "no podman-user-wait-network-online.service reference" bash -c "! grep -rq podman-user-wait-network-online $G"
check "no network-online.target in user units" bash -c "! grep -rq network-online.target $G"
for s in web web-data-volume web-network app-pod member bb-image custom-build site; do
        check "$s.service: Wants=unroot-wait-online.service" grep -qx 'Wants=unroot-wait-online.service' $G/$s.service
        check "$s.service: After=unroot-wait-online.service" grep -qx 'After=unroot-wait-online.service' $G/$s.service
done
check "[Install] symlink" test -L $G/default.target.wants/web.service
for s in web-data-volume web-network web app-pod bb-image custom-build site; do
        echo "--- $s.service"; grep -E '^Exec' $G/$s.service | sed 's/^/    /'
done

section "start on podman 4.3.1"
for s in web-data-volume web-network bb-image custom-build; do
        check "start $s" asuser $U systemctl --user start $s.service
done
check "start web" asuser $U systemctl --user start web.service
check "web active" wait_for 60 asuser $U systemctl --user is-active -q web.service
check "unroot-wait-online.service pulled in and done" asuser $U systemctl --user is-active -q unroot-wait-online.service
after_has() { asuser $U systemctl --user show -p After "$1" | grep -q "$2"; }
check "web ordered after it" after_has web.service unroot-wait-online.service
check "httpd reachable through the published port" bash -c 'timeout 20 busybox wget -qO- http://127.0.0.1:18090/ | grep -q "hello from container"'
check "volume exists" asuser $U podman volume exists systemd-web-data
check "network exists" asuser $U podman network exists systemd-web
check "built image exists" asuser $U podman image exists localhost/custom:latest
check "start app-pod (pulls in member)" asuser $U systemctl --user start app-pod.service
check "app-pod active" wait_for 60 asuser $U systemctl --user is-active -q app-pod.service
check "member active" wait_for 60 asuser $U systemctl --user is-active -q member.service
check "start site (kube)" asuser $U systemctl --user start site.service
check "site active" wait_for 60 asuser $U systemctl --user is-active -q site.service

section "idempotence of the --ignore replacement"
check "restart volume unit (volume already exists)" asuser $U systemctl --user restart web-data-volume.service
check "restart network unit (network already exists)" asuser $U systemctl --user restart web-network.service
section "restarts (stale %t files from podman 4.3)"
check "restart web" asuser $U systemctl --user restart web.service
check "web active after restart" wait_for 60 asuser $U systemctl --user is-active -q web.service
check "restart app-pod" asuser $U systemctl --user restart app-pod.service
check "app-pod active after restart" wait_for 60 asuser $U systemctl --user is-active -q app-pod.service
check "member active after pod restart" wait_for 60 asuser $U systemctl --user is-active -q member.service
check "container units remove the cid file after stop (podman < 4.5)" grep -q '^ExecStopPost=-/bin/rm -f %t/%N.cid' $G/web.service
check "app-pod unit removes stale pod-id files first (podman < 5.0)" grep -q '^ExecStartPre=/bin/rm -f %t/%N.pid %t/%N.pod-id' $G/app-pod.service
check "stop web" asuser $U systemctl --user stop web.service
check "stop pod" asuser $U systemctl --user stop app-pod.service
check "stop site" asuser $U systemctl --user stop site.service
asuser $U systemctl --user --no-pager status web.service app-pod.service member.service site.service 2>&1 | tail -40 | sed 's/^/    /'
asuser $U journalctl --user --no-pager -n 60 2>&1 | sed 's/^/    /' | tail -60
summary
