/*
 * test_decision.c — the decision framework and its rules, end to end in
 * one process: a request line and body go through sg_decide_request() and
 * sg_decision_start() against a fake engine (fake_engine.h), for each kind
 * of caller, and the verdict, the forwarded body and the look-ups made are
 * checked. Every look-up failure must deny.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "decide/decide.h"
#include "fake_engine.h"
#include "unit.h"

static char scratch[128];      /* an allowed directory ($TMP is /tmp)        */
static char pub_sock[256];     /* sockgate's public socket                   */
static char res_sock[256];     /* sockgate's restricted socket               */
static char outside[256];      /* a directory outside every allowed one      */

static const char *POLICY =
    "{\"enhancedContainerIsolation\":{\"value\":true,\"dockerSocketMount\":"
    "{\"imageList\":{\"images\":[\"docker:cli\"]}}},"
    "\"filesharingAllowedDirectories\":[{\"path\":\"$TMP\"}],"
    "\"sockgate\":{\"exemptFromIsolation\":{\"users\":[4242],\"groups\":[4343]}}}";

/* An existing container that passes the isolation rules, with extra
 * HostConfig fields and mounts spliced in. */
#define INSPECT(hc_extra, mounts)                                                              \
    "{\"Id\":\"c0ffee\",\"Config\":{\"Image\":\"bb\"},\"HostConfig\":{\"MaskedPaths\":"         \
    "[\"/proc/kcore\",\"/proc/keys\",\"/proc/timer_list\",\"/sys/firmware\"],"                 \
    "\"ReadonlyPaths\":[\"/proc/sys\",\"/proc/sysrq-trigger\"]" hc_extra "},\"Mounts\":["       \
    mounts "],\"NetworkSettings\":{\"Networks\":{\"bridge\":{}}}}"

enum { ROOT, USER, RESTRICTED, EXEMPT_UID, EXEMPT_GROUP, ROOT_ELSEWHERE };

typedef struct {
    bool done;
    sg_verdict v;
    char *body;
    size_t len;
} result;

static void on_decided(void *arg, const sg_verdict *v, char *body, size_t len)
{
    result *r = arg;
    r->done = true;
    r->v = *v;
    r->body = body;
    r->len = len;
}

static sg_caller caller_of(int who)
{
    sg_caller c = {.socket = who == RESTRICTED ? SG_SOCKET_RESTRICTED : SG_SOCKET_PUBLIC,
                   .pid = 1, .uid = who == ROOT || who == RESTRICTED ? 0 : 1000, .gid = 1000,
                   .host_pidns = who != RESTRICTED && who != ROOT_ELSEWHERE};
    if (who == ROOT_ELSEWHERE)
        c.uid = 0;
    if (who == EXEMPT_UID)
        c.uid = 4242;
    if (who == EXEMPT_GROUP) {
        c.groups[0] = 4343;
        c.n_groups = 1;
    }
    return c;
}

static fake_engine fe;
static bool engine_userns = true; /* what GET /info says: userns-remap on */
static sg_decision_meter meter;   /* the gate's budget, when a test sets one */

/* Decide one request; the result's body (if any) must be freed. */
static result decide_with(const char *policy, int who, const char *method, const char *target,
                          const char *body, bool chunked, const fake_answer *answers, size_t n)
{
    result res = {0};
    char err[512];
    sg_settings *s = sg_settings_parse(policy, strlen(policy), "test", err, sizeof err);
    if (!s) {
        fprintf(stderr, "settings: %s\n", err);
        res.v.kind = SG_VERDICT_DENY;
        return res;
    }
    static router_match m;
    http_method hm;
    http_method_parse(method, strlen(method), &hm);
    router_status st = router_route(hm, target, strlen(target), &m);
    sg_request_ctx ctx = {.caller = caller_of(who), .method = hm, .target = target,
                          .route_status = st, .match = &m, .content_type = "application/json",
                          .body_chunked = chunked, .meter = meter};
    sg_decide_request(s, &ctx, &res.v);
    if (res.v.kind == SG_VERDICT_ALLOW || res.v.kind == SG_VERDICT_DENY) {
        res.done = true;
        sg_settings_unref(s);
        return res;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_engine_init(&fe, &loop, answers, n);
    sg_policy_env env = {.loop = &loop, .engine = &fe.base};
    env.info = (sg_engine_info){.known = true, .userns = engine_userns, .default_runtime = "runc"};
    env.restricted_path = res_sock;
    sg_protected_add(&env.protected, pub_sock);
    sg_protected_add(&env.protected, res_sock);
    env.digests = sg_digest_cache_new(&loop, &env.registry, NULL, 300);
    sg_verdict first = res.v;
    sg_decision_start(&env, s, &ctx, &first, body ? body : "", body ? strlen(body) : 0,
                      on_decided, &res);
    while (!res.done && uv_run(&loop, UV_RUN_ONCE))
        ;
    sg_digest_cache_free(env.digests);
    sg_protected_free(&env.protected);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(fe.open, 0);
    uv_loop_close(&loop);
    sg_settings_unref(s);
    return res;
}

static result decide(int who, const char *method, const char *target, const char *body,
                     const fake_answer *answers, size_t n)
{
    return decide_with(POLICY, who, method, target, body, false, answers, n);
}

static bool denied(result r, int status, const char *text)
{
    bool ok = r.done && r.v.kind == SG_VERDICT_DENY && r.v.status == status &&
              strstr(r.v.message, text) != NULL;
    if (!ok)
        fprintf(stderr, "    got: done=%d kind=%d %d %s\n", r.done, r.v.kind, r.v.status,
                r.v.message);
    free(r.body);
    return ok;
}

static bool allowed(result r)
{
    bool ok = r.done && r.v.kind == SG_VERDICT_ALLOW;
    if (!ok)
        fprintf(stderr, "    got: done=%d kind=%d %d %s\n", r.done, r.v.kind, r.v.status,
                r.v.message);
    free(r.body);
    return ok;
}

/* Allowed, and the forwarded body contains `text`. */
static bool forwarded(result r, const char *text)
{
    bool ok = r.done && r.v.kind == SG_VERDICT_ALLOW && r.body &&
              memmem(r.body, r.len, text, strlen(text));
    if (!ok)
        fprintf(stderr, "    got: kind=%d %s body=%.*s\n", r.v.kind, r.v.message,
                (int)r.len, r.body ? r.body : "");
    free(r.body);
    return ok;
}

#define CREATE "/v1.41/containers/create"
#define N(a) (sizeof(a) / sizeof *(a))

/* ---- who is isolated -------------------------------------------------------- */

TEST(privileged_refused_for_isolated_callers_only)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"Privileged\":true}}";
    CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "privileged containers"));
    CHECK(denied(decide(RESTRICTED, "POST", CREATE, b, NULL, 0), 403,
                 "nothing that uses the restricted Docker socket is exempt"));
    CHECK(allowed(decide(ROOT, "POST", CREATE, b, NULL, 0)));
    CHECK(allowed(decide(EXEMPT_UID, "POST", CREATE, b, NULL, 0)));
    CHECK(allowed(decide(EXEMPT_GROUP, "POST", CREATE, b, NULL, 0)));
}

TEST(policy_off_isolates_nobody)
{
    const char *off = "{\"enhancedContainerIsolation\":{\"value\":false}}";
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"Privileged\":true}}";
    CHECK(allowed(decide_with(off, RESTRICTED, "POST", CREATE, b, false, NULL, 0)));
}

/* ---- issue 8: where dockerd reads host configuration ---------------------- */

