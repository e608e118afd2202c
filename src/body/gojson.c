/*
 * gojson.c — the strict, Go-compatible JSON body reader (see gojson.h).
 *
 * A recursive-descent parser over the raw bytes that builds a jansson tree.
 * Recursion is bounded by SG_GOJSON_MAX_DEPTH, so the C stack stays small.
 * The grammar is RFC 8259 exactly as Go's encoding/json scanner accepts it;
 * string decoding follows Go's unquote (\u escapes, surrogate pairs, U+FFFD
 * for lone surrogates and for every byte of invalid UTF-8), and every
 * object is checked for keys that Go would map to the same struct field.
 *
 * Deliberately stricter than dockerd: moby's httputils.ReadJSON decodes one
 * value and then only refuses trailing data when json.Decoder.More() says
 * another value follows, so `{} ]` or `{}}` pass there. A gate gains nothing
 * from accepting such bodies, so any trailing non-whitespace is a syntax
 * error here. Likewise integers beyond int64 and floats that overflow a
 * double are refused (SG_GOJSON_NUMBER) instead of being rounded.
 *
 * Numbers with a fraction or exponent go through strtod(), which honours
 * LC_NUMERIC: sockgate never calls setlocale(), so that is the "C" locale.
 */
#include "base/hex.h"
#include "body/gojson.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *data;
    size_t len, cap;
} gj_buf;

typedef struct {
    const unsigned char *in;
    size_t len;
    size_t pos;
    int depth;
    size_t values; /* made so far, bounded by SG_GOJSON_MAX_VALUES */
    sg_gojson_error *err;
    gj_buf str;  /* decoded string, or a number's text for strtod()   */
    gj_buf fold; /* folded object key                                  */
} gj_parser;

static json_t *gj_value(gj_parser *p);

/* ---- errors ------------------------------------------------------------ */

static int gj_line_of(const unsigned char *in, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        line += in[i] == '\n';
    return line;
}

__attribute__((format(printf, 4, 5)))
static json_t *gj_fail(gj_parser *p, sg_gojson_status status, size_t off,
                       const char *fmt, ...)
{
    sg_gojson_error *e = p->err;
    e->status = status;
    e->offset = off;
    e->line = gj_line_of(p->in, off < p->len ? off : p->len);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return NULL;
}

/* Bodies are attacker-controlled and messages end up in logs and replies:
 * show at most `max` bytes, printable ASCII as is, everything else \xNN. */
static void gj_quote(const unsigned char *s, size_t n, size_t max, char *out,
                     size_t outsz)
{
    size_t w = 0;
    for (size_t i = 0; i < n && w + 8 < outsz; i++) {
        if (i == max) {
            w += (size_t)snprintf(out + w, outsz - w, "...");
            break;
        }
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[w++] = (char)c;
        else
            w += (size_t)snprintf(out + w, outsz - w, "\\x%02x", c);
    }
    out[w] = '\0';
}

static json_t *gj_unexpected(gj_parser *p, const char *context)
{
    if (p->pos >= p->len)
        return gj_fail(p, SG_GOJSON_SYNTAX, p->len,
                       "unexpected end of input %s", context);
    char shown[16];
    gj_quote(p->in + p->pos, 1, 1, shown, sizeof shown);
    return gj_fail(p, SG_GOJSON_SYNTAX, p->pos,
                   "invalid character '%s' %s at line %d", shown, context,
                   gj_line_of(p->in, p->pos));
}

static json_t *gj_oom(gj_parser *p)
{
    /* No status of its own: the caller refuses the body either way. */
    return gj_fail(p, SG_GOJSON_SYNTAX, p->pos, "out of memory");
}

/* ---- scratch buffers ----------------------------------------------------- */

static int gj_reserve(gj_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    unsigned char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

static int gj_put(gj_buf *b, const void *bytes, size_t n)
{
    if (gj_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    return 0;
}

/* Encode a Unicode scalar value (never a surrogate, <= U+10FFFF). */
static int gj_put_rune(gj_buf *b, uint32_t r)
{
    unsigned char u[4];
    size_t n;
    if (r < 0x80) {
        u[0] = (unsigned char)r;
        n = 1;
    } else if (r < 0x800) {
        u[0] = (unsigned char)(0xC0 | (r >> 6));
        u[1] = (unsigned char)(0x80 | (r & 0x3F));
        n = 2;
    } else if (r < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (r >> 12));
        u[1] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (r & 0x3F));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | (r >> 18));
        u[1] = (unsigned char)(0x80 | ((r >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (r & 0x3F));
        n = 4;
    }
    return gj_put(b, u, n);
}

/* ---- strings ------------------------------------------------------------- */

#define GJ_REPLACEMENT 0xFFFDu

/*
 * Length of the well-formed UTF-8 sequence at s (2..4), or 0. The rules are
 * Go's utf8.DecodeRune: no overlong forms, no surrogates, nothing above
 * U+10FFFF; a bad or truncated sequence is rejected at its first byte, so
 * the caller replaces that one byte and resumes at the next.
 */
static size_t gj_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}


