/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* C conformance runner for podman's Quadlet e2e corpus (docs/quadlet.md §6), the twin of
 * run-corpus.py: same layout, same operators, same strict xfail list, but generated units are
 * read with our own unit-file parser, as upstream's runner reads them with podman's parser.
 *
 *   corpus-runner --unroot BIN --corpus DIR [--xfail FILE] [--podman-version X.Y]
 *                 [--mode system|user|both] [FILE...]
 *
 * Exit 77 when the corpus is absent. */

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unitfile.h"

static const char *arg_unroot, *arg_corpus, *arg_xfail, *arg_version = "5.4", *arg_mode = "both";

typedef struct Row {
        char *file, *mode, *stderr_sub, *service;
        int exit_code;
        Strv deps;
} Row;

static char *read_all(const char *path, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_buf_ Buf b = {};
        char chunk[8192];
        size_t k;

        if (!f)
                return NULL;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
                buf_putn(&b, chunk, k);
        if (ret_len)
                *ret_len = b.n;
        return buf_steal(&b);
}

static int copy_file(const char *from, const char *to) {
        size_t n = 0;
        _cleanup_free_ char *d = read_all(from, &n);
        _cleanup_fclose_ FILE *f = NULL;

        if (!d)
                return -errno;
        f = fopen(to, "we");
        if (!f || fwrite(d, 1, n, f) != n)
                return -EIO;
        return 0;
}

static int copy_dir_flat(const char *from, const char *to) {
        _cleanup_closedir_ DIR *d = opendir(from);
        struct dirent *de;

        if (!d)
                return 0;
        if (mkdir(to, 0755) < 0 && errno != EEXIST)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *a = NULL, *b = NULL;
                if (de->d_name[0] == '.')
                        continue;
                a = strdup_printf("%s/%s", from, de->d_name);
                b = strdup_printf("%s/%s", to, de->d_name);
                if (!a || !b || copy_file(a, b) < 0)
                        return -EIO;
        }
        return 0;
}

static int rm_rf(const char *path) {
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", path);
        return cmd ? system(cmd) : -ENOMEM;
}

/* go-shellwords, as far as the corpus needs it (§6.3) */
static void shellwords(const char *s, Strv *ret) {
        _cleanup_buf_ Buf w = {};
        bool sq = false, dq = false, esc = false, got = false;

        for (; *s; s++) {
                char c = *s;
                if (esc) {
                        buf_putc(&w, c == 't' ? '\t' : c == 'n' ? '\n' : c);
                        esc = false;
                        got = true;
                        continue;
                }
                if (c == '\\' && !sq) {
                        esc = true;
                        continue;
                }
                if (strchr(" \t\r\n", c) && !sq && !dq) {
                        if (got)
                                strv_consume(ret, buf_steal(&w));
                        got = false;
                        continue;
                }
                if (c == '\'' && !dq) {
                        sq = !sq;
                        continue;
                }
                if (c == '"' && !sq) {
                        dq = !dq;
                        continue;
                }
                if (!sq && !dq && strchr(";&|<>", c))
                        break;
                buf_putc(&w, c);
                got = true;
        }
        if (got)
                strv_consume(ret, buf_steal(&w));
}

static bool rx_match(const char *s, const char *re) {
        regex_t r;
        bool m;

        if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        m = regexec(&r, s, 0, NULL, 0) == 0;
        regfree(&r);
        return m;
}

static bool word_match(const char *s, const char *want, bool regex) {
        return regex ? rx_match(s, want) : streq(s, want);
}

static bool sublist(char **v, size_t n, char **want, size_t m, bool regex) {
        if (m == 0 || m > n)
                return false;
        for (size_t i = 0; i + m <= n; i++) {
                size_t j = 0;
                while (j < m && word_match(v[i + j], want[j], regex))
                        j++;
                if (j == m)
                        return true;
        }
        return false;
}

/* CSV fields (RFC 4180 quotes) split at the first '=' into k, v; returned as "k\0v" pairs in a Strv. */
static void kv_parse(const char *s, char sep, Strv *keys, Strv *vals) {
        _cleanup_buf_ Buf f = {};
        const char *p = s;

        for (;;) {
                if (*p == '"') {
                        p++;
                        while (*p) {
                                if (*p == '"' && p[1] == '"') {
                                        buf_putc(&f, '"');
                                        p += 2;
                                } else if (*p == '"') {
                                        p++;
                                        break;
                                } else
                                        buf_putc(&f, *p++);
                        }
                }
                while (*p && *p != sep)
                        buf_putc(&f, *p++);
                {
                        char *field = buf_steal(&f), *eq;
                        if (!field)
                                return;
                        eq = strchr(field, '=');
                        if (eq) {
                                strv_addn(keys, field, eq - field);
                                strv_add(vals, eq + 1);
                        } else {
                                strv_add(keys, field);
                                strv_add(vals, "");
                        }
                        free(field);
                }
                if (!*p)
                        break;
                p++;
        }
}