TEST(toplevel_host_fields_refused_for_everyone)
{
    const char *bodies[] = {
        "{\"Image\":\"bb\",\"Binds\":[\"/etc:/x\"]}",
        "{\"Image\":\"bb\",\"binds\":[\"/etc:/x\"]}",
        "{\"Image\":\"bb\",\"HostConfig\":null,\"Mounts\":[]}",
        "{\"Image\":\"bb\",\"HostConfig\":{},\"VolumesFrom\":[\"x\"]}",
        "{\"Image\":\"bb\",\"Privileged\":false}",
        "{\"Image\":\"bb\",\"Bind\\u017f\":[]}",
        "{\"Image\":\"bb\",\"Cpuset\":\"0\"}",
    };
    for (size_t i = 0; i < N(bodies); i++)
        CHECK(denied(decide(ROOT, "POST", CREATE, bodies[i], NULL, 0), 400,
                     "host configuration outside HostConfig"));
}

TEST(start_body_refused_unless_dockerd_ignores_it)
{
    const fake_answer a[] = {{"/containers/c0ffee/json", 200, INSPECT("", "")}};
    const char *start = "/v1.23/containers/c0ffee/start";
    CHECK(denied(decide(ROOT, "POST", start, "{\"Binds\":[\"/:/h\"]}", a, N(a)), 400,
                 "container start with a body"));
    CHECK(denied(decide_with(POLICY, ROOT, "POST", start, "", true, a, N(a)), 400,
                 "container start with a body"));
    result r = decide(ROOT, "POST", start, "{}", a, N(a));
    CHECK(r.v.drop_body && r.body == NULL);
    CHECK(allowed(r));
}

TEST(nul_in_a_string_refused)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"/run/docker.sock\\u0000:/x\"]}}";
    CHECK(denied(decide(ROOT, "POST", CREATE, b, NULL, 0), 400, "NUL"));
}

TEST(ambiguous_and_malformed_bodies_refused)
{
    CHECK(denied(decide(ROOT, "POST", CREATE, "{\"Image\":\"a\",\"image\":\"b\"}", NULL, 0),
                 400, "ambiguous"));
    CHECK(denied(decide(ROOT, "POST", CREATE, "{\"Image\":", NULL, 0), 400, "not valid JSON"));
    CHECK(denied(decide(ROOT, "POST", CREATE, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":\"x\"}}",
                        NULL, 0),
                 400, "HostConfig.Binds must be an array"));
}

/* ---- host paths ------------------------------------------------------------- */

TEST(binds_inside_allowed_directories_only)
{
    char ok[512], bad[512], dotdot[512], body[1200];
    snprintf(ok, sizeof ok, "%s/data:/d", scratch);
    snprintf(bad, sizeof bad, "%s:/d", outside);
    snprintf(dotdot, sizeof dotdot, "%s/../../etc:/d", scratch);
    snprintf(body, sizeof body, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"%s\"]}}", ok);
    CHECK(allowed(decide(USER, "POST", CREATE, body, NULL, 0)));
    snprintf(body, sizeof body, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"%s\"]}}", bad);
    CHECK(denied(decide(USER, "POST", CREATE, body, NULL, 0), 403, "filesharingAllowedDirectories"));
    snprintf(body, sizeof body, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"%s\"]}}", dotdot);
    CHECK(denied(decide(USER, "POST", CREATE, body, NULL, 0), 403, "host path"));
    snprintf(body, sizeof body,
             "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"%s\","
             "\"Target\":\"/d\",\"BindOptions\":{\"Propagation\":\"rshared\"}}]}}",
             scratch);
    CHECK(denied(decide(USER, "POST", CREATE, body, NULL, 0), 403, "bind propagation"));
}

TEST(volumes_are_looked_up_and_fail_closed)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"v1:/d\"]}}";
    const fake_answer etc[] = {{"/volumes/v1", 200,
                                "{\"Name\":\"v1\",\"Driver\":\"local\",\"Options\":{\"type\":\"none\","
                                "\"o\":\"bind\",\"device\":\"/etc\"}}"}};
    CHECK(denied(decide(USER, "POST", CREATE, b, etc, N(etc)), 403, "host path \"/etc\""));
    CHECK(fake_asked(&fe, "/volumes/v1"));
    const fake_answer tmpfs[] = {{"/volumes/v1", 200,
                                  "{\"Name\":\"v1\",\"Driver\":\"local\",\"Options\":{\"type\":"
                                  "\"tmpfs\",\"device\":\"tmpfs\"}}"}};
    CHECK(allowed(decide(USER, "POST", CREATE, b, tmpfs, N(tmpfs))));
    CHECK(allowed(decide(USER, "POST", CREATE, b, NULL, 0))); /* 404: dockerd creates it */
    const fake_answer broken[] = {{"/volumes/v1", 500, "{\"message\":\"boom\"}"}};
    CHECK(denied(decide(USER, "POST", CREATE, b, broken, N(broken)), 403,
                 "cannot check volume \"v1\""));
    const fake_answer gone[] = {{"/volumes/v1", -111, NULL}};
    CHECK(denied(decide(USER, "POST", CREATE, b, gone, N(gone)), 403, "cannot check volume"));
    /* root is not isolated, but the socket check reads volumes too */
    CHECK(denied(decide(ROOT, "POST", CREATE, b, gone, N(gone)), 403, "cannot check volume"));
}

TEST(host_paths_need_user_namespaces)
{
    /* without userns-remap a container's root is the host's: any shared
     * directory would hand it the host (a descriptor passed over a socket
     * left there, a setuid program left for the user) */
    char b[600];
    snprintf(b, sizeof b, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"%s/data:/d:ro\"]}}",
             scratch);
    engine_userns = false;
    CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "does not remap users"));
    CHECK(!denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "TESTCONTAINERS_DOCKER_SOCKET"));
    /* a socket path that is not sockgate's: the message says what to name */
    CHECK(denied(decide(USER, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":"
                        "[\"/var/run/docker.sock:/var/run/docker.sock\"]}}",
                        NULL, 0),
                 403, "name the socket sockgate listens on by its path on the host"));
    CHECK(allowed(decide(ROOT, "POST", CREATE, b, NULL, 0)));
    CHECK(allowed(decide(USER, "POST", CREATE, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":"
                                               "[\"vol:/d\"],\"Tmpfs\":{\"/t\":\"\"}}}",
                         NULL, 0)));
    engine_userns = true;
    CHECK(allowed(decide(USER, "POST", CREATE, b, NULL, 0)));
}

TEST(root_in_another_pid_namespace_is_isolated)
{
    /* uid 0 reached through a descriptor passed into a container */
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"Privileged\":true}}";
    CHECK(denied(decide(ROOT_ELSEWHERE, "POST", CREATE, b, NULL, 0), 403, "privileged"));
}

