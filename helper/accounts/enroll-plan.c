/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enroll-plan.h"
#include "subid.h"
#include "util.h"

void accounts_db_done(AccountsDb *db) {
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                etc_file_done(&db->files[k]);
}

int accounts_db_parse(AccountsDb *db, const char *const contents[static _ETC_KIND_MAX], const LoginDefs *defs) {
        int r;

        *db = (AccountsDb) {};
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++) {
                db->files[k].kind = k;
                if (!contents[k])
                        continue;
                r = etc_file_parse(k, contents[k], strlen(contents[k]), &db->files[k]);
                if (r < 0) {
                        accounts_db_done(db);
                        return r;
                }
                db->files[k].existed = true;
                db->files[k].mode = (k == ETC_SHADOW || k == ETC_GSHADOW) ? 0640 : 0644;
        }
        if (defs)
                db->defs = *defs;
        else
                login_defs_default(&db->defs);
        return 0;
}

void account_info_done(AccountInfo *i) {
        if (!i)
                return;
        free(i->name);
        free(i->home);
        *i = (AccountInfo) {};
}

void change_list_done(ChangeList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i]);
        free(l->items);
        *l = (ChangeList) {};
}

int change_list_add(ChangeList *l, const char *fmt, ...) {
        char **p, *s;
        va_list ap;
        int r;

        if (!l)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        p = reallocarray(l->items, l->n + 1, sizeof(char *));
        if (!p) {
                free(s);
                return -ENOMEM;
        }
        l->items = p;
        l->items[l->n++] = s;
        return 0;
}

/* Members of a group/gshadow record (field 3 in both). */
static int line_members(const EtcLine *l, char ***ret) {
        return strv_split_char(l->fields[3], ',', ret);
}

bool accounts_db_is_member(const AccountsDb *db, const char *name) {
        _cleanup_strv_free_ char **m = NULL;
        ssize_t i;

        i = etc_file_find_record(&db->files[ETC_GROUP], ACCOUNTS_GROUP);
        if (i < 0)
                return false;
        if (line_members(&db->files[ETC_GROUP].lines[i], &m) < 0)
                return false;
        return strv_contains(m, name);
}

int group_line_edit_member(EtcFile *f, size_t idx, const char *name, bool add) {
        _cleanup_strv_free_ char **m = NULL;
        _cleanup_free_ char *joined = NULL, *content = NULL;
        const EtcLine *l = &f->lines[idx];
        int r;

        r = line_members(l, &m);
        if (r < 0)
                return r;
        if (add == strv_contains(m, name))
                return 0;
        if (add) {
                char *s = strdup(name);
                if (!s)
                        return -ENOMEM;
                r = strv_push(&m, s);
                if (r < 0)
                        return r;
        } else {
                size_t j = 0;
                for (size_t i = 0; m[i]; i++) {
                        if (streq(m[i], name))
                                free(m[i]);
                        else
                                m[j++] = m[i];
                }
                m[j] = NULL;
        }
        r = strv_join_char(m, ',', &joined);
        if (r < 0)
                return r;
        if (asprintf(&content, "%s:%s:%s:%s", l->fields[0], l->fields[1], l->fields[2], joined) < 0)
                return -ENOMEM;
        r = etc_file_replace(f, idx, content);
        return r < 0 ? r : 1;
}

/* Never handed out, whatever login.defs allows: 0; 65534 (nobody, and what an unmapped id looks
 * like from another user namespace); 65535 and 4294967295 ((uid_t) -1 in 16 and 32 bits: "no
 * change" to chown); and everything above INT32_MAX, which polkit cannot represent and the helper
 * refuses as a peer (so such an account could not use unroot). A window ending at 65535 or 2^32-1
 * handed out 65534 or 4294967295 (found by tests/hardening/uid-edges.sh). */
static bool id_is_allocatable(uint32_t id) {
        return id > 0 && id <= INT32_MAX && id != 65534 && id != 65535;
}

static bool uid_free(const AccountsDb *db, const AccountsHooks *hooks, uint32_t uid) {
        if (!id_is_allocatable(uid))
                return false;
        if (etc_file_id_taken(&db->files[ETC_PASSWD], uid))
                return false;
        return !(hooks && hooks->uid_taken && hooks->uid_taken(uid, hooks->userdata));
}

