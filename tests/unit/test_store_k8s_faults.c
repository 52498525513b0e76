/* test_store_k8s_faults.c — the cluster store under the test API server's
 * faults: a journal write carried out whose answer never came (both
 * attempts held back past the client's timeout) is not written twice when
 * its records are tried again; records refused outright (429s, 500s) are
 * all written once; the Lease survives lost answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/k8s.h"
#include "helper_apiserver.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "util/status.h"
#include "util/xalloc.h"

#define KEY "default/checkout"
#define PATH "configmaps/perch-checkout$"

struct fx {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
};

static int
setup(void **state)
{
	static const char *const args[] = { "--fault-slow-ms", "1200", NULL };
	struct k8s_client_opts o = { .backoff_ms = 20, .timeout_ms = 400 };
	struct kubeconfig_opts ko = { 0 };
	struct fx *f = xcalloc(1, sizeof *f);

	if (apiserver_start(&f->srv, args) != 0)
		return -1;
	ko.path = f->srv.kubeconfig;
	if (k8s_config_load(&ko, &f->cfg, NULL) != ST_OK ||
	    k8s_client_new(f->cfg, &o, &f->c, NULL) != ST_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	k8s_client_free(f->c);
	k8s_config_free(f->cfg);
	apiserver_stop(&f->srv);
	free(f);
	return 0;
}

static void
faults(struct fx *f, const char *mix, const char *methods, int count)
{
	char body[256];

	snprintf(body, sizeof body, "{\"rate\":1,\"mix\":\"%s\",\"methods\":\"%s\",\"match\":\"%s\","
	    "\"count\":%d}", mix, methods, PATH, count);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", body), 200);
}

static void
append(struct store_k8s *s, int i)
{
	struct journal_rec rec;

	memset(&rec, 0, sizeof rec);
	rec.time_ms = 1700000000000 + 1000 * (int64_t)i;
	snprintf(rec.canary, sizeof rec.canary, KEY);
	rec.kind = REC_EVENT;
	snprintf(rec.type, sizeof rec.type, "Normal");
	snprintf(rec.reason, sizeof rec.reason, "Synced");
	snprintf(rec.message, sizeof rec.message, "event %d", i);
	store_k8s_ops.append(s, &rec, NULL);
}

/* Every record of the journal once, in order, 0 .. n-1: waits (up to 15 s)
 * until the writer has written n records, or more (which fails). */
static void
journal_is(struct store_k8s *s, int n)
{
	struct journal_rec *tail = xcalloc(300, sizeof *tail);
	char want[32];
	size_t got = 0, i;
	int tries;

	for (tries = 0; tries < 150; tries++) {
		got = store_k8s_ops.tail(s, KEY, tail, 300);
		if ((int)got >= n)
			break;
		usleep(100000);
	}
	for (i = 0; i < got; i++) {
		snprintf(want, sizeof want, "event %zu", i);
		if (strcmp(tail[i].message, want) != 0)
			fail_msg("record %zu is '%s', want '%s' (%zu records)", i, tail[i].message, want,
			    got);
	}
	if ((int)got != n)
		fail_msg("%zu records, want %d", got, n);
	free(tail);
}

static void
test_journal_answers_lost(void **state)
{
	struct fx *f = *state;
	struct store_k8s *s = store_k8s_open(f->c, false, 0);
	struct canary_status st = { .phase = PHASE_PROGRESSING };
	char err[ERRMSG_MAX];
	int i;

	assert_int_equal(store_k8s_ops.save(s, KEY, &st, err), ST_OK);
	append(s, 0);
	journal_is(s, 1);
	/* Two answers held back past the timeout: the PATCH was carried out
	 * twice (the same segment), the client gave up, the writer keeps the
	 * records and tries again after reading the ConfigMap back. */
	faults(f, "slow", "PATCH", 2);
	append(s, 1);
	append(s, 2);
	journal_is(s, 3);
	for (i = 3; i < 6; i++)
		append(s, i);
	journal_is(s, 6);
	assert_true(apiserver_audit_count(&f->srv, "fault=slow") == 2);
	/* Refused outright, again and again: kept, then written once. */
	faults(f, "429:1,500:1,503:1", "PATCH", 8);
	for (i = 6; i < 9; i++)
		append(s, i);
	journal_is(s, 9);
	/* Answers reset mid-body, over a segment boundary. */
	store_k8s_set_journal_max(s, 12);
	faults(f, "reset", "PATCH", 3);
	for (i = 9; i < 12; i++)
		append(s, i);
	journal_is(s, 12);
	store_k8s_close(s);
}

static void
test_lease_answers_lost(void **state)
{
	struct fx *f = *state;
	struct store_k8s *s = store_k8s_open(f->c, false, 0);
	char holder[200], err[ERRMSG_MAX];

	assert_int_equal(apiserver_post(&f->srv, "/_test/faults",
	    "{\"rate\":1,\"mix\":\"reset\",\"methods\":\"POST,PUT\",\"match\":\"leases\",\"count\":2}"),
	    200);
	assert_int_equal(store_k8s_ops.acquire(s, KEY, "alice@host", holder, sizeof holder, err),
	    ST_OK);
	assert_int_equal(store_k8s_ops.renew(s, KEY), ST_OK);
	assert_int_equal(store_k8s_ops.release(s, KEY), ST_OK);
	store_k8s_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_answers_lost),
		cmocka_unit_test(test_lease_answers_lost),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
