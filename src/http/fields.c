/*
 * fields.c — field syntax shared by the request and response parsers:
 * character classes, the header-section scanner, field lines, and the
 * Content-Length / Transfer-Encoding / Connection rules.
 *
 * Everything here is strict on purpose: whatever two HTTP implementations
 * could read differently (bare LF, obs-fold, duplicate framing fields) is
 * an error, so the gate and dockerd can never disagree on message bounds.
 */
#include "http/fields.h"

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h> /* part of every x86-64 target: no run-time check */
#endif

static void fields_fail(http_error *err, int status, const char *message)
{
    err->status = status;
    err->message = message;
}

/*
 * The character classes as one table, built at compile time from the RFC's
 * definitions: one look-up per byte on the hot path (every head the gate
 * reads passes through here) instead of a chain of comparisons.
 */
#define TCHAR(c)                                                                  \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') ||                  \
     ((c) >= 'A' && (c) <= 'Z') || (c) == '!' || (c) == '#' || (c) == '$' ||     \
     (c) == '%' || (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' ||      \
     (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' ||        \
     (c) == '|' || (c) == '~')
/* SP, VCHAR and obs-text; of the controls only HTAB. DEL is out. */
#define FIELD_BYTE(c) ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f))
#define CLASS(c) ((TCHAR(c) ? HTTP_CLASS_TCHAR : 0) | (FIELD_BYTE(c) ? HTTP_CLASS_FIELD : 0))
#define CLASS4(c) CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c) CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), CLASS4((c) + 12)
#define CLASS64(c) CLASS16(c), CLASS16((c) + 16), CLASS16((c) + 32), CLASS16((c) + 48)

const unsigned char http_char_class[256] = {CLASS64(0), CLASS64(64), CLASS64(128),
                                            CLASS64(192)};

#define LOWER(c) ((c) + ((c) >= 'A' && (c) <= 'Z') * ('a' - 'A'))
#define LOWER4(c) LOWER(c), LOWER((c) + 1), LOWER((c) + 2), LOWER((c) + 3)
#define LOWER16(c) LOWER4(c), LOWER4((c) + 4), LOWER4((c) + 8), LOWER4((c) + 12)
#define LOWER64(c) LOWER16(c), LOWER16((c) + 16), LOWER16((c) + 32), LOWER16((c) + 48)

const unsigned char http_lower_table[256] = {LOWER64(0), LOWER64(64), LOWER64(128),
                                             LOWER64(192)};

bool http_is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!http_is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/*
 * Eight bytes at a time: is any byte of x below 0x20 (a control, CR and LF
 * among them), or DEL? Exact for "any" (a borrow only crosses from a byte
 * that is itself a hit), which is all the callers ask.
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static uint64_t fields_has_control(uint64_t x) { return (x - 0x20 * ONES) & ~x & HIGHS; }
static uint64_t fields_has_del(uint64_t x)
{
    uint64_t y = x ^ (0x7f * ONES);
    return (y - ONES) & ~y & HIGHS;
}

static uint64_t fields_load8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* The number of leading bytes of p[0..n) that are not controls: none of
 * them can be CR or LF. */
static size_t fields_skip_plain(const char *p, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n && !fields_has_control(fields_load8(p + i)))
        i += 8;
    while (i < n && (unsigned char)p[i] >= 0x20)
        i++;
    return i;
}

/* Eight bytes at p: all field bytes? */
static bool fields_word_ok(const char *p)
{
    uint64_t x = fields_load8(p);
    if (!(fields_has_control(x) | fields_has_del(x)))
        return true;
    for (int k = 0; k < 8; k++) /* a HTAB, or a bad byte */
        if (!http_is_field_byte((unsigned char)p[k]))
            return false;
    return true;
}

bool http_field_bytes_ok(const char *p, size_t n)
{
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (!http_is_field_byte((unsigned char)p[i]))
                return false;
        return true;
    }
    for (size_t i = 0; i + 8 <= n; i += 8)
        if (!fields_word_ok(p + i))
            return false;
    return fields_word_ok(p + n - 8); /* the tail, overlapping the last word */
}

/*
 * Sixteen bytes at a time where the target has SSE2, for the two runs below
 * (the heads the gate reads most are dockerd's answers: ten lines of names
 * and values). Each mask has a bit per byte; the first set bit is exact, so
 * both runs stop on the same byte as the word-at-a-time code, which does
 * the tails, and everything on other targets (FIELDS_WIDE 0: the wide
 * branches are dead code there).
 */
#ifdef __SSE2__
#define FIELDS_WIDE 16

