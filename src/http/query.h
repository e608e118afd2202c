/*
 * query.h — a request's query string, read the way Go's net/http reads it
 * for dockerd (url.ParseQuery, then Form.Get).
 *
 * Keys and values are percent-decoded with "+" as a space; Form.Get returns
 * the first value of a key. Since Go 1.17 a ";" in the query is an error,
 * and dockerd's httputils.ParseForm refuses the request on any parse error;
 * handlers that read r.URL.Query() instead skip the bad pair and read the
 * rest. Either way a malformed query has no one meaning, so sockgate
 * refuses it where the request is routed (400, naming the parameter), and
 * the decision code reads only queries that passed: parsed once into an
 * http_query, whose look-up can only answer "this value" or "absent".
 *
 * A decoded NUL counts as malformed: Go would carry it, C strings cannot,
 * and no Engine client sends one.
 */
#ifndef SG_HTTP_QUERY_H
#define SG_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Is the raw query q[0..len) (without the "?") one Go reads without an
 * error? If not, why[] says which parameter and what is wrong with it.
 */
bool http_query_valid(const char *q, size_t len, char *why, size_t whysz);

typedef struct {
    const char *key, *value;
} http_query_param;

typedef struct {
    http_query_param *params; /* in order; keys and values NUL-terminated */
    size_t n;
} http_query;

typedef enum {
    HTTP_QUERY_OK,
    HTTP_QUERY_MALFORMED, /* see http_query_valid */
    HTTP_QUERY_NOMEM,
} http_query_status;

/* Parse q[0..len) (NULL or empty: no parameters). On anything but OK, out
 * is empty and needs no free. One allocation holds everything. */
http_query_status http_query_parse(const char *q, size_t len, http_query *out);
/* The first value of key (Go's Form.Get), or NULL if the key is absent. */
const char *http_query_first(const http_query *q, const char *key);
void http_query_free(http_query *q);

#endif
