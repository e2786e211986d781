# SPDX-License-Identifier: LGPL-2.1-or-later
# scenario.sh — issue 5's founding scenario in the test bed: the twelve services of
# ../shared/docs/migration-report.md as ROOT Quadlet services, in their state before the migration.
# Source it from a guest test script after lib.sh (it uses check, pass, fail, skip, asuser, wait_for).
#
#   scn_setup                  everything below in order; rc 1 if a step failed
#     scn_host_services        PostgreSQL (localhost + 10.88.0.1) and redis (10.88.0.1 only, as in
#                              the report before its fix) on the host, the host service user
#                              dns-query-exporter owning the technitium API token
#     scn_build_images         the images, offline, under the real images' names (root's store)
#     scn_make_secrets         the podman secrets litellm and wallabag use (root's store)
#     scn_seed_data            data directories and the named volume, owned by non-root container uids
#     scn_write_quadlets       the root Quadlet files in /etc/containers/systemd
#     scn_install_generator    unroot-quadlet as the system generator (podman 4.3 has no Quadlet)
#     scn_start_all            starts the services one at a time
#   scn_check_running WHO SERVICE...   units active, containers healthy, ports answering, exporters on
#                              127.0.0.1 only; WHO = root or an account (its user manager)
#   scn_snapshot_host FILE SERVICE...         every inode of the services' data as root sees it on
#                              the host: path, type, uid:gid, mode, named ACL entries, content checksums
#   scn_snapshot_container WHO FILE SERVICE... the same data seen inside the running containers
#   scn_redis_rebind_loopback  the report's host fix: redis also listens on 127.0.0.1
#
# Service names, accounts, containers and images: the tables below (SCN_*).

SCN_GW=10.88.0.1
SCN_QDIR=/etc/containers/systemd
SCN_TOKEN=/etc/dns-query-exporter/api-token
SCN_HEALTH_INTERVAL=${SCN_HEALTH_INTERVAL:-5m}   # TCG: 14 checks a minute would eat a core
SCN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SCN_SERVICES="metabase wallabag teable nocobase vanna litellm silly-tavern opnsense-exporter
technitium-dns-exporter speedtest budget-board changedetection"
# The accounts the report moved them to; the pods, which the report left on root, go where their
# data's kind belongs.
declare -A SCN_ACCOUNT=(
        [metabase]=container-db [wallabag]=container-db [teable]=container-db [nocobase]=container-db
        [vanna]=container-db [litellm]=container-db [silly-tavern]=container-web
        [opnsense-exporter]=container-monitor [technitium-dns-exporter]=container-monitor
        [speedtest]=container-misc [budget-board]=container-db [changedetection]=container-misc)
declare -A SCN_POD_MEMBERS=([budget-board]="budget-board-server budget-board-client"
        [changedetection]="changedetection-app changedetection-exporter")
declare -A SCN_POD_PUBLISH=([budget-board]="6253:6253" [changedetection]="5000:5000 127.0.0.1:9123:9123")

