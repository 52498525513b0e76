/*
 * sigwatch.c — the thread that receives SIGINT, SIGTERM and SIGHUP (see
 * sigwatch.h).  One per process: its state is the file's, under `mu`; the
 * hook is called under `hook_mu` so that clearing it waits for a call in
 * progress.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "util/sigwatch.h"
#include "util/status.h"

#define MAX_CHILDREN 16
#define CHILD_GRACE_MS 500

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t watcher;
static bool running, stopping;
static int caught, count;
static sigset_t saved_mask;
static sigwatch_fn *hook;
static void *hook_arg;
static pid_t children[MAX_CHILDREN];
static size_t n_children;

static void
watched(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static bool
child_registered(pid_t pgid)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < n_children; i++)
		found = found || children[i] == pgid;
	pthread_mutex_unlock(&mu);
	return found;
}

static void
signal_children(int sig, pid_t *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sig == SIGTERM || child_registered(list[i]))
			kill(-list[i], sig);
}

/* SIGTERM to every registered group now, SIGKILL to those still
 * registered (not yet reaped by whoever started them) after the grace. */
static void
end_children_begin(pid_t *list, size_t *n)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < n_children; i++)
		list[i] = children[i];
	*n = n_children;
	pthread_mutex_unlock(&mu);
	signal_children(SIGTERM, list, *n);
}

static void
end_children_finish(pid_t *list, size_t n)
{
	struct timespec nap = { 0, 50 * 1000000L };
	int waited = 0;
	size_t i;
	bool left = n > 0;

	while (left && waited < CHILD_GRACE_MS) {
		nanosleep(&nap, NULL);
		waited += 50;
		for (i = 0, left = false; i < n; i++)
			left = left || child_registered(list[i]);
	}
	if (left)
		signal_children(SIGKILL, list, n);
}

static void
call_hook(int sig, int n)
{
	pthread_mutex_lock(&hook_mu);
	if (hook != NULL)
		hook(hook_arg, sig, n);
	pthread_mutex_unlock(&hook_mu);
}

static void *
watch_main(void *arg)
{
	pid_t list[MAX_CHILDREN];
	sigset_t set;
	size_t nl;
	int sig, n;

	(void)arg;
	watched(&set);
	/* Cancelled (sigwatch_stop) only while it waits: never holding a
	 * lock or in the middle of a hook.  A signal the process ignores
	 * (nohup's SIGHUP) never arrives: ignored it stays. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		int rc;

		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		rc = sigwait(&set, &sig);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (rc != 0)
			continue;
		pthread_mutex_lock(&mu);
		if (stopping) {
			pthread_mutex_unlock(&mu);
			break;
		}
		if (caught == 0)
			caught = sig;
		n = ++count;
		pthread_mutex_unlock(&mu);
		if (n == 1)
			end_children_begin(list, &nl);
		call_hook(sig, n);
		if (n == 1)
			end_children_finish(list, nl);
	}
	return NULL;
}

int
sigwatch_start(void)
{
	sigset_t set;

	watched(&set);
	pthread_mutex_lock(&mu);
	if (running) {
		pthread_mutex_unlock(&mu);
		return ST_CONFLICT;
	}
	pthread_sigmask(SIG_BLOCK, &set, &saved_mask);
	stopping = false;
	caught = count = 0;
	if (pthread_create(&watcher, NULL, watch_main, NULL) != 0) {
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
		pthread_mutex_unlock(&mu);
		return ST_ERR;
	}
	running = true;
	pthread_mutex_unlock(&mu);
	return ST_OK;
}

void
sigwatch_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = true;
	pthread_mutex_unlock(&mu);
	pthread_cancel(watcher);	/* acts in sigwait (watch_main) */
	pthread_join(watcher, NULL);
	sigwatch_hook(NULL, NULL);
	pthread_mutex_lock(&mu);
	running = false;
	pthread_mutex_unlock(&mu);
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
}

bool
sigwatch_active(void)
{
	bool r;

	pthread_mutex_lock(&mu);
	r = running;
	pthread_mutex_unlock(&mu);
	return r;
}

void
sigwatch_hook(sigwatch_fn *fn, void *arg)
{
	int sig, n;

	pthread_mutex_lock(&hook_mu);
	hook = fn;
	hook_arg = arg;
	pthread_mutex_lock(&mu);
	sig = caught;
	n = count;
	pthread_mutex_unlock(&mu);
	if (fn != NULL && sig != 0)
		fn(arg, sig, n);
	pthread_mutex_unlock(&hook_mu);
}

int
sigwatch_caught(void)
{
	int sig;

	pthread_mutex_lock(&mu);
	sig = caught;
	pthread_mutex_unlock(&mu);
	return sig;
}

int
sigwatch_exit_status(int sig, int rc)
{
	return sig > 0 ? 128 + sig : rc;
}

void
sigwatch_child_add(pid_t pgid)
{
	bool now;

	pthread_mutex_lock(&mu);
	if (n_children < MAX_CHILDREN)
		children[n_children++] = pgid;
	now = caught != 0;	/* started after the signal: ended at once */
	pthread_mutex_unlock(&mu);
	if (now)
		kill(-pgid, SIGTERM);
}

void
sigwatch_child_remove(pid_t pgid)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < n_children; i++)
		if (children[i] == pgid) {
			children[i] = children[--n_children];
			break;
		}
	pthread_mutex_unlock(&mu);
}
