/*
 * hex.h — the value of one hexadecimal digit, shared by the parsers that
 * decode %XX and \uXXXX escapes.
 */
#ifndef SG_HEX_H
#define SG_HEX_H

/* 0..15, or -1 if c is not a hex digit. */
static inline int sg_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
