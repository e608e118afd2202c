/*
 * gojson.h — read a request body the way dockerd (Go's encoding/json) reads
 * it, strictly, into a jansson tree that sockgate checks and re-serialises.
 *
 * Why not jansson's own parser: dockerd matches object keys to struct fields
 * case-insensitively with Unicode simple folding (so "bınds" does not match
 * but "BINDS", "binds" and "Bind\u017f" all match "Binds", and U+212A KELVIN
 * SIGN matches "k"), decodes \u escapes (surrogate pairs; a lone surrogate
 * becomes U+FFFD) and replaces invalid UTF-8 with U+FFFD, and lets the last
 * of duplicate keys win (merging into the earlier value for nested
 * objects). A gate that read the body differently could be talked around.
 *
 * sockgate does not model the merge: an object with two keys that fold to
 * the same name is *ambiguous* and refused. Everything else is parsed into
 * a json_t whose strings are the decoded (valid UTF-8) values, so that the
 * re-serialised body dockerd receives means exactly what was checked.
 */
#ifndef SG_GOJSON_H
#define SG_GOJSON_H

#include <jansson.h>
#include <stddef.h>

#define SG_GOJSON_MAX_DEPTH 64
/*
 * A body is parsed into a tree on the event loop, and the tree costs about
 * SG_GOJSON_VALUE_COST bytes per value (jansson's node, its allocation, a
 * key's hash entry): 4 MiB of `[[],[],…]` would be 1.4 million values and
 * 186 MiB. Request bodies dockerd takes hold tens to a few thousand values
 * (an environment of thousands of variables is still far below this), so a
 * body of more values is refused before it is parsed.
 */
#define SG_GOJSON_MAX_VALUES 65536
#define SG_GOJSON_VALUE_COST 160
/* The refusal of such a body (413), wherever it is found: a format for
 * SG_GOJSON_MAX_VALUES. */
#define SG_GOJSON_TOO_LARGE_FMT                                                  \
    "sockgate: the request body has more than %d JSON values; sockgate does not " \
    "inspect bodies that large"

typedef enum {
    SG_GOJSON_OK,
    SG_GOJSON_SYNTAX,    /* not JSON (Go would reject it too)              */
    SG_GOJSON_AMBIGUOUS, /* two keys of one object fold to the same name   */
    SG_GOJSON_TOO_DEEP,  /* nesting beyond SG_GOJSON_MAX_DEPTH             */
    SG_GOJSON_NUMBER,    /* a number jansson cannot hold exactly (an integer
                            beyond int64); refused rather than altered       */
    SG_GOJSON_TOO_LARGE, /* more than SG_GOJSON_MAX_VALUES values             */
} sg_gojson_status;

typedef struct {
    sg_gojson_status status;
    size_t offset;       /* byte offset of the problem in the input         */
    int line;            /* 1-based line of the problem                      */
    char message[256];   /* e.g. `duplicate key "binds" (folds like "Binds")` */
} sg_gojson_error;

/*
 * Parse buf[0..len) (one JSON value, surrounded by optional whitespace, as
 * Go's json.Decoder reads it for dockerd: trailing non-whitespace is a
 * syntax error). Returns a new reference, or NULL with *err filled.
 * An empty body (only whitespace) is SG_GOJSON_SYNTAX.
 */
json_t *sg_gojson_parse(const char *buf, size_t len, sg_gojson_error *err);

/*
 * How many values (and object keys) a parse of buf[0..len) would make, at
 * most, from one pass over its brackets, commas and colons outside strings:
 * what its tree would cost (× SG_GOJSON_VALUE_COST), known before parsing.
 * Never less than what sg_gojson_parse counts for a body it accepts.
 */
size_t sg_gojson_count_values(const char *buf, size_t len);

/*
 * The length of the JSON object at the start of buf (after JSON
 * whitespace), or 0 when buf holds no complete object. Only strings and
 * nesting are tracked: for valid JSON this is exactly where Go's
 * json.Decoder stops reading an object (what dockerd reads of an exec
 * start's body before it hijacks).
 */
size_t sg_gojson_object_end(const char *buf, size_t len);

/*
 * Member of obj whose key matches name the way Go matches a JSON key to a
 * struct field named `name` (name is ASCII): exact match first, else a
 * key that folds equal. NULL if none or obj is not an object. If `key_out`
 * is given it receives the key as spelled in the body.
 */
json_t *sg_gojson_get(const json_t *obj, const char *name, const char **key_out);

/* Go's fold of a key for struct-field matching, written to out as NUL-
 * terminated ASCII-lowercase (U+017F → 's', U+212A → 'k'; other non-ASCII
 * runes kept as their UTF-8). Returns the length, or -1 if out is too small. */
int sg_gojson_fold(const char *key, size_t len, char *out, size_t outsz);

#endif