TEST(local_volume_kinds)
{
    char b[900];
    const char *bad[] = {
        "\"type\":\"proc\",\"device\":\"proc\"",
        "\"type\":\"ext4\",\"device\":\"/dev/sda1\"",
        "\"type\":\"overlay\",\"o\":\"lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w\"",
        "\"type\":\"none\",\"o\":\"bind\",\"device\":\"../../../../etc\"",
        "\"type\":\"none\",\"o\":\"bind\",\"device\":\"//etc\"",
        "\"o\":\"rbind\",\"device\":\"/etc\"",
    };
    for (size_t i = 0; i < N(bad); i++) {
        snprintf(b, sizeof b, "{\"Name\":\"v\",\"DriverOpts\":{%s}}", bad[i]);
        CHECK(denied(decide(USER, "POST", "/volumes/create", b, NULL, 0), 403, "not allowed"));
        snprintf(b, sizeof b,
                 "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Target\":"
                 "\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Options\":{%s}}}}]}}",
                 bad[i]);
        CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "not allowed"));
    }
    /* the kernel resolves a device as written: "link/.." is the link's
     * target's parent, not the link's directory */
    char link[300];
    snprintf(link, sizeof link, "%s/data/lnk", scratch);
    symlink(outside, link);
    snprintf(b, sizeof b,
             "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":"
             "\"%s/..\"}}",
             link);
    CHECK(denied(decide(USER, "POST", "/volumes/create", b, NULL, 0), 403, "outside the allowed"));
    unlink(link);
    snprintf(b, sizeof b,
             "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":"
             "\"%s/data\"}}",
             scratch);
    CHECK(allowed(decide(USER, "POST", "/volumes/create", b, NULL, 0)));
    CHECK(allowed(decide(USER, "POST", "/volumes/create",
                         "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\","
                         "\"o\":\"size=10m\"}}",
                         NULL, 0)));
}

TEST(inline_local_volume_device)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\","
                    "\"Target\":\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\","
                    "\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}}}]}}";
    CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "host path \"/\""));
}

TEST(existing_volume_wins_over_inline_options)
{
    /* dockerd uses an existing volume as it is, whatever options the mount
     * gives: the name is looked up too */
    char b[700];
    snprintf(b, sizeof b,
             "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":"
             "\"v1\",\"Target\":\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\","
             "\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"%s/data\"}}}}]}}",
             scratch);
    const fake_answer etc[] = {{"/volumes/v1", 200,
                                "{\"Name\":\"v1\",\"Driver\":\"local\",\"Options\":{\"type\":"
                                "\"none\",\"o\":\"bind\",\"device\":\"/etc\"}}"}};
    CHECK(denied(decide(USER, "POST", CREATE, b, etc, N(etc)), 403, "host path \"/etc\""));
    CHECK(allowed(decide(USER, "POST", CREATE, b, NULL, 0)));
}

TEST(volume_create)
{
    CHECK(denied(decide(USER, "POST", "/volumes/create",
                        "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\","
                        "\"device\":\"/etc\"}}",
                        NULL, 0),
                 403, "host path \"/etc\" is not allowed (VolumeCreateRequest.DriverOpts)"));
    CHECK(allowed(decide(USER, "POST", "/volumes/create",
                         "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}}",
                         NULL, 0)));
    CHECK(allowed(decide(USER, "POST", "/volumes/create", "{\"Name\":\"v\"}", NULL, 0)));
    CHECK(allowed(decide(ROOT, "POST", "/volumes/create",
                         "{\"Name\":\"v\",\"DriverOpts\":{\"device\":\"/etc\"}}", NULL, 0)));
}

TEST(volumes_from_a_container_with_host_paths)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"VolumesFrom\":[\"holder:ro\"]}}";
    const fake_answer a[] = {{"/containers/holder/json", 200,
                              INSPECT("", "{\"Type\":\"bind\",\"Source\":\"/etc\","
                                          "\"Destination\":\"/x\"}")}};
    CHECK(denied(decide(USER, "POST", CREATE, b, a, N(a)), 403, "host path \"/etc\""));
    CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 404, "no such container"));
}

/* ---- namespaces, networks ------------------------------------------------- */

TEST(host_namespaces_refused)
{
    const char *keys[] = {"NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode",
                          "CgroupnsMode"};
    for (size_t i = 0; i < N(keys); i++) {
        char b[256];
        snprintf(b, sizeof b, "{\"Image\":\"bb\",\"HostConfig\":{\"%s\":\"host\"}}", keys[i]);
        CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "host's"));
    }
}

TEST(joining_a_container_that_is_not_isolated)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"PidMode\":\"container:web\"}}";
    const fake_answer priv[] = {{"/containers/web/json", 200, INSPECT(",\"Privileged\":true", "")}};
    CHECK(denied(decide(USER, "POST", CREATE, b, priv, N(priv)), 403,
                 "joining the PID namespace of container \"web\""));
    const fake_answer fine[] = {{"/containers/web/json", 200, INSPECT("", "")}};
    CHECK(allowed(decide(USER, "POST", CREATE, b, fine, N(fine))));
    const fake_answer chain[] = {
        {"/containers/web/json", 200, INSPECT(",\"NetworkMode\":\"container:db\"", "")},
        {"/containers/db/json", 200, INSPECT(",\"NetworkMode\":\"host\"", "")}};
    const char *nb = "{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:web\"}}";
    CHECK(denied(decide(USER, "POST", CREATE, nb, chain, N(chain)), 403, "host's network"));
}

TEST(networks_by_driver)
{
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"lan\"}}";
    const fake_answer mac[] = {{"/networks/lan", 200, "{\"Name\":\"lan\",\"Driver\":\"macvlan\"}"}};
    CHECK(denied(decide(USER, "POST", CREATE, b, mac, N(mac)), 403, "macvlan driver"));
    const fake_answer br[] = {{"/networks/lan", 200, "{\"Name\":\"lan\",\"Driver\":\"bridge\"}"}};
    CHECK(allowed(decide(USER, "POST", CREATE, b, br, N(br))));
    const char *ep = "{\"Image\":\"bb\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"hostid\":{}}}}";
    const fake_answer host[] = {{"/networks/hostid", 200, "{\"Name\":\"host\",\"Driver\":\"host\"}"}};
    CHECK(denied(decide(USER, "POST", CREATE, ep, host, N(host)), 403, "host driver"));
    CHECK(denied(decide(USER, "POST", "/networks/lan/connect", "{}", mac, N(mac)), 403,
                 "macvlan"));
}

TEST(network_create)
{
    CHECK(denied(decide(USER, "POST", "/networks/create",
                        "{\"Name\":\"n\",\"Driver\":\"ipvlan\"}", NULL, 0),
                 403, "\"ipvlan\" driver"));
    CHECK(denied(decide(USER, "POST", "/networks/create",
                        "{\"Name\":\"n\",\"Options\":{\"com.docker.network.bridge.name\":\"br0\"}}",
                        NULL, 0),
                 403, "bridge.name"));
    CHECK(allowed(decide(USER, "POST", "/networks/create", "{\"Name\":\"n\"}", NULL, 0)));
    CHECK(allowed(decide(ROOT, "POST", "/networks/create",
                         "{\"Name\":\"n\",\"Driver\":\"macvlan\"}", NULL, 0)));
}

/* ---- pinning: allowed requests name what was checked by its ID --------------- */

/* Allowed, with the subject pinned to `id`. */
static bool pinned(result r, const char *id)
{
    bool ok = r.done && r.v.kind == SG_VERDICT_ALLOW && strcmp(r.v.pin, id) == 0;
    if (!ok)
        fprintf(stderr, "    got: kind=%d %s pin=%s\n", r.v.kind, r.v.message, r.v.pin);
    free(r.body);
    return ok;
}

TEST(containers_named_in_a_body_are_pinned_to_their_ids)
{
    const fake_answer a[] = {{"/containers/web/json", 200, INSPECT("", "")},
                             {"/containers/priv/json", 200, INSPECT(",\"Privileged\":true", "")}};
    CHECK(forwarded(decide(USER, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"VolumesFrom\":[\"web:ro\"]}}",
                           a, N(a)),
                    "\"VolumesFrom\":[\"c0ffee:ro\"]"));
    /* everyone: the volumes-from container is checked for sockets for all */
    CHECK(forwarded(decide(ROOT, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"VolumesFrom\":[\"web\"]}}",
                           a, N(a)),
                    "\"VolumesFrom\":[\"c0ffee\"]"));
    CHECK(forwarded(decide(USER, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"pidmode\":\"container:web\"}}",
                           a, N(a)),
                    "\"pidmode\":\"container:c0ffee\""));
    CHECK(forwarded(decide(USER, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"Links\":[\"web:db\",\"web\"]}}",
                           a, N(a)),
                    "\"Links\":[\"c0ffee:db\",\"c0ffee:web\"]"));
}