# One line per container: name | image | user | listen port | published (host:container, "-" in a
# pod: the pod publishes) | data on the host ("volume:NAME" for a named volume, "-" none) | data
# target in the container. uids are the real images' where known (metabase 2000, nginx 101, node
# 1000, www-data 33, .NET's app 1654, nobody 65534, root for nocobase and the technitium exporter).
SCN_CONTAINERS_TABLE='
metabase|docker.io/metabase/metabase:v0.50.20|2000:2000|3000|3000:3000|/srv/metabase|/metabase-data
wallabag|docker.io/wallabag/wallabag:2.6.9|101:101|8080|8081:8080|/srv/wallabag/images|/var/www/wallabag/web/assets/images
teable|ghcr.io/teableio/teable:latest|1000:1000|3000|3001:3000|/srv/teable|/app/.assets
nocobase|docker.io/nocobase/nocobase:latest|0:0|80|13000:80|/srv/nocobase/storage|/app/nocobase/storage
vanna|localhost/vanna:latest|1001:1001|8000|8084:8000|/srv/vanna|/app/chroma
litellm|ghcr.io/berriai/litellm:main-stable|999:999|4000|4000:4000|-|-
silly-tavern|ghcr.io/sillytavern/sillytavern:latest|1000:1000|8000|8000:8000|volume:silly-tavern-data|/home/node/app/data
opnsense-exporter|ghcr.io/athennamind/opnsense-exporter:latest|65534:65534|8080|127.0.0.1:8080:8080|-|-
technitium-dns-exporter|localhost/technitium-dns-exporter:latest|0:0|9274|127.0.0.1:9274:9274|-|-
speedtest|ghcr.io/librespeed/speedtest:latest|33:33|8080|8765:8080|/srv/speedtest|/database
budget-board-server|ghcr.io/teelur/budget-board/server:latest|1654:1654|8080|-|/srv/budget-board|/app/data
budget-board-client|ghcr.io/teelur/budget-board/client:latest|101:101|6253|-|-|-
changedetection-app|ghcr.io/dgtlmoon/changedetection.io:0.45.26|911:911|5000|-|/srv/changedetection|/datastore
changedetection-exporter|ghcr.io/schaermu/changedetection.io-exporter:latest|65534:65534|9123|-|-|-
'

# scn_field CONTAINER N — field N (1-based) of the container's table line
scn_field() { printf '%s\n' "$SCN_CONTAINERS_TABLE" | awk -F'|' -v c="$1" -v n="$2" '$1 == c { print $n }'; }
scn_all_containers() { printf '%s\n' "$SCN_CONTAINERS_TABLE" | awk -F'|' 'NF > 1 { print $1 }'; }
scn_is_pod() { [ -n "${SCN_POD_MEMBERS[$1]:-}" ]; }
# scn_containers SERVICE — its containers (a pod: its members)
scn_containers() { if scn_is_pod "$1"; then echo "${SCN_POD_MEMBERS[$1]}"; else echo "$1"; fi; }
# scn_units SERVICE — the units Quadlet generates for it (a pod: the pod unit first)
scn_units() {
        local c
        if scn_is_pod "$1"; then echo "$1-pod.service"; fi
        for c in $(scn_containers "$1"); do echo "$c.service"; done
}
scn_services_of() { local s; for s in $SCN_SERVICES; do [ "${SCN_ACCOUNT[$s]}" = "$1" ] && echo "$s"; done; }
# scn_as WHO CMD... — root runs CMD directly, an account in its session environment
scn_as() { local who=$1; shift; if [ "$who" = root ]; then (cd /tmp && "$@"); else asuser "$who" "$@"; fi; }
scn_systemctl() { local who=$1; shift; if [ "$who" = root ]; then systemctl "$@"; else asuser "$who" systemctl --user "$@"; fi; }
# scn_cname WHO CONTAINER — the running container of a Quadlet unit, found by Quadlet's label
scn_cname() {
        scn_as "$1" podman ps --filter "label=PODMAN_SYSTEMD_UNIT=$2.service" --format '{{.Names}}' | head -n 1
}
export -f scn_as scn_systemctl

# ------------------------------------------------------------------------------------ host
scn_bridge_name() { podman network inspect podman --format '{{.NetworkInterface}}' 2>/dev/null || echo cni-podman0; }

# The root bridge's address exists from the first root container on (CNI keeps the bridge), and
# the host services bind to it. Create the bridge as CNI would, so PostgreSQL and redis can bind
# before the first container and pg_isready in ExecStartPre can reach them.
scn_bridge_up() {
        local br; br=$(scn_bridge_name)
        ip -4 addr show dev "$br" 2>/dev/null | grep -q "inet $SCN_GW/" && return 0
        ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge || return 1
        ip addr add "$SCN_GW/16" dev "$br" && ip link set "$br" up
}

scn_pg_version() { ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1; }