static bool gid_free(const AccountsDb *db, const AccountsHooks *hooks, uint32_t gid) {
        if (!id_is_allocatable(gid))
                return false;
        if (etc_file_id_taken(&db->files[ETC_GROUP], gid))
                return false;
        return !(hooks && hooks->gid_taken && hooks->gid_taken(gid, hooks->userdata));
}

int accounts_alloc_system_gid(const AccountsDb *db, const AccountsHooks *hooks, uint32_t *ret, ErrorInfo *e) {
        /* Top-down like find_new_gid() and sysusers, so service groups stay away from the ids that
         * packages' maintainer scripts pick bottom-up. */
        for (uint32_t g = MIN(db->defs.sys_gid_max, (uint32_t) INT32_MAX); g >= db->defs.sys_gid_min && g > 0; g--)
                if (gid_free(db, hooks, g)) {
                        *ret = g;
                        return 0;
                }
        return error_set(e, -ENOSPC, "gid", "No free system gid left in SYS_GID_MIN..SYS_GID_MAX (%" PRIu32
                         "..%" PRIu32 ").", db->defs.sys_gid_min, db->defs.sys_gid_max);
}

static int alloc_uid(const AccountsDb *db, const AccountsHooks *hooks, uint32_t *ret, ErrorInfo *e) {
        for (uint32_t u = MIN(db->defs.sys_uid_max, (uint32_t) INT32_MAX); u >= db->defs.sys_uid_min && u > 0; u--)
                if (uid_free(db, hooks, u)) {
                        *ret = u;
                        return 0;
                }
        return error_set(e, -ENOSPC, "uid", "No free system uid left in SYS_UID_MIN..SYS_UID_MAX (%" PRIu32
                         "..%" PRIu32 ").", db->defs.sys_uid_min, db->defs.sys_uid_max);
}

static const char *placement_note(SubidPlacement p) {
        switch (p) {
        case SUBID_PLACED_ABOVE_CONTAINER:
                return " (above systemd's container range 524288-1879048191: no room was left below it)";
        case SUBID_PLACED_IN_CONTAINER:
                return " (inside systemd's container range 524288-1879048191, which nspawn --private-users=pick "
                       "uses: no room was left outside it in the SUB_ID_MIN..SUB_ID_MAX window)";
        default:
                return "";
        }
}

static void window_of(const LoginDefs *d, EtcKind kind, SubidRequest *req) {
        if (kind == ETC_SUBUID) {
                req->win_min = d->sub_uid_min;
                req->win_max = d->sub_uid_max;
                req->id_max = d->uid_max;
        } else {
                req->win_min = d->sub_gid_min;
                req->win_max = d->sub_gid_max;
                req->id_max = d->gid_max;
        }
}

static int append_range(AccountsDb *db, EtcKind kind, const char *name, SubidRange r, SubidPlacement p,
                        ChangeList *changes) {
        char line[128];
        int k;

        (void) snprintf(line, sizeof line, "%s:%" PRIu32 ":%" PRIu32, name, r.start, r.count);
        k = etc_file_append(&db->files[kind], line);
        if (k < 0)
                return k;
        const char *note = placement_note(p);
        if (kind == ETC_SUBGID && p == SUBID_PLACED_IN_CONTAINER)
                note = " (inside systemd's container range 524288-1879048191, which nspawn --private-users=pick "
                       "uses: no room was left outside it in the SUB_GID_MIN..SUB_GID_MAX window)";
        else if (p == SUBID_PLACED_IN_CONTAINER)
                note = " (inside systemd's container range 524288-1879048191, which nspawn --private-users=pick "
                       "uses: no room was left outside it in the SUB_UID_MIN..SUB_UID_MAX window)";
        return change_list_add(changes, "appended /etc/%s: %s%s", etc_kind_file(kind), line, note);
}