/* Bytes 0x00-0x1f (controls, CR and LF among them) and DEL, at p. */
static inline unsigned fields_ctl_mask16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, del));
}

/* Letters, digits and '-' at p: what field names are made of in practice,
 * all tchars. The signed compares put bytes >= 0x80 out of both ranges;
 * OR 0x20 maps only 'A'-'Z' into 'a'-'z'. */
static inline unsigned fields_name_mask16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(low, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), dash));
}
#else
#define FIELDS_WIDE 0
static inline unsigned fields_ctl_mask16(const char *p) { return (void)p, 0; }
static inline unsigned fields_name_mask16(const char *p) { return (void)p, 0xffffu; }
#endif

/* Leading tchars of p[0..n), sixteen or four at a time. */
static inline size_t fields_tchar_run(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (FIELDS_WIDE && i + 16 <= n) {
        unsigned other = ~fields_name_mask16(p + i) & 0xffffu;
        if (!other) {
            i += 16;
            continue;
        }
        i += (size_t)__builtin_ctz(other);
        if (!http_is_tchar(u[i]))
            return i; /* the ':' that ends a name, or a byte that is wrong */
        i++;          /* a rarer tchar ('_', '.', ...): go on */
    }
    while (i + 4 <= n && (http_char_class[u[i]] & http_char_class[u[i + 1]] &
                          http_char_class[u[i + 2]] & http_char_class[u[i + 3]] &
                          HTTP_CLASS_TCHAR))
        i += 4;
    while (i < n && http_is_tchar(u[i]))
        i++;
    return i;
}

/* From p, field bytes up to a CR within n bytes: the CR's offset, or n
 * when a byte that is not a field byte comes first or no CR does. */
static inline size_t fields_value_run(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (FIELDS_WIDE && i + 16 <= n) {
            unsigned hits = fields_ctl_mask16(p + i);
            if (!hits) {
                i += 16;
                continue;
            }
            i += (size_t)__builtin_ctz(hits);
        } else if (i + 8 <= n) {
            uint64_t x = fields_load8(p + i);
            uint64_t hits = fields_has_control(x) | fields_has_del(x);
            if (!hits) {
                i += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* The lowest flagged byte is exact: go straight to it. */
            i += (size_t)__builtin_ctzll(hits) / 8;
#endif
        }
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            return i;
        if (!http_is_field_byte(c))
            return n;
        i++;
    }
    return n;
}

bool http_parse_plain_head(const char *buf, size_t len, size_t *line_len, http_header *hdrs,
                           size_t *n, size_t *head_len)
{
    size_t lim = len < HTTP_MAX_HEAD_BYTES ? len : HTTP_MAX_HEAD_BYTES;
    size_t cr = fields_value_run(buf, lim);
    if (cr + 1 >= lim || buf[cr + 1] != '\n')
        return false;
    *line_len = cr;
    size_t count = 0; /* a local: stores through hdrs cannot alias it */
    for (size_t i = cr + 2; i < lim;) {
        const char *line = buf + i;
        size_t room = lim - i;
        if (line[0] == '\r') { /* the empty line */
            if (room < 2 || line[1] != '\n')
                return false;
            *n = count;
            *head_len = i + 2;
            return true;
        }
        size_t name = fields_tchar_run(line, room);
        if (name == 0 || name + 1 >= room || line[name] != ':' || count == HTTP_MAX_HEADERS)
            return false;
        size_t vs = name + 1, end = vs + fields_value_run(line + vs, room - vs);
        if (end + 1 >= room || line[end + 1] != '\n')
            return false;
        /* OWS: the value holds field bytes only, so the bytes up to SP
         * are exactly SP and HTAB. */
        size_t ve = end;
        while (vs < ve && (unsigned char)line[vs] <= ' ')
            vs++;
        while (ve > vs && (unsigned char)line[ve - 1] <= ' ')
            ve--;
        hdrs[count++] = (http_header){line, name, line + vs, ve - vs};
        i += end + 2;
    }
    return false;
}