scn_postgres_up() {
        local v; v=$(scn_pg_version)
        if [ -z "$v" ]; then    # the package's postinst made none (e.g. in a chroot): make it now
                v=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
                [ -n "$v" ] || { echo "PostgreSQL is not installed"; return 1; }
                pg_createcluster "$v" main || return 1
        fi
        local conf=/etc/postgresql/$v/main
        grep -q '^# founding scenario' "$conf/postgresql.conf" || {
                printf "# founding scenario: the containers reach the database at the root bridge address\nlisten_addresses = 'localhost,%s'\n" "$SCN_GW" >> "$conf/postgresql.conf"
                echo "host all all 10.88.0.0/16 scram-sha-256" >> "$conf/pg_hba.conf"
        }
        systemctl start "postgresql@$v-main.service" || return 1
        wait_for 60 pg_isready -q -h "$SCN_GW" -p 5432
}

# redis as the report found it: bound to the root bridge address only.
scn_redis_up() {
        sed -i -e "s/^bind .*/bind $SCN_GW/" -e 's/^protected-mode yes/protected-mode no/' /etc/redis/redis.conf
        systemctl restart redis-server.service || return 1
        wait_for 30 bash -c "redis-cli -h $SCN_GW ping | grep -q PONG"
}

# The report's host fix (its section 3): redis listens on 127.0.0.1 too, where rootless containers
# reach it through slirp4netns' host loopback; 10.88.0.1 stays for the services still on root.
scn_redis_rebind_loopback() {
        sed -i "s/^bind .*/bind 127.0.0.1 $SCN_GW/" /etc/redis/redis.conf
        systemctl restart redis-server.service || return 1
        wait_for 30 bash -c "redis-cli -h 127.0.0.1 ping | grep -q PONG && redis-cli -h $SCN_GW ping | grep -q PONG"
}

# The technitium exporter reads an API token owned by the host service that also uses it.
scn_token_owner() {
        getent passwd dns-query-exporter >/dev/null ||
                useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dns-query-exporter || return 1
        install -d -m 0755 "$(dirname "$SCN_TOKEN")"
        [ -e "$SCN_TOKEN" ] || printf 'technitium-api-token-5f1c0e9a7b3d42e8\n' > "$SCN_TOKEN"
        chown dns-query-exporter:dns-query-exporter "$SCN_TOKEN" && chmod 0400 "$SCN_TOKEN" || return 1
        cat > /etc/systemd/system/dns-query-exporter.service <<EOF
[Unit]
Description=DNS query log exporter (host service sharing the technitium API token)
[Service]
User=dns-query-exporter
ExecStart=/bin/sh -c 'while test -r $SCN_TOKEN; do sleep 20; done; echo "cannot read $SCN_TOKEN"; exit 1'
[Install]
WantedBy=multi-user.target
EOF
        systemctl daemon-reload && systemctl start dns-query-exporter.service
}

# The data lives in /srv/<service>, as the report's tmpfiles rules made it: the admin allows the
# ownership shift there (shift-roots.conf replaces the defaults: the volumes root is listed again) and lets
# the helper's sandbox write there.
scn_shift_roots() {
        mkdir -p /etc/unroot /etc/systemd/system/unroot-helper@.service.d
        printf '%s\n' "# founding scenario: the services' data directories" \
                /var/lib/containers/storage/volumes /srv > /etc/unroot/shift-roots.conf
        printf '[Service]\nReadWritePaths=-/srv\n' > /etc/systemd/system/unroot-helper@.service.d/srv.conf
        systemctl daemon-reload
}

scn_host_services() {
        local r=0
        check "shift allowed below /srv (/etc/unroot/shift-roots.conf, helper drop-in)" scn_shift_roots || r=1
        check "root bridge $(scn_bridge_name) has $SCN_GW" scn_bridge_up || r=1
        check "PostgreSQL listens on localhost and $SCN_GW" scn_postgres_up || r=1
        check "redis listens on $SCN_GW only (the report's starting point)" scn_redis_up || r=1
        check_fail "redis does not answer on 127.0.0.1" bash -c 'redis-cli -h 127.0.0.1 ping | grep -q PONG' || r=1
        check "host service user dns-query-exporter owns $SCN_TOKEN (0400)" scn_token_owner || r=1
        check "dns-query-exporter.service reads it" wait_for 20 systemctl is-active -q dns-query-exporter.service || r=1
        return $r
}

