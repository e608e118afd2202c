/*
 * test_body.c — reading request bodies the way dockerd does: where the
 * host configuration is (hostconfig.c), what it gives a container (spec.c,
 * mounts.c), typed reads that refuse what dockerd would refuse or C would
 * misread (jsonx.c).
 */
#include <string.h>

#include "body/gojson.h"
#include "body/hostconfig.h"
#include "body/jsonx.h"
#include "body/spec.h"
#include "unit.h"

static json_t *parse(const char *text)
{
    sg_gojson_error e;
    json_t *j = sg_gojson_parse(text, strlen(text), &e);
    if (!j)
        fprintf(stderr, "  parse: %s\n", e.message);
    return j;
}

static sg_hc_status create_status(const char *text)
{
    json_t *b = parse(text);
    sg_hostconfig hc;
    sg_hostconfig_of_create(b, &hc);
    json_decref(b);
    return hc.status;
}

TEST(create_hostconfig_where_dockerd_reads_it)
{
    CHECK_INT(create_status("{\"Image\":\"x\"}"), SG_HC_NONE);
    CHECK_INT(create_status("{\"Image\":\"x\",\"HostConfig\":null}"), SG_HC_NONE);
    CHECK_INT(create_status("{\"Image\":\"x\",\"HostConfig\":{}}"), SG_HC_FOUND);
    CHECK_INT(create_status("{\"Image\":\"x\",\"hostconfig\":{\"Binds\":[]}}"), SG_HC_FOUND);
    CHECK_INT(create_status("{\"Image\":\"x\",\"HostConfig\":[]}"), SG_HC_REFUSED);
    /* the pre-1.18 shape, in every spelling Go matches */
    CHECK_INT(create_status("{\"Image\":\"x\",\"Binds\":[]}"), SG_HC_REFUSED);
    CHECK_INT(create_status("{\"Image\":\"x\",\"PRIVILEGED\":true}"), SG_HC_REFUSED);
    CHECK_INT(create_status("{\"Image\":\"x\",\"\\u0050rivileged\":true}"), SG_HC_REFUSED);
    CHECK_INT(create_status("{\"Image\":\"x\",\"Networ\\u212aMode\":\"host\"}"), SG_HC_REFUSED);
    CHECK_INT(create_status("{\"Image\":\"x\",\"HostConfig\":{},\"Memory\":5}"), SG_HC_REFUSED);
    CHECK_INT(create_status("{\"Image\":\"x\",\"HostConfig\":null,\"DeviceRequests\":[]}"),
              SG_HC_REFUSED);
    /* Config fields and unknown keys are not host configuration */
    CHECK_INT(create_status("{\"Image\":\"x\",\"Volumes\":{\"/v\":{}},\"Labels\":{},"
                            "\"NetworkingConfig\":{},\"Whatever\":1}"),
              SG_HC_NONE);
}

TEST(start_body_by_length_and_framing)
{
    sg_hostconfig hc;
    sg_hostconfig_of_start(0, false, &hc);
    CHECK_INT(hc.status, SG_HC_NONE);
    sg_hostconfig_of_start(7, false, &hc);
    CHECK_INT(hc.status, SG_HC_NONE);
    sg_hostconfig_of_start(8, false, &hc);
    CHECK_INT(hc.status, SG_HC_REFUSED);
    sg_hostconfig_of_start(0, true, &hc);
    CHECK_INT(hc.status, SG_HC_REFUSED);
}

TEST(service_and_update_locations)
{
    json_t *svc = parse("{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\"}}}");
    sg_hostconfig hc;
    sg_hostconfig_of_service(svc, &hc);
    CHECK_INT(hc.status, SG_HC_FOUND);
    CHECK_STR(hc.where, "TaskTemplate.ContainerSpec");
    json_decref(svc);
    svc = parse("{\"TaskTemplate\":7}");
    sg_hostconfig_of_service(svc, &hc);
    CHECK_INT(hc.status, SG_HC_REFUSED);
    json_decref(svc);
    json_t *up = parse("{\"Memory\":1}");
    sg_hostconfig_of_update(up, &hc);
    CHECK_INT(hc.status, SG_HC_FOUND);
    CHECK(hc.hc == up);
    json_decref(up);
}

