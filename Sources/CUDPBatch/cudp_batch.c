#define _GNU_SOURCE
#include <sys/socket.h>
#include <stddef.h>
#include "cudp_batch.h"

_Static_assert(sizeof(struct cudp_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");

int cudp_recvmmsg(int fd, struct cudp_mmsghdr *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

int cudp_sendmmsg(int fd, struct cudp_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int cudp_msg_waitforone(void) {
    return MSG_WAITFORONE;
}