static int enospc(EtcKind kind, uint32_t count, const SubidRequest *req, ErrorInfo *e) {
        char field[32];

        (void) snprintf(field, sizeof field, "/etc/%s", etc_kind_file(kind));
        return error_set(e, -ENOSPC, field,
                         "No room for %" PRIu32 " more subordinate ids in /etc/%s: the window %" PRIu32 "..%" PRIu32
                         " (SUB_%s_MIN..SUB_%s_MAX in /etc/login.defs, capped below 2^31) is full.",
                         count, etc_kind_file(kind), req->win_min, req->win_max,
                         kind == ETC_SUBUID ? "UID" : "GID", kind == ETC_SUBUID ? "UID" : "GID");
}

int enroll_plan_subid(AccountsDb *db, EtcKind kind, const char *name, uint32_t uid, uint32_t count,
                      const SubidRange *hint, SubidRange *ret, ChangeList *changes, ErrorInfo *e) {
        _cleanup_free_ SubidRange *used = NULL;
        SubidRequest req = { .own_id = uid, .count = count };
        SubidPlacement p;
        SubidRange got;
        size_t n;
        int r;

        r = subid_file_check(&db->files[kind], e);
        if (r < 0)
                return r;
        r = subid_collect(&db->files[kind], &used, &n);
        if (r < 0)
                return error_set(e, r, NULL, "Out of memory.");
        window_of(&db->defs, kind, &req);
        if (hint) {
                req.has_hint = true;
                req.hint = hint->start;
        }
        r = subid_find_free(used, n, &req, &got, &p);
        if (r == -ENOSPC)
                return enospc(kind, count, &req, e);
        if (r < 0)
                return error_set(e, r, NULL, "Subordinate id allocation failed: %s", strerror(-r));
        r = append_range(db, kind, name, got, p, changes);
        if (r < 0)
                return error_set(e, r, NULL, "Out of memory.");
        if (ret)
                *ret = got;
        return 0;
}

/* Both files need the same amount: pick one start free in both, so that subuid and subgid line up
 * (conventional, and what an interrupted run that wrote subuid but not subgid converges to). */
static int plan_subid_pair(AccountsDb *db, const char *name, uint32_t uid, uint32_t gid, uint32_t count,
                           ChangeList *changes, ErrorInfo *e) {
        _cleanup_free_ SubidRange *u = NULL, *g = NULL, *all = NULL;
        const LoginDefs *d = &db->defs;
        size_t nu, ng;
        SubidPlacement p;
        SubidRange got;
        int r;

        r = subid_file_check(&db->files[ETC_SUBUID], e);
        if (r < 0)
                return r;
        r = subid_file_check(&db->files[ETC_SUBGID], e);
        if (r < 0)
                return r;
        if (d->sub_uid_min == d->sub_gid_min && d->sub_uid_max == d->sub_gid_max) {
                if (subid_collect(&db->files[ETC_SUBUID], &u, &nu) < 0 ||
                    subid_collect(&db->files[ETC_SUBGID], &g, &ng) < 0 ||
                    !(all = reallocarray(NULL, nu + ng + 1, sizeof(SubidRange))))
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                memcpy(all, u, nu * sizeof(SubidRange));
                memcpy(all + nu, g, ng * sizeof(SubidRange));
                all[nu + ng] = (SubidRange) { gid, 1 };
                SubidRequest req = {
                        .win_min = d->sub_uid_min, .win_max = d->sub_uid_max,
                        .id_max = MAX(d->uid_max, d->gid_max), .own_id = uid, .count = count,
                };
                r = subid_find_free(all, nu + ng + 1, &req, &got, &p);
                if (r >= 0) {
                        r = append_range(db, ETC_SUBUID, name, got, p, changes);
                        if (r >= 0)
                                r = append_range(db, ETC_SUBGID, name, got, p, changes);
                        if (r < 0)
                                return error_set(e, r, NULL, "Out of memory.");
                        return 0;
                }
                if (r != -ENOSPC)
                        return error_set(e, r, NULL, "Subordinate id allocation failed: %s", strerror(-r));
        }
        /* No common start: allocate each on its own, the subgid one near the subuid one if possible. */
        r = enroll_plan_subid(db, ETC_SUBUID, name, uid, count, NULL, &got, changes, e);
        if (r < 0)
                return r;
        return enroll_plan_subid(db, ETC_SUBGID, name, uid, count, &got, NULL, changes, e);
}