static int spec_of(const char *text, sg_spec *s, json_t **keep, sg_jx *r)
{
    *keep = parse(text);
    sg_hostconfig hc;
    sg_hostconfig_of_create(*keep, &hc);
    memset(r, 0, sizeof *r);
    return sg_spec_from_create(hc.hc, sg_gojson_get(*keep, "NetworkingConfig", NULL), s, r);
}

TEST(spec_of_a_create)
{
    json_t *b;
    sg_spec s;
    sg_jx r;
    CHECK_INT(spec_of("{\"Image\":\"x\",\"HostConfig\":{\"privileged\":true,\"PidMode\":\"host\","
                      "\"CapAdd\":\"SYS_ADMIN\",\"SecurityOpt\":[\"seccomp:unconfined\"],"
                      "\"Devices\":[],\"DeviceRequests\":[{}],\"NetworkMode\":\"mynet\","
                      "\"Sysctls\":{\"kernel.sem\":\"1\"},\"MaskedPaths\":[],"
                      "\"Binds\":[\"/a:/b:ro,rshared\",\"vol:/c\",\"/anon\"],"
                      "\"VolumesFrom\":[\"other:ro\"]},"
                      "\"NetworkingConfig\":{\"EndpointsConfig\":{\"n2\":{}}}}",
                      &s, &b, &r),
              0);
    CHECK(!r.failed);
    CHECK(s.privileged);
    CHECK_STR(s.ns[SG_NS_PID], "host");
    CHECK_INT(s.caps.n, 1);
    CHECK_STR(s.caps.v[0].value, "SYS_ADMIN");
    CHECK_STR(s.security.v[0].value, "seccomp:unconfined");
    CHECK_STR(s.devices, "HostConfig.DeviceRequests");
    CHECK_STR(s.system_paths, "HostConfig.MaskedPaths");
    CHECK_INT(s.networks.n, 2);
    CHECK_INT(s.sysctls.n, 1);
    CHECK_INT(s.mounts.n, 3);
    CHECK_INT(s.mounts.items[0].kind, SG_MOUNT_BIND);
    CHECK_STR(s.mounts.items[0].propagation, "rshared");
    CHECK_STR(s.mounts.items[0].target, "/b");
    CHECK_INT(s.mounts.items[1].kind, SG_MOUNT_VOLUME);
    CHECK_INT(s.mounts.items[2].kind, SG_MOUNT_VOLUMES_FROM);
    CHECK_STR(s.mounts.items[2].source, "other");
    sg_spec_free(&s);
    json_decref(b);
}

TEST(spec_refuses_what_dockerd_or_c_would_misread)
{
    const char *bad[] = {
        "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[\"/a\\u0000:/b\"]}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[7]}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[\"a:b:c:d\"]}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[\":/b\"]}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":\"true\"}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":7}]}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"VolumeOptions\":"
        "{\"DriverConfig\":{\"Options\":{\"device\":\"/etc\\u0000x\"}}}}]}}",
        "{\"Image\":\"x\",\"HostConfig\":{\"Sysctls\":{\"a\\u0000b\":\"1\"}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *b;
        sg_spec s;
        sg_jx r;
        spec_of(bad[i], &s, &b, &r);
        if (!r.failed)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(r.failed);
        sg_spec_free(&s);
        json_decref(b);
    }
}

TEST(mounts_of_every_kind)
{
    json_t *b;
    sg_spec s;
    sg_jx r;
    spec_of("{\"Image\":\"x\",\"HostConfig\":{\"Mounts\":["
            "{\"Type\":\"bind\",\"Source\":\"/h\",\"Target\":\"/c\",\"BindOptions\":"
            "{\"Propagation\":\"shared\"}},"
            "{\"Type\":\"volume\",\"Source\":\"named\",\"Target\":\"/v\"},"
            "{\"Type\":\"volume\",\"Target\":\"/i\",\"VolumeOptions\":{\"DriverConfig\":"
            "{\"Name\":\"local\",\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/run\"}}}},"
            "{\"Type\":\"volume\",\"Target\":\"/p\",\"VolumeOptions\":{\"DriverConfig\":"
            "{\"Name\":\"nfs-plugin\",\"Options\":{\"device\":\"/run\"}}}},"
            "{\"Type\":\"tmpfs\",\"Target\":\"/t\"},{\"Type\":\"BIND\",\"Source\":\"/x\"}]}}",
            &s, &b, &r);
    CHECK(!r.failed);
    CHECK_INT(s.mounts.n, 4);
    CHECK_STR(s.mounts.items[0].propagation, "shared");
    CHECK_INT(s.mounts.items[1].kind, SG_MOUNT_VOLUME);
    CHECK_INT(s.mounts.items[2].kind, SG_MOUNT_LOCAL_DEVICE);
    CHECK_STR(s.mounts.items[2].source, "/run");
    CHECK_INT(s.mounts.items[3].kind, SG_MOUNT_BIND); /* unknown type: treated as a bind */
    sg_spec_free(&s);
    json_decref(b);
}

