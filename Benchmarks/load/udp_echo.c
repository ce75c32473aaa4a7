/* The floor of the load comparison: a UDP responder that does no DNS work at all. It reads up to
 * 64 datagrams per recvmmsg, sets the QR bit of each, and sends them back with one sendmmsg, so
 * what it costs per query is the kernel's cost of moving a loopback datagram in and out.
 *
 *   gcc -O2 -o udp_echo udp_echo.c && ./udp_echo 127.0.0.1 5399 60
 *
 * Exits by itself after the given number of seconds (default 120), so it can never linger. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SIZE 2048

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ADDRESS PORT [SECONDS]\n", argv[0]);
        return 2;
    }
    alarm(argc > 3 ? (unsigned)atoi(argv[3]) : 120);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int one = 1, buffer = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", argv[1]); return 2; }
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); return 1; }
    fprintf(stderr, "echo listening on %s:%s\n", argv[1], argv[2]);

    static char data[BATCH][SIZE];
    static struct sockaddr_in peers[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr messages[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = data[i];
            iov[i].iov_len = SIZE;
            memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
            messages[i].msg_hdr.msg_iov = &iov[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_name = &peers[i];
            messages[i].msg_hdr.msg_namelen = sizeof peers[i];
        }
        int count = recvmmsg(fd, messages, BATCH, MSG_WAITFORONE, NULL);
        if (count < 0) { perror("recvmmsg"); return 1; }
        for (int i = 0; i < count; i++) {
            iov[i].iov_len = messages[i].msg_len;
            if (messages[i].msg_len > 2) data[i][2] |= (char)0x80; /* QR: a response */
        }
        int sent = 0;
        while (sent < count) {
            int n = sendmmsg(fd, messages + sent, (unsigned)(count - sent), 0);
            if (n <= 0) break;
            sent += n;
        }
    }
}
