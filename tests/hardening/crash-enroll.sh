#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash consistency of the real unroot-helper (helper-anchors.md §5.4, issue 6 part 3): for each
# syscall set (write, rename*, fsync, unlink*, link* of the per-file locks) and every N, the helper is killed with SIGKILL at the
# N-th call by strace, during `enroll` and during `unenroll --purge`, until a run completes without
# an injection. After each kill: every account file is byte-identical to either the state before
# or the state after an uninterrupted run; no user without its group, no ranges without the user;
# shadow/gshadow keep mode 0640 and group 42; nothing but the six files, their "-" backups,
# .pwd.lock and (until the next run cleans them) the helper's temp files and shadow-style
# "<file>.lock"/"<file>.<pid>" of the dead helper is in /etc. Then the same request again converges
# byte for byte to the uninterrupted result (taking over the stale locks), with no temp or lock
# file left. A kill that lands after the success reply (log writes, closing the connection) must
# find the new state wholly on disk: the client was promised it.
# Finally fsync → EIO, write → ENOSPC (strace) and a really full tmpfs /etc: an error reply and
# /etc byte-identical.
# usage: crash-enroll.sh BUILD_DIR SOURCE_DIR [enroll|purge|errors|all]
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root
QUIET_PASS=1
start_bus_and_polkit || exit 1
make_tree "$R"
start_helper
NAME=container-crash
MAXN=${UNROOT_CRASH_MAXN:-400}

snap() { mkdir -p "$2"; for f in $ACCOUNT_FILES; do cp -p "$1/etc/$f" "$2/$f"; done; }
restore() { rm -rf "$R/etc" "$R/var/lib/unroot"; cp -a "$1/etc" "$R/etc"; [ -d "$1/home" ] && mkdir -p "$R/var/lib" && cp -a "$1/home" "$R/var/lib/unroot"; true; }
full_snap() { rm -rf "$2"; mkdir -p "$2"; cp -a "$1/etc" "$2/etc"; [ -d "$1/var/lib/unroot" ] && cp -a "$1/var/lib/unroot" "$2/home"; true; }
req() { "$AGENTCTL" --no-ask-password "$@" >"$T/out" 2>&1; }

check_state() { # check_state DESC OLD NEW: each file wholly old or wholly new, consistent, modes kept
        local desc=$1 old=$2 new=$3 f ok=1
        for f in $ACCOUNT_FILES; do
                if ! cmp -s "$R/etc/$f" "$old/$f" && ! cmp -s "$R/etc/$f" "$new/$f"; then
                        fail "$desc: /etc/$f is neither old nor new"; diff "$old/$f" "$R/etc/$f" | head -5; ok=0
                fi
        done
        # users ⊆ groups by name and gid; ranges only for existing users (the rename order's promise)
        awk -F: 'NR==FNR { g[$3]=1; n[$1]=1; next } !($4 in g) || !($1 in n) { print "user " $1 " without its group"; bad=1 } END { exit bad }' \
                "$R/etc/group" "$R/etc/passwd" || { fail "$desc: user without group"; ok=0; }
        for f in subuid subgid; do
                awk -F: 'NR==FNR { u[$1]=1; next } /^[a-z]/ && !($1 in u) { print $1; bad=1 } END { exit bad }' \
                        "$R/etc/passwd" "$R/etc/$f" >/dev/null || { fail "$desc: $f range without a user"; ok=0; }
        done
        awk -F: 'NR==FNR { s[$1]=1; next } !($1 in s) { bad=1 } END { exit bad }' "$R/etc/shadow" "$R/etc/passwd" ||
                { [ -n "${ALLOW_NO_SHADOW:-}" ] || true; }
        for f in shadow gshadow shadow- gshadow-; do
                [ -e "$R/etc/$f" ] || continue
                [ "$(stat -c '%a %u %g' "$R/etc/$f")" = "640 0 42" ] || { fail "$desc: $f is $(stat -c '%a %u %g' "$R/etc/$f")"; ok=0; }
        done
        local extra
        extra=$(cd "$R/etc" && ls -A | grep -vxE '(group|gshadow|passwd|shadow|subuid|subgid)(-|\.lock|\.[0-9]+)?|\.pwd\.lock' | grep -v "^$TEMP_RE" )
        [ -z "$extra" ] || { fail "$desc: unexpected files in /etc: $extra"; ok=0; }
        return $((1 - ok))
}