/* The device is copied out: the options it points into are freed here. */
static sg_localvol kind_of(const char *opts, const char **device)
{
    static char copy[256];
    json_t *o = parse(opts);
    const char *dev = NULL;
    sg_localvol k = sg_mounts_local_volume(o, &dev);
    snprintf(copy, sizeof copy, "%s", dev ? dev : "");
    *device = dev ? copy : NULL;
    json_decref(o);
    return k;
}

TEST(local_volume_options_the_way_the_driver_mounts_them)
{
    const char *d;
    CHECK_INT(kind_of("{}", &d), SG_LOCALVOL_PLAIN);
    CHECK_INT(kind_of("{\"size\":\"10G\"}", &d), SG_LOCALVOL_PLAIN);
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}", &d), SG_LOCALVOL_TMPFS);
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"o\":\"size=1m,uid=1\",\"device\":\"x\"}", &d),
              SG_LOCALVOL_TMPFS);
    CHECK_INT(kind_of("{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/srv\"}", &d),
              SG_LOCALVOL_BIND);
    CHECK_STR(d, "/srv");
    CHECK_INT(kind_of("{\"o\":\"ro,rbind\",\"device\":\"/srv\"}", &d), SG_LOCALVOL_BIND);
    CHECK_INT(kind_of("{\"type\":\"proc\",\"device\":\"proc\"}", &d), SG_LOCALVOL_OTHER);
    CHECK_INT(kind_of("{\"type\":\"nfs\",\"o\":\"addr=10.0.0.1\",\"device\":\":/x\"}", &d),
              SG_LOCALVOL_NETWORK);
    CHECK_INT(kind_of("{\"type\":\"none\",\"o\":\"bindx\",\"device\":\"/srv\"}", &d),
              SG_LOCALVOL_OTHER);
    CHECK_INT(kind_of("{\"type\":\"none\",\"device\":\"/srv\"}", &d), SG_LOCALVOL_OTHER);
    CHECK_INT(kind_of("{\"o\":\"lowerdir=/etc\"}", &d), SG_LOCALVOL_OTHER);
    CHECK_INT(kind_of("{\"type\":\"ext4\",\"device\":\"/dev/sda1\"}", &d), SG_LOCALVOL_OTHER);
}

/* Issue 17: the kernel binds whenever MS_BIND is set, whatever the type;
 * moby/sys/mount matches option words exactly, and no word clears it. */
TEST(local_volume_bind_flag_wins_over_the_type)
{
    const char *d;
    static const char *const binds[] = {
        "{\"type\":\"tmpfs\",\"o\":\"bind\",\"device\":\"/etc\"}",
        "{\"type\":\"ext4\",\"o\":\"rbind\",\"device\":\"/etc\"}",
        "{\"type\":\"xfs\",\"o\":\"bind,ro\",\"device\":\"/run\"}",
        "{\"type\":\"nfs\",\"o\":\"addr=1.2.3.4,rbind\",\"device\":\"/run\"}",
        "{\"type\":\"tmpfs\",\"o\":\"size=1m,,bind\",\"device\":\"/run\"}",
        "{\"type\":\"overlay\",\"o\":\"rw,bind,remount\",\"device\":\"/run\"}",
    };
    for (size_t i = 0; i < sizeof binds / sizeof *binds; i++) {
        CHECK_INT(kind_of(binds[i], &d), SG_LOCALVOL_BIND);
        CHECK(d && d[0] == '/');
    }
    /* Go's map lookup is exact: these are data for the file system, not flags. */
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"o\":\"BIND\",\"device\":\"/etc\"}", &d),
              SG_LOCALVOL_TMPFS);
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"o\":\" bind\",\"device\":\"/etc\"}", &d),
              SG_LOCALVOL_TMPFS);
    /* A bind with no device is refused by dockerd, and by the gate. */
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"o\":\"bind\"}", &d), SG_LOCALVOL_OTHER);
    /* A key the local driver does not know: the gate cannot tell. */
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"device\":\"x\",\"mode\":\"1\"}", &d),
              SG_LOCALVOL_OTHER);
    CHECK_INT(kind_of("{\"type\":\"tmpfs\",\"device\":\"x\",\"o\":7}", &d), SG_LOCALVOL_OTHER);
}

