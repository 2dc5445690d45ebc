/* Built as "qemu-fake-client": a server client whose program name starts
 * with "qemu", so the server treats it as QEMU. It connects, reads (and
 * drops) everything the server sends, and stays until stdin closes. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[256];

    if (argc != 2 || s < 0 || strlen(argv[1]) >= sizeof(sa.sun_path))
        return 2;
    strcpy(sa.sun_path, argv[1]);
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return 1;
    for (;;) {
        struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
        if (poll(p, 2, -1) < 0)
            return 1;
        if (p[0].revents && read(0, buf, sizeof(buf)) <= 0)
            return 0;
        if (p[1].revents) {
            /* Messages carry fds; recv drops them (they are closed with the
             * control data we do not ask for). */
            if (recv(s, buf, sizeof(buf), 0) <= 0)
                return 0;
        }
    }
}