# ---------------------------------------------------------------------------------- images
# scn_rootfs_tar FILE — busybox-static rootfs with /app (scenario-app.sh) and the image users
scn_rootfs_tar() {
        local tar=$1 r bb a
        [ -s "$tar" ] && return 0
        bb=$(command -v busybox) || { echo "busybox not installed"; return 1; }
        r=$(mktemp -d /tmp/scn-rootfs.XXXXXX) && chmod 755 "$r"
        mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,var/tmp,root,app}
        install -d -m 1777 "$r/tmp"; chmod 1777 "$r/var/tmp"
        cp "$bb" "$r/bin/busybox"
        tb_busybox_links "$r/bin" "$bb" || return 1
        install -m 0755 "$SCN_LIB_DIR/scenario-app.sh" "$r/app/app"
        for a in run health probe; do ln -s app "$r/app/$a"; done
        printf '%s\n' root:x:0:0:root:/root:/bin/sh www-data:x:33:33::/:/bin/false \
                nginx:x:101:101::/:/bin/false redis:x:999:999::/:/bin/false node:x:1000:1000::/:/bin/sh \
                vanna:x:1001:1001::/:/bin/sh app:x:1654:1654::/:/bin/sh metabase:x:2000:2000::/:/bin/sh \
                abc:x:911:911::/:/bin/sh nobody:x:65534:65534::/:/bin/false > "$r/etc/passwd"
        sed 's/^\([^:]*\):x:\([0-9]*\):.*/\1:x:\2:/' "$r/etc/passwd" > "$r/etc/group"
        tar --numeric-owner -C "$r" -cf "$tar.new" . && mv "$tar.new" "$tar"
        rm -rf "$r"
}

# scn_image_config CONTAINER DIFF_ID — the image config (JSON) with the real image's user, port
# and environment, as `podman import --change` would write it
scn_image_config() {
        local c=$1 user port data env
        user=$(scn_field "$c" 3) port=$(scn_field "$c" 4) data=$(scn_field "$c" 7)
        env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_NAME='$c'","APP_PORT='$port'"'
        [ "$data" != - ] && env+=',"APP_DATA='$data'"'
        printf '{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z","config":{"User":"%s","ExposedPorts":{"%s/tcp":{}},"Env":[%s],"Cmd":["/app/run"],"Labels":{"org.unroot.scenario":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
                "$user" "$port" "$env" "$c" "$2"
}

# scn_build_images — the fourteen images in ONE docker-archive (one shared layer, a config each,
# tagged with the real images' names) and one `podman load`: under emulation each podman process
# costs seconds of CPU, and fourteen `podman import`s took over 3 minutes.
scn_build_images() {
        local tar=/var/cache/testbed/scenario-rootfs.tar c r=0 d id cfg manifest= out
        mkdir -p /var/cache/testbed
        check "image rootfs (busybox + /app)" scn_rootfs_tar "$tar" || return 1
        d=$(mktemp -d)
        id=$(sha256sum "$tar" | cut -d' ' -f1)
        mkdir "$d/$id" && ln "$tar" "$d/$id/layer.tar" 2>/dev/null || cp "$tar" "$d/$id/layer.tar"
        for c in $(scn_all_containers); do
                scn_image_config "$c" "$id" > "$d/config.json"
                cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
                mv "$d/config.json" "$d/$cfg.json"
                manifest+="${manifest:+,}{\"Config\":\"$cfg.json\",\"RepoTags\":[\"$(scn_field "$c" 2)\"],\"Layers\":[\"$id/layer.tar\"]}"
        done
        echo "[$manifest]" > "$d/manifest.json"
        tar -C "$d" -cf "$d.tar" . && out=$(podman load -i "$d.tar" 2>&1) || { echo "$out" | sed 's/^/    | /'; r=1; }
        rm -rf "$d" "$d.tar"
        # one inspect for all: name and user of each
        out=$(podman image inspect --format '{{index .RepoTags 0}} {{.Config.User}}' \
                $(for c in $(scn_all_containers); do scn_field "$c" 2; done) 2>&1)
        for c in $(scn_all_containers); do
                if grep -qxF "$(scn_field "$c" 2) $(scn_field "$c" 3)" <<< "$out"; then
                        pass "image $(scn_field "$c" 2) in root's store, user $(scn_field "$c" 3)"
                else
                        fail "image $(scn_field "$c" 2) in root's store, user $(scn_field "$c" 3)"; r=1
                fi
        done
        [ $r = 0 ] || sed 's/^/    | /' <<< "$out"
        return $r
}

