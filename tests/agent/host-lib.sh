# SPDX-License-Identifier: LGPL-2.1-or-later
# The checks of the host tests in tests/agent (sourced): a pass/fail count and a few predicates
# that say what they expected when they fail.

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
        local d=$1; shift
        if "$@"; then ok "$d"; else fail "$d"; fi
}
contains() { # contains FILE STRING
        if grep -qF -- "$2" "$1"; then return 0; fi
        echo "   expected '$2' in $1:"; sed 's/^/   | /' "$1"
        return 1
}
lacks() { # lacks FILE STRING
        if ! grep -qF -- "$2" "$1"; then return 0; fi
        echo "   did not expect '$2' in $1:"; sed 's/^/   | /' "$1"
        return 1
}
wait_for() { # wait_for SECONDS COMMAND...: poll every 50 ms
        local n=$(($1 * 20)); shift
        for _ in $(seq "$n"); do "$@" 2>/dev/null && return 0; sleep 0.05; done
        return 1
}
