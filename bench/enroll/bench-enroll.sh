#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the test bed (real systemd, logind, polkitd): enroll N accounts with unroot and do the
# same work by hand with shadow's tools, interleaved in one run so that both see the same machine:
#   unroot:   agentctl enroll bu-N --no-wait   (account, group, ranges, home, linger, via the helper)
#   baseline: useradd -r -U -m -d /var/lib/unroot/bb-N -s /usr/sbin/nologin bb-N
#             usermod --add-subuids A-B --add-subgids A-B bb-N   (the admin picks the range after the
#             highest one in /etc/subuid, as a careful admin would; usermod itself checks nothing)
#             loginctl enable-linger bb-N
# Linger is turned off again after each pair, outside the timed part, so that N user managers do
# not pile up in the 2 GiB guest. Prints both totals and the ratio unroot/baseline.
set -u
. "${TESTBED_LIB:-./lib.sh}"
N=${BENCH_N:-50}

tb_install_unroot ./unroot-install.tar >/dev/null || { echo "install failed"; exit 2; }

now_ns() { date +%s%N; }
t_unroot=0 t_base=0
for i in $(seq 1 "$N"); do
        a=$(now_ns)
        (cd /tmp && agentctl --no-ask-password enroll "bu-$i" --no-wait >/dev/null) || { echo "unroot enroll bu-$i failed"; exit 1; }
        b=$(now_ns)
        next=$(awk -F: '{e=$2+$3} e>m{m=e} END{print m+0}' /etc/subuid /etc/subgid)
        useradd -r -U -m -d "/var/lib/unroot/bb-$i" -s /usr/sbin/nologin "bb-$i" &&
                usermod --add-subuids "$next-$((next + 65535))" --add-subgids "$next-$((next + 65535))" "bb-$i" &&
                loginctl enable-linger "bb-$i" || { echo "baseline bb-$i failed"; exit 1; }
        c=$(now_ns)
        t_unroot=$((t_unroot + b - a))
        t_base=$((t_base + c - b))
        loginctl disable-linger "bu-$i" "bb-$i"
        loginctl terminate-user "bu-$i" "bb-$i" 2>/dev/null || true
done
ms() { echo "$(( $1 / 1000000 ))"; }
echo "enroll x$N: unroot $(ms $t_unroot) ms, useradd+usermod+loginctl $(ms $t_base) ms"
awk -v u="$t_unroot" -v b="$t_base" -v n="$N" 'BEGIN { printf "per account: unroot %.1f ms, baseline %.1f ms; ratio unroot/baseline = %.2f\n", u/n/1e6, b/n/1e6, u/b }'
check "all ranges in /etc/subuid are disjoint" bash -c \
        "awk -F: '{print \$2, \$2+\$3}' /etc/subuid | sort -n | awk 'NR>1 && \$1 < prev {bad=1} {prev=\$2} END{exit bad}'"
check "$N unroot accounts with ranges" test "$(grep -c '^bu-' /etc/subuid)" = "$N"
summary