static bool keyval_check(char **v, size_t n, const char *flag, const char *sep, const char *expected, bool regex) {
        _cleanup_strv_ Strv wk = {}, wv = {};

        kv_parse(expected, sep[0], &wk, &wv);
        for (size_t i = 0; i + 1 < n; i++) {
                _cleanup_strv_ Strv gk = {}, gv = {};
                bool ok = true;
                if (!streq(v[i], flag))
                        continue;
                kv_parse(v[i + 1], sep[0], &gk, &gv);
                /* same key set, values equal (or matching) */
                for (size_t a = 0; a < gk.n && ok; a++)
                        if (!strv_has(&wk, gk.v[a]))
                                ok = false;
                for (size_t a = 0; a < wk.n && ok; a++) {
                        ssize_t found = -1;
                        for (size_t b = 0; b < gk.n; b++)
                                if (streq(gk.v[b], wk.v[a]))
                                        found = (ssize_t) b; /* later duplicate wins, like a map */
                        if (found < 0 || !word_match(gv.v[found], wv.v[a], regex))
                                ok = false;
                }
                if (ok)
                        return true;
        }
        return false;
}

/* Returns 1 true, 0 false, -1 error (message in *err). */
static int eval(char **w, size_t n, const UnitFile *u, const char *stderr_text, const char *gdir, char **err) {
        const char *op = w[0];
        char **a = w + 1;
        size_t na = n - 1;

        if (streq(op, "assert-failed"))
                return 1;
        if (streq(op, "assert-stderr-contains"))
                return na >= 1 && strstr(stderr_text, a[0]);
        if (streq(op, "assert-symlink")) {
                _cleanup_free_ char *p = strdup_printf("%s/%s", gdir, na ? a[0] : "");
                char buf[4096];
                ssize_t k;
                if (na < 2 || !p || (k = readlink(p, buf, sizeof buf - 1)) < 0) {
                        *err = strdup("symlink missing");
                        return -1;
                }
                buf[k] = 0;
                return streq(buf, a[1]);
        }
        if (!u) {
                *err = strdup_printf("check %s on a unit that was not generated", op);
                return -1;
        }
        if (startswith(op, "assert-key-") || streq(op, "assert-has-key")) {
                _cleanup_strv_ Strv all = {};
                if (na < 2)
                        goto bad;
                unit_file_lookup_all(u, a[0], a[1], &all);
                if (streq(op, "assert-key-is") || streq(op, "assert-key-is-regex")) {
                        bool rx = endswith(op, "-regex");
                        if (all.n != na - 2)
                                return 0;
                        for (size_t i = 0; i < all.n; i++)
                                if (!word_match(all.v[i], a[2 + i], rx))
                                        return 0;
                        return 1;
                }
                if (streq(op, "assert-key-is-empty"))
                        return all.n == 0;
                if (na < 3)
                        goto bad;
                if (streq(op, "assert-has-key"))
                        return strv_has(&all, a[2]);
                if (streq(op, "assert-key-contains") || streq(op, "assert-key-not-contains")) {
                        bool any = false;
                        for (size_t i = 0; i < all.n; i++)
                                if (strstr(all.v[i], a[2]))
                                        any = true;
                        return streq(op, "assert-key-contains") ? any : !any;
                }
                goto bad;
        }
        if (startswith(op, "assert-last-key-")) {
                const char *last;
                if (na < 3)
                        goto bad;
                /* upstream reads the raw last line here, so an empty reset value counts */
                last = unit_file_lookup_last_raw(u, a[0], a[1]);
                if (streq(op, "assert-last-key-contains"))
                        return last && strstr(last, a[2]);
                if (streq(op, "assert-last-key-not-contains"))
                        return !(last && strstr(last, a[2]));
                if (streq(op, "assert-last-key-is-regex"))
                        return last && rx_match(last, a[2]);
                goto bad;
        }
        {
                static const struct {
                        const char *prefix, *key;
                } execs[] = {
                        { "assert-podman-stop-post-", "ExecStopPost" }, { "assert-podman-stop-", "ExecStop" },
                        { "assert-podman-reload-", "ExecReload" },      { "assert-podman-pre-", "ExecStartPre" },
                        { "assert-podman-", "ExecStart" },
                };
                for (size_t e = 0; e < ELEMENTSOF(execs); e++) {
                        _cleanup_strv_ Strv cmd = {};
                        const char *form, *last;
                        bool rx;
                        if (!startswith(op, execs[e].prefix))
                                continue;
                        form = op + strlen(execs[e].prefix);
                        last = unit_file_lookup_last_raw(u, "Service", execs[e].key);
                        if (last)
                                (void) split_string(last, WHITESPACE_SEPARATORS,
                                                    SPLIT_RELAX | SPLIT_UNQUOTE | SPLIT_CUNESCAPE, &cmd, NULL);
                        rx = endswith(form, "-regex");
                        if (streq(form, "args") || streq(form, "args-regex"))
                                return sublist(cmd.v, cmd.n, a, na, rx);
                        if (streq(form, "final-args") || streq(form, "final-args-regex")) {
                                if (na == 0 || na > cmd.n)
                                        return 0;
                                for (size_t i = 0; i < na; i++)
                                        if (!word_match(cmd.v[cmd.n - na + i], a[i], rx))
                                                return 0;
                                return 1;
                        }
                        if (startswith(form, "global-args")) {
                                size_t cut = SIZE_MAX;
                                if (na < 1)
                                        return 0;
                                for (size_t i = 0; i < cmd.n && cut == SIZE_MAX; i++)
                                        if (streq(cmd.v[i], a[0]))
                                                cut = i;
                                if (cut == SIZE_MAX)
                                        return 0;
                                if (streq(form, "global-args") || streq(form, "global-args-regex"))
                                        return sublist(cmd.v, cut, a + 1, na - 1, rx);
                                if (na < 4)
                                        goto bad;
                                return keyval_check(cmd.v, cut, a[1], a[2], a[3], rx);
                        }
                        if (streq(form, "args-key-val") || streq(form, "args-key-val-regex")) {
                                if (na < 3)
                                        goto bad;
                                return keyval_check(cmd.v, cmd.n, a[0], a[1], a[2], rx);
                        }
                        break;
                }
        }
        *err = strdup_printf("unknown operator %s", op);
        return -1;
bad:
        *err = strdup_printf("malformed check %s", op);
        return -1;
}