scn_make_secrets() {
        local r=0
        podman secret rm litellm-master-key wallabag-db-password >/dev/null 2>&1
        check "podman secret litellm-master-key" bash -c 'printf sk-litellm-0d2f7a91 | podman secret create litellm-master-key -' || r=1
        check "podman secret wallabag-db-password" bash -c 'printf wallabag-pw-5c2e | podman secret create wallabag-db-password -' || r=1
        return $r
}

# ------------------------------------------------------------------------------------ data
# scn_seed DIR UID GID NAME — known content, owned the way the service's own files are: the
# service's uid for its data, root for an admin-written config, a setgid upload directory with a
# group-writable file, a file of another container uid, a named-user ACL, a private 0600 database
# and a symlink.
scn_seed() {
        local d=$1 u=$2 g=$3 n=$4
        mkdir -p "$d/db" "$d/uploads"
        seq 1 3000 | sed "s/^/$n row /" > "$d/db/data.db"
        printf 'name: %s\nlisten: 0.0.0.0\n' "$n" > "$d/config.yml"
        printf 'upload of %s\n' "$n" > "$d/uploads/report.csv"
        printf 'thumbnail of %s\n' "$n" > "$d/uploads/thumb.png"
        ln -sfn db/data.db "$d/current"
        chown -R "$u:$g" "$d" && chown -h "$u:$g" "$d/current"
        chown 0:0 "$d/config.yml" && chmod 0644 "$d/config.yml"
        chmod 0750 "$d" && chmod 0700 "$d/db" && chmod 0600 "$d/db/data.db"
        chown "$u:100" "$d/uploads" && chmod 2775 "$d/uploads"
        chown "$u:100" "$d/uploads/report.csv" && chmod 0664 "$d/uploads/report.csv"
        chown 70:70 "$d/uploads/thumb.png" && chmod 0640 "$d/uploads/thumb.png"
        setfacl -m "u:$((u + 1)):r" "$d/uploads/report.csv"
}

# scn_data_path CONTAINER — the data's path on the host as root sees it ("" if none)
scn_data_path() {
        local d; d=$(scn_field "$1" 6)
        case $d in
        -) ;;
        volume:*) podman volume inspect "systemd-${d#volume:}" --format '{{.Mountpoint}}' 2>/dev/null ;;
        *) echo "$d" ;;
        esac
}

scn_seed_data() {
        local c d u r=0
        for c in $(scn_all_containers); do
                d=$(scn_field "$c" 6) u=$(scn_field "$c" 3)
                case $d in
                -) continue ;;
                volume:*)
                        # the named volume: Quadlet's .volume unit creates it, then it is filled
                        check "start ${d#volume:}-volume.service" systemctl start "${d#volume:}-volume.service" || { r=1; continue; }
                        d=$(scn_data_path "$c")
                        [ -d "$d" ] || { fail "volume systemd-${d#volume:} has no mountpoint"; r=1; continue; } ;;
                esac
                check "data of $c in $d owned by container uid ${u%:*}" scn_seed "$d" "${u%:*}" "${u#*:}" "$c" || r=1
        done
        return $r
}