# uninterrupted runs: before → after enroll → after purge
full_snap "$R" "$T/s0"
req enroll --no-wait "$NAME" || { fail "uninterrupted enroll: $(cat "$T/out")"; finish; exit; }
full_snap "$R" "$T/s1"
req unenroll --purge "$NAME" || { fail "uninterrupted purge: $(cat "$T/out")"; finish; exit; }
full_snap "$R" "$T/s2"
snap "$T/s0" "$T/f0"; snap "$T/s1" "$T/f1"; snap "$T/s2" "$T/f2"
for s in 0 1 2; do for f in $ACCOUNT_FILES; do cp "$T/s$s/etc/$f" "$T/f$s/$f"; done; done
cmp -s "$T/f0/passwd" "$T/f1/passwd" && { fail "enroll did not change passwd"; finish; exit; }
# the helper's temp file names: learn the prefix from the source (ETC_TEMP_PREFIX)
TEMP_RE=$(sed -n 's/^#define ETC_TEMP_PREFIX "\(.*\)"/\1/p' "$SRC/helper/accounts/etc-write.h" | sed 's/\./\\./g')
[ -n "$TEMP_RE" ] || TEMP_RE='\.#unroot'
echo "temp prefix: $TEMP_RE"

killpoints=0 leftovers=0 after_reply=0
crash_loop() { # crash_loop OPNAME SPEC START_SNAPSHOT END_SNAPSHOT REQUEST...
        local op=$1 spec=$2 from=$3 to=$4; shift 4
        local n injected
        for n in $(seq 1 "$MAXN"); do
                restore "$T/s$from"
                echo "$spec:signal=SIGKILL:when=$n" > "$T/inject"
                rm -f "$T/strace.log"
                req "$@"; rc=$?
                : > "$T/inject"
                injected=$(grep -c 'killed by SIGKILL' "$T/strace.log" 2>/dev/null)
                if [ "${injected:-0}" = 0 ]; then
                        [ $rc = 0 ] || fail "$op $spec N=$n: no kill, but rc $rc: $(cat "$T/out")"
                        echo "$op/$spec: $((n - 1)) kill points"
                        return
                fi
                killpoints=$((killpoints + 1))
                if [ $rc = 0 ]; then
                        # The kill landed after the reply (a log write, the connection's close; more
                        # of those under ASan): success was promised, so the new state must be
                        # wholly on disk already.
                        after_reply=$((after_reply + 1))
                        local f same=1
                        for f in $ACCOUNT_FILES; do cmp -s "$R/etc/$f" "$T/f$to/$f" || same=0; done
                        [ $same = 1 ] && pass "$op $spec N=$n: killed after a success reply, new state complete" ||
                                fail "$op $spec N=$n: the client was told success, but /etc is not the new state"
                elif check_state "$op $spec N=$n (after the kill)" "$T/f$from" "$T/f$to"; then pass "$op $spec N=$n"; fi
                ls -A "$R/etc" | grep -q "^$TEMP_RE" && leftovers=$((leftovers + 1))
                # re-run converges byte for byte
                req "$@" || fail "$op $spec N=$n: re-run failed: $(cat "$T/out")"
                for f in $ACCOUNT_FILES; do
                        cmp -s "$R/etc/$f" "$T/f$to/$f" || { fail "$op $spec N=$n: re-run gives a different /etc/$f"; diff "$T/f$to/$f" "$R/etc/$f" | head -4; }
                done
                ls -A "$R/etc" | grep -q "^$TEMP_RE" && fail "$op $spec N=$n: temp files left after the re-run: $(ls -A "$R/etc")"
                ls -A "$R/etc" | grep -vx '.pwd.lock' | grep -qE '\.(lock|[0-9]+)$' && fail "$op $spec N=$n: lock files left after the re-run: $(ls -A "$R/etc")"
                if [ $to = 1 ]; then
                        [ "$(stat -c '%a %u' "$R/var/lib/unroot/$NAME" 2>&1)" = "$(stat -c '%a %u' "$T/s1/home/$NAME")" ] ||
                                fail "$op $spec N=$n: home after the re-run: $(stat -c '%a %u' "$R/var/lib/unroot/$NAME" 2>&1)"
                else
                        [ ! -e "$R/var/lib/unroot/$NAME" ] || fail "$op $spec N=$n: home still there after the re-run"
                fi
        done
        fail "$op/$spec: still injecting after $MAXN calls"
}

