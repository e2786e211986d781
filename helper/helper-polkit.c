/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* polkit CheckAuthorization for a socket peer.
 *
 * Subject: where polkit (≥ 124) and the kernel (≥ 6.5) allow it, the peer's pidfd plus its uid;
 * otherwise unix-process {pid, start-time, uid}, with the start time read right after accept and
 * the uid from SO_PEERCRED. polkitd compares both against /proc and fails if the process was
 * replaced. libpolkit waits forever by default, so the call is bounded here; no answer means no. */

#include <errno.h>

#include <polkit/polkit.h>

#include "helper-auth.h"
#include "log.h"

#define POLKIT_TIMEOUT_MS (25 * 1000)
#define POLKIT_INTERACTIVE_TIMEOUT_MS (5 * 60 * 1000)

typedef struct CheckState {
        GMainLoop *loop;
        PolkitAuthorizationResult *result;
        GError *error;
        bool timed_out;
} CheckState;

static void check_done(GObject *source, GAsyncResult *res, gpointer userdata) {
        CheckState *s = userdata;

        s->result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &s->error);
        g_main_loop_quit(s->loop);
}

static gboolean check_timeout(gpointer userdata) {
        GCancellable *c = userdata;

        g_cancellable_cancel(c);
        return G_SOURCE_REMOVE;
}

static PolkitSubject *subject_for_peer(const Peer *peer) {
#if HAVE_POLKIT_PIDFD
        if (peer->pidfd >= 0)
                return polkit_unix_process_new_pidfd(peer->pidfd, (gint) peer->uid, NULL);
#endif
        return polkit_unix_process_new_for_owner((gint) peer->pid, peer->start_time, (gint) peer->uid);
}

static int polkit_check(const Peer *peer, const char *action, const char *const *details, bool interactive,
                        void *userdata) {
        g_autoptr(GError) error = NULL;
        g_autoptr(PolkitAuthority) authority = NULL;
        g_autoptr(PolkitSubject) subject = NULL;
        g_autoptr(PolkitDetails) pdetails = NULL;
        g_autoptr(GCancellable) cancellable = NULL;
        g_autoptr(GMainContext) ctx = NULL;
        CheckState s = {};
        GSource *timeout;
        int r;

        ctx = g_main_context_new();
        g_main_context_push_thread_default(ctx);

        authority = polkit_authority_get_sync(NULL, &error);
        if (!authority) {
                log_error("Failed to connect to polkit: %s", error->message);
                r = -EHOSTUNREACH;
                goto finish;
        }

        subject = subject_for_peer(peer);
        pdetails = polkit_details_new();
        for (size_t i = 0; details && details[i] && details[i + 1]; i += 2)
                polkit_details_insert(pdetails, details[i], details[i + 1]);

        cancellable = g_cancellable_new();
        s.loop = g_main_loop_new(ctx, FALSE);
        timeout = g_timeout_source_new(interactive ? POLKIT_INTERACTIVE_TIMEOUT_MS : POLKIT_TIMEOUT_MS);
        g_source_set_callback(timeout, check_timeout, cancellable, NULL);
        g_source_attach(timeout, ctx);

        polkit_authority_check_authorization(
                        authority, subject, action, pdetails,
                        interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                    : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                        cancellable, check_done, &s);
        g_main_loop_run(s.loop);
        g_source_destroy(timeout);
        g_source_unref(timeout);
        g_main_loop_unref(s.loop);

        if (!s.result) {
                /* CVE-2021-3560: an error while asking is never a yes. */
                log_error("polkit CheckAuthorization for %s failed: %s", action,
                          s.error ? s.error->message : "no result");
                g_clear_error(&s.error);
                r = -EHOSTUNREACH;
                goto finish;
        }

        if (polkit_authorization_result_get_is_authorized(s.result))
                r = AUTH_ALLOWED;
        else if (polkit_authorization_result_get_dismissed(s.result))
                r = AUTH_CANCELLED;
        else if (polkit_authorization_result_get_is_challenge(s.result))
                r = AUTH_CHALLENGE;
        else
                r = AUTH_DENIED;
        g_object_unref(s.result);

finish:
        g_main_context_pop_thread_default(ctx);
        return r;
}

const Authorizer polkit_authorizer = {
        .check = polkit_check,
};