# ----------------------------------------------------------------------------- quadlet files
# scn_container_file CONTAINER — the root Quadlet file, as a NixOS quadlet module would write it
scn_container_file() {
        local c=$1 img user port pub data target svc pod=
        img=$(scn_field "$c" 2) port=$(scn_field "$c" 4) pub=$(scn_field "$c" 5)
        data=$(scn_field "$c" 6) target=$(scn_field "$c" 7)
        case $c in budget-board-*) pod=budget-board ;; changedetection-*) pod=changedetection ;; esac
        local pg= redis= health=/app/health
        case $c in
        metabase | wallabag | teable | nocobase | vanna | litellm | budget-board-server) pg=1 ;;
        esac
        [ $c = litellm ] && redis=1 && health="/app/health pg:$SCN_GW:5432 redis:$SCN_GW:6379"
        echo "[Unit]"
        echo "Description=$c (founding scenario, root)"
        [ -n "$pg" ] && echo "After=postgresql.service"
        [ -n "$redis" ] && echo "After=redis-server.service"
        echo
        echo "[Container]"
        echo "Image=$img"
        [ -n "$pod" ] && echo "Pod=$pod.pod"
        [ "$pub" != - ] && echo "PublishPort=$pub"
        case $data in
        -) ;;
        volume:*) echo "Volume=${data#volume:}.volume:$target" ;;
        *) echo "Volume=$data:$target" ;;
        esac
        if [ -n "$pg" ] && [ $c != litellm ]; then
                echo "Environment=POSTGRES_HOST=$SCN_GW POSTGRES_PORT=5432 POSTGRES_DB=${c%%-*}"
        fi
        case $c in
        litellm)
                echo "Environment=DATABASE_URL=postgresql://litellm@$SCN_GW:5432/litellm"
                echo "Environment=REDIS_HOST=$SCN_GW REDIS_PORT=6379 APP_SECRET_ENV=LITELLM_MASTER_KEY"
                echo "Secret=litellm-master-key,type=env,target=LITELLM_MASTER_KEY" ;;
        wallabag)
                echo "Environment=APP_SECRET_FILE=/run/secrets/wallabag-db-password"
                echo "Secret=wallabag-db-password" ;;
        technitium-dns-exporter)
                echo "Volume=$SCN_TOKEN:/run/secrets/technitium-token:ro"
                echo "Environment=APP_SECRET_FILE=/run/secrets/technitium-token TECHNITIUM_URL=http://$SCN_GW:5380" ;;
        opnsense-exporter)
                echo "Environment=OPNSENSE_EXPORTER_OPS_API=opnsense.home.arpa OPNSENSE_EXPORTER_OPS_PROTOCOL=https" ;;
        budget-board-client)
                echo "Environment=APP_UPSTREAM=http://127.0.0.1:8080/" ;;
        changedetection-exporter)
                echo "Environment=APP_UPSTREAM=http://127.0.0.1:5000/ CDIO_API_BASE_URL=http://127.0.0.1:5000" ;;
        esac
        echo "HealthCmd=$health"
        echo "HealthInterval=$SCN_HEALTH_INTERVAL"
        echo "HealthTimeout=30s"
        echo
        echo "[Service]"
        [ -n "$pg" ] && echo "ExecStartPre=/usr/bin/pg_isready -h $SCN_GW -p 5432 -t 60"
        echo "Restart=always"
        echo "TimeoutStartSec=300"
        echo
        echo "[Install]"
        echo "WantedBy=multi-user.target"
}

scn_pod_file() {
        local p=$1 pub
        printf '[Unit]\nDescription=%s pod (founding scenario, root)\n\n[Pod]\nPodName=%s\n' "$p" "$p"
        for pub in ${SCN_POD_PUBLISH[$p]}; do echo "PublishPort=$pub"; done
        printf '\n[Service]\nTimeoutStartSec=300\n\n[Install]\nWantedBy=multi-user.target\n'
}

