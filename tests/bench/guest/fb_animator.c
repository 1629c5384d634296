// The animated test guest's only program: redraws the whole Linux framebuffer (/dev/fb0, here
// virtio-gpu's DRM fbdev emulation) with a moving pattern, so every frame differs everywhere and
// QEMU streams it to its display listeners. Paced to a target rate; reports the rate it reached
// on stdout (the guest's serial console) every 2 s, so the host can check the guest kept up.
//
//   fb_animator [--fps N] [--mode write|mmap] [--band ROWS] [--seconds S]
// --fps 0 draws as fast as the fbdev takes it. write mode (the default) writes each frame with
// write() in bands of ROWS rows; each write damages those rows and the DRM fbdev helper flushes
// the damage to the host as it goes. mmap mode draws into the mapping; the fbdev's deferred I/O
// then flushes the dirty pages every 50 ms.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct options {
    int fps;
    int band;
    int use_mmap;
    double seconds; // 0: forever
};

static int parse(int argc, char** argv, struct options* o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--fps") == 0 && v) {
            o->fps = atoi(v);
            ++i;
        } else if (strcmp(a, "--band") == 0 && v) {
            o->band = atoi(v);
            ++i;
        } else if (strcmp(a, "--seconds") == 0 && v) {
            o->seconds = atof(v);
            ++i;
        } else if (strcmp(a, "--mode") == 0 && v) {
            o->use_mmap = strcmp(v, "mmap") == 0;
            ++i;
        } else {
            fprintf(stderr, "usage: fb_animator [--fps N] [--mode write|mmap] [--band ROWS] [--seconds S]\n");
            return -1;
        }
    }
    if (o->band < 1)
        o->band = 1;
    return 0;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

// Diagonal colour bands that move a few pixels each frame, so every pixel changes every frame.
// Each row is a window into one precomputed strip (a memcpy per row): TCG runs memcpy far faster
// than per-pixel arithmetic, and the guest's own drawing should cost little next to the flushes.
enum { strip_period = 509 }; // prime, so no shift of a few pixels repeats the picture soon
static uint32_t* make_strip(int width) {
    uint32_t* strip = malloc(sizeof(uint32_t) * (size_t)(width + strip_period));
    if (!strip)
        return NULL;
    for (int i = 0; i < width + strip_period; ++i) {
        const unsigned d = (unsigned)(i % strip_period);
        strip[i] = ((d * 3u & 0xffu) << 16) | ((d * 7u + 64u) & 0xffu) << 8 | (255u - (d & 0xffu));
    }
    return strip;
}

static void draw_row(const uint32_t* strip, uint32_t* row, int width, int y, unsigned frame) {
    const unsigned offset = ((unsigned)y + frame * 7u) % strip_period;
    memcpy(row, strip + offset, sizeof(uint32_t) * (size_t)width);
}

static int write_all(int fd, const void* data, size_t size, off_t offset) {
    const char* p = data;
    while (size > 0) {
        const ssize_t n = pwrite(fd, p, size, offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        size -= (size_t)n;
        offset += n;
    }
    return 0;
}

int main(int argc, char** argv) {
    struct options o = {.fps = 50, .band = 32, .use_mmap = 0, .seconds = 0};
    if (parse(argc, argv, &o) != 0)
        return 2;
    const int fd = open("/dev/fb0", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("fb_animator: /dev/fb0");
        return 1;
    }
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) != 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) != 0) {
        perror("fb_animator: FBIOGET_*SCREENINFO");
        return 1;
    }
    if (var.bits_per_pixel != 32) {
        fprintf(stderr, "fb_animator: %u bits per pixel, want 32\n", var.bits_per_pixel);
        return 1;
    }
    const int width = (int)var.xres, height = (int)var.yres;
    const size_t stride = fix.line_length;
    const uint32_t* strip = make_strip(width);
    if (!strip)
        return 1;
    uint32_t* map = NULL;
    uint32_t* band = NULL;
    if (o.use_mmap) {
        map = mmap(NULL, stride * (size_t)height, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            perror("fb_animator: mmap");
            return 1;
        }
    } else {
        band = malloc(stride * (size_t)o.band);
        if (!band)
            return 1;
    }
    printf("fb_animator: %dx%d stride %zu, %s, %d fps target, band %d rows\n", width, height, stride,
           o.use_mmap ? "mmap" : "write", o.fps, o.band);
    fflush(stdout);

    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    const long period_ns = o.fps > 0 ? 1000000000L / o.fps : 0;
    const double start = now_s();
    double report_at = start + 2;
    unsigned frame = 0, frames_since = 0;
    double since = start;
    for (;;) {
        if (o.use_mmap) {
            for (int y = 0; y < height; ++y)
                draw_row(strip, (uint32_t*)((char*)map + stride * (size_t)y), width, y, frame);
        } else {
            for (int y0 = 0; y0 < height; y0 += o.band) {
                const int rows = height - y0 < o.band ? height - y0 : o.band;
                for (int r = 0; r < rows; ++r)
                    draw_row(strip, (uint32_t*)((char*)band + stride * (size_t)r), width, y0 + r, frame);
                if (write_all(fd, band, stride * (size_t)rows, (off_t)(stride * (size_t)y0)) != 0) {
                    perror("fb_animator: write");
                    return 1;
                }
            }
        }
        ++frame;
        ++frames_since;
        const double t = now_s();
        if (t >= report_at) {
            printf("fb_animator: %.1f frames/s\n", frames_since / (t - since));
            fflush(stdout);
            frames_since = 0;
            since = t;
            report_at = t + 2;
        }
        if (o.seconds > 0 && t - start >= o.seconds)
            break;
        if (period_ns > 0) {
            next.tv_nsec += period_ns;
            while (next.tv_nsec >= 1000000000L) {
                next.tv_nsec -= 1000000000L;
                ++next.tv_sec;
            }
            // Fell more than a frame behind: restart the schedule rather than burst to catch up.
            struct timespec cur;
            clock_gettime(CLOCK_MONOTONIC, &cur);
            if (cur.tv_sec > next.tv_sec + 1)
                next = cur;
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
            }
        }
    }
    return 0;
}
