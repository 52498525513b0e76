/*
 * status.h — status codes shared by every module.
 *
 * Functions that can fail return an `int` status from this list (ST_OK is 0).
 * The list is one X-macro so the enum, the names and the descriptions never
 * drift apart.  Out-of-memory is not a status: xmalloc() and friends abort in
 * one place (util/xalloc.c).
 */
#ifndef PERCH_UTIL_STATUS_H
#define PERCH_UTIL_STATUS_H

#define STATUS_LIST(X) \
	X(OK,          "ok") \
	X(ERR,         "error") \
	X(INVALID,     "invalid argument or input") \
	X(PARSE,       "parse error") \
	X(IO,          "input/output error") \
	X(TOOBIG,      "response or input too large") \
	X(NOTFOUND,    "not found") \
	X(CONFLICT,    "conflict") \
	X(TIMEOUT,     "timed out") \
	X(NETWORK,     "network error") \
	X(HTTP,        "HTTP error") \
	X(AUTH,        "authentication or authorization failed") \
	X(NODATA,      "no data") \
	X(LOCKED,      "held by another controller") \
	X(CORRUPT,     "corrupted state") \
	X(REFUSED,     "refused") \
	X(UNSUPPORTED, "not supported") \
	X(AGAIN,       "try again")

enum status {
#define X(name, text) ST_##name,
	STATUS_LIST(X)
#undef X
	ST__COUNT
};

/* "OK", "TIMEOUT", ... — static strings, any thread. */
const char *status_name(int st);
/* "timed out", ... — static strings, any thread. */
const char *status_text(int st);

#endif