scn_write_quadlets() {
        local c
        mkdir -p "$SCN_QDIR"
        for c in $(scn_all_containers); do scn_container_file "$c" > "$SCN_QDIR/$c.container"; done
        scn_pod_file budget-board > "$SCN_QDIR/budget-board.pod"
        scn_pod_file changedetection > "$SCN_QDIR/changedetection.pod"
        printf '[Volume]\nLabel=app=silly-tavern\n' > "$SCN_QDIR/silly-tavern-data.volume"
        chmod 0644 "$SCN_QDIR"/*
}

# unroot-quadlet as the system generator: the name must not contain "user" (podman's rule)
scn_install_generator() {
        local bin=${1:-/usr/libexec/unroot-quadlet}
        [ -x "$bin" ] || { echo "no $bin"; return 1; }
        mkdir -p /etc/systemd/system-generators
        ln -sf "$bin" /etc/systemd/system-generators/unroot-quadlet-generator
        systemctl daemon-reload
}

# ---------------------------------------------------------------------------------- running
scn_start_all() {
        local s c r=0 t0=$SECONDS
        # One at a time: the guest has about one host CPU (the test bed runs two VMs on two), so
        # starting them side by side is no faster (tried: four at a time took as long).
        for s in $SCN_SERVICES; do
                if scn_is_pod "$s"; then
                        check "start $s-pod.service (root)" systemctl start "$s-pod.service" || r=1
                        for c in $(scn_containers "$s"); do
                                check "$c.service active" wait_for 300 systemctl is-active -q "$c.service" || r=1
                        done
                else
                        check "start $s.service (root)" systemctl start "$s.service" || r=1
                fi
        done
        echo "    (started in $((SECONDS - t0)) s)"
        return $r
}

# scn_health WHO CONTAINER — healthy in scn_check_running's listing, or else run the container's
# health check now (HealthInterval is long) until it passes, then read the status podman recorded
scn_health() {
        local n
        # podman's recorded status from scn_check_running's one listing: healthy needs no new run
        if [ -n "${SCN_PS:-}" ] && awk -v u="$2.service" '$1 == u && /\(healthy\)/ { f = 1 } END { exit !f }' <<< "$SCN_PS"; then
                return 0
        fi
        n=$(scn_cname "$1" "$2")
        [ -n "$n" ] || { echo "no running container for $2.service"; return 1; }
        wait_for 120 scn_as "$1" podman healthcheck run "$n" || { scn_as "$1" podman healthcheck run "$n"; return 1; }
        scn_as "$1" podman ps --filter health=healthy --format '{{.Names}}' | grep -qx "$n"
}

# scn_answers CONTAINER — its published port answers on the host with its name
scn_answers() {
        local pub port
        pub=$(scn_field "$1" 5)
        case $1 in budget-board-client) pub=6253:6253 ;; changedetection-app) pub=5000:5000 ;;
        changedetection-exporter) pub=127.0.0.1:9123:9123 ;; esac
        [ "$pub" = - ] && return 0
        port=$(echo "$pub" | awk -F: '{ print $(NF - 1) }')
        timeout 10 busybox wget -qO- "http://127.0.0.1:$port/" | grep -qx "$1 ok"
}

# scn_loopback_only PORT — the only listener on PORT is 127.0.0.1 (exporters publish there)
scn_loopback_only() {
        local l; l=$(ss -ltnH "sport = :$1" | awk '{ print $4 }' | sort -u)
        echo "listeners on $1: ${l:-none}"
        [ "$l" = "127.0.0.1:$1" ]
}

scn_check_running() {
        local who=$1 s c u r=0 SCN_PS; shift
        SCN_PS=$(scn_as "$who" podman ps --format '{{index .Labels "PODMAN_SYSTEMD_UNIT"}} {{.Names}} {{.Status}}' 2>/dev/null)
        for s in "$@"; do
                for u in $(scn_units "$s"); do
                        check "$s: $u active ($who)" scn_systemctl "$who" is-active -q "$u" || r=1
                done
                for c in $(scn_containers "$s"); do
                        check "$s: $c healthy ($who)" scn_health "$who" "$c" || r=1
                        check "$s: $c answers on its published port" scn_answers "$c" || r=1
                done
                case $s in
                opnsense-exporter) check "$s publishes on 127.0.0.1 only" scn_loopback_only 8080 || r=1 ;;
                technitium-dns-exporter) check "$s publishes on 127.0.0.1 only" scn_loopback_only 9274 || r=1 ;;
                changedetection) check "$s exporter publishes on 127.0.0.1 only" scn_loopback_only 9123 || r=1 ;;
                esac
        done
        return $r
}

# ------------------------------------------------------------------------------- snapshots
# scn_snapshot_host FILE SERVICE... — for the later comparison with a rollback: every inode's
# path, type, uid:gid and mode (setuid/setgid/sticky included), named ACL entries, and the
# checksum of every regular file, of each service's data as root sees it on the host.
scn_snapshot_host() {
        local out=$1 s c p; shift
        : > "$out"
        for s in "$@"; do
                for c in $(scn_containers "$s"); do
                        [ "$(scn_field "$c" 6)" = - ] && continue
                        p=$(scn_data_path "$c")
                        [ -n "$p" ] && [ -d "$p" ] || { echo "## $s/$c: no data directory" >> "$out"; continue; }
                        {
                                echo "## $s/$c $(scn_field "$c" 6)"
                                (cd "$p" && find . -printf '%p %y %U:%G %m\n' | LC_ALL=C sort)
                                (cd "$p" && find . -print0 | LC_ALL=C sort -z | xargs -0 getfacl -n -P --skip-base 2>/dev/null)
                                (cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
                        } >> "$out"
                done
        done
}

# scn_snapshot_container WHO FILE SERVICE... — the data as each running container sees it: every
# inode's path, type, uid:gid and mode, and the checksum of every regular file (read as the
# container's root, which sees all of it).
scn_snapshot_container() {
        local who=$1 out=$2 s c n t; shift 2
        : > "$out"
        for s in "$@"; do
                for c in $(scn_containers "$s"); do
                        t=$(scn_field "$c" 7)
                        [ "$t" = - ] && continue
                        n=$(scn_cname "$who" "$c")
                        [ -n "$n" ] || { echo "## $s/$c: not running" >> "$out"; continue; }
                        echo "## $s/$c $t" >> "$out"
                        scn_as "$who" podman exec -u 0 "$n" sh -c 'cd "$1" || exit 1
                                find . | LC_ALL=C sort | while IFS= read -r f; do
                                        if [ -L "$f" ]; then y=l; elif [ -d "$f" ]; then y=d; else y=f; fi
                                        stat -c "%n $y %u:%g %a" "$f"
                                done
                                find . -type f | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done' sh "$t" >> "$out" 2>&1
                done
        done
}

# scn_same DESC A B — PASS when two snapshots are equal, else FAIL with the difference
scn_same() {
        local d=$1 a=$2 b=$3
        if cmp -s "$a" "$b"; then pass "$d ($(grep -vc '^##' "$a") lines)"; return 0; fi
        fail "$d"; diff -u "$a" "$b" | head -n 30 | sed 's/^/    | /'; return 1
}

scn_setup() {
        local r=0
        section "founding scenario: host services"
        scn_host_services || r=1
        section "founding scenario: twelve images in root's store (offline)"
        scn_build_images || r=1
        scn_make_secrets || r=1
        section "founding scenario: root Quadlet files, unroot-quadlet as system generator"
        scn_write_quadlets
        check "unroot-quadlet installed as system generator" scn_install_generator || r=1
        local u
        for u in $(for s in $SCN_SERVICES; do scn_units "$s"; done) silly-tavern-data-volume.service; do
                check "generated $u" test -s "/run/systemd/generator/$u" || r=1
        done
        section "founding scenario: data owned by non-root container uids"
        scn_seed_data || r=1
        section "founding scenario: start the twelve as root, one at a time"
        scn_start_all || r=1
        podman ps --format '{{.Names}} {{.Image}} {{.Status}} {{.Ports}}' | sed 's/^/    /'
        return $r
}