/* The code unit of a `\uXXXX` at `at`, or -1 if there is none. */
static long gj_u4(const gj_parser *p, size_t at)
{
    if (at + 6 > p->len || p->in[at] != '\\' || p->in[at + 1] != 'u')
        return -1;
    long v = 0;
    for (size_t i = at + 2; i < at + 6; i++) {
        int h = sg_hex_value(p->in[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/*
 * A \uXXXX escape at p->pos (the backslash). A surrogate pair becomes one
 * rune; any other surrogate becomes U+FFFD and, like Go, leaves the escape
 * that follows it to be decoded on its own.
 */
static int gj_unicode_escape(gj_parser *p)
{
    long r = gj_u4(p, p->pos);
    if (r < 0) {
        gj_fail(p, SG_GOJSON_SYNTAX, p->pos,
                "invalid \\u escape in string at line %d",
                gj_line_of(p->in, p->pos));
        return -1;
    }
    p->pos += 6;
    if (r >= 0xD800 && r <= 0xDFFF) {
        long r2 = gj_u4(p, p->pos);
        if (r <= 0xDBFF && r2 >= 0xDC00 && r2 <= 0xDFFF) {
            r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
            p->pos += 6;
        } else {
            r = GJ_REPLACEMENT;
        }
    }
    return gj_put_rune(&p->str, (uint32_t)r);
}

static int gj_escape(gj_parser *p)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (p->pos + 1 >= p->len) {
        gj_unexpected(p, "in string escape");
        return -1;
    }
    unsigned char c = p->in[p->pos + 1];
    if (c == 'u')
        return gj_unicode_escape(p);
    const char *hit = c ? strchr(from, c) : NULL;
    if (!hit) {
        p->pos++;
        gj_unexpected(p, "in string escape code");
        return -1;
    }
    p->pos += 2;
    return gj_put(&p->str, &to[hit - from], 1);
}

/* One raw byte >= 0x80: copy a well-formed sequence, else U+FFFD. */
static int gj_raw_utf8(gj_parser *p)
{
    size_t n = gj_utf8_len(p->in + p->pos, p->len - p->pos);
    if (n == 0) {
        p->pos++;
        return gj_put_rune(&p->str, GJ_REPLACEMENT);
    }
    p->pos += n;
    return gj_put(&p->str, p->in + p->pos - n, n);
}

/* Decode the string at p->pos (the opening quote) into p->str. */
static int gj_string(gj_parser *p)
{
    p->str.len = 0;
    p->pos++;
    /* Even "" needs a non-NULL buffer: json_stringn(NULL, 0) fails. */
    if (gj_reserve(&p->str, 1) < 0) {
        gj_oom(p);
        return -1;
    }
    for (;;) {
        if (p->pos >= p->len) {
            gj_unexpected(p, "in string literal");
            return -1;
        }
        unsigned char c = p->in[p->pos];
        int rc;
        if (c == '"') {
            p->pos++;
            return 0;
        } else if (c == '\\') {
            rc = gj_escape(p);
        } else if (c < 0x20) {
            gj_unexpected(p, "in string literal");
            return -1;
        } else if (c < 0x80) {
            /* Copy the whole run of plain ASCII at once. */
            size_t start = p->pos;
            while (p->pos < p->len && p->in[p->pos] >= 0x20 &&
                   p->in[p->pos] < 0x80 && p->in[p->pos] != '"' &&
                   p->in[p->pos] != '\\')
                p->pos++;
            rc = gj_put(&p->str, p->in + start, p->pos - start);
        } else {
            rc = gj_raw_utf8(p);
        }
        if (rc < 0) {
            if (p->err->status == SG_GOJSON_OK)
                gj_oom(p);
            return -1;
        }
    }
}

static json_t *gj_string_value(gj_parser *p)
{
    if (gj_string(p) < 0)
        return NULL;
    /* gj_string() only ever produces well-formed UTF-8. */
    json_t *s = json_stringn_nocheck((const char *)p->str.data, p->str.len);
    return s ? s : gj_oom(p);
}

/* ---- numbers and literals ------------------------------------------------ */

static int gj_is_digit(const gj_parser *p, size_t at)
{
    return at < p->len && p->in[at] >= '0' && p->in[at] <= '9';
}

static void gj_digits(gj_parser *p)
{
    while (gj_is_digit(p, p->pos))
        p->pos++;
}

static json_t *gj_integer(gj_parser *p, size_t start)
{
    size_t i = start;
    int neg = p->in[i] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (i += (size_t)neg; i < p->pos; i++) {
        unsigned d = (unsigned)(p->in[i] - '0');
        if (v > (limit - d) / 10)
            return gj_fail(p, SG_GOJSON_NUMBER, start,
                           "integer out of range at line %d",
                           gj_line_of(p->in, start));
        v = v * 10 + d;
    }
    /* -2^63 has no positive counterpart: negate in unsigned arithmetic. */
    json_int_t n = neg ? (json_int_t)(0 - v) : (json_int_t)v;
    json_t *j = json_integer(n);
    return j ? j : gj_oom(p);
}

static json_t *gj_real(gj_parser *p, size_t start)
{
    p->str.len = 0;
    if (gj_put(&p->str, p->in + start, p->pos - start) < 0 ||
        gj_put(&p->str, "", 1) < 0)
        return gj_oom(p);
    errno = 0;
    double d = strtod((const char *)p->str.data, NULL);
    /* Overflow is an error in Go too; underflow to 0 or a subnormal is not. */
    if (!isfinite(d) || (errno == ERANGE && fabs(d) > 1.0))
        return gj_fail(p, SG_GOJSON_NUMBER, start,
                       "number out of range at line %d",
                       gj_line_of(p->in, start));
    json_t *j = json_real(d);
    return j ? j : gj_oom(p);
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static json_t *gj_number(gj_parser *p)
{
    size_t start = p->pos;
    int is_real = 0;
    if (p->in[p->pos] == '-')
        p->pos++;
    if (!gj_is_digit(p, p->pos))
        return gj_unexpected(p, "in numeric literal");
    if (p->in[p->pos++] != '0')
        gj_digits(p);
    if (p->pos < p->len && p->in[p->pos] == '.') {
        p->pos++;
        if (!gj_is_digit(p, p->pos))
            return gj_unexpected(p, "after decimal point in numeric literal");
        gj_digits(p);
        is_real = 1;
    }
    if (p->pos < p->len && (p->in[p->pos] == 'e' || p->in[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->in[p->pos] == '+' || p->in[p->pos] == '-'))
            p->pos++;
        if (!gj_is_digit(p, p->pos))
            return gj_unexpected(p, "in exponent of numeric literal");
        gj_digits(p);
        is_real = 1;
    }
    return is_real ? gj_real(p, start) : gj_integer(p, start);
}

static json_t *gj_literal(gj_parser *p, const char *word, json_t *value)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++, p->pos++)
        if (p->pos >= p->len || p->in[p->pos] != (unsigned char)word[i])
            return gj_unexpected(p, "in literal");
    return value;
}

/* ---- containers ---------------------------------------------------------- */

static void gj_skip_ws(gj_parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->in[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->pos++;
    }
}

static int gj_peek(const gj_parser *p)
{
    return p->pos < p->len ? p->in[p->pos] : -1;
}

static int gj_enter(gj_parser *p)
{
    if (++p->depth > SG_GOJSON_MAX_DEPTH) {
        gj_fail(p, SG_GOJSON_TOO_DEEP, p->pos,
                "nesting deeper than %d at line %d", SG_GOJSON_MAX_DEPTH,
                gj_line_of(p->in, p->pos));
        return -1;
    }
    p->pos++; /* the opening bracket */
    return 0;
}

static json_t *gj_array(gj_parser *p)
{
    if (gj_enter(p) < 0)
        return NULL;
    json_t *arr = json_array();
    if (!arr)
        return gj_oom(p);
    gj_skip_ws(p);
    if (gj_peek(p) == ']') {
        p->pos++;
        p->depth--;
        return arr;
    }
    for (;;) {
        json_t *v = gj_value(p);
        if (!v || json_array_append_new(arr, v) < 0) {
            if (v)
                gj_oom(p);
            json_decref(arr);
            return NULL;
        }
        gj_skip_ws(p);
        int c = gj_peek(p);
        p->pos++;
        if (c == ']')
            break;
        if (c != ',') {
            p->pos--;
            json_decref(arr);
            return gj_unexpected(p, "after array element");
        }
    }
    p->depth--;
    return arr;
}

/*
 * Register the key just decoded into p->str in `seen` (folded key → key as
 * spelled). Returns the spelled copy, owned by `seen`, or NULL if the key
 * folds like an earlier one: Go would feed both to one struct field and
 * let the last win, which sockgate refuses to second-guess.
 */
static json_t *gj_key(gj_parser *p, json_t *seen, size_t key_off)
{
    p->fold.len = 0;
    if (gj_reserve(&p->fold, p->str.len + 1) < 0)
        return gj_oom(p);
    int flen = sg_gojson_fold((const char *)p->str.data, p->str.len,
                              (char *)p->fold.data, p->fold.cap);
    if (flen < 0)
        return gj_oom(p);
    const char *folded = (const char *)p->fold.data;
    json_t *earlier = json_object_getn(seen, folded, (size_t)flen);
    if (earlier) {
        char a[96], b[96];
        gj_quote(p->str.data, p->str.len, 40, a, sizeof a);
        gj_quote((const unsigned char *)json_string_value(earlier),
                 json_string_length(earlier), 40, b, sizeof b);
        return gj_fail(p, SG_GOJSON_AMBIGUOUS, key_off,
                       "duplicate key \"%s\" (folds like \"%s\") at line %d",
                       a, b, gj_line_of(p->in, key_off));
    }
    json_t *spelled =
        json_stringn_nocheck((const char *)p->str.data, p->str.len);
    if (!spelled ||
        json_object_setn_new_nocheck(seen, folded, (size_t)flen, spelled) < 0)
        return gj_oom(p);
    return spelled;
}

/* One `"key": value` member into obj. */
static int gj_member(gj_parser *p, json_t *obj, json_t *seen)
{
    gj_skip_ws(p);
    if (gj_peek(p) != '"') {
        gj_unexpected(p, "looking for beginning of object key string");
        return -1;
    }
    size_t key_off = p->pos;
    if (gj_string(p) < 0)
        return -1;
    json_t *spelled = gj_key(p, seen, key_off);
    if (!spelled)
        return -1;
    gj_skip_ws(p);
    if (gj_peek(p) != ':') {
        gj_unexpected(p, "after object key");
        return -1;
    }
    p->pos++;
    json_t *v = gj_value(p);
    if (!v)
        return -1;
    /* Keys are unique (checked above), so this never replaces a member. */
    if (json_object_setn_new_nocheck(obj, json_string_value(spelled),
                                     json_string_length(spelled), v) < 0) {
        gj_oom(p);
        return -1;
    }
    return 0;
}

static json_t *gj_object(gj_parser *p)
{
    if (gj_enter(p) < 0)
        return NULL;
    json_t *obj = json_object(), *seen = NULL;
    if (!obj)
        goto oom;
    gj_skip_ws(p);
    if (gj_peek(p) == '}') {
        p->pos++;
        goto done;
    }
    /* Only non-empty objects need the set of folded keys. */
    if (!(seen = json_object()))
        goto oom;
    for (;;) {
        if (gj_member(p, obj, seen) < 0)
            goto fail;
        gj_skip_ws(p);
        int c = gj_peek(p);
        p->pos++;
        if (c == '}')
            break;
        if (c != ',') {
            p->pos--;
            gj_unexpected(p, "after object key:value pair");
            goto fail;
        }
    }
done:
    json_decref(seen);
    p->depth--;
    return obj;
oom:
    gj_oom(p);
fail:
    json_decref(seen);
    json_decref(obj);
    return NULL;
}

static json_t *gj_value(gj_parser *p)
{
    gj_skip_ws(p);
    if (++p->values > SG_GOJSON_MAX_VALUES)
        return gj_fail(p, SG_GOJSON_TOO_LARGE, p->pos, "more than %d values",
                       SG_GOJSON_MAX_VALUES);
    switch (gj_peek(p)) {
    case '{':
        return gj_object(p);
    case '[':
        return gj_array(p);
    case '"':
        return gj_string_value(p);
    case 't':
        return gj_literal(p, "true", json_true());
    case 'f':
        return gj_literal(p, "false", json_false());
    case 'n':
        return gj_literal(p, "null", json_null());
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return gj_number(p);
    default:
        return gj_unexpected(p, "looking for beginning of value");
    }
}

/* ---- public API ---------------------------------------------------------- */

json_t *sg_gojson_parse(const char *buf, size_t len, sg_gojson_error *err)
{
    sg_gojson_error scratch;
    gj_parser p = {.in = (const unsigned char *)buf, .len = len,
                   .err = err ? err : &scratch};
    memset(p.err, 0, sizeof *p.err);
    p.err->line = 1;
    if (!buf)
        p.len = 0;

    gj_skip_ws(&p);
    json_t *root = NULL;
    if (p.pos >= p.len) {
        gj_fail(&p, SG_GOJSON_SYNTAX, p.pos, "empty body");
    } else if ((root = gj_value(&p)) != NULL) {
        gj_skip_ws(&p);
        if (p.pos < p.len) {
            json_decref(root);
            root = gj_unexpected(&p, "after top-level value");
        }
    }
    free(p.str.data);
    free(p.fold.data);
    return root;
}

/* The next byte at or after *i outside any string (a string is skipped
 * whole, escapes included), or -1 at the end: the one lexing that the
 * pre-parse scans below share. */
static int gj_next_outside(const char *buf, size_t len, size_t *i)
{
    while (*i < len) {
        char ch = buf[(*i)++];
        if (ch != '"')
            return (unsigned char)ch;
        while (*i < len) {
            char in = buf[(*i)++];
            if (in == '\\')
                (*i)++;
            else if (in == '"')
                break;
        }
    }
    return -1;
}

size_t sg_gojson_count_values(const char *buf, size_t len)
{
    size_t n = 1; /* the top-level value */
    int ch;
    for (size_t i = 0; (ch = gj_next_outside(buf, len, &i)) >= 0;)
        if (ch == '[' || ch == '{' || ch == ',' || ch == ':')
            n++; /* a first element, a next one, or a member's value */
    return n;
}

size_t sg_gojson_object_end(const char *buf, size_t len)
{
    size_t i = 0, depth = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    if (i == len || buf[i] != '{')
        return 0;
    int ch;
    while ((ch = gj_next_outside(buf, len, &i)) >= 0) {
        if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0)
            return i;
    }
    return 0;
}

/*
 * Every fold unit yields exactly one byte: ASCII lowercased, U+017F (C5 BF)
 * as 's', U+212A (E2 84 AA) as 'k', any other byte as itself. In UTF-8 both
 * sequences can only be those runes, so matching them byte-wise is exact.
 */
static size_t gj_fold_unit(const unsigned char *s, size_t n, unsigned char *out)
{
    if (n >= 2 && s[0] == 0xC5 && s[1] == 0xBF) {
        *out = 's';
        return 2;
    }
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x84 && s[2] == 0xAA) {
        *out = 'k';
        return 3;
    }
    *out = (s[0] >= 'A' && s[0] <= 'Z') ? (unsigned char)(s[0] + 32) : s[0];
    return 1;
}

