/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "secret-group-plan.h"
#include "util.h"

int secret_group_name_check(const char *name, size_t len, ErrorInfo *e) {
        char shown[128], copy[ACCOUNT_NAME_MAX + 1];

        if (!name || len == 0)
                return error_set(e, -EINVAL, "group", "group: empty; give the name of the group to share the file through");
        cescape_span(name, MIN(len, (size_t) 40), shown, sizeof shown);
        if (!account_name_is_valid(name, len))
                return error_set(e, -EINVAL, "group",
                                 "group: '%s%s' is not a valid group name (^[a-z][a-z0-9-]{0,30}$: a lowercase letter, "
                                 "then at most 30 of a-z, 0-9, '-')", shown, len > 40 ? "..." : "");
        memcpy(copy, name, len);
        copy[len] = 0;
        if (account_name_is_reserved(copy))
                return error_set(e, -EPERM, "group",
                                 "group: '%s' is a system or privileged group; unroot never adds members to it", copy);
        return 0;
}

static ssize_t primary_group_user(const AccountsDb *db, uint32_t gid) {
        const EtcFile *pw = &db->files[ETC_PASSWD];

        for (size_t i = 0; i < pw->n_lines; i++)
                if (!pw->lines[i].deleted && pw->lines[i].type == LINE_RECORD && pw->lines[i].id[1] == gid)
                        return (ssize_t) i;
        return -1;
}

static int malformed(const EtcFile *f, ssize_t i, const char *group, ErrorInfo *e) {
        char field[64];

        (void) snprintf(field, sizeof field, "/etc/%s:%u", etc_kind_file(f->kind), f->lines[i].line_no);
        return error_set(e, -EUCLEAN, field, "/etc/%s line %u names group '%s' but %s; fix it by hand first",
                         etc_kind_file(f->kind), f->lines[i].line_no, group, f->lines[i].why);
}

static int account_check(const AccountsDb *db, const char *account, ErrorInfo *e) {
        ErrorInfo copy = {};
        int r;

        r = lookup_plan(db, account, NULL, &copy);
        if (r < 0)
                return error_set(e, r, "account", "account: %s", copy.message);
        return 0;
}