TEST(links_to_a_container_that_is_not_isolated)
{
    const fake_answer a[] = {{"/containers/priv/json", 200, INSPECT(",\"Privileged\":true", "")}};
    CHECK(denied(decide(USER, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Links\":[\"/priv:/me/db\"]}}",
                        a, N(a)),
                 403, "linking to container \"priv\" is not allowed"));
    CHECK(denied(decide(USER, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Links\":[\"a:b:c\"]}}", a, N(a)),
                 400, "bad format for links: \""));
    CHECK(allowed(decide(ROOT, "POST", CREATE,
                         "{\"Image\":\"bb\",\"HostConfig\":{\"Links\":[\"priv\"]}}", a, N(a))));
}

TEST(networks_are_pinned_when_their_name_reads_as_an_id)
{
    const char *id = "abc1230000000000000000000000000000000000000000000000000000000000";
    char net[200];
    snprintf(net, sizeof net, "{\"Id\":\"%s\",\"Name\":\"abc\",\"Driver\":\"bridge\"}", id);
    const fake_answer a[] = {{"/networks/abc", 200, net},
                             {"/networks/lan", 200, "{\"Id\":\"fff\",\"Driver\":\"bridge\"}"}};
    char want[200];
    snprintf(want, sizeof want, "\"NetworkMode\":\"%s\"", id);
    CHECK(forwarded(decide(USER, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"abc\"},"
                           "\"NetworkingConfig\":{\"EndpointsConfig\":{\"abc\":{}}}}",
                           a, N(a)),
                    want));
    snprintf(want, sizeof want, "\"EndpointsConfig\":{\"%s\":{}}", id);
    CHECK(forwarded(decide(USER, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"abc\"},"
                           "\"NetworkingConfig\":{\"EndpointsConfig\":{\"abc\":{}}}}",
                           a, N(a)),
                    want));
    CHECK(forwarded(decide(USER, "POST", CREATE,
                           "{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"lan\"}}", a,
                           N(a)),
                    "\"NetworkMode\":\"lan\""));
    /* dockerd creates it and looks the network up when it starts */
    CHECK(allowed(decide(USER, "POST", CREATE,
                         "{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"nowhere\"}}", a,
                         N(a))));
    const fake_answer later[] = {
        {"/containers/web/json", 200,
         "{\"Id\":\"c0ffee\",\"Config\":{\"Image\":\"bb\"},\"HostConfig\":{\"MaskedPaths\":"
         "[\"/proc/kcore\",\"/proc/keys\",\"/proc/timer_list\",\"/sys/firmware\"],"
         "\"ReadonlyPaths\":[\"/proc/sys\",\"/proc/sysrq-trigger\"],\"NetworkMode\":\"nowhere\"},"
         "\"Mounts\":[],\"NetworkSettings\":{\"Networks\":{\"nowhere\":{}}}}"}};
    CHECK(denied(decide(USER, "POST", "/containers/web/start", NULL, later, N(later)), 404,
                 "network nowhere not found"));
    CHECK(pinned(decide(USER, "POST", "/networks/abc/connect", "{}", a, N(a)), id));
}

TEST(containers_named_in_a_path_are_pinned_to_their_ids)
{
    const fake_answer a[] = {{"/containers/web/json", 200, INSPECT("", "")}};
    result r = decide(USER, "POST", "/v1.43/containers/web/exec", "{\"Cmd\":[\"sh\"]}", a, N(a));
    CHECK_INT((long)r.v.subject_at, (long)strlen("/v1.43/containers/"));
    CHECK(pinned(r, "c0ffee"));
    CHECK(pinned(decide(USER, "POST", "/containers/web/start", NULL, a, N(a)), "c0ffee"));
    CHECK(pinned(decide(ROOT, "POST", "/containers/web/restart", NULL, a, N(a)), "c0ffee"));
    CHECK(pinned(decide(USER, "GET", "/containers/web/archive?path=/", NULL, a, N(a)), "c0ffee"));
    r = decide(USER, "POST", "/commit?container=web", NULL, a, N(a));
    CHECK(r.v.subject_in_query);
    CHECK(pinned(r, "c0ffee"));
    const fake_answer by_id[] = {{"/containers/c0ffee/json", 200, INSPECT("", "")}};
    CHECK(pinned(decide(USER, "POST", "/containers/c0ffee/attach", NULL, by_id, N(by_id)), ""));
}

/* ---- capabilities, devices, confinement ---------------------------------- */

TEST(capabilities_beyond_the_defaults)
{
    const char *bad[] = {"SYS_ADMIN", "CAP_SYS_ADMIN", "cap_sys_admin", "ALL", "all",
                         "\\u017fys_admin", " SYS_ADMIN", "NET_ADMIN"};
    for (size_t i = 0; i < N(bad); i++) {
        char b[256];
        snprintf(b, sizeof b, "{\"Image\":\"bb\",\"HostConfig\":{\"CapAdd\":[\"%s\"]}}", bad[i]);
        CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "capability"));
    }
    CHECK(denied(decide(USER, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"CapAdd\":\"SYS_ADMIN\"}}", NULL, 0),
                 403, "capability"));
    CHECK(denied(decide(USER, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Capabilities\":[\"CAP_SYS_ADMIN\"]}}",
                        NULL, 0),
                 403, "HostConfig.Capabilities"));
    CHECK(allowed(decide(USER, "POST", CREATE,
                         "{\"Image\":\"bb\",\"HostConfig\":{\"CapAdd\":[\"chown\",\"CAP_NET_RAW\"],"
                         "\"CapDrop\":[\"ALL\"]}}",
                         NULL, 0)));
}

TEST(devices_and_confinement)
{
    const char *bad[] = {
        "\"Devices\":[{\"PathOnHost\":\"/dev/mem\"}]",
        "\"DeviceCgroupRules\":[\"c 1:1 rwm\"]",
        "\"DeviceRequests\":[{\"Driver\":\"cdi\"}]",
        "\"SecurityOpt\":[\"seccomp=unconfined\"]",
        "\"SecurityOpt\":[\"seccomp:unconfined\"]",
        "\"SecurityOpt\":[\"seccomp={}\"]",
        "\"SecurityOpt\":[\"apparmor=unconfined\"]",
        "\"SecurityOpt\":[\"label=disable\"]",
        "\"SecurityOpt\":[\"label:disable\"]",
        "\"SecurityOpt\":[\"disable\"]",
        "\"SecurityOpt\":[\"label=type:spc_t\"]",
        "\"SecurityOpt\":[\"label=level:s0-s0:c0.c1023\"]",
        "\"SecurityOpt\":[\"systempaths=unconfined\"]",
        "\"SecurityOpt\":[\"writable-cgroups\"]",
        "\"MaskedPaths\":[]",
        "\"ReadonlyPaths\":[\"/proc/sys\"]",
        "\"CgroupParent\":\"/system.slice\"",
        "\"Runtime\":\"io.containerd.kata.v2\"",
        "\"Annotations\":{\"run.oci.keep_original_groups\":\"1\"}",
        "\"Sysctls\":{\"kernel.core_pattern\":\"|/x\"}",
    };
    for (size_t i = 0; i < N(bad); i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"Image\":\"bb\",\"HostConfig\":{%s}}", bad[i]);
        CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "not allowed"));
    }
    CHECK(allowed(decide(USER, "POST", CREATE,
                         "{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges\","
                         "\"no-new-privileges=true\"],\"Runtime\":\"runc\",\"Sysctls\":"
                         "{\"net.ipv4.ip_unprivileged_port_start\":\"0\"}}}",
                         NULL, 0)));
}

