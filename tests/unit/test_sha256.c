/*
 * test_sha256.c — SHA-256 against the NIST vectors (FIPS 180-4 examples and
 * SHAVS byte-oriented messages), and streaming at every split point.
 */
#include "base/sha256.h"
#include "unit.h"

#include <stdlib.h>

static const char *hex_of(const void *p, size_t n)
{
    static char hex[65];
    sg_sha256_hex(p, n, hex);
    return hex;
}

TEST(fips_examples)
{
    CHECK_STR(hex_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(hex_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_STR(hex_of(m448, strlen(m448)),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    CHECK_STR(hex_of(m896, strlen(m896)),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* SHAVS / "additional examples": padding edges at 55, 56 and 64 bytes. */
TEST(nist_byte_messages)
{
    static const unsigned char bd[] = {0xbd}, c98c[] = {0xc9, 0x8c, 0x8e, 0x55};
    CHECK_STR(hex_of(bd, 1), "68325720aabd7c82f30f554b313d0570c95accbb7dc4b5aae11204c08ffe732b");
    CHECK_STR(hex_of(c98c, 4), "7abc22c0ae5af26ce93dbb94433a0e0b2e119d014f8e7f65bd56c61ccccd9504");
    static const unsigned char zeros[1000];
    CHECK_STR(hex_of(zeros, 55), "02779466cdec163811d078815c633f21901413081449002f24aa3e80f0b88ef7");
    CHECK_STR(hex_of(zeros, 56), "d4817aa5497628e7c77e6b606107042bbba3130888c5f47a375e6179be789fbb");
    CHECK_STR(hex_of(zeros, 64), "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b");
    CHECK_STR(hex_of(zeros, 1000), "541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53");
}

/* One million 'a', fed in uneven pieces so partial blocks are exercised. */
TEST(million_a)
{
    char piece[997];
    memset(piece, 'a', sizeof piece);
    sg_sha256 c;
    sg_sha256_init(&c);
    size_t left = 1000000;
    for (size_t i = 0; left; i++) {
        size_t n = (i % 7) * 131 + 1;
        if (n > left)
            n = left;
        sg_sha256_update(&c, piece, n);
        left -= n;
    }
    uint8_t d[SG_SHA256_LEN];
    sg_sha256_final(&c, d);
    static const uint8_t want[SG_SHA256_LEN] = {
        0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
        0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
        0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    CHECK(memcmp(d, want, sizeof want) == 0);
}

/* Any split of a 200-byte message into two updates gives the one-shot hash. */
TEST(streaming_splits)
{
    unsigned char msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof msg; len += 7) {
        uint8_t whole[SG_SHA256_LEN];
        sg_sha256 c;
        sg_sha256_init(&c);
        sg_sha256_update(&c, msg, len);
        sg_sha256_final(&c, whole);
        for (size_t cut = 0; cut <= len; cut++) {
            uint8_t split[SG_SHA256_LEN];
            sg_sha256_init(&c);
            sg_sha256_update(&c, msg, cut);
            sg_sha256_update(&c, msg + cut, len - cut);
            sg_sha256_final(&c, split);
            CHECK(memcmp(whole, split, sizeof whole) == 0);
        }
    }
}

int main(void)
{
    RUN(fips_examples);
    RUN(nist_byte_messages);
    RUN(million_a);
    RUN(streaming_splits);
    return UNIT_DONE();
}
