/*
 * image_ref.h — Docker image references, parsed and normalised exactly like
 * Docker does (distribution/reference: ParseNormalizedNamed), so that
 * "docker:cli", "library/docker:cli" and "docker.io/library/docker:cli" are
 * one image and "localhost:5000/x" is not on Docker Hub.
 *
 * Grammar (distribution/reference):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ("/" path-component)*
 *   domain     := host [":" port]     (first component is a domain only if it
 *                 contains '.' or ':' or is "localhost", or has uppercase)
 *   path-comp  := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.]|__|[-]+
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex  (sha256: 64 lowercase hex)
 * Normalisation: no domain → "docker.io"; "index.docker.io" → "docker.io";
 * docker.io with one path component → "library/" prefix; no tag and no
 * digest → tag "latest" (only when asked: see sg_image_ref_parse flags).
 * Uppercase in the path, or a name longer than 255 characters, is an error.
 */
#ifndef SG_IMAGE_REF_H
#define SG_IMAGE_REF_H

#include <stdbool.h>
#include <stddef.h>

#define SG_REF_MAX 512

typedef struct {
    char domain[256];   /* "docker.io", "127.0.0.1:5000", "ghcr.io"          */
    char path[256];     /* "library/docker", "localstack/localstack"          */
    char tag[129];      /* "" if none                                          */
    char digest[80];    /* "sha256:<64 hex>" or "" if none                      */
    bool tag_is_wildcard; /* policy entries only: "name:*"                      */
    bool path_is_wildcard; /* policy entries only: "name/<star>:<star>", every
                              repository directly under path (which is stored
                              without its last component)                     */
} sg_image_ref;

/* Flags for sg_image_ref_parse. */
#define SG_REF_DEFAULT_TAG 0x1   /* no tag and no digest → tag "latest"       */
#define SG_REF_ALLOW_WILDCARD 0x2 /* accept ":*" as tag, and a star as the last
                                     path component (imageList entries)        */

/* Returns 0, or -1 with a static reason in *why. */
int sg_image_ref_parse(const char *s, int flags, sg_image_ref *out, const char **why);

/* "docker.io/library/docker" (no tag/digest). */
void sg_image_ref_repository(const sg_image_ref *r, char *out, size_t outsz);
/* Full normalised form: "docker.io/library/docker:cli[@sha256:…]" */
void sg_image_ref_string(const sg_image_ref *r, char *out, size_t outsz);
/* Docker's familiar form: "docker:cli", "localstack/localstack:1" (as the
 * CLI shows it: docker.io and library/ stripped). */
void sg_image_ref_familiar(const sg_image_ref *r, char *out, size_t outsz);
/* Same repository (domain and path)? */
bool sg_image_ref_same_repo(const sg_image_ref *a, const sg_image_ref *b);
/* Does imageList entry name repo's repository: the same one, or, for a
 * repository wildcard, one directly under its path? */
bool sg_image_ref_covers(const sg_image_ref *entry, const sg_image_ref *repo);

/* Is s an image ID ("sha256:" and 64 hex digits, or the 64 digits alone)
 * rather than a name? dockerd looks such a string up as an ID first. */
bool sg_image_ref_is_id(const char *s);

#endif
