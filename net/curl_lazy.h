/*
 * curl_lazy.h — libcurl, loaded when perch first needs the network: the
 * first Kubernetes or Prometheus client, the first webhook or alert sent.
 *
 * perch is not linked against libcurl: `perch demo` and `perch watch
 * --state-dir` never touch the network, and libcurl's dependencies (TLS,
 * Kerberos, LDAP, PKCS#11, ...) cost megabytes of resident pages just by
 * being mapped.  Instead curl_lazy_load() dlopen()s libcurl.so.4 (or
 * $PERCH_LIBCURL) once, resolves every curl function perch uses into the
 * table below and runs curl_global_init().
 *
 * Code under k8s/ and metrics/ includes this header instead of
 * <curl/curl.h> and keeps calling curl_easy_setopt() & co by their usual
 * names: the macros at the end route each name to its table entry.  The
 * variadic ones (curl_easy_setopt, curl_easy_getinfo, curl_multi_setopt)
 * are called through variadic function pointers, which is libcurl's own
 * ABI; the compile-time type checks of <curl/typecheck-gcc.h> are lost.
 *
 * Contract: call curl_lazy_load() and check it before the first curl_*
 * call (k8s_client_new and prom_new do, webhook and alert sends before each
 * batch); before that, or after it failed, the table holds NULL pointers.
 *
 * Threads: curl_lazy_load() may be called from any thread, any number of
 * times (pthread_once); the table is written once inside it and only read
 * afterwards.  Nothing is ever unloaded.
 */
#ifndef PERCH_NET_CURL_LAZY_H
#define PERCH_NET_CURL_LAZY_H

#include <stddef.h>

#include <curl/curl.h>

/* The library tried when $PERCH_LIBCURL is unset or empty, then the other
 * builds of the same ABI (GnuTLS, NSS) when that one is not installed. */
#define CURL_LAZY_SONAME "libcurl.so.4"
#define CURL_LAZY_SONAMES { CURL_LAZY_SONAME, "libcurl-gnutls.so.4", "libcurl-nss.so.4" }

/* Every libcurl function perch calls: return type, name without "curl_",
 * parameters. */
#define CURL_LAZY_FUNCS(X) \
	X(CURLcode, global_init, (long flags)) \
	X(CURL *, easy_init, (void)) \
	X(CURLcode, easy_setopt, (CURL *h, CURLoption opt, ...)) \
	X(CURLcode, easy_getinfo, (CURL *h, CURLINFO info, ...)) \
	X(CURLcode, easy_perform, (CURL *h)) \
	X(void, easy_reset, (CURL *h)) \
	X(void, easy_cleanup, (CURL *h)) \
	X(const char *, easy_strerror, (CURLcode code)) \
	X(char *, easy_escape, (CURL *h, const char *s, int len)) \
	X(void, free, (void *p)) \
	X(struct curl_slist *, slist_append, (struct curl_slist *l, const char *s)) \
	X(void, slist_free_all, (struct curl_slist *l)) \
	X(CURLM *, multi_init, (void)) \
	X(CURLMcode, multi_setopt, (CURLM *m, CURLMoption opt, ...)) \
	X(CURLMcode, multi_add_handle, (CURLM *m, CURL *h)) \
	X(CURLMcode, multi_remove_handle, (CURLM *m, CURL *h)) \
	X(CURLMcode, multi_perform, (CURLM *m, int *running)) \
	X(CURLMcode, multi_poll, (CURLM *m, struct curl_waitfd *extra, unsigned n, int ms, int *ret)) \
	X(CURLMsg *, multi_info_read, (CURLM *m, int *left)) \
	X(CURLMcode, multi_cleanup, (CURLM *m)) \
	X(CURLU *, url, (void)) \
	X(void, url_cleanup, (CURLU *u)) \
	X(CURLUcode, url_get, (const CURLU *u, CURLUPart what, char **part, unsigned int flags)) \
	X(CURLUcode, url_set, (CURLU *u, CURLUPart what, const char *part, unsigned int flags))

struct curl_lazy_fns {
#define X(ret, name, params) ret (*name) params;
	CURL_LAZY_FUNCS(X)
#undef X
};

/* Filled by curl_lazy_load(). */
extern struct curl_lazy_fns curl_lazy;

/* Loads libcurl once and runs curl_global_init.  Returns ST_OK, or
 * ST_UNSUPPORTED with one line in err (capacity n) naming the library,
 * what needs it (`what`, e.g. "the Kubernetes API client") and why it
 * could not be loaded.  Any thread. */
int curl_lazy_load(const char *what, char *err, size_t n);

/* For tests: opens `lib` and resolves every function into *out without
 * touching the shared table or initialising libcurl.  Returns ST_OK, or
 * ST_UNSUPPORTED with dlerror()'s reason in err. */
int curl_lazy_open(const char *lib, struct curl_lazy_fns *out, char *err, size_t n);
/* curl_lazy_open of each of libs in turn until one loads; *which names it.
 * When none does, err holds the reason of the first (the one users know)
 * and *which names it. */
int curl_lazy_open_any(const char *const *libs, size_t nlibs, struct curl_lazy_fns *out,
    const char **which, char *err, size_t n);

/* ---- the usual names, routed to the table ---- */
#undef curl_global_init
#undef curl_easy_init
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_easy_perform
#undef curl_easy_reset
#undef curl_easy_cleanup
#undef curl_easy_strerror
#undef curl_easy_escape
#undef curl_free
#undef curl_slist_append
#undef curl_slist_free_all
#undef curl_multi_init
#undef curl_multi_setopt
#undef curl_multi_add_handle
#undef curl_multi_remove_handle
#undef curl_multi_perform
#undef curl_multi_poll
#undef curl_multi_info_read
#undef curl_multi_cleanup
#undef curl_url
#undef curl_url_cleanup
#undef curl_url_get
#undef curl_url_set

#define curl_global_init	curl_lazy.global_init
#define curl_easy_init		curl_lazy.easy_init
#define curl_easy_setopt	curl_lazy.easy_setopt
#define curl_easy_getinfo	curl_lazy.easy_getinfo
#define curl_easy_perform	curl_lazy.easy_perform
#define curl_easy_reset		curl_lazy.easy_reset
#define curl_easy_cleanup	curl_lazy.easy_cleanup
#define curl_easy_strerror	curl_lazy.easy_strerror
#define curl_easy_escape	curl_lazy.easy_escape
#define curl_free		curl_lazy.free
#define curl_slist_append	curl_lazy.slist_append
#define curl_slist_free_all	curl_lazy.slist_free_all
#define curl_multi_init		curl_lazy.multi_init
#define curl_multi_setopt	curl_lazy.multi_setopt
#define curl_multi_add_handle	curl_lazy.multi_add_handle
#define curl_multi_remove_handle curl_lazy.multi_remove_handle
#define curl_multi_perform	curl_lazy.multi_perform
#define curl_multi_poll		curl_lazy.multi_poll
#define curl_multi_info_read	curl_lazy.multi_info_read
#define curl_multi_cleanup	curl_lazy.multi_cleanup
#define curl_url		curl_lazy.url
#define curl_url_cleanup	curl_lazy.url_cleanup
#define curl_url_get		curl_lazy.url_get
#define curl_url_set		curl_lazy.url_set

#endif
