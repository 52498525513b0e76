/*
 * identity.h — who this perch is, as "user@host": the one name recorded for
 * every manual command ("Paused by alice@laptop"), written into the state
 * directory's lock files and the cluster's Leases, and shown to people.
 *
 * The user part is $PERCH_IDENTITY when it is set and not empty (used
 * whole when it already holds an "@": "ci@runner-7"), else $USER, else the
 * name of the real user id in the password database (getpwuid), else
 * "uid N"; the host part is gethostname(), else "localhost".  The result is
 * sanitized (util/sanitize.h) and at most IDENTITY_MAX - 1 bytes long.
 *
 * Thread: any; it reads the environment, so call it before starting
 * threads that change it (perch never does).  No shared state.
 */
#ifndef PERCH_UTIL_IDENTITY_H
#define PERCH_UTIL_IDENTITY_H

#include <stddef.h>

#define IDENTITY_MAX 96

/* Writes "user@host" into out (outsz bytes, at least 1); returns out. */
char *identity_get(char *out, size_t outsz);

#endif
