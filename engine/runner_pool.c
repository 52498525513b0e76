/*
 * runner_pool.c — a small fixed pool of worker threads that the engine
 * thread hands a batch of jobs to, and waits for (see runner_int.h): the
 * per-canary cluster I/O of a batch of takes (runner_control.c), so that a
 * replica takes the expired Leases of a dead one at once, not one after the
 * other.
 *
 * A job is a function and its index in the caller's array.  It calls ops
 * (which may block on the network) for one canary, reads only that
 * canary's key and writes only its own slot of the array: no engine state,
 * no engine lock, so the canaries stay the runner thread's.  The engine
 * thread works on the batch too, and carries it alone when no worker
 * could be started.  The workers start at the first batch and are joined
 * by rn_pool_stop (runner_free).
 */
#include <pthread.h>
#include <stddef.h>

#include "engine/runner_int.h"
#include "util/log.h"

static void *
worker_main(void *arg)
{
	struct runner *r = arg;
	struct rpool *p = &r->pool;
	rn_job_fn fn;
	void *jobs;
	size_t i;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next >= p->n)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		i = p->next++;
		fn = p->fn;
		jobs = p->jobs;
		pthread_mutex_unlock(&p->mu);
		fn(r, jobs, i);
		pthread_mutex_lock(&p->mu);
		if (--p->left == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
start_workers(struct runner *r)
{
	struct rpool *p = &r->pool;

	p->started = true;
	while (p->n_th < POOL_WORKERS &&
	    pthread_create(&p->th[p->n_th], NULL, worker_main, r) == 0)
		p->n_th++;
	if (p->n_th < POOL_WORKERS)
		log_warn("started %zu of %d worker threads: takes run fewer at once",
		    p->n_th, POOL_WORKERS);
}

void
rn_pool_run(struct runner *r, size_t n, rn_job_fn fn, void *jobs)
{
	struct rpool *p = &r->pool;
	size_t i;

	if (n == 0)
		return;
	if (!p->started && n > 1)
		start_workers(r);
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->jobs = jobs;
	p->n = n;
	p->next = 0;
	p->left = n;
	pthread_cond_broadcast(&p->work);
	while (p->next < p->n) {
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		fn(r, jobs, i);
		pthread_mutex_lock(&p->mu);
		p->left--;
	}
	while (p->left > 0)
		pthread_cond_wait(&p->done, &p->mu);
	p->n = p->next = 0;
	p->fn = NULL;
	p->jobs = NULL;
	pthread_mutex_unlock(&p->mu);
}

void
rn_pool_stop(struct runner *r)
{
	struct rpool *p = &r->pool;
	size_t i;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n_th; i++)
		pthread_join(p->th[i], NULL);
	p->n_th = 0;
}