TEST(cgroup_namespace_made_private)
{
    CHECK(forwarded(decide(USER, "POST", CREATE, "{\"Image\":\"bb\"}", NULL, 0),
                    "\"CgroupnsMode\":\"private\""));
    CHECK(forwarded(decide(ROOT, "POST", CREATE, "{\"Image\":\"bb\"}", NULL, 0),
                    "{\"Image\":\"bb\"}"));
}

/* ---- existing containers ---------------------------------------------------- */

TEST(existing_containers_must_be_isolated)
{
    const fake_answer priv[] = {{"/containers/web/json", 200, INSPECT(",\"Privileged\":true", "")},
                                {"/containers/ok/json", 200, INSPECT("", "")}};
    const char *routes[][2] = {
        {"POST", "/containers/web/attach?stream=1"}, {"PUT", "/containers/web/archive?path=/"},
        {"GET", "/containers/web/archive?path=/"},   {"POST", "/containers/web/restart"},
        {"POST", "/commit?container=web"},           {"POST", "/containers/web/start"},
    };
    for (size_t i = 0; i < N(routes); i++) {
        CHECK(denied(decide(USER, routes[i][0], routes[i][1], NULL, priv, N(priv)), 403,
                     "container \"web\" is not allowed: the container is not isolated"));
        CHECK(allowed(decide(ROOT, routes[i][0], routes[i][1], NULL, priv, N(priv))));
    }
    CHECK(allowed(decide(USER, "POST", "/containers/ok/attach?stream=1", NULL, priv, N(priv))));
    CHECK(denied(decide(USER, "POST", "/containers/nope/attach", NULL, priv, N(priv)), 404,
                 "No such container: nope"));
    const fake_answer down[] = {{"/containers/web/json", -111, NULL}};
    CHECK(denied(decide(USER, "POST", "/containers/web/attach", NULL, down, N(down)), 403,
                 "cannot check container"));
}

/* A meter that holds `left` bytes, then refuses as the gate's budget does. */
static uint64_t meter_left, meter_taken;
static int meter_take(void *arg, uint64_t bytes, const char **why)
{
    (void)arg;
    if (bytes > meter_left) {
        *why = "sockgate: busy: test budget";
        return 503;
    }
    meter_left -= bytes;
    meter_taken += bytes;
    return 0;
}

TEST(look_up_answers_are_paid_for_or_refused)
{
    const fake_answer ok[] = {{"/containers/ok/json", 200, INSPECT("", "")}};
    meter = (sg_decision_meter){meter_take, NULL};
    meter_left = 1 << 20, meter_taken = 0;
    CHECK(allowed(decide(USER, "POST", "/containers/ok/attach?stream=1", NULL, ok, N(ok))));
    CHECK(meter_taken > 1000); /* an inspect is dozens of values */
    meter_left = 100;            /* the budget cannot hold the answer: fail closed */
    CHECK(denied(decide(USER, "POST", "/containers/ok/attach?stream=1", NULL, ok, N(ok)), 503,
                 "busy: test budget"));
    meter = (sg_decision_meter){0};
}

TEST(existing_container_with_the_public_socket_is_not_isolated)
{
    char mounts[600];
    snprintf(mounts, sizeof mounts,
             "{\"Type\":\"bind\",\"Source\":\"%s\",\"Destination\":\"/var/run/docker.sock\"}",
             pub_sock);
    char inspect[2000];
    snprintf(inspect, sizeof inspect, INSPECT("", "%s"), mounts);
    const fake_answer a[] = {{"/containers/web/json", 200, inspect}};
    CHECK(denied(decide(USER, "POST", "/containers/web/attach", NULL, a, N(a)), 403,
                 "not isolated"));
    snprintf(mounts, sizeof mounts,
             "{\"Type\":\"bind\",\"Source\":\"%s\",\"Destination\":\"/var/run/docker.sock\"}",
             res_sock);
    snprintf(inspect, sizeof inspect, INSPECT("", "%s"), mounts);
    CHECK(allowed(decide(USER, "POST", "/containers/web/attach", NULL, a, N(a))));
}

TEST(exec)
{
    const fake_answer a[] = {
        {"/containers/web/json", 200, INSPECT("", "")},
        {"/containers/priv/json", 200, INSPECT(",\"Privileged\":true", "")},
        {"/exec/e1/json", 200, "{\"ContainerID\":\"web\",\"ProcessConfig\":{\"privileged\":true}}"},
        {"/exec/e2/json", 200, "{\"ContainerID\":\"priv\",\"ProcessConfig\":{}}"},
        {"/exec/e3/json", 200, "{\"ContainerID\":\"web\",\"ProcessConfig\":{}}"},
    };
    CHECK(denied(decide(USER, "POST", "/containers/web/exec", "{\"Cmd\":[\"sh\"],\"Privileged\":true}",
                        a, N(a)),
                 403, "privileged exec"));
    CHECK(denied(decide(USER, "POST", "/containers/priv/exec", "{\"Cmd\":[\"sh\"]}", a, N(a)), 403,
                 "exec into container \"priv\""));
    CHECK(allowed(decide(USER, "POST", "/containers/web/exec", "{\"Cmd\":[\"sh\"]}", a, N(a))));
    CHECK(denied(decide(USER, "POST", "/exec/e1/start", NULL, a, N(a)), 403, "privileged"));
    CHECK(denied(decide(USER, "POST", "/exec/e2/start", NULL, a, N(a)), 403, "not isolated"));
    CHECK(allowed(decide(USER, "POST", "/exec/e3/start", NULL, a, N(a))));
    CHECK(fake_asked(&fe, "/containers/web/json"));
    CHECK(denied(decide(USER, "POST", "/exec/e9/start", NULL, a, N(a)), 404, "No such exec"));
}

TEST(update_and_services)
{
    CHECK(denied(decide(USER, "POST", "/containers/web/update",
                        "{\"Devices\":[{\"PathOnHost\":\"/dev/mem\"}]}", NULL, 0),
                 403, "UpdateConfig.Devices"));
    CHECK(allowed(decide(USER, "POST", "/containers/web/update", "{\"Memory\":1000000}", NULL, 0)));
    const char *svc[] = {
        "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\",\"Privileges\":{\"Seccomp\":"
        "{\"Mode\":\"unconfined\"}}}}}",
        "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\",\"CapabilityAdd\":[\"ALL\"]}}}",
        "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\"},\"Networks\":[{\"Target\":\"host\"}]}}",
        "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\"}},\"Networks\":[{\"Target\":\"h0\"}]}",
        "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\",\"Mounts\":[{\"Type\":\"bind\","
        "\"Source\":\"/etc\",\"Target\":\"/x\"}]}}}",
        "{\"TaskTemplate\":{\"Runtime\":\"plugin\",\"PluginSpec\":{\"Name\":\"p\"}}}",
    };
    for (size_t i = 0; i < N(svc); i++)
        CHECK(denied(decide(USER, "POST", "/services/create", svc[i], NULL, 0), 403, "not allowed"));
    CHECK(allowed(decide(USER, "POST", "/services/create",
                         "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\"}}}", NULL, 0)));
    CHECK(denied(decide(USER, "POST", "/services/s1/update?version=3&rollback=previous",
                        "{}", NULL, 0),
                 403, "rolling a service back"));
}

