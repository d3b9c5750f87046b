/* The .clae file (clae/codec.h): one image's code, entropy-coded. Little-endian:
 *   0  "CLAE"          4  version (2)      5  image channels
 *   6  height (u16)    8  width (u16)      10 levels (u16; 0: integer steps)
 *   12 codec hash (u32: the quantiser, the frequencies and the model's weights)
 *   16 CRC-32 of bytes 0..15 and the payload    20 the rANS bytes
 * The CRC catches truncation and corruption before the coder sees the bytes;
 * the coder's own end check catches what a CRC collision would let through. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clae/afile.h"
#include "clae/codec.h"

#define VERSION 2 /* 1 coded each channel under one model; 2 by context (clae/codec.h) */
#define MAX_FILE (64u << 20)

static const char MAGIC[4] = {'C', 'L', 'A', 'E'};

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static unsigned get16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static uint32_t get32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t file_crc(const unsigned char *head, const unsigned char *payload, size_t n)
{
    uLong crc = crc32_z(crc32(0L, Z_NULL, 0), head, 16);
    return (uint32_t)crc32_z(crc, payload, n);
}

int clae_codec_write_file(const char *path, const clae_codec *c, const clae_codec_header *h,
                          const uint16_t *symbols, size_t *bytes, clae_err *err)
{
    size_t n = (size_t)c->channels * c->positions;
    size_t cap = 64 + n * 3; /* rANS never spends more than 16 bits + renormalisation a symbol */
    unsigned char *buf = malloc(CLAE_CODEC_HEADER_BYTES + cap);
    if (!buf) return clae_fail(err, "out of host memory for %s", path);
    if (h->channels < 1 || h->channels > 255 || h->height < 1 || h->height > 65535 ||
        h->width < 1 || h->width > 65535 || c->levels < 0 || c->levels > 65535) {
        free(buf);
        return clae_fail(err, "%s: an image of %dx%dx%d cannot be written in a .clae header", path,
                         h->channels, h->height, h->width);
    }
    for (size_t i = 0; i < n; i++) /* the contexts read the symbols before the coder checks them */
        if (symbols[i] >= c->ch[i / c->positions].levels) {
            free(buf);
            return clae_fail(err, "%s: symbol %zu is %u, but channel %zu has %d levels", path, i,
                             symbols[i], i / c->positions, c->ch[i / c->positions].levels);
        }
    size_t len = clae_rans_encode_with(c->rans, clae_codec_context, c, symbols, n,
                                       buf + CLAE_CODEC_HEADER_BYTES, cap, err);
    int rc = len ? 0 : -1;
    if (rc == 0) {
        memcpy(buf, MAGIC, 4);
        buf[4] = VERSION, buf[5] = (unsigned char)h->channels;
        put16(buf + 6, (unsigned)h->height), put16(buf + 8, (unsigned)h->width);
        put16(buf + 10, (unsigned)c->levels), put32(buf + 12, c->hash);
        put32(buf + 16, file_crc(buf, buf + CLAE_CODEC_HEADER_BYTES, len));
        len += CLAE_CODEC_HEADER_BYTES;
        rc = clae_afile_write_bytes(path, buf, len, err);
    }
    if (rc == 0 && bytes) *bytes = len;
    free(buf);
    return rc;
}

/* The file's bytes with magic, version and CRC checked, and its header. */
static int read_checked(const char *path, clae_codec_header *h, unsigned char **out, size_t *len,
                        clae_err *err)
{
    unsigned char *b;
    size_t n;
    if (clae_read_whole(path, ".clae file", MAX_FILE, &b, &n, err)) return -1;
    int rc = 0;
    if (memcmp(b, MAGIC, n < 4 ? n : 4) != 0)
        rc = clae_fail(err, "%s: not a .clae file (no CLAE magic at its start)", path);
    else if (n < 5)
        rc = clae_fail(err, "%s: truncated .clae file (%zu bytes)", path, n);
    else if (b[4] != VERSION)
        rc = clae_fail(err, "%s: a .clae file of version %u; this clae reads version %d", path,
                       b[4], VERSION);
    else if (n < CLAE_CODEC_HEADER_BYTES)
        rc = clae_fail(err, "%s: truncated .clae file (%zu bytes, the header alone is %d)", path, n,
                       CLAE_CODEC_HEADER_BYTES);
    else if (get32(b + 16) != file_crc(b, b + CLAE_CODEC_HEADER_BYTES, n - CLAE_CODEC_HEADER_BYTES))
        rc = clae_fail(err, "%s: truncated or corrupt .clae file (its CRC does not match)", path);
    if (rc) return free(b), -1;
    *h = (clae_codec_header){.version = b[4],
                             .channels = b[5],
                             .height = (int)get16(b + 6),
                             .width = (int)get16(b + 8),
                             .levels = (int)get16(b + 10),
                             .codec_hash = get32(b + 12)};
    *out = b, *len = n;
    return 0;
}

int clae_codec_read_header(const char *path, clae_codec_header *h, clae_err *err)
{
    unsigned char *b;
    size_t n;
    if (read_checked(path, h, &b, &n, err)) return -1;
    free(b);
    return 0;
}

int clae_codec_read_file(const char *path, const clae_codec *c, clae_codec_header *h,
                         uint16_t *symbols, clae_err *err)
{
    unsigned char *b;
    size_t n;
    if (read_checked(path, h, &b, &n, err)) return -1;
    int rc = 0;
    if (h->codec_hash != c->hash)
        rc = clae_fail(err,
                       "%s: made by another model or codec (hash %08x; this model's codec at "
                       "levels %d is %08x)",
                       path, h->codec_hash, c->levels, c->hash);
    clae_err coder;
    if (rc == 0 && clae_rans_decode_with(c->rans, clae_codec_context, c,
                                         b + CLAE_CODEC_HEADER_BYTES, n - CLAE_CODEC_HEADER_BYTES,
                                         symbols, (size_t)c->channels * c->positions, &coder))
        rc = clae_fail(err, "%s: corrupt .clae file (%s)", path, coder.msg);
    free(b);
    return rc;
}
