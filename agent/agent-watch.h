/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Noticing changes to the Quadlet sources without polling: inotify on every search directory and
 * its subdirectories (drop-in NAME.d directories included), and, for a search directory that does
 * not exist yet, on its nearest existing ancestor, so that its creation is seen. A burst of events
 * arms one one-shot timer (debounce); when it fires the callback runs once. No periodic timer:
 * while nothing changes, nothing wakes up. The owner re-arms the watch set (watch_set()) before
 * each read of the sources, so a change made between the read and the re-arm is never lost. */

#include <stdint.h>

#include <systemd/sd-event.h>

#include "quadlet-sources.h"

/* Quiet time after the last event before the callback runs... */
#define WATCH_DEBOUNCE_USEC_DEFAULT (200ULL * 1000ULL)
/* ...but never later than this after the first event of a burst (a file rewritten in a loop must
 * not starve the apply). */
#define WATCH_DEBOUNCE_MAX_USEC (2ULL * 1000000ULL)

typedef struct AgentWatch AgentWatch;
typedef void (*watch_fired_t)(AgentWatch *w, void *userdata);

int watch_new(sd_event *event, uint64_t debounce_usec, watch_fired_t cb, void *userdata, AgentWatch **ret);
AgentWatch *watch_free(AgentWatch *w);

/* Replaces the watched set: each of dirs if it is a directory, else its nearest existing ancestor.
 * Returns the number of watches, or a negative errno (the old set is gone then). */
int watch_set(AgentWatch *w, const Strv *dirs);

/* Pure: when the callback of a burst that began at first_usec is due, given an event at now_usec. */
uint64_t debounce_deadline(uint64_t first_usec, uint64_t now_usec, uint64_t delay_usec, uint64_t max_usec);

/* The search roots the generator would look at for o (user mode), whether they exist or not,
 * prefixed with o->root, plus the resolved existing search directories and their subdirectories. */
int watch_dirs(const QuadletSourcesOptions *o, Strv *ret);

/* The deepest existing directory on the way to path ("/" at worst). */
int nearest_existing_dir(const char *path, char **ret);