http_parse_status http_scan_head(const char *buf, size_t len, size_t *head_len,
                                 http_error *err)
{
    /* Only CR and LF matter here, and both are controls: runs of other
     * bytes are skipped a word at a time. */
    size_t lim = len < HTTP_MAX_HEAD_BYTES ? len : HTTP_MAX_HEAD_BYTES;
    for (size_t i = fields_skip_plain(buf, lim); i < lim;
         i += 1 + fields_skip_plain(buf + i + 1, lim - i - 1)) {
        if (buf[i] == '\n') {
            if (i == 0 || buf[i - 1] != '\r') {
                fields_fail(err, 400, "bare LF in message head");
                return HTTP_PARSE_ERROR;
            }
            if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
                *head_len = i + 1;
                return HTTP_PARSE_OK;
            }
        } else if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n') {
            fields_fail(err, 400, "bare CR in message head");
            return HTTP_PARSE_ERROR;
        }
    }
    /* HTTP_MAX_HEAD_BYTES scanned and no end yet: certainly too big. */
    if (len > HTTP_MAX_HEAD_BYTES) {
        fields_fail(err, 431, "request header section too large");
        return HTTP_PARSE_ERROR;
    }
    return HTTP_PARSE_INCOMPLETE;
}

bool http_parse_field_line(const char *line, size_t len, http_header *out,
                           http_error *err)
{
    if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        fields_fail(err, 400, "obsolete line folding in header");
        return false;
    }
    size_t i = 0;
    while (i < len && http_is_tchar((unsigned char)line[i]))
        i++;
    if (i == len) {
        fields_fail(err, 400, "header line without colon");
        return false;
    }
    if (line[i] != ':') {
        fields_fail(err, 400, (line[i] == ' ' || line[i] == '\t')
                                  ? "whitespace before colon in header"
                                  : "invalid character in header name");
        return false;
    }
    if (i == 0) {
        fields_fail(err, 400, "empty header name");
        return false;
    }
    if (!http_field_bytes_ok(line + i + 1, len - i - 1)) {
        fields_fail(err, 400, "control character in header value");
        return false;
    }
    size_t vs = i + 1, ve = len;
    while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
        vs++;
    while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
        ve--;
    out->name = line;
    out->name_len = i;
    out->value = line + vs;
    out->value_len = ve - vs;
    return true;
}

bool http_parse_fields(const char *p, const char *end, http_header *hdrs,
                       size_t *n, http_error *err)
{
    while (p < end) {
        /* http_scan_head guarantees every CR in the head starts a CRLF. */
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (cr == NULL || cr + 1 >= end || cr[1] != '\n') {
            fields_fail(err, 400, "malformed header line");
            return false;
        }
        if (*n >= HTTP_MAX_HEADERS) {
            fields_fail(err, 431, "too many header fields");
            return false;
        }
        if (!http_parse_field_line(p, (size_t)(cr - p), &hdrs[*n], err))
            return false;
        (*n)++;
        p = cr + 2;
    }
    return true;
}

bool http_parse_content_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        uint64_t d = (uint64_t)(v[i] - '0');
        /* Checked before multiplying, so leading zeros cost nothing and
         * no digit string can wrap around. */
        if (value > (HTTP_MAX_CONTENT_LENGTH - d) / 10)
            return false;
        value = value * 10 + d;
    }
    *out = value;
    return true;
}

/*
 * Is the field name s (n bytes) the literal lit (lowercase letters and
 * '-'), ignoring case? Names reach here only after every byte was checked
 * to be a tchar, and for a tchar, OR 0x20 folds exactly: it maps only
 * 'A'-'Z' onto 'a'-'z', and onto '-' only CR, which is no tchar. So the
 * bytes compare eight at a time.
 */
static inline bool name_is(const char *s, const char *lit, size_t n)
{
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (((unsigned char)s[i] | 0x20) != (unsigned char)lit[i])
                return false;
        return true;
    }
    if (n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, lit, 4);
        if ((a | 0x20202020u) != b)
            return false;
        memcpy(&a, s + n - 4, 4); /* the last four, overlapping */
        memcpy(&b, lit + n - 4, 4);
        return (a | 0x20202020u) == b;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        if ((fields_load8(s + i) | (0x20 * ONES)) != fields_load8(lit + i))
            return false;
    /* The rest as the last eight bytes, overlapping what was compared. */
    return i == n || (fields_load8(s + n - 8) | (0x20 * ONES)) == fields_load8(lit + n - 8);
}

/* Count a field of a kind; remember the first (and the second). */
static void index_add(unsigned char *count, unsigned char *first, unsigned char *second,
                      size_t i)
{
    if (*count == 0)
        *first = (unsigned char)i;
    else if (*count == 1 && second)
        *second = (unsigned char)i;
    if (*count < 255)
        (*count)++;
}

