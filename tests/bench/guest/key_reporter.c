// The Linux test guest's witness of the keyboard (issue 16's key proofs): reports on stdout (the
// serial console) what the guest's own kernel made of the keys the shell sent, as a real guest
// OS sees them.
//   "phyllome-guest: keys ready"
//   "phyllome-guest: leds caps=C num=N scroll=S"   the keyboard LEDs of the shown VT, on change
//   "phyllome-guest: vt ttyN"                     the active virtual terminal, on change
//   "phyllome-guest: ctrl-alt-del"                the kernel's Ctrl+Alt+Del (SIGINT to us)
//   "phyllome-guest: typed C"                     a character typed on tty1
// Typing 'n', 'c' or 's' (either case) on tty1 makes the guest itself toggle its Num, Caps or Scroll Lock
// (KDSKBLED), as a guest OS does at its login screen: the LED change the host must follow.
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <linux/kd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t ctrl_alt_del;

static void on_sigint(int sig) {
    (void)sig;
    ctrl_alt_del = 1;
}

static void write_file(const char* path, const char* text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        printf("key_reporter: cannot write %s\n", path);
    if (fd >= 0)
        close(fd);
}

static void read_active_vt(char* out, size_t size) {
    out[0] = '\0';
    int fd = open("/sys/class/tty/tty0/active", O_RDONLY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    // Ctrl+Alt+Del then sends SIGINT to us instead of rebooting the guest at once.
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    write_file("/proc/sys/kernel/ctrl-alt-del", "0\n");
    write_file("/proc/sys/kernel/cad_pid", pid);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);

    int tty = open("/dev/tty1", O_RDWR | O_NOCTTY | O_NONBLOCK);
    int console = open("/dev/tty0", O_RDWR | O_NOCTTY);
    // Ctrl+Alt+F2 only switches to a virtual terminal that exists: opening it makes it.
    for (int n = 2; n <= 3; ++n) {
        char path[32];
        snprintf(path, sizeof path, "/dev/tty%d", n);
        int fd = open(path, O_RDWR | O_NOCTTY);
        if (fd < 0)
            printf("key_reporter: cannot open %s\n", path);
    }
    if (tty < 0 || console < 0) {
        printf("key_reporter: cannot open /dev/tty1 or /dev/tty0\n");
        return 1;
    }
    struct termios t;
    if (tcgetattr(tty, &t) == 0) {
        t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
        tcsetattr(tty, TCSANOW, &t);
    }
    printf("phyllome-guest: keys ready\n");

    int last_leds = -1;
    char last_vt[32] = "";
    for (;;) {
        if (ctrl_alt_del) {
            ctrl_alt_del = 0;
            printf("phyllome-guest: ctrl-alt-del\n");
        }
        char leds = 0;
        if (ioctl(console, KDGETLED, &leds) == 0 && leds != last_leds) {
            last_leds = leds;
            printf("phyllome-guest: leds caps=%d num=%d scroll=%d\n", !!(leds & LED_CAP), !!(leds & LED_NUM),
                   !!(leds & LED_SCR));
        }
        char vt[32];
        read_active_vt(vt, sizeof vt);
        if (vt[0] && strcmp(vt, last_vt) != 0) {
            strcpy(last_vt, vt);
            printf("phyllome-guest: vt %s\n", vt);
        }
        struct pollfd p = {tty, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        char c;
        while (read(tty, &c, 1) == 1) {
            if (c >= ' ' && c <= '~')
                printf("phyllome-guest: typed %c\n", c);
            const int k = tolower((unsigned char)c); // Caps Lock may be on
            const char flag = k == 'n' ? LED_NUM : k == 'c' ? LED_CAP : k == 's' ? LED_SCR : 0;
            char flags = 0;
            if (flag && ioctl(tty, KDGKBLED, &flags) == 0)
                ioctl(tty, KDSKBLED, (unsigned long)((flags ^ flag) & 7));
        }
    }
}