static int run_generator(const char *qdir, const char *gdir, bool user, int *ret_status, char **ret_stderr) {
        int pipefd[2];
        _cleanup_buf_ Buf err = {};
        char chunk[4096];
        ssize_t k;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0)
                        _exit(127);
                setenv("QUADLET_UNIT_DIRS", qdir, 1);
                unsetenv("PODMAN");
                if (user)
                        execl(arg_unroot, arg_unroot, "--podman-version", arg_version, "-user", "-no-kmsg-log", gdir,
                              (char *) NULL);
                else
                        execl(arg_unroot, arg_unroot, "--podman-version", arg_version, "-no-kmsg-log", gdir,
                              (char *) NULL);
                _exit(127);
        }
        close(pipefd[1]);
        while ((k = read(pipefd[0], chunk, sizeof chunk)) > 0)
                buf_putn(&err, chunk, (size_t) k);
        close(pipefd[0]);
        if (waitpid(pid, ret_status, 0) < 0)
                return -errno;
        *ret_stderr = buf_steal(&err);
        return *ret_stderr ? 0 : -ENOMEM;
}

static char *service_file(const Row *r) {
        static const char *const sfx[][2] = {
                { ".container", "" }, { ".kube", "" },        { ".volume", "-volume" }, { ".network", "-network" },
                { ".image", "-image" }, { ".build", "-build" }, { ".pod", "-pod" },
        };
        const char *dot = strrchr(r->file, '.');
        if (r->service)
                return strdup_printf("%s.service", r->service);
        for (size_t i = 0; i < ELEMENTSOF(sfx); i++)
                if (dot && streq(dot, sfx[i][0]))
                        return strdup_printf("%.*s%s.service", (int) (dot - r->file), r->file, sfx[i][1]);
        return strdup_printf("%s.service", r->file);
}

