// The test guest's multi-head program (issue 16): takes the DRM device (virtio-gpu) as master,
// paints a pattern of its own on every connected connector at its preferred mode, and follows
// hotplug: it probes the connectors every 200 ms and, when one comes, goes or changes its
// preferred mode, paints again and reports the state on stdout (the guest's serial console):
//   phyllome-guest: heads Virtual-1=connected 1280x800 Virtual-2=disconnected
// The host asks for a head's size with SetUIInfo and turns a head off with 0x0, so the line
// tells a test what the guest was told. Only kernel uapi headers: the initramfs has no libdrm.
//
//   heads_painter [--seconds S]   (S > 0: exit after S seconds; the default runs forever)
#define _GNU_SOURCE
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADS 16

struct head {
    uint32_t connector, crtc;
    uint32_t type, type_id;
    int connected;
    struct drm_mode_modeinfo mode; // the preferred one while connected
    uint32_t fb, handle;
    void* map;
    uint64_t map_size;
};

static int drm_ioctl(int fd, unsigned long request, void* arg) {
    int r;
    do
        r = ioctl(fd, request, arg);
    while (r < 0 && (errno == EINTR || errno == EAGAIN));
    return r;
}

static const char* type_name(uint32_t type) {
    return type == DRM_MODE_CONNECTOR_VIRTUAL ? "Virtual" : "Connector";
}

// Probes a connector (count_modes 0 asks the driver to probe) and picks its preferred mode.
static void probe(int fd, struct head* h) {
    struct drm_mode_get_connector c = {.connector_id = h->connector};
    struct drm_mode_modeinfo modes[64];
    h->connected = 0;
    if (drm_ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c) < 0)
        return;
    h->type = c.connector_type;
    h->type_id = c.connector_type_id;
    if (c.count_modes > 64)
        c.count_modes = 64;
    const uint32_t count = c.count_modes;
    c.modes_ptr = (uint64_t)(uintptr_t)modes;
    c.count_props = c.count_encoders = 0;
    c.props_ptr = c.prop_values_ptr = c.encoders_ptr = 0;
    if (count == 0 || drm_ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c) < 0)
        return;
    if (c.connection != 1 || c.count_modes == 0)
        return;
    h->connected = 1;
    h->mode = modes[0];
    for (uint32_t i = 0; i < c.count_modes && i < count; ++i)
        if (modes[i].type & DRM_MODE_TYPE_PREFERRED) {
            h->mode = modes[i];
            break;
        }
}

static void release(int fd, struct head* h) {
    if (h->map)
        munmap(h->map, h->map_size);
    if (h->fb)
        drm_ioctl(fd, DRM_IOCTL_MODE_RMFB, &h->fb);
    if (h->handle) {
        struct drm_mode_destroy_dumb d = {.handle = h->handle};
        drm_ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
    }
    h->map = NULL;
    h->fb = h->handle = 0;
}

// Head k's pattern: gradients with a 32-pixel checker whose colours are the head's own.
static uint32_t pattern(int k, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
    const uint32_t r = x * 255 / (w ? w : 1), g = y * 255 / (h ? h : 1);
    const uint32_t b = ((x / 32 + y / 32) % 2) ? 0x30u + 0x60u * (uint32_t)k : 0xf0u - 0x50u * (uint32_t)k;
    return (k % 2 ? (g << 16) | (r << 8) : (r << 16) | (g << 8)) | (b & 0xff);
}

