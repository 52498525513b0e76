/* identity.c — "user@host" for commands, locks and Leases (see identity.h). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/identity.h"
#include "util/sanitize.h"

/* The user part: $PERCH_IDENTITY, $USER, the password database, the uid. */
static void
user_part(char *out, size_t outsz)
{
	const char *s = getenv("PERCH_IDENTITY");
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (s == NULL || s[0] == '\0')
		s = getenv("USER");
	if (s != NULL && s[0] != '\0') {
		snprintf(out, outsz, "%s", s);
		return;
	}
	if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL &&
	    res->pw_name != NULL && res->pw_name[0] != '\0') {
		snprintf(out, outsz, "%s", res->pw_name);
		return;
	}
	snprintf(out, outsz, "uid %lu", (unsigned long)getuid());
}

char *
identity_get(char *out, size_t outsz)
{
	char user[IDENTITY_MAX], host[72] = "", raw[IDENTITY_MAX + 80];
	const char *forced = getenv("PERCH_IDENTITY");

	user_part(user, sizeof user);
	if (forced != NULL && forced[0] != '\0' && strchr(forced, '@') != NULL) {
		snprintf(raw, sizeof raw, "%s", user);
	} else {
		if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		snprintf(raw, sizeof raw, "%s@%s", user, host);
	}
	if (outsz > IDENTITY_MAX)
		outsz = IDENTITY_MAX;
	sanitize(out, outsz, raw, strlen(raw));
	return out;
}
