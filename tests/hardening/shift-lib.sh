# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests/hardening/shift-*.sh after lib.sh: an enrolled account (container-db) on the
# helper's --root tree, a volume below an allowed root with every kind of inode the shift must
# handle, and snapshots. Callers ran hardening_need_root, start_bus_and_polkit, make_tree, start_helper.

SNAP=$SRC/tests/hardening/shift-snap.py
VOLREL=/srv/unroot/pg
VOL=$R$VOLREL

# The symlinks the tests plant point at /etc/shadow. In this mount namespace that is a copy bind-
# mounted over the real one, so a walker bug would show in the checks without touching the host.
protect_shadow() {
        cp -a /etc/shadow "$T/shadow.copy" && mount --bind "$T/shadow.copy" /etc/shadow
}

shift_enroll() {
        "$AGENTCTL" --no-ask-password enroll --no-wait container-db >"$T/enroll.out" 2>&1 || { cat "$T/enroll.out"; return 1; }
        AU=$(awk -F: '$1=="container-db"{print $3}' "$R/etc/passwd")
        AG=$(awk -F: '$1=="container-db"{print $4}' "$R/etc/passwd")
        SU=$(awk -F: '$1=="container-db"{print $2}' "$R/etc/subuid")
        SG=$(awk -F: '$1=="container-db"{print $2}' "$R/etc/subgid")
        [ -n "$AU" ] && [ -n "$SU" ] && [ -n "$SG" ]
}

# make_volume DIR [full]: a root container's volume. "full" adds what cannot be recreated in a loop
# cheaply: a hardlink to a file outside the tree and a bind mount inside it.
make_volume() {
        local V=$1
        mkdir -p "$V/data/base" "$V/conf" "$V/sgdir"
        echo a > "$V/data/base/1"; chown -R 999:999 "$V/data"
        echo b > "$V/conf/app.conf"; chown 33:33 "$V/conf/app.conf"
        echo r > "$V/rootfile"
        printf x > "$V/suid"; chown 5:5 "$V/suid"; chmod 4755 "$V/suid"
        printf x > "$V/sgid"; chown 0:5 "$V/sgid"; chmod 2755 "$V/sgid"
        chown 0:50 "$V/sgdir"; chmod 2775 "$V/sgdir"
        printf x > "$V/cap"; setcap cap_net_raw+ep "$V/cap"
        # v3 capability whose root is container uid 7 (a nested namespace's root)
        printf x > "$V/capv3"; setfattr -n security.capability -v 0x000000030020000000000000000000000000000007000000 "$V/capv3"
        touch "$V/acl"; setfacl -m u:33:rw,g:44:r "$V/acl"
        setfacl -m u:999:rwx "$V/data"; setfacl -d -m u:999:rwx,g:999:rx "$V/data"
        touch "$V/acl-unmapped"; setfacl -m u:70000:r "$V/acl-unmapped"
        ln -s /etc/shadow "$V/evil-link"
        ln -s data "$V/rel-link"
        touch "$V/foreign"; chown 70000:70000 "$V/foreign"
        mkfifo "$V/fifo"; chown 999:999 "$V/fifo"
        if [ "${2:-}" = full ]; then
                echo outside > "$T/outside"; ln "$T/outside" "$V/hl"
                mkdir -p "$T/bindsrc" "$V/mnt"; echo inside > "$T/bindsrc/x"; chown 999:999 "$T/bindsrc/x"
                mount --bind "$T/bindsrc" "$V/mnt"
        fi
}

snap() { python3 "$SNAP" "$@"; }

# field PATH COLUMN: one column of a snapshot line (2 uid, 3 gid, 4 mode, 7 acl, 8 dacl, 9 cap)
field() { awk -v p="$1" -v c="$2" '$1==p {print $c}' "$3"; }

# le32 N: the little-endian hex of N, as in an xattr dump
le32() { printf '%02x%02x%02x%02x' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) $(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 )); }

shift_run() { "$AGENTCTL" --no-ask-password shift "$@"; }