/* ---- the request line ------------------------------------------------------- */

TEST(engine_wide_changes_and_unknown_routes)
{
    const char *routes[][2] = {{"POST", "/swarm/join"},           {"POST", "/swarm/init"},
                               {"POST", "/plugins/create?name=p"}, {"POST", "/plugins/p/set"},
                               {"POST", "/plugins/pull?remote=p"}, {"POST", "/nodes/n/update"},
                               {"POST", "/containers/c/checkpoints"}};
    for (size_t i = 0; i < N(routes); i++) {
        CHECK(denied(decide(USER, routes[i][0], routes[i][1], "{}", NULL, 0), 403,
                     "changes the whole engine"));
        CHECK(denied(decide(RESTRICTED, routes[i][0], routes[i][1], "{}", NULL, 0), 403,
                     "changes the whole engine"));
    }
    CHECK(denied(decide(USER, "POST", "/v1.23/containers/c/copy", "{\"Resource\":\"/\"}", NULL, 0),
                 403, "does not know the route"));
    CHECK(allowed(decide(ROOT, "POST", "/v1.23/containers/c/copy", "{}", NULL, 0)));
}

TEST(build_options)
{
    CHECK(denied(decide(USER, "POST", "/build?networkmode=host", NULL, NULL, 0), 403,
                 "networkmode=host"));
    CHECK(denied(decide(USER, "POST", "/build?networkmode=container:x", NULL, NULL, 0), 403,
                 "networkmode"));
    CHECK(denied(decide(USER, "POST", "/build?cgroupparent=x", NULL, NULL, 0), 403, "cgroup"));
    CHECK(denied(decide(USER, "POST", "/build?networkmode=bridge;networkmode=host", NULL, NULL, 0),
                 400, "malformed"));
    CHECK(allowed(decide(USER, "POST", "/build?networkmode=default&t=x", NULL, NULL, 0)));
    CHECK(allowed(decide(ROOT, "POST", "/build?networkmode=host", NULL, NULL, 0)));
}

TEST(load_blocked_for_everyone)
{
    const char *p = "{\"blockDockerLoad\":{\"locked\":true,\"value\":true}}";
    CHECK(denied(decide_with(p, ROOT, "POST", "/images/load", NULL, false, NULL, 0), 403,
                 "docker load is blocked"));
    CHECK(allowed(decide(ROOT, "POST", "/images/load", NULL, NULL, 0)));
}

/* ---- ports ------------------------------------------------------------------ */

TEST(ports_default_local)
{
    const char *p = "{\"portBindingBehavior\":{\"value\":\"default-local-port-binding\"}}";
    const char *b = "{\"Image\":\"bb\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":"
                    "\"8080\"}],\"81/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"81\"}]}}}";
    result r = decide_with(p, ROOT, "POST", CREATE, b, false, NULL, 0);
    CHECK(r.body && strstr(r.body, "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"},"
                                   "{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}"));
    CHECK(r.body && strstr(r.body, "\"HostIp\":\"0.0.0.0\""));
    CHECK(forwarded(r, "81/tcp"));
    /* a host IP dockerd cannot parse means every address to dockerd */
    r = decide_with(p, ROOT, "POST", CREATE,
                    "{\"Image\":\"bb\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":"
                    "\"localhost\",\"HostPort\":\"8\"}]}}}",
                    false, NULL, 0);
    CHECK(forwarded(r, "[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8\"},{\"HostIp\":\"::1\""));
    /* "-p 127.0.0.1::80 -p 80": 127.0.0.1 once (Docker 28 refuses it twice) */
    r = decide_with(p, ROOT, "POST", CREATE,
                    "{\"Image\":\"bb\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":"
                    "\"127.0.0.1\",\"HostPort\":\"\"},{\"HostIp\":\"\",\"HostPort\":\"\"}]}}}",
                    false, NULL, 0);
    CHECK(forwarded(r, "\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"},{\"HostIp\":"
                       "\"::1\",\"HostPort\":\"\"}]"));
    const char *all = "{\"Image\":\"bb\",\"ExposedPorts\":{\"53/udp\":{}},\"HostConfig\":{"
                      "\"PublishAllPorts\":true}}";
    const fake_answer img[] = {{"/images/bb/json", 200,
                                "{\"Config\":{\"ExposedPorts\":{\"80/tcp\":{}}}}"}};
    r = decide_with(p, ROOT, "POST", CREATE, all, false, img, N(img));
    CHECK(r.body && strstr(r.body, "\"80/tcp\":[{\"HostIp\":\"127.0.0.1\""));
    CHECK(r.body && strstr(r.body, "\"PublishAllPorts\":false"));
    CHECK(forwarded(r, "\"53/udp\":[{\"HostIp\":\"127.0.0.1\""));
    CHECK(denied(decide_with(p, ROOT, "POST", CREATE, all, false, NULL, 0), 404, "No such image"));
}

TEST(ports_local_only)
{
    const char *p = "{\"portBindingBehavior\":{\"value\":\"local-only-port-binding\"}}";
    const char *wide = "{\"Image\":\"bb\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":"
                       "\"0.0.0.0\",\"HostPort\":\"80\"}]}}}";
    CHECK(denied(decide_with(p, ROOT, "POST", CREATE, wide, false, NULL, 0), 403,
                 "local-only-port-binding"));
    const char *lo = "{\"Image\":\"bb\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":"
                     "\"127.0.0.2\",\"HostPort\":\"80\"},{\"HostIp\":\"::1\"}]}}}";
    CHECK(allowed(decide_with(p, ROOT, "POST", CREATE, lo, false, NULL, 0)));
    CHECK(denied(decide_with(p, ROOT, "POST", "/services/create",
                             "{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\"}},"
                             "\"EndpointSpec\":{\"Ports\":[{\"TargetPort\":80}]}}",
                             false, NULL, 0),
                 403, "service port 80"));
}

/* ---- socket mounts ---------------------------------------------------------- */

TEST(socket_mounts_for_an_unlisted_image)
{
    char b[700];
    snprintf(b, sizeof b, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"%s:/var/run/docker.sock\"]}}",
             pub_sock);
    const fake_answer img[] = {{"/images/bb/json", 200,
                                "{\"Id\":\"sha256:aa\",\"RepoDigests\":[],\"RootFS\":{\"Layers\":[]}}"},
                               {"/images/json", 200, "[]"}};
    CHECK(denied(decide(ROOT, "POST", CREATE, b, img, N(img)), 403,
                 "docker socket mount denied for container with image \"docker.io/library/bb\"; "
                 "image is not in the allowed list"));
    CHECK(denied(decide(ROOT, "POST", CREATE, b, NULL, 0), 404, "No such image: bb"));
    /* an isolated caller is refused for the socket too, never rewritten */
    CHECK(denied(decide(USER, "POST", CREATE, b, img, N(img)), 403, "docker socket mount denied"));
}

/* Issue 17: a local volume binds its device whenever "bind" or "rbind" is
 * among its options, whatever its type says: for isolated callers that is a
 * host path, for everyone a possible socket exposure. */