static int validate_statedir(const char *statedir, ErrorInfo *e) {
        char shown[80];

        cescape_span(statedir, MIN(strlen(statedir), (size_t) 60), shown, sizeof shown);
        if (statedir[0] != '/' || strlen(statedir) > 200 || strpbrk(statedir, ":\n\r,"))
                return error_set(e, -EINVAL, "statedir",
                                 "The state directory '%s' must be an absolute path of at most 200 bytes "
                                 "without ':', ',' or line breaks.", shown);
        return 0;
}

static int fill_info(const AccountsDb *db, const char *name, AccountInfo *ret) {
        const EtcFile *pw = &db->files[ETC_PASSWD];
        ssize_t i = etc_file_find_record(pw, name);
        AccountInfo info = {};

        if (i < 0)
                return -ENOENT;
        info.name = strdup(name);
        info.home = strdup(pw->lines[i].fields[5]);
        if (!info.name || !info.home) {
                account_info_done(&info);
                return -ENOMEM;
        }
        info.uid = pw->lines[i].id[0];
        info.gid = pw->lines[i].id[1];
        info.subuid_total = subid_owner_total(&db->files[ETC_SUBUID], name, info.uid, &info.subuid);
        info.subgid_total = subid_owner_total(&db->files[ETC_SUBGID], name, info.uid, &info.subgid);
        *ret = info;
        return 0;
}

static bool name_in_files(const AccountsDb *db, const char *name) {
        static const EtcKind kinds[] = { ETC_PASSWD, ETC_GROUP, ETC_SHADOW, ETC_GSHADOW };

        /* Malformed lines count too: if they name the account, it is not ours to create. */
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                if (etc_file_find_name(&db->files[kinds[k]], name) >= 0)
                        return true;
        return false;
}

/* A line naming `name` that does not parse: appending a well-formed one next to it would create a
 * duplicate entry, so the admin has to fix it first. */
static int check_no_malformed(const AccountsDb *db, const char *name, ErrorInfo *e) {
        static const EtcKind kinds[] = { ETC_GROUP, ETC_GSHADOW, ETC_PASSWD, ETC_SHADOW };

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                const EtcFile *f = &db->files[kinds[k]];
                ssize_t i = etc_file_find_name(f, name);
                char field[64];

                if (i < 0 || f->lines[i].type == LINE_RECORD)
                        continue;
                (void) snprintf(field, sizeof field, "/etc/%s:%u", etc_kind_file(kinds[k]), f->lines[i].line_no);
                return error_set(e, -EUCLEAN, field, "/etc/%s line %u names '%s' but %s; fix it by hand first.",
                                 etc_kind_file(kinds[k]), f->lines[i].line_no, name, f->lines[i].why);
        }
        return 0;
}

static int not_ours(const char *name, int r, ErrorInfo *e) {
        return error_set(e, r, "name",
                         "The user or group '%s' exists and is not managed by unroot (it is not a member of "
                         "the '" ACCOUNTS_GROUP "' group); refusing to touch it.", name);
}

