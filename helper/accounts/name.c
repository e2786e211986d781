/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "util.h"

/* systemd's "common core" (docs/USER_NAMES.md): portable across shadow, NSS, systemd and every
 * tool an admin may point at the account. Length is checked against the received length so a NUL
 * smuggled inside a protobuf string cannot truncate "root\0x" to "root". */
bool account_name_is_valid(const char *name, size_t len) {
        if (!name || len == 0 || len > ACCOUNT_NAME_MAX)
                return false;
        if (!(name[0] >= 'a' && name[0] <= 'z'))
                return false;
        for (size_t i = 1; i < len; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                        return false;
        }
        return true;
}

/* Names that belong to Debian's base-passwd, common daemons, privileged groups (adding a member to
 * them would be a confused deputy) or to unroot itself. */
static const char *const reserved_names[] = {
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
        "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody", "nogroup", "messagebus",
        "polkitd", "polkituser", "shadow", "sudo", "adm", "disk", "docker", "wheel", "admin",
        "staff", "users", "tty", "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape",
        "audio", "dip", "operator", "src", "utmp", "video", "sasl", "plugdev", "input", "kvm",
        "render", "sgx", "netdev", "crontab", "ssh", "sshd", "tss", "uuidd", "tcpdump", "lxd",
        "halt", "shutdown", "ftp", "dbus", "nscd", "ntp", "postfix", "postdrop", "avahi", "rtkit",
        "pulse", "geoclue", "colord", "saned", "dnsmasq", "libvirt", "libvirt-qemu", "kvm",
        "lightdm", "gdm", "sddm", "containers", "podman", "unroot",
};

bool account_name_is_reserved(const char *name) {
        if (!name)
                return false;
        /* Whole namespaces: systemd's own accounts and groups, and unroot's own groups
         * (unroot-accounts marks enrolled accounts, unroot-admins grants the polkit actions). */
        if (strneq(name, "systemd-", STRLEN("systemd-")) || strneq(name, "unroot-", STRLEN("unroot-")))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(reserved_names); i++)
                if (streq(name, reserved_names[i]))
                        return true;
        return false;
}

int account_name_check(const char *name, size_t len, ErrorInfo *e) {
        char shown[128];

        if (!name || len == 0)
                return error_set(e, -EINVAL, "name", "The account name is empty.");
        /* Never echo megabytes back: show at most 40 escaped bytes. */
        cescape_span(name, MIN(len, (size_t) 40), shown, sizeof shown);
        if (len > ACCOUNT_NAME_MAX)
                return error_set(e, -EINVAL, "name",
                                 "The account name '%s%s' is %zu bytes long; at most %u are allowed.",
                                 shown, len > 40 ? "..." : "", len, ACCOUNT_NAME_MAX);
        if (memchr(name, 0, len))
                return error_set(e, -EINVAL, "name", "The account name '%s' contains a NUL byte.", shown);
        if (!(name[0] >= 'a' && name[0] <= 'z'))
                return error_set(e, -EINVAL, "name",
                                 "The account name '%s' must start with a lowercase ASCII letter (a-z).", shown);
        for (size_t i = 1; i < len; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                        return error_set(e, -EINVAL, "name",
                                         "The account name '%s' contains a character not allowed at byte %zu; "
                                         "only a-z, 0-9 and '-' are (^[a-z][a-z0-9-]{0,30}$).", shown, i + 1);
        }
        /* Valid syntax from here on, so name[0..len) is printable and NUL-free. */
        char copy[ACCOUNT_NAME_MAX + 1];
        memcpy(copy, name, len);
        copy[len] = 0;
        if (account_name_is_reserved(copy))
                return error_set(e, -EEXIST, "name",
                                 "The account name '%s' is reserved for the system and is not managed by unroot.",
                                 copy);
        return 0;
}

int accounts_subid_count_check(uint64_t count, ErrorInfo *e) {
        if (count == 0 || count > ACCOUNTS_SUBID_COUNT_MAX)
                return error_set(e, -EINVAL, "subid_count",
                                 "The subordinate id count %" PRIu64 " is out of range; it must be 1..%u.",
                                 count, ACCOUNTS_SUBID_COUNT_MAX);
        return 0;
}