// Shows head k's pattern at its mode, or turns its CRTC off when it is disconnected.
static int paint(int fd, struct head* h, int k) {
    struct drm_mode_crtc set = {.crtc_id = h->crtc};
    release(fd, h);
    if (!h->connected)
        return drm_ioctl(fd, DRM_IOCTL_MODE_SETCRTC, &set);
    struct drm_mode_create_dumb create = {.width = h->mode.hdisplay, .height = h->mode.vdisplay, .bpp = 32};
    if (drm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) < 0)
        return -1;
    h->handle = create.handle;
    struct drm_mode_fb_cmd fb = {.width = create.width, .height = create.height, .pitch = create.pitch,
                                 .bpp = 32, .depth = 24, .handle = create.handle};
    if (drm_ioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb) < 0)
        return -1;
    h->fb = fb.fb_id;
    struct drm_mode_map_dumb map = {.handle = create.handle};
    if (drm_ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) < 0)
        return -1;
    void* pixels = mmap(NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
    if (pixels == MAP_FAILED)
        return -1;
    h->map = pixels;
    h->map_size = create.size;
    for (uint32_t y = 0; y < create.height; ++y) {
        uint32_t* row = (uint32_t*)((char*)pixels + (size_t)y * create.pitch);
        for (uint32_t x = 0; x < create.width; ++x)
            row[x] = pattern(k, x, y, create.width, create.height);
    }
    set.set_connectors_ptr = (uint64_t)(uintptr_t)&h->connector;
    set.count_connectors = 1;
    set.fb_id = h->fb;
    set.mode = h->mode;
    set.mode_valid = 1;
    if (drm_ioctl(fd, DRM_IOCTL_MODE_SETCRTC, &set) < 0)
        return -1;
    // The whole buffer is new: virtio-gpu sends it to the host on a dirty whole frame.
    struct drm_mode_fb_dirty_cmd dirty = {.fb_id = h->fb};
    drm_ioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty);
    return 0;
}

static void report(const struct head* heads, int n) {
    char line[1024];
    int used = snprintf(line, sizeof line, "phyllome-guest: heads");
    for (int i = 0; i < n && used < (int)sizeof line; ++i) {
        const struct head* h = &heads[i];
        if (h->connected)
            used += snprintf(line + used, sizeof line - (size_t)used, " %s-%u=connected %ux%u", type_name(h->type),
                             h->type_id, h->mode.hdisplay, h->mode.vdisplay);
        else
            used += snprintf(line + used, sizeof line - (size_t)used, " %s-%u=disconnected", type_name(h->type),
                             h->type_id);
    }
    printf("%s\n", line);
    fflush(stdout);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    double seconds = 0;
    if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
        seconds = atof(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: heads_painter [--seconds S]\n");
        return 2;
    }
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; ++i) {
        fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            usleep(100000);
    }
    if (fd < 0) {
        printf("heads_painter: no /dev/dri/card0 (%s)\n", strerror(errno));
        return 1;
    }
    uint32_t crtcs[MAX_HEADS], connectors[MAX_HEADS];
    struct drm_mode_card_res res = {0};
    if (drm_ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0) {
        printf("heads_painter: no KMS resources (%s)\n", strerror(errno));
        return 1;
    }
    if (res.count_crtcs > MAX_HEADS)
        res.count_crtcs = MAX_HEADS;
    if (res.count_connectors > MAX_HEADS)
        res.count_connectors = MAX_HEADS;
    res.crtc_id_ptr = (uint64_t)(uintptr_t)crtcs;
    res.connector_id_ptr = (uint64_t)(uintptr_t)connectors;
    res.count_fbs = res.count_encoders = 0;
    res.fb_id_ptr = res.encoder_id_ptr = 0;
    if (drm_ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0) {
        printf("heads_painter: no KMS resources (%s)\n", strerror(errno));
        return 1;
    }
    // virtio-gpu has a CRTC per scanout, in the connectors' order.
    const int n = (int)(res.count_connectors < res.count_crtcs ? res.count_connectors : res.count_crtcs);
    struct head heads[MAX_HEADS];
    memset(heads, 0, sizeof heads);
    for (int i = 0; i < n; ++i) {
        heads[i].connector = connectors[i];
        heads[i].crtc = crtcs[i];
        heads[i].connected = -1; // unknown: the first probe reports and paints
    }
    const double start = now_s();
    while (seconds <= 0 || now_s() - start < seconds) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            struct head before = heads[i];
            probe(fd, &heads[i]);
            if (before.connected == heads[i].connected &&
                (!heads[i].connected || (before.mode.hdisplay == heads[i].mode.hdisplay &&
                                         before.mode.vdisplay == heads[i].mode.vdisplay)))
                continue;
            changed = 1;
            if (paint(fd, &heads[i], i) < 0)
                printf("heads_painter: cannot paint head %d (%s)\n", i, strerror(errno));
        }
        if (changed)
            report(heads, n);
        usleep(200000);
    }
    for (int i = 0; i < n; ++i)
        release(fd, &heads[i]);
    close(fd);
    return 0;
}