TEST(local_volume_bind_whatever_the_type)
{
    static const char *const types[] = {"tmpfs", "ext4", "xfs", "none", "nfs"};
    static const char *const opts[] = {"bind", "rbind", "bind,ro", "ro,rbind"};
    char b[900];
    for (size_t t = 0; t < N(types); t++)
        for (size_t o = 0; o < N(opts); o++) {
            snprintf(b, sizeof b,
                     "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"%s\",\"o\":\"%s\","
                     "\"device\":\"/etc\"}}",
                     types[t], opts[o]);
            CHECK(denied(decide(USER, "POST", "/volumes/create", b, NULL, 0), 403,
                         "host path \"/etc\""));
            snprintf(b, sizeof b,
                     "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\","
                     "\"Target\":\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Options\":"
                     "{\"type\":\"%s\",\"o\":\"%s\",\"device\":\"/etc\"}}}}]}}",
                     types[t], opts[o]);
            CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "host path \"/etc\""));
        }
    /* a service's task mounts are read the same way */
    CHECK(denied(decide(USER, "POST", "/services/create",
                        "{\"Name\":\"s\",\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\","
                        "\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/d\",\"VolumeOptions\":"
                        "{\"DriverConfig\":{\"Options\":{\"type\":\"tmpfs\",\"o\":\"bind\","
                        "\"device\":\"/etc\"}}}}]}}}",
                        NULL, 0),
                 403, "host path \"/etc\""));
    /* created earlier, straight on dockerd's socket, then mounted by name */
    const fake_answer etc[] = {{"/volumes/v1", 200,
                                "{\"Name\":\"v1\",\"Driver\":\"local\",\"Options\":{\"type\":"
                                "\"tmpfs\",\"o\":\"bind\",\"device\":\"/etc\"}}"}};
    CHECK(denied(decide(USER, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"v1:/d\"]}}", etc,
                        N(etc)),
                 403, "host path \"/etc\""));
}

/* The same shape aimed at the directory that holds a protected socket:
 * refused for root on the public socket too, and for images not listed. */
TEST(local_volume_bind_of_the_socket_directory_for_everyone)
{
    const fake_answer img[] = {{"/images/bb/json", 200,
                                "{\"Id\":\"sha256:aa\",\"RepoDigests\":[],\"RootFS\":{\"Layers\":[]}}"},
                               {"/images/json", 200, "[]"}};
    char b[900];
    snprintf(b, sizeof b,
             "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Target\":"
             "\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Options\":{\"type\":\"tmpfs\","
             "\"o\":\"rbind\",\"device\":\"%s\"}}}}]}}",
             scratch);
    CHECK(denied(decide(ROOT, "POST", CREATE, b, img, N(img)), 403, "docker socket mount denied"));
    /* root may create such a volume (it exposes nothing by itself); the
     * container that mounts it by name is what is checked, below */
    char vol[400];
    snprintf(vol, sizeof vol,
             "{\"Name\":\"v1\",\"Driver\":\"local\",\"Options\":{\"type\":\"xfs\",\"o\":"
             "\"bind,ro\",\"device\":\"%s\"}}",
             scratch);
    const fake_answer named[] = {{"/volumes/v1", 200, vol}, img[0], img[1]};
    CHECK(denied(decide(ROOT, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"v1:/d\"]}}", named,
                        N(named)),
                 403, "docker socket mount denied"));
    /* a file system the gate cannot tell about may hold the socket's inode */
    CHECK(denied(decide(ROOT, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\","
                        "\"Target\":\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Options\":{"
                        "\"type\":\"ext4\",\"device\":\"/dev/sda1\"}}}}]}}",
                        img, N(img)),
                 403, "could show the Docker socket"));
    /* network file systems and tmpfs cannot: root keeps them */
    CHECK(allowed(decide(ROOT, "POST", CREATE,
                         "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\","
                         "\"Target\":\"/d\",\"VolumeOptions\":{\"DriverConfig\":{\"Options\":{"
                         "\"type\":\"nfs\",\"o\":\"addr=10.0.0.1\",\"device\":\":/x\"}}}}]}}",
                         img, N(img))));
    CHECK(denied(decide(USER, "POST", "/volumes/create",
                        "{\"Name\":\"v\",\"DriverOpts\":{\"type\":\"nfs\",\"o\":\"addr=10.0.0.1\","
                        "\"device\":\":/x\"}}",
                        NULL, 0),
                 403, "host's network"));
}

/* Issue 17: the query is validated where the request is routed and parsed
 * once: no rule can read a malformed or long one as "absent". */
TEST(malformed_or_long_queries_never_reach_a_rule)
{
    const fake_answer a[] = {{"/containers/victim/json", 200, INSPECT("", "")}};
    CHECK(denied(decide(USER, "POST", "/v1.43/commit?container=victim&x=%00", NULL, a, N(a)), 400,
                 "malformed"));
    char t[2000] = "/v1.43/commit?";
    memset(t + strlen(t), 'k', 300);
    strcat(t, "=1&container=victim");
    result r = decide(USER, "POST", t, NULL, a, N(a));
    CHECK(r.v.kind != SG_VERDICT_ALLOW || strcmp(r.v.subject, "victim") == 0);
    CHECK(strcmp(r.v.rule, "commit without a container") != 0);
    free(r.body);
    char b[1000] = "/build?cgroupparent=";
    memset(b + strlen(b), 'c', 600);
    CHECK(denied(decide(USER, "POST", b, NULL, NULL, 0), 403, "cgroup parent"));
    char big[1200] = "/v1.43/commit?container=";
    memset(big + strlen(big), 'n', 600);
    CHECK(denied(decide(USER, "POST", big, NULL, a, N(a)), 400, "too long"));
}

/* Issue 17: dockerd fetches URLs from the host's network namespace. */
TEST(url_fetches_refused_for_isolated_callers)
{
    CHECK(denied(decide(USER, "POST", "/images/create?fromSrc=http%3A%2F%2F127.0.0.1%3A9%2Fx.tar",
                        NULL, NULL, 0),
                 403, "sockgate.allowUrlFetches"));
    CHECK(denied(decide(USER, "POST", "/images/create?fromSrc=127.0.0.1:9/x.tar&repo=x", NULL,
                        NULL, 0),
                 403, "fetch"));
    CHECK(denied(decide(RESTRICTED, "POST", "/build?remote=http://127.0.0.1:9/Dockerfile", NULL,
                        NULL, 0),
                 403, "fetch"));
    CHECK(denied(decide(USER, "POST", "/build?remote=git%40127.0.0.1:x.git", NULL, NULL, 0), 403,
                 "fetch"));
    CHECK(allowed(decide(USER, "POST", "/images/create?fromSrc=-&repo=x", NULL, NULL, 0)));
    CHECK(allowed(decide(USER, "POST", "/images/create?fromImage=bb&fromSrc=http://x/", NULL,
                         NULL, 0)));
    CHECK(allowed(decide(USER, "POST", "/build?remote=client-session&t=x", NULL, NULL, 0)));
    CHECK(allowed(decide(USER, "POST", "/build?remote=&t=x", NULL, NULL, 0)));
    CHECK(allowed(decide(ROOT, "POST", "/build?remote=http://127.0.0.1:9/", NULL, NULL, 0)));
    const char *p = "{\"enhancedContainerIsolation\":{\"value\":true},"
                    "\"sockgate\":{\"allowUrlFetches\":true}}";
    CHECK(allowed(decide_with(p, USER, "POST", "/build?remote=http://127.0.0.1:9/", NULL, false,
                              NULL, 0)));
}