MODE=${3:-all}
for spec in write rename,renameat,renameat2 fsync,fdatasync unlink,unlinkat link,linkat; do
        case $MODE in enroll|all) crash_loop enroll "$spec" 0 1 enroll --no-wait "$NAME";; esac
        case $MODE in purge|all) crash_loop purge "$spec" 1 2 unenroll --purge "$NAME";; esac
done
echo "kill points tested: $killpoints (after the success reply: $after_reply; temp files left right after a kill: $leftovers times)"
case $MODE in enroll|purge) finish; exit;; esac

# errors instead of kills: an error reply, the six files byte-identical, no temp or lock file
leftovers_in_etc() { ls -A "$R/etc" | grep -vx '.pwd.lock' | grep -E "^$TEMP_RE|\.(lock|[0-9]+)\$"; }
err_case() { # err_case DESC SPEC MESSAGE_RE
        restore "$T/s0"
        echo "$2" > "$T/inject"
        req enroll --no-wait "$NAME"; rc=$?
        : > "$T/inject"
        [ $rc != 0 ] && pass "$1: error reply (rc $rc)" || fail "$1: the helper reported success"
        grep -q "$3" "$T/out" && pass "$1: message names it" || fail "$1: message: $(cat "$T/out")"
        for f in $ACCOUNT_FILES; do cmp -s "$R/etc/$f" "$T/f0/$f" || fail "$1: /etc/$f changed"; done
        [ -z "$(leftovers_in_etc)" ] && pass "$1: no temp or lock file left" || fail "$1: left: $(leftovers_in_etc)"
        sed 's/^/    | /' "$T/out" | head -3
        req enroll --no-wait "$NAME" && pass "$1: the same request succeeds without the fault" || fail "$1: re-run: $(cat "$T/out")"
}
QUIET_PASS=
err_case "fsync → EIO" "fsync:error=EIO" "fsync"
# rename → EXDEV (as for a bind-mounted file): on the first rename (a backup), and on the first
# rename of a primary file (the 7th: six backups come first). Either way the six files are intact.
err_case "rename → EXDEV (every rename)" "rename,renameat,renameat2:error=EXDEV" "Invalid cross-device link"
err_case "rename → EXDEV (from the first primary file on)" "rename,renameat,renameat2:error=EXDEV:when=7+" "Invalid cross-device link"
# write → ENOSPC by strace is not used: strace counts writes per thread and the helper's D-Bus
# traffic to polkit shares the main thread's count with a varying number of writes, so "every write
# from the first file write on" could not be aimed reliably (it hit polkit instead, 25 s each).
# A real full file system gives the same ENOSPC from write(2).

# /etc on a tiny tmpfs: completely full (the lock cannot even be taken), and with room for shadow's
# six lock files (a page each) but not for the new account files (the write of a temp file fails)
tmpfs_case() { # tmpfs_case DESC BYTES_LEFT MESSAGE_RE
        restore "$T/s0"
        rm -rf "$T/etc-copy"; mkdir -p "$T/etc-copy"; cp -a "$R/etc/." "$T/etc-copy/"
        mount -t tmpfs -o size=512k,mode=755 tmpfs "$R/etc" || { echo "SKIP (part): cannot mount a tmpfs"; return; }
        cp -a "$T/etc-copy/." "$R/etc/"
        local avail
        avail=$(df -B1 --output=avail "$R/etc" | tail -1)
        [ "$avail" -gt "$2" ] && head -c $((avail - $2)) /dev/zero > "$R/etc/filler" 2>/dev/null
        req enroll --no-wait "$NAME"; rc=$?
        rm -f "$R/etc/filler"
        [ $rc != 0 ] && pass "$1: error reply (rc $rc)" || fail "$1: success reported"
        grep -q "$3" "$T/out" && pass "$1: the message says where" || fail "$1: message: $(cat "$T/out")"
        sed 's/^/    | /' "$T/out" | head -3
        for f in $ACCOUNT_FILES; do cmp -s "$R/etc/$f" "$T/f0/$f" || fail "$1: /etc/$f changed"; done
        [ -z "$(leftovers_in_etc)" ] && pass "$1: no temp or lock file left, files intact" || fail "$1: left: $(leftovers_in_etc)"
        req enroll --no-wait "$NAME" && pass "$1: enroll succeeds once there is room" || fail "$1: after freeing space: $(cat "$T/out")"
        umount "$R/etc"
}
tmpfs_case "full tmpfs /etc" 0 "No space left on device"
tmpfs_case "tmpfs /etc with room only for the locks" $((7 * 4096)) "Cannot write the new /etc/.*No space left on device"
finish
