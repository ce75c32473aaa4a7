#ifndef CUDP_BATCH_H
#define CUDP_BATCH_H

#include <sys/socket.h>

/// The layout of glibc's `struct mmsghdr`, which Swift's Glibc module hides behind _GNU_SOURCE.
struct cudp_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg(2) with MSG_WAITFORONE semantics left to `flags`; returns the count or -1 (errno set).
int cudp_recvmmsg(int fd, struct cudp_mmsghdr *messages, unsigned int count, int flags);

/// sendmmsg(2); returns the count sent or -1 (errno set).
int cudp_sendmmsg(int fd, struct cudp_mmsghdr *messages, unsigned int count, int flags);

/// MSG_WAITFORONE, also hidden behind _GNU_SOURCE.
int cudp_msg_waitforone(void);

#endif
