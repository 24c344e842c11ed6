/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ini.c - the INI text of l4proxy's config file, read line by line where
 * rte_cfgfile does not look: what it would pass over in silence (the lint
 * pass) and the line a key sits on (it keeps no line numbers), so that a
 * mistake is named with its line.
 */
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "l4proxy.h"

/* ---- where a key is: file:line: [section] key ---- */

/*
 * rte_cfgfile keeps no line numbers, so on an error the file is read again for
 * the line where key = val sits in [sec] (the first such line). Errors only.
 */
static int
ini_line(const char *file, const char *sec, const char *key, const char *val)
{
	char line[512], cur[CFG_NAME_LEN] = "";
	int lineno = 0, found = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *eq, *k_end, *v;

		lineno++;
		p += strspn(p, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '[') {
			snprintf(cur, sizeof(cur), "%.*s", (int)strcspn(p + 1, "]"), p + 1);
			continue;
		}
		eq = strchr(p, '=');
		if (eq == NULL || strcmp(cur, sec) != 0)
			continue;
		for (k_end = eq; k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t'); k_end--)
			;
		v = eq + 1 + strspn(eq + 1, " \t");
		if ((size_t)(k_end - p) == strlen(key) && strncmp(p, key, strlen(key)) == 0 &&
				strncmp(v, val, strlen(val)) == 0)
			found = lineno;
	}
	fclose(f);
	return found;
}

/* "FILE:LINE: [SEC] KEY" (or without the line if it cannot be found). */
void
ini_where(char *out, size_t len, const char *file, const char *sec, const char *key,
		const char *val)
{
	int line = ini_line(file, sec, key, val);

	if (line > 0)
		snprintf(out, len, "%.200s:%d: [%.64s] %.64s", file, line, sec, key);
	else
		snprintf(out, len, "%.200s: [%.64s] %.64s", file, sec, key);
}

/* ---- the lint pass ---- */

/*
 * What rte_cfgfile would pass over in silence, refused with the line: a line
 * that is neither a [section], a comment nor KEY = VALUE ("max_conns 100"
 * would set no limit at all), and a section given twice.
 */
int
ini_lint(const char *file)
{
	char line[512], seen[CFG_MAX_SECTIONS * 2][CFG_NAME_LEN];
	int seen_at[CFG_MAX_SECTIONS * 2], nseen = 0, lineno = 0, i, rc = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return 0; /* config_load says it cannot read it */
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *close;

		lineno++;
		p += strspn(p, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '\0' || *p == ';' || *p == '#')
			continue;
		if (*p != '[') {
			if (strchr(p, '=') == NULL) {
				fprintf(stderr, "l4proxy: %s:%d: '%s': not KEY = VALUE\n", file,
						lineno, p);
				rc = -1;
			}
			continue;
		}
		close = strchr(p, ']');
		if (close == NULL) {
			fprintf(stderr, "l4proxy: %s:%d: '%s': no closing ']'\n", file, lineno, p);
			rc = -1;
			break;
		}
		*close = '\0';
		for (i = 0; i < nseen && rc == 0; i++)
			if (strcmp(seen[i], p + 1) == 0) {
				fprintf(stderr, "l4proxy: %s:%d: [%s] again (first at line %d)\n",
						file, lineno, p + 1, seen_at[i]);
				rc = -1;
			}
		if (rc == 0 && nseen < (int)RTE_DIM(seen)) {
			snprintf(seen[nseen], sizeof(seen[nseen]), "%s", p + 1);
			seen_at[nseen++] = lineno;
		}
	}
	fclose(f);
	return rc;
}
