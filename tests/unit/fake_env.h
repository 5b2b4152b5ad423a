/*
 * A stand-in for getenv in the unit tests of the environment's readers:
 * point fake_env at a NULL-ended list of "NAME=value" strings and hand
 * fake_lookup to env_policy or its callers.
 */

#ifndef FAKE_ENV_H
#define FAKE_ENV_H

#include <stddef.h>
#include <string.h>

static const char *const	*fake_env;

/* The value of name in fake_env, or NULL when it is not set there. */
static const char *
fake_lookup(const char *name)
{
	size_t	 i, len;

	len = strlen(name);
	for (i = 0; fake_env != NULL && fake_env[i] != NULL; i++) {
		if (strncmp(fake_env[i], name, len) == 0 &&
		    fake_env[i][len] == '=')
			return (fake_env[i] + len + 1);
	}
	return (NULL);
}

#endif /* FAKE_ENV_H */