int sg_gojson_fold(const char *key, size_t len, char *out, size_t outsz)
{
    const unsigned char *s = (const unsigned char *)key;
    size_t i = 0, w = 0;
    while (i < len) {
        unsigned char c;
        i += gj_fold_unit(s + i, len - i, &c);
        if (w + 1 >= outsz || w >= (size_t)INT32_MAX)
            return -1;
        out[w++] = (char)c;
    }
    if (w >= outsz)
        return -1;
    out[w] = '\0';
    return (int)w;
}

/* Does key fold like the ASCII name? Compared unit by unit, no copy. */
static int gj_fold_equal(const char *key, size_t klen, const char *name)
{
    const unsigned char *s = (const unsigned char *)key;
    size_t i = 0, j = 0;
    while (i < klen) {
        unsigned char a, b;
        i += gj_fold_unit(s + i, klen - i, &a);
        if (name[j] == '\0')
            return 0;
        gj_fold_unit((const unsigned char *)name + j, 1, &b);
        j++;
        if (a != b)
            return 0;
    }
    return name[j] == '\0';
}

json_t *sg_gojson_get(const json_t *obj, const char *name, const char **key_out)
{
    if (!json_is_object(obj) || !name)
        return NULL;
    /* jansson's iterator API is not const-qualified; nothing is modified. */
    json_t *o = (json_t *)obj;
    void *it = json_object_iter_at(o, name);
    if (it && json_object_iter_key_len(it) == strlen(name))
        goto found;
    for (it = json_object_iter(o); it; it = json_object_iter_next(o, it))
        if (gj_fold_equal(json_object_iter_key(it),
                          json_object_iter_key_len(it), name))
            goto found;
    return NULL;
found:
    if (key_out)
        *key_out = json_object_iter_key(it);
    return json_object_iter_value(it);
}