int secret_group_plan_add(AccountsDb *db, const char *group, const char *account, const SecretGroupMarker *m,
                          const AccountsHooks *hooks, SecretGroupPlan *ret, ChangeList *changes, ErrorInfo *e) {
        EtcFile *gr = &db->files[ETC_GROUP], *gs = &db->files[ETC_GSHADOW];
        _cleanup_free_ char *line = NULL;
        SecretGroupPlan plan = {};
        ssize_t gi, si;
        int r;

        r = secret_group_name_check(group, strlen(group), e);
        if (r < 0)
                return r;
        r = account_check(db, account, e);
        if (r < 0)
                return r;

        gi = etc_file_find_name(gr, group);
        if (gi >= 0 && gr->lines[gi].type != LINE_RECORD)
                return malformed(gr, gi, group, e);
        si = gs->existed ? etc_file_find_name(gs, group) : -1;
        if (si >= 0 && gs->lines[si].type != LINE_RECORD)
                return malformed(gs, si, group, e);

        if (gi < 0) {
                if (si >= 0)
                        return error_set(e, -EUCLEAN, "group", "group: '%s' has a line in /etc/gshadow but none in "
                                         "/etc/group; fix that by hand first (grpck)", group);
                if (hooks && hooks->group_exists && hooks->group_exists(group, hooks->userdata))
                        return error_set(e, -EPERM, "group", "group: '%s' exists in the user database (NSS, e.g. LDAP "
                                         "or sssd), not in /etc/group; unroot cannot add members to it", group);
                r = accounts_alloc_system_gid(db, hooks, &plan.gid, e);
                if (r < 0)
                        return r;
                if (asprintf(&line, "%s:x:%" PRIu32 ":%s", group, plan.gid, account) < 0 || etc_file_append(gr, line) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                line = mfree_str(line);
                if (gs->existed && (asprintf(&line, "%s:!*::%s", group, account) < 0 || etc_file_append(gs, line) < 0))
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                plan.group_created = plan.member_changed = true;
                if (change_list_add(changes, "created system group '%s' (gid %" PRIu32 ") with member '%s'", group,
                                    plan.gid, account) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                *ret = plan;
                return 1;
        }

        plan.gid = gr->lines[gi].id[0];
        if (!(m && m->present && m->gid == plan.gid)) {
                const LoginDefs *d = &db->defs;
                ssize_t ui;

                if (plan.gid < d->gid_min || plan.gid > d->gid_max)
                        return error_set(e, -EPERM, "group",
                                         "group: '%s' (gid %" PRIu32 ") is a system group unroot did not create; "
                                         "refusing to add members to it (usable: a group unroot created, or a "
                                         "regular group with gid %" PRIu32 "..%" PRIu32 " that is nobody's primary "
                                         "group; or name a new group and unroot creates it)",
                                         group, plan.gid, d->gid_min, d->gid_max);
                ui = primary_group_user(db, plan.gid);
                if (ui >= 0)
                        return error_set(e, -EPERM, "group",
                                         "group: '%s' (gid %" PRIu32 ") is the primary group of user '%s'; adding "
                                         "'%s' would give it that user's group-readable files", group, plan.gid,
                                         db->files[ETC_PASSWD].lines[ui].fields[0], account);
        }

        r = group_line_edit_member(gr, (size_t) gi, account, true);
        plan.member_changed = r > 0;
        if (r >= 0 && si >= 0)
                r = group_line_edit_member(gs, (size_t) si, account, true);
        else if (r >= 0 && gs->existed && m && m->present && m->gid == plan.gid) {
                /* Ours, but killed between the group and gshadow renames: complete it. */
                if (asprintf(&line, "%s:!*::%s", group, gr->lines[gi].fields[3]) < 0 || etc_file_append(gs, line) < 0)
                        r = -ENOMEM;
        }
        if (r < 0)
                return error_set(e, r, NULL, "Out of memory.");
        if (plan.member_changed &&
            change_list_add(changes, "added '%s' to group '%s' (gid %" PRIu32 ")", account, group, plan.gid) < 0)
                return error_set(e, -ENOMEM, NULL, "Out of memory.");
        *ret = plan;
        return gr->changed || gs->changed;
}

int secret_group_plan_remove(AccountsDb *db, const char *group, const char *account, bool remove_member,
                             const SecretGroupMarker *m, SecretGroupPlan *ret, ChangeList *changes, ErrorInfo *e) {
        EtcFile *gr = &db->files[ETC_GROUP], *gs = &db->files[ETC_GSHADOW];
        _cleanup_strv_free_ char **members = NULL;
        SecretGroupPlan plan = {};
        ssize_t gi, si;
        int r;

        r = secret_group_name_check(group, strlen(group), e);
        if (r < 0)
                return r;
        gi = etc_file_find_record(gr, group);
        if (gi < 0) {
                *ret = plan;
                return 0;
        }
        si = gs->existed ? etc_file_find_record(gs, group) : -1;
        plan.gid = gr->lines[gi].id[0];

        if (remove_member) {
                r = group_line_edit_member(gr, (size_t) gi, account, false);
                plan.member_changed = r > 0;
                if (r >= 0 && si >= 0)
                        r = group_line_edit_member(gs, (size_t) si, account, false);
                if (r < 0)
                        return error_set(e, r, NULL, "Out of memory.");
                if (plan.member_changed &&
                    change_list_add(changes, "removed '%s' from group '%s' (gid %" PRIu32 ")", account, group, plan.gid) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
        }

        if (m && m->present && m->gid == plan.gid) {
                r = strv_split_char(gr->lines[gi].fields[3], ',', &members);
                if (r < 0)
                        return error_set(e, r, NULL, "Out of memory.");
                if (strv_length(members) == 0 && primary_group_user(db, plan.gid) < 0) {
                        etc_file_delete(gr, (size_t) gi);
                        if (si >= 0)
                                etc_file_delete(gs, (size_t) si);
                        plan.group_removed = true;
                        if (change_list_add(changes, "removed group '%s' (gid %" PRIu32 "), which unroot had created",
                                            group, plan.gid) < 0)
                                return error_set(e, -ENOMEM, NULL, "Out of memory.");
                } else if (change_list_add(changes, "kept group '%s': %s", group,
                                           strv_length(members) > 0 ? "other members remain" :
                                           "it is a user's primary group") < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
        }
        *ret = plan;
        return gr->changed || gs->changed;
}