TEST(service_spec)
{
    json_t *b = parse("{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"x\",\"Privileges\":"
                      "{\"Seccomp\":{\"Mode\":\"custom\"},\"AppArmor\":{\"Mode\":\"disabled\"},"
                      "\"SELinuxContext\":{\"Disable\":true,\"Level\":\"s0\"}},"
                      "\"CapabilityAdd\":[\"NET_ADMIN\"],\"Mounts\":[{\"Type\":\"bind\","
                      "\"Source\":\"/\",\"Target\":\"/h\"}]},\"Networks\":[{\"Target\":\"n1\"}]},"
                      "\"Networks\":[{\"Target\":\"n2\"}],\"EndpointSpec\":{\"Ports\":[{}]}}");
    sg_spec s;
    sg_jx r = {0};
    CHECK_INT(sg_spec_from_service(b, &s, &r), 0);
    CHECK(!r.failed);
    CHECK_INT(s.security.n, 4);
    CHECK_STR(s.security.v[0].value, "seccomp=custom");
    CHECK_STR(s.security.v[1].value, "apparmor=unconfined");
    CHECK_STR(s.security.v[2].value, "label=disable");
    CHECK_STR(s.security.v[3].value, "label=level:");
    CHECK_INT(s.caps.n, 1);
    CHECK_INT(s.networks.n, 2);
    CHECK_INT(s.mounts.n, 1);
    CHECK_INT(json_array_size(s.service_ports), 1);
    sg_spec_free(&s);
    json_decref(b);
}

TEST(inspect_spec_sees_unmasked_paths)
{
    json_t *b = parse("{\"HostConfig\":{\"MaskedPaths\":[],\"ReadonlyPaths\":[]},\"Mounts\":"
                      "[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Destination\":\"/x\","
                      "\"Propagation\":\"rprivate\"}]}");
    sg_spec s;
    sg_jx r = {0};
    CHECK_INT(sg_spec_from_inspect(b, &s, &r), 0);
    CHECK_STR(s.system_paths, "HostConfig.MaskedPaths");
    CHECK_INT(s.mounts.n, 1);
    CHECK_STR(s.mounts.items[0].propagation, "rprivate");
    sg_spec_free(&s);
    json_decref(b);
}

TEST(jsonx_types)
{
    json_t *o = parse("{\"s\":\"a\",\"n\":null,\"b\":true,\"i\":3,\"z\":\"a\\u0000b\"}");
    sg_jx r = {0};
    CHECK_STR(sg_jx_str(&r, o, "X", "s"), "a");
    CHECK(sg_jx_str(&r, o, "X", "n") == NULL);
    CHECK(sg_jx_bool(&r, o, "X", "b"));
    CHECK_INT(sg_jx_int(&r, o, "X", "i", 0), 3);
    CHECK(!r.failed);
    CHECK(sg_jx_str(&r, o, "X", "z") == NULL);
    CHECK(r.failed);
    CHECK(strstr(r.err, "X.z contains a NUL") != NULL);
    sg_jx r2 = {0};
    sg_jx_bool(&r2, o, "X", "s");
    CHECK(r2.failed);
    sg_jx_bool(&r2, o, "X", "i"); /* the first problem is kept */
    CHECK(strstr(r2.err, "X.s") != NULL);
    json_decref(o);
}

int main(void)
{
    RUN(create_hostconfig_where_dockerd_reads_it);
    RUN(start_body_by_length_and_framing);
    RUN(service_and_update_locations);
    RUN(spec_of_a_create);
    RUN(spec_refuses_what_dockerd_or_c_would_misread);
    RUN(mounts_of_every_kind);
    RUN(local_volume_options_the_way_the_driver_mounts_them);
    RUN(local_volume_bind_flag_wins_over_the_type);
    RUN(service_spec);
    RUN(inspect_spec_sees_unmasked_paths);
    RUN(jsonx_types);
    return UNIT_DONE();
}
