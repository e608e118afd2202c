/*
 * query.h — one value of a request's query string, read the way Go's
 * net/http reads it for dockerd (url.ParseQuery, then Form.Get).
 *
 * Form.Get returns the first value of a key; keys and values are
 * percent-decoded with "+" as a space. Since Go 1.17 a ";" in the query is
 * an error, and dockerd's httputils.ParseForm refuses the request on any
 * parse error. sockgate, which decides on a few query values (the
 * container of a commit, a build's network mode), refuses the same queries
 * instead of guessing what is left of them.
 */
#ifndef SG_HTTP_QUERY_H
#define SG_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    HTTP_QUERY_ABSENT,
    HTTP_QUERY_FOUND,
    HTTP_QUERY_MALFORMED, /* ";", a bad %-escape, a NUL, or too long */
} http_query_status;

/*
 * Look key up in the raw query q[0..len) (without the "?"); on FOUND the
 * decoded first value is written to out (NUL-terminated). A malformed
 * query is MALFORMED whatever key is asked for, as dockerd refuses it.
 */
http_query_status http_query_get(const char *q, size_t len, const char *key, char *out,
                                  size_t outsz);

#endif
