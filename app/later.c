/*
 * later.c — calls made later (see later.h): a list of pending calls under
 * a mutex, and a thread that waits for the earliest on CLOCK_MONOTONIC.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "app/later.h"
#include "util/systime.h"
#include "util/xalloc.h"

struct call {
	int64_t due;			/* clock_monotonic_ms */
	later_fn *fn;
	void *arg;
	struct call *next;		/* ordered by due */
};

struct later {
	pthread_mutex_t mu;
	pthread_cond_t cond;		/* CLOCK_MONOTONIC */
	pthread_t thread;
	bool stop;
	struct call *head;
};

static void
wait_until(struct later *l, int64_t due)
{
	struct timespec ts = { .tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000 };

	pthread_cond_timedwait(&l->cond, &l->mu, &ts);
}

static void *
later_main(void *arg)
{
	struct later *l = arg;
	struct call *c;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		if (l->head == NULL) {
			pthread_cond_wait(&l->cond, &l->mu);
			continue;
		}
		if (l->head->due > clock_monotonic_ms()) {
			wait_until(l, l->head->due);
			continue;
		}
		c = l->head;
		l->head = c->next;
		pthread_mutex_unlock(&l->mu);
		c->fn(c->arg, false);
		free(c);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct later *
later_new(void)
{
	struct later *l = xcalloc(1, sizeof *l);
	pthread_condattr_t ca;

	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&l->thread, NULL, later_main, l) != 0) {
		pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	return l;
}

void
later_at(struct later *l, int64_t delay_ms, later_fn *fn, void *arg)
{
	struct call *c, **p;

	if (l == NULL) {
		fn(arg, true);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->due = clock_monotonic_ms() + delay_ms;
	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&l->mu);
	for (p = &l->head; *p != NULL && (*p)->due <= c->due; p = &(*p)->next)
		;
	c->next = *p;
	*p = c;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

void
later_free(struct later *l)
{
	struct call *c;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	while ((c = l->head) != NULL) {
		l->head = c->next;
		c->fn(c->arg, true);
		free(c);
	}
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