/* Returns the number of failed checks (0 = pass); messages go to *report. */
static int run_case(const Row *r, bool user, Buf *report) {
        _cleanup_free_ char *e2e = strdup("/tmp/podman-e2e-XXXXXX"), *sub = NULL, *qdir = NULL, *gdir = NULL,
                            *err = NULL, *src = NULL, *svc = NULL, *svcpath = NULL, *text = NULL;
        _cleanup_unit_file_ UnitFile *u = NULL;
        int status = 0, fails = 0;
        bool expect_failed = false;

        if (!e2e || !mkdtemp(e2e))
                return 1;
        sub = strdup_printf("%s/subtest-XXXXXX", e2e);
        if (!sub || !mkdtemp(sub))
                goto out_err;
        qdir = strdup_printf("%s/quadlet", sub);
        gdir = strdup_printf("%s/generated", sub);
        if (!qdir || !gdir || mkdir(qdir, 0755) < 0 || mkdir(gdir, 0755) < 0)
                goto out_err;

        for (size_t i = 0; i <= r->deps.n; i++) {
                const char *f = i == 0 ? r->file : r->deps.v[i - 1];
                _cleanup_free_ char *a = strdup_printf("%s/%s", arg_corpus, f), *b = strdup_printf("%s/%s", qdir, f);
                if (!a || !b || copy_file(a, b) < 0)
                        goto out_err;
        }
        {
                _cleanup_free_ char *d1 = strdup_printf("%s/%s.d", arg_corpus, r->file),
                                    *t1 = strdup_printf("%s/%s.d", qdir, r->file);
                const char *at = strchr(r->file, '@'), *dot = strrchr(r->file, '.');
                if (!d1 || !t1 || copy_dir_flat(d1, t1) < 0)
                        goto out_err;
                if (at && dot && dot > at) {
                        _cleanup_free_ char *d2 = strdup_printf("%s/%.*s@%s.d", arg_corpus, (int) (at - r->file), r->file, dot),
                                            *t2 = strdup_printf("%s/%.*s@%s.d", qdir, (int) (at - r->file), r->file, dot);
                        if (!d2 || !t2 || copy_dir_flat(d2, t2) < 0)
                                goto out_err;
                }
        }

        if (run_generator(qdir, gdir, user, &status, &err) < 0)
                goto out_err;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != r->exit_code) {
                buf_printf(report, "    exit status %d, expected %d; stderr: %s\n",
                           WIFEXITED(status) ? WEXITSTATUS(status) : -1, r->exit_code, err);
                fails++;
        }
        if (r->stderr_sub && !strstr(err, r->stderr_sub)) {
                buf_printf(report, "    stderr lacks \"%s\"\n", r->stderr_sub);
                fails++;
        }

        src = strdup_printf("%s/%s", qdir, r->file);
        svc = service_file(r);
        if (!src || !svc)
                goto out_err;
        svcpath = strdup_printf("%s/%s", gdir, svc);
        text = read_all(src, NULL);
        if (!text || !svcpath)
                goto out_err;
        if (strstr(text, "## assert-failed"))
                expect_failed = true;
        if (expect_failed) {
                if (access(svcpath, F_OK) == 0) {
                        buf_printf(report, "    %s generated although assert-failed\n", svc);
                        fails++;
                }
        } else {
                size_t n = 0;
                _cleanup_free_ char *gen = read_all(svcpath, &n), *perr = NULL;
                if (!gen || unit_file_parse(gen, n, svcpath, &u, &perr) < 0) {
                        buf_printf(report, "    %s not generated or unparsable; stderr: %s\n", svc, err);
                        fails++;
                        goto out;
                }
        }

        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                _cleanup_strv_ Strv w = {};
                _cleanup_free_ char *msg = NULL;
                bool neg = false;
                int v;

                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                if (!startswith(line, "##"))
                        continue;
                shellwords(line + 2, &w);
                if (w.n == 0)
                        continue;
                for (size_t i = 1; i < w.n; i++) {
                        /* the two-character sequences \n and \t become LF and TAB (§6.1 step 5) */
                        char *s = w.v[i], *o = w.v[i];
                        for (; *s; s++) {
                                if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't')) {
                                        *o++ = s[1] == 'n' ? '\n' : '\t';
                                        s++;
                                } else
                                        *o++ = *s;
                        }
                        *o = 0;
                }
                if (w.v[0][0] == '!') {
                        neg = true;
                        memmove(w.v[0], w.v[0] + 1, strlen(w.v[0]));
                }
                v = eval(w.v, w.n, u, err, gdir, &msg);
                if (v < 0) {
                        buf_printf(report, "    %s: %s\n", line, strempty(msg));
                        fails++;
                } else if ((v > 0) == neg) {
                        buf_printf(report, "    failed: %s\n", line);
                        fails++;
                }
        }
out:
        (void) rm_rf(e2e);
        return fails;
out_err:
        buf_printf(report, "    could not set up the case\n");
        (void) rm_rf(e2e);
        return 1;
}

