/*
 * test_settings.c — admin-settings.json validation: what is read, what is
 * ignored, and errors that name the key path and the line; the file is
 * read only if it is a regular file, without ever blocking.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy/settings.h"
#include "unit.h"

static char err[1024];

static sg_settings *parse(const char *text)
{
    err[0] = '\0';
    return sg_settings_parse(text, strlen(text), "admin-settings.json", err, sizeof err);
}

TEST(design_example)
{
    sg_settings *s = parse(
        "{\"configurationFileVersion\": 2,\n"
        " \"enhancedContainerIsolation\": {\"locked\": true, \"value\": true,\n"
        "  \"dockerSocketMount\": {\n"
        "   \"imageList\": {\"images\": [\"docker.io/localstack/localstack:*\",\n"
        "      \"docker.io/testcontainers/ryuk:*\", \"docker:cli\"],\n"
        "     \"allowDerivedImages\": true},\n"
        "   \"commandList\": {\"type\": \"deny\", \"commands\": [\"push\", \"build\"]}}}}\n");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(s->eci_enabled);
    CHECK(s->locked);
    CHECK_INT(s->n_images, 3);
    CHECK(s->images[0].ref.tag_is_wildcard);
    CHECK_STR(s->images[2].ref.domain, "docker.io");
    CHECK_STR(s->images[2].ref.path, "library/docker");
    CHECK_STR(s->images[2].ref.tag, "cli");
    CHECK(s->allow_derived);
    CHECK_INT(s->commands.type, SG_COMMANDS_DENY);
    CHECK_INT(s->commands.n, 2);
    CHECK_STR(s->commands.names[1], "build");
    sg_settings_unref(s);
}

TEST(defaults_and_unknown_keys_ignored)
{
    sg_settings *s = parse("{\"analyticsEnabled\": {\"value\": false},"
                           " \"enhancedContainerIsolation\": {\"value\": true}}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(s->eci_enabled);
    CHECK_INT(s->n_images, 0); /* value:true, no dockerSocketMount: nobody */
    CHECK(s->allow_derived);
    CHECK_INT(s->commands.type, SG_COMMANDS_NONE);
    sg_settings_unref(s);
}