/* Issue 17: a container the gate cannot fully read counts as "cannot tell". */
TEST(unreadable_containers_refuse)
{
    const fake_answer cluster[] = {
        {"/containers/web/json", 200,
         INSPECT("", "{\"Type\":\"cluster\",\"Source\":\"csi\",\"Destination\":\"/x\"}")}};
    CHECK(denied(decide(USER, "POST", "/containers/web/exec", "{\"Cmd\":[\"id\"]}", cluster,
                        N(cluster)),
                 403, "cannot check container \"web\""));
    const fake_answer typed[] = {
        {"/containers/web/json", 200, INSPECT(",\"Privileged\":\"yes\"", "")}};
    CHECK(denied(decide(USER, "POST", "/containers/web/exec", "{\"Cmd\":[\"id\"]}", typed,
                        N(typed)),
                 403, "cannot check container \"web\""));
    const fake_answer fine[] = {
        {"/containers/web/json", 200,
         INSPECT("", "{\"Type\":\"tmpfs\",\"Destination\":\"/t\"}")}};
    CHECK(allowed(decide(USER, "POST", "/containers/web/exec", "{\"Cmd\":[\"id\"]}", fine,
                         N(fine))));
    /* volumes-from an unreadable container, for a socket check as root */
    CHECK(denied(decide(ROOT, "POST", CREATE,
                        "{\"Image\":\"bb\",\"HostConfig\":{\"VolumesFrom\":[\"web\"]}}", cluster,
                        N(cluster)),
                 403, "cannot check container \"web\""));
}

/* Issue 17: a finding or an edit that could not be recorded refuses. */
TEST(lost_findings_and_failed_edits_refuse)
{
    sg_findings f = {0};
    CHECK(!sg_findings_refuse(&f));
    f.lost = true;
    CHECK(sg_findings_refuse(&f));
    sg_findings_free(&f);
    CHECK(!sg_findings_refuse(&f));
    sg_edits e = {0};
    json_t *body = json_object();
    CHECK_INT(sg_edits_apply(&e, body), 0);
    e.failed = true;
    CHECK_INT(sg_edits_apply(&e, body), -1);
    sg_edits_free(&e);
    json_decref(body);
    /* the prefix is a field, not a guess from the text */
    sg_findings g = {0};
    snprintf(g.context, sizeof g.context, "exec into container \"x\" is not allowed: ");
    sg_findings_add(&g, 403, "r", "privileged");
    sg_findings_add_raw(&g, 404, "r", SG_ECI_PREFIX "looks like ours");
    CHECK_STR(sg_finding_text(&g.items[0]), "privileged");
    CHECK(g.items[1].raw);
    CHECK_STR(sg_finding_text(&g.items[1]), SG_ECI_PREFIX "looks like ours");
    sg_findings_free(&g);
}

/* Issue 17: a bind source too long to resolve (dockerd cleans it to the
 * socket's path) is refused for everyone, never taken for nothing. */
TEST(unresolvable_bind_source_is_a_possible_exposure)
{
    static char b[12000];
    char src[9000] = "/";
    for (int i = 0; i < 2100; i++)
        strcat(src, "./");
    strcat(src, pub_sock + 1);
    snprintf(b, sizeof b, "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[\"%s:/s\"]}}", src);
    const fake_answer img[] = {{"/images/bb/json", 200,
                                "{\"Id\":\"sha256:aa\",\"RepoDigests\":[],\"RootFS\":{\"Layers\":[]}}"},
                               {"/images/json", 200, "[]"}};
    CHECK(denied(decide(ROOT, "POST", CREATE, b, img, N(img)), 403, "too long"));
    snprintf(b, sizeof b,
             "{\"Image\":\"bb\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"%s\","
             "\"Target\":\"/s\"}]}}",
             src);
    CHECK(denied(decide(ROOT, "POST", CREATE, b, img, N(img)), 403, "too long"));
}

/* Issue 17: names are refused at the boundary, never cut short and looked
 * up as another name. */
TEST(over_long_names_refused_not_truncated)
{
    char t[1200] = "/containers/";
    memset(t + strlen(t), 'n', 700);
    strcat(t, "/exec");
    CHECK(denied(decide(USER, "POST", t, "{\"Cmd\":[\"id\"]}", NULL, 0), 400, "too long"));
    char b[1200] = "{\"Image\":\"";
    memset(b + strlen(b), 'i', 700);
    strcat(b, "\",\"HostConfig\":{\"Binds\":[\"/run/docker.sock:/s\"]}}");
    CHECK(denied(decide(ROOT, "POST", CREATE, b, NULL, 0), 400, "too long"));
}

TEST(too_many_lookups)
{
    char b[8192] = "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[";
    for (int i = 0; i < 70; i++)
        snprintf(b + strlen(b), sizeof b - strlen(b), "%s\"v%d:/v%d\"", i ? "," : "", i, i);
    strcat(b, "]}}");
    CHECK(denied(decide(USER, "POST", CREATE, b, NULL, 0), 403, "too many"));
}

static int make_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    return bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? fd : -1;
}

int main(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/sg-unit-decision.XXXXXX");
    snprintf(outside, sizeof outside, "/var/tmp/sg-unit-outside.XXXXXX");
    if (!mkdtemp(scratch) || !mkdtemp(outside)) {
        perror("mkdtemp");
        return 1;
    }
    char data[256];
    snprintf(data, sizeof data, "%s/data", scratch);
    mkdir(data, 0700);
    snprintf(pub_sock, sizeof pub_sock, "%s/p.sock", scratch);
    snprintf(res_sock, sizeof res_sock, "%s/r.sock", scratch);
    int fd1 = make_socket(pub_sock), fd2 = make_socket(res_sock);
    RUN(privileged_refused_for_isolated_callers_only);
    RUN(policy_off_isolates_nobody);
    RUN(toplevel_host_fields_refused_for_everyone);
    RUN(start_body_refused_unless_dockerd_ignores_it);
    RUN(nul_in_a_string_refused);
    RUN(ambiguous_and_malformed_bodies_refused);
    RUN(binds_inside_allowed_directories_only);
    RUN(volumes_are_looked_up_and_fail_closed);
    RUN(host_paths_need_user_namespaces);
    RUN(root_in_another_pid_namespace_is_isolated);
    RUN(local_volume_kinds);
    RUN(inline_local_volume_device);
    RUN(existing_volume_wins_over_inline_options);
    RUN(volume_create);
    RUN(volumes_from_a_container_with_host_paths);
    RUN(host_namespaces_refused);
    RUN(joining_a_container_that_is_not_isolated);
    RUN(networks_by_driver);
    RUN(containers_named_in_a_body_are_pinned_to_their_ids);
    RUN(links_to_a_container_that_is_not_isolated);
    RUN(networks_are_pinned_when_their_name_reads_as_an_id);
    RUN(containers_named_in_a_path_are_pinned_to_their_ids);
    RUN(network_create);
    RUN(capabilities_beyond_the_defaults);
    RUN(devices_and_confinement);
    RUN(cgroup_namespace_made_private);
    RUN(existing_containers_must_be_isolated);
    RUN(look_up_answers_are_paid_for_or_refused);
    RUN(existing_container_with_the_public_socket_is_not_isolated);
    RUN(exec);
    RUN(update_and_services);
    RUN(engine_wide_changes_and_unknown_routes);
    RUN(build_options);
    RUN(load_blocked_for_everyone);
    RUN(ports_default_local);
    RUN(ports_local_only);
    RUN(socket_mounts_for_an_unlisted_image);
    RUN(too_many_lookups);
    RUN(local_volume_bind_whatever_the_type);
    RUN(local_volume_bind_of_the_socket_directory_for_everyone);
    RUN(malformed_or_long_queries_never_reach_a_rule);
    RUN(url_fetches_refused_for_isolated_callers);
    RUN(unreadable_containers_refuse);
    RUN(lost_findings_and_failed_edits_refuse);
    RUN(unresolvable_bind_source_is_a_possible_exposure);
    RUN(over_long_names_refused_not_truncated);
    close(fd1);
    close(fd2);
    unlink(pub_sock);
    unlink(res_sock);
    rmdir(data);
    rmdir(scratch);
    rmdir(outside);
    return UNIT_DONE();
}