static int load_manifest(Row **ret, size_t *ret_n) {
        _cleanup_free_ char *p = strdup_printf("%s/MANIFEST.tsv", arg_corpus);
        _cleanup_free_ char *text = p ? read_all(p, NULL) : NULL;
        Row *rows = NULL;
        size_t n = 0;

        if (!text)
                return -ENOENT;
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                char *f[6] = {};
                size_t k = 0;
                Row *nr;

                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                if (line[0] == '#' || !line[0])
                        continue;
                for (char *s = line; s && k < 6; k++) {
                        char *t = strchr(s, '\t');
                        f[k] = s;
                        if (t)
                                *t = 0;
                        s = t ? t + 1 : NULL;
                }
                if (k < 6)
                        continue;
                nr = reallocarray(rows, n + 1, sizeof(Row));
                if (!nr)
                        return -ENOMEM;
                rows = nr;
                rows[n] = (Row) {
                        .file = strdup(f[0]),
                        .mode = strdup(f[1]),
                        .exit_code = atoi(f[2]),
                        .stderr_sub = streq(f[3], "-") ? NULL : strdup(f[3]),
                        .service = streq(f[4], "-") ? NULL : strdup(f[4]),
                };
                if (!streq(f[5], "-"))
                        (void) split_string(f[5], ",", 0, &rows[n].deps, NULL);
                n++;
        }
        *ret = rows;
        *ret_n = n;
        return 0;
}

static const char *xfail_reason(const Strv *xf, const char *mode, const char *file) {
        for (size_t i = 0; i < xf->n; i++) {
                const char *l = xf->v[i], *sp = l + strcspn(l, " \t");
                size_t kn = sp - l;
                _cleanup_free_ char *full = strdup_printf("%s:%s", mode, file);
                if ((kn == strlen(file) && strneq(l, file, kn)) || (full && kn == strlen(full) && strneq(l, full, kn)))
                        return sp;
        }
        return NULL;
}

int main(int argc, char *argv[]) {
        _cleanup_strv_ Strv only = {}, xf = {};
        Row *rows = NULL;
        size_t n = 0;
        unsigned passed = 0, failed = 0, xfailed = 0, xpassed = 0;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--unroot") && i + 1 < argc)
                        arg_unroot = argv[++i];
                else if (streq(argv[i], "--corpus") && i + 1 < argc)
                        arg_corpus = argv[++i];
                else if (streq(argv[i], "--xfail") && i + 1 < argc)
                        arg_xfail = argv[++i];
                else if (streq(argv[i], "--podman-version") && i + 1 < argc)
                        arg_version = argv[++i];
                else if (streq(argv[i], "--mode") && i + 1 < argc)
                        arg_mode = argv[++i];
                else
                        strv_add(&only, argv[i]);
        }
        if (!arg_unroot) {
                fprintf(stderr, "usage: %s --unroot BIN --corpus DIR [--xfail FILE] [FILE...]\n", argv[0]);
                return 2;
        }
        if (!arg_corpus || load_manifest(&rows, &n) < 0) {
                printf("SKIP: Quadlet corpus not found at '%s' (set -Dquadlet-corpus=)\n", strempty(arg_corpus));
                return 77;
        }
        if (arg_xfail) {
                _cleanup_free_ char *t = read_all(arg_xfail, NULL);
                for (char *line = t, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                        nl = strchr(line, '\n');
                        if (nl)
                                *nl = 0;
                        if (line[0] && line[0] != '#')
                                strv_add(&xf, line);
                }
        }

        for (int m = 0; m < 2; m++) {
                const char *mode = m == 0 ? "system" : "user";
                if (!streq(arg_mode, "both") && !streq(arg_mode, mode))
                        continue;
                for (size_t i = 0; i < n; i++) {
                        _cleanup_buf_ Buf report = {};
                        const char *xr;
                        int fails;

                        if (only.n > 0 && !strv_has(&only, rows[i].file))
                                continue;
                        fails = run_case(&rows[i], m == 1, &report);
                        xr = xfail_reason(&xf, mode, rows[i].file);
                        if (fails && xr)
                                xfailed++;
                        else if (fails) {
                                failed++;
                                printf("FAIL %s:%s\n%s", mode, rows[i].file, report.s ? report.s : "");
                        } else if (xr) {
                                xpassed++;
                                printf("XPASS %s:%s: listed in the xfail list (%s) but passes; remove it\n", mode,
                                       rows[i].file, xr);
                        } else
                                passed++;
                }
        }
        printf("%u passed, %u failed, %u xfail, %u xpass\n", passed, failed, xfailed, xpassed);
        for (size_t i = 0; i < n; i++) {
                free(rows[i].file);
                free(rows[i].mode);
                free(rows[i].stderr_sub);
                free(rows[i].service);
                strv_done(&rows[i].deps);
        }
        free(rows);
        return failed || xpassed ? 1 : 0;
}
