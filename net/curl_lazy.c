/*
 * curl_lazy.c — opens libcurl at run time and fills the function table of
 * curl_lazy.h, once, on the first network client (see the header for why).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/curl_lazy.h"
#include "util/status.h"

struct curl_lazy_fns curl_lazy;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = ST_UNSUPPORTED;
static char load_err[512];	/* why loading failed; written once, in load() */

int
curl_lazy_open(const char *lib, struct curl_lazy_fns *out, char *err, size_t n)
{
	struct curl_lazy_fns f;
	const char *why;
	void *h, *sym;

	memset(out, 0, sizeof *out);
	dlerror();
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		why = dlerror();
		snprintf(err, n, "%s", why != NULL ? why : lib);
		return ST_UNSUPPORTED;
	}
	/* Object pointers from dlsym become function pointers: POSIX
	 * guarantees the conversion, C11 does not, hence the memcpy. */
#define X(ret, name, params) \
	if ((sym = dlsym(h, "curl_" #name)) == NULL) { \
		snprintf(err, n, "%s: no curl_%s", lib, #name); \
		dlclose(h); \
		return ST_UNSUPPORTED; \
	} \
	memcpy(&f.name, &sym, sizeof f.name);
	CURL_LAZY_FUNCS(X)
#undef X
	*out = f;
	return ST_OK;
}

int
curl_lazy_open_any(const char *const *libs, size_t nlibs, struct curl_lazy_fns *out,
    const char **which, char *err, size_t n)
{
	char other[512];
	size_t i;

	*which = nlibs > 0 ? libs[0] : "";
	snprintf(err, n, "no library to load");
	for (i = 0; i < nlibs; i++)
		if (curl_lazy_open(libs[i], out, i == 0 ? err : other,
		    i == 0 ? n : sizeof other) == ST_OK) {
			*which = libs[i];
			return ST_OK;
		}
	return ST_UNSUPPORTED;
}

static void
load(void)
{
	static const char *const sonames[] = CURL_LAZY_SONAMES;
	const char *lib = getenv("PERCH_LIBCURL");
	struct curl_lazy_fns f;
	CURLcode rc;

	if (lib != NULL && lib[0] != '\0') {
		if (curl_lazy_open(lib, &f, load_err, sizeof load_err) != ST_OK)
			return;
	} else if (curl_lazy_open_any(sonames, sizeof sonames / sizeof sonames[0], &f, &lib,
	    load_err, sizeof load_err) != ST_OK) {
		return;
	}
	if ((rc = f.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(load_err, sizeof load_err, "%s: curl_global_init: %s", lib,
		    f.easy_strerror(rc));
		return;
	}
	curl_lazy = f;
	load_status = ST_OK;
}

int
curl_lazy_load(const char *what, char *err, size_t n)
{
	pthread_once(&load_once, load);
	if (load_status != ST_OK && err != NULL && n > 0)
		snprintf(err, n, "%s needs libcurl, which cannot be loaded: %s", what, load_err);
	return load_status;
}