int enroll_plan(AccountsDb *db, const char *name, uint32_t subid_count, const char *statedir,
                const AccountsHooks *hooks, AccountInfo *ret_info, ChangeList *changes, ErrorInfo *e) {
        _cleanup_(change_list_done) ChangeList ch = {};
        EtcFile *group = &db->files[ETC_GROUP], *gshadow = &db->files[ETC_GSHADOW];
        EtcFile *passwd = &db->files[ETC_PASSWD], *shadow = &db->files[ETC_SHADOW];
        _cleanup_free_ char *line = NULL, *home = NULL;
        ssize_t ui, gi, ai;
        uint32_t uid = 0, gid = 0;
        bool member;
        int r;

        r = account_name_check(name, strlen(name), e);
        if (r < 0)
                return r;
        r = accounts_subid_count_check(subid_count, e);
        if (r < 0)
                return r;
        statedir = statedir ?: ACCOUNTS_DEFAULT_STATEDIR;
        r = validate_statedir(statedir, e);
        if (r < 0)
                return r;

        /* "Ours" means listed in unroot-accounts; that also recognises our own half-finished work
         * after a crash (group written, passwd not). Anything else with this name is foreign. */
        member = accounts_db_is_member(db, name);
        if (!member) {
                if (name_in_files(db, name))
                        return not_ours(name, -EEXIST, e);
                if (hooks && ((hooks->user_exists && hooks->user_exists(name, hooks->userdata)) ||
                              (hooks->group_exists && hooks->group_exists(name, hooks->userdata))))
                        return error_set(e, -EEXIST, "name",
                                         "The user or group '%s' exists in the user database (NSS, e.g. LDAP or "
                                         "sssd) and is not managed by unroot; refusing to shadow it.", name);
        }

        r = check_no_malformed(db, ACCOUNTS_GROUP, e);
        if (r >= 0)
                r = check_no_malformed(db, name, e);
        if (r < 0)
                return r;

        /* 1. The marker group. */
        ai = etc_file_find_record(group, ACCOUNTS_GROUP);
        if (ai < 0) {
                uint32_t agid;
                r = accounts_alloc_system_gid(db, hooks, &agid, e);
                if (r < 0)
                        return r;
                if (asprintf(&line, ACCOUNTS_GROUP ":x:%" PRIu32 ":", agid) < 0 ||
                    etc_file_append(group, line) < 0 ||
                    change_list_add(&ch, "created group '" ACCOUNTS_GROUP "' (gid %" PRIu32 ")", agid) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                line = mfree_str(line);
        }
        if (gshadow->existed && etc_file_find_record(gshadow, ACCOUNTS_GROUP) < 0)
                if (etc_file_append(gshadow, ACCOUNTS_GROUP ":!*::") < 0 ||
                    change_list_add(&ch, "added '" ACCOUNTS_GROUP "' to /etc/gshadow") < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");

        /* 2. Ids: reuse what exists (a re-run after a crash), else uid == gid top-down. */
        ui = etc_file_find_record(passwd, name);
        gi = etc_file_find_record(group, name);
        if (ui >= 0) {
                uid = passwd->lines[ui].id[0];
                gid = passwd->lines[ui].id[1];
                if (gi >= 0 && group->lines[gi].id[0] != gid)
                        return error_set(e, -EUCLEAN, "name",
                                         "The unroot account '%s' has primary gid %" PRIu32 " but its group has gid %"
                                         PRIu32 "; fix /etc/passwd or /etc/group by hand.", name, gid,
                                         group->lines[gi].id[0]);
                if (gi < 0 && !gid_free(db, hooks, gid))
                        return error_set(e, -EUCLEAN, "name",
                                         "The unroot account '%s' has lost its group, and its gid %" PRIu32
                                         " now belongs to another group; fix /etc/group by hand.", name, gid);
        } else if (gi >= 0) {
                gid = group->lines[gi].id[0];
                if (uid_free(db, hooks, gid))
                        uid = gid;
                else {
                        r = alloc_uid(db, hooks, &uid, e);
                        if (r < 0)
                                return r;
                }
        } else {
                const LoginDefs *d = &db->defs;
                uint32_t hi = MIN(MIN(d->sys_uid_max, d->sys_gid_max), (uint32_t) INT32_MAX),
                         lo = MAX(d->sys_uid_min, d->sys_gid_min);
                bool found = false;

                for (uint32_t id = hi; id >= lo && id > 0; id--)
                        if (uid_free(db, hooks, id) && gid_free(db, hooks, id)) {
                                uid = gid = id;
                                found = true;
                                break;
                        }
                if (!found) {
                        r = accounts_alloc_system_gid(db, hooks, &gid, e);
                        if (r < 0)
                                return r;
                        if (uid_free(db, hooks, gid) && gid >= d->sys_uid_min && gid <= d->sys_uid_max)
                                uid = gid;
                        else {
                                r = alloc_uid(db, hooks, &uid, e);
                                if (r < 0)
                                        return r;
                        }
                }
        }

        /* 3. group, gshadow, passwd, shadow lines. */
        if (gi < 0) {
                if (asprintf(&line, "%s:x:%" PRIu32 ":", name, gid) < 0 || etc_file_append(group, line) < 0 ||
                    change_list_add(&ch, "created group '%s' (gid %" PRIu32 ")", name, gid) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                line = mfree_str(line);
        }
        if (gshadow->existed && etc_file_find_record(gshadow, name) < 0) {
                if (asprintf(&line, "%s:!*::", name) < 0 || etc_file_append(gshadow, line) < 0 ||
                    change_list_add(&ch, "added group '%s' to /etc/gshadow", name) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                line = mfree_str(line);
        }
        if (asprintf(&home, "%s%s%s", statedir, endswith_slash(statedir) ? "" : "/", name) < 0)
                return error_set(e, -ENOMEM, NULL, "Out of memory.");
        if (ui < 0) {
                if (asprintf(&line, "%s:x:%" PRIu32 ":%" PRIu32 ":" ACCOUNTS_GECOS ":%s:" ACCOUNTS_SHELL,
                             name, uid, gid, home) < 0 ||
                    etc_file_append(passwd, line) < 0 ||
                    change_list_add(&ch, "created system user '%s' (uid %" PRIu32 ", gid %" PRIu32 ", home %s, shell "
                                    ACCOUNTS_SHELL ")", name, uid, gid, home) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                line = mfree_str(line);
        }
        /* "!*": locked, and no password can ever be set by unlocking; no ageing fields, so the
         * account never expires under a service. */
        if (shadow->existed && etc_file_find_record(shadow, name) < 0) {
                if (asprintf(&line, "%s:!*:::::::", name) < 0 || etc_file_append(shadow, line) < 0 ||
                    change_list_add(&ch, "added user '%s' to /etc/shadow (locked, no ageing)", name) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
                line = mfree_str(line);
        }

        /* 4. Membership in the marker group, in group and gshadow. */
        ai = etc_file_find_record(group, ACCOUNTS_GROUP);
        r = group_line_edit_member(group, (size_t) ai, name, true);
        if (r > 0)
                r = change_list_add(&ch, "added '%s' to group '" ACCOUNTS_GROUP "'", name);
        if (r < 0)
                return error_set(e, r, NULL, "Out of memory.");
        if (gshadow->existed) {
                ai = etc_file_find_record(gshadow, ACCOUNTS_GROUP);
                r = group_line_edit_member(gshadow, (size_t) ai, name, true);
                if (r > 0)
                        r = change_list_add(&ch, "added '%s' to group '" ACCOUNTS_GROUP "' in /etc/gshadow", name);
                if (r < 0)
                        return error_set(e, r, NULL, "Out of memory.");
        }

        /* 5. Subordinate ids: reuse what the owner (by name or numeric uid) already has. */
        uint64_t have_u = subid_owner_total(&db->files[ETC_SUBUID], name, uid, NULL);
        uint64_t have_g = subid_owner_total(&db->files[ETC_SUBGID], name, uid, NULL);
        uint32_t need_u = have_u >= subid_count ? 0 : (uint32_t) (subid_count - have_u);
        uint32_t need_g = have_g >= subid_count ? 0 : (uint32_t) (subid_count - have_g);

        if (need_u > 0 && need_u == need_g)
                r = plan_subid_pair(db, name, uid, gid, need_u, &ch, e);
        else {
                SubidRange hint;
                r = 0;
                /* Pair with the sibling's newest range, so that a run interrupted between the subuid
                 * and subgid renames converges to the start an uninterrupted run picks. */
                if (need_u > 0) {
                        hint = subid_owner_last(&db->files[ETC_SUBGID], name, uid);
                        r = enroll_plan_subid(db, ETC_SUBUID, name, uid, need_u, hint.count > 0 ? &hint : NULL,
                                              NULL, &ch, e);
                }
                if (r >= 0 && need_g > 0) {
                        hint = subid_owner_last(&db->files[ETC_SUBUID], name, uid);
                        r = enroll_plan_subid(db, ETC_SUBGID, name, uid, need_g, hint.count > 0 ? &hint : NULL,
                                              NULL, &ch, e);
                }
        }
        if (r < 0)
                return r;

        if (ret_info) {
                r = fill_info(db, name, ret_info);
                if (r < 0)
                        return error_set(e, r, NULL, "Out of memory.");
        }
        bool changed = false;
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                changed = changed || db->files[k].changed;
        for (size_t i = 0; i < ch.n; i++)
                if (change_list_add(changes, "%s", ch.items[i]) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
        return changed;
}

int lookup_plan(const AccountsDb *db, const char *name, AccountInfo *ret_info, ErrorInfo *e) {
        int r;

        if (!account_name_is_valid(name, strlen(name)))
                return account_name_check(name, strlen(name), e);
        if (!accounts_db_is_member(db, name)) {
                if (name_in_files(db, name) || account_name_is_reserved(name))
                        return not_ours(name, -EPERM, e);
                return error_set(e, -ENOENT, "name", "There is no unroot account '%s'.", name);
        }
        if (etc_file_find_record(&db->files[ETC_PASSWD], name) < 0)
                return error_set(e, -ENOENT, "name",
                                 "The unroot account '%s' is only partially enrolled (no /etc/passwd entry); "
                                 "enroll it again to complete it.", name);
        if (!ret_info)
                return 0;
        r = fill_info(db, name, ret_info);
        if (r < 0)
                return error_set(e, r, NULL, "Out of memory.");
        return 0;
}

int remove_plan(AccountsDb *db, const char *name, ChangeList *changes, ErrorInfo *e) {
        _cleanup_(change_list_done) ChangeList ch = {};
        static const EtcKind kinds[] = { ETC_GROUP, ETC_GSHADOW, ETC_PASSWD, ETC_SHADOW };
        bool have_uid = false, changed = false;
        uint32_t uid = 0;
        ssize_t i;
        int r;

        if (!account_name_is_valid(name, strlen(name)))
                return account_name_check(name, strlen(name), e);
        if (!accounts_db_is_member(db, name)) {
                if (name_in_files(db, name) || account_name_is_reserved(name))
                        return not_ours(name, -EPERM, e);
                return 0; /* nothing of ours to remove */
        }

        i = etc_file_find_record(&db->files[ETC_PASSWD], name);
        if (i >= 0) {
                uid = db->files[ETC_PASSWD].lines[i].id[0];
                have_uid = true;
        }
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                EtcFile *f = &db->files[kinds[k]];
                while ((i = etc_file_find_record(f, name)) >= 0) {
                        etc_file_delete(f, (size_t) i);
                        if (kinds[k] == ETC_PASSWD)
                                r = change_list_add(&ch, "removed user '%s' (uid %" PRIu32 ") from /etc/passwd",
                                                    name, f->lines[i].id[0]);
                        else if (kinds[k] == ETC_GROUP)
                                r = change_list_add(&ch, "removed group '%s' (gid %" PRIu32 ") from /etc/group",
                                                    name, f->lines[i].id[0]);
                        else
                                r = change_list_add(&ch, "removed '%s' from /etc/%s", name, etc_kind_file(kinds[k]));
                        if (r < 0)
                                return error_set(e, r, NULL, "Out of memory.");
                }
        }
        for (EtcKind k = ETC_GROUP; k <= ETC_GSHADOW; k++) {
                i = etc_file_find_record(&db->files[k], ACCOUNTS_GROUP);
                if (i < 0)
                        continue;
                r = group_line_edit_member(&db->files[k], (size_t) i, name, false);
                if (r > 0)
                        r = change_list_add(&ch, "removed '%s' from group '" ACCOUNTS_GROUP "'%s", name,
                                            k == ETC_GSHADOW ? " in /etc/gshadow" : "");
                if (r < 0)
                        return error_set(e, r, NULL, "Out of memory.");
        }
        for (EtcKind k = ETC_SUBUID; k <= ETC_SUBGID; k++) {
                EtcFile *f = &db->files[k];
                for (size_t j = 0; j < f->n_lines; j++) {
                        EtcLine *l = &f->lines[j];
                        if (l->deleted || l->type != LINE_RECORD)
                                continue;
                        /* By name, or by the numeric uid the account had. */
                        if (!streq(l->fields[0], name) &&
                            !(have_uid && subid_line_owned(f, j, name, uid)))
                                continue;
                        etc_file_delete(f, j);
                        r = change_list_add(&ch, "removed /etc/%s: %s:%" PRIu32 ":%" PRIu32, etc_kind_file(k),
                                            l->fields[0], l->id[0], l->id[1]);
                        if (r < 0)
                                return error_set(e, r, NULL, "Out of memory.");
                }
        }
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                changed = changed || db->files[k].changed;
        for (size_t j = 0; j < ch.n; j++)
                if (change_list_add(changes, "%s", ch.items[j]) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
        return changed;
}