TEST(everyone_entry_and_default_tag)
{
    sg_settings *s = parse("{\"enhancedContainerIsolation\": {\"value\": true,"
                           " \"dockerSocketMount\": {\"imageList\": {\"images\": [\"*\", \"alpine\"],"
                           " \"allowDerivedImages\": false}}}}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(s->images[0].everyone);
    CHECK_STR(s->images[1].ref.tag, "latest");
    CHECK(!s->allow_derived);
    sg_settings_unref(s);
}

TEST(wrong_type_names_key_and_line)
{
    CHECK(parse("{\n \"enhancedContainerIsolation\": {\n  \"value\": \"yes\"\n }\n}") == NULL);
    CHECK(strstr(err, "enhancedContainerIsolation.value") != NULL);
    CHECK(strstr(err, "line 3") != NULL);
    CHECK(strstr(err, "admin-settings.json") != NULL);
}

TEST(bad_image_reference)
{
    CHECK(parse("{\"enhancedContainerIsolation\": {\"value\": true,\n"
                " \"dockerSocketMount\": {\"imageList\": {\"images\": [\"Docker:cli\"]}}}}") == NULL);
    CHECK(strstr(err, "imageList.images") != NULL);
    CHECK(strstr(err, "Docker:cli") != NULL);
    CHECK(strstr(err, "line 2") != NULL);
}

TEST(bad_command_list_type)
{
    CHECK(parse("{\"enhancedContainerIsolation\": {\"value\": true, \"dockerSocketMount\":"
                " {\"commandList\": {\"type\": \"block\", \"commands\": []}}}}") == NULL);
    CHECK(strstr(err, "commandList.type") != NULL);
    CHECK(parse("{\"enhancedContainerIsolation\": {\"value\": true, \"dockerSocketMount\":"
                " {\"commandList\": {\"type\": \"deny\", \"commands\": [1]}}}}") == NULL);
    CHECK(strstr(err, "commandList.commands") != NULL);
}

TEST(not_json_and_duplicates)
{
    CHECK(parse("{\"enhancedContainerIsolation\": ") == NULL);
    CHECK(strstr(err, "line 1") != NULL);
    CHECK(parse("{\"enhancedContainerIsolation\": {\"value\": true, \"value\": false}}") == NULL);
    CHECK(parse("[]") == NULL);
    CHECK(parse("{\"configurationFileVersion\": 3}") == NULL);
    CHECK(strstr(err, "configurationFileVersion") != NULL);
}

TEST(missing_file)
{
    CHECK(sg_settings_load("/nonexistent/admin-settings.json", err, sizeof err) == NULL);
    CHECK(strstr(err, "No such file") != NULL);
}

/* A scratch directory for the file-type tests. */
static char scratch[64];
static char scratch_file[96]; /* fits a unix socket's sun_path */

static const char *scratch_path(const char *name)
{
    snprintf(scratch_file, sizeof scratch_file, "%s/%s", scratch, name);
    return scratch_file;
}

/* An fopen(3) of a FIFO waits for a writer: if the loader ever blocks
 * again, SIGALRM ends this binary and run-all reports it, instead of the
 * suite hanging. */
TEST(fifo_refused_without_blocking)
{
    const char *path = scratch_path("fifo.json");
    CHECK(mkfifo(path, 0600) == 0);
    alarm(10);
    sg_settings *s = sg_settings_load(path, err, sizeof err);
    alarm(0);
    CHECK(s == NULL);
    CHECK(strstr(err, "not a regular file (a FIFO)") != NULL);
    sg_settings_unref(s);
    unlink(path);
}

TEST(directory_refused)
{
    CHECK(sg_settings_load(scratch, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a regular file (a directory)") != NULL);
}

TEST(socket_refused)
{
    const char *path = scratch_path("sock.json");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    CHECK(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(sg_settings_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a regular file (a socket)") != NULL);
    close(fd);
    unlink(path);
}

TEST(device_refused)
{
    CHECK(sg_settings_load("/dev/null", err, sizeof err) == NULL);
    CHECK(strstr(err, "not a regular file (a character device)") != NULL);
}

/* A regular file is read whole; one over the bound is refused unread
 * (a sparse file: its size is what counts). */
TEST(regular_file_and_its_bound)
{
    const char *path = scratch_path("admin-settings.json");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("{\"enhancedContainerIsolation\": {\"value\": true}}", f);
    fclose(f);
    sg_settings *s = sg_settings_load(path, err, sizeof err);
    CHECK(s != NULL && s->eci_enabled);
    sg_settings_unref(s);
    CHECK(truncate(path, 5 * 1024 * 1024) == 0);
    CHECK(sg_settings_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "larger than 4194304 bytes") != NULL);
    unlink(path);
}

TEST(docker_desktop_settings_beside_eci)
{
    sg_settings *s = parse(
        "{\"enhancedContainerIsolation\": {\"value\": true},\n"
        " \"portBindingBehavior\": {\"locked\": true, \"value\": \"local-only-port-binding\"},\n"
        " \"blockDockerLoad\": {\"locked\": false, \"value\": true},\n"
        " \"filesharingAllowedDirectories\": [{\"path\": \"$HOME\", \"sharedByDefault\": true},\n"
        "   {\"path\": \"$TMP\", \"sharedByDefault\": false}, {\"path\": \"/srv/build\"}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(s->ports, SG_PORTS_LOCAL_ONLY);
    CHECK(s->block_load);
    CHECK(s->shares_set);
    CHECK_INT(s->n_shares, 3);
    CHECK_STR(s->shares[2].path, "/srv/build");
    CHECK(s->shares[0].shared_by_default);
    sg_settings_unref(s);
    s = parse("{\"portBindingBehavior\": \"default-local-port-binding\", \"blockDockerLoad\": false}");
    CHECK(s && s->ports == SG_PORTS_DEFAULT_LOCAL && !s->block_load && !s->shares_set);
    sg_settings_unref(s);
}

TEST(docker_desktop_settings_errors)
{
    CHECK(!parse("{\n\"portBindingBehavior\": {\"value\": \"everywhere\"}}"));
    CHECK(strstr(err, "line 2: portBindingBehavior") != NULL);
    CHECK(!parse("{\"blockDockerLoad\": {\"value\": \"yes\"}}"));
    CHECK(strstr(err, "blockDockerLoad: must be true or false") != NULL);
    CHECK(!parse("{\"blockDockerLoad\": {\"locked\": true}}"));
    CHECK(strstr(err, "blockDockerLoad.value") != NULL);
    CHECK(!parse("{\"filesharingAllowedDirectories\": [{\"path\": \"relative/dir\"}]}"));
    CHECK(strstr(err, "must be absolute") != NULL);
    CHECK(!parse("{\"filesharingAllowedDirectories\": [{\"path\": \"$USERPROFILE\"}]}"));
    CHECK(!parse("{\"filesharingAllowedDirectories\": \"/tmp\"}"));
}

TEST(exemptions)
{
    sg_settings *s = parse("{\"sockgate\": {\"exemptFromIsolation\": "
                           "{\"users\": [\"root\", 1001], \"groups\": [\"root\", 2002]}}}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(s->n_exempt_uids, 2);
    CHECK_INT(s->exempt_uids[0], 0);
    CHECK_INT(s->exempt_uids[1], 1001);
    CHECK_INT(s->n_exempt_gids, 2);
    CHECK_INT(s->exempt_gids[1], 2002);
    sg_settings_unref(s);
    CHECK(!parse("{\"sockgate\": {\"exemptFromIsolation\": {\"users\": [\"no-such-user-sg\"]}}}"));
    CHECK(strstr(err, "no such user") != NULL);
    CHECK(!parse("{\"sockgate\": {\"exemptFromIsolation\": {\"user\": []}}}"));
    CHECK(strstr(err, "unknown key \"user\"") != NULL);
    CHECK(!parse("{\"sockgate\": {\"exempt\": {}}}"));
    CHECK(!parse("{\"sockgate\": {\"exemptFromIsolation\": {\"groups\": [true]}}}"));
}

/* Issue 17: the example of Docker's current ECI configuration page loads. */
TEST(dockers_current_example)
{
    sg_settings *s = parse(
        "{\"configurationFileVersion\": 2,\n"
        " \"enhancedContainerIsolation\": {\"locked\": true, \"value\": true,\n"
        "  \"dockerSocketMount\": {\n"
        "   \"imageList\": {\"images\": [\"docker.io/localstack/localstack:*\",\n"
        "      \"testcontainers/*:*\", \"your-registry.com/ci-tools/*:*\", \"docker:cli\"],\n"
        "     \"allowDerivedImages\": true},\n"
        "   \"commandList\": {\"type\": \"deny\", \"commands\": [\"push\", \"plugin\","
        " \"plugins\"]}}}}\n");
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_INT(s->n_images, 4);
    CHECK(s->images[1].ref.path_is_wildcard);
    CHECK_STR(s->images[1].ref.path, "testcontainers");
    CHECK_STR(s->images[2].ref.domain, "your-registry.com");
    CHECK(strstr(s->warnings, "plugin") != NULL);
    sg_settings_unref(s);
    CHECK(parse("{\"enhancedContainerIsolation\":{\"value\":true,\"dockerSocketMount\":"
                "{\"imageList\":{\"images\":[\"testcontainers/*\"]}}}}") == NULL);
    CHECK(strstr(err, "name/*:*") != NULL);
}

TEST(allow_url_fetches)
{
    sg_settings *s = parse("{\"sockgate\":{\"allowUrlFetches\":true}}");
    CHECK(s && s->allow_url_fetches);
    sg_settings_unref(s);
    s = parse("{}");
    CHECK(s && !s->allow_url_fetches);
    sg_settings_unref(s);
    CHECK(parse("{\"sockgate\":{\"allowUrlFetches\":\"yes\"}}") == NULL);
    CHECK(strstr(err, "sockgate.allowUrlFetches") != NULL);
}

int main(void)
{
    RUN(design_example);
    RUN(defaults_and_unknown_keys_ignored);
    RUN(everyone_entry_and_default_tag);
    RUN(wrong_type_names_key_and_line);
    RUN(bad_image_reference);
    RUN(bad_command_list_type);
    RUN(not_json_and_duplicates);
    RUN(missing_file);
    snprintf(scratch, sizeof scratch, "/tmp/sg-unit-settings.XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(fifo_refused_without_blocking);
    RUN(directory_refused);
    RUN(socket_refused);
    RUN(device_refused);
    RUN(regular_file_and_its_bound);
    rmdir(scratch);
    RUN(docker_desktop_settings_beside_eci);
    RUN(docker_desktop_settings_errors);
    RUN(exemptions);
    RUN(dockers_current_example);
    RUN(allow_url_fetches);
    return UNIT_DONE();
}
