#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The program inside every image of the founding scenario (tests/migrate/scenario.sh), installed as
# /app/app with the links /app/run, /app/health and /app/probe. It gives each of the report's twelve
# services its real shape with nothing but busybox: the main process waits for its host services,
# initializes its data once as the container's own user, serves HTTP and, for the exporters,
# /metrics; the health check asks the same things again.
#
#   /app/run                  main process (configured by the image's and the unit's environment)
#   /app/health [CHECK...]    exit 0 when healthy; CHECK = pg:HOST:PORT | redis:HOST:PORT | http:URL
#   /app/probe pg|redis HOST PORT, /app/probe http URL
#
# Environment: APP_NAME, APP_PORT (listen), APP_DATA (data directory, must be writable),
# POSTGRES_HOST/POSTGRES_PORT or DATABASE_URL (postgresql://user@HOST:PORT/db), REDIS_HOST/REDIS_PORT,
# APP_SECRET_FILE and APP_SECRET_ENV (a secret that must be readable / set), APP_UPSTREAM (an HTTP
# URL this process depends on, e.g. the other member of its pod).

# probe_pg HOST PORT: a PostgreSQL server answers an SSLRequest with one byte, 'S' or 'N'; the
# invalid start-up packet after it makes the server close the connection, so nc returns at once.
probe_pg() {
        r=$(printf '\0\0\0\010\004\322\026\057\0\0\0\010\0\0\0\0' | timeout 5 nc "$1" "$2" 2>/dev/null | head -c 1)
        [ "$r" = S ] || [ "$r" = N ]
}
# probe_redis HOST PORT: PING answered with +PONG (QUIT makes redis close the connection).
probe_redis() {
        printf 'PING\r\nQUIT\r\n' | timeout 5 nc "$1" "$2" 2>/dev/null | grep -q '^+PONG'
}
# busybox 1.35's `wget -T` segfaults: bound it with timeout.
probe_http() { timeout 5 wget -qO- "$1" >/dev/null 2>&1; }

# The host and port of the database: DATABASE_URL wins over POSTGRES_HOST, as in litellm.
pg_target() {
        if [ -n "${DATABASE_URL:-}" ]; then
                h=$(echo "$DATABASE_URL" | sed -n 's|^[a-z]*://\([^@/]*@\)\{0,1\}\([^:/]*\).*|\2|p')
                p=$(echo "$DATABASE_URL" | sed -n 's|^[a-z]*://\([^@/]*@\)\{0,1\}[^:/]*:\([0-9]*\).*|\2|p')
                echo "$h ${p:-5432}"
        elif [ -n "${POSTGRES_HOST:-}" ]; then
                echo "$POSTGRES_HOST ${POSTGRES_PORT:-5432}"
        fi
}

# deps_ok: every dependency the environment names answers; prints the first one that does not.
deps_ok() {
        t=$(pg_target)
        if [ -n "$t" ]; then probe_pg $t || { echo "postgresql $t"; return 1; }; fi
        if [ -n "${REDIS_HOST:-}" ]; then
                probe_redis "$REDIS_HOST" "${REDIS_PORT:-6379}" || { echo "redis $REDIS_HOST"; return 1; }
        fi
        if [ -n "${APP_UPSTREAM:-}" ]; then probe_http "$APP_UPSTREAM" || { echo "upstream $APP_UPSTREAM"; return 1; }; fi
        if [ -n "${APP_SECRET_FILE:-}" ]; then test -r "$APP_SECRET_FILE" || { echo "secret $APP_SECRET_FILE"; return 1; }; fi
        if [ -n "${APP_SECRET_ENV:-}" ]; then
                eval "v=\${$APP_SECRET_ENV:-}"
                [ -n "$v" ] || { echo "secret \$$APP_SECRET_ENV"; return 1; }
        fi
        return 0
}

write_metrics() {
        if deps_ok >/dev/null; then up=1; else up=0; fi
        {
                echo "# HELP ${APP_NAME}_up Whether the exporter reaches what it exports."
                echo "${APP_NAME}_up $up"
                [ -n "${APP_SECRET_FILE:-}" ] && echo "${APP_NAME}_token_bytes $(wc -c < "$APP_SECRET_FILE" 2>/dev/null || echo 0)"
        } | sed 's/-/_/g' > /tmp/www/metrics.new && mv /tmp/www/metrics.new /tmp/www/metrics
}

run() {
        : "${APP_NAME:?}" "${APP_PORT:?}"
        echo "$APP_NAME: starting as uid $(id -u) gid $(id -g) groups $(id -G)"
        # like the real services: wait for the database/redis/secret for a while, then give up
        i=0
        while ! why=$(deps_ok); do
                i=$((i + 1))
                [ $i -ge 60 ] && { echo "$APP_NAME: giving up: $why does not answer"; exit 1; }
                [ $((i % 10)) = 1 ] && echo "$APP_NAME: waiting for $why"
                sleep 2
        done
        if [ -n "${APP_DATA:-}" ]; then
                test -w "$APP_DATA" || { echo "$APP_NAME: $APP_DATA is not writable for uid $(id -u)"; exit 1; }
                # first start: the service creates its own files, owned by its own uid
                if [ ! -e "$APP_DATA/.initialized" ]; then
                        echo "initialized by $APP_NAME" > "$APP_DATA/.initialized" || exit 1
                        mkdir -p "$APP_DATA/cache" && echo "cache of $APP_NAME" > "$APP_DATA/cache/state"
                fi
        fi
        mkdir -p /tmp/www
        echo "$APP_NAME ok" > /tmp/www/index.html
        write_metrics
        httpd -f -p "$APP_PORT" -h /tmp/www &
        httpd_pid=$!
        # busybox as PID 1 ignores SIGTERM unless it is trapped: stop at once, exit 0
        trap 'kill $httpd_pid 2>/dev/null; exit 0' TERM INT
        echo "$APP_NAME: listening on $APP_PORT"
        while kill -0 $httpd_pid 2>/dev/null; do
                sleep 15 &
                wait $!
                write_metrics
        done
        echo "$APP_NAME: httpd exited"
        exit 1
}

health() {
        probe_http "http://127.0.0.1:$APP_PORT/" || { echo "no answer on $APP_PORT"; exit 1; }
        why=$(deps_ok) || { echo "$why does not answer"; exit 1; }
        if [ -n "${APP_DATA:-}" ]; then test -w "$APP_DATA" || { echo "$APP_DATA not writable"; exit 1; }; fi
        for c in "$@"; do
                kind=${c%%:*} rest=${c#*:}
                case $kind in
                pg) probe_pg "${rest%:*}" "${rest##*:}" || { echo "$c does not answer"; exit 1; } ;;
                redis) probe_redis "${rest%:*}" "${rest##*:}" || { echo "$c does not answer"; exit 1; } ;;
                http) probe_http "$rest" || { echo "$c does not answer"; exit 1; } ;;
                *) echo "unknown check $c"; exit 2 ;;
                esac
        done
        exit 0
}

case ${0##*/} in
run) run ;;
health) health "$@" ;;
probe)
        case ${1:-} in
        pg) probe_pg "$2" "$3" ;;
        redis) probe_redis "$2" "$3" ;;
        http) probe_http "$2" ;;
        *) echo "usage: probe pg|redis HOST PORT | probe http URL" >&2; exit 2 ;;
        esac ;;
*) echo "call me as /app/run, /app/health or /app/probe" >&2; exit 2 ;;
esac