void http_index_fields(const http_header *hdrs, size_t n, http_field_index *ix)
{
    memset(ix, 0, sizeof *ix);
    for (size_t i = 0; i < n; i++) {
        const char *nm = hdrs[i].name;
        switch (hdrs[i].name_len) {
        case 4:
            if (name_is(nm, "host", 4))
                index_add(&ix->n_host, &ix->host, NULL, i);
            break;
        case 6:
            if (name_is(nm, "expect", 6))
                ix->n_expect += ix->n_expect < 255;
            break;
        case 7:
            if (name_is(nm, "upgrade", 7))
                index_add(&ix->n_upgrade, &ix->upgrade, NULL, i);
            break;
        case 10:
            if (name_is(nm, "connection", 10))
                index_add(&ix->n_connection, &ix->connection, NULL, i);
            break;
        case 12:
            if (name_is(nm, "content-type", 12))
                index_add(&ix->n_content_type, &ix->content_type, NULL, i);
            break;
        case 14:
            if (name_is(nm, "content-length", 14))
                index_add(&ix->n_content_length, &ix->content_length, &ix->content_length2, i);
            break;
        case 17:
            if (name_is(nm, "transfer-encoding", 17))
                index_add(&ix->n_transfer_encoding, &ix->transfer_encoding,
                          &ix->transfer_encoding2, i);
            break;
        default:
            break;
        }
    }
}

bool http_check_framing(const http_header *hdrs, const http_field_index *ix,
                        int version_minor, http_framing *out, http_error *err)
{
    memset(out, 0, sizeof *out);
    /* Field order decides which duplicate is reported: the one met first. */
    bool dup_cl = ix->n_content_length > 1, dup_te = ix->n_transfer_encoding > 1;
    if (dup_cl && (!dup_te || ix->content_length2 < ix->transfer_encoding2)) {
        fields_fail(err, 400, "multiple Content-Length headers");
        return false;
    }
    if (dup_te) {
        fields_fail(err, 400, "multiple Transfer-Encoding headers");
        return false;
    }
    const http_header *cl = ix->n_content_length ? &hdrs[ix->content_length] : NULL;
    const http_header *te = ix->n_transfer_encoding ? &hdrs[ix->transfer_encoding] : NULL;
    if (cl != NULL && te != NULL) {
        fields_fail(err, 400, "both Content-Length and Transfer-Encoding");
        return false;
    }
    if (cl != NULL) {
        if (!http_parse_content_length(cl->value, cl->value_len,
                                       &out->content_length)) {
            fields_fail(err, 400, "invalid Content-Length");
            return false;
        }
        out->has_length = true;
    }
    if (te != NULL) {
        if (version_minor == 0) {
            fields_fail(err, 400, "Transfer-Encoding in HTTP/1.0 message");
            return false;
        }
        /* Only a lone "chunked": a list or another coding would need a
         * decoder we do not have, and is never sent by Docker clients. */
        if (!http_ieq(te->value, te->value_len, "chunked")) {
            fields_fail(err, 400, "unsupported Transfer-Encoding");
            return false;
        }
        out->chunked = true;
    }
    return true;
}

/* One element of a Connection list, already trimmed. */
static bool fields_connection_token(const char *s, size_t n,
                                    http_connection *out, http_error *err)
{
    if (n == 0)
        return true; /* RFC 9110 5.6.1: empty list elements are ignored */
    if (!http_is_token(s, n)) {
        fields_fail(err, 400, "malformed Connection header");
        return false;
    }
    if (http_ieq(s, n, "close"))
        out->close = true;
    else if (http_ieq(s, n, "keep-alive"))
        out->keep_alive = true;
    else if (http_ieq(s, n, "upgrade"))
        out->upgrade = true;
    return true;
}

static bool fields_connection_value(const char *v, size_t n,
                                    http_connection *out, http_error *err)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != ',')
            continue;
        size_t s = start, e = i;
        while (s < e && (v[s] == ' ' || v[s] == '\t'))
            s++;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (!fields_connection_token(v + s, e - s, out, err))
            return false;
        start = i + 1;
    }
    return true;
}

bool http_check_connection(const http_header *hdrs, size_t n, const http_field_index *ix,
                           http_connection *out, http_error *err)
{
    memset(out, 0, sizeof *out);
    if (ix->n_connection == 0)
        return true;
    for (size_t i = ix->connection; i < n; i++) {
        if (!http_ieq(hdrs[i].name, hdrs[i].name_len, "connection"))
            continue;
        if (!fields_connection_value(hdrs[i].value, hdrs[i].value_len, out, err))
            return false;
    }
    return true;
}

bool http_connection_persists(const http_connection *conn, int version_minor)
{
    if (conn->close)
        return false;
    return version_minor == 1 || conn->keep_alive;
}
